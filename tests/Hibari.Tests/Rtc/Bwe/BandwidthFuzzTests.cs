using Hibari.Rtc.Bwe;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// Seeded fuzz of the estimator and probe controller: random and mutated feedback bytes, random send orders, sizes
/// and clocks never throw and keep the estimate within [min, max]. HIBARI_FUZZ_ITERATIONS=100000 runs the long one.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class BandwidthFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private const long Min = 30_000, Max = 8_000_000;

    private static void AssertSane(SendSideBandwidthEstimator e)
    {
        Assert.InRange(e.EstimateBps, Min, Max);
        Assert.InRange(e.DelayBasedBps, Min, Max);
        Assert.InRange(e.LossBasedBps, Min, Max);
        Assert.InRange(e.LossFraction, 0.0, 1.0);
        Assert.True(e.AckedBps >= 0);
    }

    private static void FeedDatagram(SendSideBandwidthEstimator e, ReadOnlySpan<byte> datagram, long now)
    {
        var reader = new RtcpReader(datagram);
        while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
            if (TransportCcFeedback.TryParse(p, out var fb)) e.OnFeedback(fb, now);
    }

    [Fact]
    public void Random_and_mutated_feedback_never_throws_and_keeps_the_estimate_in_range()
    {
        var random = new Random(12);
        var e = new SendSideBandwidthEstimator(1_000_000, Min, Max);
        var recorder = new TransportCcRecorder(1, 2);
        var buffer = new byte[1500];
        ushort seq = (ushort)random.Next(65536);
        long now = 0;
        for (var i = 0; i < Iterations; i++)
        {
            now += random.Next(0, 20_000);
            for (var k = random.Next(0, 8); k > 0; k--)
            {
                e.OnPacketSent(seq, random.Next(0, 1500), now, random.Next(4) == 0);
                if (random.Next(10) != 0) recorder.Record(seq, now + random.Next(0, 200_000));
                seq++;
            }
            var n = recorder.WriteFeedback(buffer);
            if (n == 0) continue;
            var packet = buffer[..n];
            switch (random.Next(4))
            {
                case 0: // bit flips past the common header
                    for (var f = random.Next(1, 6); f > 0; f--) packet[4 + random.Next(n - 4)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1: // random body of a random length behind a valid RTPFB FMT 15 header
                    packet = new byte[4 + 4 * random.Next(4, 40)];
                    random.NextBytes(packet);
                    packet[0] = 0x8F;
                    packet[1] = RtcpPacketType.TransportFeedback;
                    packet[2] = 0;
                    packet[3] = (byte)(packet.Length / 4 - 1);
                    break;
                case 2: // truncated
                    packet = packet[..random.Next(1, n + 1)];
                    break;
            }
            FeedDatagram(e, packet, now + random.Next(-50_000, 300_000));
            e.Probe.RequestProbe(random.Next(0, 10_000_000), now);
            e.Probe.PaddingBytesDue(now, random.Next(-1000, 3_000_000));
            AssertSane(e);
        }
    }

    [Fact]
    public void Random_send_orders_and_clocks_never_throw_and_keep_the_estimate_in_range()
    {
        var random = new Random(34);
        var e = new SendSideBandwidthEstimator(500_000, Min, Max, history: 64);
        var arrivals = new long[200];
        var buffer = new byte[4000];
        for (var i = 0; i < Iterations; i++)
        {
            var now = random.NextInt64(-1_000_000_000, 1_000_000_000);
            var baseSeq = (ushort)random.Next(65536);
            var count = random.Next(1, arrivals.Length);
            for (var k = 0; k < count; k++)
            {
                e.OnPacketSent((ushort)(baseSeq + random.Next(-40, 40)), random.Next(-10, 70_000), now + random.Next(-100_000, 100_000),
                    random.Next(3) == 0);
                arrivals[k] = random.Next(5) == 0 ? TransportCcFeedback.NotReceived : now + random.Next(-8_000_000, 8_000_000);
            }
            var n = TransportCcFeedback.Write(buffer, 1, 2, (ushort)(baseSeq + random.Next(-50, 50)), arrivals.AsSpan(0, count), 0, out _);
            FeedDatagram(e, buffer.AsSpan(0, n), now + random.Next(-1_000_000, 1_000_000));
            e.Probe.RequestProbe(random.NextInt64(-1, long.MaxValue / 4), now);
            e.Probe.PaddingBytesDue(now + random.Next(0, 100_000), random.NextInt64(-1, long.MaxValue / 4));
            AssertSane(e);
        }
    }
}
