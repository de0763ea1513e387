using System.Globalization;
using System.Text;
using Hibari.Api;
using Hibari.Cluster;
using Hibari.Cluster.Placement;
using Hibari.Cluster.Relay;
using Hibari.Config;
using Hibari.Sfu;
using Hibari.Signaling;
using Hibari.Signaling.Messages;
using Hibari.Webhooks;
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

    /// <summary>The node's recordings (issue 16).</summary>
    internal Recording.RecordingService Recordings { get; }

    public HibariNode(HibariOptions options, ILoggerFactory loggerFactory, ClusterTimings? timings = null)
    {
        _options = options;
        _log = loggerFactory.CreateLogger("Hibari.Node");
        Cluster = new ClusterService(options, loggerFactory, TimeProvider.System, timings);
        Sessions = new SessionDirectory(Cluster);
        Webhooks = new WebhookClient(WebhookOptions.From(options), loggerFactory.CreateLogger("Hibari.Webhooks"));
        NodeApi? api = null;
        ISessionStore store = options.Cluster
            ? new ClusterSessionStore(Sessions, exclusive: !(options.ClusterRelay && options.MaxNodesLicence))
            : LocalSessionStore.Instance;
        // Admission counts against the same capacity placement uses: with takeover in a cluster (C-TAKE-1), so a node
        // that placement lets serve beyond its own licence is not refused by the licence check right after.
        Sfu = new SfuEngine(options, () => api!.Mode, loggerFactory, sessions: store,
            capacity: options.Cluster ? () => Cluster.CapacityOf(Cluster.NodeName) : null);
        // Relay (C-CONF-5): only in a cluster whose licence allows it.
        if (options.Cluster && options.ClusterRelay && options.MaxNodesLicence)
            Relay = new RelayService(Cluster, Sessions, Sfu, loggerFactory.CreateLogger("Hibari.Relay"), options);
        _nodeApi = api = new NodeApi(options, Cluster, Sessions, Counters) { Sfu = Sfu, Webhooks = Webhooks, Relay = Relay };
        // connection.updated every connection_updated_webhook_interval of a connection's life (D-52, amendment).
        _updated = new ConnectionUpdatedWebhooks(Sfu, options.ConnectionUpdatedWebhookInterval, c =>
        {
            var e = EventOf(ConnectionWebhookType.Updated, c, null);
            return () =>
            {
                Counters.ConnectionUpdated();
                Webhooks.EnqueueEvent(e);
            };
        }, _log);
        WireEvents();
        Cluster.LocalLoad = () => new Cluster.Load.LoadReport(Sfu.ConnectionCount, Sfu.ChannelConnectionCounts());
        var router = new ApiRouter();
        _router = router;
        _nodeApi.Register(router);
        var placement = options.Cluster ? new ClusterPlacement(options, Cluster, Sfu) : null;
        var scope = placement is null ? null : new ChannelScope(
            channel => OwnerApiUrl(placement, channel),
            OtherOwners,
            (peer, target, body, ct) => Cluster.CallLocalApiAsync(peer, target, body, ct), () => Cluster.LinkedPeers);
        var connections = new ConnectionApi(options, Sfu, scope, loggerFactory.CreateLogger("Hibari.Api"));
        connections.Register(router);
        var sessionApi = new SessionApi(options, Sfu, scope, loggerFactory.CreateLogger("Hibari.Api"));
        sessionApi.Register(router);
        var metadataApi = new NotifyMetadataApi(options, Sfu, scope, loggerFactory.CreateLogger("Hibari.Api"));
        metadataApi.Register(router);
        Sfu.ExtMetadataChangedByClient += (channel, connection, value, push) =>
            _ = metadataApi.BroadcastAsync(channel, connection, value, push, CancellationToken.None);
        var rtcStatsApi = new RtcStatsApi(Sfu, scope, loggerFactory.CreateLogger("Hibari.Api"));
        rtcStatsApi.Register(router);
        var filterApi = new ForwardingFilterApi(Sfu, scope, loggerFactory.CreateLogger("Hibari.Api"));
        filterApi.Register(router);
        // Recording (issue 16, D-58): the API, the session.created answer's `recording: true`, and a late node's part.
        Recordings = new Recording.RecordingService(options, Sfu, Webhooks, loggerFactory.CreateLogger("Hibari.Recording"));
        var recordingApi = new RecordingApi(options, Recordings, scope, loggerFactory.CreateLogger("Hibari.Api"));
        recordingApi.Register(router);
        Webhooks.SessionRecording += Recordings.StartFromSessionAnswer;
        if (scope is not null)
            Sfu.SessionOpened += (channelId, sessionId) => _ = Task.Run(() => recordingApi.LearnAsync(channelId, CancellationToken.None));
        // D-54: a node whose part of a session opens takes the channel's forwarding filters from the other owners.
        if (scope is not null)
            Sfu.SessionOpened += (channelId, sessionId) => _ = Task.Run(() => filterApi.LearnChannelFiltersAsync(channelId, CancellationToken.None));
        // Another node's call for this node's part of a channel, session or metadata operation.
        Cluster.LocalApi = (target, body, ct) =>
            SessionApi.Handles(target) ? Task.FromResult(sessionApi.RunLocal(target, body))
            : NotifyMetadataApi.Handles(target) ? Task.FromResult(metadataApi.RunLocal(target, body))
            : RtcStatsApi.Handles(target) ? Task.FromResult(rtcStatsApi.RunLocal(target, body))
            : ForwardingFilterApi.Handles(target) ? Task.FromResult(filterApi.RunLocal(target, body))
            : RecordingApi.Handles(target) ? recordingApi.RunLocalAsync(target, body)
            : connections.RunLocalAsync(target, body, ct);
        _api = new ApiServer(new ApiServerOptions
        {
            ListenAddress = options.ApiListenAddress,
            Port = options.ApiPort,
            CorsOrigin = options.ApiCorsOrigin,
            MaxBodyBytes = options.ApiMaxBodySize,
            MaxRequestsPerSecond = options.ApiMaxRequestsPerSecond,
            MetricsText = MetricsText,
            DashboardData = options.Dashboard ? DashboardDataAsync : null,
        }, router, loggerFactory);
        var authorizer = new ConnectAuthorizer(options, Webhooks.Auth, Sfu, loggerFactory.CreateLogger("Hibari.Auth"));
        _signaling = new SignalingServer(options, Cluster.Guard, Sfu, authorizer, loggerFactory, placement);
        _nodeApi.SignalingCloses = _signaling.Closes;
    }

    /// <summary>The API URL of the node holding the channel's session, when this node does not hold it (C-API-1).</summary>
    private static string? OwnerApiUrl(ClusterPlacement placement, string channelId) =>
        placement.ApiRoute(channelId) is ApiRoute.Redirect r ? r.ApiUrl : null;

    /// <summary>The channel's other owner nodes that this node is linked to (a channel call acts on all of them).</summary>
    private IReadOnlyList<string> OtherOwners(string channelId) =>
        Sessions.Find(channelId) is { } channel
            ? channel.Owners.Where(o => o != Cluster.NodeName && Cluster.IsConnected(o)).ToList()
            : [];

    /// <summary>The SFU's life events become counters and webhooks; webhooks are queued, never awaited here.</summary>
    private void WireEvents()
    {
        Sfu.SessionCreated += e =>
        {
            Counters.SessionCreated();
            Webhooks.EnqueueSession(new SessionWebhookEvent { Type = SessionWebhookType.Created, ChannelId = e.ChannelId, SessionId = e.SessionId, CreatedAt = e.CreatedAt });
        };
        Webhooks.SessionSpotlightNumber += (channel, session, number) =>
        {
            if (!Sfu.SetSessionSpotlightNumber(channel, session, number))
                _log.LogInformation("session.created answer for {Session}: the session is gone, spotlight_number not applied", session);
        };
        Sfu.SessionDestroyed += e =>
        {
            Counters.SessionDestroyed();
            Webhooks.EnqueueSession(new SessionWebhookEvent
            {
                Type = SessionWebhookType.Destroyed, ChannelId = e.ChannelId, SessionId = e.SessionId, CreatedAt = e.CreatedAt,
                DestroyedAt = e.DestroyedAt, TotalConnections = (int)e.TotalConnections, MaxConnections = (int)e.MaxConnections,
            });
        };
        Sfu.ConnectionCreated += c =>
        {
            Counters.Connected(c.SoraClient, DateTimeOffset.UtcNow - c.CreatedAt);
            Webhooks.EnqueueEvent(EventOf(ConnectionWebhookType.Created, c, null));
            _updated.Created(c);
        };
        Sfu.ConnectionDestroyed += (c, reason, failed) =>
        {
            if (failed)
            {
                Counters.Failed(c.SoraClient);
                return;
            }
            Counters.Ended(DateTimeOffset.UtcNow - c.CreatedAt);
            var destroyed = EventOf(ConnectionWebhookType.Destroyed, c, reason);
            _updated.Destroyed(c.ConnectionId, () => Webhooks.EnqueueEvent(destroyed));
        };
    }

    private ConnectionWebhookEvent EventOf(ConnectionWebhookType type, ConnectionInfo c, string? reason)
    {
        var counts = Sfu.CountsOf(c.ChannelId);
        return new ConnectionWebhookEvent
        {
            Type = type, ChannelId = c.ChannelId, SessionId = c.SessionId, ClientId = c.ClientId, BundleId = c.BundleId,
            ConnectionId = c.ConnectionId, CreatedAt = c.CreatedAt, Simulcast = c.Simulcast, Spotlight = c.Spotlight,
            Role = c.Role.ToWireRole(),
            Audio = c.Audio, Video = c.Video, EventMetadata = c.EventMetadata,
            Minutes = (int)(DateTimeOffset.UtcNow - c.CreatedAt).TotalMinutes,
            ChannelConnections = new Webhooks.ChannelCounts(counts.SendRecv, counts.SendOnly, counts.RecvOnly),
            Reason = reason,
        };
    }

    private readonly ApiRouter _router;
    private readonly ConnectionUpdatedWebhooks _updated;

    /// <summary>
    /// The cluster dashboard's data (D-53): this node's answers to ListClusterNodes and ListClusterChannels, its relay
    /// links from GetStatsReport, and who leads — the same values the API gives, in one JSON object.
    /// </summary>
    private async Task<byte[]> DashboardDataAsync(CancellationToken ct)
    {
        async Task<System.Text.Json.Nodes.JsonNode?> Call(string target)
        {
            if (!_router.TryGet(target, out var op)) return null;
            return await op(new ApiRequest(target, "{}"u8.ToArray()), ct).ConfigureAwait(false) is ApiResult.JsonResult j
                ? System.Text.Json.Nodes.JsonNode.Parse(j.Utf8Json) : null;
        }
        var report = await Call("Sora_20171010.GetStatsReport").ConfigureAwait(false);
        var data = new System.Text.Json.Nodes.JsonObject
        {
            ["node_name"] = _options.NodeName ?? Hibari.Cluster.Placement.PlacementConfig.StandaloneName,
            ["cluster"] = _options.Cluster,
            ["raft_state"] = report?["cluster"]?["raft_state"]?.DeepClone(),
            ["leader"] = _options.Cluster ? this.Cluster.LeaderName() : null,
            ["time"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["connections"] = Sfu.ConnectionCount,
            ["nodes"] = (_options.Cluster ? await Call("Sora_20211215.ListClusterNodes").ConfigureAwait(false) as System.Text.Json.Nodes.JsonArray : null) ?? [],
            ["channels"] = WithConnectionCounts((_options.Cluster ? await Call("Sora_20211215.ListClusterChannels").ConfigureAwait(false) as System.Text.Json.Nodes.JsonArray : null) ?? []),
            ["relay"] = report?["cluster_relay"]?.DeepClone() ?? new System.Text.Json.Nodes.JsonArray(),
        };
        return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(data);
    }

    /// <summary>
    /// Adds `connections` to each owner of each channel: this node's own count, another node's from its last load
    /// report (absent when none has come). The dashboard shows where a channel's connections are (D-53).
    /// </summary>
    private System.Text.Json.Nodes.JsonArray WithConnectionCounts(System.Text.Json.Nodes.JsonArray channels)
    {
        var local = Sfu.ChannelConnectionCounts();
        foreach (var channel in channels)
        {
            var id = (string?)channel?["channel_id"];
            if (id is null || channel?["owners"] is not System.Text.Json.Nodes.JsonArray owners) continue;
            foreach (var owner in owners)
            {
                var name = (string?)owner?["node_name"];
                int? count = name == Cluster.NodeName ? local.GetValueOrDefault(id)
                    : name is not null && Cluster.Load.Of(name) is { } report ? report.ChannelConnections.GetValueOrDefault(id) : null;
                if (owner is System.Text.Json.Nodes.JsonObject o && count is { } n) o["connections"] = n;
            }
        }
        return channels;
    }

    /// <summary>Every `x-sora-target` this node answers (the live-port API fuzz test walks them).</summary>
    internal IReadOnlyCollection<string> ApiTargets => _router.Targets;

    /// <summary>A shorter `cluster_secret` (8 is the minimum accepted) is warned about at start (issue 13 part 5).</summary>
    public const int RecommendedSecretLength = 16;

    public ClusterService Cluster { get; }
    /// <summary>Channel → session → owners in the replicated state, for the SFU.</summary>
    public SessionDirectory Sessions { get; }
    public NodeCounters Counters { get; } = new();
    public SfuEngine Sfu { get; }
    /// <summary>Signaling connections being set up now (D-44).</summary>
    public int SignalingPending => _signaling.Admission.Pending;
    /// <summary>WebSockets refused because their address had too many connections being set up (D-44).</summary>
    public long SignalingRefusedPerAddress => _signaling.Admission.RefusedPerAddress;
    /// <summary>The relay between nodes (null: cluster off, relay off, or a standard licence).</summary>
    internal RelayService? Relay { get; }
    public WebhookClient Webhooks { get; }

    public async Task StartAsync(CancellationToken ct)
    {
        if (_options.Cluster && _options.ClusterSecret is { Length: < RecommendedSecretLength } secret)
            _log.LogWarning("cluster_secret is {Length} characters: use at least {Recommended} (it authenticates the node links, Raft's TLS and the relay datagrams)",
                secret.Length, RecommendedSecretLength);
        if (!_options.MaxNodesLicence && _options.Cluster)
            _log.LogWarning("license_type = standard: relay, affinity, temporary nodes and capacity takeover are off (they need license_type = max_nodes)");
        await Cluster.StartAsync(ct).ConfigureAwait(false);
        Sfu.Start();
        _updated.Start();
        if (_options.Cluster) _releaseStale = Task.Run(() => ReleaseStaleOwnershipsAsync(_stopping.Token));
        Relay?.Start();
        await _api.StartAsync(ct).ConfigureAwait(false);
        await _signaling.StartAsync(ct).ConfigureAwait(false);
        _log.LogInformation("Hibari {Version} up: API http://{Ip}:{Api}/ signaling ws://{Ip}:{Sig}/signaling cluster={Cluster}",
            HibariVersion.Value, _options.ApiListenAddress, _options.ApiPort, _options.ListenAddress, _options.SignalingPort, _options.Cluster);
    }

    /// <summary>Prometheus type of a metric: a name ending in `_total` counts up (counter), anything else is a gauge.</summary>
    private static string MetricType(string name) => name.EndsWith("_total", StringComparison.Ordinal) ? " counter\n" : " gauge\n";

    private string MetricsText()
    {
        var sb = new StringBuilder();
        void Metric(string name, double value, string help)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(MetricType(name));
            sb.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        Metric("hibari_up", 1, "The node answers.");
        Metric("hibari_available", Cluster.Guard.Available ? 1 : 0, "1 while the node serves clients (QuorumGuard).");
        Metric("hibari_gc_heap_bytes", GC.GetGCMemoryInfo().HeapSizeBytes, "Managed heap size after the last garbage collection.");
        Metric("hibari_connections_created_total", Counters.ConnectionsCreated, "Connections created.");
        // Admission limits (D-44): what is being set up, and what was refused for it.
        Metric("hibari_signaling_pending", _signaling.Admission.Pending, "Signaling connections being set up (WebSocket open, not yet connected).");
        Metric("hibari_signaling_refused_pending_total", _signaling.Admission.RefusedTotal, "WebSockets closed with 4429: signaling_max_pending connections were being set up.");
        Metric("hibari_signaling_refused_pending_per_address_total", _signaling.Admission.RefusedPerAddress, "WebSockets closed with 4429: their address had signaling_max_pending_per_address being set up.");
        sb.Append("# HELP hibari_signaling_closes_total Signaling WebSockets this node closed, by close code.\n# TYPE hibari_signaling_closes_total counter\n");
        foreach (var (code, count) in _signaling.Closes.Snapshot())
            sb.Append("hibari_signaling_closes_total{code=\"").Append(code.ToString(CultureInfo.InvariantCulture)).Append("\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        void Histogram(string name, string help, params (string Labels, Metrics.LatencyHistogram H)[] series)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(" histogram\n");
            foreach (var (labels, h) in series) h.WriteSeries(sb, name, labels);
        }
        Histogram("hibari_signaling_connect_to_offer_seconds", "Time from a connect received to its offer sent (auth webhook, placement, session, offer).",
            ("", _signaling.ConnectToOffer));
        Histogram("hibari_webhook_duration_seconds", "Webhook round trips: request sent to answer read (or the failure), by webhook.",
            ("webhook=\"auth\"", Webhooks.AuthLatency), ("webhook=\"session\"", Webhooks.SessionLatency), ("webhook=\"event\"", Webhooks.EventLatency));
        Metric("hibari_api_refused_rate_total", _api.RateLimiter.Refused, "API requests answered 429: more than api_max_requests_per_second from their address.");
        Metric("hibari_api_refused_body_size_total", _api.TooLarge, "API requests answered 413: body over api_max_body_size.");
        Metric("hibari_connections", Sfu.ConnectionCount, "Connections on this node (being set up or connected).");
        Metric("hibari_sessions", Sfu.SessionCount, "Sessions on this node.");
        Metric("hibari_recordings_active", Recordings.Active, "Recordings running on this node (D-58).");
        Metric("hibari_recordings_started_total", Recordings.RecordingsStarted, "Recordings started on this node.");
        Metric("hibari_recording_archives_started_total", Recordings.ArchivesStarted, "Connections' archives started (archive.started).");
        Metric("hibari_recording_archives_failed_total", Recordings.ArchivesFailed, "Archives stopped by an error (archive.failed): a write failure, the disk floor, the size limit.");
        var m = Sfu.CountersSnapshot();
        Metric("hibari_srtp_received_total", m.ReceivedSrtp, "SRTP/SRTCP packets received.");
        Metric("hibari_srtp_sent_total", m.SentSrtp, "SRTP packets sent.");
        Metric("hibari_srtp_unprotect_failures_total", m.SrtpUnprotectFailures, "SRTP/SRTCP packets that failed authentication.");
        Metric("hibari_media_garbage_datagrams_total", Sfu.Workers.Garbage, "Datagrams on the media port that were not STUN, DTLS or RTP/RTCP, or STUN dropped unanswered.");
        Metric("hibari_media_unknown_source_datagrams_total", Sfu.Workers.UnknownSource, "DTLS or RTP/RTCP datagrams from addresses no connection authenticated with ICE: dropped.");
        Metric("hibari_media_over_budget_datagrams_total", Sfu.Workers.OverBudget, "Datagrams dropped unread because their source address had sent rtc_max_unauthenticated_per_address unauthenticated datagrams in the second (D-47).");
        if (Sfu.Turn is { } turn)
        {
            var t = turn.CoreCounters();
            Metric("hibari_turn_allocations", turn.AllocationCount, "TURN allocations the node holds (D-57).");
            Metric("hibari_turn_allocations_created_total", t.AllocationsCreated, "TURN allocations created.");
            Metric("hibari_turn_udp_connections_total", turn.UdpSelectedTotal, "Connections whose ICE selected a path through TURN over UDP.");
            Metric("hibari_turn_tcp_connections_total", turn.TcpSelectedTotal, "Connections whose ICE selected a path through TURN over TCP or TLS.");
            Metric("hibari_turn_tcp_streams_total", turn.TcpConnectionsTotal + turn.TlsConnectionsTotal, "TURN TCP and TLS connections accepted.");
            Metric("hibari_turn_idle_closed_total", turn.IdleClosed, "TURN TCP/TLS connections closed by the idle limits (a stalled frame, no allocation, no data).");
            Metric("hibari_turn_invalid_tcp_streams_total", turn.InvalidTcpStreams, "TURN TCP/TLS streams closed because they were not TURN framing.");
            Metric("hibari_turn_unauthenticated_total", t.Challenges, "TURN requests answered 401 (no or wrong credentials).");
            Metric("hibari_turn_stale_nonce_total", t.StaleNonces, "TURN requests answered 438 (stale nonce).");
            Metric("hibari_turn_forbidden_peer_total", t.ForbiddenPeers, "TURN permissions, channel binds or sends toward an address other than the node's media ports (403 or dropped).");
            Metric("hibari_turn_quota_refused_total", t.QuotaReached + t.InsufficientCapacity, "TURN allocations refused: per-connection quota (486) or node capacity (508).");
            Metric("hibari_turn_over_bandwidth_dropped_total", t.DroppedOverBudget, "TURN data packets dropped over the per-allocation bandwidth (turn_max_bit_rate_per_allocation).");
            Metric("hibari_turn_client_to_peer_packets_total", t.ClientToPeerPackets, "Packets from TURN clients handed to the media workers.");
            Metric("hibari_turn_peer_to_client_packets_total", t.PeerToClientPackets, "Packets from the media workers sent to TURN clients.");
            Metric("hibari_turn_tcp_queue_dropped_total", turn.TcpQueueDrops, "Packets to a TURN TCP/TLS client dropped because its send queue was full.");
            Metric("hibari_turn_handoff_dropped_total", turn.HandoffDrops, "Packets from TURN clients dropped because the media worker's ring was full.");
        }
        Metric("hibari_ice_rejected_total", Sfu.Workers.IceRejected, "STUN binding requests answered with an error (unknown username, bad integrity, role conflict).");
        void PerRid(string name, string help, long[] values)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(MetricType(name));
            for (var i = 0; i < values.Length; i++)
                sb.Append(name).Append("{rid=\"r").Append(i).Append("\"} ").Append(values[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        PerRid("hibari_simulcast_rtp_received_total", "RTP packets of simulcast layers received from publishers, per rid.", m.SimulcastPackets);
        PerRid("hibari_simulcast_rtp_received_bytes_total", "Bytes of simulcast layers received from publishers, per rid.", m.SimulcastBytes);
        PerRid("hibari_simulcast_key_frames_total", "Key frames of simulcast layers received from publishers, per rid.", m.SimulcastKeyFrames);
        Metric("hibari_simulcast_layer_switches_total", m.SimulcastLayerSwitches, "Times a receiver's forwarded simulcast layer changed.");
        Metric("hibari_rtx_sent_total", m.Retransmissions, "RTX packets sent to answer receivers' NACKs.");
        Metric("hibari_rtx_skipped_total", m.RetransmissionsSkipped, "NACKed packets not sent again: the receiver's retransmission budget (a share of its estimate) was spent (D-38).");
        Metric("hibari_spotlight_changes_total", m.SpotlightChanges, "Spotlight focus changes this node decided (D-37).");
        Metric("hibari_spotlight_remote_focus_total", m.SpotlightRemoteFocus, "Spotlight focus frames of another node's decider applied here (D-40).");
        Metric("hibari_rpc_requests_total", m.RpcRequests, "Requests received on rpc data channels (JSON-RPC 2.0, D-36).");
        var estimates = Sfu.DownlinkEstimates();
        if (estimates.Count > 0)
        {
            sb.Append("# HELP hibari_downlink_estimate_bps Estimated bandwidth toward each receiver from its transport-wide feedback (D-38).\n# TYPE hibari_downlink_estimate_bps gauge\n");
            foreach (var (id, bps) in estimates)
                sb.Append("hibari_downlink_estimate_bps{connection_id=\"").Append(id).Append("\"} ").Append(bps.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        void PerWorker(string name, string help, Func<Rtc.Transport.MediaWorker, double> value)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(MetricType(name));
            foreach (var w in Sfu.Workers.All)
                sb.Append(name).Append("{worker=\"").Append(w.Index).Append("\"} ").Append(value(w).ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        PerWorker("hibari_media_worker_datagrams_received_total", "Datagrams a media worker received.", w => w.DatagramsReceived);
        PerWorker("hibari_media_worker_datagrams_sent_total", "Datagrams a media worker sent.", w => w.DatagramsSent);
        PerWorker("hibari_media_worker_receive_syscalls_total", "System calls a media worker made to receive (recvmmsg).", w => w.ReceiveSystemCalls);
        PerWorker("hibari_media_worker_send_syscalls_total", "System calls a media worker made to send its batches (sendmmsg).", w => w.SendSystemCalls);
        PerWorker("hibari_media_worker_handed_off_total", "Packets a media worker handed to other workers.", w => w.HandedOff);
        PerWorker("hibari_media_worker_handoff_dropped_total", "Packets other workers could not hand to this one (ring full).", w => w.HandoffDropped);
        PerWorker("hibari_media_worker_peers", "Peers (connections) registered on a media worker.", w => w.PeerCount);
        if (_options.Cluster)
        {
            Metric("hibari_cluster_raft_term", Cluster.RaftTerm, "Raft term.");
            Metric("hibari_cluster_raft_commit_index", Cluster.RaftCommitIndex, "Raft commit index.");
            Metric("hibari_cluster_raft_leader", Cluster.IsLeader ? 1 : 0, "1 on the Raft leader.");
            Metric("hibari_cluster_members", Cluster.State.View.Members.Count, "Members in the replicated state.");
            Metric("hibari_cluster_state_skipped_entries_total", Cluster.SkippedEntries, "Log entries skipped as not Hibari commands.");
            if (Cluster.LinkCounters is { } c) Metric("hibari_cluster_link_auth_failures_total", c.AuthFailures, "Node-link handshakes refused.");
            Metric("hibari_cluster_raft_tls_refused_total", Cluster.RaftTlsRefused, "Inbound Raft connections refused at the TLS handshake (another cluster_secret, garbage, silence).");
            var peers = Relay?.Peers ?? [];
            void PerPeer(string name, string help, Func<RelayPeer, double> value)
            {
                if (peers.Count == 0) return;
                sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
                sb.Append("# TYPE ").Append(name).Append(MetricType(name));
                foreach (var p in peers)
                    sb.Append(name).Append("{peer=\"").Append(p.Name).Append("\"} ").Append(value(p).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            PerPeer("hibari_cluster_relay_sent_frames_total", "Relay frames sent to the peer node.", p => Interlocked.Read(ref p.FramesSent));
            PerPeer("hibari_cluster_relay_sent_bytes_total", "Relay bytes sent to the peer node.", p => Interlocked.Read(ref p.BytesSent));
            PerPeer("hibari_cluster_relay_received_frames_total", "Relay frames received from the peer node.", p => Interlocked.Read(ref p.FramesReceived));
            PerPeer("hibari_cluster_relay_received_bytes_total", "Relay bytes received from the peer node.", p => Interlocked.Read(ref p.BytesReceived));
            PerPeer("hibari_cluster_relay_rtp_sent_total", "RTP packets relayed to the peer node.", p => Interlocked.Read(ref p.RtpSent));
            PerPeer("hibari_cluster_relay_rtp_received_total", "RTP packets relayed from the peer node.", p => Interlocked.Read(ref p.RtpReceived));
            PerPeer("hibari_cluster_relay_send_failures_total", "Relay frames the link would not take (lost).", p => Interlocked.Read(ref p.SendFailures));
            PerPeer("hibari_cluster_relay_refused_total", "Relay frames from the peer refused as malformed.", p => Interlocked.Read(ref p.Refused));
            PerPeer("hibari_cluster_relay_latency_us_p50", "One-way relay latency from the peer: p50 bucket bound (us).", p => p.Latency.Percentile(50));
            PerPeer("hibari_cluster_relay_latency_us_p99", "One-way relay latency from the peer: p99 bucket bound (us).", p => p.Latency.Percentile(99));
            if (peers.Count > 0)
                Histogram("hibari_cluster_relay_hop_seconds", "One-way relay latency of frames from the peer node (their send time in each frame).",
                    peers.Select(p => ("peer=\"" + p.Name + "\"", p.Latency)).ToArray());
            PerPeer("hibari_cluster_relay_udp_rtp_sent_total", "RTP packets relayed to the peer in UDP datagrams (D-31).", p => Interlocked.Read(ref p.UdpRtpSent));
            PerPeer("hibari_cluster_relay_udp_rtp_received_total", "RTP packets relayed from the peer in UDP datagrams.", p => Interlocked.Read(ref p.UdpRtpReceived));
            PerPeer("hibari_cluster_relay_udp_refused_total", "Datagrams on the peer's route refused: bad tag.", p => Interlocked.Read(ref p.UdpRefused));
            PerPeer("hibari_cluster_relay_udp_replayed_total", "Datagrams on the peer's route refused: replayed or too old.", p => Interlocked.Read(ref p.UdpReplayed));
            if (peers.Count > 0)
            {
                const string layerName = "hibari_cluster_relay_layer_rtp_sent_total";
                sb.Append("# HELP ").Append(layerName).Append(" RTP packets of simulcast layers relayed to the peer, per rid (D-39).\n");
                sb.Append("# TYPE ").Append(layerName).Append(MetricType(layerName));
                foreach (var p in peers)
                    for (var i = 0; i < p.LayerRtpSent.Length; i++)
                        sb.Append(layerName).Append("{peer=\"").Append(p.Name).Append("\",rid=\"r").Append(i).Append("\"} ")
                            .Append(Interlocked.Read(ref p.LayerRtpSent[i]).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            PerPeer("hibari_cluster_relay_udp_active", "1 when RTP to the peer goes in UDP datagrams (route confirmed).", p => p.RtpTransport == "udp" ? 1 : 0);
            if (Relay?.Udp.Receiver is { } udp)
            {
                Metric("hibari_cluster_relay_udp_malformed_total", udp.Malformed, "Relay datagrams refused as malformed (no route known).");
                Metric("hibari_cluster_relay_udp_unknown_route_total", udp.UnknownRoute, "Relay datagrams for a route this node did not give (or took back).");
                Metric("hibari_cluster_relay_udp_ring_dropped_total", udp.Rings.Dropped, "Relayed datagrams dropped: the ring to the owning worker was full.");
            }
        }
        return sb.ToString();
    }

    private readonly CancellationTokenSource _stopping = new();
    private Task? _releaseStale;

    /// <summary>
    /// A node that starts holds no sessions, but the replicated state may still name it as an owner from before a crash
    /// or restart. Once the node is available it releases those ownerships (the last owner's release ends the session),
    /// so placement does not send clients to sessions that no longer exist here.
    /// </summary>
    private async Task ReleaseStaleOwnershipsAsync(CancellationToken ct)
    {
        try
        {
            while (!Cluster.Guard.Available || !Cluster.Member) await Task.Delay(200, ct).ConfigureAwait(false);
            var stale = Cluster.State.View.Channels.Values.Where(c => c.Owners.Contains(Cluster.NodeName)).ToList();
            foreach (var channel in stale)
            {
                if (Sfu.SessionIdOf(channel.ChannelId) is not null) continue; // served again since the start
                try
                {
                    var ended = await Sessions.LeaveAsync(channel.ChannelId, channel.SessionId, ct).ConfigureAwait(false);
                    _log.LogInformation("Released the stale ownership of session {Session} of channel {Channel}{Ended}", channel.SessionId,
                        channel.ChannelId, ended ? " (the session ended)" : "");
                }
                catch (Exception e) when (e is ClusterOperationException or TimeoutException or InvalidOperationException)
                {
                    _log.LogWarning("Could not release the stale ownership of channel {Channel}: {Error}", channel.ChannelId, e.Message);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_releaseStale is not null) await _releaseStale.ConfigureAwait(false);
        // Clients first (close 1000 SHUTDOWN), so the signaling host does not wait for open WebSockets to time out.
        Sfu.DisconnectAll("SHUTDOWN");
        // Recordings close their files and send their reports while the webhook client still delivers.
        await Recordings.DisposeAsync().ConfigureAwait(false);
        await _updated.DisposeAsync().ConfigureAwait(false);
        if (Relay is not null) await Relay.DisposeAsync().ConfigureAwait(false);
        await _signaling.DisposeAsync().ConfigureAwait(false);
        Sfu.Dispose();
        await _api.DisposeAsync().ConfigureAwait(false);
        await Webhooks.DisposeAsync().ConfigureAwait(false);
        await Cluster.DisposeAsync().ConfigureAwait(false);
    }
}
