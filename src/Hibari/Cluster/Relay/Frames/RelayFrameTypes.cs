namespace Hibari.Cluster.Relay;

/// <summary>
/// Optional relay features a node offers in its <see cref="RelayHello"/>. A link uses a feature only when both Hellos
/// carry its bit (<see cref="RelayProtocol.Shared"/>); bits this build does not know are kept on decode and otherwise
/// ignored, so a newer node can announce features an older one never heard of (docs/relay-frames.md).
/// </summary>
[Flags]
public enum RelayCapabilities : ulong
{
    None = 0,
    /// <summary>RTP forwarding (TrackUp/TrackDown/Rtp/KeyFrameRequest).</summary>
    Media = 1,
    /// <summary>Data-channel messages (Message).</summary>
    Messages = 2,
    /// <summary>Signaling facts (SessionJoin/Leave, ConnectionUp/Down).</summary>
    Signaling = 4,
    /// <summary>Publishers' RTCP sender reports (SenderReport): lip-sync mapping for relayed tracks. Added after Media; only sent to peers that announce it.</summary>
    SenderReports = 8,
    /// <summary>
    /// Relayed RTP in authenticated UDP datagrams between the nodes' media workers (UdpEndpoint, UdpConfirm; docs/decisions.md
    /// D-31). Offered only with <c>cluster_relay_udp = true</c>; without it on both sides RTP stays on the node link.
    /// </summary>
    UdpMedia = 16,
    /// <summary>
    /// Simulcast layers relayed one by one, each only while the other node needs it (TrackLayers, LayerDemand; issue 12,
    /// docs/decisions.md D-39). Without it on both sides a simulcast track is relayed as its first layer only.
    /// </summary>
    SimulcastLayers = 32,
    /// <summary>One spotlight decider per session (SpotlightFocus; docs/decisions.md D-40). Without it each node decides alone.</summary>
    Spotlight = 64,
}

/// <summary>The type byte of a relay frame (the second header byte). Values are never reused.</summary>
public enum RelayFrameType : byte
{
    Hello = 1,
    SessionJoin = 2,
    SessionLeave = 3,
    ConnectionUp = 4,
    ConnectionDown = 5,
    TrackUp = 6,
    TrackDown = 7,
    Rtp = 8,
    KeyFrameRequest = 9,
    Message = 10,
    /// <summary>Needs <see cref="RelayCapabilities.SenderReports"/> on both sides.</summary>
    SenderReport = 11,
    /// <summary>Needs <see cref="RelayCapabilities.UdpMedia"/> on both sides.</summary>
    UdpEndpoint = 12,
    /// <summary>Needs <see cref="RelayCapabilities.UdpMedia"/> on both sides.</summary>
    UdpConfirm = 13,
    /// <summary>Needs <see cref="RelayCapabilities.SimulcastLayers"/> on both sides.</summary>
    TrackLayers = 14,
    /// <summary>Needs <see cref="RelayCapabilities.SimulcastLayers"/> on both sides.</summary>
    LayerDemand = 15,
    /// <summary>Needs <see cref="RelayCapabilities.Spotlight"/> on both sides.</summary>
    SpotlightFocus = 16,
}

/// <summary>
/// A decoded relay frame (every type but RTP, which is read in place: <see cref="RelayRtpView"/>). Frames have value
/// equality, including their byte payloads and lists, so a decoded frame equals the one that was encoded.
/// </summary>
public abstract record RelayFrame
{
    /// <summary>The sender's Unix time in microseconds when it wrote the frame (per-link latency histogram).</summary>
    public long SentAtMicros { get; init; }
}

/// <summary>
/// The first frame each side sends on a link: the versions it speaks and its optional features. Its layout is frozen
/// (docs/relay-frames.md): every version of Hibari decodes it, whatever versions it speaks.
/// </summary>
public sealed record RelayHello(byte MinVersion, byte MaxVersion, RelayCapabilities Capabilities, string NodeName) : RelayFrame;

/// <summary>The sender now hosts (part of) session <paramref name="SessionId"/> of channel <paramref name="ChannelId"/>.</summary>
public sealed record RelaySessionJoin(string ChannelId, string SessionId) : RelayFrame;

/// <summary>The sender no longer hosts any connection of the session.</summary>
public sealed record RelaySessionLeave(string ChannelId, string SessionId) : RelayFrame;

/// <summary>
/// A connection as the other nodes need to know it (notifications, connection lists, routing).
/// <paramref name="Role"/>: 0 sendrecv, 1 sendonly, 2 recvonly. <paramref name="NotifyMetadataJson"/>: raw UTF-8 JSON
/// (one value) or null.
/// </summary>
public sealed record RelayConnection(string ConnectionId, string ClientId, string BundleId, string ChannelId, byte Role,
    bool Audio, bool Video, long CreatedAtUnixMs, byte[]? NotifyMetadataJson)
{
    public bool Equals(RelayConnection? other) =>
        other is not null && ConnectionId == other.ConnectionId && ClientId == other.ClientId && BundleId == other.BundleId
        && ChannelId == other.ChannelId && Role == other.Role && Audio == other.Audio && Video == other.Video
        && CreatedAtUnixMs == other.CreatedAtUnixMs
        && (NotifyMetadataJson is null
            ? other.NotifyMetadataJson is null
            : other.NotifyMetadataJson is not null && NotifyMetadataJson.AsSpan().SequenceEqual(other.NotifyMetadataJson));

    public override int GetHashCode() => HashCode.Combine(ConnectionId, ClientId, ChannelId, CreatedAtUnixMs);
}

/// <summary>A connection of the session started on the sender.</summary>
public sealed record RelayConnectionUp(string SessionId, RelayConnection Connection) : RelayFrame;

/// <summary>A connection of the session ended on the sender, with its reason and connected minutes.</summary>
public sealed record RelayConnectionDown(string SessionId, string ConnectionId, string Reason, int Minutes) : RelayFrame;

/// <summary>The codec of a relayed track. <paramref name="RtxPayloadType"/> 0 means no RTX.</summary>
public sealed record RelayTrackCodec(string Name, byte PayloadType, uint ClockRate, byte Channels, string? Fmtp, byte RtxPayloadType,
    IReadOnlyList<string> Feedback)
{
    public bool Equals(RelayTrackCodec? other) =>
        other is not null && Name == other.Name && PayloadType == other.PayloadType && ClockRate == other.ClockRate
        && Channels == other.Channels && Fmtp == other.Fmtp && RtxPayloadType == other.RtxPayloadType
        && (ReferenceEquals(Feedback, other.Feedback)
            || (Feedback is not null && other.Feedback is not null && Feedback.SequenceEqual(other.Feedback, StringComparer.Ordinal)));

    public override int GetHashCode() => HashCode.Combine(Name, PayloadType, ClockRate, Channels);
}

/// <summary>
/// A track published on the sender. <paramref name="Kind"/>: 0 audio, 1 video. <paramref name="RtxSsrc"/> 0 means no RTX.
/// </summary>
public sealed record RelayTrackUp(string SessionId, string ConnectionId, string TrackId, byte Kind, uint Ssrc, uint RtxSsrc,
    RelayTrackCodec Codec) : RelayFrame;

/// <summary>One simulcast layer of a relayed track: its rid and the SSRCs it is relayed with.</summary>
public sealed record RelayLayer(string Rid, uint Ssrc, uint RtxSsrc);

/// <summary>
/// The layers of the simulcast track <paramref name="TrackId"/> (layer 0 first, the one its TrackUp announces), sent just
/// before that TrackUp on links sharing <see cref="RelayCapabilities.SimulcastLayers"/>: the receiving node makes the
/// track a group of layers, each relayed with its own SSRC.
/// </summary>
public sealed record RelayTrackLayers(string SessionId, string ConnectionId, string TrackId, IReadOnlyList<RelayLayer> Layers) : RelayFrame
{
    public bool Equals(RelayTrackLayers? other) =>
        base.Equals(other) && SessionId == other!.SessionId && ConnectionId == other.ConnectionId && TrackId == other.TrackId
        && Layers.SequenceEqual(other.Layers);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), SessionId, ConnectionId, TrackId, Layers.Count);
}

/// <summary>
/// The layers of the simulcast track announced with <paramref name="Ssrc"/> (its layer 0) that the sender of this frame
/// needs now: bit i = layer i. Sent toward the publisher's node when it changes, and again every few seconds.
/// </summary>
public sealed record RelayLayerDemand(string SessionId, uint Ssrc, byte Mask) : RelayFrame;

/// <summary>One focused sender of a spotlight session, and whether its focus is fixed (FocusSpotlightFixed).</summary>
public sealed record RelayFocus(string ConnectionId, bool Fixed);

/// <summary>
/// The spotlight focus of a session as its decider (the sender of this frame) has it: the number of focuses and the
/// focused senders. Sent on every change and every 2 s again (D-40).
/// </summary>
public sealed record RelaySpotlightFocus(string SessionId, byte Number, IReadOnlyList<RelayFocus> Focused) : RelayFrame
{
    public bool Equals(RelaySpotlightFocus? other) =>
        base.Equals(other) && SessionId == other!.SessionId && Number == other.Number && Focused.SequenceEqual(other.Focused);

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), SessionId, Number, Focused.Count);
}

/// <summary>A track of the sender ended.</summary>
public sealed record RelayTrackDown(string SessionId, string ConnectionId, string TrackId) : RelayFrame;

/// <summary>The sender's subscribers need a key frame of the track <paramref name="Ssrc"/> (sent toward its publisher's node).</summary>
public sealed record RelayKeyFrameRequest(string SessionId, uint Ssrc) : RelayFrame;

/// <summary>A data-channel message of the session, to be delivered by the receiving node to its own connections.</summary>
public sealed record RelayMessage(string SessionId, string SenderConnectionId, string SenderBundleId, string Label, bool Binary,
    byte[] Payload) : RelayFrame
{
    public bool Equals(RelayMessage? other) =>
        base.Equals(other) && SessionId == other!.SessionId && SenderConnectionId == other.SenderConnectionId
        && SenderBundleId == other.SenderBundleId && Label == other.Label && Binary == other.Binary
        && (ReferenceEquals(Payload, other.Payload)
            || (Payload is not null && other.Payload is not null && Payload.AsSpan().SequenceEqual(other.Payload)));

    public override int GetHashCode() => HashCode.Combine(base.GetHashCode(), SessionId, SenderConnectionId, Label, Payload?.Length);
}

/// <summary>
/// A relayed RTP packet read in place (no copy, no allocation): spans into the frame it was read from, valid as long
/// as that buffer is.
/// </summary>
public readonly ref struct RelayRtpView
{
    internal RelayRtpView(ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros, ReadOnlySpan<byte> rtp)
    {
        SessionId16 = sessionId16;
        Ssrc = ssrc;
        SentAtMicros = sentAtMicros;
        Rtp = rtp;
    }

    /// <summary>The session's Sora id as 16 raw bytes (<c>SoraId.Encode</c> gives the 26-character form).</summary>
    public ReadOnlySpan<byte> SessionId16 { get; }
    /// <summary>The SSRC the track was announced with (its <see cref="RelayTrackUp.Ssrc"/> or <see cref="RelayTrackUp.RtxSsrc"/>).</summary>
    public uint Ssrc { get; }
    public long SentAtMicros { get; }
    /// <summary>The RTP packet (at least the 12-byte fixed header, version 2).</summary>
    public ReadOnlySpan<byte> Rtp { get; }
}

/// <summary>
/// A publisher's RTCP sender report for one of its tracks (RFC 3550 §6.4.1: NTP time ↔ RTP timestamp), so that the
/// receiving node can give its subscribers of the relayed track their own sender reports (lip sync). Sent only on links
/// whose Hellos both carry <see cref="RelayCapabilities.SenderReports"/>.
/// </summary>
public sealed record RelaySenderReport(string SessionId, uint Ssrc, ulong NtpTimestamp, uint RtpTimestamp) : RelayFrame;

/// <summary>
/// Where the sender takes relayed RTP datagrams (its media worker 0's UDP endpoint) and how to address and key them:
/// <paramref name="RouteId"/> is what the peer puts in each datagram (non-zero, chosen by the sender of this frame, the
/// receiver of the datagrams), <paramref name="Salt"/> is new with each announcement and goes into the key derivation
/// (RelayDatagramKeys.Derive). Sent once per link after the Hellos, when both offer <see cref="RelayCapabilities.UdpMedia"/>.
/// </summary>
public sealed record RelayUdpEndpoint(System.Net.IPAddress Address, ushort Port, uint RouteId, UInt128 Salt) : RelayFrame;

/// <summary>
/// The sender received an authenticated probe datagram on route <paramref name="RouteId"/>: its peer's datagrams reach
/// it, so the peer may carry RTP over UDP from now on (until then it stays on the node link).
/// </summary>
public sealed record RelayUdpConfirm(uint RouteId) : RelayFrame;
