namespace Hibari.Cluster.Links;

/// <summary>Monotonic event counts of one <see cref="NodeLinkHost"/> (read at any time; never reset).</summary>
public sealed class NodeLinkCounters
{
    private long _authFailures, _handshakeTimeouts, _handshakesShed, _framesRejected, _unknownFramesSkipped;
    private long _messagesSent, _messagesReceived, _messagesDropped;
    private long _requestsSent, _requestsTimedOut, _requestsServed, _requestHandlerFailures;
    private long _linksUp, _linksDown, _duplicateLinksClosed, _dialFailures, _oneShotConnections;

    /// <summary>Connections closed because the other side failed the proof, sent garbage, or refused our proof.</summary>
    public long AuthFailures => Volatile.Read(ref _authFailures);
    /// <summary>Connections closed because their handshake did not finish within HandshakeTimeout.</summary>
    public long HandshakeTimeouts => Volatile.Read(ref _handshakeTimeouts);
    /// <summary>Inbound connections closed unread because MaxPendingHandshakes were already running.</summary>
    public long HandshakesShed => Volatile.Read(ref _handshakesShed);
    /// <summary>Frames that could not be decoded (bad version, too large, malformed, unexpected); each closed its connection.</summary>
    public long FramesRejected => Volatile.Read(ref _framesRejected);
    /// <summary>Frames of a type this version does not know, skipped on authenticated links.</summary>
    public long UnknownFramesSkipped => Volatile.Read(ref _unknownFramesSkipped);
    public long MessagesSent => Volatile.Read(ref _messagesSent);
    public long MessagesReceived => Volatile.Read(ref _messagesReceived);
    /// <summary>One-way messages not queued because the link's send queue was full.</summary>
    public long MessagesDropped => Volatile.Read(ref _messagesDropped);
    public long RequestsSent => Volatile.Read(ref _requestsSent);
    public long RequestsTimedOut => Volatile.Read(ref _requestsTimedOut);
    /// <summary>Requests from peers answered by the handler (successfully or with its error).</summary>
    public long RequestsServed => Volatile.Read(ref _requestsServed);
    public long RequestHandlerFailures => Volatile.Read(ref _requestHandlerFailures);
    /// <summary>Transitions of a peer to up (OnPeerUp calls).</summary>
    public long LinksUp => Volatile.Read(ref _linksUp);
    /// <summary>Transitions of a peer to down (OnPeerDown calls).</summary>
    public long LinksDown => Volatile.Read(ref _linksDown);
    /// <summary>Authenticated links closed by the pair rule because another link to the same peer was kept.</summary>
    public long DuplicateLinksClosed => Volatile.Read(ref _duplicateLinksClosed);
    /// <summary>Mesh dial attempts that did not end in an authenticated link.</summary>
    public long DialFailures => Volatile.Read(ref _dialFailures);
    /// <summary>One-shot connections (bootstrap requests and discovery probes), dialled or accepted.</summary>
    public long OneShotConnections => Volatile.Read(ref _oneShotConnections);

    internal void AuthFailure() => Interlocked.Increment(ref _authFailures);
    internal void HandshakeTimeout() => Interlocked.Increment(ref _handshakeTimeouts);
    internal void HandshakeShed() => Interlocked.Increment(ref _handshakesShed);
    internal void FrameRejected() => Interlocked.Increment(ref _framesRejected);
    internal void UnknownFrameSkipped() => Interlocked.Increment(ref _unknownFramesSkipped);
    internal void MessageSent() => Interlocked.Increment(ref _messagesSent);
    internal void MessageReceived() => Interlocked.Increment(ref _messagesReceived);
    internal void MessageDropped() => Interlocked.Increment(ref _messagesDropped);
    internal void RequestSent() => Interlocked.Increment(ref _requestsSent);
    internal void RequestTimedOut() => Interlocked.Increment(ref _requestsTimedOut);
    internal void RequestServed() => Interlocked.Increment(ref _requestsServed);
    internal void RequestHandlerFailure() => Interlocked.Increment(ref _requestHandlerFailures);
    internal void LinkUp() => Interlocked.Increment(ref _linksUp);
    internal void LinkDown() => Interlocked.Increment(ref _linksDown);
    internal void DuplicateLinkClosed() => Interlocked.Increment(ref _duplicateLinksClosed);
    internal void DialFailure() => Interlocked.Increment(ref _dialFailures);
    internal void OneShotConnection() => Interlocked.Increment(ref _oneShotConnections);
}
