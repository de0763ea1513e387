namespace Hibari.Api.Contracts;

/// <summary>`InitCluster` request: the regular nodes of a new cluster (Hibari's own shape, docs/protocol-notes.md, "Cluster operations").</summary>
public sealed record InitClusterRequest
{
    public required string[] NodeNameList { get; init; }
}

/// <summary>An answer that lists node names, e.g. the members after `InitCluster`.</summary>
public sealed record NodeNameListBody
{
    public required string[] NodeNameList { get; init; }
}

/// <summary>`RegisterClusterNode` request: the member this node asks to be admitted by.</summary>
public sealed record RegisterClusterNodeRequest
{
    public required string ContactNodeName { get; init; }
}

/// <summary>`PurgeClusterNode` request: the failed regular node to remove.</summary>
public sealed record PurgeClusterNodeRequest
{
    public required string TargetNodeName { get; init; }
}

/// <summary>
/// One element of the `ListClusterNodes` array (docs/protocol-notes.md, "Cluster operations"; C-MEM-5, docs/requirements.md). Null members are
/// omitted, so a known but unreachable node is written as `{"node_name": ..., "connected": false}`.
/// </summary>
public sealed record ClusterNodeBody
{
    public required string NodeName { get; init; }
    /// <summary>Whether the answering node has a live link to this node.</summary>
    public required bool Connected { get; init; }
    public string? Mode { get; init; }
    public string? ExternalSignalingUrl { get; init; }
    public string? ExternalApiUrl { get; init; }
    public int? LicenseMaxConnections { get; init; }
    public int? LicenseMaxNodes { get; init; }
    public string? LicenseSerialCode { get; init; }
    public string? LicenseType { get; init; }
    public string? Version { get; init; }
    public bool? TemporaryNode { get; init; }
    /// <summary>Hibari: the node's connections as its latest load report said (this node: its own count); absent if unknown.</summary>
    public int? Connections { get; init; }
    /// <summary>Hibari: the node's capacity now, with takeover of failed regular nodes' capacity (C-TAKE).</summary>
    public int? Capacity { get; init; }
    /// <summary>Hibari: age of the node's latest load report in milliseconds (absent for this node).</summary>
    public long? LoadReportAgeMs { get; init; }
}

/// <summary>One element of the `ListClusterChannels` array: a channel and the nodes serving it.</summary>
public sealed record ClusterChannelBody
{
    public required string ChannelId { get; init; }
    public required ChannelOwnerBody[] Owners { get; init; }
}

/// <summary>A node serving a channel, as seen from the answering node.</summary>
public sealed record ChannelOwnerBody
{
    public required string NodeName { get; init; }
    public required bool Connected { get; init; }
}

/// <summary>Body of the debug operation that claims a channel's session directly (debug_api = true only).</summary>
public sealed record DebugClaimSessionRequest
{
    public required string ChannelId { get; init; }
}

/// <summary>The winner of a claim: the channel's session and whether this call created it.</summary>
public sealed record DebugClaimSessionBody
{
    public required string ChannelId { get; init; }
    public required string SessionId { get; init; }
    public required bool Created { get; init; }
}
