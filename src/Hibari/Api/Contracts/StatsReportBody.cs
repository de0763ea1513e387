namespace Hibari.Api.Contracts;

/// <summary>
/// `GetStatsReport` answer: the node-wide counters of sora-protocol §7.3 / Appendix B.7 that a node
/// can fill, named as sora_exporter reads them. `cluster` is omitted on a node without clustering.
/// </summary>
public sealed record StatsReportBody
{
    public required string Version { get; init; }
    public long TotalConnectionCreated { get; init; }
    public long TotalConnectionUpdated { get; init; }
    public long TotalConnectionDestroyed { get; init; }
    public long TotalSuccessfulConnections { get; init; }
    public long TotalFailedConnections { get; init; }
    public long TotalOngoingConnections { get; init; }
    public long TotalSessionCreated { get; init; }
    public long TotalSessionDestroyed { get; init; }
    public ClusterStatsBody? Cluster { get; init; }
    public ClusterRelayStatsBody[] ClusterRelay { get; init; } = [];
}

/// <summary>`cluster` of GetStatsReport: this node's Raft view (`follower`, `candidate`, `leader`).</summary>
public sealed record ClusterStatsBody
{
    public required string RaftState { get; init; }
    public long RaftTerm { get; init; }
    public long RaftCommitIndex { get; init; }
}

/// <summary>One element of `cluster_relay`: relay traffic with one peer node (plumtree counters not kept).</summary>
public sealed record ClusterRelayStatsBody
{
    public required string NodeName { get; init; }
    public long TotalReceivedByteSize { get; init; }
    public long TotalSentByteSize { get; init; }
    public long TotalReceived { get; init; }
    public long TotalSent { get; init; }
}
