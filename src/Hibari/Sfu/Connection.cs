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
    }

    public ConnectionInfo Info { get; internal set; }
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

/// <summary>A channel's session on this node: its id and its connections (docs/protocol-notes.md, "Identifiers and terms").</summary>
internal sealed class Session(string channelId, string sessionId, DateTimeOffset createdAt)
{
    public string ChannelId { get; } = channelId;
    public string SessionId { get; } = sessionId;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public List<Connection> Connections { get; } = [];
    /// <summary>The connected connections, replaced (under the engine's lock) on every change: read by the media thread without a lock.</summary>
    public volatile Connection[] ConnectedSnapshot = [];
    /// <summary>The session's id as 16 bytes (relay frames carry it so).</summary>
    public UInt128 Key { get; } = KeyOf(sessionId);
    /// <summary>Connections of this session on other nodes, by connection id (what the relay reported; all connected).</summary>
    public Dictionary<string, RemoteConnection> Remote { get; } = new(StringComparer.Ordinal);
    /// <summary>Where local tracks' packets also go while the session spans nodes (set by the relay; read on the media thread).</summary>
    public volatile IRelayFanout? Relay;

    public static UInt128 KeyOf(string sessionId)
    {
        Span<byte> b = stackalloc byte[16];
        return Signaling.Messages.SoraId.TryDecode(sessionId, b) ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(b) : UInt128.Zero;
    }

    /// <summary>Pending destroy after the last connection left (session_destroy_delay_ms); cancelled by a new connect.</summary>
    public CancellationTokenSource? PendingDestroy { get; set; }
    public int MaxConnections { get; set; }
    public long TotalConnections { get; set; }

    public IEnumerable<Connection> Connected => Connections.Where(c => c.State == ConnectionState.Connected);

    public ChannelCounts Counts()
    {
        int all = 0, sr = 0, so = 0, ro = 0;
        foreach (var c in Connections)
        {
            if (c.State != ConnectionState.Connected) continue;
            Count(c.Info.Role);
        }
        foreach (var r in Remote.Values) Count(r.Info.Role);
        return new ChannelCounts(all, sr, so, ro);

        void Count(ConnectionRole role)
        {
            all++;
            switch (role)
            {
                case ConnectionRole.SendRecv: sr++; break;
                case ConnectionRole.SendOnly: so++; break;
                default: ro++; break;
            }
        }
    }
}

/// <summary>A connection of a relayed session on another node: what notifies and offers need of it, and its tracks here.</summary>
internal sealed class RemoteConnection(ConnectionInfo info, string node)
{
    public ConnectionInfo Info { get; } = info;
    public string Node { get; } = node;
    public List<Publication> Publications { get; } = [];
}
