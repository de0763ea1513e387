namespace Hibari.Sfu;

/// <summary>
/// Which layers of a relayed simulcast track this node's receivers need (D-39): per layer, how many subscriptions want
/// it (the layer they ask for, capped by their bandwidth, and the one they get now, kept until a switch is done). Each
/// subscription changes its own contribution atomically from its worker; the relay reads the mask and tells the
/// publisher's node (LayerDemand), which then sends only those layers.
/// </summary>
internal sealed class LayerDemand(int layers, Action? changed = null)
{
    private readonly int[] _counts = new int[Math.Clamp(layers, 1, 8)];

    /// <summary>Bit i set = some subscription here needs layer i.</summary>
    public byte Mask
    {
        get
        {
            var m = 0;
            for (var i = 0; i < _counts.Length; i++)
                if (Volatile.Read(ref _counts[i]) > 0) m |= 1 << i;
            return (byte)m;
        }
    }

    /// <summary>A subscription's wanted layers went from <paramref name="before"/> to <paramref name="after"/> (bit masks).</summary>
    public void Change(int before, int after)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            var bit = 1 << i;
            // The mask changes when a count goes 1 → 0 or 0 → 1: the relay is told at once (it must not wait for its tick).
            if ((before & bit) != 0 && (after & bit) == 0) { if (Interlocked.Decrement(ref _counts[i]) == 0) changed?.Invoke(); }
            else if ((before & bit) == 0 && (after & bit) != 0) { if (Interlocked.Increment(ref _counts[i]) == 1) changed?.Invoke(); }
        }
    }
}
