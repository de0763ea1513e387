using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace Hibari.Rtc.Dtls;

/// <summary>
/// One DTLS 1.2 association with one peer, over datagrams the caller moves: the SFU's socket thread hands in what
/// it demultiplexed as DTLS (RFC 7983: first byte 20–63) with <see cref="Deliver"/>, and the endpoint sends through
/// the <see cref="DtlsSend"/> it was given. No thread belongs to an endpoint (docs/dtls.md):
/// <list type="bullet">
/// <item>the handshake (BouncyCastle, blocking) runs as a job on a <see cref="DtlsHandshakePool"/>: a server's once
/// the first handshake datagram has arrived, a client's at <see cref="Start"/>;</item>
/// <item>after it, a managed record layer (<see cref="ManagedRecordLayer"/>) decrypts in <see cref="Deliver"/> on the
/// caller's thread and encrypts in <see cref="SendApplicationData"/> on the caller's thread.</item>
/// </list>
/// </summary>
/// <remarks>
/// Threads: <see cref="Deliver"/> may come from any thread (calls are serialised by a lock that is uncontended when
/// one thread delivers, as the SFU's socket thread does). After the handshake, <see cref="SendApplicationData"/> is for
/// one thread at a time: it takes no lock, and a call that overlaps another returns false rather than wait.
/// <see cref="Dispose"/> is safe at any moment, from any thread, concurrently with both.
/// </remarks>
public abstract class DtlsEndpoint : IDisposable
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ReceiveDisposeWait = TimeSpan.FromMilliseconds(200);
    // RFC 6347 §4.2.4: answer a retransmitted final flight of the peer with ours, at most this often (one answer per
    // burst: the peer's flight is several datagrams, its timer at least 50 ms in any implementation we know).
    private static readonly long FinalFlightInterval = Stopwatch.Frequency / 10;
    // Our epoch-1 records start this far above the highest sequence number BouncyCastle put on the wire in epoch 1.
    // Reusing a number would reuse an AEAD nonce under the same key (fatal for GCM); skipping numbers costs nothing, the
    // peer's replay window just slides forward (RFC 6347 §4.1.2.6) and a gap is what loss looks like. The margin covers
    // anything BouncyCastle might have numbered without our seeing it on the way out.
    private const long WriteSequenceMargin = 1024;
    private static readonly byte[] CloseNotify = [(byte)AlertLevel.warning, (byte)AlertDescription.close_notify];

    private const int JobNotStarted = 0, JobAwaitingDatagram = 1, JobQueued = 2, JobRunning = 3, JobFinished = 4;

    private static int s_nextId;

    private readonly DatagramQueue _queue;
    private readonly HandshakeOutcome _outcome;
    private readonly BcTlsCrypto _crypto;
    private readonly DtlsHandshakePool _pool;
    private readonly DtlsSend _send;
    private readonly FinalFlightRecorder _recorder = new();
    private readonly ILogger _logger;
    private readonly bool _isServer;
    private readonly string _role;
    private readonly string _name;
    private readonly Action _runJob;
    private readonly TaskCompletionSource<DtlsHandshakeResult> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new(); // Start and Dispose
    private readonly Lock _receiveGate = new(); // one datagram at a time, and the hand-over from the handshake's queue
    private int _state; // DtlsState, moved by TryMove only
    private int _job;
    private long _started;
    private Timer? _deadline;
    private volatile ManagedRecordLayer? _records;
    private byte[][] _finalFlight = [];
    private long _lastFinalFlight = long.MinValue / 2;
    private long _finalFlightResends;
    private long _droppedAfterClose;
    private long _deliverFailures;
    private volatile Thread? _jobThread;
    private volatile bool _disposed;
    private int _handshakeSeen; // 1: a datagram that begins with an epoch-0 handshake record has been queued

    private protected DtlsEndpoint(bool isServer, DtlsCertificate certificate, string remoteFingerprint, DtlsSend send,
        DtlsOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(send);
        options ??= DtlsOptions.Default;
        options.Validate(isServer);
        _crypto = new BcTlsCrypto(new SecureRandom());
        _outcome = new HandshakeOutcome(_crypto, certificate, remoteFingerprint, options);
        _send = send;
        _queue = new DatagramQueue(SendDuringHandshake, options.ReceiveQueueCapacity);
        _pool = options.HandshakePool ?? (isServer ? DtlsHandshakePool.Default : DtlsHandshakePool.DefaultClient);
        _logger = logger ?? NullLogger.Instance;
        _isServer = isServer;
        _role = isServer ? "server" : "client";
        _name = "#" + Interlocked.Increment(ref s_nextId);
        _runJob = RunJob;
    }

    /// <summary>Completes when the handshake has finished; faults with <see cref="DtlsHandshakeException"/> otherwise.</summary>
    public Task<DtlsHandshakeResult> Handshake => _handshake.Task;

    /// <summary>
    /// Completes when the endpoint has ended: its handshake failed, the peer sent close_notify or a fatal alert, or
    /// <see cref="Dispose"/> was called.
    /// </summary>
    public Task Stopped => _stopped.Task;

    public DtlsState State => (DtlsState)Volatile.Read(ref _state);

    /// <summary>
    /// Called for each application-data record (SCTP rides on these), synchronously on the thread that called
    /// <see cref="Deliver"/> with it; records that arrived while the handshake was finishing are raised once, on the
    /// handshake's pool thread, just before <see cref="Handshake"/> completes. Never two calls at once. The memory is
    /// reused: valid only during the call. Set it before <see cref="Start"/>: the peer may send right after its last
    /// flight. An exception from the handler is logged and does not end the connection.
    /// </summary>
    public Action<ReadOnlyMemory<byte>>? ApplicationData { get; set; }

    /// <summary>The largest record <see cref="SendApplicationData"/> takes (what fits a 1,200-byte datagram); 0 until connected.</summary>
    public int MaxApplicationDataLength => _records?.MaxPlaintextLength ?? 0;

    /// <summary>The negotiated cipher suite and version, for logs and tests; meaningful once <see cref="Handshake"/> has completed.</summary>
    internal int NegotiatedCipherSuite => _outcome.NegotiatedCipherSuite;
    internal ProtocolVersion? Version => _outcome.Version;

    /// <summary>How often our final flight was sent again because the peer repeated its own (lost final flight).</summary>
    internal long FinalFlightRetransmissions => Interlocked.Read(ref _finalFlightResends);

    /// <summary>Deliver calls that failed inside (a bug if ever non-zero; Deliver never throws).</summary>
    internal long DeliverFailures => Interlocked.Read(ref _deliverFailures);

    /// <summary>The managed record layer, once connected (tests).</summary>
    internal ManagedRecordLayer? Records => _records;

    /// <summary>
    /// Inbound datagrams or records dropped: during the handshake, queue full (<see cref="DtlsOptions.ReceiveQueueCapacity"/>),
    /// empty or oversized; after it, records malformed, of another epoch, replayed or failing authentication, and
    /// anything after the connection ended.
    /// </summary>
    public long DroppedDatagrams =>
        _queue.Dropped + (_records?.Dropped ?? 0) + Interlocked.Read(ref _droppedAfterClose);

    /// <summary>
    /// Hands in one datagram from the socket. During the handshake it is copied for the handshake job (a server's job is
    /// queued on its first handshake datagram); after it, it is decrypted here and <see cref="ApplicationData"/> is raised on this
    /// thread before this returns. Never throws for any content.
    /// </summary>
    public void Deliver(ReadOnlySpan<byte> datagram)
    {
        try
        {
            lock (_receiveGate)
            {
                if (_records is { } records)
                {
                    if (State == DtlsState.Connected) Receive(records, datagram);
                    else Interlocked.Increment(ref _droppedAfterClose);
                    return;
                }
                if (!_queue.Deliver(datagram)) return;
            }
            // A server's job waits for something that can start a handshake, so a peer that sends one stray datagram
            // and falls silent does not hold a pool thread until the timeout.
            if (Volatile.Read(ref _handshakeSeen) == 0 && StartsHandshake(datagram))
            {
                // Interlocked on both sides (here and in Start): one of the two sees the other's write.
                Interlocked.Exchange(ref _handshakeSeen, 1);
                if (Volatile.Read(ref _job) == JobAwaitingDatagram) QueueJob();
            }
        }
        catch (Exception)
        {
            // Nothing in here should throw; a caller on the socket thread must never see it if something does.
            Interlocked.Increment(ref _deliverFailures);
        }
    }

    /// <summary>
    /// Starts the handshake: a client's job is queued on the handshake pool now, a server's when the first datagram
    /// that begins with a handshake record (the ClientHello) arrives. <see cref="DtlsOptions.HandshakeTimeout"/> counts
    /// from here.
    /// </summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_job != JobNotStarted) throw new InvalidOperationException("the endpoint is already started");
            var timeout = _outcome.Options.HandshakeTimeout;
            _started = Stopwatch.GetTimestamp();
            _outcome.Deadline = _started + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            // Fails a handshake that never got (or is still waiting for) a pool thread; a running one has BouncyCastle's timeout.
            _deadline = new Timer(static s => ((DtlsEndpoint)s!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
            Interlocked.Exchange(ref _job, JobAwaitingDatagram);
            if (!_isServer || Volatile.Read(ref _handshakeSeen) == 1) QueueJob();
        }
    }

    /// <summary>
    /// Encrypts one application-data record and sends it, on this thread. False when not connected (or when another
    /// thread is sending on this endpoint at this very moment: one thread at a time, see the remarks of the class).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is longer than <see cref="MaxApplicationDataLength"/>.</exception>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        var records = _records;
        if (records is null || State != DtlsState.Connected) return false;
        if (data.Length > records.MaxPlaintextLength)
            throw new ArgumentException($"a DTLS record carries at most {records.MaxPlaintextLength} bytes here, not {data.Length}", nameof(data));
        return records.Send(ManagedRecordLayer.ApplicationDataType, data, _send);
    }

    /// <summary>
    /// Sends close_notify when connected, ends the handshake if one runs (waiting briefly for its job) and completes
    /// <see cref="Stopped"/>. Idempotent.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        GC.SuppressFinalize(this);
        if (TryMove(DtlsState.Connected, DtlsState.Closed))
        {
            _records!.CloseSending(_send, CloseNotify); // set before the state became Connected
            DtlsLog.ConnectionEnded(_logger, _role, _name, DtlsState.Closed, "disposed");
        }
        else
        {
            TryMove(DtlsState.Handshaking, DtlsState.Closed);
        }

        if (TakeJob(JobNotStarted) || TakeJob(JobAwaitingDatagram) || TakeJob(JobQueued))
        {
            FailHandshake(Closed()); // never ran: nothing else will end it
        }
        else if (Volatile.Read(ref _job) == JobRunning)
        {
            _queue.Close(); // BouncyCastle's blocked receive throws and the job ends the handshake as Closed
            if (_jobThread != Thread.CurrentThread && !_stopped.Task.Wait(JoinTimeout))
                DtlsLog.JobDidNotEnd(_logger, _role, _name, (long)JoinTimeout.TotalMilliseconds);
        }
        _queue.Close();
        _deadline?.Dispose();
        if (_records is { } records)
        {
            records.CloseSending(_send); // idempotent; frees the send cipher if the peer had closed first
            if (_receiveGate.TryEnter(ReceiveDisposeWait))
            {
                try
                {
                    records.Dispose();
                }
                finally
                {
                    _receiveGate.Exit();
                }
            }
            _stopped.TrySetResult();
        }
    }

    private protected abstract DtlsTransport Connect(BcTlsCrypto crypto, HandshakeOutcome outcome, DatagramTransport transport);

    private static bool StartsHandshake(ReadOnlySpan<byte> datagram) =>
        datagram.Length > ManagedRecordLayer.HeaderLength && datagram[0] == ManagedRecordLayer.HandshakeType
        && datagram[1] == 0xFE && datagram[3] == 0 && datagram[4] == 0;

    private bool TryMove(DtlsState from, DtlsState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

    private bool TakeJob(int from) => Interlocked.CompareExchange(ref _job, JobFinished, from) == from;

    private void QueueJob()
    {
        if (Interlocked.CompareExchange(ref _job, JobQueued, JobAwaitingDatagram) != JobAwaitingDatagram) return;
        if (!_pool.TryQueue(_runJob) && TakeJob(JobQueued))
            FailHandshake(new DtlsHandshakeException(DtlsHandshakeFailure.ProtocolError, "the DTLS handshake pool is disposed"));
    }

    private void OnDeadline()
    {
        // A running job ends by BouncyCastle's own timeout (set to what is left of ours when it started).
        if (TakeJob(JobAwaitingDatagram) || TakeJob(JobQueued)) FailHandshake(TimedOut());
    }

    private DtlsHandshakeException TimedOut(Exception? inner = null) =>
        new(DtlsHandshakeFailure.Timeout, $"no complete DTLS handshake within {_outcome.Options.HandshakeTimeout.TotalMilliseconds} ms", null, inner);

    /// <summary>Ends a handshake that did not complete: state, log, <see cref="Handshake"/>, <see cref="Stopped"/>.</summary>
    private void FailHandshake(DtlsHandshakeException error)
    {
        var closed = error.Failure == DtlsHandshakeFailure.Closed;
        TryMove(DtlsState.Handshaking, closed ? DtlsState.Closed : DtlsState.Failed);
        if (!closed) DtlsLog.HandshakeFailed(_logger, _role, _name, error.Failure, error.Message);
        _queue.Close();
        _deadline?.Dispose();
        _handshake.TrySetException(error);
        _stopped.TrySetResult();
    }

    // On a pool thread.
    private void RunJob()
    {
        if (Interlocked.CompareExchange(ref _job, JobRunning, JobQueued) != JobQueued) return; // timed out or disposed meanwhile
        _jobThread = Thread.CurrentThread;
        try
        {
            DtlsLog.HandshakeStarted(_logger, _role, _name, (long)Stopwatch.GetElapsedTime(_started).TotalMilliseconds, Thread.CurrentThread.Name);
            if (_disposed) FailHandshake(Closed());
            else if (Stopwatch.GetTimestamp() >= _outcome.Deadline) FailHandshake(TimedOut());
            else RunHandshake();
        }
        catch (Exception e) when (!_handshake.Task.IsCompleted)
        {
            // A bug of ours before the hand-over (after it, Deliver's rules apply and nothing here throws).
            FailHandshake(new DtlsHandshakeException(DtlsHandshakeFailure.ProtocolError, $"the handshake failed: {e.Message}", null, e));
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _deliverFailures);
            DtlsLog.HandlerThrew(_logger, _role, _name, e);
        }
        finally
        {
            _jobThread = null;
            // A Dispose that saw the job running waits for Stopped; one that comes later does not wait (Dekker: both
            // sides write, fence, then read the other's flag).
            Interlocked.Exchange(ref _job, JobFinished);
            if (_disposed) _stopped.TrySetResult();
        }
    }

    private void RunHandshake()
    {
        try
        {
            // The transport BouncyCastle returns is dropped unused (and never closed: its close_notify would reuse
            // sequence numbers that are ours from now on).
            Connect(_crypto, _outcome, _queue);
        }
        catch (Exception e)
        {
            FailHandshake(Describe(e));
            return;
        }

        ManagedRecordLayer records;
        try
        {
            records = new ManagedRecordLayer(_outcome.NegotiatedCipherSuite, _outcome.KeyBlock ?? [], _outcome.IsServer,
                _recorder.HighestEpoch1Sequence + 1 + WriteSequenceMargin);
        }
        finally
        {
            _outcome.ForgetKeyBlock();
        }
        // Only the server sends the last flight of a full handshake (we offer no resumption): only it must repeat it.
        // A client repeating its own would ping-pong with a server that does.
        _finalFlight = _isServer ? [.. _recorder.Flight] : [];
        var result = new DtlsHandshakeResult(_outcome.Profile!.Value, _outcome.KeyingMaterial!, _outcome.RemoteFingerprint!,
            Stopwatch.GetElapsedTime(_started));

        lock (_receiveGate)
        {
            _records = records; // before Connected: a Dispose that sees Connected must find it
            if (!TryMove(DtlsState.Handshaking, DtlsState.Connected))
            {
                _records = null;
                records.CloseSending(_send);
                records.Dispose();
                FailHandshake(Closed());
                return;
            }
            _deadline?.Dispose();
            DtlsLog.HandshakeDone(_logger, _role, _name, (long)result.Duration.TotalMilliseconds, result.Profile, result.RemoteFingerprint,
                ManagedRecordLayer.Name(records.CipherSuite));
            _handshake.TrySetResult(result);
            // Datagrams that came while BouncyCastle was finishing (the peer's first records, or its repeated final
            // flight) go through the new record layer; Deliver waits on the lock meanwhile, so none slips past.
            var buffer = new byte[ManagedRecordLayer.ReceiveLimit];
            while (State == DtlsState.Connected && _queue.TryTake(buffer, out var length)) Receive(records, buffer.AsSpan(0, length));
            _queue.Close();
        }
    }

    // Under _receiveGate.
    private void Receive(ManagedRecordLayer records, ReadOnlySpan<byte> datagram)
    {
        var offset = 0;
        while (State == DtlsState.Connected)
        {
            switch (records.Next(datagram, ref offset, out var length))
            {
                case RecordKind.End:
                    return;
                case RecordKind.ApplicationData:
                    RaiseApplicationData(records.Plaintext, length);
                    break;
                case RecordKind.Alert:
                    OnAlert(records, length);
                    break;
                case RecordKind.Handshake:
                case RecordKind.PlainHandshake:
                    OnPeerFlight();
                    break;
            }
        }
    }

    private void RaiseApplicationData(byte[] buffer, int length)
    {
        try
        {
            ApplicationData?.Invoke(new ReadOnlyMemory<byte>(buffer, 0, length));
        }
        catch (Exception e)
        {
            DtlsLog.HandlerThrew(_logger, _role, _name, e);
        }
    }

    private void OnAlert(ManagedRecordLayer records, int length)
    {
        if (length != 2) return; // RFC 5246 §7.2: two bytes; anything else is not an alert we act on
        var level = records.Plaintext[0];
        var description = records.Plaintext[1];
        if (description == AlertDescription.close_notify)
        {
            if (!TryMove(DtlsState.Connected, DtlsState.Closed)) return;
            // RFC 5246 §7.2.1: answer with a close_notify of our own, then send nothing more.
            records.CloseSending(_send, CloseNotify);
            DtlsLog.ConnectionEnded(_logger, _role, _name, DtlsState.Closed, "the peer sent close_notify");
            _stopped.TrySetResult();
        }
        else if (level == AlertLevel.fatal)
        {
            if (!TryMove(DtlsState.Connected, DtlsState.Failed)) return;
            records.CloseSending(_send);
            DtlsLog.ConnectionEnded(_logger, _role, _name, DtlsState.Failed, $"the peer sent the fatal alert {AlertDescription.GetText(description)}");
            _stopped.TrySetResult();
        }
        // Warnings other than close_notify (RFC 5246 §7.2.2) change nothing.
    }

    /// <summary>
    /// The peer sent handshake records after we finished: it has not seen our last flight (lost) and repeats its own.
    /// RFC 6347 §4.2.4: the side that sent the last flight answers with it again. Rate-limited, and only the server.
    /// </summary>
    private void OnPeerFlight()
    {
        var flight = _finalFlight;
        if (flight.Length == 0) return;
        var now = Stopwatch.GetTimestamp();
        if (now - _lastFinalFlight < FinalFlightInterval) return;
        _lastFinalFlight = now;
        foreach (var datagram in flight)
        {
            try
            {
                _send(datagram);
            }
            catch (Exception)
            {
                // A lost datagram; the peer repeats its flight again.
            }
        }
        Interlocked.Increment(ref _finalFlightResends);
        DtlsLog.FinalFlightResent(_logger, _role, _name, flight.Length);
    }

    // BouncyCastle's sends during the handshake (pool thread): noted for the record layer, then sent.
    private void SendDuringHandshake(ReadOnlySpan<byte> datagram)
    {
        _recorder.Record(datagram);
        _send(datagram);
    }

    private DtlsHandshakeException Describe(Exception e)
    {
        if (_disposed || e is DatagramQueueClosedException || e.InnerException is DatagramQueueClosedException)
            return Closed(e);
        short? alert = e is TlsFatalAlert fatal ? fatal.AlertDescription : null;
        if (_outcome.Refusal is { } refusal)
            return new DtlsHandshakeException(refusal.Failure, refusal.Detail, alert, e);
        return e switch
        {
            TlsTimeoutException => TimedOut(e),
            TlsFatalAlertReceived received => new DtlsHandshakeException(DtlsHandshakeFailure.AlertReceived,
                $"the peer aborted the handshake with {AlertDescription.GetText(received.AlertDescription)}", received.AlertDescription, e),
            TlsFatalAlert sent => new DtlsHandshakeException(DtlsHandshakeFailure.ProtocolError,
                $"the handshake failed with {AlertDescription.GetText(sent.AlertDescription)}: {sent.Message}", sent.AlertDescription, e),
            _ => new DtlsHandshakeException(DtlsHandshakeFailure.ProtocolError, $"the handshake failed: {e.Message}", null, e),
        };
    }

    private static DtlsHandshakeException Closed(Exception? inner = null) =>
        new(DtlsHandshakeFailure.Closed, "the DTLS endpoint was disposed before the handshake finished", null, inner);
}

/// <summary>The SFU's end of DTLS-SRTP: always the DTLS server (it answers <c>a=setup:passive</c>, docs/dtls.md).</summary>
public sealed class DtlsServerEndpoint(DtlsCertificate certificate, string remoteFingerprint, DtlsSend send,
    DtlsOptions? options = null, ILogger? logger = null)
    : DtlsEndpoint(isServer: true, certificate, remoteFingerprint, send, options, logger)
{
    // No DtlsRequest/DtlsVerifier: it cannot take a fragmented ClientHello, and Chrome's always is (pitfall 5).
    private protected override DtlsTransport Connect(BcTlsCrypto crypto, HandshakeOutcome outcome, DatagramTransport transport) =>
        new DtlsServerProtocol().Accept(new SrtpDtlsServer(crypto, outcome), transport);
}

/// <summary>The browser's end of DTLS-SRTP (DTLS client), for the load tool and tests.</summary>
public sealed class DtlsClientEndpoint(DtlsCertificate certificate, string remoteFingerprint, DtlsSend send,
    DtlsOptions? options = null, ILogger? logger = null)
    : DtlsEndpoint(isServer: false, certificate, remoteFingerprint, send, options, logger)
{
    private protected override DtlsTransport Connect(BcTlsCrypto crypto, HandshakeOutcome outcome, DatagramTransport transport) =>
        new DtlsClientProtocol().Connect(new SrtpDtlsClient(crypto, outcome), transport);
}
