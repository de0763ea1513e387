using System.Net;

namespace Hibari.Config;

/// <summary>Licence kinds. Relay, affinity, temporary nodes and takeover need <see cref="MaxNodes"/> (docs/requirements.md, section 2).</summary>
public enum LicenseType { MaxNodes, Standard }

/// <summary>
/// Validated configuration of one node. Key names are Sora's sora.conf names where Sora has the key;
/// each property documents its key. Built only by <see cref="ConfigLoader"/>, which validates every value.
/// </summary>
public sealed record HibariOptions
{
    // --- cluster (docs/requirements.md, section 2) ---
    /// <summary>`cluster` (false). C-CONF-1.</summary>
    public bool Cluster { get; init; }
    /// <summary>`node_name`: `[0-9A-Za-z_-]+@HOST`, required with cluster. C-CONF-2.</summary>
    public string? NodeName { get; init; }
    /// <summary>`external_signaling_url`, required with cluster. C-CONF-3.</summary>
    public string? ExternalSignalingUrl { get; init; }
    /// <summary>`external_api_url`, required with cluster. C-CONF-4.</summary>
    public string? ExternalApiUrl { get; init; }
    /// <summary>`cluster_relay` (true). C-CONF-5.</summary>
    public bool ClusterRelay { get; init; } = true;
    /// <summary>
    /// `cluster_relay_simulcast` (true): offer the relay capability SimulcastLayers (docs/decisions.md D-39): simulcast
    /// layers relayed one by one, each only while another node needs it. False makes this node behave as one built
    /// before it (a simulcast track relayed as its first layer), for a mixed-version cluster or a test of one.
    /// </summary>
    public bool ClusterRelaySimulcast { get; init; } = true;
    /// <summary>
    /// `cluster_relay_udp` (false): relayed RTP goes between the nodes' media workers in authenticated UDP datagrams when
    /// both nodes turn it on (false: it stays on the TCP node link in the cluster port range, C-RELAY-5). docs/decisions.md D-31.
    /// </summary>
    public bool ClusterRelayUdp { get; init; }
    /// <summary>`default_cluster_affinity` (true). C-CONF-6.</summary>
    public bool DefaultClusterAffinity { get; init; } = true;
    /// <summary>`cluster_affinity_threshold` (20). C-CONF-7.</summary>
    public int ClusterAffinityThreshold { get; init; } = 20;
    /// <summary>`cluster_listen_min_port` (49010). C-CONF-8.</summary>
    public int ClusterListenMinPort { get; init; } = 49010;
    /// <summary>`cluster_listen_max_port` (49020). C-CONF-8.</summary>
    public int ClusterListenMaxPort { get; init; } = 49020;
    /// <summary>`cluster_temporary_node` (false). C-CONF-9.</summary>
    public bool ClusterTemporaryNode { get; init; }
    /// <summary>`cluster_secret`: shared secret authenticating node links; required with cluster.</summary>
    public string? ClusterSecret { get; init; }

    // --- node ---
    /// <summary>`listen_address` (127.0.0.1): every listener of the node binds this IP.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;
    /// <summary>`api_port` (3000).</summary>
    public int ApiPort { get; init; } = 3000;
    /// <summary>`signaling_port` (5000).</summary>
    public int SignalingPort { get; init; } = 5000;
    /// <summary>`rtc_udp_port` (50000): media worker k takes UDP port rtc_udp_port + k (docs/decisions.md D-29).</summary>
    public int RtcUdpPort { get; init; } = 50000;
    /// <summary>`media_workers` (the number of cores, at most 64): media threads, each with its own UDP port and connections.</summary>
    public int MediaWorkers { get; init; } = Math.Clamp(Environment.ProcessorCount, 1, 64);
    /// <summary>`data_dir` (data): Raft log, membership, certificates.</summary>
    public string DataDir { get; init; } = "data";

    // --- recording (issue 16, docs/decisions.md D-58) ---
    /// <summary>`archive_dir` (Sora's key and default `archive`): recordings go to `archive_dir/&lt;recording_id&gt;/`.</summary>
    public string ArchiveDir { get; init; } = "archive";
    /// <summary>`recording_dual_output` (Sora's key, off): a `split_duration` without `split_only` writes the whole file and the splits.</summary>
    public bool RecordingDualOutput { get; init; }
    /// <summary>`recording_max_expire_time` (Sora's key, 86400 s): the largest `expire_time` accepted.</summary>
    public int RecordingMaxExpireTime { get; init; } = 86_400;
    /// <summary>`recording_max_split_duration` (Sora's key, 86400 s): the largest `split_duration` accepted.</summary>
    public int RecordingMaxSplitDuration { get; init; } = 86_400;
    /// <summary>
    /// `recording_min_free_disk_space_mb` (Hibari's, 1024 MiB): below this much free space under `archive_dir` every
    /// running recording stops with `archive.failed`, before the disk fills (0: no floor).
    /// </summary>
    public int RecordingMinFreeDiskSpaceMb { get; init; } = 1024;
    /// <summary>`recording_max_file_size_mb` (Hibari's, 0 = none): an archive whose open files pass it stops with `archive.failed`.</summary>
    public int RecordingMaxFileSizeMb { get; init; }
    /// <summary>`api_cors_origin` (none): when set, API responses carry CORS headers for this origin.</summary>
    public string? ApiCorsOrigin { get; init; }
    /// <summary>
    /// `api_loopback_address_only` (false, Sora's key): the HTTP API listens on a loopback address only — on
    /// `listen_address` when that is a loopback address, else on 127.0.0.1 (::1 for an IPv6 `listen_address`).
    /// </summary>
    public bool ApiLoopbackAddressOnly { get; init; }

    /// <summary>Where the HTTP API listens (see <see cref="ApiLoopbackAddressOnly"/>).</summary>
    public System.Net.IPAddress ApiListenAddress =>
        !ApiLoopbackAddressOnly || System.Net.IPAddress.IsLoopback(ListenAddress) ? ListenAddress
        : ListenAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? System.Net.IPAddress.IPv6Loopback
        : System.Net.IPAddress.Loopback;
    /// <summary>`debug_api` (false): enables the Hibari-only test operations of the API (e.g. a direct channel claim).</summary>
    public bool DebugApi { get; init; }
    /// <summary>`log_level` (info): trace, debug, info, warning, error.</summary>
    public string LogLevel { get; init; } = "info";

    // --- SFU (issue 3) ---
    /// <summary>`rtc_public_address` (none = listen_address): the IP written into ICE candidates of offers.</summary>
    public IPAddress? RtcPublicAddress { get; init; }
    /// <summary>`auth_webhook_url` (none): the auth webhook; without it every valid connect is allowed.</summary>
    public string? AuthWebhookUrl { get; init; }
    /// <summary>`session_webhook_url` (none): session.created / session.destroyed.</summary>
    public string? SessionWebhookUrl { get; init; }
    /// <summary>`event_webhook_url` (none): connection.created / updated / destroyed.</summary>
    public string? EventWebhookUrl { get; init; }
    /// <summary>
    /// `connection_updated_webhook_interval` (Sora's key and default, `1 min`; a Sora duration, unit required): how often
    /// each live connection's `connection.updated` event webhook is sent (D-52, amendment).
    /// </summary>
    public TimeSpan ConnectionUpdatedWebhookInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>`auth_webhook_timeout_ms` (5000): an auth webhook slower than this refuses the connect (fail closed).</summary>
    public int AuthWebhookTimeoutMs { get; init; } = 5000;
    /// <summary>`webhook_timeout_ms` (5000): timeout of session and event webhooks.</summary>
    public int WebhookTimeoutMs { get; init; } = 5000;
    /// <summary>`log_dir` (log): where the webhook JSON-lines logs go.</summary>
    public string LogDir { get; init; } = "log";
    /// <summary>`session_destroy_delay_ms` (5000): how long a session outlives its last connection.</summary>
    public int SessionDestroyDelayMs { get; init; } = 5000;
    /// <summary>`signaling_max_pending` (1024; 0: no limit): signaling connections being set up at once (D-44).</summary>
    public int SignalingMaxPending { get; init; } = 1024;
    /// <summary>`signaling_max_pending_per_address` (256; 0: no limit): the same, per client address (D-44).</summary>
    public int SignalingMaxPendingPerAddress { get; init; } = 256;
    /// <summary>`api_max_requests_per_second` (1000; 0: no limit): API requests per second per client address (D-44).</summary>
    public int ApiMaxRequestsPerSecond { get; init; } = 1000;
    /// <summary>
    /// `rtc_max_unauthenticated_per_address` (1000; 0: no limit): datagrams per second one source IP may send to a media
    /// port before ICE authenticated it (rejected binding requests, DTLS/RTP from unknown addresses); beyond it they are
    /// dropped unanswered (D-47).
    /// </summary>
    public int RtcMaxUnauthenticatedPerAddress { get; init; } = 1000;
    /// <summary>`api_max_body_size` (1 MiB): the largest API request body; larger ones are answered 413.</summary>
    public int ApiMaxBodySize { get; init; } = 1024 * 1024;
    /// <summary>`signaling_bundle_id` (false): whether clients may set `bundle_id` in connect (the auth webhook always may).</summary>
    public bool SignalingBundleId { get; init; }
    /// <summary>`signaling_notify` (true): send `notify` messages to clients.</summary>
    public bool SignalingNotify { get; init; } = true;
    /// <summary>
    /// `signaling_notify_metadata_ext` (false): per-connection metadata changed through the API and shown as `metadata`
    /// in notifies (connect's and the auth webhook's values then go in `authn_metadata` / `authz_metadata`); D-52.
    /// </summary>
    public bool SignalingNotifyMetadataExt { get; init; }
    /// <summary>`dashboard` (false): the read-only cluster dashboard at http://HOST:api_port/dashboard (D-53).</summary>
    public bool Dashboard { get; init; }
    /// <summary>`skip_redact_sensitive_data` (false): write `event_metadata` / `session_metadata` into the webhook logs as they are, not "REDACTED" (D-55).</summary>
    public bool SkipRedactSensitiveData { get; init; }
    /// <summary>`default_video_codec_type` (VP9, as Sora): codec when connect names none.</summary>
    public string DefaultVideoCodecType { get; init; } = "VP9";
    /// <summary>`default_video_bit_rate` (1000 kbps): bitrate advertised to publishers (REMB) when connect names none.</summary>
    public int DefaultVideoBitRate { get; init; } = 1000;
    /// <summary>`signaling_vp9_params` (true in Hibari, D-34): whether connect may carry video.vp9_params.</summary>
    public bool SignalingVp9Params { get; init; } = true;
    /// <summary>`signaling_av1_params` (true in Hibari, D-34).</summary>
    public bool SignalingAv1Params { get; init; } = true;
    /// <summary>`signaling_h264_params` (true in Hibari, D-34).</summary>
    public bool SignalingH264Params { get; init; } = true;
    /// <summary>`signaling_h265_params` (true in Hibari, D-34).</summary>
    public bool SignalingH265Params { get; init; } = true;
    /// <summary>`h264_b_frame` (false): whether h264_params.b_frame may be true.</summary>
    public bool H264BFrame { get; init; }
    /// <summary>`h265_b_frame` (false): whether h265_params.b_frame may be true.</summary>
    public bool H265BFrame { get; init; }
    /// <summary>`default_h264_profile_level_id` (none: the first H.264 profile the client can do, constrained baseline first).</summary>
    public string? DefaultH264ProfileLevelId { get; init; }
    /// <summary>`data_channel_signaling` (false): default when neither connect nor the auth webhook says (docs/protocol-notes.md, "Data-channel signaling").</summary>
    public bool DataChannelSignaling { get; init; }
    /// <summary>`ignore_disconnect_websocket` (false): default of the same name; true lets a client drop its WebSocket after `switched`.</summary>
    public bool IgnoreDisconnectWebsocket { get; init; }
    /// <summary>`data_channel_messaging` (false): whether `#` labels (messaging, docs/protocol-notes.md, "Messaging") are allowed at all.</summary>
    public bool DataChannelMessaging { get; init; }
    /// <summary>
    /// `data_channel_rpc` (true): the `rpc` data channel (JSON-RPC 2.0 from the client, D-36) is offered to a connection
    /// that signals over data channels and was given `rpc_methods` by the auth webhook.
    /// </summary>
    public bool DataChannelRpc { get; init; } = true;
    /// <summary>`data_channel_signaling_close_message` (true; Sora's default is unconfirmed, D-27): send `{"type":"close",code,reason}` on DC signaling before the server closes a switched connection.</summary>
    public bool DataChannelSignalingCloseMessage { get; init; } = true;
    /// <summary>`signaling_ping_interval_ms` (5000): interval of `ping` messages on the WebSocket.</summary>
    public int SignalingPingIntervalMs { get; init; } = 5000;
    /// <summary>`rtc_stats_interval_ms` (60000; 0: never): how often a `ping` asks the client for its RTCStats (`stats: true`), D-56.</summary>
    public int RtcStatsIntervalMs { get; init; } = 60_000;
    /// <summary>`demo_dir` (web): folder of the demo page served at http://HOST:signaling_port/ (not served when the folder has no index.html).</summary>
    public string DemoDir { get; init; } = "web";

    // --- TURN (issue 15, docs/decisions.md D-57; Sora's key names where Sora has them) ---
    /// <summary>`turn` (true, as Sora): the node's TURN server runs and every offer carries credentials for it.</summary>
    public bool Turn { get; init; } = true;
    /// <summary>`turn_realm` (the TURN host name, or "hibari"): REALM of the long-term credentials.</summary>
    public string? TurnRealm { get; init; }
    /// <summary>`turn_fqdn` (none: the candidate address): host name in the turn: URLs of the offer.</summary>
    public string? TurnFqdn { get; init; }
    /// <summary>`turn_udp_port` (3478; 0: any free port): TURN over UDP listens here and the turn:…?transport=udp URL names it.</summary>
    public int TurnUdpPort { get; init; } = 3478;
    /// <summary>`turn_tcp` (true, as Sora): TURN over TCP listens and its URL is offered.</summary>
    public bool TurnTcp { get; init; } = true;
    /// <summary>`turn_tcp_listen_port` (3478; 0: any free port): where TURN over TCP listens.</summary>
    public int TurnTcpListenPort { get; init; } = 3478;
    /// <summary>`turn_tcp_port` (the listening port): the port the turn:…?transport=tcp URL names (a proxy in front may differ).</summary>
    public int? TurnTcpPort { get; init; }
    /// <summary>`turn_tls` (false, as Sora): offer a turns: URL (TLS terminated by Hibari with the certificate below, or by a proxy).</summary>
    public bool TurnTls { get; init; }
    /// <summary>`turn_tls_fqdn` (turn_fqdn): host name in the turns: URL (must match the certificate).</summary>
    public string? TurnTlsFqdn { get; init; }
    /// <summary>`turn_tls_port` (the TLS listening port, or 5349): the port the turns: URL names.</summary>
    public int? TurnTlsPort { get; init; }
    /// <summary>`turn_tls_listen_port` (5349; 0: any free port): where Hibari terminates TURN over TLS, when a certificate is set.</summary>
    public int TurnTlsListenPort { get; init; } = 5349;
    /// <summary>`turn_tls_certificate` / `turn_tls_private_key` (none): PEM files; with both, Hibari listens for TURN over TLS itself.</summary>
    public string? TurnTlsCertificate { get; init; }
    public string? TurnTlsPrivateKey { get; init; }
    /// <summary>`turn_ice_transport_policy` (all): the offer's `iceTransportPolicy`; "relay" forces every client through TURN.</summary>
    public string TurnIceTransportPolicy { get; init; } = "all";
    /// <summary>`turn_max_allocations` (10000): TURN allocations the node holds at most (508 beyond; 4 per connection).</summary>
    public int TurnMaxAllocations { get; init; } = 10_000;
    /// <summary>`turn_max_bit_rate_per_allocation` (32000 kbps): data through one allocation, each way; beyond it packets are dropped and counted.</summary>
    public int TurnMaxBitRatePerAllocation { get; init; } = 32_000;

    // --- licence (modelled as configuration, docs/requirements.md, section 2) ---
    /// <summary>`license_max_connections` (1000): this node's capacity.</summary>
    public int LicenseMaxConnections { get; init; } = 1000;
    /// <summary>`license_max_nodes` (10): largest cluster allowed. C-MEM-8.</summary>
    public int LicenseMaxNodes { get; init; } = 10;
    /// <summary>`license_type` (max_nodes): max_nodes or standard.</summary>
    public LicenseType LicenseType { get; init; } = LicenseType.MaxNodes;
    /// <summary>`license_serial_code` (HIBARI-DEVELOPMENT): free text shown by the APIs.</summary>
    public string LicenseSerialCode { get; init; } = "HIBARI-DEVELOPMENT";
    /// <summary>`license_expired_at` (2099-12): YYYY-MM shown by GetLicense.</summary>
    public string LicenseExpiredAt { get; init; } = "2099-12";

    /// <summary>Host part of <see cref="NodeName"/> (after '@'), or null.</summary>
    public string? NodeHost => NodeName is { } n && n.IndexOf('@') is var i and >= 0 ? n[(i + 1)..] : null;

    /// <summary>Whether the licence allows the max-nodes features (relay, affinity, temporary nodes, takeover).</summary>
    public bool MaxNodesLicence => LicenseType == LicenseType.MaxNodes;
}
