using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Links;

/// <summary>
/// The node-link mesh of one node (docs/protocol-notes.md, "Cluster shape"): one authenticated TCP connection per pair of cluster nodes,
/// carrying heartbeats, request/response and one-way messages. Wire format and handshake: the comment at the top of NodeLinkFrameCodec.cs.
/// </summary>
/// <remarks>
/// Links are kept to every node named in <see cref="SetPeers"/> (re-dialled every RedialInterval while down) and
/// accepted from any node that proves the cluster secret. Nothing from an unauthenticated connection reaches the
/// handler. After <see cref="DisposeAsync"/> starts, the handler is not called again.
/// </remarks>
public sealed class NodeLinkHost : IAsyncDisposable
{
    /// <summary>Parallel connects of one DiscoverAsync; the default port range is 11 ports.</summary>
    private const int MaxParallelProbes = 64;

    private readonly NodeLinkOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LinkServices _services;
    private readonly LinkAuthenticator _authenticator;
    private readonly ConcurrentDictionary<string, PeerSlot> _slots = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<NodeLink, byte> _links = new();
    private readonly Lock _membership = new();
    private readonly CancellationTokenSource _stopping = new();
    private TcpListener? _listener;
    private IPEndPoint? _localEndPoint;
    private Task _acceptLoop = Task.CompletedTask;
    private int _pendingHandshakes;
    private int _disposed;

    public NodeLinkHost(NodeLinkOptions options, INodeLinkHandler handler, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        NodeLinkOptionsValidator.Validate(options);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory.CreateLogger("Hibari.Cluster.Links");
        _services = new LinkServices(options, handler, _time, Counters, _logger);
        _authenticator = new LinkAuthenticator(options.Secret);
    }

    public NodeLinkCounters Counters { get; } = new();

    /// <summary>Where this node accepts links (the listener's bound endpoint).</summary>
    public IPEndPoint LocalEndPoint => _localEndPoint ?? throw new InvalidOperationException("NodeLinkHost.Start has not been called.");

    /// <summary>Names of the peers whose link is up and alive.</summary>
    public IReadOnlyCollection<string> ConnectedPeers =>
        _slots.Values.Where(slot => slot.Current is { IsAlive: true }).Select(slot => slot.Name).ToArray();

    /// <summary>Starts accepting on <paramref name="boundListener"/> (bound by the caller; started here if it is not listening yet).</summary>
    public void Start(TcpListener boundListener)
    {
        ArgumentNullException.ThrowIfNull(boundListener);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.CompareExchange(ref _listener, boundListener, null) is not null)
            throw new InvalidOperationException("NodeLinkHost.Start was already called.");
        var socket = boundListener.Server;
        if (!socket.IsBound) boundListener.Start();
        else if (!IsListening(socket)) socket.Listen(backlog: 512);
        _localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync(socket, _stopping.Token);
    }

    /// <summary>
    /// The desired mesh: peer name → its link endpoint (this node's own name is ignored). Keeps a link to each,
    /// and closes links to names no longer listed (their inbound links are still accepted).
    /// </summary>
    public void SetPeers(IReadOnlyDictionary<string, IPEndPoint> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        foreach (var (name, endPoint) in peers)
        {
            if (name is null || !NodeLinkFrameCodec.IsValidName(name)) throw new ArgumentException($"Invalid peer name '{name}'.", nameof(peers));
            ArgumentNullException.ThrowIfNull(endPoint, $"{nameof(peers)}[{name}]");
        }

        var unlisted = new List<NodeLink>();
        lock (_membership)
        {
            foreach (var slot in _slots.Values)
            {
                if (slot.EndPoint is null || peers.ContainsKey(slot.Name)) continue;
                slot.Dialing?.Cancel();
                slot.Dialing = null;
                slot.EndPoint = null;
                if (slot.Current is { } link) unlisted.Add(link);
            }
            foreach (var (name, endPoint) in peers)
            {
                if (string.Equals(name, _options.NodeName, StringComparison.Ordinal)) continue;
                var slot = GetSlot(name);
                if (endPoint.Equals(slot.EndPoint)) continue;
                slot.Dialing?.Cancel();
                slot.EndPoint = endPoint;
                var dialing = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                slot.Dialing = dialing;
                _ = DialLoopAsync(slot, endPoint, dialing);
            }
        }
        foreach (var link in unlisted) link.Close(LinkCloseReason.Unlisted, graceful: true);
    }

    /// <summary>True if the authenticated link to <paramref name="peer"/> is up and something arrived within DeadAfter.</summary>
    public bool IsConnected(string peer) => AliveLink(peer) is not null;

    /// <summary>
    /// Queues a one-way message. False if <paramref name="peer"/> is not connected, or its send queue is full (the
    /// message is dropped and counted in <see cref="NodeLinkCounters.MessagesDropped"/>). Never waits for the peer.
    /// </summary>
    public bool Send(string peer, byte channel, ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > _options.MaxFrameBytes - NodeLinkFrameCodec.MessageOverhead)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"A message must fit MaxFrameBytes ({_options.MaxFrameBytes}).");
        if (AliveLink(peer) is not { } link) return false;
        switch (link.TrySend(channel, payload))
        {
            case SendResult.Sent:
                return true;
            case SendResult.QueueFull:
                Counters.MessageDropped();
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Like <see cref="Send(string, byte, ReadOnlyMemory{byte})"/>, but <paramref name="write"/> encodes the body of
    /// <paramref name="bodyLength"/> bytes straight into the link's pooled send buffer.
    /// </summary>
    public bool Send<TState>(string peer, byte channel, int bodyLength, scoped ref TState state, MessageBodyWriter<TState> write)
        where TState : allows ref struct
    {
        if (bodyLength < 0 || bodyLength > _options.MaxFrameBytes - NodeLinkFrameCodec.MessageOverhead)
            throw new ArgumentOutOfRangeException(nameof(bodyLength), bodyLength, $"A message must fit MaxFrameBytes ({_options.MaxFrameBytes}).");
        if (AliveLink(peer) is not { } link) return false;
        switch (link.TrySend(channel, bodyLength, ref state, write))
        {
            case SendResult.Sent:
                return true;
            case SendResult.QueueFull:
                Counters.MessageDropped();
                return false;
            default:
                return false;
        }
    }

    /// <summary>Asks <paramref name="peer"/> over its mesh link.</summary>
    /// <exception cref="NodeLinkException">Not connected, timed out, the link closed, or the peer's handler failed (its message is carried).</exception>
    public async Task<byte[]> RequestAsync(string peer, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken ct)
    {
        CheckRequestSize(payload);
        if (_services.Stopping) throw new NodeLinkException("node link host disposed");
        var link = AliveLink(peer) ?? throw new NodeLinkException($"not connected to {peer}");
        return await link.RequestAsync(payload, timeout, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks whichever node listens at <paramref name="endpoint"/>: over the mesh link if that endpoint's peer is
    /// connected, else over a one-shot authenticated connection (dial, handshake, request, close). For bootstrap.
    /// </summary>
    public async Task<byte[]> RequestAsync(IPEndPoint endpoint, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        CheckRequestSize(payload);
        if (_services.Stopping) throw new NodeLinkException("node link host disposed");
        if (AliveLink(endpoint) is { } link) return await link.RequestAsync(payload, timeout, ct).ConfigureAwait(false);
        return await OneShotRequestAsync(endpoint, payload, timeout, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Finds the node named <paramref name="expectedName"/> listening on <paramref name="host"/> within the port
    /// range, probing the ports in parallel with a full handshake limited to DiscoveryProbeTimeout (a port held by
    /// a service that never speaks first costs that much). Null if no port answers as that node.
    /// </summary>
    public async Task<(string Name, IPEndPoint EndPoint)?> DiscoverAsync(string host, string expectedName, int minPort, int maxPort, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentException.ThrowIfNullOrEmpty(expectedName);
        if (minPort < IPEndPoint.MinPort + 1 || maxPort > IPEndPoint.MaxPort || minPort > maxPort)
            throw new ArgumentOutOfRangeException(nameof(minPort), $"Port range {minPort}..{maxPort} is not within 1..65535.");
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        using var throttle = new SemaphoreSlim(MaxParallelProbes);
        var probes = new List<Task<(string, IPEndPoint)?>>();
        foreach (var address in addresses)
            for (int port = minPort; port <= maxPort; port++)
                probes.Add(ProbeAsync(new IPEndPoint(address, port), expectedName, throttle, done.Token));
        try
        {
            while (probes.Count > 0)
            {
                var finished = await Task.WhenAny(probes).ConfigureAwait(false);
                probes.Remove(finished);
                if (await finished.ConfigureAwait(false) is { } found) return found;
            }
            ct.ThrowIfCancellationRequested();
            return null;
        }
        finally
        {
            done.Cancel();
            await Task.WhenAll(probes).ConfigureAwait(false); // probes never throw
        }
    }

    /// <summary>Closes every link and listener; pending requests fail with <see cref="NodeLinkException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _services.Stopping = true;
        _stopping.Cancel();
        try { _listener?.Stop(); }
        catch (SocketException) { }
        foreach (var link in _links.Keys) link.Close(LinkCloseReason.Disposed, graceful: false);
        foreach (var slot in _slots.Values)
            lock (slot.Gate)
            {
                slot.Grace?.Dispose();
                slot.Grace = null;
            }
        var ends = _links.Keys.Select(link => link.Completion).Append(_acceptLoop);
        try { await Task.WhenAll(ends).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    // ---- accepting -----------------------------------------------------------------------------------------

    private async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || ct.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                NodeLinkLog.AcceptFailed(_logger, e);
                try { await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            _ = AcceptAsync(socket);
        }
    }

    private async Task AcceptAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        int pending = Interlocked.Increment(ref _pendingHandshakes);
        LinkConnection? connection = null;
        try
        {
            if (pending > _options.MaxPendingHandshakes)
            {
                Counters.HandshakeShed();
                NodeLinkLog.HandshakeShed(_logger, remote, pending - 1);
                socket.Dispose();
                return;
            }
            connection = new LinkConnection(socket);
            using var deadline = new CancellationTokenSource(_options.HandshakeTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _stopping.Token);
            HandshakeOutcome outcome;
            try
            {
                outcome = await LinkHandshake.AcceptAsync(connection, _authenticator, _options.NodeName, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                Counters.HandshakeTimeout();
                NodeLinkLog.HandshakeTimedOut(_logger, remote, _options.HandshakeTimeout);
                return;
            }

            if (!outcome.Succeeded)
            {
                await RefuseAsync(connection, remote, outcome, linked.Token).ConfigureAwait(false);
                return;
            }
            bool oneShot = outcome.Flags.HasFlag(HelloFlags.OneShot);
            if (!oneShot && string.Equals(outcome.PeerName, _options.NodeName, StringComparison.Ordinal))
            {
                NodeLinkLog.Refused(_logger, remote, $"it announced this node's own name '{outcome.PeerName}'");
                await TryWriteAsync(connection, Frame.Refused(RefusalCode.NameConflict, "the dialer has the acceptor's node name"), linked.Token).ConfigureAwait(false);
                return;
            }

            var welcome = NodeLinkFrameCodec.EncodeToArray(LinkHandshake.Welcome(_authenticator, outcome, _options.NodeName));
            var link = new NodeLink(_services, connection, outcome.PeerName, dialerName: outcome.PeerName, oneShot, dialedEndPoint: null, OnLinkClosed);
            var owned = connection;
            connection = null; // the link owns it now
            if (oneShot)
            {
                Counters.OneShotConnection();
                Launch(link, welcome);
            }
            else if (Register(link))
            {
                Launch(link, welcome); // Welcome is written before anything queued meanwhile (e.g. by OnPeerUp)
            }
            else
            {
                // Pair rule: the link this node keeps is one the dialer keeps too; tell it, instead of welcoming.
                await TryWriteAsync(owned, Frame.Refused(RefusalCode.Superseded, "a preferred link between these nodes exists"), linked.Token).ConfigureAwait(false);
                link.DiscardUnstarted();
            }
        }
        catch (OperationCanceledException) { /* stopping */ }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            NodeLinkLog.HandshakeEnded(_logger, remote, e.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _pendingHandshakes);
            connection?.Dispose();
        }
    }

    /// <summary>Counts, logs and answers a failed inbound handshake; nothing of it reaches the handler.</summary>
    private async Task RefuseAsync(LinkConnection connection, IPEndPoint? remote, HandshakeOutcome outcome, CancellationToken ct)
    {
        if (outcome.Failure == HandshakeFailure.Closed)
        {
            NodeLinkLog.HandshakeEnded(_logger, remote, outcome.Detail);
            return;
        }
        Counters.AuthFailure();
        if (outcome.FrameError != FrameError.None) Counters.FrameRejected();
        NodeLinkLog.AuthenticationFailed(_logger, remote, outcome.Detail);
        var refusal = outcome.Failure == HandshakeFailure.BadProof
            ? Frame.Refused(RefusalCode.AuthenticationFailed, "authentication failed")
            : Frame.Refused(RefusalCode.ProtocolError, "expected a Hello frame");
        await TryWriteAsync(connection, refusal, ct).ConfigureAwait(false);
    }

    private static async Task TryWriteAsync(LinkConnection connection, Frame frame, CancellationToken ct)
    {
        try { await connection.WriteFrameAsync(frame, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException) { }
    }

    // ---- dialling ------------------------------------------------------------------------------------------

    private async Task DialLoopAsync(PeerSlot slot, IPEndPoint endPoint, CancellationTokenSource dialing)
    {
        var ct = dialing.Token;
        long lastAttempt = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (slot.Current is { } link)
                {
                    await link.Completion.WaitAsync(ct).ConfigureAwait(false);
                    continue;
                }
                var wait = _options.RedialInterval - _time.GetElapsedTime(lastAttempt);
                if (lastAttempt != 0 && wait > TimeSpan.Zero) await Task.Delay(wait, _time, ct).ConfigureAwait(false);
                if (slot.Current is not null) continue;
                lastAttempt = _time.GetTimestamp();
                await DialAsync(slot.Name, endPoint, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            dialing.Dispose();
        }
    }

    /// <summary>One mesh dial: connect, handshake, register (pair rule). True if an authenticated link resulted.</summary>
    internal async Task<bool> DialAsync(string peer, IPEndPoint endPoint, CancellationToken ct)
    {
        LinkConnection? connection = null;
        using var deadline = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, ct, _stopping.Token);
        try
        {
            connection = await LinkConnection.ConnectAsync(endPoint, _localEndPoint?.Address, linked.Token).ConfigureAwait(false);
            var outcome = await LinkHandshake.DialAsync(connection, _authenticator, _options.NodeName, HelloFlags.None, peer, linked.Token).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                Counters.DialFailure();
                ReportDialFailure(peer, endPoint, outcome);
                return false;
            }
            ct.ThrowIfCancellationRequested(); // SetPeers dropped the peer while we dialled: no link
            var link = new NodeLink(_services, connection, outcome.PeerName, _options.NodeName, isOneShot: false, endPoint, OnLinkClosed);
            var owned = connection;
            connection = null;
            if (Register(link))
            {
                Launch(link, firstFrame: null);
            }
            else
            {
                await TryWriteAsync(owned, Frame.Refused(RefusalCode.Superseded, "a preferred link between these nodes exists"), linked.Token).ConfigureAwait(false);
                link.DiscardUnstarted();
            }
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            Counters.DialFailure();
            Counters.HandshakeTimeout();
            NodeLinkLog.DialFailed(_logger, peer, endPoint, $"no handshake within {_options.HandshakeTimeout}");
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            Counters.DialFailure();
            NodeLinkLog.DialFailed(_logger, peer, endPoint, e.Message);
            return false;
        }
        finally
        {
            connection?.Dispose();
        }
    }

    private void ReportDialFailure(string peer, IPEndPoint endPoint, in HandshakeOutcome outcome)
    {
        switch (outcome.Failure)
        {
            case HandshakeFailure.WrongPeer:
                NodeLinkLog.DialedWrongPeer(_logger, peer, endPoint, outcome.Detail);
                break;
            case HandshakeFailure.BadProof:
            case HandshakeFailure.Protocol:
            case HandshakeFailure.Refused when outcome.Refusal is RefusalCode.AuthenticationFailed or RefusalCode.ProtocolError:
                Counters.AuthFailure();
                if (outcome.FrameError != FrameError.None) Counters.FrameRejected();
                NodeLinkLog.AuthenticationFailed(_logger, endPoint, $"dialling {peer}: {outcome.Detail}");
                break;
            default:
                NodeLinkLog.DialFailed(_logger, peer, endPoint, outcome.Detail);
                break;
        }
    }

    private async Task<byte[]> OneShotRequestAsync(IPEndPoint endpoint, ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken ct)
    {
        long started = _time.GetTimestamp();
        using var overall = new CancellationTokenSource(timeout, _time);
        using var handshakeDeadline = new CancellationTokenSource(_options.HandshakeTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, overall.Token, handshakeDeadline.Token, _stopping.Token);
        LinkConnection? connection = null;
        NodeLink? link = null;
        try
        {
            connection = await LinkConnection.ConnectAsync(endpoint, _localEndPoint?.Address, linked.Token).ConfigureAwait(false);
            var outcome = await LinkHandshake.DialAsync(connection, _authenticator, _options.NodeName, HelloFlags.OneShot, expectedPeer: null, linked.Token).ConfigureAwait(false);
            if (!outcome.Succeeded)
            {
                if (outcome.Failure is HandshakeFailure.BadProof || outcome.Refusal == RefusalCode.AuthenticationFailed) Counters.AuthFailure();
                NodeLinkLog.AuthenticationFailed(_logger, endpoint, $"one-shot request: {outcome.Detail}");
                throw new NodeLinkException($"handshake with {endpoint} failed: {outcome.Detail}");
            }
            Counters.OneShotConnection();
            link = new NodeLink(_services, connection, outcome.PeerName, _options.NodeName, isOneShot: true, endpoint, OnLinkClosed);
            connection = null;
            Launch(link, firstFrame: null);
            var remaining = timeout == Timeout.InfiniteTimeSpan ? timeout : timeout - _time.GetElapsedTime(started);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero) throw new NodeLinkException($"request to {endpoint} timed out after {timeout.TotalMilliseconds:0} ms");
            return await link.RequestAsync(payload, remaining, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NodeLinkException(_stopping.IsCancellationRequested ? "node link host disposed"
                : $"request to {endpoint} timed out (connect and handshake within {Min(timeout, _options.HandshakeTimeout).TotalMilliseconds:0} ms)");
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            throw new NodeLinkException($"cannot reach {endpoint}: {e.Message}", e);
        }
        finally
        {
            connection?.Dispose();
            link?.Close(LinkCloseReason.Finished, graceful: true);
        }
    }

    /// <summary>A full one-shot handshake with one port; the name it proves, or null (never throws).</summary>
    private async Task<(string, IPEndPoint)?> ProbeAsync(IPEndPoint endPoint, string expectedName, SemaphoreSlim throttle, CancellationToken ct)
    {
        try { await throttle.WaitAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { return null; }
        try
        {
            using var deadline = new CancellationTokenSource(_options.DiscoveryProbeTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, ct);
            using var connection = await LinkConnection.ConnectAsync(endPoint, _localEndPoint?.Address, linked.Token).ConfigureAwait(false);
            var outcome = await LinkHandshake.DialAsync(connection, _authenticator, _options.NodeName, HelloFlags.OneShot, expectedName, linked.Token).ConfigureAwait(false);
            if (outcome.Succeeded)
            {
                Counters.OneShotConnection();
                return (outcome.PeerName, endPoint);
            }
            if (outcome.Failure == HandshakeFailure.BadProof || outcome.Refusal == RefusalCode.AuthenticationFailed)
            {
                Counters.AuthFailure();
                NodeLinkLog.AuthenticationFailed(_logger, endPoint, $"discovering {expectedName}: {outcome.Detail}");
            }
            return null;
        }
        catch (Exception)
        {
            return null; // refused, silent, closed or cancelled: not the node we look for
        }
        finally
        {
            throttle.Release();
        }
    }

    // ---- the registry: pair rule and transitions ----------------------------------------------------------

    /// <summary>Makes <paramref name="link"/> the peer's link unless the pair rule keeps the current one. May call OnPeerUp.</summary>
    private bool Register(NodeLink link)
    {
        var slot = GetSlot(link.Peer);
        NodeLink? loser;
        lock (slot.Gate)
        {
            if (_services.Stopping) return false;
            var current = slot.Current;
            if (current is { IsOpen: true } && !LinkPairRule.Replaces(link.DialerName, current.DialerName))
            {
                loser = link;
            }
            else
            {
                loser = current is { IsOpen: true } ? current : null;
                slot.Current = link;
                slot.GraceGeneration++;
                slot.Grace?.Dispose();
                slot.Grace = null;
                if (!slot.ReportedUp)
                {
                    slot.ReportedUp = true;
                    Counters.LinkUp();
                    NodeLinkLog.LinkUp(_logger, link.Peer, link.LocalEndPoint, link.RemoteEndPoint, link.DialerName);
                    _services.OnPeerUp(link.Peer);
                }
            }
        }
        if (loser is not null)
        {
            Counters.DuplicateLinkClosed();
            NodeLinkLog.DuplicateClosed(_logger, link.Peer, loser == link ? slot.Current?.DialerName ?? "?" : link.DialerName);
            if (loser != link) loser.Close(LinkCloseReason.Superseded, graceful: true, notice: RefusalCode.Superseded);
        }
        return loser != link;
    }

    private void OnLinkClosed(NodeLink link)
    {
        _links.TryRemove(link, out _);
        if (link.IsOneShot || !_slots.TryGetValue(link.Peer, out var slot)) return;
        lock (slot.Gate)
        {
            if (slot.Current != link) return; // a superseded or never-registered link: no transition
            slot.Current = null;
            if (!slot.ReportedUp) return;
            if (_services.Stopping)
            {
                slot.ReportedUp = false;
                return;
            }
            if (link.CloseReason == LinkCloseReason.SupersededByPeer)
            {
                // The peer switched to another link between us, which may reach this side a moment later: stay up
                // for DeadAfter, the time the peer would take to be declared down anyway.
                long generation = ++slot.GraceGeneration;
                slot.Grace = _time.CreateTimer(_ => OnGraceExpired(slot, generation), null, _options.DeadAfter, Timeout.InfiniteTimeSpan);
                return;
            }
            ReportDown(slot, link.CloseReason);
        }
    }

    private void OnGraceExpired(PeerSlot slot, long generation)
    {
        lock (slot.Gate)
        {
            if (generation != slot.GraceGeneration) return;
            slot.Grace?.Dispose();
            slot.Grace = null;
            if (slot.Current is null && slot.ReportedUp && !_services.Stopping) ReportDown(slot, LinkCloseReason.SupersededByPeer);
        }
    }

    /// <summary>Under the slot's gate.</summary>
    private void ReportDown(PeerSlot slot, LinkCloseReason reason)
    {
        slot.ReportedUp = false;
        Counters.LinkDown();
        NodeLinkLog.LinkDown(_logger, slot.Name, reason);
        _services.OnPeerDown(slot.Name);
    }

    private void Launch(NodeLink link, byte[]? firstFrame)
    {
        _links[link] = 0;
        link.Start(firstFrame);
        if (_services.Stopping) link.Close(LinkCloseReason.Disposed, graceful: false); // disposal raced with the handshake
    }

    private PeerSlot GetSlot(string name) => _slots.GetOrAdd(name, static n => new PeerSlot(n));

    private NodeLink? AliveLink(string peer) =>
        _slots.TryGetValue(peer, out var slot) && slot.Current is { IsAlive: true } link ? link : null;

    private NodeLink? AliveLink(IPEndPoint endpoint)
    {
        foreach (var slot in _slots.Values)
            if (slot.Current is { IsAlive: true } link && (endpoint.Equals(slot.EndPoint) || endpoint.Equals(link.DialedEndPoint)))
                return link;
        return null;
    }

    private void CheckRequestSize(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length > _options.MaxFrameBytes - NodeLinkFrameCodec.RequestOverhead)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"A request must fit MaxFrameBytes ({_options.MaxFrameBytes}).");
    }

    private static bool IsListening(Socket socket)
    {
        try { return socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int value && value != 0; }
        catch (SocketException) { return false; }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a == Timeout.InfiniteTimeSpan ? b : a < b ? a : b;

    // ---- test probes ---------------------------------------------------------------------------------------

    /// <summary>The current link to <paramref name="peer"/>: its socket endpoints and dialer (tests).</summary>
    internal (IPEndPoint? Local, IPEndPoint? Remote, string Dialer)? DescribeLink(string peer) =>
        AliveLink(peer) is { } link ? (link.LocalEndPoint, link.RemoteEndPoint, link.DialerName) : null;

    /// <summary>Open mesh links (current or not yet closed) to <paramref name="peer"/> (tests).</summary>
    internal int OpenLinkCount(string peer) => _links.Keys.Count(link => !link.IsOneShot && link.IsOpen && link.Peer == peer);
}
