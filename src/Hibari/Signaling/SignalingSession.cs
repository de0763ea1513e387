using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Hibari.Config;
using Hibari.Sfu;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging;

namespace Hibari.Signaling;

/// <summary>
/// One signaling WebSocket: the Sora flow of docs/protocol-notes.md, "Connect sequence" — connect → (admission, auth) → offer → answer →
/// ICE/DTLS → notify, then re-offers, pings, pushes and the end. Errors before the offer close the socket with a
/// 4xxx code (<see cref="SignalingCloses"/>); a normal server close is 1000. Outgoing messages go through one queue
/// and one writer, so the SFU can call in from any thread without blocking.
/// </summary>
internal sealed class SignalingSession : IConnectionSignaling
{
    private const int MaxMessageBytes = 256 * 1024;
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(3);

    private readonly WebSocket _ws;
    private readonly SfuEngine _sfu;
    private readonly HibariOptions _options;
    private readonly IConnectAuthorizer _auth;
    private readonly ILogger _log;
    private readonly Channel<Outgoing> _outbox = Channel.CreateBounded<Outgoing>(new BoundedChannelOptions(4096)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly CancellationTokenSource _stop = new();
    // Everything the connection's loop acts on after the offer: WebSocket messages, data-channel signaling, the SFU's end.
    private readonly Channel<Inbound> _inbox = Channel.CreateBounded<Inbound>(new BoundedChannelOptions(1024)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private Connection? _connection;
    private string _connectionId = "";
    // Data-channel signaling (docs/protocol-notes.md, "Data-channel signaling"): after `switched`, re-offers, notifies, pushes go on data channels;
    // with ignore_disconnect_websocket the WebSocket may go and the connection stays.
    private volatile bool _switched;
    private volatile bool _webSocketGone;
    private bool _ignoreWebSocket;

    public SignalingSession(WebSocket ws, SfuEngine sfu, HibariOptions options, IConnectAuthorizer auth, ILogger log)
    {
        _ws = ws;
        _sfu = sfu;
        _options = options;
        _auth = auth;
        _log = log;
    }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public IConnectPlacement Placement { get; init; } = ServeHere.Instance;
    /// <summary>Called once when the connection reaches `connected` (the server's admission slot is given back, D-44).</summary>
    public Action? OnEstablished { get; init; }
    /// <summary>Where the closes this session sends are counted (by code, for /metrics).</summary>
    public SignalingCloseCounters? CloseCounters { get; init; }
    /// <summary>Where the time from `connect` to `offer` is recorded (the node's histogram).</summary>
    public Metrics.LatencyHistogram? ConnectToOffer { get; init; }
    /// <summary>The node's shared ping timer (one for all its sessions).</summary>
    public required PingScheduler Pings { get; init; }

    public void Established() => OnEstablished?.Invoke();

    public async Task RunAsync(CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, _stop.Token);
        var writer = WriteLoopAsync();
        var reason = "WEBSOCKET-CLOSED";
        try
        {
            reason = await ServeAsync(linked.Token).ConfigureAwait(false) ?? reason;
        }
        catch (OperationCanceledException) { }
        catch (WebSocketException) { }
        finally
        {
            if (_connection is not null)
            {
                _log.LogInformation("Connection {Id} ends: {Reason}", _connectionId, reason);
                _sfu.Leave(_connectionId, reason);
            }
            _outbox.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
    }

    /// <summary>Returns the disconnect reason for the SFU (null: the WebSocket went away).</summary>
    private async Task<string?> ServeAsync(CancellationToken ct)
    {
        var buffer = new MessageBuffer(MaxMessageBytes);
        // 1. connect, within the signaling timeout.
        var first = await ReceiveAsync(buffer, ct, ConnectTimeout).ConfigureAwait(false);
        if (first.Close is { } early) { Close(early); return null; }
        if (first.Length < 0) return null;
        var connectAt = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!ConnectParser.TryParse(buffer.Array.AsSpan(0, first.Length), out var connect, out var invalid))
        {
            Close(invalid);
            return null;
        }
        if (connect.BundleId is not null && !_options.SignalingBundleId) connect = connect with { BundleId = null };

        // 2. placement before auth, then admission (modes, licence), before spending an auth webhook call on it.
        if (Decide(connect, Placement.BeforeAuth(connect))) return null;
        if (Refusal(_sfu.Admit(connect.ChannelId)) is { } refused) { Close(refused); return null; }

        // 3. auth webhook (fail closed) and its overrides, then placement with what auth said (affinity).
        _connectionId = SoraId.New();
        var auth = await _auth.AuthorizeAsync(connect, _connectionId, ct).ConfigureAwait(false);
        if (auth.Refused is { } denied) { Close(denied); return null; }
        var info = auth.Info!;
        if (Decide(connect, Placement.AfterAuth(connect, info))) return null;

        // 4. session (in a cluster: the replicated channel → session record) + offer.
        SessionJoin session;
        try
        {
            session = await _sfu.EnsureSessionAsync(info.ChannelId, ct).ConfigureAwait(false);
        }
        catch (Cluster.ClusterOperationException e)
        {
            _log.LogInformation("Connect {Id} to {Channel}: no session: {Error}", _connectionId, info.ChannelId, e.Message);
            Close(SignalingCloses.ClusterMajorityLost);
            return null;
        }
        if (session.OwnedBy is { } owner)
        {
            // Relay off and the session lives on another node (C-NOREL-2): send the client there.
            if (!Decide(connect, Placement.SessionElsewhere(connect, owner)))
                Close(SignalingCloses.SessionOnAnotherNode);
            return null;
        }
        var join = _sfu.Join(info, this);
        if (join.NoSession)
        {
            // The session's destroy delay ran out in between: join (or create) it once more.
            session = await _sfu.EnsureSessionAsync(info.ChannelId, ct).ConfigureAwait(false);
            if (session.SessionId is not null) join = _sfu.Join(info, this);
        }
        if (join.Connection is not { } connection)
        {
            Close(join.NoSession ? SignalingCloses.SessionNodeUnavailable : SignalingCloses.WithDetail(SignalingCloses.UnsupportedCodecType, join.Error ?? ""));
            _log.LogInformation("Connect refused: {Error}", join.Error);
            return null;
        }
        _connection = connection;
        info = connection.Info;
        _ignoreWebSocket = info.DataChannelSignaling && info.IgnoreDisconnectWebsocket;
        var (audioMid, videoMid) = connection.SendMids;
        Send(ServerMessages.Offer(new OfferMessage
        {
            Sdp = join.OfferSdp!,
            ConnectionId = info.ConnectionId,
            ClientId = info.ClientId,
            BundleId = info.BundleId,
            SessionId = info.SessionId,
            ChannelId = info.ChannelId,
            Metadata = info.AuthzMetadata,
            AudioMid = audioMid,
            VideoMid = videoMid,
            Simulcast = connection.SimulcastPublishing,
            Encodings = connection.Encodings,
            Spotlight = info.Spotlight,
            DataChannelSignaling = info.DataChannelSignaling,
            IgnoreDisconnectWebsocket = info.IgnoreDisconnectWebsocket,
            DataChannels = info.DataChannelSignaling || info.DataChannels.Count > 0
                ? ServerMessages.OfferDataChannels(info.DataChannelSignaling, info.DataChannels, info.RpcMethods.Count > 0) : null,
            RpcMethods = info.RpcMethods,
            Audio = info.Audio,
            AudioCodecType = info.AudioCodecType ?? "OPUS",
            AudioBitRate = info.AudioBitRate,
            Video = info.Video,
            VideoCodecType = info.VideoCodecType ?? _options.DefaultVideoCodecType,
            VideoBitRate = info.VideoBitRate ?? _options.DefaultVideoBitRate,
            IceServers = _sfu.IceServersFor(info.ConnectionId, info.TurnTcpOnly, info.TurnTlsOnly),
            IceTransportPolicy = _options.TurnIceTransportPolicy,
        }));
        ConnectToOffer?.AddSince(connectAt);

        // 5. answer, then the connection's life: WebSocket and data-channel messages through one inbox.
        var answered = false;
        var answerDeadline = DateTime.UtcNow + AnswerTimeout;
        using var ping = Pings.Register(TimeSpan.FromMilliseconds(_options.SignalingPingIntervalMs), PingDue);
        _ = PumpWebSocketAsync(buffer, ct);
        while (true)
        {
            Inbound item;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                if (!answered) wait.CancelAfter(Max(answerDeadline - DateTime.UtcNow));
                try
                {
                    item = await _inbox.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    Close(SignalingCloses.AnswerTimeout);
                    return SignalingCloses.AnswerTimeout.Reason;
                }
            }
            switch (item)
            {
                case Inbound.WebSocketEnded ended:
                    if (ended.Close is { } tooLarge) { Close(tooLarge); return tooLarge.Reason; }
                    _webSocketGone = true;
                    if (_switched && _ignoreWebSocket)
                    {
                        _log.LogDebug("Connection {Id}: WebSocket closed after switched (ignore_disconnect_websocket)", _connectionId);
                        continue;
                    }
                    return null;
                case Inbound.Rpc r:
                    HandleRpc(connection, r.Utf8);
                    break;
                case Inbound.Ended e:
                    if (e.Graceful) await _sfu.CloseDataChannelsAsync(connection, TimeSpan.FromSeconds(1.5)).ConfigureAwait(false);
                    return e.Reason;
                case Inbound.Message m:
                    if (!ClientMessage.TryParse(m.Utf8, out var message, out var bad))
                    {
                        if (!answered && !m.FromDataChannel) { Close(bad); return bad.Reason; }
                        _log.LogDebug("Connection {Id}: ignored a bad message ({Reason})", _connectionId, bad.Reason);
                        continue;
                    }
                    switch (message)
                    {
                        case ClientMessage.Answer a when !answered && !m.FromDataChannel:
                            if (_sfu.ApplyAnswer(connection, a.Sdp) is { } error)
                            {
                                _log.LogInformation("Connection {Id}: invalid answer: {Error}", _connectionId, error);
                                Close(SignalingCloses.InvalidAnswer);
                                return "INVALID-ANSWER";
                            }
                            answered = true;
                            break;
                        case ClientMessage.ReAnswer ra:
                            if (_sfu.ApplyReAnswer(connection, ra.Sdp) is { } reError)
                                _log.LogInformation("Connection {Id}: invalid re-answer: {Error}", _connectionId, reError);
                            break;
                        case ClientMessage.Disconnect d:
                            if (m.FromDataChannel) await _sfu.CloseDataChannelsAsync(connection, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                            if (!_webSocketGone) Close(SignalingCloses.Normal);
                            return string.IsNullOrEmpty(d.Reason) ? "NO-ERROR" : d.Reason;
                        case ClientMessage.StatsReport sr when m.FromDataChannel:
                            Interlocked.Increment(ref _sfu.Counters.ClientStatsReports);
                            if (sr.Reports is { ValueKind: JsonValueKind.Array } reports) connection.RtcStats = new RtcStatsSample(DateTimeOffset.UtcNow, reports);
                            break;
                        case ClientMessage.Pong { Stats: { ValueKind: JsonValueKind.Array } stats }:
                            connection.RtcStats = new RtcStatsSample(DateTimeOffset.UtcNow, stats);
                            break;
                        default:
                            break; // candidates (ICE-lite needs none), pongs, unknown types
                    }
                    break;
            }
        }
    }

    /// <summary>Answers a request of the `rpc` data channel on it (the connection's loop: the SFU calls may take its gate).</summary>
    private void HandleRpc(Connection connection, byte[] utf8)
    {
        Interlocked.Increment(ref _sfu.Counters.RpcRequests);
        var response = Rpc.JsonRpc.TryParse(utf8, out var request, out var error)
            ? Rpc.RpcMethods.Handle(request, connection.Info, _sfu)
            : error;
        if (response is not null) _sfu.SendOnDataChannel(connection, DataChannelLabels.Rpc, response);
    }

    private static TimeSpan Max(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;

    /// <summary>Reads the WebSocket into the inbox until it closes (or a message is too large).</summary>
    private async Task PumpWebSocketAsync(MessageBuffer buffer, CancellationToken ct)
    {
        SignalingClose? close = null;
        try
        {
            while (true)
            {
                var r = await ReceiveAsync(buffer, ct, null).ConfigureAwait(false);
                if (r.Close is { } c) { close = c; break; }
                if (r.Length < 0) break;
                var utf8 = buffer.Array.AsSpan(0, r.Length).ToArray();
                buffer.Shrink();
                await _inbox.Writer.WriteAsync(new Inbound.Message(utf8, false), ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
        _inbox.Writer.TryWrite(new Inbound.WebSocketEnded(close));
    }

    private abstract record Inbound
    {
        public sealed record Message(byte[] Utf8, bool FromDataChannel) : Inbound;
        public sealed record WebSocketEnded(SignalingClose? Close) : Inbound;
        /// <summary>A JSON-RPC request on the `rpc` data channel (D-36).</summary>
        public sealed record Rpc(byte[] Utf8) : Inbound;
        /// <summary>The connection ends; <paramref name="Graceful"/>: let the client close its data channels first.</summary>
        public sealed record Ended(string Reason, bool Graceful = false) : Inbound;
    }

    /// <summary>
    /// Acts on a placement decision; true when the connect is finished here (redirected or refused). A connect that
    /// already followed a redirect (`"redirect": true`) is never sent on again: no redirect chains.
    /// </summary>
    private bool Decide(ConnectRequest connect, PlacementDecision decision)
    {
        if (decision.Refuse is { } refuse)
        {
            _log.LogInformation("Connect to {Channel} refused by placement: {Reason}{Redirected}", connect.ChannelId, refuse.Reason,
                connect.Redirect ? " (a redirected connect)" : "");
            Close(refuse);
            return true;
        }
        if (decision.RedirectTo is not { } location || connect.Redirect) return false;
        _log.LogInformation("Connect to {Channel} redirected to {Location}", connect.ChannelId, location);
        Send(ServerMessages.Redirect(location));
        Close(SignalingCloses.Normal with { Reason = "REDIRECT" });
        return true;
    }

    private long _lastStats;

    /// <summary>
    /// The node's <see cref="PingScheduler"/> calls this every signaling_ping_interval_ms (its thread; only queues
    /// messages). The first ping after connected asks for stats, then one every rtc_stats_interval_ms (D-56).
    /// </summary>
    private void PingDue()
    {
        var statsEvery = _options.RtcStatsIntervalMs;
        var now = Environment.TickCount64;
        var askStats = statsEvery > 0 && _connection is not null && (_lastStats == 0 || now - _lastStats >= statsEvery);
        if (askStats) _lastStats = now;
        // ping/pong stays on the WebSocket (docs/protocol-notes.md, "Data-channel signaling"); a switched connection is asked for its stats on DC:stats.
        if (!_webSocketGone) Send(ServerMessages.Ping(stats: askStats && !_switched));
        if (_switched) SendOn(DataChannelLabels.Stats, ServerMessages.ReqStats());
    }

    private static SignalingClose? Refusal(AdmissionRefusal r) => r switch
    {
        AdmissionRefusal.BlockNewConnection => SignalingCloses.ModeBlockNewConnection,
        AdmissionRefusal.BlockNewSession => SignalingCloses.ModeBlockNewSession,
        AdmissionRefusal.MaxConnections => SignalingCloses.LicenseMaxConnectionsReached,
        _ => null,
    };

    private readonly record struct Received(int Length, SignalingClose? Close);

    /// <summary>
    /// The receive buffer of one WebSocket: 4 KiB, doubled while a message needs more (up to the 256 KiB limit) and
    /// shrunk back once that message was copied out. A connection's life costs 4 KiB, not 256 KiB that would sit on the
    /// large-object heap (a storm of 500 connects once left 400 MiB of RSS behind).
    /// </summary>
    internal sealed class MessageBuffer(int limit)
    {
        private const int Small = 4 * 1024;

        public byte[] Array { get; private set; } = new byte[Math.Min(Small, limit)];

        /// <summary>Doubles the buffer keeping its first <paramref name="used"/> bytes; false at the limit.</summary>
        public bool Grow(int used)
        {
            if (Array.Length >= limit) return false;
            var larger = new byte[Math.Min(limit, Array.Length * 2)];
            Array.AsSpan(0, used).CopyTo(larger);
            Array = larger;
            return true;
        }

        public void Shrink()
        {
            if (Array.Length > Small) Array = new byte[Small];
        }
    }

    /// <summary>One whole text message; Length −1 when the peer closed; a close value on timeout or oversize.</summary>
    /// <remarks>
    /// The timeout races the receive instead of cancelling it: cancelling a WebSocket receive aborts the socket, and
    /// then the 4010/4420 close frame could not be sent — the client saw the TCP connection reset instead (found by the
    /// live signaling fuzz test). A receive left pending ends when the client's close arrives or the socket goes.
    /// </remarks>
    private async Task<Received> ReceiveAsync(MessageBuffer buffer, CancellationToken ct, TimeSpan? timeout)
    {
        var expiry = timeout is { } t ? Task.Delay(t > TimeSpan.Zero ? t : TimeSpan.Zero, ct) : null;
        var used = 0;
        while (true)
        {
            if (used == buffer.Array.Length && !buffer.Grow(used)) return new Received(0, SignalingCloses.MessageTooLarge);
            ValueWebSocketReceiveResult r;
            if (expiry is null) r = await _ws.ReceiveAsync(buffer.Array.AsMemory(used), ct).ConfigureAwait(false);
            else
            {
                var receive = _ws.ReceiveAsync(buffer.Array.AsMemory(used), ct).AsTask();
                if (await Task.WhenAny(receive, expiry).ConfigureAwait(false) != receive)
                {
                    ct.ThrowIfCancellationRequested();
                    _ = receive.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    return new Received(0, _connection is null ? SignalingCloses.ConnectTimeout : SignalingCloses.AnswerTimeout);
                }
                r = await receive.ConfigureAwait(false);
            }
            if (r.MessageType == WebSocketMessageType.Close) return new Received(-1, null);
            used += r.Count;
            if (r.EndOfMessage) return new Received(used, null);
        }
    }

    // --- outgoing ---

    private abstract record Outgoing;
    private sealed record Text(byte[] Utf8) : Outgoing;
    private sealed record CloseFrame(SignalingClose Close) : Outgoing;

    private void Send(byte[] utf8) => _outbox.Writer.TryWrite(new Text(utf8));

    private void Close(SignalingClose close) => _outbox.Writer.TryWrite(new CloseFrame(close));

    private async Task WriteLoopAsync()
    {
        var closed = false;
        try
        {
            await foreach (var item in _outbox.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (_ws.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
                {
                    if (_switched && _ignoreWebSocket) continue; // the connection lives on without it: drop what was meant for it
                    break;
                }
                switch (item)
                {
                    case Text t:
                        await _ws.SendAsync(t.Utf8, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
                        break;
                    case CloseFrame c:
                        CloseCounters?.Count(c.Close);
                        using (var cts = new CancellationTokenSource(CloseHandshakeTimeout))
                            await _ws.CloseOutputAsync((WebSocketCloseStatus)c.Close.Code, c.Close.Reason, cts.Token).ConfigureAwait(false);
                        // The client's close ends the read loop; cancelling a receive aborts the socket, so only after a grace.
                        _stop.CancelAfter(CloseHandshakeTimeout);
                        closed = true;
                        return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            if (!closed && !(_switched && _ignoreWebSocket)) _stop.Cancel();
        }
    }

    // --- IConnectionSignaling (called by the SFU) ---

    public void SendReOffer(string sdp) => SendOn(DataChannelLabels.Signaling, ServerMessages.ReOffer(sdp));

    public void SendConnectionCreated(ConnectionInfo who, ChannelCounts counts, IReadOnlyList<ConnectionInfo>? present, int minutes) =>
        SendOn(DataChannelLabels.Notify, ServerMessages.Notify(Notify(ConnectionEvent.Created, who, counts, minutes, present)));

    public void SendConnectionDestroyed(ConnectionInfo who, ChannelCounts counts, int minutes) =>
        SendOn(DataChannelLabels.Notify, ServerMessages.Notify(Notify(ConnectionEvent.Destroyed, who, counts, minutes, null)));

    public void SendConnectionUpdated(ConnectionInfo who, ChannelCounts counts, int minutes) =>
        SendOn(DataChannelLabels.Notify, ServerMessages.Notify(Notify(ConnectionEvent.Updated, who, counts, minutes, null)));

    public void SendPush(JsonElement data) => SendOn(DataChannelLabels.Push, ServerMessages.Push(data));

    public void SendSimulcastSwitched(string senderConnectionId, string requestRid, string currentRid, string previousRid, bool byReceiver)
    {
        if (_connection is { Info.SignalingNotify: true })
            SendOn(DataChannelLabels.Notify, ServerMessages.SimulcastSwitched(DateTimeOffset.UtcNow, senderConnectionId, requestRid, currentRid, previousRid, byReceiver));
    }

    public void SendSpotlight(string eventType, ConnectionInfo who, bool fixedFocus, int? slot) =>
        SendOn(DataChannelLabels.Notify, ServerMessages.Spotlight(eventType, DateTimeOffset.UtcNow, who.ChannelId, who.ClientId, who.ConnectionId,
            who.Audio, who.Video, fixedFocus, slot));

    public void SendNotify(byte[] utf8) => SendOn(DataChannelLabels.Notify, utf8);

    /// <summary>Ends the session with <paramref name="close"/> (node unavailable: 4502), through the one writer.</summary>
    public void Terminate(SignalingClose close) => End(close);

    public bool Disconnect(string reason) => End(SignalingCloses.Normal with { Reason = Truncate(reason) });

    /// <summary>The SFU's data channels are open: signaling moves onto them (`switched` goes on the WebSocket first).</summary>
    public void DataChannelsOpen()
    {
        if (_connection is not { } c || !c.Info.DataChannelSignaling || _switched) return;
        // The flag first: the client closes its WebSocket as soon as it reads `switched`, and the session loop must
        // already see the switch when that close arrives (else it ends the connection with the WebSocket).
        _switched = true;
        Send(ServerMessages.Switched(c.Info.IgnoreDisconnectWebsocket));
        _log.LogDebug("Connection {Id}: switched to data-channel signaling", _connectionId);
    }

    /// <summary>A message on DC:signaling or DC:stats (decompressed); handled by the connection's loop like WebSocket ones.</summary>
    public void DataChannelMessage(string label, byte[] utf8)
    {
        if (label is DataChannelLabels.Signaling or DataChannelLabels.Stats)
            _inbox.Writer.TryWrite(new Inbound.Message(utf8, true));
        else if (label is DataChannelLabels.Rpc)
            _inbox.Writer.TryWrite(new Inbound.Rpc(utf8));
    }

    /// <summary>The SFU ended the connection (DTLS closed or failed, ICE consent lost, data channels gone).</summary>
    public void Ended(string reason)
    {
        if (!_webSocketGone && !_switched) Close(reason == "DTLS-FAILED" ? SignalingCloses.DtlsFailed : SignalingCloses.Normal with { Reason = Truncate(reason) });
        _inbox.Writer.TryWrite(new Inbound.Ended(reason));
    }

    /// <summary>Sends on the data channel of that label once switched, else on the WebSocket.</summary>
    private void SendOn(string label, byte[] utf8)
    {
        if (_switched && _connection is { } c) _sfu.SendOnDataChannel(c, label, utf8);
        else Send(utf8);
    }

    /// <summary>
    /// A server-side end. Before the switch (or while the WebSocket is there): the close frame. After the switch:
    /// `{"type":"close",code,reason}` on DC:signaling when data_channel_signaling_close_message is on (the SDK then
    /// closes its channels and reports a normal disconnect with that code), and the loop ends the connection once the
    /// channels are closed. True when the loop ends the connection (after the switch).
    /// </summary>
    private bool End(SignalingClose close)
    {
        if (_switched && _options.DataChannelSignalingCloseMessage) SendOn(DataChannelLabels.Signaling, ServerMessages.Close(close));
        if (!_webSocketGone) Close(close);
        if (!_switched) return false;
        _inbox.Writer.TryWrite(new Inbound.Ended(close.Reason, Graceful: true));
        return true;
    }

    private static string Truncate(string reason) => reason.Length <= 100 ? reason : reason[..100];

    // With the metadata extension (D-52) `metadata` is the extension's value and connect's / the auth webhook's values
    // go in `authn_metadata` / `authz_metadata`.
    private ConnectionNotify Notify(ConnectionEvent e, ConnectionInfo who, ChannelCounts counts, int minutes, IReadOnlyList<ConnectionInfo>? present) =>
        _options.SignalingNotifyMetadataExt
            ? NotifyOf(e, who, counts, minutes, present, ext: true) with { AuthnMetadata = who.AuthnNotifyMetadata, AuthzMetadata = who.AuthzNotifyMetadata }
            : NotifyOf(e, who, counts, minutes, present, ext: false);

    private static ConnectionNotify NotifyOf(ConnectionEvent e, ConnectionInfo who, ChannelCounts counts, int minutes, IReadOnlyList<ConnectionInfo>? present, bool ext) => new()
    {
        Event = e,
        Timestamp = DateTimeOffset.UtcNow,
        Role = who.Role.ToWireRole(),
        SessionId = who.SessionId,
        ClientId = who.ClientId,
        BundleId = who.BundleId,
        ConnectionId = who.ConnectionId,
        Audio = who.Audio,
        Video = who.Video,
        Metadata = ext ? who.ExtMetadata : who.NotifyMetadata,
        Minutes = minutes,
        ChannelConnections = counts.Connections,
        ChannelSendrecvConnections = counts.SendRecv,
        ChannelSendonlyConnections = counts.SendOnly,
        ChannelRecvonlyConnections = counts.RecvOnly,
        Data = present?.Select(p => new NotifyPeer(p.ConnectionId, p.ClientId, p.BundleId, ext ? p.ExtMetadata : p.NotifyMetadata)).ToList(),
    };
}
