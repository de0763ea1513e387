using Hibari.Recording.Webm;

namespace Hibari.Tests.Recording.Webm;

/// <summary>The EBML primitives (RFC 8794): IDs, size fields at each width's limits, integers, floats, strings,
/// masters, Voids of every length.</summary>
public class EbmlWriterTests
{
    [Theory]
    [InlineData(0UL, 1, new byte[] { 0x80 })]
    [InlineData(126UL, 1, new byte[] { 0xFE })]
    [InlineData(127UL, 2, new byte[] { 0x40, 0x7F })] // 127 would be 1-byte "unknown"
    [InlineData(16382UL, 2, new byte[] { 0x7F, 0xFE })]
    [InlineData(16383UL, 3, new byte[] { 0x20, 0x3F, 0xFF })]
    [InlineData(0x00FF_FFFF_FFFF_FFFEUL, 8, new byte[] { 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE })]
    public void Sizes_take_the_fewest_bytes_and_never_the_all_ones_value(ulong size, int width, byte[] expected)
    {
        using var w = new EbmlWriter();
        w.WriteSize(size);
        Assert.Equal(width, EbmlWriter.SizeLength(size));
        Assert.Equal(expected, w.Written.ToArray());
        long at = 0;
        Assert.Equal(((long)size, false), EbmlTestReader.ReadSize(w.Written.ToArray(), ref at));
    }

    [Fact]
    public void Fixed_width_sizes_and_the_unknown_size()
    {
        using var w = new EbmlWriter();
        w.WriteSize(5, 8);
        w.WriteSize(EbmlWriter.UnknownSize8, 8);
        Assert.Equal([0x01, 0, 0, 0, 0, 0, 0, 5, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], w.Written.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteSize(127, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteSize(1UL << 56));
    }

    [Fact]
    public void Ids_keep_their_marker_bits_and_length()
    {
        using var w = new EbmlWriter();
        w.WriteId(EbmlId.Ebml);
        w.WriteId(EbmlId.SimpleBlock);
        w.WriteId(EbmlId.Language);
        w.WriteId(EbmlId.Seek);
        Assert.Equal([0x1A, 0x45, 0xDF, 0xA3, 0xA3, 0x22, 0xB5, 0x9C, 0x4D, 0xBB], w.Written.ToArray());
    }

    [Fact]
    public void Integers_floats_strings_and_binary()
    {
        using var w = new EbmlWriter();
        w.WriteUInt(EbmlId.TrackNumber, 0);
        w.WriteUInt(EbmlId.TrackNumber, 0x1234);
        w.WriteUIntFixed(EbmlId.PixelWidth, 7, 4);
        w.WriteInt(0xFB, -1);
        w.WriteInt(0xFB, 128);
        w.WriteInt(0xFB, -129);
        w.WriteFloat(EbmlId.Duration, 1.5);
        w.WriteString(EbmlId.CodecId, "A_OPUS");
        w.WriteBinary(EbmlId.CodecPrivate, [9, 8]);
        byte[] expected =
        [
            0xD7, 0x81, 0x00,
            0xD7, 0x82, 0x12, 0x34,
            0xB0, 0x84, 0, 0, 0, 7,
            0xFB, 0x81, 0xFF,
            0xFB, 0x82, 0x00, 0x80,
            0xFB, 0x82, 0xFF, 0x7F,
            0x44, 0x89, 0x88, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, // 1.5 as a big-endian double
            0x86, 0x86, .. "A_OPUS"u8,
            0x63, 0xA2, 0x82, 9, 8,
        ];
        Assert.Equal(expected, w.Written.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.WriteUIntFixed(EbmlId.PixelWidth, 256, 1));
    }

    [Fact]
    public void Masters_get_the_size_of_what_was_written_inside_them()
    {
        using var w = new EbmlWriter();
        var outer = w.StartMaster(EbmlId.Tracks, 4);
        var inner = w.StartMaster(EbmlId.TrackEntry, 1);
        w.WriteUInt(EbmlId.TrackNumber, 1);
        w.EndMaster(inner);
        w.EndMaster(outer);
        Assert.Equal([0x16, 0x54, 0xAE, 0x6B, 0x10, 0, 0, 5, 0xAE, 0x83, 0xD7, 0x81, 0x01], w.Written.ToArray());
        var big = w.StartMaster(EbmlId.Video, 1);
        w.Append(127);
        Assert.Throws<InvalidOperationException>(() => w.EndMaster(big));
    }

    [Fact]
    public void Voids_of_every_length_from_2_parse_as_exactly_that_length()
    {
        for (var length = 2; length < 20_000; length += length < 300 ? 1 : 97)
        {
            using var w = new EbmlWriter();
            w.WriteVoid(length);
            Assert.Equal(length, w.Length);
            var node = Assert.Single(EbmlTestReader.Parse(w.Written.ToArray()));
            Assert.Equal((EbmlId.Void, (long)length), (node.Id, node.End));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new EbmlWriter().WriteVoid(1));
    }

    [Fact]
    public void The_buffer_grows_keeping_its_bytes_and_Clear_reuses_it()
    {
        using var w = new EbmlWriter(64);
        var data = WebmWriterTests.Frame(100_000, 5);
        w.WriteBytes(data.AsSpan(0, 10));
        w.WriteBytes(data.AsSpan(10));
        Assert.Equal(data, w.Written.ToArray());
        w.Clear();
        Assert.Equal(0, w.Length);
        w.WriteBytes([1]);
        Assert.Equal([1], w.Written.ToArray());
    }
}
