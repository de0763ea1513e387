using System.Collections.Frozen;
using static Hibari.Config.ConfigValues;

namespace Hibari.Config;

/// <summary>
/// The keys of hibari.conf (docs/requirements.md, section 2), each declared once: name, value syntax, option it sets.
/// Rules that involve several keys are in <see cref="ConfigRules"/>.
/// </summary>
internal static class ConfigKeys
{
    public static readonly IReadOnlyList<ConfigKey> All =
    [
        // --- cluster ---
        ConfigKey.Of("cluster", Boolean, (o, v) => o with { Cluster = v }),                                   // C-CONF-1
        ConfigKey.Of("node_name", NodeName, (o, v) => o with { NodeName = v }),                               // C-CONF-2
        ConfigKey.Of("external_signaling_url", WebSocketUrl, (o, v) => o with { ExternalSignalingUrl = v }),  // C-CONF-3
        ConfigKey.Of("external_api_url", HttpUrl, (o, v) => o with { ExternalApiUrl = v }),                   // C-CONF-4
        ConfigKey.Of("cluster_relay", Boolean, (o, v) => o with { ClusterRelay = v }),                        // C-CONF-5
        ConfigKey.Of("cluster_relay_udp", Boolean, (o, v) => o with { ClusterRelayUdp = v }),                 // D-31
        ConfigKey.Of("cluster_relay_simulcast", Boolean, (o, v) => o with { ClusterRelaySimulcast = v }),     // D-39
        ConfigKey.Of("default_cluster_affinity", Boolean, (o, v) => o with { DefaultClusterAffinity = v }),   // C-CONF-6
        ConfigKey.Of("cluster_affinity_threshold", Integer(1), (o, v) => o with { ClusterAffinityThreshold = v }), // C-CONF-7
        ConfigKey.Of("cluster_listen_min_port", Port, (o, v) => o with { ClusterListenMinPort = v }),         // C-CONF-8
        ConfigKey.Of("cluster_listen_max_port", Port, (o, v) => o with { ClusterListenMaxPort = v }),         // C-CONF-8
        ConfigKey.Of("cluster_temporary_node", Boolean, (o, v) => o with { ClusterTemporaryNode = v }),       // C-CONF-9
        ConfigKey.Of("cluster_secret", Secret(minLength: 8), (o, v) => o with { ClusterSecret = v }, secret: true),

        // --- node ---
        ConfigKey.Of("listen_address", IpAddress, (o, v) => o with { ListenAddress = v }),
        ConfigKey.Of("api_port", Port, (o, v) => o with { ApiPort = v }),
        ConfigKey.Of("signaling_port", Port, (o, v) => o with { SignalingPort = v }),
        ConfigKey.Of("rtc_udp_port", Port, (o, v) => o with { RtcUdpPort = v }),
        ConfigKey.Of("media_workers", Integer(1, 64), (o, v) => o with { MediaWorkers = v }),
        ConfigKey.Of("data_dir", Text("a directory path"), (o, v) => o with { DataDir = v }),
        ConfigKey.Of("api_cors_origin", CorsOrigin, (o, v) => o with { ApiCorsOrigin = v }),
        ConfigKey.Of("api_loopback_address_only", Boolean, (o, v) => o with { ApiLoopbackAddressOnly = v }),
        ConfigKey.Of("debug_api", Boolean, (o, v) => o with { DebugApi = v }),
        ConfigKey.Of("log_level", OneOf(("trace", "trace"), ("debug", "debug"), ("info", "info"), ("warning", "warning"), ("error", "error")),
            (o, v) => o with { LogLevel = v }),

        // --- SFU ---
        ConfigKey.Of("rtc_public_address", IpAddress, (o, v) => o with { RtcPublicAddress = v }),
        ConfigKey.Of("auth_webhook_url", HttpUrl, (o, v) => o with { AuthWebhookUrl = v }),
        ConfigKey.Of("session_webhook_url", HttpUrl, (o, v) => o with { SessionWebhookUrl = v }),
        ConfigKey.Of("event_webhook_url", HttpUrl, (o, v) => o with { EventWebhookUrl = v }),
        // Sora's key (EVENT_WEBHOOK), its duration syntax (unit required) and default (1 min): D-52, amendment.
        ConfigKey.Of("connection_updated_webhook_interval", SoraMilliseconds(100, 86_400_000),
            (o, v) => o with { ConnectionUpdatedWebhookInterval = TimeSpan.FromMilliseconds(v) }),
        ConfigKey.Of("auth_webhook_timeout_ms", Milliseconds(100, 60000), (o, v) => o with { AuthWebhookTimeoutMs = v }),
        ConfigKey.Of("webhook_timeout_ms", Milliseconds(100, 60000), (o, v) => o with { WebhookTimeoutMs = v }),
        ConfigKey.Of("log_dir", Text("a directory path"), (o, v) => o with { LogDir = v }),
        // --- recording (D-58) ---
        ConfigKey.Of("archive_dir", Text("a directory path"), (o, v) => o with { ArchiveDir = v }),
        ConfigKey.Of("recording_dual_output", Boolean, (o, v) => o with { RecordingDualOutput = v }),
        ConfigKey.Of("recording_max_expire_time", Integer(1, 86_400), (o, v) => o with { RecordingMaxExpireTime = v }),
        ConfigKey.Of("recording_max_split_duration", Integer(1, 86_400), (o, v) => o with { RecordingMaxSplitDuration = v }),
        ConfigKey.Of("recording_min_free_disk_space_mb", Integer(0, 100_000_000), (o, v) => o with { RecordingMinFreeDiskSpaceMb = v }),
        ConfigKey.Of("recording_max_file_size_mb", Integer(0, 100_000_000), (o, v) => o with { RecordingMaxFileSizeMb = v }),
        ConfigKey.Of("session_destroy_delay_ms", Milliseconds(0, 3600000), (o, v) => o with { SessionDestroyDelayMs = v }),
        // --- admission limits (D-44) ---
        ConfigKey.Of("signaling_max_pending", Integer(0, 1000000), (o, v) => o with { SignalingMaxPending = v }),
        ConfigKey.Of("signaling_max_pending_per_address", Integer(0, 1000000), (o, v) => o with { SignalingMaxPendingPerAddress = v }),
        ConfigKey.Of("api_max_requests_per_second", Integer(0, 1000000), (o, v) => o with { ApiMaxRequestsPerSecond = v }),
        ConfigKey.Of("rtc_max_unauthenticated_per_address", Integer(0, 100000000), (o, v) => o with { RtcMaxUnauthenticatedPerAddress = v }),
        ConfigKey.Of("api_max_body_size", Bytes(1024, 256 * 1024 * 1024), (o, v) => o with { ApiMaxBodySize = v }),
        ConfigKey.Of("signaling_bundle_id", Boolean, (o, v) => o with { SignalingBundleId = v }),
        ConfigKey.Of("signaling_notify", Boolean, (o, v) => o with { SignalingNotify = v }),
        ConfigKey.Of("signaling_notify_metadata_ext", Boolean, (o, v) => o with { SignalingNotifyMetadataExt = v }), // D-52
        ConfigKey.Of("dashboard", Boolean, (o, v) => o with { Dashboard = v }), // D-53
        ConfigKey.Of("rtc_stats_interval_ms", Milliseconds(0, 86_400_000), (o, v) => o with { RtcStatsIntervalMs = v }), // D-56
        ConfigKey.Of("skip_redact_sensitive_data", Boolean, (o, v) => o with { SkipRedactSensitiveData = v }), // D-55
        ConfigKey.Of("default_video_codec_type", OneOf(("VP8", "VP8"), ("VP9", "VP9"), ("AV1", "AV1"), ("H264", "H264"), ("H265", "H265")),
            (o, v) => o with { DefaultVideoCodecType = v }),
        ConfigKey.Of("default_video_bit_rate", Integer(50, 100000), (o, v) => o with { DefaultVideoBitRate = v }),
        ConfigKey.Of("signaling_vp9_params", Boolean, (o, v) => o with { SignalingVp9Params = v }),
        ConfigKey.Of("signaling_av1_params", Boolean, (o, v) => o with { SignalingAv1Params = v }),
        ConfigKey.Of("signaling_h264_params", Boolean, (o, v) => o with { SignalingH264Params = v }),
        ConfigKey.Of("signaling_h265_params", Boolean, (o, v) => o with { SignalingH265Params = v }),
        ConfigKey.Of("h264_b_frame", Boolean, (o, v) => o with { H264BFrame = v }),
        ConfigKey.Of("h265_b_frame", Boolean, (o, v) => o with { H265BFrame = v }),
        ConfigKey.Of("default_h264_profile_level_id", ProfileLevelId, (o, v) => o with { DefaultH264ProfileLevelId = v }),
        ConfigKey.Of("data_channel_signaling", Boolean, (o, v) => o with { DataChannelSignaling = v }),
        ConfigKey.Of("ignore_disconnect_websocket", Boolean, (o, v) => o with { IgnoreDisconnectWebsocket = v }),
        ConfigKey.Of("data_channel_messaging", Boolean, (o, v) => o with { DataChannelMessaging = v }),
        ConfigKey.Of("data_channel_rpc", Boolean, (o, v) => o with { DataChannelRpc = v }),
        ConfigKey.Of("data_channel_signaling_close_message", Boolean, (o, v) => o with { DataChannelSignalingCloseMessage = v }),
        ConfigKey.Of("signaling_ping_interval_ms", Milliseconds(500, 600000), (o, v) => o with { SignalingPingIntervalMs = v }),
        ConfigKey.Of("demo_dir", Text("a directory path"), (o, v) => o with { DemoDir = v }),

        // --- TURN (D-57) ---
        ConfigKey.Of("turn", Boolean, (o, v) => o with { Turn = v }),
        ConfigKey.Of("turn_realm", Text("a realm"), (o, v) => o with { TurnRealm = v }),
        ConfigKey.Of("turn_fqdn", HostName, (o, v) => o with { TurnFqdn = v }),
        ConfigKey.Of("turn_udp_port", PortOrAny, (o, v) => o with { TurnUdpPort = v }),
        ConfigKey.Of("turn_tcp", Boolean, (o, v) => o with { TurnTcp = v }),
        ConfigKey.Of("turn_tcp_listen_port", PortOrAny, (o, v) => o with { TurnTcpListenPort = v }),
        ConfigKey.Of("turn_tcp_port", Port, (o, v) => o with { TurnTcpPort = v }),
        ConfigKey.Of("turn_tls", Boolean, (o, v) => o with { TurnTls = v }),
        ConfigKey.Of("turn_tls_fqdn", HostName, (o, v) => o with { TurnTlsFqdn = v }),
        ConfigKey.Of("turn_tls_port", Port, (o, v) => o with { TurnTlsPort = v }),
        ConfigKey.Of("turn_tls_listen_port", PortOrAny, (o, v) => o with { TurnTlsListenPort = v }),
        ConfigKey.Of("turn_tls_certificate", Text("a PEM certificate file path"), (o, v) => o with { TurnTlsCertificate = v }),
        ConfigKey.Of("turn_tls_private_key", Text("a PEM private key file path"), (o, v) => o with { TurnTlsPrivateKey = v }),
        ConfigKey.Of("turn_ice_transport_policy", OneOf(("all", "all"), ("relay", "relay")), (o, v) => o with { TurnIceTransportPolicy = v }),
        ConfigKey.Of("turn_max_allocations", Integer(1, 1_000_000), (o, v) => o with { TurnMaxAllocations = v }),
        ConfigKey.Of("turn_max_bit_rate_per_allocation", Integer(100, 10_000_000), (o, v) => o with { TurnMaxBitRatePerAllocation = v }),

        // --- licence ---
        ConfigKey.Of("license_max_connections", Integer(0), (o, v) => o with { LicenseMaxConnections = v }),
        ConfigKey.Of("license_max_nodes", Integer(1), (o, v) => o with { LicenseMaxNodes = v }),              // C-MEM-8
        ConfigKey.Of("license_type", OneOf(("max_nodes", LicenseType.MaxNodes), ("standard", LicenseType.Standard)),
            (o, v) => o with { LicenseType = v }),
        ConfigKey.Of("license_serial_code", Text("a serial code"), (o, v) => o with { LicenseSerialCode = v }),
        ConfigKey.Of("license_expired_at", YearMonth, (o, v) => o with { LicenseExpiredAt = v }),
    ];

    /// <summary>
    /// Sora's keys that set Hibari options under Hibari's own names, so a sora.conf works unchanged (docs/decisions.md
    /// D-48). Not in <see cref="All"/>, which holds one key per option.
    /// </summary>
    public static readonly IReadOnlyList<ConfigKey> SoraAliases =
    [
        // Sora: the response timeout of the auth, session and event webhooks; its unit is required (`30 s`).
        ConfigKey.Of("webhook_response_timeout", SoraMilliseconds(100, 60000), (o, v) => o with { AuthWebhookTimeoutMs = v, WebhookTimeoutMs = v }),
    ];

    private static readonly FrozenDictionary<string, ConfigKey> ByName =
        All.Concat(SoraAliases).ToFrozenDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>Every name a suggestion may point to: Hibari's keys, then Sora's documented ones (a typo of those too).</summary>
    private static readonly string[] SuggestionNames =
        [.. All.Concat(SoraAliases).Select(k => k.Name), .. SoraKeys.Documented.Where(k => !ByName.ContainsKey(k)).Order(StringComparer.Ordinal)];

    public static ConfigKey? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The key an unknown <paramref name="name"/> was probably meant to be (typo protection), or null.</summary>
    public static string? Suggest(string name)
    {
        if (name.Length > 64)
            return null;
        var lower = name.ToLowerInvariant();
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var key in SuggestionNames)
        {
            var d = EditDistance(lower, key);
            if (d < bestDistance)
                (best, bestDistance) = (key, d);
        }
        return bestDistance <= Math.Max(2, name.Length / 4) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
