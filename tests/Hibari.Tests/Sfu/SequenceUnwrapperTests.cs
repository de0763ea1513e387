using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

public class SequenceUnwrapperTests
{
    [Fact]
    public void A_stream_far_longer_than_the_16_bit_space_stays_in_order_across_wraps()
    {
        var u = new SequenceUnwrapper();
        ushort seq = 65_000; // starts just before a wrap
        var first = u.Unwrap(seq);
        var previous = first;
        for (var i = 1; i < 300_000; i++)
        {
            seq++;
            var ext = u.Unwrap(seq);
            Assert.Equal(previous + 1, ext);
            previous = ext;
        }
        Assert.Equal(first + 299_999, previous);
    }

    [Fact]
    public void Reordered_and_late_packets_land_before_the_highest_even_across_a_wrap()
    {
        var u = new SequenceUnwrapper();
        var start = u.Unwrap(65_530);
        Assert.Equal(start + 10, u.Unwrap(4));        // 65530 + 10 wraps to 4
        Assert.Equal(start + 5, u.Unwrap(65_535));    // late, before the wrap
        Assert.Equal(start - 30, u.Unwrap(65_500));   // older than the first packet: below it
        Assert.Equal(start + 11, u.Unwrap(5));
    }

    [Fact]
    public void After_32768_packets_new_ones_are_still_newer_than_the_start()
    {
        // The bug this replaces: (short)(seq - start) < 0 from the 32,768th packet on, which stopped forwarding.
        var u = new SequenceUnwrapper();
        var start = u.Unwrap(100);
        long last = start;
        for (var i = 1; i <= 40_000; i++) last = u.Unwrap((ushort)(100 + i));
        Assert.True(last > start);
        Assert.Equal(start + 40_000, last);
    }
}
