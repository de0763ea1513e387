using System.Buffers.Binary;
using System.Text;
using Xunit.Abstractions;

namespace Hibari.Tests.Recording.Webm;


/// <summary>One coded frame of a sample stream: its time in ms, whether it is a key frame, its bytes as the
/// recording engine would hand them to the writer.</summary>
internal sealed record SampleFrame(long TimeMs, bool Key, byte[] Data);

/// <summary>Runs ffmpeg/ffprobe when they are installed, and cuts their outputs (IVF, H.264 Annex B) into frames.</summary>
internal static class MediaSamples
{
    public static bool FfmpegAvailable(ITestOutputHelper output) => FfmpegTools.Available(output);

    public static (int Code, string Stdout, string Stderr) Run(string tool, params string[] args) => FfmpegTools.Run(tool, args);

    /// <summary>Encodes two seconds of the lavfi test pattern with ffmpeg and returns the output bytes.</summary>
    public static byte[] Encode(string directory, string name, params string[] codecArgs)
    {
        var path = Path.Combine(directory, name);
        string[] args = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30", "-t", "2", .. codecArgs, path];
        var (code, _, stderr) = Run("ffmpeg", args);
        Assert.True(code == 0, $"ffmpeg {string.Join(' ', args)} failed: {stderr}");
        return File.ReadAllBytes(path);
    }

    /// <summary>The frames of an IVF file (32-byte header with the time base, then 12-byte frame headers), times
    /// converted to ms. <paramref name="isKey"/> decides each frame's key flag from its bytes.</summary>
    public static List<SampleFrame> ReadIvf(byte[] ivf, Func<byte[], bool> isKey)
    {
        Assert.Equal("DKIF", Encoding.ASCII.GetString(ivf, 0, 4));
        var headerLength = BinaryPrimitives.ReadUInt16LittleEndian(ivf.AsSpan(6));
        var rate = BinaryPrimitives.ReadUInt32LittleEndian(ivf.AsSpan(16));
        var scale = BinaryPrimitives.ReadUInt32LittleEndian(ivf.AsSpan(20));
        var frames = new List<SampleFrame>();
        var at = (int)headerLength;
        while (at + 12 <= ivf.Length)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(ivf.AsSpan(at));
            var pts = (long)BinaryPrimitives.ReadUInt64LittleEndian(ivf.AsSpan(at + 4));
            var data = ivf.AsSpan(at + 12, size).ToArray();
            frames.Add(new SampleFrame(pts * 1000 * scale / rate, isKey(data), data));
            at += 12 + size;
        }
        return frames;
    }

    /// <summary>VP8 (RFC 6386 §9.1): bit 0 of the frame tag is 0 on key frames.</summary>
    public static bool IsVp8Key(byte[] frame) => (frame[0] & 1) == 0;

    /// <summary>VP9 uncompressed header: frame marker (2), profile bits, show_existing_frame, then frame_type 0 = key.
    /// Profiles 0–2 only (what the test encodes).</summary>
    public static bool IsVp9Key(byte[] frame)
    {
        var b = frame[0];
        var profile = ((b >> 5) & 1) | ((b >> 3) & 2); // profile_low_bit, profile_high_bit
        var shift = profile == 3 ? 1 : 0;
        var showExisting = (b >> (3 - shift)) & 1;
        return showExisting == 0 && ((b >> (2 - shift)) & 1) == 0;
    }

    /// <summary>An AV1 IVF frame (one temporal unit) as Matroska wants it: the same OBUs, each with its size field,
    /// minus Temporal Delimiters (AV1-in-Matroska §"Block"). Key when a frame (header) OBU has frame_type KEY_FRAME.</summary>
    public static SampleFrame Av1ForMatroska(SampleFrame unit)
    {
        using var kept = new MemoryStream();
        var key = false;
        var data = unit.Data;
        var at = 0;
        while (at < data.Length)
        {
            var header = data[at];
            var type = (header >> 3) & 0xF;
            var extension = (header & 4) != 0;
            Assert.True((header & 2) != 0, "IVF AV1 OBUs carry sizes");
            var payloadAt = at + 1 + (extension ? 1 : 0);
            var size = (int)ReadLeb128(data, ref payloadAt);
            if (type is 3 or 6) // OBU_FRAME_HEADER, OBU_FRAME: show_existing_frame(1) then frame_type(2)
            {
                var first = data[payloadAt];
                if ((first & 0x80) == 0 && ((first >> 5) & 3) == 0) key = true;
            }
            if (type != 2) kept.Write(data, at, payloadAt + size - at);
            at = payloadAt + size;
        }
        return new SampleFrame(unit.TimeMs, key, kept.ToArray());
    }

    public static ulong ReadLeb128(byte[] data, ref int at)
    {
        ulong value = 0;
        for (var i = 0; i < 8; i++)
        {
            var b = data[at++];
            value |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) == 0) break;
        }
        return value;
    }

    /// <summary>NAL units of an Annex B stream (start codes removed).</summary>
    public static List<byte[]> SplitAnnexB(byte[] stream)
    {
        var units = new List<byte[]>();
        var starts = new List<(int Code, int Nal)>();
        for (var i = 0; i + 2 < stream.Length; i++)
        {
            if (stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1)
            {
                var code = i > 0 && stream[i - 1] == 0 ? i - 1 : i;
                starts.Add((code, i + 3));
                i += 2;
            }
        }
        for (var k = 0; k < starts.Count; k++)
        {
            var end = k + 1 < starts.Count ? starts[k + 1].Code : stream.Length;
            units.Add(stream[starts[k].Nal..end]);
        }
        return units;
    }

    /// <summary>An H.264 Annex B stream encoded with access unit delimiters, cut into access units at them (the
    /// delimiters dropped, as a depacketized WebRTC frame has none), 4-byte start codes, key when it holds an IDR.</summary>
    public static List<SampleFrame> H264AccessUnits(byte[] stream, double fps)
    {
        var frames = new List<SampleFrame>();
        MemoryStream? current = null;
        var key = false;
        void Close()
        {
            if (current is { Length: > 0 }) frames.Add(new SampleFrame((long)Math.Round(frames.Count * 1000 / fps), key, current.ToArray()));
            current = new MemoryStream();
            key = false;
        }
        foreach (var nal in SplitAnnexB(stream))
        {
            var type = nal[0] & 0x1F;
            if (type == 9) { Close(); continue; }
            current ??= new MemoryStream();
            if (type == 5) key = true;
            current.Write([0, 0, 0, 1]);
            current.Write(nal);
        }
        Close();
        return frames;
    }
}
