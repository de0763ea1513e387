using Hibari.Metrics;

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
    /// <summary>Relayed RTP packets of simulcast layers r0..r2 sent to this peer (D-39).</summary>
    public readonly long[] LayerRtpSent = new long[3];
    /// <summary>One-way time of frames from this peer (its send time in the frame; the nodes' clocks must agree: NTP, or one host).</summary>
    public LatencyHistogram Latency { get; } = new();
    /// <summary>Relayed RTP from this peer on its way to the media workers that own the tracks (the link reader produces).</summary>
    public Rtc.Transport.ExternalRings Rings { get; } = new();

    // --- RTP over UDP (docs/decisions.md D-31; Udp/RelayUdp.cs) ---
    /// <summary>Where RTP to this peer goes over UDP (its UdpEndpoint); used once confirmed. Null: over the node link.</summary>
    public volatile Udp.RelayUdpSendRoute? UdpSend;
    /// <summary>The way in this node announced to the peer (its datagrams to us).</summary>
    public volatile Udp.RelayUdpReceiveRoute? UdpReceive;
    /// <summary>The peer's UdpEndpoint, kept when it arrived before this node's media workers ran (applied by the reconcile loop).</summary>
    public volatile RelayUdpEndpoint? UdpPendingEndpoint;
    /// <summary>A UdpEndpoint is owed to the peer (its Hello offered UDP; sent as soon as this node's workers run).</summary>
    public volatile bool UdpAnnounceWanted;
    /// <summary>Serialises announcing and retiring routes (link reader, reconcile loop, link down).</summary>
    public readonly Lock UdpGate = new();
    /// <summary>RTP packets sent / received in datagrams (also counted in RtpSent / RtpReceived and the frame totals).</summary>
    public long UdpRtpSent, UdpRtpReceived;
    /// <summary>Datagrams of this peer's route refused: a bad tag (forged, corrupted, another key), or replayed/too old.</summary>
    public long UdpRefused, UdpReplayed;

    /// <summary>How RTP goes to this peer now: "udp" (confirmed route), "udp-probing" (route not confirmed yet: the link), "tcp".</summary>
    public string RtpTransport => UdpSend is { } r ? (r.Confirmed ? "udp" : "udp-probing") : "tcp";
}
