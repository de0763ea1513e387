using System.Net;
using Hibari.Config;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Transport;
using Hibari.Rtc.TurnHost;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>Why the SFU refuses a connect before it has an offer (mapped to close codes by the signaling layer).</summary>
public enum AdmissionRefusal { None, BlockNewConnection, BlockNewSession, MaxConnections }

/// <summary>
/// The node's SFU (mediasoup's Routers): sessions by channel, their connections, the media workers and the DTLS
/// certificate. Topology changes (join, answer, leave) take one lock; packets never do — they stay on the media
/// workers (<see cref="MediaWorker"/>), each of which owns the connections placed on it. Facts from the workers reach
/// this class through its control queue, never on a worker's thread (docs/threads.md).
/// <para>
/// A facade over its parts, which share one <see cref="SfuContext"/> and so one topology lock (<c>_gate</c>):
/// <see cref="SessionRegistry"/> (sessions, connections, admission, destroy), <see cref="ConnectionLifecycle"/>
/// (join, connected, leave), <see cref="Negotiator"/> (offers and answers), <see cref="RemoteConnections"/> (the
/// relay's connections and tracks), <see cref="DataChannelWiring"/> and <see cref="SfuApiView"/> (docs/architecture.md).
/// </para>
/// </summary>
public sealed class SfuEngine : IDisposable
{
    private readonly SfuContext _ctx;
    // The topology lock, shared by every part through _ctx (SfuContext.Gate); workers never take it (docs/threads.md).
    private readonly object _gate = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly Messaging.MessageRouter _messages;
    private readonly SessionRegistry _sessions;
    private readonly Negotiator _negotiator;
    private readonly ConnectionLifecycle _lifecycle;
    private readonly RemoteConnections _remote;
    private readonly DataChannelWiring _dataChannels;
    private readonly SfuApiView _api;
    private readonly Spotlight.SpotlightService _spotlight;

    /// <param name="capacity">This node's connection limit now (in a cluster, with takeover, C-TAKE); the licence's when null.</param>
    public SfuEngine(HibariOptions options, Func<string> mode, ILoggerFactory loggerFactory, TimeProvider? time = null,
        ISessionStore? sessions = null, Func<int>? capacity = null)
    {
        _loggerFactory = loggerFactory;
        _ctx = new SfuContext(_gate, options, time ?? TimeProvider.System, loggerFactory.CreateLogger("Hibari.Sfu"));
        _messages = new Messaging.MessageRouter(Counters, loggerFactory.CreateLogger("Hibari.Messaging"));
        _sessions = new SessionRegistry(_ctx, sessions ?? LocalSessionStore.Instance, mode, capacity ?? (() => options.LicenseMaxConnections));
        _negotiator = new Negotiator(_ctx);
        _dataChannels = new DataChannelWiring(_ctx, _messages, (id, reason) => Leave(id, reason));
        _spotlight = new Spotlight.SpotlightService(_ctx, Counters);
        _lifecycle = new ConnectionLifecycle(_ctx, _sessions, _negotiator, _dataChannels, _spotlight);
        // A connection's TURN credentials and allocations last exactly as long as the connection (D-57).
        _lifecycle.ConnectionDestroyed += (info, _, _) => Turn?.Revoke(info.ConnectionId);
        _remote = new RemoteConnections(_ctx, _sessions, _negotiator, _messages);
        _api = new SfuApiView(_ctx, _sessions, (id, reason) => Leave(id, reason));
    }

    /// <summary>Where local clients' messaging messages go besides this node (the relay, issue 6).</summary>
    public Messaging.IMessageRelay? MessageRelay
    {
        get => _messages.Relay;
        set => _messages.Relay = value;
    }

    /// <summary>
    /// Queues work on the SFU's control context (docs/threads.md): one item at a time, in order, never on the caller's
    /// thread. Node-link readers post the relay's control frames here instead of changing the topology themselves.
    /// </summary>
    public void PostControl(Action item) => _ctx.Control.Post(item);

    internal ControlQueue Control => _ctx.Control;

    /// <summary>Counters kept off the media workers (DTLS failures, messaging, client stats); see <see cref="CountersSnapshot"/> for the node's totals.</summary>
    public SfuCounters Counters { get; } = new();
    public MediaWorkers Workers => _ctx.Workers;

    /// <summary>The node's media counters: the control side's plus every worker's (each written by its worker only).</summary>
    public SfuCounters CountersSnapshot()
    {
        var sum = new SfuCounters();
        sum.Add(Counters);
        foreach (var c in _ctx.WorkerCounters) sum.Add(c);
        return sum;
    }
    public string Fingerprint => _ctx.Certificate?.Fingerprint ?? "";

    /// <summary>A session was created on this node (first connection of a channel): session.created webhook.</summary>
    public event Action<SessionEvent>? SessionCreated { add => _sessions.SessionCreated += value; remove => _sessions.SessionCreated -= value; }
    /// <summary>A session ended, session_destroy_delay_ms after its last connection left: session.destroyed webhook.</summary>
    public event Action<SessionEvent>? SessionDestroyed { add => _sessions.SessionDestroyed += value; remove => _sessions.SessionDestroyed -= value; }
    /// <summary>This node joined or created a channel's session (it has or will have clients of it): (channel, session).</summary>
    public event Action<string, string>? SessionOpened { add => _sessions.SessionOpened += value; remove => _sessions.SessionOpened -= value; }
    /// <summary>This node's part of a session ended (no connections here or on relayed nodes for the destroy delay).</summary>
    public event Action<string, string>? SessionClosed { add => _sessions.SessionClosed += value; remove => _sessions.SessionClosed -= value; }
    /// <summary>A connection became connected (ICE + DTLS up): event webhook connection.created.</summary>
    public event Action<ConnectionInfo>? ConnectionCreated { add => _lifecycle.ConnectionCreated += value; remove => _lifecycle.ConnectionCreated -= value; }
    /// <summary>A connection ended (after it was created, or while it was being set up when <c>failed</c> is true).</summary>
    public event Action<ConnectionInfo, string, bool>? ConnectionDestroyed { add => _lifecycle.ConnectionDestroyed += value; remove => _lifecycle.ConnectionDestroyed -= value; }

    public void Start()
    {
        var options = _ctx.Options;
        Directory.CreateDirectory(options.DataDir);
        _ctx.Certificate = DtlsCertificate.LoadOrCreate(options.DataDir);
        var warm = DtlsWarmup.Run(); // docs/protocol-notes.md, "DTLS pitfalls" 7: the first handshake pays the JIT
        _ctx.Log.LogInformation("DTLS warm-up handshake took {Ms} ms", (int)warm.TotalMilliseconds);
        var candidate = options.RtcPublicAddress ?? options.ListenAddress;
        _ctx.CandidateAddress = candidate;
        if (candidate.Equals(IPAddress.Any) || candidate.Equals(IPAddress.IPv6Any))
            throw new InvalidOperationException("listen_address is a wildcard: set rtc_public_address to the IP clients reach");
        var count = options.MediaWorkers;
        var workers = new MediaWorkers(options.ListenAddress, options.RtcUdpPort, count, _loggerFactory, _ctx.Time,
            unauthenticatedPerAddress: options.RtcMaxUnauthenticatedPerAddress);
        _ctx.Workers = workers;
        _ctx.WorkerCounters = Enumerable.Range(0, count).Select(_ => new SfuCounters()).ToArray();
        _ctx.WorkerLoad = new int[count];
        workers.Start();
        _ctx.Log.LogInformation("Media: {Count} worker(s) on udp {EndPoints}, candidates advertise {Address}", count,
            string.Join(", ", workers.All.Select(w => w.LocalEndPoint.ToString())), candidate);
        if (options.Turn) StartTurn(options, candidate, workers);
    }

    /// <summary>The node's TURN server (D-57), or null when `turn = false`.</summary>
    public TurnService? Turn { get; private set; }
    private readonly TurnCredentialStore _turnCredentials = new();
    private string _turnUdpUrl = "";
    private string? _turnTcpUrl, _turnTlsUrl;

    private void StartTurn(HibariOptions options, IPAddress candidate, MediaWorkers workers)
    {
        var host = options.TurnFqdn ?? (candidate.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{candidate}]" : candidate.ToString());
        var turn = new TurnService(new TurnServiceOptions
        {
            ListenAddress = options.ListenAddress,
            // Relayed addresses are reserved by binding them, so they live on the listening address (unless it is a wildcard).
            RelayAddress = options.ListenAddress.Equals(IPAddress.Any) || options.ListenAddress.Equals(IPAddress.IPv6Any) ? candidate : options.ListenAddress,
            MediaAddresses = [options.ListenAddress, candidate],
            Realm = options.TurnRealm ?? options.TurnFqdn ?? "hibari",
            UdpPort = options.TurnUdpPort,
            Tcp = options.TurnTcp,
            TcpPort = options.TurnTcpListenPort,
            TlsCertificatePath = options.TurnTlsCertificate,
            TlsPrivateKeyPath = options.TurnTlsPrivateKey,
            TlsPort = options.TurnTlsListenPort,
            MaxAllocations = options.TurnMaxAllocations,
            MaxBytesPerSecondPerAllocation = options.TurnMaxBitRatePerAllocation * 1000L / 8,
        }, _turnCredentials, workers.All, _loggerFactory.CreateLogger("Hibari.Turn"), _ctx.Time);
        turn.Start();
        Turn = turn;
        _turnUdpUrl = $"turn:{host}:{turn.UdpPort}?transport=udp";
        if (options.TurnTcp) _turnTcpUrl = $"turn:{host}:{options.TurnTcpPort ?? turn.TcpPort}?transport=tcp";
        if (options.TurnTls)
            _turnTlsUrl = $"turns:{options.TurnTlsFqdn ?? options.TurnFqdn ?? host}:{options.TurnTlsPort ?? (turn.TlsEnabled ? turn.TlsPort : 5349)}?transport=tcp";
    }

    /// <summary>
    /// The offer's `config.iceServers` for a connection: the node's TURN URLs with credentials issued for it, valid on this
    /// node only and only while the connection lives (D-57). Empty when TURN is off.
    /// </summary>
    /// <param name="tcpOnly">The auth webhook's `turn_tcp_only`: only the TURN-TCP URL (none when TURN over TCP is off).</param>
    /// <param name="tlsOnly">The auth webhook's `turn_tls_only`: only the TURN-TLS URL (none when `turn_tls` is off).</param>
    public IReadOnlyList<IceServer> IceServersFor(string connectionId, bool tcpOnly = false, bool tlsOnly = false)
    {
        if (Turn is null) return [];
        string?[] chosen = tlsOnly ? [_turnTlsUrl] : tcpOnly ? [_turnTcpUrl] : [_turnUdpUrl, _turnTcpUrl, _turnTlsUrl];
        var urls = chosen.OfType<string>().ToArray();
        if (urls.Length == 0) return [];
        var (username, password) = _turnCredentials.Issue(connectionId);
        return [new IceServer(urls, username, password)];
    }

    // --- sessions (SessionRegistry) ---

    /// <summary>Connections on this node, set up or connected (what license_max_connections limits, C-PLACE-0).</summary>
    public int ConnectionCount => _sessions.ConnectionCount;
    public int SessionCount => _sessions.SessionCount;

    /// <summary>Mode and licence checks before anything else happens (C-PLACE-0, C-MODE).</summary>
    public AdmissionRefusal Admit(string channelId) => _sessions.Admit(channelId);

    /// <summary>The channel's current session id on this node, if any (for the auth webhook).</summary>
    public string? SessionIdOf(string channelId) => _sessions.SessionIdOf(channelId);

    /// <summary>
    /// Makes sure the channel has a session on this node: joins the channel's session in the store (creating it there
    /// if the channel has none), or reports the node that holds it when it may not span nodes. Cancels a pending
    /// destroy. Raises <see cref="SessionCreated"/> when this created the session.
    /// </summary>
    public Task<SessionJoin> EnsureSessionAsync(string channelId, CancellationToken ct) => _sessions.EnsureSessionAsync(channelId, ct);

    // --- connections (ConnectionLifecycle, Negotiator) ---

    /// <summary>
    /// Joins the channel's session (see <see cref="EnsureSessionAsync"/>) and builds the connection's first offer: its own sending m-lines,
    /// the data-channel m-line, and one m-line per track of every connected publisher it may receive.
    /// </summary>
    public JoinResult Join(ConnectionInfo requested, IConnectionSignaling signaling) => _lifecycle.Join(requested, signaling);

    /// <summary>Applies the client's answer: learns its SSRCs and fingerprint, starts ICE and the DTLS server.</summary>
    public string? ApplyAnswer(Connection connection, string sdp) => _negotiator.ApplyAnswer(connection, sdp);

    /// <summary>Applies a re-answer: activates the m-lines it accepted, then sends the next re-offer if changes piled up.</summary>
    public string? ApplyReAnswer(Connection connection, string sdp) => _negotiator.ApplyReAnswer(connection, sdp);

    /// <summary>Ends a connection (client disconnect, WebSocket gone, API, ICE/DTLS failure); idempotent.</summary>
    public void Leave(string connectionId, string reason) => _lifecycle.Leave(connectionId, reason);

    // --- data channels (DataChannelWiring) ---

    /// <inheritdoc cref="DataChannelWiring.SendOnDataChannel"/>
    public void SendOnDataChannel(Connection c, string label, byte[] utf8) => _dataChannels.SendOnDataChannel(c, label, utf8);

    /// <inheritdoc cref="DataChannelWiring.CloseDataChannelsAsync"/>
    public Task CloseDataChannelsAsync(Connection c, TimeSpan timeout) => _dataChannels.CloseDataChannelsAsync(c, timeout);

    // --- relay: the session's connections and tracks on other nodes (RemoteConnections) ---

    /// <summary>The local session with this id (null: this node has no part of it).</summary>
    internal Session? SessionById(string sessionId) => _sessions.SessionById(sessionId);

    /// <summary>The connected local connections of a session (what a newly relayed node must hear about).</summary>
    public IReadOnlyList<ConnectionInfo> LocalConnections(string sessionId) => _sessions.LocalConnections(sessionId);

    /// <summary>Sets where a session's local tracks are relayed (null: nowhere).</summary>
    internal void SetRelay(string sessionId, IRelayFanout? relay) => _sessions.SetRelay(sessionId, relay);

    /// <inheritdoc cref="RemoteConnections.AddRemoteConnection"/>
    public void AddRemoteConnection(string node, string sessionId, ConnectionInfo info) => _remote.AddRemoteConnection(node, sessionId, info);

    /// <inheritdoc cref="RemoteConnections.RemoveRemoteConnection"/>
    public void RemoveRemoteConnection(string sessionId, string connectionId, int minutes) => _remote.RemoveRemoteConnection(sessionId, connectionId, minutes);

    /// <inheritdoc cref="RemoteConnections.DropRemoteNode"/>
    public void DropRemoteNode(string node, string? sessionId = null) => _remote.DropRemoteNode(node, sessionId);

    /// <inheritdoc cref="RemoteConnections.AddRemoteLayers"/>
    internal void AddRemoteLayers(string sessionId, string connectionId, string trackId, IReadOnlyList<(string Rid, uint Ssrc)> layers) =>
        _remote.AddRemoteLayers(sessionId, connectionId, trackId, layers);

    /// <inheritdoc cref="RemoteConnections.LayerDemandChanged"/>
    internal event Action? LayerDemandChanged { add => _remote.LayerDemandChanged += value; remove => _remote.LayerDemandChanged -= value; }

    /// <inheritdoc cref="RemoteConnections.LayerDemands"/>
    internal List<(string Node, string SessionId, uint Ssrc, byte Mask)> RelayedLayerDemands() => _remote.LayerDemands();

    /// <inheritdoc cref="RemoteConnections.AddRemoteTrack"/>
    internal void AddRemoteTrack(string sessionId, string connectionId, string trackId, Sdp.MediaKind kind, uint ssrc, Sdp.RtpCodec codec, IKeyFrameTarget keyFrames) =>
        _remote.AddRemoteTrack(sessionId, connectionId, trackId, kind, ssrc, codec, keyFrames);

    internal void RemoveRemoteTrack(string sessionId, string connectionId, string trackId) => _remote.RemoveRemoteTrack(sessionId, connectionId, trackId);

    /// <inheritdoc cref="RemoteConnections.HandRelayedRtp"/>
    internal bool HandRelayedRtp(Rtc.Transport.ExternalRings rings, UInt128 session, uint ssrc, ReadOnlySpan<byte> rtp) =>
        _remote.HandRelayedRtp(rings, session, ssrc, rtp);

    /// <inheritdoc cref="RemoteConnections.PostRelayedSenderReport"/>
    internal void PostRelayedSenderReport(UInt128 session, uint ssrc, ulong ntp, uint rtp) => _remote.PostRelayedSenderReport(session, ssrc, ntp, rtp);

    /// <inheritdoc cref="RemoteConnections.RequestKeyFrame"/>
    internal void RequestKeyFrame(string sessionId, uint ssrc) => _remote.RequestKeyFrame(sessionId, ssrc);

    /// <inheritdoc cref="RemoteConnections.DeliverRelayedMessage"/>
    public void DeliverRelayedMessage(Messaging.MessagingMessage m) => _remote.DeliverRelayedMessage(m);

    // --- the HTTP API's view (SfuApiView) ---

    /// <inheritdoc cref="SfuApiView.ChannelConnectionCounts"/>
    public Dictionary<string, int> ChannelConnectionCounts() => _api.ChannelConnectionCounts();

    public ChannelCounts CountsOf(string channelId) => _api.CountsOf(channelId);

    public IReadOnlyList<ConnectionInfo> ListConnections(string? channelId = null) => _api.ListConnections(channelId);

    /// <inheritdoc cref="SfuApiView.Disconnect"/>
    public int Disconnect(string channelId, string? connectionId, string? clientId, string reason, ConnectionRole? role = null) =>
        _api.Disconnect(channelId, connectionId, clientId, reason, role);

    /// <inheritdoc cref="SfuApiView.ChangeExtMetadata"/>
    public ConnectionInfo? ChangeExtMetadata(string channelId, string connectionId, Func<System.Text.Json.JsonElement?, System.Text.Json.JsonElement?> change) =>
        _api.ChangeExtMetadata(channelId, connectionId, change);

    // --- forwarding filters (D-54) ---

    /// <summary>The channel's filters and each connected receiver's own on this node; null when this node has no session of the channel.</summary>
    public (IReadOnlyList<ForwardingFilter> Channel, List<(string ConnectionId, IReadOnlyList<ForwardingFilter> Filters)> Connections)? ForwardingFiltersOf(string channelId)
    {
        lock (_ctx.Gate)
        {
            if (!_sessions.ByChannel.TryGetValue(channelId, out var session)) return null;
            return (session.ChannelForwardingFilters,
                session.Connected.Where(c => c.Info.Receives).OrderBy(c => c.Info.CreatedAt)
                    .Select(c => (c.ConnectionId, c.Info.ForwardingFilters)).ToList());
        }
    }

    /// <summary>
    /// ListForwardingFilters' `blocked` for this node's receivers of the channel (D-54): per connected receiver (oldest
    /// first) and kind, the senders — local or relayed — whose track the filters keep from it; null when this node has
    /// no session of the channel.
    /// </summary>
    public List<(string DestinationConnectionId, string Kind, List<string> Sources)>? BlockedOf(string channelId)
    {
        lock (_ctx.Gate)
        {
            if (!_sessions.ByChannel.TryGetValue(channelId, out var session)) return null;
            return session.Connected.Where(c => c.Info.Receives).OrderBy(c => c.Info.CreatedAt)
                .SelectMany(c => Negotiator.Blocked(c).Select(b => (c.ConnectionId, b.Kind, b.Sources))).ToList();
        }
    }

    /// <summary>
    /// Replaces the channel's filters on this node with <paramref name="change"/>'s result (null result: refused, the
    /// filters stay) and re-negotiates every receiver of the session here whose tracks change. False when this node
    /// has no session of the channel.
    /// </summary>
    public bool ChangeChannelForwardingFilters(string channelId, Func<IReadOnlyList<ForwardingFilter>, IReadOnlyList<ForwardingFilter>?> change)
    {
        lock (_ctx.Gate)
        {
            if (!_sessions.ByChannel.TryGetValue(channelId, out var session)) return false;
            if (change(session.ChannelForwardingFilters) is not { } next) return true;
            session.ChannelForwardingFilters = next;
            foreach (var c in session.Connected.ToList())
                if (c.Info.Receives) _negotiator.Renegotiate(c);
            return true;
        }
    }

    /// <summary>
    /// Replaces a connected receiver's own filters with <paramref name="change"/>'s result (null result: refused) and
    /// re-negotiates it; the receiver's info, or null when it is not connected here.
    /// </summary>
    public ConnectionInfo? ChangeConnectionForwardingFilters(string channelId, string connectionId,
        Func<IReadOnlyList<ForwardingFilter>, IReadOnlyList<ForwardingFilter>?> change)
    {
        lock (_ctx.Gate)
        {
            if (!_sessions.Connections.TryGetValue(connectionId, out var c) || c.State != ConnectionState.Connected || c.Info.ChannelId != channelId)
                return null;
            if (change(c.Info.ForwardingFilters) is not { } next) return c.Info;
            c.Info = c.Info with { ForwardingFilters = next };
            if (c.Info.Receives) _negotiator.Renegotiate(c);
            return c.Info;
        }
    }

    /// <summary>
    /// A client changed its own metadata-extension value over `rpc` (D-52): raised after this node applied and told its
    /// participants, so the node can tell the session's other owners. (channel id, connection id, value, push)
    /// </summary>
    public event Action<string, string, System.Text.Json.JsonElement?, bool>? ExtMetadataChangedByClient;

    /// <summary>Applies a client's own metadata-extension change (rpc): here, then the other owners through the event.</summary>
    internal ConnectionInfo? ChangeOwnExtMetadata(ConnectionInfo caller, Func<System.Text.Json.JsonElement?, System.Text.Json.JsonElement?> change, bool push)
    {
        if (ChangeExtMetadata(caller.ChannelId, caller.ConnectionId, change) is not { } info) return null;
        ExtMetadataChanged(info.ChannelId, info.ConnectionId, info.ExtMetadata, push);
        ExtMetadataChangedByClient?.Invoke(info.ChannelId, info.ConnectionId, info.ExtMetadata, push);
        return info;
    }

    /// <summary>Whether `signaling_notify_metadata_ext` is on (D-52).</summary>
    internal bool NotifyMetadataExt => _ctx.Options.SignalingNotifyMetadataExt;

    /// <inheritdoc cref="SfuApiView.ExtMetadataChanged"/>
    public bool ExtMetadataChanged(string channelId, string connectionId, System.Text.Json.JsonElement? metadata, bool push) =>
        _api.ExtMetadataChanged(channelId, connectionId, metadata, push);

    /// <inheritdoc cref="SfuApiView.RtcStats"/>
    public IReadOnlyList<(ConnectionInfo Info, RtcStatsSample Stats)> RtcStats(string? channelId = null) => _api.RtcStats(channelId);

    /// <summary>Whether a connected connection of the channel with that id is on this node.</summary>
    public bool HasConnection(string channelId, string connectionId) =>
        ListConnections(channelId).Any(c => c.ConnectionId == connectionId);

    /// <inheritdoc cref="SfuApiView.Sessions"/>
    public IReadOnlyList<SessionSnapshot> Sessions(string? channelId = null) => _api.Sessions(channelId);

    /// <inheritdoc cref="SfuApiView.Terminate"/>
    public string? TerminateSession(string channelId, string? sessionId, string reason) => _api.Terminate(channelId, sessionId, reason);

    /// <inheritdoc cref="SfuApiView.Push"/>
    public int Push(string channelId, string? connectionId, string? clientId, System.Text.Json.JsonElement data, ConnectionRole? role = null) =>
        _api.Push(channelId, connectionId, clientId, data, role);

    /// <summary>Recording (issue 16): the channel's publishing connections here with their local tracks.</summary>
    internal List<(Connection Connection, List<Publication> Tracks)> Publishers(string channelId, string? connectionId = null) =>
        _api.Publishers(channelId, connectionId);

    /// <summary>The channel's connected connections on this node.</summary>
    internal List<Connection> ConnectedIn(string channelId) => _api.ConnectedIn(channelId);

    /// <inheritdoc cref="SfuApiView.RequestKeyFrame"/>
    public bool RequestKeyFrame(string channelId, string connectionId) => _api.RequestKeyFrame(channelId, connectionId);

    /// <inheritdoc cref="SfuApiView.RequestSimulcastRid"/>
    public bool RequestSimulcastRid(string channelId, string receiverId, string? senderId, string? rid) =>
        _api.RequestSimulcastRid(channelId, receiverId, senderId, rid);

    /// <inheritdoc cref="SfuApiView.DisconnectAll"/>
    public void DisconnectAll(string reason) => _api.DisconnectAll(reason);

    /// <inheritdoc cref="SfuApiView.DownlinkEstimates"/>
    public List<(string ConnectionId, long Bps)> DownlinkEstimates() => _api.DownlinkEstimates();

    /// <summary>Connection statistics (GetStatsConnection, GetStatsAllConnections; D-41), taken on the media workers.</summary>
    internal Task<List<ConnectionStats>> ConnectionStatsAsync(string? channelId, string? connectionId) =>
        _api.StatsAsync(channelId, connectionId, TimeSpan.FromSeconds(2));

    // --- spotlight (D-37) ---

    /// <summary>FocusSpotlight / FocusSpotlightFixed.</summary>
    internal Spotlight.SpotlightResult FocusSpotlight(string channelId, string connectionId, bool @fixed) =>
        _spotlight.Focus(_sessions, channelId, connectionId, @fixed);

    /// <summary>The spotlight decider's focus from another node (D-40).</summary>
    internal void ApplyRemoteSpotlight(string sessionId, int number, IReadOnlyList<(string ConnectionId, bool Fixed)> focused) =>
        _spotlight.ApplyRemote(_sessions, sessionId, number, focused);

    /// <summary>UnfocusSpotlight.</summary>
    internal Spotlight.SpotlightResult UnfocusSpotlight(string channelId, string connectionId) => _spotlight.Unfocus(_sessions, channelId, connectionId);

    /// <summary>ChangeSpotlightNumber.</summary>
    internal Spotlight.SpotlightResult ChangeSpotlightNumber(string channelId, int number) => _spotlight.ChangeNumber(_sessions, channelId, number);

    /// <inheritdoc cref="Spotlight.SpotlightService.SetSessionNumber"/>
    public bool SetSessionSpotlightNumber(string channelId, string sessionId, int number) =>
        _spotlight.SetSessionNumber(_sessions, channelId, sessionId, number);

    /// <summary>RequestSpotlightRid / ResetSpotlightRid (null rids) / BatchRequestSpotlightRid items.</summary>
    internal Spotlight.SpotlightResult RequestSpotlightRid(string channelId, string receiverId, string? senderId, string? focusRid, string? unfocusRid) =>
        _spotlight.RequestRid(_sessions, channelId, receiverId, senderId, focusRid, unfocusRid);

    public void Dispose()
    {
        DisconnectAll("SHUTDOWN");
        _spotlight.Dispose();
        _ctx.Control.Dispose();
        Turn?.Dispose();
        _ctx.WorkersIfStarted?.Dispose();
    }
}

public readonly record struct JoinResult(Connection? Connection, string? OfferSdp, string? Error, bool NoSession = false)
{
    /// <param name="noSession">The session ended between EnsureSessionAsync and Join (its destroy delay ran out): ensure again.</param>
    public static JoinResult Fail(string error, bool noSession = false) => new(null, null, error, noSession);
}

/// <summary>One session as this node holds it: current connected connections, and since it opened here (D-50).</summary>
public sealed record SessionSnapshot(string ChannelId, string SessionId, DateTimeOffset CreatedAt, int Connections,
    long TotalConnections, int MaxConnections);

public sealed record SessionEvent(string ChannelId, string SessionId, DateTimeOffset CreatedAt, DateTimeOffset? DestroyedAt,
    long TotalConnections, long MaxConnections);
