using Hibari.Recording.Depacketize;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Recording.Depacketize;

/// <summary>MSB-first bit writer for hand-built codec headers (the counterpart of the depacketizer's BitReader).</summary>
internal sealed class TestBitWriter
{
    private readonly List<byte> _bytes = [];
    private int _bits;

    public TestBitWriter Bits(uint value, int count)
    {
        for (var i = count - 1; i >= 0; i--)
        {
            if (_bits % 8 == 0) _bytes.Add(0);
            if (((value >> i) & 1) != 0) _bytes[^1] |= (byte)(0x80 >> (_bits % 8));
            _bits++;
        }
        return this;
    }

    public TestBitWriter Ue(uint value)
    {
        var v = value + 1;
        var length = 32 - System.Numerics.BitOperations.LeadingZeroCount(v);
        Bits(0, length - 1);
        return Bits(v, length);
    }

    /// <summary>rbsp_trailing_bits / AV1 trailing_bits: a 1, then zeros to the byte boundary.</summary>
    public byte[] Trailing()
    {
        Bits(1, 1);
        while (_bits % 8 != 0) Bits(0, 1);
        return [.. _bytes];
    }

    public byte[] ToArray() => [.. _bytes];
}

public sealed class CodecDepacketizerTests
{
    // ---- VP8 ----

    /// <summary>A VP8 key frame's first 10 bytes (frame tag with P = 0, start code, 320 × 240) and some data.</summary>
    internal static byte[] Vp8KeyFrame(int width = 320, int height = 240, int extra = 20)
    {
        var f = new byte[10 + extra];
        f[0] = 0x50; f[1] = 0x01; f[2] = 0x00;
        f[3] = 0x9D; f[4] = 0x01; f[5] = 0x2A;
        f[6] = (byte)width; f[7] = (byte)(width >> 8);
        f[8] = (byte)height; f[9] = (byte)(height >> 8);
        for (var i = 10; i < f.Length; i++) f[i] = (byte)i;
        return f;
    }

    internal static byte[] Vp8DeltaFrame(int length = 30, byte fill = 0x33)
    {
        var f = Enumerable.Repeat(fill, length).ToArray();
        f[0] = 0x51; // P = 1
        return f;
    }

    [Fact]
    public void Vp8WithoutExtensionSinglePacket()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var frame = Vp8KeyFrame();
        var output = new List<AssembledFrame>();
        d.Push(1, 90000, true, [0x10, .. frame], output);
        var f = Assert.Single(output);
        Assert.Equal(frame, f.Data.ToArray());
        Assert.True(f.KeyFrame);
        Assert.Equal((320, 240), (f.Width, f.Height));
        Assert.Equal(90000u, f.RtpTimestamp);
        Assert.False(d.NeedsKeyFrame);
        Assert.Null(d.CodecPrivate);
    }

    [Fact]
    public void Vp8ExtendedDescriptorsAndPartitionsAreStripped()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var key = Vp8KeyFrame(640, 360, 50);
        var output = new List<AssembledFrame>();
        // X, I with a 7-bit PictureID; first partition in two packets, second partition (PID = 1) in a third.
        d.Push(10, 1000, false, [0x90, 0x80, 0x05, .. key[..20]], output);
        d.Push(11, 1000, false, [0x80, 0x80, 0x05, .. key[20..40]], output);
        d.Push(12, 1000, true, [0x81, 0x80, 0x05, .. key[40..]], output);
        var f = Assert.Single(output);
        Assert.Equal(key, f.Data.ToArray());
        Assert.Equal((640, 360), (f.Width, f.Height));

        // X with I (15-bit), L and T/K: 15-bit PictureID, TL0PICIDX, TID/Y/KEYIDX all stripped; a delta frame has no size.
        var delta = Vp8DeltaFrame(40);
        d.Push(13, 4000, false, [0x90, 0xF0, 0x80, 0x06, 0x07, 0x40, .. delta[..25]], output);
        d.Push(14, 4000, true, [0x80, 0xF0, 0x80, 0x06, 0x07, 0x40, .. delta[25..]], output);
        Assert.Equal(2, output.Count);
        Assert.Equal(delta, output[1].Data.ToArray());
        Assert.False(output[1].KeyFrame);
        Assert.Equal((0, 0), (output[1].Width, output[1].Height));
        Assert.Equal(2, d.FramesEmitted);
    }

    [Fact]
    public void Vp8TruncatedDescriptorsAreRejected()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        d.Push(1, 1, true, [0x90], output);              // X without its byte
        d.Push(2, 1, true, [0x90, 0x80, 0x80], output);  // 15-bit PictureID cut short
        d.Push(3, 1, true, [0x90, 0x80, 0x01], output);  // descriptor only, no VP8 data
        Assert.Empty(output);
        Assert.Equal(3, d.PacketsRejected);
    }

    // ---- VP9 ----

    /// <summary>A VP9 profile 0 key frame's uncompressed header (through frame size) followed by filler bytes.</summary>
    internal static byte[] Vp9KeyFrame(int width, int height, int extra = 20)
    {
        var w = new TestBitWriter()
            .Bits(2, 2).Bits(0, 1).Bits(0, 1)          // frame_marker, profile 0
            .Bits(0, 1).Bits(0, 1).Bits(1, 1).Bits(0, 1) // show_existing_frame, frame_type KEY, show_frame, error_resilient
            .Bits(0x498342, 24)                          // sync code
            .Bits(2, 3).Bits(0, 1)                       // color_space BT.709, color_range
            .Bits((uint)width - 1, 16).Bits((uint)height - 1, 16);
        return [.. w.Trailing(), .. Enumerable.Range(0, extra).Select(i => (byte)(i * 7))];
    }

    internal static byte[] Vp9DeltaFrame(int length = 30)
    {
        var f = Enumerable.Range(0, length).Select(i => (byte)(i + 1)).ToArray();
        f[0] = 0x86; // frame_marker 2, profile 0, show_existing 0, frame_type 1 (non-key), show_frame 1
        return f;
    }

    [Fact]
    public void Vp9NonFlexibleWithScalabilityStructure()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp9);
        var key = Vp9KeyFrame(1280, 720, 40);
        var output = new List<AssembledFrame>();
        // I (7-bit), B, V: SS with N_S = 0, Y = 1 (320 × 240), G = 1 with one group entry of one P_DIFF.
        byte[] ss = [0x18, 0x01, 0x40, 0x00, 0xF0, 0x01, 0x04, 0x01];
        d.Push(100, 3000, false, [0x8A, 0x11, .. ss, .. key[..30]], output);
        d.Push(101, 3000, true, [0x84, 0x11, .. key[30..]], output); // E
        var f = Assert.Single(output);
        Assert.Equal(key, f.Data.ToArray());
        Assert.True(f.KeyFrame);
        Assert.Equal((320, 240), (f.Width, f.Height)); // the SS wins over the bitstream
    }

    [Fact]
    public void Vp9SizeFromUncompressedHeaderAndFlexibleMode()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp9);
        var key = Vp9KeyFrame(320, 240);
        var output = new List<AssembledFrame>();
        d.Push(1, 3000, true, [0x8C, 0x80, 0x01, .. key], output); // I (15-bit), B, E
        Assert.Equal((320, 240), (output[0].Width, output[0].Height));
        Assert.True(output[0].KeyFrame);

        // Flexible mode with layer indices and two P_DIFFs (N set on the first), split over two packets.
        var delta = Vp9DeltaFrame(50);
        d.Push(2, 6000, false, [0xF8, 0x80, 0x02, 0x00, 0x03, 0x04, .. delta[..20]], output);
        d.Push(3, 6000, true, [0xF4, 0x80, 0x02, 0x00, 0x03, 0x04, .. delta[20..]], output);
        Assert.Equal(2, output.Count);
        Assert.Equal(delta, output[1].Data.ToArray());
        Assert.False(output[1].KeyFrame);

        // Four P_DIFFs (the limit is 3) and an SS cut short are rejected.
        d.Push(4, 9000, true, [0xDC, 0x80, 0x03, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00], output);
        d.Push(5, 9000, true, [0x8E, 0x04, 0x10, 0x01], output);
        Assert.Equal(2, d.PacketsRejected);
    }

    [Fact]
    public void Vp9SpatialLayersBecomeOneSuperframe()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp9);
        var baseLayer = Vp9KeyFrame(320, 180, 10);
        var top = Vp9DeltaFrame(300);
        var output = new List<AssembledFrame>();
        // Non-flexible, L: SID 0 then SID 1 in one picture; SS lists 320×180 and 640×360.
        byte[] ss = [0x30, 0x01, 0x40, 0x00, 0xB4, 0x02, 0x80, 0x01, 0x68];
        d.Push(1, 500, false, [0xAE, 0x09, 0x00, 0x00, .. ss, .. baseLayer], output);
        d.Push(2, 500, false, [0xA8, 0x09, 0x02, 0x00, .. top[..150]], output);
        d.Push(3, 500, true, [0xA4, 0x09, 0x02, 0x00, .. top[150..]], output);
        var f = Assert.Single(output);
        Assert.True(f.KeyFrame);
        Assert.Equal((640, 360), (f.Width, f.Height));
        // Both frames, then the index: marker 110 mm nnn with 2-byte sizes and 2 frames, sizes little-endian.
        var size0 = baseLayer.Length;
        byte[] index = [0xC9, (byte)size0, (byte)(size0 >> 8), (byte)top.Length, (byte)(top.Length >> 8), 0xC9];
        Assert.Equal([.. baseLayer, .. top, .. index], f.Data.ToArray());
    }

    // ---- H.264 ----

    /// <summary>A baseline SPS for the given macroblock size and bottom crop (in luma lines / 2).</summary>
    internal static byte[] H264Sps(int widthMbs, int heightMbs, int cropBottom = 0)
    {
        var w = new TestBitWriter().Bits(0x67, 8).Bits(66, 8).Bits(0xC0, 8).Bits(30, 8)
            .Ue(0).Ue(0).Ue(2).Ue(1).Bits(0, 1)
            .Ue((uint)widthMbs - 1).Ue((uint)heightMbs - 1).Bits(1, 1).Bits(1, 1);
        if (cropBottom > 0) w.Bits(1, 1).Ue(0).Ue(0).Ue(0).Ue((uint)cropBottom);
        else w.Bits(0, 1);
        return w.Bits(0, 1).Trailing();
    }

    private static readonly byte[] Pps = [0x68, 0xCE, 0x38, 0x80];
    private static byte[] Idr(int length) => [0x65, .. Enumerable.Range(0, length - 1).Select(i => (byte)(i % 251 + 1))];
    private static byte[] Slice(int length) => [0x41, .. Enumerable.Range(0, length - 1).Select(i => (byte)(i % 13 + 1))];
    private static byte[] AnnexBOf(params byte[][] nals) => nals.SelectMany(n => (byte[])[0, 0, 0, 1, .. n]).ToArray();

    [Fact]
    public void H264SingleNalUnits()
    {
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var sps = H264Sps(20, 15);
        var idr = Idr(100);
        var output = new List<AssembledFrame>();
        d.Push(7, 10, false, sps, output);
        d.Push(8, 10, false, Pps, output);
        d.Push(9, 10, true, idr, output);
        var f = Assert.Single(output);
        Assert.Equal(AnnexBOf(sps, Pps, idr), f.Data.ToArray());
        Assert.True(f.KeyFrame);
        Assert.Equal((320, 240), (f.Width, f.Height));

        // avcC: version 1, profile/compat/level from the SPS, 4-byte lengths, one SPS, one PPS (baseline: no extension).
        byte[] avcC = [1, 66, 0xC0, 30, 0xFF, 0xE1, 0, (byte)sps.Length, .. sps, 1, 0, 4, .. Pps];
        Assert.Equal(avcC, d.CodecPrivate);
    }

    [Fact]
    public void H264StapAAndFuAAcrossThreePackets()
    {
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var sps = H264Sps(120, 68, cropBottom: 4); // 1920 × 1088 cropped to 1080
        var idr = Idr(3000);
        var output = new List<AssembledFrame>();
        d.Push(65534, 10, false, [0x78, 0, (byte)sps.Length, .. sps, 0, 4, .. Pps], output);
        d.Push(65535, 10, false, [0x7C, 0x85, .. idr[1..1001]], output);
        d.Push(0, 10, false, [0x7C, 0x05, .. idr[1001..2001]], output);
        d.Push(1, 10, true, [0x7C, 0x45, .. idr[2001..]], output);
        var f = Assert.Single(output);
        Assert.Equal(AnnexBOf(sps, Pps, idr), f.Data.ToArray());
        Assert.Equal((1920, 1080), (f.Width, f.Height));
    }

    [Fact]
    public void H264KeyFrameWithoutParameterSetsGetsTheStoredOnes()
    {
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var sps = H264Sps(20, 15);
        var output = new List<AssembledFrame>();
        d.Push(1, 10, false, sps, output);
        d.Push(2, 10, false, Pps, output);
        d.Push(3, 10, true, Idr(50), output);
        d.Push(4, 20, true, Slice(40), output);
        var idr = Idr(60);
        d.Push(5, 30, true, idr, output);
        Assert.Equal(3, output.Count);
        Assert.False(output[1].KeyFrame);
        Assert.Equal(AnnexBOf(Slice(40)), output[1].Data.ToArray());
        Assert.True(output[2].KeyFrame);
        Assert.Equal(AnnexBOf(sps, Pps, idr), output[2].Data.ToArray());
        Assert.Equal((320, 240), (output[2].Width, output[2].Height));
    }

    [Fact]
    public void H264IdrWithoutAnyParameterSetIsStillEmitted()
    {
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var output = new List<AssembledFrame>();
        d.Push(1, 10, true, Idr(30), output);
        var f = Assert.Single(output);
        Assert.True(f.KeyFrame);
        Assert.Equal((0, 0), (f.Width, f.Height));
        Assert.Null(d.CodecPrivate);
    }

    [Fact]
    public void H264FuAWithoutStartDropsTheFrame()
    {
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var output = new List<AssembledFrame>();
        d.Push(1, 10, true, Idr(30), output);
        d.Push(2, 20, false, Slice(20), output);
        d.Push(3, 20, true, [0x7C, 0x41, 1, 2, 3], output); // FU-A end with no start
        d.Push(4, 30, true, [0x7C, 0xC1, 1], output);        // S and E together: rejected
        d.Push(5, 40, true, [0x1A, 1, 2], output);           // MTAP16: not in mode 1
        d.Push(6, 50, true, [0x78, 0, 9, 1], output);        // STAP-A size beyond the payload
        Assert.Single(output);
        Assert.True(d.NeedsKeyFrame);
        Assert.True(d.FramesDropped >= 1);
        Assert.True(d.PacketsRejected >= 4);
    }

    // ---- AV1 ----

    /// <summary>A sequence header OBU (obu_has_size_field = 0) for profile 0, 8-bit 4:2:0, the given maximum size.</summary>
    internal static byte[] Av1SequenceHeaderObu(int width, int height)
    {
        var w = new TestBitWriter()
            .Bits(0, 3).Bits(0, 1).Bits(0, 1)    // seq_profile, still_picture, reduced_still_picture_header
            .Bits(0, 1).Bits(0, 1).Bits(0, 5)    // timing_info_present, initial_display_delay_present, operating_points_cnt_minus_1
            .Bits(0, 12).Bits(8, 5).Bits(0, 1)   // operating_point_idc, seq_level_idx 8 (4.0), seq_tier
            .Bits(15, 4).Bits(15, 4)             // frame_width_bits_minus_1, frame_height_bits_minus_1
            .Bits((uint)width - 1, 16).Bits((uint)height - 1, 16)
            .Bits(0, 1)                          // frame_id_numbers_present_flag
            .Bits(0, 3)                          // 128×128, filter intra, intra edge
            .Bits(0, 4).Bits(1, 1).Bits(0, 2)    // compound tools, enable_order_hint, jnt_comp, ref_frame_mvs
            .Bits(1, 1).Bits(1, 1)               // seq_choose_screen_content_tools, seq_choose_integer_mv
            .Bits(6, 3)                          // order_hint_bits_minus_1
            .Bits(0, 1).Bits(1, 1).Bits(1, 1)    // superres, cdef, restoration
            .Bits(0, 1).Bits(0, 1).Bits(0, 1)    // high_bitdepth, mono_chrome, color_description_present
            .Bits(0, 1).Bits(0, 2).Bits(0, 1)    // color_range, chroma_sample_position, separate_uv_delta_q
            .Bits(0, 1);                         // film_grain_params_present
        return [0x08, .. w.Trailing()];
    }

    private static byte[] Av1FrameObu(int length, byte seed) =>
        [0x30, .. Enumerable.Range(0, length - 1).Select(i => (byte)(i * seed + 1))];

    /// <summary>The low overhead form: obu_has_size_field = 1 and the LEB128 size after the header.</summary>
    internal static byte[] WithSize(byte[] obu)
    {
        var header = (obu[0] & 0x04) != 0 ? 2 : 1;
        return [(byte)(obu[0] | 0x02), .. obu.AsSpan(1, header - 1), .. TestPacketizer.Leb(obu.Length - header), .. obu.AsSpan(header)];
    }

    [Fact]
    public void Av1EveryElementLengthPrefixed()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Av1);
        var seq = Av1SequenceHeaderObu(320, 240);
        var frame = Av1FrameObu(200, 3);
        byte[] td = [0x10];
        var output = new List<AssembledFrame>();
        // W = 0, N = 1: a temporal delimiter, the sequence header and the frame, each with its length.
        d.Push(1, 90, true, [0x08, .. TestPacketizer.Leb(1), .. td, .. TestPacketizer.Leb(seq.Length), .. seq, .. TestPacketizer.Leb(frame.Length), .. frame], output);
        var f = Assert.Single(output);
        Assert.Equal([.. WithSize(seq), .. WithSize(frame)], f.Data.ToArray());
        Assert.True(f.KeyFrame);
        Assert.Equal((320, 240), (f.Width, f.Height));
        // av1C: marker/version, profile 0 level 8, tier 0 8-bit 4:2:0 (subsampling x and y), then the sequence header OBU.
        Assert.Equal([0x81, 0x08, 0x0C, 0x00, .. WithSize(seq)], d.CodecPrivate);
    }

    [Fact]
    public void Av1LastElementWithoutLengthAndObuWithItsOwnSizeField()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Av1);
        var seq = Av1SequenceHeaderObu(640, 480);
        var frame = Av1FrameObu(100, 5);
        var output = new List<AssembledFrame>();
        // W = 2: the second element runs to the end of the payload.
        d.Push(1, 90, true, [0x28, .. TestPacketizer.Leb(seq.Length), .. seq, .. frame], output);
        Assert.Equal([.. WithSize(seq), .. WithSize(frame)], output[0].Data.ToArray());
        Assert.Equal((640, 480), (output[0].Width, output[0].Height));

        // A delta temporal unit whose OBU keeps its size field and an extension header (temporal/spatial ids), W = 1.
        byte[] withExt = [0x34, 0x08, .. Av1FrameObu(60, 9)[1..]];
        var sized = WithSize(withExt);
        d.Push(2, 180, true, [0x10, .. sized], output);
        Assert.Equal(2, output.Count);
        Assert.Equal(sized, output[1].Data.ToArray());
        Assert.False(output[1].KeyFrame);
    }

    [Fact]
    public void Av1ObuFragmentedAcrossThreePackets()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Av1);
        var seq = Av1SequenceHeaderObu(320, 240);
        var frame = Av1FrameObu(3000, 7);
        var output = new List<AssembledFrame>();
        d.Push(65535, 90, false, [0x68, .. TestPacketizer.Leb(seq.Length), .. seq, .. frame[..1000]], output); // Y, W = 2, N
        d.Push(0, 90, false, [0xD0, .. frame[1000..2000]], output);                                            // Z, Y, W = 1
        Assert.Empty(output);
        d.Push(1, 90, true, [0x90, .. frame[2000..]], output);                                                 // Z, W = 1
        var f = Assert.Single(output);
        Assert.Equal([.. WithSize(seq), .. WithSize(frame)], f.Data.ToArray());
        Assert.True(f.KeyFrame);
    }

    [Fact]
    public void Av1MalformedPacketsAreRejected()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Av1);
        var output = new List<AssembledFrame>();
        d.Push(1, 1, true, [0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x30], output); // LEB128 of 9 bytes
        d.Push(2, 1, true, [0x00, 0x20, 0x30], output);                                                   // length beyond the payload
        d.Push(3, 1, true, [0x30, 0x01, 0x30], output);                                                   // W = 3 with one element
        d.Push(4, 1, true, [0x08], output);                                                               // no element
        Assert.Empty(output);
        Assert.Equal(4, d.PacketsRejected);

        // A continuation (Z = 1) with nothing before it never starts a frame; rejected packets count as lost, so
        // the holes are given up once three later key frames are complete.
        d.Push(5, 2, true, [0x90, 0x30, 0x01], output);
        var seq = Av1SequenceHeaderObu(320, 240);
        for (ushort s = 6; s <= 8; s++) d.Push(s, s * 10u, true, [0x18, .. seq], output);
        Assert.Equal(3, output.Count);
        Assert.All(output, f => Assert.True(f.KeyFrame));
        Assert.True(d.FramesDropped >= 1);
        Assert.False(d.NeedsKeyFrame);
    }

    [Fact]
    public void Av1LongLeb128WithinEightBytesIsAccepted()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Av1);
        var seq = Av1SequenceHeaderObu(320, 240);
        var output = new List<AssembledFrame>();
        // The length of the sequence header padded to 8 LEB128 bytes.
        byte[] leb = [(byte)(0x80 | seq.Length), 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        d.Push(1, 1, true, [0x08, .. leb, .. seq], output);
        Assert.Equal(WithSize(seq), Assert.Single(output).Data.ToArray());
    }

    // ---- Opus ----

    [Fact]
    public void OpusPayloadIsThePacket()
    {
        byte[] payload = [0xFC, 0xFF, 0xFE]; // config 31 (CELT 20 ms), one frame
        Assert.Equal(payload, OpusDepacketizer.ToFrame(payload));
        Assert.Null(OpusDepacketizer.ToFrame([]));
        Assert.Equal(960, OpusDepacketizer.SamplesAt48kHz(payload));
        Assert.Equal(1920, OpusDepacketizer.SamplesAt48kHz([0x79, 0x00])); // config 15 (hybrid 20 ms), code 1: two frames
        Assert.Equal(0, OpusDepacketizer.SamplesAt48kHz([0x03]));          // code 3 without its count byte
    }

    [Fact]
    public void AnnexBConvertsToLengthPrefixed()
    {
        byte[] annexB = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3];
        Assert.Equal([0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3], AnnexB.ToLengthPrefixed(annexB));
    }
}
