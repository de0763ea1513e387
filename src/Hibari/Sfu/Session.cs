namespace Hibari.Sfu;

/// <summary>
/// A channel's session on this node: its id and its connections (docs/protocol-notes.md, "Identifiers and terms").
/// Owned by the SFU's topology lock (<c>SfuEngine._gate</c>); the media workers read only <see cref="MembersSnapshot"/>
/// and <see cref="Relay"/>, without the lock (docs/threads.md).
/// </summary>
internal sealed class Session(string channelId, string sessionId, DateTimeOffset createdAt)
{
    public string ChannelId { get; } = channelId;
    public string SessionId { get; } = sessionId;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public List<Connection> Connections { get; } = [];
    /// <summary>
    /// This node's connections of the session from join to leave, replaced (under the engine's lock) on every change and
    /// read by the media workers without a lock: messaging delivers to those whose data channel for the label is open.
    /// Not only the ones the control context has marked connected: a receiver whose channel is open gets messages even
    /// if its connected fact is still queued (the channel opening proves DTLS and SCTP are up).
    /// </summary>
    public volatile Connection[] MembersSnapshot = [];
    /// <summary>The session's id as 16 bytes (relay frames carry it so).</summary>
    public UInt128 Key { get; } = KeyOf(sessionId);
    /// <summary>Connections of this session on other nodes, by connection id (what the relay reported; all connected).</summary>
    public Dictionary<string, RemoteConnection> Remote { get; } = new(StringComparer.Ordinal);
    /// <summary>The channel forwarding filters (D-54), applied to every receiver of the session on this node; replaced as a whole.</summary>
    public IReadOnlyList<ForwardingFilter> ChannelForwardingFilters { get; set; } = [];
    /// <summary>Where local tracks' packets also go while the session spans nodes (set by the relay; read on the media thread).</summary>
    public volatile IRelayFanout? Relay;

    public static UInt128 KeyOf(string sessionId)
    {
        Span<byte> b = stackalloc byte[16];
        return Signaling.Messages.SoraId.TryDecode(sessionId, b) ? System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(b) : UInt128.Zero;
    }

    /// <summary>The spotlight state while the session has spotlight connections (D-37); control context.</summary>
    public Spotlight.SpotlightRoom? Spotlight { get; set; }
    /// <summary>`spotlight_number` from the session.created webhook's answer (D-55): it wins over the connections' own.</summary>
    public int? SpotlightNumber { get; set; }

    /// <summary>Pending destroy after the last connection left (session_destroy_delay_ms); cancelled by a new connect.</summary>
    public CancellationTokenSource? PendingDestroy { get; set; }
    public int MaxConnections { get; set; }
    public long TotalConnections { get; set; }
    /// <summary>
    /// TerminateSession ran (D-50): its connections are being closed, it ends without the destroy delay, and a connect
    /// that arrives meanwhile waits for it to end and starts a new session.
    /// </summary>
    public bool Terminating { get; set; }

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
