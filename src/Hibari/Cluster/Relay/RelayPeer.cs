namespace Hibari.Cluster.Relay;

/// <summary>
/// Relay counters of one peer node (GetStatsReport `cluster_relay`, /metrics). No owner thread: link readers, the
/// reconcile loop and media workers write it with atomics; the API reads it.
/// </summary>
internal sealed class RelayPeer(string name)
{
    public string Name { get; } = name;
    public volatile bool HelloSent;
    /// <summary>Optional features both sides announced (RelayProtocol.Shared).</summary>
    public RelayCapabilities Shared { get => (RelayCapabilities)Interlocked.Read(ref _shared); set => Interlocked.Exchange(ref _shared, (long)value); }
    private long _shared;
    private int _version = -1;
    public byte? Version
    {
        get => Volatile.Read(ref _version) is var v and >= 0 ? (byte)v : null;
        set => Volatile.Write(ref _version, value ?? -1);
    }
    public long FramesSent, BytesSent, FramesReceived, BytesReceived, RtpSent, RtpReceived, MessagesSent, MessagesReceived;
    /// <summary>Frames the link would not take (down, or its queue full): relay loss on our side.</summary>
    public long SendFailures;
    /// <summary>Frames refused (malformed, unknown version/type, before the Hello), and RTP of tracks never announced.</summary>
    public long Refused, RtpUnknownTrack;
    /// <summary>One-way time of frames from this peer (its send time in the frame; the nodes' clocks must agree: NTP, or one host).</summary>
    public LatencyHistogram Latency { get; } = new();
    /// <summary>Relayed RTP from this peer on its way to the media workers that own the tracks (the link reader produces).</summary>
    public Rtc.Transport.ExternalRings Rings { get; } = new();
}
