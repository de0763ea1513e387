using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Hibari.Rtc.Ice;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Rtc.Transport;

/// <summary>
/// What a media worker calls for one registered peer. Every call runs on that worker's thread, one at a time, so a
/// peer's SRTP contexts and forwarding state need no locks (docs/threads.md).
/// </summary>
public interface IMediaPeer
{
    /// <summary>A DTLS record (first byte 20–63, RFC 7983) from an address this peer authenticated with ICE.</summary>
    void OnDtlsDatagram(ReadOnlySpan<byte> datagram);
    /// <summary>An SRTP or SRTCP packet (first byte 128–191). The span is the receive buffer: decrypt in place.</summary>
    void OnSrtpDatagram(Span<byte> datagram);
    /// <summary>ICE selected (or re-selected) the address media goes to.</summary>
    void OnSelected(SocketAddress remote);
    /// <summary>
    /// The peer's timers (RTCP reports, NACKs, SCTP), called when the time it asked for has come (at the worker's tick
    /// granularity, <see cref="MediaWorker.TickInterval"/>) and at least once per <see cref="MediaWorker.MaxTimerInterval"/>.
    /// Returns when it next wants to be called (µs on the same clock; anything not later than now means "next tick").
    /// Something that needs an earlier call meanwhile asks with <see cref="MediaWorker.Schedule"/>.
    /// </summary>
    long OnTick(long nowMicroseconds);
    /// <summary>No authenticated STUN request for <see cref="MediaWorker.ConsentTimeout"/> (RFC 7675): the peer is gone.</summary>
    void OnConsentExpired();
}

/// <summary>
/// Datagrams of one first byte outside the RFC 7983 ranges the worker demultiplexes itself (STUN 0–3, DTLS 20–63,
/// RTP/RTCP 128–191), e.g. the relay's node-to-node datagrams (docs/relay-frames.md, "Relay RTP datagrams"). Called on
/// the worker's thread with the receive buffer; must not throw.
/// </summary>
public interface IWorkerDatagramHandler
{
    void OnDatagram(Span<byte> datagram, SocketAddress from);
}

/// <summary>A packet another worker handed to this one (<see cref="MediaWorker.Handoff"/>): runs on the receiving worker.</summary>
public interface IHandoffTarget
{
    void OnHandoff(Span<byte> packet, long stamp);
}

/// <summary>
/// Where datagrams to TURN-relayed addresses go instead of the worker's socket (issue 15, docs/decisions.md D-57): the
/// node's TURN server wraps them for the client holding that allocation. Called on the worker's thread and on DTLS
/// handshake threads; must be thread-safe and must not throw.
/// </summary>
public interface ITurnEgress
{
    /// <summary>True when <paramref name="remote"/> is a live relayed address of this node (then the datagram is taken, sent or counted as dropped).</summary>
    bool TryDeliver(in EndpointKey remote, in EndpointKey local, ReadOnlySpan<byte> datagram);
    /// <summary>Cheap pre-check without a table lookup: could <paramref name="remote"/> be a relayed address at all?</summary>
    bool MayBeRelayed(in EndpointKey remote);
    /// <summary>ICE selected <paramref name="remote"/>, a relayed address, for a connection (counted per allocation; worker thread).</summary>
    void Selected(in EndpointKey remote);
}

/// <summary>
/// One media worker (docs/threads.md, docs/decisions.md D-29): a thread with its own UDP port that owns, without
/// locks, the peers registered on it — ICE-lite answers, DTLS datagrams, SRTP and SRTCP. Datagrams are demultiplexed
/// by their first byte (RFC 7983) and by the remote address an authenticated STUN request latched. The thread
/// receives, dispatches, drains the packets other workers handed it, runs posted actions and ticks its peers' timers.
/// </summary>
public sealed class MediaWorker : IDisposable
{
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(20);
    /// <summary>Every peer's timers run at least this often (plus at most one <see cref="CoalesceGrid"/>), whatever it asked for.</summary>
    public static readonly TimeSpan MaxTimerInterval = TimeSpan.FromSeconds(1);
    /// <summary>
    /// A timer at least <see cref="CoalesceAfter"/> away is moved to the next multiple of this on the worker's clock,
    /// so that the idle peers of a worker (each wanting its 1 s RTCP report) share a few wake-ups a second instead of
    /// one each: with 50 idle peers on a worker, 4 wake-ups a second instead of up to 50 (D-59; docs/benchmarks.md, "The
    /// idle window again"). A report is at most this much later than its peer asked; NACKs, feedback and
    /// pacing ask for less than <see cref="CoalesceAfter"/> and keep the <see cref="TickInterval"/> grid.
    /// </summary>
    public static readonly TimeSpan CoalesceGrid = TimeSpan.FromMilliseconds(250);
    /// <summary>Timers nearer than this stay on the fine grid (see <see cref="CoalesceGrid"/>).</summary>
    public static readonly TimeSpan CoalesceAfter = TimeSpan.FromMilliseconds(500);
    /// <summary>Consent (RFC 7675) is checked for all peers in one sweep this often (on the <see cref="CoalesceGrid"/>).</summary>
    private static readonly TimeSpan ConsentSweepInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ConsentTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Most workers a node runs (the pending-wake set is one 64-bit mask).</summary>
    public const int MaxWorkers = 64;
    private const int ReceiveBatchSize = 64;
    private const int SendBatchSize = 256;
    private const int MaxReceiveRounds = 4;

    private readonly IPAddress _address;
    private readonly int _port;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly IceLiteResponder _responder;
    private readonly StrangerBudget _strangers;
    private readonly ConcurrentQueue<Action> _posted = new();
    // Both maps are owned by the worker's thread.
    private readonly Dictionary<string, Entry> _byUfrag = new(StringComparer.Ordinal);
    private readonly Dictionary<EndpointKey, Entry> _byEndpoint = new();
    private readonly List<Entry> _expired = [];
    // One timer queue for all peers of the worker (earliest due first; stale entries skipped when popped): a peer costs
    // nothing between the times it asked for — nothing per connection polls.
    private readonly PriorityQueue<Entry, long> _timers = new();
    private long _timerCalls;
    private MediaWorker[] _all = [];
    private PacketRing?[] _inbound = [];
    // Rings from producers outside the workers (relay link readers), one per producer; owner thread's copy-on-write list.
    private PacketRing[] _external = [];
    private ulong _pendingWakes;
    private Socket? _socket;
    // Owner thread only: datagrams in with recvmmsg, out with sendmmsg (flushed once per loop iteration).
    private UdpReceiveBatch? _receive;
    private UdpSendBatch? _send;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _sent, _sentBytes, _unknownSource, _garbage, _sendErrors, _handedOff;
    // A handler for one extra first byte (the relay's datagrams), set once before traffic or while it runs.
    private volatile IWorkerDatagramHandler? _extra;
    // The node's TURN server (D-57), set once at start: sends to relayed addresses go to it, not to the socket.
    private volatile ITurnEgress? _turn;
    private EndpointKey _localKey;
    private long _fromTurn;
    private int _extraFirstByte = -1;

    /// <param name="unauthenticatedPerAddress">Datagrams per second a source address may send before ICE authenticated it
    /// (<see cref="StrangerBudget"/>); 0: no budget.</param>
    public MediaWorker(IPAddress address, int port, ILogger? log = null, TimeProvider? time = null, int index = 0,
        int unauthenticatedPerAddress = 0)
    {
        _strangers = new StrangerBudget(unauthenticatedPerAddress);
        _address = address;
        _port = port;
        _log = log ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _responder = new IceLiteResponder(Lookup);
        Index = index;
    }

    /// <summary>This worker's place among the node's workers (0 for a lone one).</summary>
    public int Index { get; }

    /// <summary>The bound local address (the port is known after <see cref="Start"/>, also when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("not started"));

    public long DatagramsReceived => _receive?.DatagramsReceived ?? 0;
    public long BytesReceived => _receive?.BytesReceived ?? 0;
    /// <summary>Datagrams sent: the worker's batches plus what other threads (DTLS handshakes) sent directly.</summary>
    public long DatagramsSent => Interlocked.Read(ref _sent) + (_send?.DatagramsSent ?? 0);
    public long BytesSent => Interlocked.Read(ref _sentBytes) + (_send?.BytesSent ?? 0);
    /// <summary>System calls that sent the worker's own datagrams (sendmmsg batches or sendto).</summary>
    public long SendSystemCalls => _send?.SystemCalls ?? 0;
    /// <summary>System calls that received datagrams (recvmmsg or recvfrom).</summary>
    public long ReceiveSystemCalls => _receive?.SystemCalls ?? 0;
    /// <summary>DTLS/SRTP datagrams from addresses no peer authenticated: dropped.</summary>
    public long UnknownSource => Interlocked.Read(ref _unknownSource);
    /// <summary>Datagrams dropped unread because their source address had spent its unauthenticated budget.</summary>
    public long OverBudget => _strangers.Dropped;
    /// <summary>Datagrams that are neither STUN, DTLS nor RTP/RTCP, or STUN the responder dropped.</summary>
    public long Garbage => Interlocked.Read(ref _garbage) + _responder.Dropped;
    public long SendErrors => Interlocked.Read(ref _sendErrors) + (_send?.Errors ?? 0);
    /// <summary>Packets this worker handed to other workers.</summary>
    public long HandedOff => Interlocked.Read(ref _handedOff);
    /// <summary>Packets other workers could not hand to this one because its ring from them was full.</summary>
    public long HandoffDropped => _inbound.Sum(r => r?.Dropped ?? 0);
    public IceLiteResponder Ice => _responder;

    /// <summary>True on this worker's own thread (before <see cref="Start"/>: on any thread, for tests that drive peers directly).</summary>
    public bool IsOwnerThread => _thread is null || Thread.CurrentThread == _thread;

    /// <summary>Debug builds: fails when called off this worker's thread (every entry point of worker-owned state calls it).</summary>
    [Conditional("DEBUG")]
    public void AssertOwner()
    {
        if (!IsOwnerThread) OwnerChecks.Check(false, $"media worker {Index} state touched from thread '{Thread.CurrentThread.Name}'");
    }

    /// <summary>
    /// Joins the node's workers: one ring from every other worker into this one (single producer each). Called once,
    /// by <see cref="MediaWorkers"/>, before any worker starts.
    /// </summary>
    internal void Connect(MediaWorker[] all, int ringCapacity)
    {
        _all = all;
        _inbound = new PacketRing?[all.Length];
        for (var i = 0; i < all.Length; i++)
            if (i != Index) _inbound[i] = new PacketRing(ringCapacity);
    }

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
        _localKey = EndpointKey.From((IPEndPoint)socket.LocalEndPoint!);
        _receive = new UdpReceiveBatch(socket, ReceiveBatchSize, log: _log);
        _send = new UdpSendBatch(socket, SendBatchSize, log: _log);
        // A second, private loopback socket only wakes the thread when something is posted while it waits.
        _wake = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _wake.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _wakeAddress = _wake.LocalEndPoint!.Serialize();
        _thread = new Thread(Run) { Name = $"hibari-media-{Index}", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="action"/> on this worker's thread, at once if it is waiting for datagrams. Any thread.</summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        Wake();
    }

    /// <summary>Wakes the thread if it is waiting (one datagram on the private wake socket). Any thread.</summary>
    public void Wake()
    {
        // Full fence: the caller's publication (a ring's tail, a queue item) must be visible before _waiting is read,
        // and the worker announces _waiting with a full fence before it looks for work (no lost wake-up either way).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _waiting) == 1 && Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            try { _wake?.SendTo(WakeByte, SocketFlags.None, _wakeAddress!); } // the SocketAddress overload: no allocation
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        }
    }

    /// <summary>
    /// Owner thread only: hands a copy of <paramref name="packet"/> to worker <paramref name="to"/>, where
    /// <paramref name="target"/> gets it on that worker's thread. The receiver is woken once per batch, after this
    /// worker has handled what it received. False when that ring is full (counted there).
    /// </summary>
    public bool Handoff(MediaWorker to, IHandoffTarget target, ReadOnlySpan<byte> packet, long stamp)
    {
        AssertOwner();
        var ring = to._inbound[Index]!;
        if (!ring.TryEnqueue(target, packet, stamp)) return false;
        _handedOff++;
        _pendingWakes |= 1UL << to.Index;
        // A long iteration (a burst to many local subscribers) must not leave the receiver idle until its end.
        if ((ring.Count & 63) == 0) to.Wake();
        return true;
    }

    private static readonly byte[] WakeByte = [0];
    private Socket? _wake;
    private SocketAddress? _wakeAddress;
    private int _waiting;
    private readonly List<Socket> _readable = new(2);
    private UdpNative.PollFd[]? _pollFds;

    /// <summary>Waits up to <paramref name="timeoutMs"/> for a datagram, a post or a hand-off; true when the media socket is readable.</summary>
    private bool Wait(Socket socket, int timeoutMs)
    {
        Interlocked.Exchange(ref _waiting, 1); // a full fence before the look at the queues (see Wake)
        if (!_posted.IsEmpty || InboundPending())
        {
            Volatile.Write(ref _waiting, 0);
            return true; // look for datagrams too: a non-blocking recvmmsg costs what asking would
        }
        bool readable, woken;
        if (_pollFds is { } fds)
        {
            fds[0].Revents = 0;
            fds[1].Revents = 0;
            var n = UdpNative.Poll(fds, 2, timeoutMs);
            if (n < 0)
            {
                Volatile.Write(ref _waiting, 0);
                return true;
            }
            readable = (fds[0].Revents & UdpNative.POLLIN) != 0;
            woken = (fds[1].Revents & UdpNative.POLLIN) != 0;
        }
        else
        {
            _readable.Clear();
            _readable.Add(socket);
            _readable.Add(_wake!);
            Socket.Select(_readable, null, null, timeoutMs * 1000);
            readable = _readable.Contains(socket);
            woken = _readable.Contains(_wake!);
        }
        Volatile.Write(ref _waiting, 0);
        if (woken)
        {
            Span<byte> sink = stackalloc byte[16];
            while (_wake!.Available > 0) _wake.Receive(sink);
        }
        return readable;
    }

    private bool InboundPending()
    {
        foreach (var ring in _inbound)
            if (ring is not null && !ring.IsEmpty) return true;
        foreach (var ring in _external)
            if (!ring.IsEmpty) return true;
        return false;
    }

    /// <summary>
    /// A ring into this worker for one producer outside the workers (a relay link's reader): the producer enqueues
    /// packets with an <see cref="IHandoffTarget"/> and calls <see cref="Wake"/>; the worker drains it like the rings of
    /// other workers. Any thread; the ring is in use once the worker has run the registration (packets enqueued before
    /// that wait in it).
    /// </summary>
    public PacketRing AddExternalRing(int capacity = PacketRing.DefaultCapacity)
    {
        var ring = new PacketRing(capacity);
        Post(() =>
        {
            var next = new PacketRing[_external.Length + 1];
            _external.CopyTo(next, 0);
            next[^1] = ring;
            _external = next;
        });
        return ring;
    }

    /// <summary>Stops draining <paramref name="ring"/> (its producer is gone); what is still in it is handed over first.</summary>
    public void RemoveExternalRing(PacketRing ring) => Post(() =>
    {
        var sink = new HandoffSink();
        ring.Drain(ref sink, int.MaxValue);
        _external = _external.Where(r => r != ring).ToArray();
    });

    /// <summary>Packets external producers could not hand to this worker (ring full).</summary>
    public long ExternalDropped => _external.Sum(r => r.Dropped);

    /// <summary>
    /// Registers a peer by the ICE credentials of its offer/answer: STUN requests with USERNAME
    /// `localUfrag:remoteUfrag` authenticated by <paramref name="localPassword"/> latch addresses to it.
    /// </summary>
    public void AddPeer(string localUfrag, string localPassword, string remoteUfrag, IMediaPeer peer) => Post(() =>
    {
        var now = NowMicros();
        var entry = new Entry(localUfrag, new IceCredentials(localPassword, remoteUfrag), peer, now) { Due = now };
        if (_byUfrag.Remove(localUfrag, out var old)) old.Removed = true;
        _byUfrag[localUfrag] = entry;
        _timers.Enqueue(entry, now);
    });

    public void RemovePeer(string localUfrag) => Post(() =>
    {
        if (!_byUfrag.Remove(localUfrag, out var entry)) return;
        entry.Removed = true;
        foreach (var key in entry.Keys) _byEndpoint.Remove(key);
        _responder.Forget(localUfrag);
    });

    /// <summary>
    /// Owner thread: the peer registered as <paramref name="localUfrag"/> wants its <see cref="IMediaPeer.OnTick"/> by
    /// <paramref name="dueMicros"/> (at the next tick if that has passed). Only an earlier time than the one it has
    /// changes anything.
    /// </summary>
    public void Schedule(string localUfrag, long dueMicros)
    {
        AssertOwner();
        if (!_byUfrag.TryGetValue(localUfrag, out var entry) || dueMicros >= entry.Due) return;
        entry.Due = dueMicros;
        _timers.Enqueue(entry, dueMicros);
    }

    /// <summary>Calls of peers' <see cref="IMediaPeer.OnTick"/> so far (how much timer work the worker does).</summary>
    public long TimerCalls => Interlocked.Read(ref _timerCalls);

    /// <summary>
    /// Sends datagrams whose first byte is <paramref name="firstByte"/> to <paramref name="handler"/> (on this worker's
    /// thread) instead of counting them as garbage. The byte must lie outside STUN, DTLS and RTP/RTCP (RFC 7983). Any thread.
    /// </summary>
    public void SetDatagramHandler(byte firstByte, IWorkerDatagramHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (firstByte <= 3 || firstByte is >= 20 and <= 63 || firstByte is >= 128 and <= 191)
            throw new ArgumentException($"first byte {firstByte} is STUN, DTLS or RTP/RTCP (RFC 7983)", nameof(firstByte));
        Volatile.Write(ref _extraFirstByte, firstByte);
        _extra = handler;
    }

    /// <summary>Peers registered on this worker (owner thread; approximate elsewhere).</summary>
    public int PeerCount => _byUfrag.Count;

    /// <summary>
    /// Sends one datagram; thread-safe. On the worker's own thread it joins the worker's batch (sent with the others
    /// at the end of the loop iteration, or when the batch is full); other threads (DTLS handshakes) send at once.
    /// </summary>
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress remote)
    {
        var socket = _socket;
        if (socket is null) return;
        if (_turn is { } turn && EndpointKey.TryFrom(remote, out var key) && turn.MayBeRelayed(key) && turn.TryDeliver(key, _localKey, datagram))
            return;
        if (_send is { } batch && Thread.CurrentThread == _thread)
        {
            batch.Add(datagram, remote);
            return;
        }
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

    /// <summary>
    /// Owner thread: sends what the worker's batch holds now instead of at the end of the loop iteration (the relay does
    /// so every few datagrams, so a relayed packet does not wait for a whole burst to be processed: D-31).
    /// </summary>
    public void FlushSends()
    {
        AssertOwner();
        _send?.Flush();
    }

    /// <summary>
    /// Routes sends to the TURN server's relayed addresses through <paramref name="turn"/> (D-57). Any thread, once at start.
    /// </summary>
    public void SetTurnEgress(ITurnEgress turn) => _turn = turn;

    /// <summary>Datagrams that reached this worker through the node's TURN server (handed in, not received on the socket).</summary>
    public long FromTurn => Interlocked.Read(ref _fromTurn);

    /// <summary>
    /// Owner thread: a datagram a client sent through a TURN allocation of this node toward this worker, handed over in
    /// process (issue 15 item 3): handled exactly as if it had arrived on the socket from the relayed address.
    /// </summary>
    internal void DeliverFromTurn(Span<byte> datagram, SocketAddress relayed)
    {
        AssertOwner();
        _fromTurn++;
        Dispatch(datagram, relayed);
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

    private long NowMicros() => MediaClock.ToMicros(_time.GetTimestamp(), _time.TimestampFrequency);

    // Fully optimised from the start: the loop runs once for the worker's life, so tiered compilation would leave it at
    // tier 0 (only on-stack replacement would lift it).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void Run()
    {
        var socket = _socket!;
        if (OperatingSystem.IsLinux())
        {
            _pollFds =
            [
                new UdpNative.PollFd { Fd = (int)socket.SafeHandle.DangerousGetHandle(), Events = UdpNative.POLLIN },
                new UdpNative.PollFd { Fd = (int)_wake!.SafeHandle.DangerousGetHandle(), Events = UdpNative.POLLIN },
            ];
            try
            {
                UdpNative.Poll(_pollFds, 2, 0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _pollFds = null; // Socket.Select instead
            }
        }
        var receive = _receive!;
        var send = _send!;
        var tickMicros = (long)TickInterval.TotalMicroseconds;
        var nextTick = NowMicros() + tickMicros;
        var nextSweep = Coalesced(NowMicros() + (long)ConsentSweepInterval.TotalMicroseconds);
        var sink = new HandoffSink();
        while (!_stopping)
        {
            try
            {
                // Sleep until the earliest peer timer (on the tick grid) or the consent sweep, whichever is first.
                var wake = nextSweep;
                if (_timers.TryPeek(out _, out var due)) wake = Math.Min(wake, Math.Max(due, nextTick));
                var wait = (int)Math.Clamp((wake - NowMicros() + 999) / 1000, 0, (long)MaxTimerInterval.TotalMilliseconds);
                if (Wait(socket, wait))
                {
                    // A bounded number of recvmmsg batches, so posted actions, hand-offs and timers run under load too.
                    for (var round = 0; round < MaxReceiveRounds; round++)
                    {
                        var n = receive.Receive();
                        for (var i = 0; i < n; i++) Dispatch(receive.Datagram(i), receive.Source(i));
                        if (n < receive.Capacity) break;
                    }
                }
                foreach (var ring in _inbound) ring?.Drain(ref sink, 1024);
                foreach (var ring in _external) ring.Drain(ref sink, 1024);
                while (_posted.TryDequeue(out var action)) action();
                var now = NowMicros();
                if (now >= nextTick)
                {
                    nextTick = now + tickMicros;
                    RunTimers(now);
                }
                if (now >= nextSweep)
                {
                    nextSweep = Coalesced(now + (long)ConsentSweepInterval.TotalMicroseconds);
                    SweepConsent(now);
                }
                // What this iteration produced leaves in a few sendmmsg calls; then the workers it handed packets to wake.
                send.Flush();
                WakeReceivers();
            }
            catch (ObjectDisposedException) when (_stopping)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug in one peer's handling must not stop media for every peer.
                _log.LogError(e, "Media worker {Index}: unexpected error (continuing)", Index);
            }
        }
    }

    /// <summary>Once per loop: wakes the workers this one handed packets to (a batch costs one wake, not one per packet).</summary>
    private void WakeReceivers()
    {
        var pending = _pendingWakes;
        if (pending == 0) return;
        _pendingWakes = 0;
        while (pending != 0)
        {
            var i = System.Numerics.BitOperations.TrailingZeroCount(pending);
            pending &= pending - 1;
            _all[i].Wake();
        }
    }

    private struct HandoffSink : IPacketSink
    {
        public readonly void OnPacket(object target, Span<byte> packet, long stamp) => ((IHandoffTarget)target).OnHandoff(packet, stamp);
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
            // An authenticated endpoint (consent checks) is never charged; anyone else pays per rejected request.
            if (_byEndpoint.ContainsKey(key)) OnStun(datagram, from, key);
            else
            {
                var now = NowMicros();
                if (_strangers.Exhausted(key, now)) return;
                if (!OnStun(datagram, from, key)) _strangers.Charge(key, now);
            }
            return;
        }
        var isDtls = first is >= 20 and <= 63;
        var isRtp = first is >= 128 and <= 191;
        if (!isDtls && !isRtp)
        {
            if (first == _extraFirstByte && _extra is { } extra)
            {
                extra.OnDatagram(datagram, from);
                return;
            }
            Interlocked.Increment(ref _garbage);
            return;
        }
        if (!_byEndpoint.TryGetValue(key, out var entry))
        {
            Interlocked.Increment(ref _unknownSource);
            _strangers.Charge(key, NowMicros());
            return;
        }
        if (isDtls) entry.Peer.OnDtlsDatagram(datagram);
        else entry.Peer.OnSrtpDatagram(datagram);
    }

    /// <summary>Answers a binding request; true when it authenticated for a connection of this worker.</summary>
    private bool OnStun(ReadOnlySpan<byte> datagram, SocketAddress from, EndpointKey key)
    {
        var result = _responder.Handle(datagram, key.ToEndPoint());
        if (result.Response is { } response) Send(response, from);
        if (result.Outcome != IceBindingOutcome.Accepted || result.LocalUfrag is null
            || !_byUfrag.TryGetValue(result.LocalUfrag, out var entry)) return false;
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
            if (_turn is { } turn && turn.MayBeRelayed(key)) turn.Selected(key);
        }
        return true;
    }

    /// <summary>Calls the peers whose time has come; each says when it wants the next call (at most <see cref="MaxTimerInterval"/> away).</summary>
    private void RunTimers(long now)
    {
        var tick = (long)TickInterval.TotalMicroseconds;
        var max = (long)MaxTimerInterval.TotalMicroseconds;
        while (_timers.TryPeek(out var entry, out var due) && due <= now)
        {
            _timers.Dequeue();
            if (entry.Removed || due != entry.Due) continue; // replaced by an earlier schedule, or gone
            _timerCalls++;
            var next = Math.Clamp(entry.Peer.OnTick(now), now + tick, now + max);
            entry.Due = next - now >= CoalesceAfterMicros ? Coalesced(next) : next;
            _timers.Enqueue(entry, entry.Due);
        }
    }

    private static readonly long CoalesceGridMicros = (long)CoalesceGrid.TotalMicroseconds;
    private static readonly long CoalesceAfterMicros = (long)CoalesceAfter.TotalMicroseconds;

    /// <summary>The first multiple of <see cref="CoalesceGrid"/> at or after <paramref name="micros"/>.</summary>
    internal static long Coalesced(long micros) => (micros + CoalesceGridMicros - 1) / CoalesceGridMicros * CoalesceGridMicros;

    private void SweepConsent(long now)
    {
        var consentMicros = (long)ConsentTimeout.TotalMicroseconds;
        foreach (var entry in _byUfrag.Values)
            if (entry.Selected is not null && now - entry.LastConsent > consentMicros) _expired.Add(entry);
        foreach (var entry in _expired)
        {
            _byUfrag.Remove(entry.LocalUfrag);
            entry.Removed = true;
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
        // What was posted but never ran (peers' close-down: their DTLS endpoints) runs here, once.
        while (_posted.TryDequeue(out var action))
        {
            try { action(); }
            catch (Exception e) { _log.LogWarning(e, "Media worker {Index}: a posted action failed at shutdown", Index); }
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
        /// <summary>When the peer's next timer call is due (its one valid place in the timer queue).</summary>
        public long Due { get; set; }
        public bool Removed { get; set; }
    }
}

/// <summary>
/// The node's media workers (docs/decisions.md D-29): <c>media_workers</c> of them, worker k on UDP port
/// <c>rtc_udp_port + k</c> (every one on an ephemeral port when rtc_udp_port is 0). A connection is placed on the worker
/// with the fewest connections and stays there for its life.
/// </summary>
public sealed class MediaWorkers : IDisposable
{
    private readonly MediaWorker[] _workers;

    public MediaWorkers(IPAddress address, int firstPort, int count, ILoggerFactory? loggers = null, TimeProvider? time = null,
        int ringCapacity = PacketRing.DefaultCapacity, int unauthenticatedPerAddress = 0)
    {
        if (count < 1 || count > MediaWorker.MaxWorkers)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"1..{MediaWorker.MaxWorkers} media workers");
        if (firstPort != 0 && firstPort + count - 1 > 65535)
            throw new ArgumentOutOfRangeException(nameof(firstPort), firstPort, $"{count} workers need ports {firstPort}..{firstPort + count - 1}");
        var log = (loggers ?? NullLoggerFactory.Instance).CreateLogger("Hibari.Media");
        _workers = new MediaWorker[count];
        for (var i = 0; i < count; i++) _workers[i] = new MediaWorker(address, firstPort == 0 ? 0 : firstPort + i, log, time, i, unauthenticatedPerAddress);
        foreach (var w in _workers) w.Connect(_workers, ringCapacity);
    }

    public IReadOnlyList<MediaWorker> All => _workers;
    public int Count => _workers.Length;
    public MediaWorker this[int index] => _workers[index];

    public void Start()
    {
        try
        {
            foreach (var w in _workers) w.Start();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public long Garbage => _workers.Sum(w => w.Garbage);
    public long UnknownSource => _workers.Sum(w => w.UnknownSource);
    /// <inheritdoc cref="MediaWorker.OverBudget"/>
    public long OverBudget => _workers.Sum(w => w.OverBudget);
    /// <summary>STUN binding requests answered with an error (unknown ICE username, bad integrity, …).</summary>
    public long IceRejected => _workers.Sum(w => w.Ice.Rejected);

    public void Dispose()
    {
        foreach (var w in _workers) w.Dispose();
    }
}
