namespace Hibari.Sfu;

/// <summary>
/// One connection's media statistics at one moment (GetStatsConnection / GetStatsAllConnections, D-41): taken on the
/// media worker that owns its transport (<see cref="PeerTransport.TakeStats"/>), then read anywhere. Plain values only.
/// </summary>
internal sealed record ConnectionStats(
    ConnectionInfo Info,
    IReadOnlyList<PublishedTrackStats> Published,
    IReadOnlyList<ForwardedTrackStats> Forwarded,
    DownlinkStats? Downlink);

/// <summary>A track (or one simulcast layer of it) the connection publishes, as the node received it.</summary>
internal sealed record PublishedTrackStats(
    string TrackId, string Kind, string? Rid, uint Ssrc, string Codec,
    long Packets, long Bytes, long Frames, long KeyFrames, long Duplicates, long NacksSent, long KeyFrameRequests, long RateBps);

/// <summary>A track of another connection forwarded to this one: which layer, how often it changed, what was sent.</summary>
internal sealed record ForwardedTrackStats(
    string TrackId, string SenderConnectionId, string Kind, string? Rid, string? RequestedRid, string? CapRid,
    long Packets, long Bytes, long Retransmitted, long RetransmissionsSkipped, long LayerSwitches, long ShedPackets, bool Forwarding);

/// <summary>The receiver's downlink estimate (D-38), when it gives transport-wide feedback.</summary>
internal sealed record DownlinkStats(long EstimateBps, long AckedBps, double LossFraction, long Probes, long PaddingBytes);
