namespace Hibari.Cluster;

/// <summary>One node as the capacity rule sees it.</summary>
public readonly record struct CapacityNode(string Name, bool Temporary, int LicenseMaxConnections, bool Alive);

/// <summary>
/// Licensed capacity with takeover (C-TAKE-1..3), a pure function of membership, liveness and licence.
/// </summary>
public static class Capacity
{
    /// <summary>
    /// Capacity of <paramref name="node"/>: its own licence, plus ceil(failed regular capacity / alive nodes) when the
    /// licence is max-nodes (C-TAKE-1). Failed temporary nodes give nothing to take over (C-TAKE-3); when the failed
    /// node comes back it is alive again and the extra disappears (C-TAKE-2).
    /// </summary>
    public static int Of(string node, IReadOnlyCollection<CapacityNode> nodes, bool maxNodesLicence)
    {
        CapacityNode? self = null;
        long failed = 0;
        var alive = 0;
        foreach (var n in nodes)
        {
            if (n.Name == node) self = n;
            if (n.Alive) alive++;
            else if (!n.Temporary) failed += n.LicenseMaxConnections;
        }
        if (self is not { } me) return 0;
        if (!maxNodesLicence || failed == 0 || alive == 0 || !me.Alive) return me.LicenseMaxConnections;
        var extra = (failed + alive - 1) / alive;
        return (int)Math.Min(int.MaxValue, me.LicenseMaxConnections + extra);
    }
}
