using Hibari.Rtc.Rtp;
using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

/// <summary>Picture ids and TL0PICIDX continue across simulcast switches (issue 12, docs/decisions.md D-35).</summary>
public sealed class PayloadIdRewriterTests
{
    /// <summary>A VP8 payload descriptor with X, I (15-bit picture id) and L (TL0PICIDX), then two payload bytes.</summary>
    private static byte[] Vp8(int pictureId, byte tl0) =>
        [0x90, 0xC0, (byte)(0x80 | (pictureId >> 8)), (byte)pictureId, tl0, 0xAA, 0xBB];

    private static (int PictureId, int Tl0) ReadVp8(byte[] p) => (((p[2] & 0x7F) << 8) | p[3], p[4]);

    [Fact]
    public void The_first_source_passes_unchanged_and_a_new_one_continues_its_ids()
    {
        var r = new PayloadIdRewriter();
        r.StartNewSource();
        foreach (var (pid, tl0) in new[] { (1000, 7), (1000, 7), (1001, 8) })
        {
            var p = Vp8(pid, (byte)tl0);
            r.Rewrite(VideoCodecKind.Vp8, p);
            Assert.Equal((pid, tl0), ReadVp8(p));
            Assert.Equal([0xAA, 0xBB], p[5..]);
        }
        // Switch to a layer numbering on its own: 20000 / 200 become 1002 / 9, and it goes on from there.
        r.StartNewSource();
        var expected = new[] { (1002, 9), (1002, 9), (1003, 10), (1004, 11) };
        var input = new[] { (20000, 200), (20000, 200), (20001, 201), (20002, 202) };
        for (var i = 0; i < input.Length; i++)
        {
            var p = Vp8(input[i].Item1, (byte)input[i].Item2);
            r.Rewrite(VideoCodecKind.Vp8, p);
            Assert.Equal(expected[i], ReadVp8(p));
        }
    }

    [Fact]
    public void Ids_wrap_at_their_width()
    {
        var r = new PayloadIdRewriter();
        r.StartNewSource();
        r.Rewrite(VideoCodecKind.Vp8, Vp8(0x7FFF, 255));
        r.StartNewSource();
        var p = Vp8(5, 3);
        r.Rewrite(VideoCodecKind.Vp8, p);
        Assert.Equal((0, 0), ReadVp8(p));
        // A 7-bit picture id stays 7 bits (M = 0).
        var r7 = new PayloadIdRewriter();
        r7.StartNewSource();
        r7.Rewrite(VideoCodecKind.Vp8, [0x90, 0x80, 0x7F, 0xAA]);
        r7.StartNewSource();
        byte[] seven = [0x90, 0x80, 0x10, 0xAA];
        r7.Rewrite(VideoCodecKind.Vp8, seven);
        Assert.Equal(0x00, seven[2]);
    }

    [Fact]
    public void Vp9_picture_id_and_tl0picidx_after_the_layer_indices_are_continued()
    {
        // I=1, L=1, F=0, B=1: 15-bit picture id, layer-indices byte, TL0PICIDX.
        static byte[] Vp9(int pid, byte tl0) => [0xA8, (byte)(0x80 | (pid >> 8)), (byte)pid, 0x00, tl0, 0xCC];
        var r = new PayloadIdRewriter();
        r.StartNewSource();
        r.Rewrite(VideoCodecKind.Vp9, Vp9(300, 40));
        r.StartNewSource();
        var p = Vp9(9000, 1);
        r.Rewrite(VideoCodecKind.Vp9, p);
        Assert.Equal(301, ((p[1] & 0x7F) << 8) | p[2]);
        Assert.Equal(41, p[4]);
        Assert.Equal(0x00, p[3]);
        Assert.Equal(0xCC, p[5]);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x90 })]
    [InlineData(new byte[] { 0x90, 0xC0, 0x80 })]
    [InlineData(new byte[] { 0x90, 0xC0, 0x81, 0x02 })]
    [InlineData(new byte[] { 0x10, 0x00 })] // no X: nothing to rewrite
    public void Truncated_or_id_less_payloads_are_left_alone(byte[] payload)
    {
        var copy = payload.ToArray();
        var r = new PayloadIdRewriter();
        r.StartNewSource();
        r.Rewrite(VideoCodecKind.Vp8, copy);
        Assert.Equal(payload, copy);
        r.Rewrite(VideoCodecKind.H264, copy);
        Assert.Equal(payload, copy);
    }

    [Fact]
    public void Random_payloads_never_throw_and_keep_their_length()
    {
        var random = new Random(5);
        var r = new PayloadIdRewriter();
        var changed = 0;
        for (var i = 0; i < 20000; i++)
        {
            if (i % 50 == 0) r.StartNewSource();
            var b = new byte[random.Next(0, 12)];
            random.NextBytes(b);
            var before = b.ToArray();
            r.Rewrite(i % 2 == 0 ? VideoCodecKind.Vp8 : VideoCodecKind.Vp9, b);
            if (!b.AsSpan().SequenceEqual(before)) changed++;
        }
        Assert.InRange(changed, 1, 20000);
    }
}
