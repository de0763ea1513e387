using System.Diagnostics;

namespace Hibari.Rtc;

/// <summary>The media plane's monotonic clock in microseconds (RTCP timers, key-frame rate limits, jitter).</summary>
internal static class MediaClock
{
    public static long NowMicros() => ToMicros(Stopwatch.GetTimestamp(), Stopwatch.Frequency);

    /// <summary>
    /// A monotonic timestamp in µs. Whole seconds and the remainder are scaled apart: on Linux the timestamp is ns since
    /// boot, and <c>timestamp * 1_000_000</c> overflows a long after 2.56 hours of uptime (the clock went negative and
    /// the once-a-second RTCP reports stopped on hosts up longer than that).
    /// </summary>
    public static long ToMicros(long timestamp, long frequency) =>
        timestamp / frequency * 1_000_000 + timestamp % frequency * 1_000_000 / frequency;
}
