using Hibari.Recording.Depacketize;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Recording.Depacketize;

/// <summary>
/// Real encoder output (ffmpeg's libvpx, libvpx-vp9, libx264, libaom-av1 at 320×240, a key frame every 10 frames)
/// packetized by <see cref="TestPacketizer"/>, lightly reordered and duplicated, must come out of the depacketizer as
/// the encoder's frames, byte for byte, with the right key flags and size. Without ffmpeg these tests pass unchecked,
/// unless HIBARI_REQUIRE_FFMPEG=1.
/// </summary>
public sealed class FfmpegRoundTripTests
{
    private const string Source = "-f lavfi -i testsrc=size=320x240:rate=30 -t 1 -pix_fmt yuv420p";

    /// <summary>Swaps a few neighbouring packets and repeats a few; the first packet stays first (a stream starts at its first packet).</summary>
    private static List<TestPacket> Disorder(List<TestPacket> packets, int seed)
    {
        var rng = new Random(seed);
        var list = packets.ToList();
        for (var i = 1; i + 1 < list.Count; i++)
        {
            if (rng.Next(8) == 0)
            {
                (list[i], list[i + 1]) = (list[i + 1], list[i]);
                i++;
            }
        }
        for (var i = list.Count - 1; i > 0; i--)
            if (rng.Next(20) == 0) list.Insert(i, list[i]);
        return list;
    }

    private static void AssertFrames(VideoDepacketizer d, List<AssembledFrame> output, List<byte[]> expected, List<bool> keys)
    {
        Assert.Equal(expected.Count, output.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(output[i].Data.Span), $"frame {i} differs");
            Assert.Equal(keys[i], output[i].KeyFrame);
            Assert.Equal(keys[i] ? (320, 240) : (0, 0), (output[i].Width, output[i].Height));
        }
        Assert.Equal(0, d.FramesDropped);
        Assert.Equal(0, d.PacketsRejected);
        Assert.False(d.NeedsKeyFrame);
        Assert.True(keys.Count(k => k) >= 3);
    }

    [Fact]
    public void Vp8()
    {
        var ivf = EncodedStreams.Encode($"{Source} -c:v libvpx -deadline realtime -cpu-used 8 -g 10 -b:v 2M -f ivf", "ivf");
        if (ivf is null) return;
        var frames = EncodedStreams.ReadIvf(ivf);
        var packetizer = new TestPacketizer(65500);
        for (var i = 0; i < frames.Count; i++) packetizer.Vp8(frames[i], (uint)(i * 3000));
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = TestPacketizer.Feed(d, Disorder(packetizer.Packets, 1));
        AssertFrames(d, output, frames, frames.Select(f => (f[0] & 1) == 0).ToList());
        Assert.Contains(packetizer.Packets, p => p.Seq == 0); // the sequence number wrapped
        Assert.Null(d.CodecPrivate);
    }

    [Fact]
    public void Vp9()
    {
        var ivf = EncodedStreams.Encode(
            $"{Source} -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -lag-in-frames 0 -auto-alt-ref 0 -g 10 -b:v 2M -f ivf", "ivf");
        if (ivf is null) return;
        var frames = EncodedStreams.ReadIvf(ivf);
        // Profile 0, not show_existing_frame: frame_type is bit 2 of the first byte.
        var keys = frames.Select(f => (f[0] & 0xF0) == 0x80 && (f[0] & 0x04) == 0).ToList();
        var packetizer = new TestPacketizer(100);
        for (var i = 0; i < frames.Count; i++) packetizer.Vp9(frames[i], (uint)(i * 3000), keys[i], 320, 240);
        var d = new VideoDepacketizer(VideoCodecKind.Vp9);
        var output = TestPacketizer.Feed(d, Disorder(packetizer.Packets, 2));
        AssertFrames(d, output, frames, keys);

        // Without the scalability structure the size comes from the key frame's uncompressed header.
        var bare = new TestPacketizer(7);
        for (var i = 0; i < frames.Count; i++) bare.Vp9(frames[i], (uint)(i * 3000), key: false, 0, 0);
        var packets = bare.Packets.Select(p => p with { Payload = FixKeyDescriptor(p.Payload, keys) }).ToList();
        var d2 = new VideoDepacketizer(VideoCodecKind.Vp9);
        AssertFrames(d2, TestPacketizer.Feed(d2, packets), frames, keys);
    }

    /// <summary>Clears P on packets that begin a key frame (the test packetizer was told "not key" to leave out the SS).</summary>
    private static byte[] FixKeyDescriptor(byte[] payload, List<bool> keys)
    {
        var copy = payload.ToArray();
        var data = copy.AsSpan(3);
        if ((copy[0] & 0x08) != 0 && (data[0] & 0xF0) == 0x80 && (data[0] & 0x04) == 0) copy[0] &= 0xBF;
        return copy;
    }

    [Fact]
    public void H264()
    {
        var stream = EncodedStreams.Encode(
            $"{Source} -c:v libx264 -preset veryfast -bf 0 -g 10 -keyint_min 10 -sc_threshold 0 -b:v 2M -bsf:v h264_mp4toannexb -f h264", "h264");
        if (stream is null) return;
        var units = EncodedStreams.ReadAnnexBAccessUnits(stream);
        var packetizer = new TestPacketizer(3);
        for (var i = 0; i < units.Count; i++) packetizer.H264(units[i], (uint)(i * 3000));
        Assert.Contains(packetizer.Packets, p => (p.Payload[0] & 0x1F) == 28);
        Assert.Contains(packetizer.Packets, p => (p.Payload[0] & 0x1F) == 24);
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var output = TestPacketizer.Feed(d, Disorder(packetizer.Packets, 3));
        var expected = units.Select(u => u.SelectMany(n => (byte[])[0, 0, 0, 1, .. n]).ToArray()).ToList();
        var keys = units.Select(u => u.Any(n => (n[0] & 0x1F) == 5)).ToList();
        AssertFrames(d, output, expected, keys);

        // avcC from the stream's SPS and PPS: high profile, so with the chroma format and bit depth bytes.
        var sps = units[0].First(n => (n[0] & 0x1F) == 7);
        var pps = units[0].First(n => (n[0] & 0x1F) == 8);
        var avcC = d.CodecPrivate!;
        Assert.Equal(1, avcC[0]);
        Assert.Equal(sps[1..4], avcC[1..4]);
        Assert.Equal(sps, avcC[8..(8 + sps.Length)]);
        Assert.Equal(pps, avcC[(11 + sps.Length)..(11 + sps.Length + pps.Length)]);
        Assert.Equal([0xFD, 0xF8, 0xF8, 0x00], avcC[^4..]); // 4:2:0, 8-bit
    }

    [Fact]
    public void Av1()
    {
        if (!FfmpegTools.Available()) return;
        if (!EncodedStreams.HasEncoder("libaom-av1"))
        {
            Assert.False(EncodedStreams.Required, "HIBARI_REQUIRE_FFMPEG=1 but this ffmpeg has no libaom-av1 encoder");
            return;
        }
        var stream = EncodedStreams.Encode($"{Source} -c:v libaom-av1 -usage realtime -cpu-used 8 -g 10 -b:v 1M -f obu", "obu");
        if (stream is null) return;
        var units = EncodedStreams.ReadObuTemporalUnits(stream);
        var keys = units.Select(u => u.Any(o => ((o[0] >> 3) & 0x0F) == 1)).ToList();
        foreach (var lastWithoutLength in new[] { false, true })
        {
            var packetizer = new TestPacketizer(65500);
            for (var i = 0; i < units.Count; i++) packetizer.Av1(units[i], (uint)(i * 3000), keys[i], lastWithoutLength);
            Assert.Contains(packetizer.Packets, p => (p.Payload[0] & 0x80) != 0); // some OBU spans packets
            var d = new VideoDepacketizer(VideoCodecKind.Av1);
            var output = TestPacketizer.Feed(d, Disorder(packetizer.Packets, 4));
            // The encoder's OBUs minus temporal delimiters, each with its size field in the fewest LEB128 bytes.
            var expected = units.Select(u => u.SelectMany(o => CodecDepacketizerTests.WithSize(TestPacketizer.StripSize(o))).ToArray()).ToList();
            AssertFrames(d, output, expected, keys);
            var sequenceHeader = units[0].First(o => ((o[0] >> 3) & 0x0F) == 1);
            Assert.Equal(CodecDepacketizerTests.WithSize(TestPacketizer.StripSize(sequenceHeader)), d.CodecPrivate![4..]);
            Assert.Equal(0x81, d.CodecPrivate[0]);
        }
    }
}
