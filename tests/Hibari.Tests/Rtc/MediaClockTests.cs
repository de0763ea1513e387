using Hibari.Rtc;

namespace Hibari.Tests.Rtc;

public class MediaClockTests
{
    private const long Nanos = 1_000_000_000; // Stopwatch.Frequency on Linux

    [Theory]
    [InlineData(0L)]
    [InlineData(9_000L)]            // under 2.56 h of uptime: the old `timestamp * 1_000_000` still fitted a long
    [InlineData(9_300L)]            // just over: it overflowed and the clock went negative
    [InlineData(400L * 86_400)]     // 400 days of uptime
    public void Microseconds_stay_exact_and_positive_for_any_uptime(long seconds)
    {
        var timestamp = seconds * Nanos + 123_456_789;
        Assert.Equal(seconds * 1_000_000 + 123_456, MediaClock.ToMicros(timestamp, Nanos));
    }

    [Fact]
    public void Microseconds_increase_with_the_timestamp_across_the_old_overflow()
    {
        var before = MediaClock.ToMicros(9_223L * Nanos + 372_036_000, Nanos);
        var after = MediaClock.ToMicros(9_223L * Nanos + 372_037_000, Nanos);
        Assert.Equal(1, after - before);
    }

    [Fact]
    public void Other_frequencies_scale_too()
    {
        Assert.Equal(2_500_000, MediaClock.ToMicros(25_000_000, 10_000_000)); // 100 ns ticks (Windows)
        Assert.Equal(1_000_001, MediaClock.ToMicros(1_000_001, 1_000_000));
    }

    [Fact]
    public void The_process_clock_is_positive()
    {
        Assert.True(MediaClock.NowMicros() > 0);
    }
}
