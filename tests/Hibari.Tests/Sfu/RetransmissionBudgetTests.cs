using Hibari.Rtc.Rtp;
using Hibari.Sfu;
using Hibari.Tests.Rtc.Rtp;

namespace Hibari.Tests.Sfu;

/// <summary>
/// The retransmission budget of a receiver (D-38): NACKs are answered freely until its transport-wide feedback gives an
/// estimate, then only within <see cref="DownlinkBandwidth.RetransmissionShare"/> of it (plus a short burst).
/// </summary>
public sealed class RetransmissionBudgetTests
{
    private const long Second = 1_000_000;

    // 1,000-byte packets every 10 ms (800 kbit/s) for a second, all received 20 ms later; the feedback in one packet.
    private static void Feed(DownlinkBandwidth downlink, long start)
    {
        var first = -1;
        var arrivals = new long[100];
        for (var i = 0; i < 100; i++)
        {
            var seq = downlink.Next();
            if (first < 0) first = seq;
            downlink.OnSent(seq, 1000, start + i * 10_000);
            arrivals[i] = start + i * 10_000 + 20_000;
        }
        var buffer = new byte[1500];
        var n = TransportCcFeedback.Write(buffer, 1, 2, (ushort)first, arrivals, 0, out _);
        var rtcp = RtcpTests.Single(buffer.AsSpan(0, n));
        Assert.True(TransportCcFeedback.TryParse(rtcp, out var fb));
        downlink.OnFeedback(fb, rtcp.Raw, start + Second + 50_000);
    }

    [Fact]
    public void Without_an_estimate_every_retransmission_goes()
    {
        var downlink = new DownlinkBandwidth();
        for (var i = 0; i < 1000; i++) Assert.True(downlink.TryRetransmit(1200, i * 1000));
    }

    [Fact]
    public void With_an_estimate_retransmissions_take_at_most_their_share_of_it()
    {
        var downlink = new DownlinkBandwidth();
        Feed(downlink, 0);
        Assert.True(downlink.AckedBps > 0);
        var estimate = downlink.EstimateBps;
        // A NACK storm: 1,200-byte retransmissions asked for every millisecond for two seconds.
        long granted = 0;
        var start = 2 * Second;
        for (var t = start; t < start + 2 * Second; t += 1000)
            if (downlink.TryRetransmit(1200, t)) granted += 1200;
        var allowed = estimate * DownlinkBandwidth.RetransmissionShare / 8 * (2 + DownlinkBandwidth.RetransmissionBurstMicros / 1e6);
        Assert.InRange(granted, allowed * 0.8, allowed + 1200);
        // Idle for a while, the budget refills only up to its burst.
        var burst = 0;
        while (downlink.TryRetransmit(1200, start + 10 * Second)) burst++;
        Assert.InRange(burst * 1200, estimate * DownlinkBandwidth.RetransmissionShare / 8 * DownlinkBandwidth.RetransmissionBurstMicros / 1e6 - 1200,
            estimate * DownlinkBandwidth.RetransmissionShare / 8 * DownlinkBandwidth.RetransmissionBurstMicros / 1e6);
    }
}
