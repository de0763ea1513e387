namespace Hibari.Cluster;

/// <summary>Why a node does not serve clients. Each has one close code and reason for signaling.</summary>
public enum Unavailability
{
    None,
    /// <summary>C-CONF-1: cluster = true but neither InitCluster nor RegisterClusterNode has made this node a member.</summary>
    NotInitialized,
    /// <summary>C-MAJ-2: this node is in a group of half or fewer of the regular nodes.</summary>
    MajorityLost,
}

/// <summary>What the guard looks at, sampled every few tens of milliseconds.</summary>
public readonly record struct QuorumInputs(
    bool ClusterEnabled,
    bool Member,
    bool Temporary,
    bool RaftQuorum,
    int RegularTotal,
    int RegularReachable,
    DateTimeOffset? LastQuorumConfirmation);

/// <summary>
/// QuorumGuard (C-MAJ-1/2/3). A node that has lost the majority of regular nodes for longer than a grace period
/// becomes unavailable: it refuses connects and new sessions and tells the SFU to drop its clients. The grace period
/// keeps a normal re-election (about 1–2 s with 1000–2000 ms election timeouts) from kicking everyone off.
/// It recovers by itself as soon as the majority is back.
/// </summary>
public sealed class QuorumGuard(TimeProvider time)
{
    /// <summary>Grace when the node's own links show that it reaches half or fewer of the regular nodes (kills, partitions).</summary>
    public TimeSpan LinkGrace { get; init; } = TimeSpan.FromMilliseconds(700);
    /// <summary>Grace when the links look fine but Raft has no leader: longer than one normal re-election.</summary>
    public TimeSpan RaftGrace { get; init; } = TimeSpan.FromMilliseconds(3500);
    /// <summary>A temporary node is in the majority while a regular node with quorum confirmed it this recently.</summary>
    public TimeSpan TemporaryConfirmationWindow { get; init; } = TimeSpan.FromMilliseconds(1000);

    private DateTimeOffset? _linkLostSince;
    private DateTimeOffset? _raftLostSince;
    private Unavailability _state = Unavailability.NotInitialized;

    public Unavailability State => _state;
    public bool Available => _state == Unavailability.None;

    /// <summary>Raised on every change of <see cref="State"/>.</summary>
    public event Action<Unavailability>? Changed;

    public Unavailability Update(QuorumInputs i)
    {
        var now = time.GetUtcNow();
        Unavailability next;
        if (!i.ClusterEnabled) next = Unavailability.None;
        else if (!i.Member) next = Unavailability.NotInitialized;
        else if (i.Temporary)
        {
            // Temporary nodes never count (C-MAJ-1): they follow the regular nodes' verdict.
            var ok = i.LastQuorumConfirmation is { } t && now - t <= TemporaryConfirmationWindow;
            next = ok ? Unavailability.None : Unavailability.MajorityLost;
        }
        else
        {
            var linkOk = i.RegularTotal > 0 && 2 * i.RegularReachable > i.RegularTotal;
            _linkLostSince = linkOk ? null : _linkLostSince ?? now;
            _raftLostSince = i.RaftQuorum ? null : _raftLostSince ?? now;
            var lost = (_linkLostSince is { } l && now - l >= LinkGrace) || (_raftLostSince is { } r && now - r >= RaftGrace);
            // A node that was unavailable (or is just starting or joining) serves only once both views are healthy.
            if (_state != Unavailability.None) lost = !(linkOk && i.RaftQuorum);
            next = lost ? Unavailability.MajorityLost : Unavailability.None;
        }
        if (next != _state)
        {
            _state = next;
            Changed?.Invoke(next);
        }
        return next;
    }
}
