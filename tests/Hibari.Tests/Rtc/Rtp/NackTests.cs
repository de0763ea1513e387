using System.Buffers.Binary;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>Generic NACK PID/BLP encoding (RFC 4585 §6.2.1) and its parser.</summary>
public sealed class NackTests
{
    private static (ushort Pid, ushort Blp)[] Items(ReadOnlySpan<byte> packet)
    {
        var items = new (ushort, ushort)[(packet.Length - 12) / 4];
        for (var i = 0; i < items.Length; i++)
            items[i] = (BinaryPrimitives.ReadUInt16BigEndian(packet[(12 + 4 * i)..]), BinaryPrimitives.ReadUInt16BigEndian(packet[(14 + 4 * i)..]));
        return items;
    }

    private static ushort[] RoundTrip(ushort[] seqs, out (ushort, ushort)[] items)
    {
        var buffer = new byte[1500];
        var n = RtcpWriter.WriteNack(buffer, 0x1234, 0x5678, seqs);
        Assert.True(n > 0);
        items = Items(buffer.AsSpan(0, n));
        Assert.True(GenericNack.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var nack));
        Assert.Equal((0x1234u, 0x5678u), (nack.SenderSsrc, nack.MediaSsrc));
        var decoded = new ushort[64];
        var count = nack.CopySequenceNumbers(decoded);
        return decoded[..count];
    }

    [Fact]
    public void Single_loss_is_one_item_with_empty_blp()
    {
        var seqs = RoundTrip([100], out var items);
        Assert.Equal(new[] { ((ushort)100, (ushort)0) }, items);
        Assert.Equal(new ushort[] { 100 }, seqs);
    }

    [Fact]
    public void Seventeen_consecutive_losses_fit_one_item()
    {
        var input = Enumerable.Range(1000, 17).Select(i => (ushort)i).ToArray();
        var seqs = RoundTrip(input, out var items);
        Assert.Equal(new[] { ((ushort)1000, (ushort)0xFFFF) }, items);
        Assert.Equal(input, seqs);
    }

    [Fact]
    public void Eighteenth_loss_starts_a_second_item()
    {
        var input = Enumerable.Range(1000, 18).Select(i => (ushort)i).ToArray();
        var seqs = RoundTrip(input, out var items);
        Assert.Equal(new[] { ((ushort)1000, (ushort)0xFFFF), ((ushort)1017, (ushort)0) }, items);
        Assert.Equal(input, seqs);
    }

    [Fact]
    public void Losses_across_the_65535_wrap_share_an_item()
    {
        ushort[] input = [65534, 65535, 0, 1, 15];
        var seqs = RoundTrip(input, out var items);
        // 65535 → bit 0, 0 → bit 1, 1 → bit 2; 15 is 17 after the PID: a second item.
        Assert.Equal(new[] { ((ushort)65534, (ushort)0b111), ((ushort)15, (ushort)0) }, items);
        Assert.Equal(input, seqs);
    }

    [Fact]
    public void Scattered_losses_more_than_16_apart_get_one_item_each()
    {
        ushort[] input = [1, 18, 35, 60000];
        var seqs = RoundTrip(input, out var items);
        Assert.Equal(4, items.Length);
        Assert.Equal(input, seqs);
    }

    [Fact]
    public void Distance_16_is_the_last_blp_bit()
    {
        var seqs = RoundTrip([7, 23], out var items);
        Assert.Equal(new[] { ((ushort)7, (ushort)0x8000) }, items);
        Assert.Equal(new ushort[] { 7, 23 }, seqs);
    }

    [Fact]
    public void Duplicates_are_folded()
    {
        var seqs = RoundTrip([5, 5, 6, 6], out var items);
        Assert.Single(items);
        Assert.Equal(new ushort[] { 5, 6 }, seqs);
    }

    [Fact]
    public void Enumerator_yields_pid_then_set_bits_in_order_for_hand_built_fci()
    {
        // PID 0xFFF0, BLP bits 0 and 15 → 0xFFF0, 0xFFF1, 0x0000 (wraps).
        byte[] p = [0x81, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0xFF, 0xF0, 0x80, 0x01];
        Assert.True(GenericNack.TryParse(RtcpTests.Single(p), out var nack));
        var list = new List<ushort>();
        foreach (var s in nack) list.Add(s);
        Assert.Equal(new ushort[] { 0xFFF0, 0xFFF1, 0x0000 }, list);
        Assert.Equal(1, nack.ItemCount);
    }

    [Fact]
    public void Copy_stops_when_the_destination_is_full()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteNack(buffer, 1, 2, [1, 2, 3, 4]);
        Assert.True(GenericNack.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var nack));
        var two = new ushort[2];
        Assert.Equal(2, nack.CopySequenceNumbers(two));
        Assert.Equal(new ushort[] { 1, 2 }, two);
    }

    [Fact]
    public void Nack_without_items_is_rejected()
    {
        byte[] p = [0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        Assert.False(GenericNack.TryParse(RtcpTests.Single(p), out _));
    }
}
