using Hibari.Rtc.Bwe;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// End-to-end behaviour of <see cref="SendSideBandwidthEstimator"/> + <see cref="ProbeController"/> on the simulated
/// bottleneck (<see cref="NetworkSimulator"/>): issue 12's "down-switch within 2 s of congestion, up-switch after a
/// stable probe". All time is simulated; the figures go to the test output.
/// </summary>
public sealed class BandwidthScenarioTests(ITestOutputHelper output)
{
    private const long Second = 1_000_000;

    private void Log(NetworkSimulator sim, string what) =>
        output.WriteLine($"{sim.Now / 1e6,7:F3}s {what}: layer r{sim.Layer} est {sim.Estimator.EstimateBps / 1000} kbps " +
            $"(delay {sim.Estimator.DelayBasedBps / 1000}, loss {sim.Estimator.LossBasedBps / 1000}, acked {sim.Estimator.AckedBps / 1000}, " +
            $"loss {sim.Estimator.LossFraction:P1}, {sim.Estimator.Usage}), queue {sim.QueueDelayMicros / 1000} ms, probe #{sim.Estimator.Probe.ClusterId} last {sim.Estimator.Probe.LastResultBps / 1000} ok={sim.Estimator.Probe.LastSucceeded} fails {sim.Estimator.Probe.Failures}");

    private void Trace(NetworkSimulator sim, long every)
    {
        if (sim.Now % every == 0) Log(sim, "trace");
    }

    [Fact]
    public void Unlimited_link_climbs_from_r0_to_r2_by_probing_and_stays()
    {
        var sim = new NetworkSimulator(300_000, initialLayer: 0) { CapacityBps = 50_000_000 };
        long reachedR2 = -1;
        sim.Run(10 * Second, s =>
        {
            Trace(s, 500_000);
            if (reachedR2 < 0 && s.Layer == 2) reachedR2 = s.Now;
        });
        output.WriteLine($"reached r2 after {reachedR2 / 1e6:F2} s");
        Assert.InRange(reachedR2, 0, 5 * Second);

        long offR2 = 0;
        sim.Run(30 * Second, s => { if (s.Layer != 2) offR2 += 1_000; Trace(s, 2 * Second); });
        Log(sim, "end");
        Assert.Equal(0, offR2);
        Assert.True(sim.Estimator.EstimateBps >= 1_700_000 / NetworkSimulator.Headroom);
    }

    [Fact]
    public void Capacity_cut_down_switches_within_2_s_settles_on_r1_and_recovers_when_lifted()
    {
        var sim = new NetworkSimulator(2_500_000, initialLayer: 2) { CapacityBps = 10_000_000 };
        sim.Run(10 * Second, s => Trace(s, Second));
        Assert.Equal(2, sim.Layer);

        var cut = sim.Now;
        sim.CapacityBps = 600_000;
        long below = -1, left = -1;
        sim.Run(5 * Second, s =>
        {
            Trace(s, 250_000);
            if (below < 0 && s.Estimator.EstimateBps < 600_000) below = s.Now - cut;
            if (left < 0 && s.Layer != 2) left = s.Now - cut;
        });
        output.WriteLine($"estimate < 600 kbps after {below / 1e3} ms, left r2 after {left / 1e3} ms");
        Assert.InRange(below, 0, 2 * Second);
        Assert.InRange(left, 0, 2 * Second);

        long onR2 = 0, onR1 = 0, total = 0;
        long delaySum = 0, maxDelay = 0;
        double estimateSum = 0;
        sim.Run(30 * Second, s =>
        {
            Trace(s, 2 * Second);
            total++;
            if (s.Layer == 2) onR2++;
            if (s.Layer == 1) onR1++;
            delaySum += s.QueueDelayMicros;
            maxDelay = Math.Max(maxDelay, s.QueueDelayMicros);
            estimateSum += s.Estimator.EstimateBps;
        });
        output.WriteLine($"30 s at 600 kbps: r1 {100.0 * onR1 / total:F1} %, r2 {onR2} ms, mean estimate {estimateSum / total / 1000:F0} kbps, " +
            $"mean queue {delaySum / total / 1000.0:F1} ms, max queue {maxDelay / 1000.0:F1} ms");
        Assert.True(onR2 <= 1_000, $"r2 for {onR2} ms");
        Assert.True(onR1 >= 0.8 * total, $"r1 only {100.0 * onR1 / total:F1} %");
        Assert.True(delaySum / total < 50_000, "mean queue delay");
        Assert.True(maxDelay < 300_000, "max queue delay"); // the drop-tail queue alone would allow 800 ms

        var lifted = sim.Now;
        sim.CapacityBps = 10_000_000;
        long back = -1;
        sim.Run(15 * Second, s =>
        {
            Trace(s, Second);
            if (back < 0 && s.Layer == 2) back = s.Now - lifted;
        });
        output.WriteLine($"back on r2 {back / 1e6:F2} s after the limit was lifted");
        Assert.InRange(back, 0, 10 * Second);
    }

    [Theory]
    [InlineData(0.05, true)]
    [InlineData(0.20, false)]
    public void Random_loss_holds_at_5_percent_and_cuts_at_20_percent(double loss, bool holds)
    {
        var sim = new NetworkSimulator(2_500_000, initialLayer: 2) { CapacityBps = 50_000_000 };
        sim.Run(5 * Second, s => Trace(s, Second));
        var before = sim.Estimator.EstimateBps;
        sim.LossRate = loss;
        long minEstimate = long.MaxValue;
        sim.Run(20 * Second, s => { Trace(s, Second); minEstimate = Math.Min(minEstimate, s.Estimator.EstimateBps); });
        Log(sim, "end");
        output.WriteLine($"before {before / 1000} kbps, min {minEstimate / 1000} kbps, end {sim.Estimator.EstimateBps / 1000} kbps");
        if (holds)
        {
            Assert.True(minEstimate >= 0.9 * before, "5 % loss must not cut the estimate");
            Assert.Equal(2, sim.Layer);
        }
        else
        {
            Assert.True(sim.Estimator.EstimateBps < 0.5 * before, "20 % loss must cut the estimate");
            Assert.True(sim.Estimator.LossFraction > 0.1);
        }
    }
}
