using System.Globalization;
using System.Text;
using Hibari.Api;
using Hibari.Cluster;
using Hibari.Config;
using Hibari.Signaling;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>One Hibari node: the cluster control plane, the HTTP API and the signaling endpoint, wired together.</summary>
public sealed class HibariNode : IAsyncDisposable
{
    private readonly HibariOptions _options;
    private readonly ILogger _log;
    private readonly ApiServer _api;
    private readonly SignalingServer _signaling;
    private readonly NodeApi _nodeApi;

    public HibariNode(HibariOptions options, ILoggerFactory loggerFactory, ClusterTimings? timings = null)
    {
        _options = options;
        _log = loggerFactory.CreateLogger("Hibari.Node");
        Cluster = new ClusterService(options, loggerFactory, TimeProvider.System, timings);
        Sessions = new SessionDirectory(Cluster);
        _nodeApi = new NodeApi(options, Cluster, Sessions, Counters);
        var router = new ApiRouter();
        _nodeApi.Register(router);
        _api = new ApiServer(new ApiServerOptions
        {
            ListenAddress = options.ListenAddress,
            Port = options.ApiPort,
            CorsOrigin = options.ApiCorsOrigin,
            MetricsText = MetricsText,
        }, router, loggerFactory);
        _signaling = new SignalingServer(options.ListenAddress, options.SignalingPort, Cluster.Guard, loggerFactory);
    }

    public ClusterService Cluster { get; }
    /// <summary>Channel → session → owners in the replicated state, for the SFU.</summary>
    public SessionDirectory Sessions { get; }
    public NodeCounters Counters { get; } = new();

    public async Task StartAsync(CancellationToken ct)
    {
        if (!_options.MaxNodesLicence && _options.Cluster)
            _log.LogWarning("license_type = standard: relay, affinity, temporary nodes and capacity takeover are off (they need license_type = max_nodes)");
        await Cluster.StartAsync(ct).ConfigureAwait(false);
        await _api.StartAsync(ct).ConfigureAwait(false);
        await _signaling.StartAsync(ct).ConfigureAwait(false);
        _log.LogInformation("Hibari {Version} up: API http://{Ip}:{Api}/ signaling ws://{Ip}:{Sig}/signaling cluster={Cluster}",
            HibariVersion.Value, _options.ListenAddress, _options.ApiPort, _options.ListenAddress, _options.SignalingPort, _options.Cluster);
    }

    private string MetricsText()
    {
        var sb = new StringBuilder();
        void Gauge(string name, double value, string help)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" gauge\n");
            sb.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Gauge("hibari_up", 1, "The node answers.");
        Gauge("hibari_available", Cluster.Guard.Available ? 1 : 0, "1 while the node serves clients (QuorumGuard).");
        Gauge("hibari_connections_created_total", Counters.ConnectionsCreated, "Connections created.");
        if (_options.Cluster)
        {
            Gauge("hibari_cluster_raft_term", Cluster.RaftTerm, "Raft term.");
            Gauge("hibari_cluster_raft_commit_index", Cluster.RaftCommitIndex, "Raft commit index.");
            Gauge("hibari_cluster_raft_leader", Cluster.IsLeader ? 1 : 0, "1 on the Raft leader.");
            Gauge("hibari_cluster_members", Cluster.State.View.Members.Count, "Members in the replicated state.");
            Gauge("hibari_cluster_state_skipped_entries_total", Cluster.SkippedEntries, "Log entries skipped as not Hibari commands.");
            if (Cluster.LinkCounters is { } c) Gauge("hibari_cluster_link_auth_failures_total", c.AuthFailures, "Node-link handshakes refused.");
        }
        return sb.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _signaling.DisposeAsync().ConfigureAwait(false);
        await _api.DisposeAsync().ConfigureAwait(false);
        await Cluster.DisposeAsync().ConfigureAwait(false);
    }
}
