using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class NackGeneratorTests
{
    private static ushort[] Poll(NackGenerator g, long now)
    {
        var buffer = new ushort[256];
        return buffer[..g.Poll(now, buffer)];
    }

    [Fact]
    public void A_gap_is_nacked_at_the_next_poll()
    {
        var g = new NackGenerator();
        g.OnPacket(10, false, 0);
        g.OnPacket(14, false, 1000);
        Assert.Equal(new ushort[] { 11, 12, 13 }, Poll(g, 1000));
        Assert.Equal(3, g.MissingCount);
    }

    [Fact]
    public void Repeats_are_spaced_by_the_rtt()
    {
        var g = new NackGenerator(rttMicros: 50_000);
        g.OnPacket(1, false, 0);
        g.OnPacket(3, false, 0);
        Assert.Equal(new ushort[] { 2 }, Poll(g, 0));
        Assert.Empty(Poll(g, 49_999));
        Assert.Equal(new ushort[] { 2 }, Poll(g, 50_000));
        g.RttMicros = 200_000;
        Assert.Empty(Poll(g, 200_000));
        Assert.Equal(new ushort[] { 2 }, Poll(g, 250_000));
    }

    [Fact]
    public void Gives_up_after_max_retries()
    {
        var g = new NackGenerator(maxRetries: 3, rttMicros: 10);
        g.OnPacket(1, false, 0);
        g.OnPacket(3, false, 0);
        var sent = 0;
        for (var t = 0L; t < 1000; t += 10) sent += Poll(g, t).Length;
        Assert.Equal(3, sent);
        Assert.Equal(0, g.MissingCount);
    }

    [Fact]
    public void An_arriving_packet_is_no_longer_nacked()
    {
        var g = new NackGenerator(rttMicros: 10);
        g.OnPacket(1, false, 0);
        g.OnPacket(5, false, 0);
        Assert.Equal(new ushort[] { 2, 3, 4 }, Poll(g, 0));
        g.OnPacket(3, false, 5); // retransmission arrives
        Assert.Equal(new ushort[] { 2, 4 }, Poll(g, 10));
    }

    [Fact]
    public void A_key_frame_drops_everything_missing_before_it()
    {
        var g = new NackGenerator();
        g.OnPacket(1, false, 0);
        g.OnPacket(5, false, 0);
        g.OnPacket(9, true, 0);
        Assert.Equal(0, g.MissingCount);
        Assert.Empty(Poll(g, 0));
        g.OnPacket(12, false, 0);
        Assert.Equal(new ushort[] { 10, 11 }, Poll(g, 0));
    }

    [Fact]
    public void Works_across_the_sequence_wrap()
    {
        var g = new NackGenerator();
        g.OnPacket(65533, false, 0);
        g.OnPacket(2, false, 0);
        Assert.Equal(new ushort[] { 65534, 65535, 0, 1 }, Poll(g, 0));
        g.OnPacket(65535, false, 0); // late, before the wrap
        Assert.Equal(3, g.MissingCount);
    }

    [Fact]
    public void Reordered_packets_within_the_first_nack_delay_are_never_nacked()
    {
        var g = new NackGenerator(firstNackDelayMicros: 5_000);
        g.OnPacket(1, false, 0);
        g.OnPacket(3, false, 0);
        Assert.Empty(Poll(g, 4_999));
        g.OnPacket(2, false, 4_999);
        Assert.Empty(Poll(g, 10_000));
    }

    [Fact]
    public void Overflowing_the_list_drops_the_oldest_and_asks_for_a_key_frame()
    {
        var g = new NackGenerator(maxMissing: 4);
        g.OnPacket(0, false, 0);
        g.OnPacket(3, false, 0); // 1, 2
        Assert.False(g.KeyFrameNeeded);
        g.OnPacket(7, false, 0); // 4, 5, 6 → 1 dropped
        Assert.True(g.KeyFrameNeeded);
        Assert.Equal(new ushort[] { 2, 4, 5, 6 }, Poll(g, 0));
        g.ClearKeyFrameNeeded();
        g.OnPacket(100, false, 0); // gap of 92 > capacity: start over
        Assert.True(g.KeyFrameNeeded);
        Assert.Equal(0, g.MissingCount);
    }

    [Fact]
    public void Poll_fills_at_most_the_destination_and_keeps_the_rest_for_later()
    {
        var g = new NackGenerator();
        g.OnPacket(0, false, 0);
        g.OnPacket(10, false, 0);
        var two = new ushort[2];
        Assert.Equal(2, g.Poll(0, two));
        Assert.Equal(new ushort[] { 1, 2 }, two);
        Assert.Equal(new ushort[] { 3, 4, 5, 6, 7, 8, 9 }, Poll(g, 0));
    }

    [Fact]
    public void Polled_numbers_encode_into_a_nack_packet()
    {
        var g = new NackGenerator();
        g.OnPacket(65530, false, 0);
        g.OnPacket(30, false, 0);
        var seqs = Poll(g, 0);
        var buffer = new byte[1200];
        var n = RtcpWriter.WriteNack(buffer, 1, 2, seqs);
        Assert.Equal(12 + 4 * 3, n); // 35 numbers: 17 + 17 + 1
        Assert.True(GenericNack.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var nack));
        var decoded = new ushort[64];
        Assert.Equal(seqs, decoded[..nack.CopySequenceNumbers(decoded)]);
    }
}
