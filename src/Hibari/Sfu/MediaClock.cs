using System.Diagnostics;

namespace Hibari.Sfu;

/// <summary>The media plane's monotonic clock in microseconds (RTCP timers, key-frame rate limits, jitter).</summary>
internal static class MediaClock
{
    public static long NowMicros() => Stopwatch.GetTimestamp() * 1_000_000 / Stopwatch.Frequency;
}
