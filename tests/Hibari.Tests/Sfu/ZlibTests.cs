using Hibari.Sfu.Messaging;

namespace Hibari.Tests.Sfu;

public class ZlibTests
{
    [Fact]
    public void Round_trip_and_the_rfc1950_header_browsers_expect()
    {
        var data = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("hibari messaging ", 1000)));
        var z = Zlib.Compress(data);
        Assert.True(z.Length < data.Length / 10);
        Assert.Equal(0x78, z[0]); // CMF: deflate, 32 KB window (what CompressionStream("deflate") reads and writes)
        Assert.Equal(0, ((z[0] << 8) | z[1]) % 31);
        Assert.True(Zlib.TryDecompress(z, data.Length, out var back));
        Assert.Equal(data, back);
    }

    [Fact]
    public void A_stream_that_inflates_beyond_the_limit_is_refused()
    {
        var bomb = Zlib.Compress(new byte[1_000_000]);
        Assert.False(Zlib.TryDecompress(bomb, 262_144, out _));
    }

    [Fact]
    public void Garbage_is_refused_without_throwing()
    {
        var random = new Random(5);
        for (var i = 0; i < 2000; i++)
        {
            var b = new byte[random.Next(0, 64)];
            random.NextBytes(b);
            if (i % 2 == 0 && b.Length > 2) { b[0] = 0x78; b[1] = 0x9c; }
            Zlib.TryDecompress(b, 1 << 16, out _); // must return, never throw
        }
        Assert.False(Zlib.TryDecompress([0x78, 0x9c, 0xff, 0xff], 1024, out _));
    }
}
