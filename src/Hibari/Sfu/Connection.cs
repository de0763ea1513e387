using Hibari.Sdp;

namespace Hibari.Sfu;

internal enum ConnectionState { Offered, Answered, Connected, Closed }

/// <summary>
/// One client of a session (mediasoup's Transport + its Producers/Consumers, seen from signaling): identity, the
/// m-line layout of its offers, its transport and, once connected, its publications. Mutated under the engine's
/// lock; its media-plane parts are changed on the media thread through posts.
/// </summary>
public sealed class Connection
{
    internal Connection(ConnectionInfo info, Session session, IConnectionSignaling signaling, PeerTransport transport,
        RtpCodec? audioCodec, RtpCodec? videoCodec)
    {
        Info = info;
        Session = session;
        Signaling = signaling;
        Transport = transport;
        AudioCodec = audioCodec;
        VideoCodec = videoCodec;
        SpotlightFocusRid = info.SpotlightFocusRid;
        SpotlightUnfocusRid = info.SpotlightUnfocusRid;
    }

    public ConnectionInfo Info { get; internal set; }
    /// <summary>
    /// The client's latest RTCStats report (its `pong` to a `ping` with `stats: true`, or a `stats` message on DC:stats),
    /// with when it came (D-56). Written by the connection's signaling loop, read by the API: one reference, replaced whole.
    /// </summary>
    public volatile RtcStatsSample? RtcStats;
    public string ConnectionId => Info.ConnectionId;
    internal Session Session { get; }
    internal IConnectionSignaling Signaling { get; }
    internal PeerTransport Transport { get; }
    internal OfferLayout Layout { get; } = new();
    /// <summary>Codecs this client publishes with (null: does not publish that kind).</summary>
    internal RtpCodec? AudioCodec { get; }
    internal RtpCodec? VideoCodec { get; }
    internal LayoutSection? AudioSection { get; set; }
    internal LayoutSection? VideoSection { get; set; }
    internal List<Publication> Publications { get; } = [];

    /// <summary>
    /// The simulcast layer this receiver asked for: per sender (RequestSimulcastRid with sender_connection_id), else for
    /// every sender (connect's simulcast_request_rid / simulcast_rid, the API without a sender), else null (r0). Control context.
    /// </summary>
    internal string? SimulcastRid { get; set; }
    internal Dictionary<string, string> SimulcastRidBySender { get; } = [];

    internal string? SimulcastRidFor(string senderConnectionId) =>
        SimulcastRidBySender.GetValueOrDefault(senderConnectionId) ?? SimulcastRid ?? Info.SimulcastRid;

    /// <summary>Spotlight rids this receiver gets (RequestSpotlightRid changes them, ResetSpotlightRid restores the connect's; D-37).</summary>
    internal string SpotlightFocusRid { get; set; }
    internal string SpotlightUnfocusRid { get; set; }
    /// <summary>Per-sender spotlight rids (BatchRequestSpotlightRid, RequestSpotlightRid with send_connection_id).</summary>
    internal Dictionary<string, (string Focus, string Unfocus)> SpotlightRidsBySender { get; } = [];

    /// <summary>
    /// What this receiver's subscription to <paramref name="p"/> should forward, as a rid ("none" pauses it). In a
    /// spotlight session: a focused sender's video at the focus rid and audio, an unfocused one's video at the unfocus rid
    /// and no audio (D-37); otherwise audio always and video at the simulcast rid asked for. Control context.
    /// </summary>
    internal string DesiredRidFor(Publication p)
    {
        if (Info.Spotlight && Session.Spotlight is { } room)
        {
            var focused = room.IsFocused(p.ConnectionId);
            if (p.Kind == Sdp.MediaKind.Audio) return focused ? "r0" : "none";
            var (f, u) = SpotlightRidsBySender.TryGetValue(p.ConnectionId, out var pair) ? pair : (SpotlightFocusRid, SpotlightUnfocusRid);
            return focused ? f : u;
        }
        return p.Kind == Sdp.MediaKind.Audio ? "r0" : SimulcastRidFor(p.ConnectionId) ?? "r0";
    }

    /// <summary>Posts <see cref="DesiredRidFor"/> to the subscriptions of <paramref name="senderId"/> (every sender when null). Control context.</summary>
    internal void ApplyDesiredRids(string? senderId = null)
    {
        foreach (var section in Layout.Sections)
        {
            if (section.Subscription is not { } sub || (senderId is not null && sub.Publication.ConnectionId != senderId)) continue;
            var rid = DesiredRidFor(sub.Publication);
            sub.Subscriber.Worker.Post(() => sub.RequestedRid = rid);
        }
    }

    /// <summary>Whether this connection publishes its video as simulcast layers (issue 12): `simulcast` and a video section.</summary>
    public bool SimulcastPublishing => Info.Simulcast && VideoCodec is not null;

    /// <summary>The offer's `encodings` for a simulcast publisher (the auth webhook's or Sora's default), else null.</summary>
    public System.Text.Json.JsonElement? Encodings =>
        SimulcastPublishing ? Info.SimulcastEncodings ?? Hibari.Signaling.Messages.SimulcastEncodings.Default : null;
    internal ConnectionState State { get; set; } = ConnectionState.Offered;
    /// <summary>A re-offer is out and its re-answer has not come back; changes meanwhile set <see cref="Dirty"/>.</summary>
    internal bool AwaitingReAnswer { get; set; }
    internal bool Dirty { get; set; }
    internal DateTimeOffset? ConnectedAt { get; set; }
    internal string? DisconnectReason { get; set; }

    public bool IsConnected => State == ConnectionState.Connected;

    /// <summary>The mids of the client's sending m-lines (offer field `mid`).</summary>
    public (string? Audio, string? Video) SendMids => (AudioSection?.Mid, VideoSection?.Mid);
}

/// <summary>An RTCStats report as a client sent it (a JSON array of RTCStats objects) and when it arrived (D-56).</summary>
public sealed record RtcStatsSample(DateTimeOffset At, System.Text.Json.JsonElement Stats);

