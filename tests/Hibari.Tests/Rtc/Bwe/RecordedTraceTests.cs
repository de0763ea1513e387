using Hibari.Rtc.Bwe;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// The estimator on transport-cc feedback recorded from Chromium receivers (Traces/README.md): how soon it sees a real
/// 500 kbit/s bottleneck (issue 12: "down-switch within 2 s of congestion"; the layer switch follows the estimate within
/// one allocation, 200 ms, and a key frame), and that it sees none on an unlimited receiver of the same call.
/// </summary>
public sealed class RecordedTraceTests(ITestOutputHelper output)
{
    private const long Ms = 1000;

    private void Print(BweTraceReplay replay, long from, long to)
    {
        output.WriteLine($"marks {string.Join(", ", replay.Marks.Select(m => $"{m.Key} {m.Value / Ms} ms"))}; {replay.Sent} packets, {replay.Feedbacks} feedbacks");
        foreach (var s in replay.Samples.Where(s => s.Micros >= from && s.Micros <= to))
            output.WriteLine($"{s.Micros / Ms,6} ms est {s.EstimateBps / 1000,5} kbps (delay {s.DelayBasedBps / 1000,5}, loss {s.LossBasedBps / 1000,5}) " +
                $"loss {s.LossFraction:F2} {s.Usage} trend {s.Trend:F3} threshold {s.ThresholdMs:F1} ms");
    }

    /// <summary>How long after the limit the estimate first fell under the limit itself.</summary>
    private static long Reaction(BweTraceReplay replay) =>
        (replay.First(replay.Marks["limit"], s => s.EstimateBps < 500_000)?.Micros ?? long.MaxValue) - replay.Marks["limit"];

    [Fact]
    public void Steady_r2_receiver_limited_to_500_kbit_is_seen_within_a_second_and_not_before()
    {
        var replay = BweTraceReplay.Run("chromium-steady-r2-500kbit.bwe.gz");
        var limit = replay.Marks["limit"];
        Print(replay, limit - 500 * Ms, replay.Marks["lift"]);
        // ~5.7 s of r2 (~900 kbit/s) before the limit: no over-use, the estimate keeps its start.
        Assert.True(limit > 5_000 * Ms, $"the trace has {limit / Ms} ms before the limit");
        Assert.DoesNotContain(replay.Samples, s => s.Micros < limit && (s.Usage == BandwidthUsage.Overusing || s.EstimateBps < 2_000_000));
        var reaction = Reaction(replay);
        output.WriteLine($"estimate under 500 kbit/s {reaction / Ms} ms after the limit");
        Assert.InRange(reaction, 0, 1_000 * Ms);
    }

    [Fact]
    public void Limit_just_after_the_layer_started_is_seen_within_a_second()
    {
        // The limit came 170 ms after the receiver's first r2 packet, with the encoder still ramping up (13 frames/s):
        // a trendline that waits for 20 frame groups, smoothed by 0.9 per group, saw it only 1.4 s later.
        var replay = BweTraceReplay.Run("chromium-start-r2-500kbit.bwe.gz");
        Print(replay, 0, replay.Marks["lift"]);
        var reaction = Reaction(replay);
        output.WriteLine($"estimate under 500 kbit/s {reaction / Ms} ms after the limit");
        Assert.InRange(reaction, 0, 1_000 * Ms);
    }

    [Fact]
    public void Unlimited_receiver_of_the_same_call_never_sees_over_use()
    {
        var replay = BweTraceReplay.Run("chromium-steady-r2-unlimited.bwe.gz");
        Print(replay, replay.Marks["limit"] - 500 * Ms, replay.Marks["limit"] + 1_000 * Ms);
        Assert.True(replay.Feedbacks > 100, $"{replay.Feedbacks} feedbacks");
        Assert.DoesNotContain(replay.Samples, s => s.Usage == BandwidthUsage.Overusing);
        Assert.True(replay.Samples.Min(s => s.EstimateBps) >= 2_000_000, $"lowest estimate {replay.Samples.Min(s => s.EstimateBps)}");
    }
}
