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
/// the <see cref="DtlsSend"/> it was given. BouncyCastle is blocking, so each endpoint runs its handshake and then its
/// receive loop on a dedicated thread (media-stack.md §1.3 pitfall 4); <see cref="Dispose"/> ends it.
/// </summary>
public abstract class DtlsEndpoint : IDisposable
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(5);
    private static int s_nextId;

    private readonly DatagramQueue _queue;
    private readonly HandshakeOutcome _outcome;
    private readonly BcTlsCrypto _crypto;
    private readonly ILogger _logger;
    private readonly string _role;
    private readonly string _name;
    private readonly TaskCompletionSource<DtlsHandshakeResult> _handshake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Guards the state and the DtlsTransport: sends come from any thread, BC's record layer wants them one at a time (pitfall 10).
    private readonly Lock _gate = new();
    private DtlsState _state = DtlsState.Handshaking;
    private DtlsTransport? _transport;
    private int _maxApplicationDataLength;
    private Thread? _thread;
    private volatile bool _disposed;

    private protected DtlsEndpoint(bool isServer, DtlsCertificate certificate, string remoteFingerprint, DtlsSend send,
        DtlsOptions? options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(send);
        options ??= DtlsOptions.Default;
        options.Validate(isServer);
        _crypto = new BcTlsCrypto(new SecureRandom());
        _outcome = new HandshakeOutcome(_crypto, certificate, remoteFingerprint, options);
        _queue = new DatagramQueue(send, options.ReceiveQueueCapacity);
        _logger = logger ?? NullLogger.Instance;
        _role = isServer ? "server" : "client";
        _name = "#" + Interlocked.Increment(ref s_nextId);
    }

    /// <summary>Completes when the handshake has finished; faults with <see cref="DtlsHandshakeException"/> otherwise.</summary>
    public Task<DtlsHandshakeResult> Handshake => _handshake.Task;

    /// <summary>Completes when the endpoint's thread has ended (after failure, close_notify or <see cref="Dispose"/>).</summary>
    public Task Stopped => _stopped.Task;

    public DtlsState State
    {
        get { lock (_gate) return _state; }
    }

    /// <summary>
    /// Called on the endpoint's thread for each application-data record (SCTP rides on these). The memory is reused:
    /// valid only during the call. Set it before <see cref="Start"/>: the peer may send right after its last flight.
    /// An exception from the handler is logged and does not end the connection.
    /// </summary>
    public Action<ReadOnlyMemory<byte>>? ApplicationData { get; set; }

    /// <summary>The largest record <see cref="SendApplicationData"/> takes; 0 until connected.</summary>
    public int MaxApplicationDataLength
    {
        get { lock (_gate) return _maxApplicationDataLength; }
    }

    /// <summary>The negotiated cipher suite and version, for logs and tests; meaningful once <see cref="Handshake"/> has completed.</summary>
    internal int NegotiatedCipherSuite => _outcome.NegotiatedCipherSuite;
    internal ProtocolVersion? Version => _outcome.Version;

    /// <summary>Inbound datagrams dropped: queue full (<see cref="DtlsOptions.ReceiveQueueCapacity"/>), oversized, or after close.</summary>
    public long DroppedDatagrams => _queue.Dropped;

    /// <summary>Hands in one datagram from the socket. Copies it and returns at once; never throws for any content.</summary>
    public void Deliver(ReadOnlySpan<byte> datagram) => _queue.Deliver(datagram);

    /// <summary>Starts the handshake on the endpoint's own thread.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_thread is not null) throw new InvalidOperationException("the endpoint is already started");
            // Not the thread pool: the thread blocks in BouncyCastle for the life of the connection.
            _thread = new Thread(Run, maxStackSize: 512 * 1024) { IsBackground = true, Name = $"DTLS {_role} {_name}" };
            _thread.Start();
        }
    }

    /// <summary>Sends one application-data record. Safe from any thread. False when not connected.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is longer than <see cref="MaxApplicationDataLength"/>.</exception>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (_state != DtlsState.Connected || _transport is null) return false;
            if (data.Length > _maxApplicationDataLength)
                throw new ArgumentException($"a DTLS record carries at most {_maxApplicationDataLength} bytes here, not {data.Length}", nameof(data));
            try
            {
                _transport.Send(data);
                return true;
            }
            catch (Exception)
            {
                // BouncyCastle has failed the connection and closed the queue; the receive loop records why.
                return false;
            }
        }
    }

    /// <summary>Sends close_notify when connected, stops the thread and waits (briefly) for it to end. Idempotent.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            thread = _thread;
            if (_state is DtlsState.Handshaking or DtlsState.Connected) _state = DtlsState.Closed;
            try
            {
                _transport?.Close(); // close_notify, then closes the queue
            }
            catch (Exception)
            {
                // Closing is best effort; the queue is closed below either way.
            }
            _queue.Close();
        }
        if (thread is null)
        {
            _handshake.TrySetException(Closed());
            _stopped.TrySetResult();
        }
        else if (thread != Thread.CurrentThread && !thread.Join(JoinTimeout))
        {
            DtlsLog.ThreadDidNotEnd(_logger, _role, _name, (long)JoinTimeout.TotalMilliseconds);
        }
        GC.SuppressFinalize(this);
    }

    private protected abstract DtlsTransport Connect(BcTlsCrypto crypto, HandshakeOutcome outcome, DatagramTransport transport);

    private void Run()
    {
        try
        {
            if (RunHandshake() is { } transport) ReceiveLoop(transport);
        }
        finally
        {
            _queue.Close();
            _stopped.TrySetResult();
        }
    }

    private DtlsTransport? RunHandshake()
    {
        var started = Stopwatch.GetTimestamp();
        DtlsTransport transport;
        try
        {
            transport = Connect(_crypto, _outcome, _queue);
        }
        catch (Exception e)
        {
            var error = Describe(e);
            lock (_gate)
            {
                if (_state == DtlsState.Handshaking) _state = DtlsState.Failed;
            }
            if (error.Failure != DtlsHandshakeFailure.Closed) DtlsLog.HandshakeFailed(_logger, _role, _name, error.Failure, error.Message);
            _handshake.TrySetException(error);
            return null;
        }

        var result = new DtlsHandshakeResult(_outcome.Profile!.Value, _outcome.KeyingMaterial!, _outcome.RemoteFingerprint!,
            Stopwatch.GetElapsedTime(started));
        bool disposed;
        lock (_gate)
        {
            disposed = _disposed;
            if (!disposed)
            {
                _transport = transport;
                _maxApplicationDataLength = transport.GetSendLimit();
                _state = DtlsState.Connected;
            }
        }
        if (disposed)
        {
            // Disposed while the last flight was coming in: the queue is closed, so this sends nothing.
            transport.Close();
            _handshake.TrySetException(Closed());
            return null;
        }
        DtlsLog.HandshakeDone(_logger, _role, _name, (long)result.Duration.TotalMilliseconds, result.Profile, result.RemoteFingerprint);
        _handshake.TrySetResult(result);
        return transport;
    }

    // The server must keep reading after Accept: a client that missed our final flight retransmits its own, and
    // only a reading record layer answers it (pitfall 4).
    private void ReceiveLoop(DtlsTransport transport)
    {
        var buffer = new byte[transport.GetReceiveLimit()];
        while (true)
        {
            int length;
            try
            {
                length = transport.Receive(buffer, 0, buffer.Length, 0); // 0: no time limit; Dispose wakes it
            }
            catch (Exception e)
            {
                var closed = _disposed || e is DatagramQueueClosedException || _queue.IsClosed;
                lock (_gate)
                {
                    if (_state == DtlsState.Connected) _state = closed ? DtlsState.Closed : DtlsState.Failed;
                }
                DtlsLog.ConnectionEnded(_logger, _role, _name, closed ? DtlsState.Closed : DtlsState.Failed, e.Message);
                return;
            }
            if (length < 0) continue;
            try
            {
                ApplicationData?.Invoke(buffer.AsMemory(0, length));
            }
            catch (Exception e)
            {
                DtlsLog.HandlerThrew(_logger, _role, _name, e);
            }
        }
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
            TlsTimeoutException => new DtlsHandshakeException(DtlsHandshakeFailure.Timeout,
                $"no complete DTLS handshake within {_outcome.Options.HandshakeTimeout.TotalMilliseconds} ms", null, e),
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

/// <summary>The SFU's end of DTLS-SRTP: always the DTLS server (it answers <c>a=setup:passive</c>, media-stack.md §7 item 1).</summary>
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
