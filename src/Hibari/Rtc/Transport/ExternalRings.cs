namespace Hibari.Rtc.Transport;

/// <summary>
/// Rings from one producer outside the media workers (a relay link's reader) into each worker, created when the
/// producer first hands that worker something (docs/threads.md). Producers of the same source (a link being replaced
/// by a new one reads while the old one finishes) serialise among themselves with a small lock; the worker, the
/// consumer, never takes it.
/// </summary>
public sealed class ExternalRings
{
    private readonly PacketRing?[] _rings = new PacketRing?[MediaWorker.MaxWorkers];
    private readonly Lock _producers = new();

    /// <summary>Copies <paramref name="packet"/> into the ring to <paramref name="worker"/> and wakes it; false (counted in the ring) when full.</summary>
    public bool Hand(MediaWorker worker, IHandoffTarget target, ReadOnlySpan<byte> packet, long stamp)
    {
        bool queued;
        lock (_producers)
        {
            var ring = _rings[worker.Index] ??= worker.AddExternalRing();
            queued = ring.TryEnqueue(target, packet, stamp);
        }
        worker.Wake();
        return queued;
    }

    /// <summary>Packets refused because a ring was full.</summary>
    public long Dropped => _rings.Sum(r => r?.Dropped ?? 0);
}
