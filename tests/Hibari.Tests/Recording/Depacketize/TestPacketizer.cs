using Hibari.Recording.Depacketize;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Recording.Depacketize;

internal sealed record TestPacket(ushort Seq, uint Ts, bool Marker, byte[] Payload);

/// <summary>
/// The sending side in miniature, for the tests: splits encoded frames into RTP payloads the way a WebRTC sender does
/// (MTU-sized, with each codec's descriptor), numbers them and feeds them to a depacketizer.
/// </summary>
internal sealed class TestPacketizer
{
    public const int Mtu = 1200;
    private ushort _seq;
    private int _pictureId;

    public TestPacketizer(ushort firstSeq = 1000) => _seq = firstSeq;

    public List<TestPacket> Packets { get; } = [];

    private void Add(uint ts, bool marker, byte[] payload) => Packets.Add(new TestPacket(_seq++, ts, marker, payload));

    private static IEnumerable<(int Offset, int Length)> Chunks(int total, int size)
    {
        for (var o = 0; o < total; o += size) yield return (o, Math.Min(size, total - o));
    }

    /// <summary>RFC 7741 with X = 1, I = 1 (15-bit PictureID).</summary>
    public void Vp8(ReadOnlySpan<byte> frame, uint ts)
    {
        var pid = _pictureId++ & 0x7FFF;
        var chunks = Chunks(frame.Length, Mtu).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            var (o, n) = chunks[i];
            var p = new byte[4 + n];
            p[0] = (byte)(0x80 | (i == 0 ? 0x10 : 0));
            p[1] = 0x80;
            p[2] = (byte)(0x80 | (pid >> 8));
            p[3] = (byte)pid;
            frame.Slice(o, n).CopyTo(p.AsSpan(4));
            Add(ts, i == chunks.Count - 1, p);
        }
    }

    /// <summary>RFC 9628 non-flexible mode, I = 1 (15-bit), no layer indices; a key frame carries the scalability structure with its size.</summary>
    public void Vp9(ReadOnlySpan<byte> frame, uint ts, bool key, int width, int height)
    {
        var pid = _pictureId++ & 0x7FFF;
        var chunks = Chunks(frame.Length, Mtu).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            var (o, n) = chunks[i];
            var header = new List<byte>();
            var ss = key && i == 0;
            header.Add((byte)(0x80 | (key ? 0 : 0x40) | (i == 0 ? 0x08 : 0) | (i == chunks.Count - 1 ? 0x04 : 0) | (ss ? 0x02 : 0)));
            header.Add((byte)(0x80 | (pid >> 8)));
            header.Add((byte)pid);
            if (ss)
            {
                header.Add(0x10); // N_S = 0, Y = 1, G = 0
                header.Add((byte)(width >> 8));
                header.Add((byte)width);
                header.Add((byte)(height >> 8));
                header.Add((byte)height);
            }
            Add(ts, i == chunks.Count - 1, [.. header, .. frame.Slice(o, n)]);
        }
    }

    /// <summary>RFC 6184 mode 1: small NAL units aggregated in STAP-A, NAL units beyond the MTU in FU-A, others single.</summary>
    public void H264(IReadOnlyList<byte[]> nals, uint ts)
    {
        var payloads = new List<byte[]>();
        var stap = new List<byte[]>();
        void FlushStap()
        {
            if (stap.Count == 1) payloads.Add(stap[0]);
            else if (stap.Count > 1)
            {
                var p = new List<byte> { (byte)((stap.Max(n => n[0] & 0x60)) | 24) };
                foreach (var n in stap)
                {
                    p.Add((byte)(n.Length >> 8));
                    p.Add((byte)n.Length);
                    p.AddRange(n);
                }
                payloads.Add([.. p]);
            }
            stap.Clear();
        }
        foreach (var nal in nals)
        {
            if (nal.Length <= 100 && stap.Sum(n => n.Length + 2) + nal.Length + 3 <= Mtu)
            {
                stap.Add(nal);
                continue;
            }
            FlushStap();
            if (nal.Length <= Mtu)
            {
                payloads.Add(nal);
                continue;
            }
            var chunks = Chunks(nal.Length - 1, Mtu - 2).ToList();
            for (var i = 0; i < chunks.Count; i++)
            {
                var (o, n) = chunks[i];
                var p = new byte[2 + n];
                p[0] = (byte)((nal[0] & 0xE0) | 28);
                p[1] = (byte)((i == 0 ? 0x80 : 0) | (i == chunks.Count - 1 ? 0x40 : 0) | (nal[0] & 0x1F));
                nal.AsSpan(1 + o, n).CopyTo(p.AsSpan(2));
                payloads.Add(p);
            }
        }
        FlushStap();
        for (var i = 0; i < payloads.Count; i++) Add(ts, i == payloads.Count - 1, payloads[i]);
    }

    /// <summary>
    /// The AV1 RTP format: each OBU without its size field as one element; elements packed up to the MTU, an OBU that
    /// does not fit continued in the next packet (Y/Z). <paramref name="lastWithoutLength"/> writes W = element count
    /// (last element unprefixed) when the packet has at most 3 elements, else W = 0.
    /// </summary>
    public void Av1(IReadOnlyList<byte[]> obus, uint ts, bool newSequence, bool lastWithoutLength)
    {
        // OBUs as the RTP format carries them: obu_has_size_field = 0.
        var elements = obus.Select(StripSize).ToList();
        var packets = new List<(List<byte[]> Elements, bool Z, bool Y)>();
        var current = new List<byte[]>();
        var size = 1;
        var z = false;
        foreach (var e in elements)
        {
            var rest = e;
            while (rest.Length > 0)
            {
                var room = Mtu - size - Leb(Mtu).Length;
                if (room <= 0)
                {
                    packets.Add((current, z, false));
                    current = [];
                    size = 1;
                    z = false;
                    continue;
                }
                var take = Math.Min(room, rest.Length);
                current.Add(rest[..take]);
                size += take + Leb(take).Length;
                rest = rest[take..];
                if (rest.Length > 0)
                {
                    packets.Add((current, z, true));
                    current = [];
                    size = 1;
                    z = true;
                }
            }
        }
        if (current.Count > 0) packets.Add((current, z, false));
        for (var i = 0; i < packets.Count; i++)
        {
            var (els, pz, py) = packets[i];
            var w = lastWithoutLength && els.Count <= 3 ? els.Count : 0;
            var p = new List<byte> { (byte)((pz ? 0x80 : 0) | (py ? 0x40 : 0) | (w << 4) | (newSequence && i == 0 ? 0x08 : 0)) };
            for (var k = 0; k < els.Count; k++)
            {
                if (!(w != 0 && k == els.Count - 1)) p.AddRange(Leb(els[k].Length));
                p.AddRange(els[k]);
            }
            Add(ts, i == packets.Count - 1, [.. p]);
        }
    }

    public static byte[] Leb(int value)
    {
        var ms = new MemoryStream();
        Av1FrameBuilder.WriteLeb128(ms, (uint)value);
        return ms.ToArray();
    }

    /// <summary>An OBU with obu_has_size_field = 1 rewritten without it.</summary>
    public static byte[] StripSize(byte[] obu)
    {
        if ((obu[0] & 0x02) == 0) return obu;
        var offset = (obu[0] & 0x04) != 0 ? 2 : 1;
        var o = offset;
        KeyFrameDetector.TryReadLeb128(obu, ref o, out var size);
        return [(byte)(obu[0] & ~0x02), .. obu.AsSpan(1, offset - 1), .. obu.AsSpan(o, size)];
    }

    public static List<AssembledFrame> Feed(VideoDepacketizer d, IEnumerable<TestPacket> packets)
    {
        var output = new List<AssembledFrame>();
        foreach (var p in packets) d.Push(p.Seq, p.Ts, p.Marker, p.Payload, output);
        return output;
    }
}

/// <summary>Readers of ffmpeg's raw outputs, and ffmpeg itself.</summary>
internal static class EncodedStreams
{
    /// <summary>IVF: 32-byte file header, then per frame a 4-byte size, an 8-byte timestamp and the frame.</summary>
    public static List<byte[]> ReadIvf(byte[] file)
    {
        var frames = new List<byte[]>();
        int o = BitConverter.ToUInt16(file, 6);
        while (o + 12 <= file.Length)
        {
            var size = BitConverter.ToInt32(file, o);
            frames.Add(file.AsSpan(o + 12, size).ToArray());
            o += 12 + size;
        }
        return frames;
    }

    /// <summary>Annex B → access units (lists of NAL units): a new one at an AUD, SPS, PPS or SEI after a slice, or at a slice with first_mb_in_slice = 0.</summary>
    public static List<List<byte[]>> ReadAnnexBAccessUnits(byte[] stream)
    {
        var units = new List<List<byte[]>>();
        List<byte[]>? current = null;
        var sawSlice = false;
        foreach (var m in AnnexB.SplitNalUnits(stream))
        {
            var nal = m.ToArray();
            var type = nal[0] & 0x1F;
            var isSlice = type is 1 or 5;
            var begins = current is null
                || (sawSlice && type is 6 or 7 or 8 or 9)
                || (sawSlice && isSlice && (nal[1] & 0x80) != 0);
            if (begins)
            {
                current = [];
                units.Add(current);
                sawSlice = false;
            }
            current!.Add(nal);
            if (isSlice) sawSlice = true;
        }
        return units;
    }

    /// <summary>Low overhead OBU stream → temporal units (OBUs with their size fields), split at temporal delimiters, which are left out.</summary>
    public static List<List<byte[]>> ReadObuTemporalUnits(byte[] stream)
    {
        var units = new List<List<byte[]>>();
        var o = 0;
        while (o < stream.Length)
        {
            var header = stream[o];
            var start = o;
            var type = (header >> 3) & 0x0F;
            o += (header & 0x04) != 0 ? 2 : 1;
            KeyFrameDetector.TryReadLeb128(stream, ref o, out var size);
            o += size;
            if (type == 2)
            {
                units.Add([]);
                continue;
            }
            if (units.Count == 0) units.Add([]);
            units[^1].Add(stream.AsSpan(start, o - start).ToArray());
        }
        return units;
    }

    /// <summary>
    /// Runs ffmpeg with the arguments (the output goes to a temporary file) and returns the file, or null when
    /// ffmpeg is not installed and HIBARI_REQUIRE_FFMPEG is not 1 (then the caller's test passes without checking).
    /// </summary>
    public static byte[]? Encode(string arguments, string extension)
    {
        if (!FfmpegTools.Available()) return null;
        var path = Path.Combine(Path.GetTempPath(), $"hibari-depack-{Guid.NewGuid():N}.{extension}");
        try
        {
            string[] args = ["-nostdin", "-v", "error", "-y", .. arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), path];
            var (code, _, stderr) = FfmpegTools.Run("ffmpeg", args);
            Assert.True(code == 0, $"ffmpeg {arguments}: {stderr}");
            return File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    public static bool Required => FfmpegTools.Required;

    public static bool HasEncoder(string name)
    {
        if (FfmpegTools.FindTool("ffmpeg") is null) return false;
        var (_, text, _) = FfmpegTools.Run("ffmpeg", "-hide_banner", "-encoders");
        return text.Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var n, ..] && n == name);
    }
}
