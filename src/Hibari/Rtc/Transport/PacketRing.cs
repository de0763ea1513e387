using System.Runtime.InteropServices;

namespace Hibari.Rtc.Transport;

/// <summary>
/// A bounded single-producer / single-consumer ring of packets between two media workers (docs/threads.md): the
/// worker that decrypted a published packet copies it here once for each other worker that has subscribers of the
/// track, and that worker rewrites and encrypts it for its own subscribers. No locks: the producer alone writes the
/// tail, the consumer alone writes the head; each slot is published by the release-store of the tail and freed by the
/// release-store of the head. A full ring drops the packet and counts it (the receiver's NACKs repair video).
/// The slot buffer is allocated by the producer at its first packet (a pair of workers that never hand anything over
/// costs a few hundred bytes); nothing allocates after that.
/// </summary>
public sealed class PacketRing
{
    public const int SlotSize = 1600;
    /// <summary>1,024 slots: 1.6 MB once used.</summary>
    public const int DefaultCapacity = 1024;

    private byte[]? _data;
    private readonly int[] _lengths;
    private readonly object?[] _targets;
    private readonly long[] _stamps;
    private readonly int _mask;
    private Indexes _indexes;
    private long _dropped;

    /// <param name="capacity">Slots, a power of two.</param>
    public PacketRing(int capacity = DefaultCapacity)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "a power of two ≥ 2");
        _mask = capacity - 1;
        _lengths = new int[capacity];
        _targets = new object?[capacity];
        _stamps = new long[capacity];
    }

    public int Capacity => _mask + 1;
    /// <summary>Packets refused because the ring was full (read from any thread).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>Packets waiting (approximate from other threads).</summary>
    public int Count => (int)(Volatile.Read(ref _indexes.Tail) - Volatile.Read(ref _indexes.Head));
    public bool IsEmpty => Volatile.Read(ref _indexes.Tail) == Volatile.Read(ref _indexes.Head);

    /// <summary>Producer only: copies <paramref name="packet"/> with what it is for. False (counted) when full or too long.</summary>
    public bool TryEnqueue(object target, ReadOnlySpan<byte> packet, long stamp)
    {
        var tail = _indexes.Tail;
        if (packet.Length > SlotSize || tail - Volatile.Read(ref _indexes.Head) > _mask)
        {
            Interlocked.Increment(ref _dropped);
            return false;
        }
        var slot = (int)(tail & _mask);
        // Published to the consumer by the release-store of the tail below.
        var data = _data ??= GC.AllocateUninitializedArray<byte>((_mask + 1) * SlotSize, pinned: true);
        packet.CopyTo(data.AsSpan(slot * SlotSize, SlotSize));
        _lengths[slot] = packet.Length;
        _targets[slot] = target;
        _stamps[slot] = stamp;
        Volatile.Write(ref _indexes.Tail, tail + 1);
        return true;
    }

    /// <summary>
    /// Consumer only: hands at most <paramref name="max"/> packets in order to <paramref name="sink"/>; the span is the
    /// ring's own slot, valid during the call (the sink may rewrite it in place). Returns how many were handed over.
    /// </summary>
    public int Drain<TSink>(ref TSink sink, int max) where TSink : struct, IPacketSink
    {
        var head = _indexes.Head;
        var available = Volatile.Read(ref _indexes.Tail) - head;
        var n = (int)Math.Min(available, max);
        var data = _data;
        for (var i = 0; i < n; i++)
        {
            var slot = (int)((head + i) & _mask);
            var target = _targets[slot]!;
            _targets[slot] = null;
            sink.OnPacket(target, data!.AsSpan(slot * SlotSize, _lengths[slot]), _stamps[slot]);
        }
        if (n > 0) Volatile.Write(ref _indexes.Head, head + n);
        return n;
    }

    // Head and tail on their own cache lines: the two threads write one each.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Indexes
    {
        [FieldOffset(64)] public long Head;
        [FieldOffset(128)] public long Tail;
    }
}

/// <summary>What a <see cref="PacketRing"/> drains into (a struct, so the call is direct).</summary>
public interface IPacketSink
{
    void OnPacket(object target, Span<byte> packet, long stamp);
}
