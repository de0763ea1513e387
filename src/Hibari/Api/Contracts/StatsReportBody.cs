namespace Hibari.Api.Contracts;

/// <summary>
/// `GetStatsReport` answer: the node-wide counters of docs/protocol-notes.md, "GetStatsReport and exporter counters" that a node
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
    /// <summary>Connections that ended after being connected: their summed and average life, and the average time from join to connected (D-51).</summary>
    public long TotalDurationSec { get; init; }
    public long AverageDurationSec { get; init; }
    public long AverageSetupTimeMsec { get; init; }
    /// <summary>Connections that became connected (`total_successful_sora_client_type`) or failed, by client software (D-51).</summary>
    public SoraClientStatsBody SoraClient { get; init; } = new();
    /// <summary>Connects refused for their signaling (D-51).</summary>
    public ConnectionErrorStatsBody Error { get; init; } = new();
    public long TotalAuthWebhookAllowed { get; init; }
    public long TotalAuthWebhookDenied { get; init; }
    public long TotalSuccessfulAuthWebhook { get; init; }
    public long TotalFailedAuthWebhook { get; init; }
    public long TotalSuccessfulSessionWebhook { get; init; }
    public long TotalFailedSessionWebhook { get; init; }
    public long TotalIgnoredSessionWebhook { get; init; }
    public long TotalSuccessfulEventWebhook { get; init; }
    public long TotalFailedEventWebhook { get; init; }
    public long TotalIgnoredEventWebhook { get; init; }
    public long TotalReceivedSrtp { get; init; }
    public long TotalReceivedSrtpByteSize { get; init; }
    public long TotalDecryptedSrtp { get; init; }
    public long TotalDecryptedSrtpByteSize { get; init; }
    public long TotalSentSrtp { get; init; }
    public long TotalSentSrtpByteSize { get; init; }
    /// <summary>Hibari: SRTP/SRTCP packets that failed authentication or replay checks.</summary>
    public long TotalSrtpUnprotectFailures { get; init; }
    /// <summary>Hibari: datagrams on the media port that were not STUN, DTLS or RTP/RTCP, or came from no known peer, or were dropped over the per-address budget (D-47).</summary>
    public long TotalDroppedMediaDatagrams { get; init; }
    /// <summary>Messaging (`#` labels): messages received from clients, sent to clients, and dropped (bad label/direction, bad zlib, full buffers).</summary>
    public long TotalReceivedMessages { get; init; }
    public long TotalReceivedMessageByteSize { get; init; }
    public long TotalSentMessages { get; init; }
    public long TotalSentMessageByteSize { get; init; }
    public long TotalDroppedMessages { get; init; }
    /// <summary>`stats` answers clients sent on DC:stats to the node's `req-stats`.</summary>
    public long TotalReceivedClientStats { get; init; }
    /// <summary>Connections whose media went through the node's TURN server over UDP / over TCP or TLS (D-57).</summary>
    public long TotalTurnUdpConnections { get; init; }
    public long TotalTurnTcpConnections { get; init; }
    /// <summary>TURN TCP/TLS streams closed because they were not TURN framing.</summary>
    public long TotalReceivedInvalidTurnTcpPacket { get; init; }
    /// <summary>Hibari (issue 12): simulcast layers received from publishers, per rid, and receivers' layer switches.</summary>
    public SimulcastStatsBody Simulcast { get; init; } = new();
    public ClusterStatsBody? Cluster { get; init; }
    public ClusterRelayStatsBody[] ClusterRelay { get; init; } = [];
}

/// <summary>`sora_client` of GetStatsReport: per bucket of <see cref="SoraClientType"/>.</summary>
public sealed record SoraClientStatsBody
{
    public Dictionary<string, long> TotalFailedSoraClientType { get; init; } = [];
    public Dictionary<string, long> TotalSuccessfulSoraClientType { get; init; } = [];
}

/// <summary>`error` of GetStatsReport (D-51).</summary>
public sealed record ConnectionErrorStatsBody
{
    /// <summary>Connects for which no offer could be made (the codecs asked for cannot be offered: close 4407).</summary>
    public long SdpGenerationError { get; init; }
    /// <summary>Connects closed for their signaling: malformed or invalid messages, sizes, timeouts, bad answers (4010, 4400–4409 but 4407, 4420, 4421, 4424).</summary>
    public long SignalingError { get; init; }
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
    /// <summary>Hibari: RTP packets and messaging messages relayed to / from the peer, frames the link would not take (lost), frames refused.</summary>
    public long TotalSentRtp { get; init; }
    public long TotalReceivedRtp { get; init; }
    public long TotalSentMessages { get; init; }
    public long TotalReceivedMessages { get; init; }
    public long TotalSendFailures { get; init; }
    public long TotalRefused { get; init; }
    /// <summary>Hibari: one-way latency of frames from the peer (its send time in each frame): p50/p99 bucket bounds and the histogram (bound −1: above the last).</summary>
    public long LatencyUsP50 { get; init; }
    public long LatencyUsP99 { get; init; }
    public long[] LatencyBucketsUs { get; init; } = [];
    public long[] LatencyBucketCounts { get; init; } = [];
    /// <summary>Hibari: the relay version negotiated with the peer (null: no Hello yet, or no common version).</summary>
    public byte? Version { get; init; }
    /// <summary>
    /// Hibari (docs/decisions.md D-31): how RTP goes to the peer — `udp`, `udp-probing` (announced, not confirmed yet: on the
    /// link meanwhile) or `tcp`; RTP packets sent and received in UDP datagrams (also in total_sent_rtp / total_received_rtp);
    /// datagrams of the peer refused for a bad tag, and as replayed or too old.
    /// </summary>
    public string RtpTransport { get; init; } = "tcp";
    public long TotalSentRtpUdp { get; init; }
    public long TotalReceivedRtpUdp { get; init; }
    public long TotalRefusedUdp { get; init; }
    public long TotalReplayedUdp { get; init; }
}

/// <summary>`simulcast` of GetStatsReport: per layer, as Sora's per-connection stats name them (`simulcast.rN.rtp`).</summary>
public sealed class SimulcastStatsBody
{
    public SimulcastLayerStatsBody R0 { get; init; } = new();
    public SimulcastLayerStatsBody R1 { get; init; } = new();
    public SimulcastLayerStatsBody R2 { get; init; } = new();
    public long TotalSwitched { get; init; }
}

public sealed class SimulcastLayerStatsBody
{
    public long TotalReceivedRtp { get; init; }
    public long TotalReceivedRtpByteSize { get; init; }
    public long TotalReceivedKeyFrame { get; init; }
}
