using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Hibari.Rtc.Ice;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Rtc.Transport;

/// <summary>
/// What the media socket calls for one registered peer. Every call runs on the media thread, one at a time, so a peer's
/// SRTP contexts and forwarding state need no locks.
/// </summary>
public interface IMediaPeer
{
    /// <summary>A DTLS record (first byte 20–63, RFC 7983) from an address this peer authenticated with ICE.</summary>
    void OnDtlsDatagram(ReadOnlySpan<byte> datagram);
    /// <summary>An SRTP or SRTCP packet (first byte 128–191). The span is the receive buffer: decrypt in place.</summary>
    void OnSrtpDatagram(Span<byte> datagram);
    /// <summary>ICE selected (or re-selected) the address media goes to.</summary>
    void OnSelected(SocketAddress remote);
    /// <summary>Called about every <see cref="MediaSocket.TickInterval"/> for timers (RTCP reports, key-frame requests).</summary>
    void OnTick(long nowMicroseconds);
    /// <summary>No authenticated STUN request for <see cref="MediaSocket.ConsentTimeout"/> (RFC 7675): the peer is gone.</summary>
    void OnConsentExpired();
}

/// <summary>
/// The node's one UDP port for media (DESIGN.md §1): ICE-lite answers, DTLS, SRTP and SRTCP of every peer. Datagrams
/// are demultiplexed by their first byte (RFC 7983) and by the remote address an authenticated STUN request latched
/// (media-stack.md §4). One dedicated thread receives, dispatches, runs posted actions and ticks the peers' timers.
/// </summary>
public sealed class MediaSocket : IDisposable
{
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(20);
    public static readonly TimeSpan ConsentTimeout = TimeSpan.FromSeconds(30);

    private readonly IPAddress _address;
    private readonly int _port;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IceLiteResponder _responder;
    private readonly ConcurrentQueue<Action> _posted = new();
    // Both maps are owned by the media thread.
    private readonly Dictionary<string, Entry> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<EndpointKey, Entry> _byEndpoint = new();
    private readonly List<Entry> _expired = [];
    private Socket? _socket;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _received, _receivedBytes, _sent, _sentBytes, _unknownSource, _garbage, _sendErrors;

    public MediaSocket(IPAddress address, int port, ILogger? log = null, TimeProvider? time = null)
    {
        _address = address;
        _port = port;
        _log = log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _responder = new IceLiteResponder(Lookup);
    }

    /// <summary>The bound local address (the port is known after <see cref="Start"/>, also when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("not started"));

    public long DatagramsReceived => Interlocked.Read(ref _received);
    public long BytesReceived => Interlocked.Read(ref _receivedBytes);
    public long DatagramsSent => Interlocked.Read(ref _sent);
    public long BytesSent => Interlocked.Read(ref _sentBytes);
    /// <summary>DTLS/SRTP datagrams from addresses no peer authenticated: dropped.</summary>
    public long UnknownSource => Interlocked.Read(ref _unknownSource);
    /// <summary>Datagrams that are neither STUN, DTLS nor RTP/RTCP, or STUN the responder dropped.</summary>
    public long Garbage => Interlocked.Read(ref _garbage) + _responder.Dropped;
    public long SendErrors => Interlocked.Read(ref _sendErrors);
    public IceLiteResponder Ice => _responder;

    public void Start()
    {
        var socket = new Socket(_address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.ReceiveBufferSize = 4 * 1024 * 1024;
            socket.SendBufferSize = 4 * 1024 * 1024;
            socket.Bind(new IPEndPoint(_address, _port));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        // A second, private loopback socket only wakes the thread when something is posted while it waits.
        _wake = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _wake.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _wakeEndPoint = _wake.LocalEndPoint!;
        _thread = new Thread(Run) { Name = "hibari-media", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> on the media thread, at once if it is waiting for datagrams.</summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        if (Volatile.Read(ref _waiting) == 1 && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            try { _wake?.SendTo(WakeByte, SocketFlags.None, _wakeEndPoint!); }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
    }

    private static readonly byte[] WakeByte = [0];
    private Socket? _wake;
    private EndPoint? _wakeEndPoint;
    private int _waiting;
    private readonly List<Socket> _readable = new(2);

    /// <summary>Waits up to 5 ms for a datagram or a post; true when the media socket is readable.</summary>
    private bool Wait(Socket socket)
    {
        Volatile.Write(ref _waiting, 1);
        if (!_posted.IsEmpty)
        {
            Volatile.Write(ref _waiting, 0);
            return socket.Available > 0;
        }
        _readable.Clear();
        _readable.Add(socket);
        _readable.Add(_wake!);
        Socket.Select(_readable, null, null, 5_000);
        Volatile.Write(ref _waiting, 0);
        if (_readable.Contains(_wake!))
        {
            Span<byte> sink = stackalloc byte[16];
            while (_wake!.Available > 0) _wake.Receive(sink);
        }
        return _readable.Contains(socket);
    }

    /// <summary>
    /// Registers a peer by the ICE credentials of its offer/answer: STUN requests with USERNAME
    /// `localUfrag:remoteUfrag` authenticated by <paramref name="localPassword"/> latch addresses to it.
    /// </summary>
    public void AddPeer(string localUfrag, string localPassword, string remoteUfrag, IMediaPeer peer) =>
        Post(() => _byUfrag[localUfrag] = new Entry(localUfrag, new IceCredentials(localPassword, remoteUfrag), peer, NowMicros()));

    public void RemovePeer(string localUfrag) => Post(() =>
    {
        if (!_byUfrag.Remove(localUfrag, out var entry)) return;
        foreach (var key in entry.Keys) _byEndpoint.Remove(key);
        _responder.Forget(localUfrag);
    });

    /// <summary>Sends one datagram; thread-safe (DTLS threads and the media thread both send).</summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        var socket = _socket;
        if (socket is null) return;
        try
        {
            socket.SendTo(datagram, SocketFlags.None, remote);
            Interlocked.Increment(ref _sent);
            Interlocked.Add(ref _sentBytes, datagram.Length);
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref _sendErrors);
        }
        catch (ObjectDisposedException) { }
    }

    private bool Lookup(string localUfrag, out IceCredentials credentials)
    {
        if (_byUfrag.TryGetValue(localUfrag, out var e))
        {
            credentials = e.Credentials;
            return true;
        }
        credentials = default;
        return false;
    }

    private long NowMicros() => _time.GetTimestamp() * 1_000_000 / _time.TimestampFrequency;

    private void Run()
    {
        var socket = _socket!;
        var buffer = GC.AllocateArray<byte>(2048, pinned: true);
        var from = new SocketAddress(socket.AddressFamily);
        var tickMicros = (long)TickInterval.TotalMicroseconds;
        var nextTick = NowMicros() + tickMicros;
        while (!_stopping)
        {
            try
            {
                if (Wait(socket))
                {
                    // Drain a bounded batch, so posted actions and timers run under load too.
                    for (var i = 0; i < 256; i++)
                    {
                        int n;
                        try
                        {
                            n = socket.ReceiveFrom(buffer, SocketFlags.None, from);
                        }
                        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused or SocketError.MessageSize)
                        {
                            if (socket.Available == 0) break;
                            continue;
                        }
                        Interlocked.Increment(ref _received);
                        Interlocked.Add(ref _receivedBytes, n);
                        Dispatch(buffer.AsSpan(0, n), from);
                        if (socket.Available == 0) break;
                    }
                }
                while (_posted.TryDequeue(out var action)) action();
                var now = NowMicros();
                if (now >= nextTick)
                {
                    nextTick = now + tickMicros;
                    Tick(now);
                }
            }
            catch (ObjectDisposedException) when (_stopping)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug in one peer's handling must not stop media for every peer.
                _log.LogError(e, "Media thread: unexpected error (continuing)");
            }
        }
    }

    private void Dispatch(Span<byte> datagram, SocketAddress from)
    {
        if (datagram.Length == 0 || !EndpointKey.TryFrom(from, out var key))
        {
            Interlocked.Increment(ref _garbage);
            return;
        }
        var first = datagram[0];
        if (first <= 3)
        {
            OnStun(datagram, from, key);
            return;
        }
        var isDtls = first is >= 20 and <= 63;
        var isRtp = first is >= 128 and <= 191;
        if (!isDtls && !isRtp)
        {
            Interlocked.Increment(ref _garbage);
            return;
        }
        if (!_byEndpoint.TryGetValue(key, out var entry))
        {
            Interlocked.Increment(ref _unknownSource);
            return;
        }
        if (isDtls) entry.Peer.OnDtlsDatagram(datagram);
        else entry.Peer.OnSrtpDatagram(datagram);
    }

    private void OnStun(ReadOnlySpan<byte> datagram, SocketAddress from, EndpointKey key)
    {
        var result = _responder.Handle(datagram, key.ToEndPoint());
        if (result.Response is { } response) Send(response, from);
        if (result.Outcome != IceBindingOutcome.Accepted || result.LocalUfrag is null
            || !_byUfrag.TryGetValue(result.LocalUfrag, out var entry)) return;
        entry.LastConsent = NowMicros();
        // Every authenticated address may deliver; media goes to the selected one.
        if (!entry.Keys.Contains(key))
        {
            entry.Keys.Add(key);
            _byEndpoint[key] = entry;
        }
        var selected = result.Selected is { } s ? EndpointKey.From(s) : key;
        if (selected == key && (entry.Selected is null || entry.SelectedKey != key))
        {
            entry.SelectedKey = key;
            entry.Selected = Copy(from);
            entry.Peer.OnSelected(entry.Selected);
        }
    }

    private void Tick(long now)
    {
        var consentMicros = (long)ConsentTimeout.TotalMicroseconds;
        foreach (var entry in _byUfrag.Values)
        {
            entry.Peer.OnTick(now);
            if (entry.Selected is not null && now - entry.LastConsent > consentMicros) _expired.Add(entry);
        }
        foreach (var entry in _expired)
        {
            _byUfrag.Remove(entry.LocalUfrag);
            foreach (var k in entry.Keys) _byEndpoint.Remove(k);
            _responder.Forget(entry.LocalUfrag);
            entry.Peer.OnConsentExpired();
        }
        _expired.Clear();
    }

    private static SocketAddress Copy(SocketAddress a)
    {
        var copy = new SocketAddress(a.Family, a.Size);
        a.Buffer.Span[..a.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }

    public void Dispose()
    {
        _stopping = true;
        _socket?.Dispose();
        _wake?.Dispose();
        if (_thread is { } t && t != Thread.CurrentThread && !t.Join(TimeSpan.FromSeconds(2))) return;
        // What was posted but never ran (peers' close-down: their DTLS endpoints and threads) runs here, once.
        while (_posted.TryDequeue(out var action))
        {
            try { action(); }
            catch (Exception e) { _log.LogWarning(e, "Media socket: a posted action failed at shutdown"); }
        }
    }

    private sealed class Entry(string localUfrag, IceCredentials credentials, IMediaPeer peer, long registered)
    {
        public string LocalUfrag { get; } = localUfrag;
        public IceCredentials Credentials { get; } = credentials;
        public IMediaPeer Peer { get; } = peer;
        public long LastConsent { get; set; } = registered;
        public List<EndpointKey> Keys { get; } = [];
        public EndpointKey SelectedKey { get; set; }
        public SocketAddress? Selected { get; set; }
    }
}
