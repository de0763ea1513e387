using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Rtc.TurnHost;

/// <summary>What <see cref="TurnService"/> listens on and allows (from the TURN keys of the configuration, D-57).</summary>
public sealed record TurnServiceOptions
{
    public required IPAddress ListenAddress { get; init; }
    /// <summary>The address XOR-RELAYED-ADDRESS names (the media candidates' address): relayed ports are reserved on it.</summary>
    public required IPAddress RelayAddress { get; init; }
    public required string Realm { get; init; }
    /// <summary>The addresses clients reach the media workers on (listening and advertised): the only peers allowed.</summary>
    public required IReadOnlyList<IPAddress> MediaAddresses { get; init; }
    /// <summary>TURN over UDP; 0: any free port.</summary>
    public int UdpPort { get; init; } = 3478;
    public bool Tcp { get; init; } = true;
    /// <summary>TURN over TCP; 0: any free port.</summary>
    public int TcpPort { get; init; } = 3478;
    /// <summary>PEM files: when both are set, TURN over TLS listens on <see cref="TlsPort"/>.</summary>
    public string? TlsCertificatePath { get; init; }
    public string? TlsPrivateKeyPath { get; init; }
    public int TlsPort { get; init; } = 5349;
    public int MaxAllocations { get; init; } = 10_000;
    public int MaxAllocationsPerUser { get; init; } = 4;
    public long MaxBytesPerSecondPerAllocation { get; init; } = 4_000_000;
    /// <summary>Frames a slow TCP/TLS client may have queued toward it before more are dropped (counted).</summary>
    public int TcpSendQueue { get; init; } = 1024;
}

/// <summary>
/// The TURN server inside a node (issue 15, docs/decisions.md D-57, docs/threads.md "TURN"): listeners for TURN over UDP,
/// TCP and (with a certificate) TLS around one <see cref="TurnServerCore"/>. The core's state (allocations, permissions,
/// channels) is owned by one monitor, <c>_core</c>, entered by the UDP thread, the TCP/TLS connections' tasks, the expiry
/// timer and — for data toward clients — the media workers; nothing else is done under it. Data from a client to the
/// node's media address is handed to the owning media worker in process through rings (no datagram on the loopback),
/// and the worker's sends to a relayed address come back here (<see cref="ITurnEgress"/>) instead of to its socket.
/// Relayed addresses are real ports reserved on the relay address by a bound, never-read UDP socket each, so no other
/// local socket can hold an address the workers treat as a TURN client's.
/// </summary>
public sealed class TurnService : ITurnEgress, IDisposable
{
    private readonly TurnServiceOptions _options;
    private readonly TurnCredentialStore _credentials;
    private readonly IReadOnlyList<MediaWorker> _workers;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Lock _core = new();
    private readonly TurnServerCore _server;
    private readonly ExternalRings _rings = new();
    private readonly EndpointKey _relayAddressKey;
    // Maintained under _core from the core's allocation events; read lock-free by the workers' egress check.
    private readonly ConcurrentDictionary<EndpointKey, Allocation> _allocations = new();
    private readonly ConcurrentDictionary<long, TcpClientConnection> _tcp = new();
    private readonly ConcurrentDictionary<int, Socket> _reserved = new();
    private readonly byte[] _egressBuffer = new byte[PacketRing.SlotSize + 128];
    private readonly CancellationTokenSource _stop = new();
    private Socket? _udp;
    private Thread? _udpThread;
    private Socket? _tcpListener, _tlsListener;
    private X509Certificate2? _certificate;
    private Timer? _expiry;
    private long _nextConnectionId;
    private long _udpDatagrams, _tcpConnections, _tlsConnections, _invalidTcp, _tcpQueueDrops, _handoffDrops, _noWorker;
    private long _udpAllocations, _tcpAllocations, _udpSelected, _tcpSelected, _unreserved, _idleClosed;

    /// <summary>TCP/TLS idle limits (see <see cref="ReadLoopAsync"/>).</summary>
    public static readonly TimeSpan PartialFrameTimeout = TimeSpan.FromSeconds(10), IdleTimeout = TimeSpan.FromSeconds(30),
        AllocatedIdleTimeout = TimeSpan.FromMinutes(10);

    public TurnService(TurnServiceOptions options, TurnCredentialStore credentials, IReadOnlyList<MediaWorker> workers,
        ILogger? log = null, TimeProvider? time = null)
    {
        _options = options;
        _credentials = credentials;
        _workers = workers;
        _log = log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _relayAddressKey = EndpointKey.From(new IPEndPoint(options.RelayAddress, 0));
        _server = new TurnServerCore(new TurnServerOptions
        {
            Realm = options.Realm,
            RelayAddress = options.RelayAddress,
            IsAllowedPeer = IsNodeMediaAddress,
            MaxAllocations = options.MaxAllocations,
            MaxAllocationsPerUser = options.MaxAllocationsPerUser,
            MaxBytesPerSecondPerAllocation = options.MaxBytesPerSecondPerAllocation,
            NonceKey = RandomNumberGenerator.GetBytes(32),
            Software = "Hibari " + HibariVersion.Value,
            RelayPortMin = RelayPortMin,
            RelayPortMax = RelayPortMax,
        }, credentials);
        _server.AllocationCreated += OnAllocationCreated;
        _server.AllocationRemoved += OnAllocationRemoved;
    }

    /// <summary>The bound ports (known after <see cref="Start"/>; 0 when that listener is off).</summary>
    public int UdpPort { get; private set; }
    public int TcpPort { get; private set; }
    public int TlsPort { get; private set; }
    public bool TlsEnabled => _tlsListener is not null;

    public void Start()
    {
        try
        {
            var udp = new Socket(_options.ListenAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            _udp = udp;
            udp.ReceiveBufferSize = 2 * 1024 * 1024;
            udp.Bind(new IPEndPoint(_options.ListenAddress, _options.UdpPort));
            UdpPort = ((IPEndPoint)udp.LocalEndPoint!).Port;
            if (_options.Tcp)
            {
                _tcpListener = Listen(_options.TcpPort);
                TcpPort = ((IPEndPoint)_tcpListener.LocalEndPoint!).Port;
                _ = AcceptLoopAsync(_tcpListener, tls: false);
            }
            if (_options.TlsCertificatePath is { } cert && _options.TlsPrivateKeyPath is { } key)
            {
                _certificate = LoadCertificate(cert, key);
                _tlsListener = Listen(_options.TlsPort);
                TlsPort = ((IPEndPoint)_tlsListener.LocalEndPoint!).Port;
                _ = AcceptLoopAsync(_tlsListener, tls: true);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        foreach (var w in _workers) w.SetTurnEgress(this);
        _udpThread = new Thread(UdpLoop) { Name = "hibari-turn-udp", IsBackground = true };
        _udpThread.Start();
        _expiry = new Timer(_ => Expire(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _log.LogInformation("TURN: udp {Udp}, tcp {Tcp}, tls {Tls}, relayed addresses on {Relay}, realm {Realm}",
            UdpPort, _options.Tcp ? TcpPort : "off", TlsEnabled ? TlsPort : "off", _options.RelayAddress, _options.Realm);
    }

    private static X509Certificate2 LoadCertificate(string certPath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        // SslStream on Linux wants a certificate whose key it can use: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private Socket Listen(int port)
    {
        var s = new Socket(_options.ListenAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(_options.ListenAddress, port));
            s.Listen(512);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    // --- counters (read from any thread) ---

    public int AllocationCount => _allocations.Count;
    public long UdpAllocationsTotal => Interlocked.Read(ref _udpAllocations);
    public long TcpAllocationsTotal => Interlocked.Read(ref _tcpAllocations);
    /// <summary>Connections whose ICE selected a path through TURN over UDP / over TCP or TLS (GetStatsReport's total_turn_*_connections).</summary>
    public long UdpSelectedTotal => Interlocked.Read(ref _udpSelected);
    public long TcpSelectedTotal => Interlocked.Read(ref _tcpSelected);
    public long TcpConnectionsTotal => Interlocked.Read(ref _tcpConnections);
    public long TlsConnectionsTotal => Interlocked.Read(ref _tlsConnections);
    public int TcpConnectionsOpen => _tcp.Count;
    /// <summary>TCP/TLS streams closed because their bytes were not TURN framing.</summary>
    public long InvalidTcpStreams => Interlocked.Read(ref _invalidTcp);
    /// <summary>TCP/TLS connections closed by the idle limits.</summary>
    public long IdleClosed => Interlocked.Read(ref _idleClosed);
    public long TcpQueueDrops => Interlocked.Read(ref _tcpQueueDrops);
    /// <summary>Client data toward a worker dropped because its ring was full.</summary>
    public long HandoffDrops => Interlocked.Read(ref _handoffDrops);
    public long UdpDatagrams => Interlocked.Read(ref _udpDatagrams);

    /// <summary>The core's counters (each a 64-bit value written under the core's monitor; read without it).</summary>
    public TurnCounters CoreCounters() => _server.Counters;

    // --- the peers an allocation may reach: the node's own media ports ---

    private bool IsNodeMediaAddress(EndpointKey peer) => WorkerFor(peer) is not null;

    private MediaWorker? WorkerFor(EndpointKey peer)
    {
        foreach (var w in _workers)
        {
            var local = w.LocalEndPoint;
            if (peer.Port != local.Port) continue;
            var ip = peer.ToEndPoint().Address;
            if (ip.Equals(local.Address)) return w;
            foreach (var a in _options.MediaAddresses)
                if (ip.Equals(a)) return w;
        }
        return null;
    }

    // --- relayed ports: reserved by a bound socket each (D-57) ---

    /// <summary>
    /// Relayed ports come from above Linux's default ephemeral range (32768–60999), so the kernel hands none of them to
    /// a client socket on its own; each live one is also bound (<see cref="Reserve"/>) so no later socket can take it.
    /// </summary>
    public const int RelayPortMin = 61000, RelayPortMax = 65535;

    private void Reserve(int port)
    {
        var s = new Socket(_options.RelayAddress.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.ReceiveBufferSize = 4096; // never read: whatever arrives from outside is dropped by the kernel
            s.Bind(new IPEndPoint(_options.RelayAddress, port));
            if (_reserved.TryAdd(port, s)) return;
        }
        catch (SocketException e)
        {
            Interlocked.Increment(ref _unreserved);
            _log.LogWarning("TURN: relayed port {Port} could not be reserved (another socket holds it): {Error}", port, e.Message);
        }
        s.Dispose();
    }

    private void ReleaseRelayPort(int port)
    {
        if (_reserved.TryRemove(port, out var s)) s.Dispose();
    }

    private void OnAllocationCreated(TurnAllocationInfo info)
    {
        var relayed = info.Relayed.ToEndPoint();
        Reserve(relayed.Port);
        var client = info.Client.Transport == TurnTransport.Udp ? info.Client.Remote.ToEndPoint().Serialize() : null;
        _allocations[info.Relayed] = new Allocation(info.Client, client, relayed.Serialize(), info.Username);
        if (info.Client.Transport == TurnTransport.Udp) Interlocked.Increment(ref _udpAllocations);
        else Interlocked.Increment(ref _tcpAllocations);
    }

    private void OnAllocationRemoved(TurnAllocationInfo info)
    {
        _allocations.TryRemove(info.Relayed, out _);
        ReleaseRelayPort(info.Relayed.Port);
    }

    /// <summary>The connection <paramref name="connectionId"/> ended: its credentials and allocations go.</summary>
    public void Revoke(string connectionId)
    {
        if (!_credentials.Revoke(connectionId)) return;
        lock (_core) _server.RevokeUser(connectionId);
    }

    private void Expire()
    {
        try
        {
            lock (_core) _server.Expire(NowMicros());
        }
        catch (Exception e)
        {
            _log.LogError(e, "TURN: expiry failed");
        }
    }

    private long NowMicros() => MediaClock.ToMicros(_time.GetTimestamp(), _time.TimestampFrequency);

    // --- client → node ---

    /// <summary>One message from a client: the core answers or names the peer the payload goes to.</summary>
    private void FromClient(in TurnClientKey client, Span<byte> input, Span<byte> response, Action<ReadOnlySpan<byte>> reply, out bool close)
    {
        close = false;
        TurnAction action;
        lock (_core) action = _server.HandleFromClient(client, input, response, NowMicros());
        switch (action.Kind)
        {
            case TurnActionKind.Respond:
                reply(response[..action.ResponseLength]);
                break;
            case TurnActionKind.RespondAndClose:
                reply(response[..action.ResponseLength]);
                close = true;
                break;
            case TurnActionKind.ForwardToPeer:
                ToWorker(action.Relayed, action.Peer, input.Slice(action.PayloadOffset, action.PayloadLength));
                break;
        }
    }

    /// <summary>Hands a client's payload to the worker that owns <paramref name="peer"/>, as if from the relayed address.</summary>
    private void ToWorker(EndpointKey relayed, EndpointKey peer, ReadOnlySpan<byte> payload)
    {
        if (WorkerFor(peer) is not { } worker || !_allocations.TryGetValue(relayed, out var allocation))
        {
            Interlocked.Increment(ref _noWorker);
            return;
        }
        var origin = allocation.OriginFor(worker);
        if (!_rings.Hand(worker, origin, payload, 0)) Interlocked.Increment(ref _handoffDrops);
    }

    private void UdpLoop()
    {
        var socket = _udp!;
        var buffer = new byte[65536];
        var response = new byte[2048];
        var from = new SocketAddress(socket.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (SocketException) { continue; }
            catch (ObjectDisposedException) { return; }
            try
            {
                Interlocked.Increment(ref _udpDatagrams);
                if (n == 0 || !EndpointKey.TryFrom(from, out var key)) continue;
                var client = new TurnClientKey(TurnTransport.Udp, key, 0);
                FromClient(client, buffer.AsSpan(0, n), response, r => SendUdp(r, from), out _);
            }
            catch (Exception e)
            {
                _log.LogError(e, "TURN: a UDP datagram could not be handled");
            }
        }
    }

    private void SendUdp(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        try { _udp?.SendTo(datagram, SocketFlags.None, to); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    private async Task AcceptLoopAsync(Socket listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException e)
            {
                _log.LogWarning("TURN: accept failed: {Error}", e.Message);
                continue;
            }
            s.NoDelay = true;
            _ = ServeTcpAsync(s, tls);
        }
    }

    private async Task ServeTcpAsync(Socket socket, bool tls)
    {
        var id = Interlocked.Increment(ref _nextConnectionId);
        if (!EndpointKey.TryFrom(socket.RemoteEndPoint!.Serialize(), out var remote)) { socket.Dispose(); return; }
        var client = new TurnClientKey(tls ? TurnTransport.Tls : TurnTransport.Tcp, remote, id);
        Interlocked.Increment(ref tls ? ref _tlsConnections : ref _tcpConnections);
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        var connection = new TcpClientConnection(_options.TcpSendQueue);
        try
        {
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
                handshake.CancelAfter(TimeSpan.FromSeconds(10));
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, handshake.Token)
                    .ConfigureAwait(false);
            }
            _tcp[id] = connection;
            var writer = WriteLoopAsync(stream, connection, cts.Token);
            await ReadLoopAsync(stream, client, connection, cts.Token).ConfigureAwait(false);
            connection.Queue.Writer.TryComplete();
            await writer.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException
                                       or System.Security.Authentication.AuthenticationException)
        {
            _log.LogDebug("TURN {Kind} connection {Id} ended: {Error}{Inner}", tls ? "TLS" : "TCP", id, e.Message,
                e.InnerException is { } inner ? " (" + inner.Message + ")" : "");
        }
        catch (Exception e)
        {
            _log.LogError(e, "TURN {Kind} connection {Id} failed", tls ? "TLS" : "TCP", id);
        }
        finally
        {
            cts.Cancel();
            _tcp.TryRemove(id, out _);
            lock (_core) _server.CloseClient(client);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Reads TURN frames (RFC 8656 §12.5 framing) off a stream; a stream that is not TURN is closed.</summary>
    private async Task ReadLoopAsync(Stream stream, TurnClientKey client, TcpClientConnection connection, CancellationToken ct)
    {
        var buffer = new byte[65536 + 8];
        var response = new byte[2048];
        var filled = 0;
        while (true)
        {
            // Idle limits: a frame begun must be finished within PartialFrameTimeout (no slow drip holding a connection:
            // framing alone takes "GET /" for a ChannelData header); a connection without an allocation is closed after
            // IdleTimeout; one with an allocation lives as long as the allocation (its client refreshes it).
            bool allocated;
            lock (_core) allocated = _server.TryGetAllocation(client, NowMicros(), out _);
            var limit = filled > 0 ? PartialFrameTimeout : allocated ? AllocatedIdleTimeout : IdleTimeout;
            int n;
            using (var read = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                read.CancelAfter(limit);
                try
                {
                    n = await stream.ReadAsync(buffer.AsMemory(filled), read.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _idleClosed);
                    return;
                }
            }
            if (n == 0) return;
            filled += n;
            var offset = 0;
            while (true)
            {
                var frame = TurnFraming.FrameLength(buffer.AsSpan(offset, filled - offset));
                if (frame < 0)
                {
                    Interlocked.Increment(ref _invalidTcp);
                    return;
                }
                if (frame == 0) break;
                FromClient(client, buffer.AsSpan(offset, frame), response, r => connection.Enqueue(r, ref _tcpQueueDrops), out var close);
                offset += frame;
                if (close) return;
            }
            if (offset > 0)
            {
                Buffer.BlockCopy(buffer, offset, buffer, 0, filled - offset);
                filled -= offset;
            }
            if (filled == buffer.Length)
            {
                Interlocked.Increment(ref _invalidTcp); // a frame longer than TURN allows
                return;
            }
        }
    }

    private static async Task WriteLoopAsync(Stream stream, TcpClientConnection connection, CancellationToken ct)
    {
        var reader = connection.Queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    try { await stream.WriteAsync(frame.Bytes.AsMemory(0, frame.Length), ct).ConfigureAwait(false); }
                    finally { ArrayPool<byte>.Shared.Return(frame.Bytes); }
                }
                await stream.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // the reader notices the closed stream and cleans up
        }
    }

    // --- node → client (ITurnEgress, called by the media workers) ---

    public bool MayBeRelayed(in EndpointKey remote) => remote.High == _relayAddressKey.High && remote.Low == _relayAddressKey.Low
                                                        && !_allocations.IsEmpty;

    public void Selected(in EndpointKey remote)
    {
        if (!_allocations.TryGetValue(remote, out var allocation) || Interlocked.Exchange(ref allocation.SelectedOnce, 1) == 1) return;
        if (allocation.Client.Transport == TurnTransport.Udp) Interlocked.Increment(ref _udpSelected);
        else Interlocked.Increment(ref _tcpSelected);
    }

    public bool TryDeliver(in EndpointKey remote, in EndpointKey local, ReadOnlySpan<byte> datagram)
    {
        if (!_allocations.TryGetValue(remote, out var allocation)) return false;
        lock (_core)
        {
            if (!_server.WrapFromPeer(remote, local, datagram, _egressBuffer, NowMicros(), out var client, out var length)) return true;
            var wrapped = _egressBuffer.AsSpan(0, length);
            if (client.Transport == TurnTransport.Udp)
            {
                if (allocation.UdpClient is { } to) SendUdp(wrapped, to);
            }
            else if (_tcp.TryGetValue(client.ConnectionId, out var connection))
            {
                connection.Enqueue(wrapped, ref _tcpQueueDrops);
            }
        }
        return true;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _expiry?.Dispose();
        _udp?.Dispose();
        _tcpListener?.Dispose();
        _tlsListener?.Dispose();
        foreach (var s in _reserved.Values) s.Dispose();
        _reserved.Clear();
        _certificate?.Dispose();
    }

    /// <summary>A live allocation as the workers see it: who holds it and, per worker, the hand-off target that delivers as from it.</summary>
    private sealed class Allocation(TurnClientKey client, SocketAddress? udpClient, SocketAddress relayed, string username)
    {
        private readonly Origin?[] _origins = new Origin?[MediaWorker.MaxWorkers];
        public TurnClientKey Client { get; } = client;
        public SocketAddress? UdpClient { get; } = udpClient;
        public string Username { get; } = username;
        public int SelectedOnce;
        public Origin OriginFor(MediaWorker worker) => _origins[worker.Index] ??= new Origin(worker, relayed);
    }

    /// <summary>Runs on the worker: a client's datagram enters the worker as if received from the relayed address.</summary>
    private sealed class Origin(MediaWorker worker, SocketAddress relayed) : IHandoffTarget
    {
        public void OnHandoff(Span<byte> packet, long stamp) => worker.DeliverFromTurn(packet, relayed);
    }

    private readonly record struct Frame(byte[] Bytes, int Length);

    /// <summary>A TCP/TLS client: frames toward it wait in a bounded queue drained by its writer task.</summary>
    private sealed class TcpClientConnection(int capacity)
    {
        public Channel<Frame> Queue { get; } = Channel.CreateBounded<Frame>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });

        public void Enqueue(ReadOnlySpan<byte> bytes, ref long drops)
        {
            var copy = ArrayPool<byte>.Shared.Rent(bytes.Length);
            bytes.CopyTo(copy);
            if (!Queue.Writer.TryWrite(new Frame(copy, bytes.Length)))
            {
                ArrayPool<byte>.Shared.Return(copy);
                Interlocked.Increment(ref drops);
            }
        }
    }
}
