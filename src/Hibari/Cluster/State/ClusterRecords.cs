namespace Hibari.Cluster.State;

/// <summary>Node modes (C-MODE-1), spelled as in the API.</summary>
public static class NodeModes
{
    public const string Normal = "normal";
    public const string BlockNewSession = "block_new_session";
    public const string BlockNewConnection = "block_new_connection";

    public static bool IsValid(string? mode) => mode is Normal or BlockNewSession or BlockNewConnection;
}

/// <summary>One member of the cluster as recorded in the replicated state (C-MEM-5 fields).</summary>
public sealed record MemberRecord
{
    public required string Name { get; init; }
    public bool Temporary { get; init; }
    /// <summary>Raft endpoint "ip:port" of a regular node; null for temporary nodes (not Raft members).</summary>
    public string? RaftEndPoint { get; init; }
    /// <summary>Node-link endpoint "ip:port".</summary>
    public required string LinkEndPoint { get; init; }
    public string? ExternalSignalingUrl { get; init; }
    public string? ExternalApiUrl { get; init; }
    public int LicenseMaxConnections { get; init; }
    public int LicenseMaxNodes { get; init; }
    public string LicenseSerialCode { get; init; } = "";
    public string LicenseType { get; init; } = "";
    public string Version { get; init; } = "";
    public string Mode { get; init; } = NodeModes.Normal;
    public long MemberSinceUnixMs { get; init; }
    /// <summary>Random id of the node's process; a temporary node's lease is renewed only by the process that registered.</summary>
    public string Incarnation { get; init; } = "";
}

/// <summary>A live session of a channel and the nodes that own it (C-MEM-6).</summary>
public sealed record ChannelRecord(string ChannelId, string SessionId, long CreatedUnixMs, IReadOnlyList<string> Owners);

/// <summary>Outcome of applying one command. <see cref="Value"/> carries e.g. the winning session id of a claim.</summary>
public sealed record CommandResult(bool Ok, string? Error = null, string? Value = null, bool Created = false)
{
    public static readonly CommandResult Success = new(true);
    public static CommandResult Fail(string error) => new(false, error);
}

/// <summary>An immutable copy of the replicated state, safe to read from any thread.</summary>
public sealed record ClusterView(
    IReadOnlyDictionary<string, MemberRecord> Members,
    IReadOnlySet<string> Purged,
    IReadOnlyDictionary<string, ChannelRecord> Channels,
    long Version)
{
    public static readonly ClusterView Empty = new(
        new Dictionary<string, MemberRecord>(), new HashSet<string>(), new Dictionary<string, ChannelRecord>(), 0);

    public IEnumerable<MemberRecord> RegularMembers => Members.Values.Where(m => !m.Temporary);
}
