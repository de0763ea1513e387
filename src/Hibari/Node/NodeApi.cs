using Hibari.Api;
using Hibari.Api.Contracts;
using Hibari.Cluster;
using Hibari.Cluster.Relay;
using Hibari.Cluster.State;
using Hibari.Config;
using Hibari.Metrics;

namespace Hibari.Node;

/// <summary>The node's HTTP API operations (Sora's target names). Errors of the cluster become JSON errors, never 500s.</summary>
internal sealed class NodeApi(HibariOptions options, ClusterService cluster, SessionDirectory sessions, NodeCounters counters)
{
    private volatile string _localMode = NodeModes.Normal;

    public Sfu.SfuEngine? Sfu { get; init; }
    public Webhooks.WebhookClient? Webhooks { get; init; }
    public RelayService? Relay { get; init; }

    public void Register(ApiRouter router)
    {
        router.Register("Sora_20171218.GetLicense", GetLicense);
        router.Register("Sora_20211215.GetMode", GetMode);
        router.Register("Sora_20211215.ChangeMode", ChangeMode);
        router.Register("Sora_20171010.GetStatsReport", GetStatsReport);
        router.Register("Sora_20221221.InitCluster", InitCluster);
        router.Register("Sora_20211215.RegisterClusterNode", RegisterClusterNode);
        router.Register("Sora_20220629.PurgeClusterNode", PurgeClusterNode);
        router.Register("Sora_20211215.ListClusterNodes", ListClusterNodes);
        router.Register("Sora_20211215.ListClusterChannels", ListClusterChannels);
        if (options.DebugApi) router.Register(DebugClaimTarget, DebugClaimSession);
    }

    /// <summary>Test-only: claims a channel's session as the SFU will on a first connect (set-if-absent).</summary>
    public const string DebugClaimTarget = "Sora_20261202.HibariDebugClaimSession";

    private async ValueTask<ApiResult> DebugClaimSession(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.DebugClaimSessionRequest, out var body, out var error)) return error!;
        if (!options.Cluster) return ApiResult.BadRequest("ClusterDisabled", "this node runs with cluster = false");
        SessionClaim claim = default;
        return await Run(async () => claim = await sessions.ClaimAsync(body.ChannelId, ct),
            () => new DebugClaimSessionBody { ChannelId = claim.ChannelId, SessionId = claim.SessionId, Created = claim.Created },
            ApiJsonContext.Default.DebugClaimSessionBody);
    }

    /// <summary>This node's mode: replicated in a cluster (C-MODE-1), local otherwise.</summary>
    public string Mode => options.Cluster ? cluster.OwnMode ?? NodeModes.Normal : _localMode;

    private ValueTask<ApiResult> GetLicense(ApiRequest request, CancellationToken ct) => new(ApiResult.Json(new LicenseBody
    {
        ExpiredAt = options.LicenseExpiredAt,
        MaxConnections = options.LicenseMaxConnections,
        MaxNodes = options.MaxNodesLicence ? options.LicenseMaxNodes : null,
        ProductName = "Hibari",
        SerialCode = options.LicenseSerialCode,
        Type = ClusterService.LicenseTypeName(options.LicenseType),
    }, ApiJsonContext.Default.LicenseBody));

    private ValueTask<ApiResult> GetMode(ApiRequest request, CancellationToken ct) =>
        new(ApiResult.Json(new ModeBody { Mode = Mode }, ApiJsonContext.Default.ModeBody));

    private async ValueTask<ApiResult> ChangeMode(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.ModeBody, out var body, out var error)) return error!;
        if (!NodeModes.IsValid(body.Mode))
            return ApiResult.BadRequest("InvalidMode", $"mode must be {NodeModes.Normal}, {NodeModes.BlockNewSession} or {NodeModes.BlockNewConnection}");
        if (options.Cluster) return await Run(async () => await cluster.SetModeAsync(body.Mode, ct), () => new ModeBody { Mode = body.Mode }, ApiJsonContext.Default.ModeBody);
        _localMode = body.Mode;
        return ApiResult.Json(new ModeBody { Mode = body.Mode }, ApiJsonContext.Default.ModeBody);
    }

    /// <summary>The signaling closes this node sent, counted by code (set once the signaling server exists).</summary>
    public Signaling.SignalingCloseCounters? SignalingCloses { get; set; }

    /// <summary>`error` of GetStatsReport from the closes sent (D-51): 4407 is an offer that could not be made.</summary>
    private ConnectionErrorStatsBody ConnectionErrors()
    {
        long sdp = 0, signaling = 0;
        foreach (var (code, count) in SignalingCloses?.Snapshot() ?? [])
        {
            if (code == Signaling.SignalingCloses.UnsupportedCodecType.Code) sdp += count;
            else if (code is 4010 or (>= 4400 and <= 4409) or 4420 or 4421 or 4424) signaling += count;
        }
        return new ConnectionErrorStatsBody { SdpGenerationError = sdp, SignalingError = signaling };
    }

    private ValueTask<ApiResult> GetStatsReport(ApiRequest request, CancellationToken ct)
    {
        var w = Webhooks?.Counters;
        var m = Sfu?.CountersSnapshot();
        return new(ApiResult.Json(new StatsReportBody
    {
        Version = HibariVersion.Value,
        TotalAuthWebhookAllowed = w?.TotalAuthWebhookAllowed ?? 0,
        TotalAuthWebhookDenied = w?.TotalAuthWebhookDenied ?? 0,
        TotalSuccessfulAuthWebhook = w?.TotalSuccessfulAuthWebhook ?? 0,
        TotalFailedAuthWebhook = w?.TotalFailedAuthWebhook ?? 0,
        TotalSuccessfulSessionWebhook = w?.TotalSuccessfulSessionWebhook ?? 0,
        TotalFailedSessionWebhook = w?.TotalFailedSessionWebhook ?? 0,
        TotalIgnoredSessionWebhook = w?.TotalIgnoredSessionWebhook ?? 0,
        TotalSuccessfulEventWebhook = w?.TotalSuccessfulEventWebhook ?? 0,
        TotalFailedEventWebhook = w?.TotalFailedEventWebhook ?? 0,
        TotalIgnoredEventWebhook = w?.TotalIgnoredEventWebhook ?? 0,
        TotalReceivedSrtp = m?.ReceivedSrtp ?? 0,
        TotalReceivedSrtpByteSize = m?.ReceivedSrtpBytes ?? 0,
        TotalDecryptedSrtp = m?.DecryptedSrtp ?? 0,
        TotalDecryptedSrtpByteSize = m?.DecryptedSrtpBytes ?? 0,
        TotalSentSrtp = m?.SentSrtp ?? 0,
        TotalSentSrtpByteSize = m?.SentSrtpBytes ?? 0,
        TotalSrtpUnprotectFailures = m?.SrtpUnprotectFailures ?? 0,
        TotalDroppedMediaDatagrams = Sfu is { } sfu ? sfu.Workers.Garbage + sfu.Workers.UnknownSource + sfu.Workers.OverBudget : 0,
        TotalReceivedMessages = m?.MessagesReceived ?? 0,
        TotalReceivedMessageByteSize = m?.MessagesReceivedBytes ?? 0,
        TotalSentMessages = m?.MessagesSent ?? 0,
        TotalSentMessageByteSize = m?.MessagesSentBytes ?? 0,
        TotalDroppedMessages = m?.MessagesDropped ?? 0,
        TotalReceivedClientStats = m is null ? 0 : Interlocked.Read(ref m.ClientStatsReports),
        TotalTurnUdpConnections = Sfu?.Turn?.UdpSelectedTotal ?? 0,
        TotalTurnTcpConnections = Sfu?.Turn?.TcpSelectedTotal ?? 0,
        TotalReceivedInvalidTurnTcpPacket = Sfu?.Turn?.InvalidTcpStreams ?? 0,
        Simulcast = m is null ? new() : new SimulcastStatsBody
        {
            R0 = Layer(m, 0), R1 = Layer(m, 1), R2 = Layer(m, 2), TotalSwitched = m.SimulcastLayerSwitches,
        },
        TotalConnectionCreated = counters.ConnectionsCreated,
        TotalConnectionUpdated = counters.ConnectionsUpdated,
        TotalConnectionDestroyed = counters.ConnectionsDestroyed,
        TotalFailedConnections = counters.ConnectionsFailed,
        TotalSuccessfulConnections = counters.ConnectionsCreated,
        TotalOngoingConnections = counters.ConnectionsCreated - counters.ConnectionsDestroyed,
        TotalSessionCreated = counters.SessionsCreated,
        TotalSessionDestroyed = counters.SessionsDestroyed,
        TotalDurationSec = counters.TotalDurationSec,
        AverageDurationSec = counters.AverageDurationSec,
        AverageSetupTimeMsec = counters.AverageSetupTimeMsec,
        SoraClient = new SoraClientStatsBody { TotalSuccessfulSoraClientType = counters.SuccessfulByClient(), TotalFailedSoraClientType = counters.FailedByClient() },
        Error = ConnectionErrors(),
        ClusterRelay = (Relay?.Peers ?? []).OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new ClusterRelayStatsBody
        {
            NodeName = p.Name,
            TotalSent = Interlocked.Read(ref p.FramesSent),
            TotalSentByteSize = Interlocked.Read(ref p.BytesSent),
            TotalReceived = Interlocked.Read(ref p.FramesReceived),
            TotalReceivedByteSize = Interlocked.Read(ref p.BytesReceived),
            TotalSentRtp = Interlocked.Read(ref p.RtpSent),
            TotalReceivedRtp = Interlocked.Read(ref p.RtpReceived),
            TotalSentMessages = Interlocked.Read(ref p.MessagesSent),
            TotalReceivedMessages = Interlocked.Read(ref p.MessagesReceived),
            TotalSendFailures = Interlocked.Read(ref p.SendFailures),
            TotalRefused = Interlocked.Read(ref p.Refused),
            LatencyUsP50 = p.Latency.Percentile(50),
            LatencyUsP99 = p.Latency.Percentile(99),
            LatencyBucketsUs = LatencyHistogram.Bounds.Select(b => b == long.MaxValue ? -1 : b).ToArray(),
            LatencyBucketCounts = p.Latency.Counts,
            Version = p.Version,
            RtpTransport = p.RtpTransport,
            TotalSentRtpUdp = Interlocked.Read(ref p.UdpRtpSent),
            TotalReceivedRtpUdp = Interlocked.Read(ref p.UdpRtpReceived),
            TotalRefusedUdp = Interlocked.Read(ref p.UdpRefused),
            TotalReplayedUdp = Interlocked.Read(ref p.UdpReplayed),
        }).ToArray(),
        Cluster = options.Cluster
            ? new ClusterStatsBody { RaftState = cluster.RaftStateName, RaftTerm = cluster.RaftTerm, RaftCommitIndex = cluster.RaftCommitIndex }
            : null,
    }, ApiJsonContext.Default.StatsReportBody));
    }

    private static SimulcastLayerStatsBody Layer(Sfu.SfuCounters m, int i) => new()
    {
        TotalReceivedRtp = m.SimulcastPackets[i], TotalReceivedRtpByteSize = m.SimulcastBytes[i], TotalReceivedKeyFrame = m.SimulcastKeyFrames[i],
    };

    private async ValueTask<ApiResult> InitCluster(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.InitClusterRequest, out var body, out var error)) return error!;
        IReadOnlyList<string> names = [];
        return await Run(async () => names = await cluster.InitClusterAsync(body.NodeNameList, ct),
            () => new NodeNameListBody { NodeNameList = [.. names] }, ApiJsonContext.Default.NodeNameListBody);
    }

    private async ValueTask<ApiResult> RegisterClusterNode(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.RegisterClusterNodeRequest, out var body, out var error)) return error!;
        IReadOnlyList<string> names = [];
        return await Run(async () => names = await cluster.RegisterAsync(body.ContactNodeName, ct),
            () => new NodeNameListBody { NodeNameList = [.. names] }, ApiJsonContext.Default.NodeNameListBody);
    }

    private async ValueTask<ApiResult> PurgeClusterNode(ApiRequest request, CancellationToken ct)
    {
        if (!request.TryRead(ApiJsonContext.Default.PurgeClusterNodeRequest, out var body, out var error)) return error!;
        if (ConfigLoader.ValidateNodeName(body.TargetNodeName) is { } bad) return ApiResult.BadRequest("InvalidNodeName", bad);
        return await Run(async () => await cluster.PurgeAsync(body.TargetNodeName, ct),
            () => new NodeNameListBody { NodeNameList = [.. cluster.State.View.Members.Keys.Order(StringComparer.Ordinal)] },
            ApiJsonContext.Default.NodeNameListBody);
    }

    private ValueTask<ApiResult> ListClusterNodes(ApiRequest request, CancellationToken ct)
    {
        if (!options.Cluster) return new(ApiResult.BadRequest("ClusterDisabled", "this node runs with cluster = false"));
        var view = cluster.State.View;
        var nodes = view.Members.Values.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new ClusterNodeBody
        {
            NodeName = m.Name,
            Connected = cluster.IsConnected(m.Name),
            Mode = m.Mode,
            ExternalSignalingUrl = m.ExternalSignalingUrl,
            ExternalApiUrl = m.ExternalApiUrl,
            LicenseMaxConnections = m.LicenseMaxConnections,
            LicenseMaxNodes = m.LicenseMaxNodes,
            LicenseSerialCode = m.LicenseSerialCode,
            LicenseType = m.LicenseType,
            Version = m.Version,
            TemporaryNode = m.Temporary,
            Connections = m.Name == cluster.NodeName ? Sfu?.ConnectionCount : cluster.Load.Of(m.Name)?.Connections,
            Capacity = cluster.CapacityOf(m.Name),
            LoadReportAgeMs = m.Name == cluster.NodeName ? null : (long?)cluster.Load.AgeOf(m.Name)?.TotalMilliseconds,
        }).ToArray();
        return new(ApiResult.Json(nodes, ApiJsonContext.Default.ClusterNodeBodyArray));
    }

    private ValueTask<ApiResult> ListClusterChannels(ApiRequest request, CancellationToken ct)
    {
        if (!options.Cluster) return new(ApiResult.BadRequest("ClusterDisabled", "this node runs with cluster = false"));
        var channels = cluster.State.View.Channels.Values.OrderBy(c => c.ChannelId, StringComparer.Ordinal).Select(c => new ClusterChannelBody
        {
            ChannelId = c.ChannelId,
            Owners = c.Owners.Select(o => new ChannelOwnerBody { NodeName = o, Connected = cluster.IsConnected(o) }).ToArray(),
        }).ToArray();
        return new(ApiResult.Json(channels, ApiJsonContext.Default.ClusterChannelBodyArray));
    }

    private static async Task<ApiResult> Run<T>(Func<Task> action, Func<T> answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            await action();
            return ApiResult.Json(answer(), info);
        }
        catch (ClusterOperationException e)
        {
            return ApiResult.Error(e.Status, e.ErrorType, e.Message);
        }
    }
}

/// <summary>Node-level counters shown by GetStatsReport (the SFU increments them).</summary>
public sealed class NodeCounters
{
    private long _created, _updated, _destroyed, _failed, _sessionsCreated, _sessionsDestroyed, _durationMs, _setupMs;
    private readonly long[] _successfulByClient = new long[SoraClientType.Keys.Length];
    private readonly long[] _failedByClient = new long[SoraClientType.Keys.Length];

    /// <summary>A connection became connected <paramref name="setup"/> after it joined (D-51).</summary>
    public void Connected(string? soraClient, TimeSpan setup)
    {
        Interlocked.Increment(ref _created);
        Interlocked.Add(ref _setupMs, (long)Math.Max(0, setup.TotalMilliseconds));
        Interlocked.Increment(ref _successfulByClient[SoraClientType.Of(soraClient)]);
    }

    /// <summary>A connected connection ended after <paramref name="life"/>.</summary>
    public void Ended(TimeSpan life)
    {
        Interlocked.Increment(ref _destroyed);
        Interlocked.Add(ref _durationMs, (long)Math.Max(0, life.TotalMilliseconds));
    }

    /// <summary>A periodic `connection.updated` about a live connection was issued (D-52, amendment).</summary>
    public void ConnectionUpdated() => Interlocked.Increment(ref _updated);

    /// <summary>A connection ended before it was connected.</summary>
    public void Failed(string? soraClient)
    {
        Interlocked.Increment(ref _failed);
        Interlocked.Increment(ref _failedByClient[SoraClientType.Of(soraClient)]);
    }

    public long TotalDurationSec => Interlocked.Read(ref _durationMs) / 1000;
    public long AverageDurationSec => ConnectionsDestroyed == 0 ? 0 : Interlocked.Read(ref _durationMs) / 1000 / ConnectionsDestroyed;
    public long AverageSetupTimeMsec => ConnectionsCreated == 0 ? 0 : Interlocked.Read(ref _setupMs) / ConnectionsCreated;
    public Dictionary<string, long> SuccessfulByClient() => ByClient(_successfulByClient);
    public Dictionary<string, long> FailedByClient() => ByClient(_failedByClient);

    private static Dictionary<string, long> ByClient(long[] counts)
    {
        var d = new Dictionary<string, long>(SoraClientType.Keys.Length, StringComparer.Ordinal);
        for (var i = 0; i < counts.Length; i++) d[SoraClientType.Keys[i]] = Interlocked.Read(ref counts[i]);
        return d;
    }

    public long ConnectionsCreated => Interlocked.Read(ref _created);
    public long ConnectionsUpdated => Interlocked.Read(ref _updated);
    public long ConnectionsDestroyed => Interlocked.Read(ref _destroyed);
    public long ConnectionsFailed => Interlocked.Read(ref _failed);
    public long SessionsCreated => Interlocked.Read(ref _sessionsCreated);
    public long SessionsDestroyed => Interlocked.Read(ref _sessionsDestroyed);
    public void SessionCreated() => Interlocked.Increment(ref _sessionsCreated);
    public void SessionDestroyed() => Interlocked.Increment(ref _sessionsDestroyed);
}
