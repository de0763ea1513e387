using Hibari.Cluster;
using Hibari.Cluster.Placement;
using Hibari.Config;
using Hibari.Sfu;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Node;

/// <summary>
/// The cluster's placement at the two points of a connect (docs/requirements.md, section 5): builds the view Placement needs from the
/// replicated state (members, modes, channel owners), the node links (liveness), the load reports (connections) and
/// this node's SFU, and turns the pure decision into a signaling redirect or close.
/// </summary>
internal sealed class ClusterPlacement(HibariOptions options, ClusterService cluster, SfuEngine sfu) : IConnectPlacement
{
    private readonly PlacementConfig _config = PlacementConfig.From(options);

    public PlacementDecision BeforeAuth(ConnectRequest connect) => Map(Placement.Decide(View(), _config,
        new PlacementRequest(connect.ChannelId, connect.Redirect), PlacementStage.BeforeAuth));

    public PlacementDecision AfterAuth(ConnectRequest connect, ConnectionInfo info) => Map(Placement.Decide(View(), _config,
        new PlacementRequest(connect.ChannelId, connect.Redirect), PlacementStage.AfterAuth, info.ClusterAffinity));

    public PlacementDecision SessionElsewhere(ConnectRequest connect, string owner) =>
        cluster.State.View.Members.GetValueOrDefault(owner)?.ExternalSignalingUrl is { } url && cluster.IsConnected(owner)
            ? PlacementDecision.Redirect(url)
            : PlacementDecision.Refused(SignalingCloses.SessionOnAnotherNode);

    /// <summary>C-API-1: where an API call naming <paramref name="channelId"/> is handled.</summary>
    public ApiRoute ApiRoute(string channelId) => Placement.ApiOwner(View(), _config.Self, channelId);

    public PlacementView View()
    {
        var state = cluster.State.View;
        var local = sfu.ChannelConnectionCounts();
        var nodes = new List<PlacementNode>(state.Members.Count);
        foreach (var m in state.Members.Values)
        {
            var self = m.Name == cluster.NodeName;
            var report = self ? null : cluster.Load.Of(m.Name);
            // A peer counts as alive while it is linked and its load is known (a report within 1.5 s).
            var alive = self ? cluster.Guard.Available : cluster.IsConnected(m.Name) && report is not null;
            nodes.Add(new PlacementNode(m.Name, m.ExternalSignalingUrl, m.ExternalApiUrl, alive, m.Temporary, m.Mode,
                cluster.CapacityOf(m.Name),
                self ? sfu.ConnectionCount : report?.Connections ?? 0,
                self ? local : report?.ChannelConnections ?? new Dictionary<string, int>()));
        }
        // This node's own sessions are known here before its replica applies the claim that made them (a follower
        // trails the leader, D-12): count this node as their owner at once, so a connect redirected here right after
        // the claim is served, not refused.
        var owners = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (channel, record) in state.Channels) owners[channel] = record.Owners;
        foreach (var channel in local.Keys)
        {
            var known = owners.GetValueOrDefault(channel) ?? [];
            if (!known.Contains(cluster.NodeName)) owners[channel] = [.. known, cluster.NodeName];
        }
        return new PlacementView(nodes, owners);
    }

    private static PlacementDecision Map(Decision d) => d switch
    {
        Decision.Redirect r => PlacementDecision.Redirect(r.SignalingUrl),
        Decision.Refuse r => PlacementDecision.Refused(CloseFor(r.Reason)),
        _ => PlacementDecision.Serve,
    };

    /// <summary>Placement's refusal reasons as signaling closes (each defined once in SignalingCloses).</summary>
    private static SignalingClose CloseFor(string reason) => reason switch
    {
        RefuseReasons.ClusterUnavailable => SignalingCloses.ClusterMajorityLost,
        RefuseReasons.NodeFull => SignalingCloses.LicenseMaxConnectionsReached,
        RefuseReasons.ModeBlockNewSession => SignalingCloses.ModeBlockNewSession,
        RefuseReasons.ModeBlockNewConnection => SignalingCloses.ModeBlockNewConnection,
        RefuseReasons.SessionOnAnotherNode => SignalingCloses.SessionOnAnotherNode,
        RefuseReasons.SessionNodeFull => SignalingCloses.SessionNodeFull,
        RefuseReasons.SessionNodeBlocked => SignalingCloses.SessionNodeBlocked,
        RefuseReasons.SessionNodeUnavailable => SignalingCloses.SessionNodeUnavailable,
        _ => SignalingCloses.NoNodeAvailable,
    };
}
