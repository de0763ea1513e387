using Hibari.Rtc.Transport;

namespace Hibari.Tests.Rtc.Transport;

/// <summary>The hand-off ring between media workers: order, no loss, counted drops when full, and two real threads.</summary>
public sealed class PacketRingTests
{
    private sealed class Tag(int id)
    {
        public int Id { get; } = id;
    }

    private struct Collect(List<(int Tag, byte[] Packet, long Stamp)> into) : IPacketSink
    {
        public readonly void OnPacket(object target, Span<byte> packet, long stamp) => into.Add((((Tag)target).Id, packet.ToArray(), stamp));
    }

    [Fact]
    public void Packets_come_out_in_order_with_their_target_bytes_and_stamp()
    {
        var ring = new PacketRing(8);
        var a = new Tag(1);
        var b = new Tag(2);
        Assert.True(ring.TryEnqueue(a, [1, 2, 3], 10));
        Assert.True(ring.TryEnqueue(b, [4], 11));
        Assert.True(ring.TryEnqueue(a, new byte[PacketRing.SlotSize], 12));
        Assert.Equal(3, ring.Count);
        var got = new List<(int, byte[], long)>();
        var sink = new Collect(got);
        Assert.Equal(3, ring.Drain(ref sink, 100));
        Assert.True(ring.IsEmpty);
        Assert.Equal(1, got[0].Item1);
        Assert.Equal([1, 2, 3], got[0].Item2);
        Assert.Equal(10, got[0].Item3);
        Assert.Equal(2, got[1].Item1);
        Assert.Equal([4], got[1].Item2);
        Assert.Equal(PacketRing.SlotSize, got[2].Item2.Length);
        Assert.Equal(12, got[2].Item3);
    }

    [Fact]
    public void A_full_ring_refuses_and_counts_and_takes_again_once_drained()
    {
        var ring = new PacketRing(4);
        var t = new Tag(0);
        for (var i = 0; i < 4; i++) Assert.True(ring.TryEnqueue(t, [(byte)i], i));
        Assert.False(ring.TryEnqueue(t, [9], 9));
        Assert.False(ring.TryEnqueue(t, [9], 9));
        Assert.Equal(2, ring.Dropped);
        var got = new List<(int, byte[], long)>();
        var sink = new Collect(got);
        Assert.Equal(1, ring.Drain(ref sink, 1));
        Assert.True(ring.TryEnqueue(t, [4], 4));
        Assert.Equal(4, ring.Drain(ref sink, 100));
        Assert.Equal([0, 1, 2, 3, 4], got.Select(g => (int)g.Item2[0]));
        Assert.Equal(2, ring.Dropped);
    }

    [Fact]
    public void Oversized_packets_are_refused_and_counted()
    {
        var ring = new PacketRing(4);
        Assert.False(ring.TryEnqueue(new Tag(0), new byte[PacketRing.SlotSize + 1], 0));
        Assert.Equal(1, ring.Dropped);
        Assert.True(ring.IsEmpty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Capacity_must_be_a_power_of_two_of_at_least_two(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new PacketRing(capacity));

    private sealed class Checker
    {
        public long Next;
        public long Errors;
    }

    private struct Verify(Checker c) : IPacketSink
    {
        public readonly void OnPacket(object target, Span<byte> packet, long stamp)
        {
            // The producer retries when full, so every number arrives exactly once and in order, with its own bytes.
            if (stamp != c.Next || packet.Length != 1 + (int)(stamp % 1200) || packet[0] != (byte)stamp || packet[^1] != (byte)stamp) c.Errors++;
            c.Next++;
        }
    }

    [Fact]
    public void One_producer_thread_and_one_consumer_thread_lose_nothing_and_keep_order()
    {
        const int total = 300_000;
        var ring = new PacketRing(256);
        var checker = new Checker();
        var target = new Tag(7);
        var full = 0L;
        var producer = new Thread(() =>
        {
            var buffer = new byte[1201];
            for (long i = 0; i < total; i++)
            {
                var n = 1 + (int)(i % 1200);
                buffer.AsSpan(0, n).Fill((byte)i);
                while (!ring.TryEnqueue(target, buffer.AsSpan(0, n), i))
                {
                    full++;
                    Thread.SpinWait(20);
                }
            }
        });
        producer.Start();
        var sink = new Verify(checker);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (checker.Next < total && DateTime.UtcNow < deadline)
        {
            if (ring.Drain(ref sink, 64) == 0) Thread.Yield();
        }
        producer.Join();
        Assert.Equal(total, checker.Next);
        Assert.Equal(0, checker.Errors);
        // Every refusal while full was counted as a drop (the producer then retried).
        Assert.Equal(full, ring.Dropped);
    }

    [Fact]
    public void Enqueue_and_drain_allocate_nothing()
    {
        var ring = new PacketRing(64);
        var target = new Tag(1);
        var packet = new byte[1100];
        var sink = new CountOnly();
        for (var i = 0; i < 100; i++)
        {
            ring.TryEnqueue(target, packet, i);
            ring.Drain(ref sink, 8);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            ring.TryEnqueue(target, packet, i);
            ring.Drain(ref sink, 8);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private struct CountOnly : IPacketSink
    {
        public readonly void OnPacket(object target, Span<byte> packet, long stamp) { }
    }
}
