namespace Hibari.Sfu;

/// <summary>
/// Which layers of a relayed simulcast track this node's receivers need (D-39): per layer, how many subscriptions want
/// it (the layer they ask for, capped by their bandwidth, and the one they get now, kept until a switch is done). Each
/// subscription changes its own contribution atomically from its worker; the relay reads the mask and tells the
/// publisher's node (LayerDemand), which then sends only those layers.
/// </summary>
internal sealed class LayerDemand(int layers)
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
            if ((before & bit) != 0 && (after & bit) == 0) Interlocked.Decrement(ref _counts[i]);
            else if ((before & bit) == 0 && (after & bit) != 0) Interlocked.Increment(ref _counts[i]);
        }
    }
}
