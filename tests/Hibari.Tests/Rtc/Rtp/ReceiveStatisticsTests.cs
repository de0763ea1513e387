using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>RFC 3550 Appendix A.1 (sequence validation), A.3 (loss), A.8 (jitter) and §6.4.1 LSR/DLSR.</summary>
public sealed class ReceiveStatisticsTests
{
    private static void Feed(ReceiveStatistics stats, int from, int to, Func<int, bool>? lost = null, long startMicros = 0)
    {
        for (var i = from; i <= to; i++)
        {
            if (lost?.Invoke(i) == true) continue;
            stats.OnPacket((ushort)i, (uint)(i * 3000), startMicros + i * 33_333L);
        }
    }

    [Fact]
    public void A_source_is_valid_after_two_sequential_packets_A_1()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Assert.False(stats.OnPacket(100, 0, 0));
        Assert.True(stats.OnPacket(101, 3000, 33_000));
        Assert.Equal(1u, stats.PacketsReceived);
        Assert.Equal(101u, stats.ExtendedHighestSequenceNumber);
    }

    [Fact]
    public void Out_of_order_packet_during_probation_restarts_it()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Assert.False(stats.OnPacket(100, 0, 0));
        Assert.False(stats.OnPacket(300, 0, 0));
        Assert.True(stats.OnPacket(301, 0, 0));
        Assert.Equal(301u, stats.ExtendedHighestSequenceNumber);
    }

    [Fact]
    public void Extended_highest_sequence_counts_wrap_cycles()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Feed(stats, 65530, 65535);
        Feed(stats, 65536, 65545); // casts to 0..9
        Assert.Equal(65536u + 9, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(0, stats.CumulativeLost);
        var block = stats.CreateReportBlock(0);
        Assert.Equal(65545u, block.ExtendedHighestSequenceNumber);
        Assert.Equal(0, block.CumulativeLost);
    }

    [Fact]
    public void Reordered_packet_from_before_the_wrap_does_not_add_a_cycle()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Feed(stats, 65533, 65535);
        Assert.True(stats.OnPacket(1, 0, 0));
        Assert.True(stats.OnPacket(0, 0, 0)); // late
        Assert.Equal(65537u, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(0, stats.CumulativeLost);
    }

    [Fact]
    public void Fraction_lost_is_per_interval_and_cumulative_loss_accumulates_A_3()
    {
        var stats = new ReceiveStatistics(7, 90_000);
        // Probation takes 0 and 1 (base = 1); 10 of 2..100 are lost.
        Feed(stats, 0, 100, i => i % 10 == 5);
        var first = stats.CreateReportBlock(0);
        Assert.Equal(7u, first.Ssrc);
        Assert.Equal(10, first.CumulativeLost);
        Assert.Equal(10 * 256 / 100, first.FractionLost); // 25
        Assert.Equal(100u, first.ExtendedHighestSequenceNumber);

        Feed(stats, 101, 200);
        var second = stats.CreateReportBlock(0);
        Assert.Equal(0, second.FractionLost);
        Assert.Equal(10, second.CumulativeLost);

        Feed(stats, 201, 300, i => i > 250);
        var third = stats.CreateReportBlock(0);
        Assert.Equal(0, third.FractionLost); // losses after the highest received packet are not known yet
        Assert.Equal(250u, third.ExtendedHighestSequenceNumber);
    }

    [Fact]
    public void Fraction_lost_counts_trailing_losses_once_the_next_packet_arrives()
    {
        var stats = new ReceiveStatistics(7, 90_000);
        Feed(stats, 0, 10);
        stats.CreateReportBlock(0);
        Feed(stats, 11, 20, i => i < 20); // 11..19 lost, 20 arrives
        var block = stats.CreateReportBlock(0);
        Assert.Equal(9 * 256 / 10, block.FractionLost);
        Assert.Equal(9, block.CumulativeLost);
    }

    [Fact]
    public void Duplicates_make_cumulative_loss_negative_as_A_3_allows_and_fraction_stays_zero()
    {
        var stats = new ReceiveStatistics(7, 90_000);
        Feed(stats, 0, 10);
        stats.OnPacket(10, 30_000, 400_000);
        stats.OnPacket(10, 30_000, 400_000);
        var block = stats.CreateReportBlock(0);
        Assert.Equal(-2, block.CumulativeLost);
        Assert.Equal(0, block.FractionLost);
    }

    [Fact]
    public void Constant_transit_gives_zero_jitter()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        for (var i = 0; i < 100; i++) stats.OnPacket((ushort)i, (uint)(i * 1800), i * 20_000L);
        Assert.Equal(0u, stats.Jitter);
    }

    [Fact]
    public void Jitter_converges_to_the_mean_transit_difference_A_8()
    {
        // 20 ms frames at 90 kHz (1800 units); arrivals alternate 0 / +1 ms late: |D| = 90 units each packet.
        var stats = new ReceiveStatistics(1, 90_000);
        for (var i = 0; i < 500; i++) stats.OnPacket((ushort)i, (uint)(i * 1800), i * 20_000L + (i % 2) * 1000);
        Assert.InRange(stats.Jitter, 85u, 90u);
        Assert.Equal(stats.Jitter, stats.CreateReportBlock(0).Jitter);
    }

    [Fact]
    public void Jitter_first_step_is_one_sixteenth_of_the_difference()
    {
        var stats = new ReceiveStatistics(1, 8000);
        stats.OnPacket(1, 0, 0);
        stats.OnPacket(2, 160, 20_000);        // transit 0 (source valid here)
        stats.OnPacket(3, 320, 40_000 + 2000); // 2 ms late = 16 units at 8 kHz
        Assert.Equal(1u, stats.Jitter);        // 16 / 16
    }

    [Fact]
    public void Lsr_and_dlsr_come_from_the_last_sender_report()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Feed(stats, 0, 3);
        Assert.Equal((0u, 0u), (stats.CreateReportBlock(0).LastSenderReport, stats.CreateReportBlock(0).DelaySinceLastSenderReport));
        stats.OnSenderReport(0x0001_2345_6789_ABCDul, 1_000_000);
        var block = stats.CreateReportBlock(1_500_000);
        Assert.Equal(0x23456789u, block.LastSenderReport);
        Assert.Equal(32768u, block.DelaySinceLastSenderReport); // 0.5 s in 1/65536 s
    }

    [Fact]
    public void A_large_jump_is_bad_until_the_next_packet_confirms_it_then_stats_restart()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        Feed(stats, 0, 50);
        Assert.False(stats.OnPacket(20_000, 0, 0));
        Assert.True(stats.OnPacket(20_001, 0, 0));
        Assert.Equal(20_001u, stats.ExtendedHighestSequenceNumber);
        Assert.Equal(1u, stats.PacketsReceived);
        Assert.Equal(0, stats.CumulativeLost);
    }

    [Fact]
    public void Jitter_does_not_overflow_with_unix_epoch_microsecond_clocks()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        var epoch = 1_796_000_000_000_000L; // late 2026 in µs since 1970
        for (var i = 0; i < 100; i++) stats.OnPacket((ushort)i, (uint)(i * 1800), epoch + i * 20_000L);
        Assert.Equal(0u, stats.Jitter);
    }
}
