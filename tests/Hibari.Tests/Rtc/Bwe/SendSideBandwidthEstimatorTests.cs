using Hibari.Rtc.Bwe;
using Hibari.Rtc.Rtp;
using Hibari.Tests.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// Bookkeeping of <see cref="SendSideBandwidthEstimator"/>: transport-wide sequence wrap, duplicated and reordered
/// feedback, late packets, unknown numbers, and no allocation on the per-packet path.
/// </summary>
public sealed class SendSideBandwidthEstimatorTests
{
    private const long NR = TransportCcFeedback.NotReceived;
    private const long Second = 1_000_000;

    private static bool Feed(SendSideBandwidthEstimator estimator, ReadOnlySpan<byte> packet, long now)
    {
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(packet), out var fb));
        return estimator.OnFeedback(fb, now);
    }

    private static byte[] Feedback(ushort baseSeq, params long[] arrivals)
    {
        var buffer = new byte[1500];
        var n = TransportCcFeedback.Write(buffer, 1, 2, baseSeq, arrivals, 0, out var consumed);
        Assert.Equal(arrivals.Length, consumed);
        return buffer[..n];
    }

    // Sends `count` 1,000-byte packets every 10 ms from `first` (wrapping), returns the arrivals 30 ms later.
    private static long[] SendRun(SendSideBandwidthEstimator estimator, ushort first, int count, long start)
    {
        var arrivals = new long[count];
        for (var i = 0; i < count; i++)
        {
            estimator.OnPacketSent((ushort)(first + i), 1000, start + i * 10_000);
            arrivals[i] = start + i * 10_000 + 30_000;
        }
        return arrivals;
    }

    [Fact]
    public void Sequence_wrap_is_seamless()
    {
        var estimator = new SendSideBandwidthEstimator(500_000, 50_000, 5_000_000);
        var arrivals = SendRun(estimator, 65_500, 100, 0); // 65500 … 65535, 0 … 63
        Feed(estimator, Feedback(65_500, arrivals[..50]), 600_000);
        Feed(estimator, Feedback(14, arrivals[50..]), 1_100_000);
        Assert.Equal(0.0, estimator.LossFraction);
        Assert.InRange(estimator.AckedBps, 700_000, 900_000); // 1,000 bytes / 10 ms = 800 kbps
        Assert.Equal(BandwidthUsage.Normal, estimator.Usage);
    }

    [Fact]
    public void Duplicate_feedback_changes_nothing_and_reordered_feedback_is_used_once()
    {
        var estimator = new SendSideBandwidthEstimator(500_000, 50_000, 5_000_000);
        var arrivals = SendRun(estimator, 100, 100, 0);
        var first = Feedback(100, arrivals[..50]);
        var second = Feedback(150, arrivals[50..]);
        Feed(estimator, second, 1_100_000); // newer first
        Feed(estimator, first, 1_100_000);
        var acked = estimator.AckedBps;
        var loss = estimator.LossFraction;
        Assert.False(Feed(estimator, second, 1_100_000));
        Assert.False(Feed(estimator, first, 1_100_000));
        Assert.Equal(acked, estimator.AckedBps);
        Assert.Equal(loss, estimator.LossFraction);
        Assert.Equal(0.0, estimator.LossFraction);
    }

    [Fact]
    public void A_packet_reported_lost_then_received_counts_once_as_received()
    {
        var lossy = new SendSideBandwidthEstimator(500_000, 50_000, 5_000_000);
        var arrivals = SendRun(lossy, 0, 60, 0);
        var withHole = (long[])arrivals.Clone();
        for (var i = 10; i < 30; i++) withHole[i] = NR;
        Feed(lossy, Feedback(0, withHole[..30]), 500_000); // 30 statuses: below the 40-packet loss window
        Feed(lossy, Feedback(30, arrivals[30..]), 800_000);
        Assert.Equal(20.0 / 60, lossy.LossFraction, 3);

        var late = new SendSideBandwidthEstimator(500_000, 50_000, 5_000_000);
        SendRun(late, 0, 60, 0);
        Feed(late, Feedback(0, withHole[..30]), 500_000);
        Feed(late, Feedback(10, arrivals[10..30]), 550_000); // the 20 turn up after all
        Feed(late, Feedback(10, arrivals[10..30]), 560_000); // and again: a duplicate
        Feed(late, Feedback(30, arrivals[30..]), 800_000);
        Assert.Equal(0.0, late.LossFraction);
    }

    [Fact]
    public void Feedback_for_numbers_never_sent_is_ignored()
    {
        var estimator = new SendSideBandwidthEstimator(500_000, 50_000, 5_000_000);
        Assert.False(Feed(estimator, Feedback(7, 1000, 2000, 3000), 10_000)); // nothing sent yet
        var arrivals = SendRun(estimator, 1000, 10, 0);
        Assert.False(Feed(estimator, Feedback(30_000, arrivals), 200_000));  // far from anything sent
        Assert.False(Feed(estimator, Feedback(1010, arrivals), 200_000));    // just after the last one sent
        Assert.Equal(0, estimator.AckedBps);
        Assert.Equal(500_000, estimator.EstimateBps);
    }

    [Fact]
    public void Estimate_is_clamped_to_min_and_max()
    {
        Assert.Equal(100_000, new SendSideBandwidthEstimator(10, 100_000, 1_000_000).EstimateBps);
        Assert.Equal(1_000_000, new SendSideBandwidthEstimator(9_000_000, 100_000, 1_000_000).EstimateBps);
    }

    [Fact]
    public void Whole_run_across_the_wrap_with_duplicated_and_reordered_feedback_still_reaches_r2()
    {
        var sim = new NetworkSimulator(300_000, initialLayer: 0, firstSeq: 65_000);
        byte[]? held = null;
        sim.FeedbackFilter = packet =>
        {
            // Every feedback is delivered twice, and each pair of feedback packets arrives swapped.
            if (held is null)
            {
                held = packet;
                return;
            }
            sim.Feed(packet);
            sim.Feed(held);
            sim.Feed(packet);
            sim.Feed(held);
            held = null;
        };
        long reached = -1;
        sim.Run(20 * Second, s => { if (reached < 0 && s.Layer == 2) reached = s.Now; });
        Assert.True(sim.PacketsSent > 1_000); // crossed 65535 → 0
        Assert.InRange(reached, 0, 5 * Second);
        Assert.Equal(2, sim.Layer);
        Assert.True(sim.Estimator.LossFraction < 0.01, $"phantom loss {sim.Estimator.LossFraction}");
    }

    [Fact]
    public void Steady_state_send_and_feedback_allocate_nothing()
    {
        var estimator = new SendSideBandwidthEstimator(1_000_000, 50_000, 10_000_000);
        var recorder = new TransportCcRecorder(1, 2);
        var buffer = new byte[1500];
        ushort seq = 0;
        long now = 0;
        void Run(int ms)
        {
            for (var i = 0; i < ms; i++)
            {
                now += 1_000;
                estimator.OnPacketSent(seq, 1_000, now, estimator.Probe.Probing);
                recorder.Record(seq++, now + 20_000);
                estimator.Probe.RequestProbe(3_000_000, now);
                estimator.Probe.PaddingBytesDue(now, 1_000_000);
                int n;
                while ((n = recorder.WriteFeedbackIfDue(now, buffer)) > 0)
                {
                    var reader = new RtcpReader(buffer.AsSpan(0, n));
                    while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
                        if (TransportCcFeedback.TryParse(p, out var fb)) estimator.OnFeedback(fb, now + 30_000);
                }
            }
        }
        Run(2_000);
        Assert.Equal(0, Allocations.Min(() => Run(10_000)));
        Assert.True(estimator.AckedBps > 0);
    }
}
