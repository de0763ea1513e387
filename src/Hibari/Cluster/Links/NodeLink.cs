using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Links;

internal enum LinkCloseReason
{
    None,
    /// <summary>The peer closed the connection.</summary>
    RemoteClosed,
    ReadFailed,
    WriteFailed,
    ProtocolError,
    /// <summary>Nothing arrived for DeadAfter.</summary>
    Dead,
    /// <summary>Pair rule, decided here: another link to the same peer is kept.</summary>
    Superseded,
    /// <summary>Pair rule, decided by the peer (it sent Refused/Superseded): its successor is on its way.</summary>
    SupersededByPeer,
    RefusedByPeer,
    /// <summary>The peer left SetPeers.</summary>
    Unlisted,
    /// <summary>A one-shot connection did its request.</summary>
    Finished,
    Disposed,
}

internal enum SendResult { Sent, QueueFull, Closed }

/// <summary>What every link of one host shares.</summary>
internal sealed class LinkServices(NodeLinkOptions options, INodeLinkHandler handler, TimeProvider time, NodeLinkCounters counters, ILogger logger)
{
    public NodeLinkOptions Options { get; } = options;
    public TimeProvider Time { get; } = time;
    public NodeLinkCounters Counters { get; } = counters;
    public ILogger Logger { get; } = logger;
    /// <summary>Set once the host is disposing: the handler is not called any more.</summary>
    public volatile bool Stopping;

    public void OnMessage(string peer, byte channel, ReadOnlyMemory<byte> payload)
    {
        if (Stopping) return;
        try { handler.OnMessage(peer, channel, payload); }
        catch (Exception e) { NodeLinkLog.HandlerFailed(Logger, e, nameof(INodeLinkHandler.OnMessage), peer); }
    }

    public ValueTask<byte[]> OnRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        Stopping ? ValueTask.FromException<byte[]>(new NodeLinkException("node is shutting down")) : handler.OnRequestAsync(peer, payload, cancellationToken);

    public void OnPeerUp(string peer)
    {
        try { handler.OnPeerUp(peer); }
        catch (Exception e) { NodeLinkLog.HandlerFailed(Logger, e, nameof(INodeLinkHandler.OnPeerUp), peer); }
    }

    public void OnPeerDown(string peer)
    {
        try { handler.OnPeerDown(peer); }
        catch (Exception e) { NodeLinkLog.HandlerFailed(Logger, e, nameof(INodeLinkHandler.OnPeerDown), peer); }
    }
}

/// <summary>
/// One authenticated connection to a peer: a read loop that dispatches frames, a single writer loop that owns
/// all writes (so frames never interleave), a heartbeat/liveness timer, and the requests awaiting answers.
/// </summary>
internal sealed class NodeLink
{
    /// <summary>How long a graceful close may take to flush and hear the peer's end before it is cut.</summary>
    private static readonly TimeSpan GracefulCloseLimit = TimeSpan.FromSeconds(1);
    private const int WriteBatchBytes = 64 * 1024;
    private const int MaxErrorMessageBytes = 4096;
    private static readonly byte[] HeartbeatBytes = NodeLinkFrameCodec.EncodeToArray(Frame.Heartbeat());

    private const int Open = 0, Closing = 1, Aborted = 2;

    private readonly LinkServices _services;
    private readonly LinkConnection _connection;
    private readonly Action<NodeLink> _onClosed;
    private readonly Channel<OutboundFrame> _outbox = Channel.CreateUnbounded<OutboundFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<byte[]>> _pending = new();
    private readonly CancellationTokenSource _cts;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stateGate = new();
    private int _state;
    private LinkCloseReason _closeReason;
    private long _lastReceived;
    private long _queuedBytes;
    private long _nextRequestId;
    private byte[]? _firstFrame;
    private ITimer? _timer;

    public NodeLink(LinkServices services, LinkConnection connection, string peer, string dialerName, bool isOneShot, IPEndPoint? dialedEndPoint, Action<NodeLink> onClosed)
    {
        _services = services;
        _connection = connection;
        _onClosed = onClosed;
        _cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, services.Time);
        Peer = peer;
        DialerName = dialerName;
        IsOneShot = isOneShot;
        DialedEndPoint = dialedEndPoint;
        _lastReceived = services.Time.GetTimestamp();
    }

    public string Peer { get; }
    /// <summary>Node name of the side that opened the TCP connection (the pair rule compares it).</summary>
    public string DialerName { get; }
    public bool IsOneShot { get; }
    /// <summary>The peer's link endpoint when this side dialled it; null for an accepted link.</summary>
    public IPEndPoint? DialedEndPoint { get; }
    public IPEndPoint? LocalEndPoint => _connection.LocalEndPoint;
    public IPEndPoint? RemoteEndPoint => _connection.RemoteEndPoint;
    public LinkCloseReason CloseReason { get { lock (_stateGate) return _closeReason; } }
    public bool IsOpen => Volatile.Read(ref _state) == Open;
    /// <summary>Completes when the link has closed and the host has been told.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Open, and something arrived within DeadAfter.</summary>
    public bool IsAlive => IsOpen && _services.Time.GetElapsedTime(Volatile.Read(ref _lastReceived)) <= _services.Options.DeadAfter;

    /// <summary>Starts the loops. <paramref name="firstFrame"/> (the acceptor's Welcome) is written before anything queued.</summary>
    public void Start(byte[]? firstFrame)
    {
        _firstFrame = firstFrame;
        Volatile.Write(ref _lastReceived, _services.Time.GetTimestamp());
        var interval = _services.Options.HeartbeatInterval;
        _timer = _services.Time.CreateTimer(static state => ((NodeLink)state!).OnTick(), this, interval, interval);
        _ = RunAsync();
    }

    /// <summary>Releases a link that lost the pair rule before it was started.</summary>
    public void DiscardUnstarted()
    {
        lock (_stateGate) { _state = Aborted; _closeReason = LinkCloseReason.Superseded; }
        _outbox.Writer.TryComplete();
        TryCancel();
        ReleaseQueued();
        _connection.Dispose();
        _completion.TrySetResult();
    }

    public SendResult TrySend(byte channel, ReadOnlyMemory<byte> payload)
    {
        var result = Enqueue(Frame.Message(channel, payload), bounded: true);
        if (result == SendResult.Sent) _services.Counters.MessageSent();
        return result;
    }

    /// <summary>
    /// Queues a Message whose body <paramref name="write"/> encodes straight into the pooled send buffer (no array per
    /// message, no second copy of the body: the relay's RTP path). The writer must fill exactly
    /// <paramref name="bodyLength"/> bytes.
    /// </summary>
    public SendResult TrySend<TState>(byte channel, int bodyLength, scoped ref TState state, MessageBodyWriter<TState> write)
        where TState : allows ref struct
    {
        var size = NodeLinkFrameCodec.HeaderSize + NodeLinkFrameCodec.MessageOverhead + bodyLength;
        long queued = Volatile.Read(ref _queuedBytes);
        if (queued > 0 && queued + size > _services.Options.SendQueueLimitBytes) return IsOpen ? SendResult.QueueFull : SendResult.Closed;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        NodeLinkFrameCodec.WriteMessageHeader(buffer, channel, bodyLength);
        write(buffer.AsSpan(NodeLinkFrameCodec.HeaderSize + NodeLinkFrameCodec.MessageOverhead, bodyLength), ref state);
        Interlocked.Add(ref _queuedBytes, size);
        if (!_outbox.Writer.TryWrite(new OutboundFrame(buffer, size, pooled: true)))
        {
            Interlocked.Add(ref _queuedBytes, -size);
            ArrayPool<byte>.Shared.Return(buffer);
            return SendResult.Closed;
        }
        _services.Counters.MessageSent();
        return SendResult.Sent;
    }

    public async Task<byte[]> RequestAsync(ReadOnlyMemory<byte> payload, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ulong id = (ulong)Interlocked.Increment(ref _nextRequestId);
        var answer = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            // Once queued, a close fails `answer` (FailPending runs after the outbox is completed).
            var queued = Enqueue(Frame.Request(id, payload), bounded: true);
            if (queued != SendResult.Sent)
                throw new NodeLinkException(queued == SendResult.QueueFull ? $"send queue to {Peer} is full" : $"link to {Peer} is closed");
            _services.Counters.RequestSent();
            return await answer.Task.WaitAsync(timeout, _services.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _services.Counters.RequestTimedOut();
            throw new NodeLinkException($"request to {Peer} timed out after {timeout.TotalMilliseconds:0} ms");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Closes the link. Graceful: what is queued is flushed (after an optional Refused notice), our side is shut
    /// and the peer's remaining frames are still read, within <see cref="GracefulCloseLimit"/>. Otherwise abrupt.
    /// </summary>
    public void Close(LinkCloseReason reason, bool graceful, RefusalCode? notice = null, bool onlyIfOpen = false)
    {
        lock (_stateGate)
        {
            if (_state == Aborted || (_state == Closing && (graceful || onlyIfOpen))) return;
            if (_state == Open) _closeReason = reason;
            if (graceful)
            {
                _state = Closing;
                if (notice is { } code) EnqueueEncoded(Frame.Refused(code, reason.ToString()));
                _outbox.Writer.TryComplete();
                TryCancelAfter(GracefulCloseLimit);
            }
            else
            {
                _state = Aborted;
                _outbox.Writer.TryComplete();
                TryCancel();
            }
        }
    }

    private async Task RunAsync()
    {
        try
        {
            var writer = WriteLoopAsync();
            var reason = await ReadLoopAsync().ConfigureAwait(false);
            // The read side ended. Unless a graceful close is flushing (bounded by its own deadline), stop now.
            Close(reason, graceful: false, onlyIfOpen: true);
            await writer.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Loops handle their own errors; this is a last line so the host always hears of the close.
            NodeLinkLog.HandlerFailed(_services.Logger, e, nameof(RunAsync), Peer);
            Close(LinkCloseReason.ReadFailed, graceful: false);
        }
        finally
        {
            _timer?.Dispose();
            TryCancel(); // handlers still running see their token cancelled
            _connection.Dispose();
            ReleaseQueued();
            FailPending();
            try { _onClosed(this); }
            finally { _completion.TrySetResult(); }
        }
    }

    /// <summary>Reads and dispatches frames until the connection ends; returns why it ended.</summary>
    private async Task<LinkCloseReason> ReadLoopAsync()
    {
        var options = _services.Options;
        var counters = _services.Counters;
        var token = _cts.Token;
        try
        {
            while (true)
            {
                var inbound = await _connection.Reader.ReadAsync(options.MaxFrameBytes, token).ConfigureAwait(false);
                if (inbound.EndOfStream) return LinkCloseReason.RemoteClosed;
                Volatile.Write(ref _lastReceived, _services.Time.GetTimestamp());
                if (inbound.Error == FrameError.UnknownType)
                {
                    counters.UnknownFrameSkipped();
                    continue;
                }
                var outcome = inbound.Error == FrameError.None ? Dispatch(inbound.Type, inbound.Payload) : DispatchOutcome.Reject;
                if (outcome == DispatchOutcome.Stop) return LinkCloseReason.RefusedByPeer;
                if (outcome == DispatchOutcome.Reject)
                {
                    counters.FrameRejected();
                    NodeLinkLog.FrameRejected(_services.Logger, Peer, RemoteEndPoint, inbound.Error != FrameError.None ? inbound.Error.ToString() : $"unexpected or malformed {inbound.Type}");
                    return LinkCloseReason.ProtocolError;
                }
            }
        }
        catch (OperationCanceledException) { return LinkCloseReason.Disposed; }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException) { return LinkCloseReason.ReadFailed; }
    }

    private enum DispatchOutcome { Continue, Stop, Reject }

    /// <summary>Handles one frame on the read loop.</summary>
    private DispatchOutcome Dispatch(FrameType type, ReadOnlyMemory<byte> payload)
    {
        if (NodeLinkFrameCodec.DecodePayload(type, payload, out var frame) != FrameError.None) return DispatchOutcome.Reject;
        switch (frame.Type)
        {
            case FrameType.Heartbeat:
                return DispatchOutcome.Continue;
            case FrameType.Message:
                _services.Counters.MessageReceived();
                _services.OnMessage(Peer, frame.Channel, frame.Body);
                return DispatchOutcome.Continue;
            case FrameType.Request:
                Serve(frame.RequestId, frame.Body);
                return DispatchOutcome.Continue;
            case FrameType.Response:
                Complete(frame);
                return DispatchOutcome.Continue;
            case FrameType.Refused when frame.Refusal == RefusalCode.Superseded:
                // Pair rule, decided by the peer: finish this link gently and keep reading what it still sends.
                Close(LinkCloseReason.SupersededByPeer, graceful: true);
                return DispatchOutcome.Continue;
            case FrameType.Refused:
                Close(LinkCloseReason.RefusedByPeer, graceful: false);
                return DispatchOutcome.Stop;
            default:
                return DispatchOutcome.Reject; // a handshake frame on an established link
        }
    }

    /// <summary>Runs the handler off the read loop (a slow or blocking handler must not stall heartbeats).</summary>
    private void Serve(ulong id, ReadOnlyMemory<byte> body)
    {
        var copy = ArrayPool<byte>.Shared.Rent(body.Length);
        body.Span.CopyTo(copy);
        int length = body.Length;
        _ = Task.Run(() => ServeAsync(id, copy, length));
    }

    private async Task ServeAsync(ulong id, byte[] buffer, int length)
    {
        Frame response;
        try
        {
            var result = await _services.OnRequestAsync(Peer, buffer.AsMemory(0, length), _cts.Token).ConfigureAwait(false);
            response = result.Length <= _services.Options.MaxFrameBytes - NodeLinkFrameCodec.ResponseOverhead
                ? Frame.Response(id, ResponseStatus.Ok, result)
                : ErrorResponse(id, $"response of {result.Length} bytes exceeds the frame limit");
        }
        catch (Exception e)
        {
            _services.Counters.RequestHandlerFailure();
            response = ErrorResponse(id, string.IsNullOrEmpty(e.Message) ? e.GetType().Name : e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        _services.Counters.RequestServed();
        Enqueue(response, bounded: false);
    }

    private static Frame ErrorResponse(ulong id, string message) =>
        Frame.Response(id, ResponseStatus.Error, Encoding.UTF8.GetBytes(NodeLinkFrameCodec.TruncateUtf8(message, MaxErrorMessageBytes)));

    private void Complete(in Frame response)
    {
        if (!_pending.TryRemove(response.RequestId, out var answer)) return; // timed out meanwhile
        if (response.Status == ResponseStatus.Ok) answer.TrySetResult(response.Body.ToArray());
        else answer.TrySetException(new NodeLinkException($"{Peer} failed the request: {Encoding.UTF8.GetString(response.Body.Span)}"));
    }

    private void OnTick()
    {
        if (!IsOpen) return;
        var idle = _services.Time.GetElapsedTime(Volatile.Read(ref _lastReceived));
        if (idle > _services.Options.DeadAfter)
        {
            NodeLinkLog.LinkDead(_services.Logger, Peer, idle);
            Close(LinkCloseReason.Dead, graceful: false);
            return;
        }
        _outbox.Writer.TryWrite(new OutboundFrame(HeartbeatBytes, HeartbeatBytes.Length, pooled: false));
    }

    private SendResult Enqueue(in Frame frame, bool bounded)
    {
        int size = NodeLinkFrameCodec.GetEncodedLength(frame);
        if (bounded)
        {
            long queued = Volatile.Read(ref _queuedBytes);
            if (queued > 0 && queued + size > _services.Options.SendQueueLimitBytes) return IsOpen ? SendResult.QueueFull : SendResult.Closed;
        }
        return EnqueueEncoded(frame, size) ? SendResult.Sent : SendResult.Closed;
    }

    private bool EnqueueEncoded(in Frame frame) => EnqueueEncoded(frame, NodeLinkFrameCodec.GetEncodedLength(frame));

    private bool EnqueueEncoded(in Frame frame, int size)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        NodeLinkFrameCodec.Encode(frame, buffer);
        Interlocked.Add(ref _queuedBytes, size);
        if (_outbox.Writer.TryWrite(new OutboundFrame(buffer, size, pooled: true))) return true;
        Interlocked.Add(ref _queuedBytes, -size);
        ArrayPool<byte>.Shared.Return(buffer);
        return false;
    }

    /// <summary>The only code that writes to the socket after the handshake. Small frames are batched into one write.</summary>
    private async Task WriteLoopAsync()
    {
        var token = _cts.Token;
        var stream = _connection.Stream;
        var batch = ArrayPool<byte>.Shared.Rent(WriteBatchBytes);
        try
        {
            if (_firstFrame is { } first) await stream.WriteAsync(first, token).ConfigureAwait(false);
            var reader = _outbox.Reader;
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                int used = 0;
                while (reader.TryRead(out var frame))
                {
                    try
                    {
                        if (frame.Pooled) Interlocked.Add(ref _queuedBytes, -frame.Length);
                        if (used > 0 && used + frame.Length > batch.Length)
                        {
                            await stream.WriteAsync(batch.AsMemory(0, used), token).ConfigureAwait(false);
                            used = 0;
                        }
                        if (frame.Length > batch.Length) await stream.WriteAsync(frame.Buffer.AsMemory(0, frame.Length), token).ConfigureAwait(false);
                        else
                        {
                            frame.Buffer.AsSpan(0, frame.Length).CopyTo(batch.AsSpan(used));
                            used += frame.Length;
                        }
                    }
                    finally { frame.Release(); }
                }
                if (used > 0) await stream.WriteAsync(batch.AsMemory(0, used), token).ConfigureAwait(false);
            }
            // The outbox completed: a graceful close. Tell the peer we are done; the read loop waits for its end.
            _connection.ShutdownSend();
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            Close(LinkCloseReason.WriteFailed, graceful: false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    private void ReleaseQueued()
    {
        while (_outbox.Reader.TryRead(out var frame)) frame.Release();
    }

    private void FailPending()
    {
        var error = _services.Stopping ? "node link host disposed" : $"link to {Peer} closed ({CloseReason}) before an answer";
        foreach (var (id, answer) in _pending)
            if (_pending.TryRemove(id, out _)) answer.TrySetException(new NodeLinkException(error));
    }

    private void TryCancel()
    {
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        _connection.Abort();
    }

    private void TryCancelAfter(TimeSpan delay)
    {
        try { _cts.CancelAfter(delay); } catch (ObjectDisposedException) { }
    }

    /// <summary>An encoded frame waiting for the writer loop.</summary>
    private readonly struct OutboundFrame(byte[] buffer, int length, bool pooled)
    {
        public byte[] Buffer { get; } = buffer;
        public int Length { get; } = length;
        public bool Pooled { get; } = pooled;

        public void Release()
        {
            if (Pooled) ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}
