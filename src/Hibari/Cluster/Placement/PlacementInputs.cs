using Hibari.Cluster.State;
using Hibari.Config;

namespace Hibari.Cluster.Placement;

/// <summary>
/// One node as placement sees it. <see cref="Alive"/>: linked to this node and in the majority group (a node that is
/// not alive is never chosen). <see cref="Capacity"/> already includes takeover (C-TAKE, see <see cref="Hibari.Cluster.Capacity"/>).
/// <see cref="Connections"/>: current connections of the node (all channels); <see cref="ChannelConnections"/>: its
/// connections per channel id (soft state from load reports; a missing channel counts 0).
/// </summary>
public sealed record PlacementNode(
    string Name,
    string? ExternalSignalingUrl,
    string? ExternalApiUrl,
    bool Alive,
    bool Temporary,
    string Mode,
    int Capacity,
    int Connections,
    IReadOnlyDictionary<string, int> ChannelConnections)
{
    /// <summary>Free capacity: capacity minus connections (negative when takeover ended above it, C-TAKE-2).</summary>
    public int Spare => Capacity - Connections;

    /// <summary>Whether the node is at (or above) its capacity.</summary>
    public bool Full => Connections >= Capacity;

    /// <summary>This node's connections of channel <paramref name="channelId"/>.</summary>
    public int ConnectionsOf(string channelId) => ChannelConnections.GetValueOrDefault(channelId);
}

/// <summary>
/// The cluster as placement needs it: every known node (this one included) and, per channel id, the owner nodes of
/// its session from the replicated state (C-MEM-6). A channel missing from <see cref="ChannelOwners"/> and with no
/// connections on any node has no session: a connect for it starts a new session.
/// </summary>
public sealed record PlacementView(IReadOnlyList<PlacementNode> Nodes, IReadOnlyDictionary<string, IReadOnlyList<string>> ChannelOwners)
{
    /// <summary>A view with the owners taken from the replicated state's channel records.</summary>
    public static PlacementView From(IReadOnlyList<PlacementNode> nodes, ClusterView state)
    {
        var owners = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (channel, record) in state.Channels) owners[channel] = record.Owners;
        return new PlacementView(nodes, owners);
    }

    /// <summary>The node named <paramref name="name"/>, or null.</summary>
    public PlacementNode? Find(string name)
    {
        foreach (var n in Nodes) if (n.Name == name) return n;
        return null;
    }
}

/// <summary>
/// This node's configuration as placement needs it (docs/requirements.md, section 2). Build it with <see cref="From"/>.
/// </summary>
public sealed record PlacementConfig(
    string Self,
    bool Cluster,
    bool ClusterRelay,
    bool DefaultClusterAffinity,
    int ClusterAffinityThreshold,
    bool MaxNodesLicence)
{
    /// <summary>Name used for this node when the cluster is off and `node_name` is not set.</summary>
    public const string StandaloneName = "standalone";

    public static PlacementConfig From(HibariOptions o) => new(
        o.NodeName ?? StandaloneName, o.Cluster, o.ClusterRelay, o.DefaultClusterAffinity, o.ClusterAffinityThreshold, o.MaxNodesLicence);

    /// <summary>C-CONF-5: relay only with the cluster on, `cluster_relay = true` and a max-nodes licence.</summary>
    public bool EffectiveRelay => Cluster && ClusterRelay && MaxNodesLicence;

    /// <summary>
    /// C-CONF-6 and C-AFF-6: the auth webhook's `cluster_affinity` (when present) overrides `default_cluster_affinity`
    /// for this connection; either way affinity is effective only while relay is.
    /// </summary>
    public bool EffectiveAffinity(bool? authClusterAffinity) => EffectiveRelay && (authClusterAffinity ?? DefaultClusterAffinity);
}

/// <summary>The connect being placed: its channel and whether it carried `"redirect": true`.</summary>
public readonly record struct PlacementRequest(string ChannelId, bool Redirected = false);

/// <summary>The two placement points of a connect (docs/protocol-notes.md, "The two placement points").</summary>
public enum PlacementStage
{
    /// <summary>On receipt of `connect`, before the auth webhook. <see cref="Decision.Serve"/> here means "go on to auth".</summary>
    BeforeAuth,
    /// <summary>After a successful auth webhook, with its `cluster_affinity`. <see cref="Decision.Serve"/> means serve here.</summary>
    AfterAuth,
}
