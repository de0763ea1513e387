using Hibari.Rtc.Sctp;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using static Hibari.Tests.Rtc.Sctp.Usrsctp.UsrsctpNative;

namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

/// <summary>Per-association settings of the usrsctp oracle.</summary>
public sealed class UsrsctpOptions
{
    public ushort LocalPort { get; init; } = 5000;   // WebRTC uses 5000 on both sides
    public ushort RemotePort { get; init; } = 5000;
    public ushort Streams { get; init; } = 1024;     // outgoing streams asked for and incoming streams allowed
    public int SendBufferSize { get; init; }          // SO_SNDBUF; 0 = usrsctp's default (256 KiB)
    public int ReceiveBufferSize { get; init; }       // SO_RCVBUF; 0 = usrsctp's default (256 KiB)
    /// <summary>SCTP_RTOINFO (ms); 0 = usrsctp's default (initial 3,000, min 1,000, max 60,000). Set them like the
    /// managed defaults (1,000 / 200 / 10,000) to compare the two on the same virtual network.</summary>
    public uint RtoInitialMs { get; init; }
    public uint RtoMinMs { get; init; }
    public uint RtoMaxMs { get; init; }
}

/// <summary>
/// A test oracle: Debian's libusrsctp2 behind <see cref="ISctpAssociation"/> (one AF_CONN one-to-one socket per
/// association, packets in through <see cref="Receive"/>, out through <see cref="Output"/>).
/// <para>usrsctp is one global stack per process: it is started once with <c>usrsctp_init_nothreads</c>, every call
/// into it is serialised by one global lock, and each instance registers its own AF_CONN address (a small integer id,
/// never a managed pointer, so a late callback after Dispose finds nothing). Callbacks only record; packets and events
/// are raised after the native call has returned, outside the lock, in order, on the thread whose call produced them,
/// and never re-entrantly (an Output handler that feeds the peer synchronously is fine). Timers are global too: a Tick
/// may raise Output of other associations whose timers fired.</para>
/// <para><see cref="Tick"/> drives the GLOBAL timers (<c>usrsctp_handle_timers</c>) by the time elapsed since the last
/// Tick of any instance, so all instances of a process must share one clock (calling Tick on each with the same time
/// is fine; a clock that goes backwards is taken as a new time base).</para>
/// Behaviour worth knowing (see docs/protocol-notes.md, "usrsctp behaviour"): <c>Start(false)</c> still calls usrsctp_connect
/// (an INIT reaching an unconnected socket is ABORTed) but swallows our own INIT until the first packet from the
/// peer, so the peer sees a passive open (INIT → INIT-ACK …); a Receive before Start starts passively. Partial sends
/// are queued and finished in order; partially delivered messages are reassembled until MSG_EOR. When the peer resets
/// its outgoing stream, <see cref="StreamReset"/> fires and the wrapper resets our outgoing stream too (unless we
/// asked first), so both sides see StreamReset for a closed stream. Dispose ABORTs the association (SO_LINGER 0).
/// </summary>
public sealed class UsrsctpAssociation : ISctpAssociation
{
    // ---------------------------------------------------------------- the one global stack

    private static readonly Lock Gate = new();
    private static bool s_initialized;
    private static bool s_ticked;
    private static long s_lastTickMicros;
    private static long s_nextId = 0x1000;
    private static readonly ConcurrentDictionary<nint, UsrsctpAssociation> Live = new();
    // Callbacks run on the thread that called into usrsctp (under the gate): they queue on that thread, which raises
    // the events once the native call has returned. A callback from any other native thread (usrsctp's iterator;
    // not seen in practice) goes to Orphans, raised by the next caller.
    [ThreadStatic] private static Queue<(UsrsctpAssociation Target, object Event)>? t_events;
    [ThreadStatic] private static bool t_inCall;
    [ThreadStatic] private static bool t_draining;
    private static readonly ConcurrentQueue<(UsrsctpAssociation Target, object Event)> Orphans = new();

    /// <summary>Holds the one global lock and marks this thread as inside a usrsctp call.</summary>
    private readonly ref struct GateScope
    {
        private readonly Lock.Scope _scope;
        private readonly bool _outer;

        public GateScope()
        {
            _scope = Gate.EnterScope();
            _outer = !t_inCall;
            t_inCall = true;
        }

        public void Dispose()
        {
            if (_outer) t_inCall = false;
            _scope.Dispose();
        }
    }

    private static void Enqueue(UsrsctpAssociation target, object e)
    {
        if (t_inCall) (t_events ??= new()).Enqueue((target, e));
        else Orphans.Enqueue((target, e));
    }

    /// <summary>The last exception caught inside a native callback (they must never throw into C), or null.</summary>
    public static Exception? LastCallbackError { get; private set; }

    /// <summary>Associations currently alive in this process.</summary>
    public static int LiveCount => Live.Count;

    private static IntPtr Callback(string name) =>
        typeof(UsrsctpAssociation).GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static)!.MethodHandle.GetFunctionPointer();

    private static void EnsureInitialized()
    {
        if (s_initialized) return;
        UsrsctpAvailable.Require();
        usrsctp_init_nothreads(0, Callback(nameof(OnConnOutput)), IntPtr.Zero);
        usrsctp_sysctl_set_sctp_ecn_enable(0);
        s_initialized = true;
    }

    // ---------------------------------------------------------------- instance state

    private sealed record OutputEvent(byte[] Packet);
    private sealed record EstablishedEvent;
    private sealed record ClosedEvent(string Reason);
    private sealed record StreamResetEvent(ushort StreamId);

    private sealed class PendingSend(ushort sid, uint ppid, byte[] data, SctpSendOptions options)
    {
        public readonly ushort Sid = sid;
        public readonly uint Ppid = ppid;
        public readonly byte[] Data = data;
        public readonly SctpSendOptions Options = options;
        public int Offset;
    }

    private sealed record PendingReset(ushort Sid);

    private readonly UsrsctpOptions _options;
    private readonly nint _id;
    private IntPtr _socket;
    private int _sendBufferLimit;
    private bool _started, _passive, _heardFromPeer, _established, _closed, _disposed;
    private readonly Queue<object> _pending = new();        // PendingSend / PendingReset, strictly in order
    private long _pendingBytes;
    private long _nativeBuffered;
    private readonly Dictionary<(ushort, bool, ushort), MemoryStream> _partial = new();
    private readonly HashSet<ushort> _resetByUs = new();

    public UsrsctpAssociation(UsrsctpOptions? options = null)
    {
        _options = options ?? new UsrsctpOptions();
        using (new GateScope())
        {
            EnsureInitialized();
            _id = (nint)Interlocked.Increment(ref s_nextId);
            Live[_id] = this;
            usrsctp_register_address(_id);
            _socket = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, Callback(nameof(OnReceive)), Callback(nameof(OnSendReady)), 0, _id);
            if (_socket == IntPtr.Zero)
            {
                Live.TryRemove(_id, out _);
                usrsctp_deregister_address(_id);
                throw new InvalidOperationException("usrsctp_socket(AF_CONN) failed");
            }
            try
            {
                Configure();
            }
            catch
            {
                usrsctp_close(_socket);
                _socket = IntPtr.Zero;
                Live.TryRemove(_id, out _);
                usrsctp_deregister_address(_id);
                throw;
            }
        }
        Drain();
    }

    private void Configure()
    {
        Check(usrsctp_set_non_blocking(_socket, 1), "usrsctp_set_non_blocking");
        SetOption(SOL_SOCKET, SO_LINGER, Ints(1, 0), "SO_LINGER");
        if (_options.SendBufferSize > 0) SetOption(SOL_SOCKET, SO_SNDBUF, Ints(_options.SendBufferSize), "SO_SNDBUF");
        if (_options.ReceiveBufferSize > 0) SetOption(SOL_SOCKET, SO_RCVBUF, Ints(_options.ReceiveBufferSize), "SO_RCVBUF");
        SetOption(IPPROTO_SCTP, SCTP_RECVRCVINFO, Ints(1), "SCTP_RECVRCVINFO");
        SetOption(IPPROTO_SCTP, SCTP_EXPLICIT_EOR, Ints(1), "SCTP_EXPLICIT_EOR");
        SetOption(IPPROTO_SCTP, SCTP_NODELAY, Ints(1), "SCTP_NODELAY");
        SetOption(IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, Ints(0, (int)SCTP_ENABLE_RESET_STREAM_REQ), "SCTP_ENABLE_STREAM_RESET");
        SetOption(IPPROTO_SCTP, SCTP_INITMSG, InitMsg(0), "SCTP_INITMSG");
        if (_options.RtoInitialMs > 0 || _options.RtoMinMs > 0 || _options.RtoMaxMs > 0)
        {
            var rto = new byte[16]; // sctp_rtoinfo { assoc_id; initial; max; min } (0 = keep)
            BinaryPrimitives.WriteUInt32LittleEndian(rto.AsSpan(4), _options.RtoInitialMs);
            BinaryPrimitives.WriteUInt32LittleEndian(rto.AsSpan(8), _options.RtoMaxMs);
            BinaryPrimitives.WriteUInt32LittleEndian(rto.AsSpan(12), _options.RtoMinMs);
            SetOption(IPPROTO_SCTP, SCTP_RTOINFO, rto, "SCTP_RTOINFO");
        }
        foreach (var type in new[] { SCTP_ASSOC_CHANGE, SCTP_REMOTE_ERROR, SCTP_SHUTDOWN_EVENT, SCTP_PARTIAL_DELIVERY_EVENT,
                     SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT, SCTP_SEND_FAILED_EVENT })
        {
            var ev = new byte[8]; // sctp_event { assoc_id; type; on }
            BinaryPrimitives.WriteUInt16LittleEndian(ev.AsSpan(4), type);
            ev[6] = 1;
            SetOption(IPPROTO_SCTP, SCTP_EVENT, ev, $"SCTP_EVENT {type}");
        }
        var buf = new byte[4];
        uint len = 4;
        _sendBufferLimit = usrsctp_getsockopt(_socket, SOL_SOCKET, SO_SNDBUF, buf, ref len) == 0 ? BinaryPrimitives.ReadInt32LittleEndian(buf) : 256 * 1024;
        Check(usrsctp_bind(_socket, SockaddrConn(_options.LocalPort), 16), "usrsctp_bind");
    }

    // ---------------------------------------------------------------- ISctpAssociation

    public Action<ReadOnlyMemory<byte>>? Output { get; set; }
    public event Action? Established;
    public event Action<string>? Closed;
    public event Action<SctpMessage>? MessageReceived;
    public event Action<ushort>? StreamReset;

    /// <summary>Messages usrsctp reported as not (fully) delivered: SCTP_SEND_FAILED_EVENT, e.g. abandoned PR-SCTP data.</summary>
    public int SendFailures { get; private set; }

    public void Start(bool sendInit)
    {
        using (new GateScope())
        {
            ThrowIfDisposed();
            StartLocked(passive: !sendInit);
            ServiceAll();
        }
        Drain();
    }

    private void StartLocked(bool passive)
    {
        if (_started) return;
        _started = true;
        _passive = passive;
        // A passive side's own (swallowed) INIT must not run out of retransmissions while it waits for the peer.
        SetOption(IPPROTO_SCTP, SCTP_INITMSG, InitMsg(passive ? ushort.MaxValue : (ushort)0), "SCTP_INITMSG");
        // Non-blocking: returns -1/EINPROGRESS with the INIT already handed to OnConnOutput (swallowed when passive).
        usrsctp_connect(_socket, SockaddrConn(_options.RemotePort), 16);
    }

    public void Receive(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty) return;
        using (new GateScope())
        {
            if (_disposed) return;
            if (!_started) StartLocked(passive: true);
            _heardFromPeer = true;
            usrsctp_conninput(_id, ref MemoryMarshal.GetReference(packet), (nuint)packet.Length, 0);
            ServiceAll();
        }
        Drain();
    }

    public void Tick(long nowMicros)
    {
        using (new GateScope())
        {
            if (!s_ticked || nowMicros < s_lastTickMicros)
            {
                s_ticked = true;
                s_lastTickMicros = nowMicros;
            }
            else
            {
                var ms = (nowMicros - s_lastTickMicros) / 1000;
                if (ms > 0)
                {
                    s_lastTickMicros += ms * 1000;
                    usrsctp_handle_timers((uint)Math.Min(ms, uint.MaxValue));
                }
            }
            ServiceAll();
        }
        Drain();
    }

    public SctpState State
    {
        get { using (new GateScope()) return StateLocked(); }
    }

    private SctpState StateLocked()
    {
        if (_disposed || _closed || !_started || _socket == IntPtr.Zero) return SctpState.Closed;
        var buf = new byte[256]; // struct sctp_status is 176 bytes
        uint len = (uint)buf.Length;
        if (usrsctp_getsockopt(_socket, IPPROTO_SCTP, SCTP_STATUS, buf, ref len) != 0) return SctpState.Closed;
        var state = BinaryPrimitives.ReadInt32LittleEndian(buf.AsSpan(4)) switch
        {
            S_COOKIE_WAIT => SctpState.CookieWait,
            S_COOKIE_ECHOED => SctpState.CookieEchoed,
            S_ESTABLISHED => SctpState.Established,
            S_SHUTDOWN_PENDING => SctpState.ShutdownPending,
            S_SHUTDOWN_SENT => SctpState.ShutdownSent,
            S_SHUTDOWN_RECEIVED => SctpState.ShutdownReceived,
            S_SHUTDOWN_ACK_SENT => SctpState.ShutdownAckSent,
            _ => SctpState.Closed,
        };
        // A passive side is CLOSED (listening) until the COOKIE-ECHO establishes it.
        if (_passive && state is SctpState.CookieWait or SctpState.CookieEchoed) return SctpState.Closed;
        return state;
    }

    /// <summary>
    /// Queues a whole message (explicit EOR). False when the association is not established, is closed or disposed,
    /// the message is empty (SCTP cannot carry one), or usrsctp refused it (e.g. a stream id beyond the negotiated ones).
    /// What the send buffer cannot take now is kept and sent in order after later Receive/Tick calls.
    /// </summary>
    public bool Send(ushort streamId, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options)
    {
        if (message.IsEmpty) return false;
        using (new GateScope())
        {
            if (_disposed || _closed || !_established) return false;
            if (_pending.Count == 0)
            {
                var n = SendNative(streamId, ppid, message, options, out var errno);
                if (n < 0)
                {
                    if (!WouldBlock(errno, message.Length)) return false;
                    n = 0;
                }
                _nativeBuffered += n;
                if (n < message.Length)
                {
                    _pending.Enqueue(new PendingSend(streamId, ppid, message[(int)n..].ToArray(), options));
                    _pendingBytes += message.Length - n;
                }
            }
            else
            {
                _pending.Enqueue(new PendingSend(streamId, ppid, message.ToArray(), options));
                _pendingBytes += message.Length;
            }
            ServiceAll();
        }
        Drain();
        return true;
    }

    /// <summary>Resets our outgoing stream (RE-CONFIG), after everything queued before it has been handed to usrsctp.</summary>
    public void ResetStream(ushort streamId)
    {
        using (new GateScope())
        {
            if (_disposed || _closed) return;
            _resetByUs.Add(streamId);
            _pending.Enqueue(new PendingReset(streamId));
            ServiceAll();
        }
        Drain();
    }

    /// <summary>Bytes not yet acknowledged: our own queue plus usrsctp's send buffer (as of the last SACK or send).</summary>
    public long BufferedAmount
    {
        get { using (new GateScope()) return _pendingBytes + Math.Max(0, _nativeBuffered); }
    }

    /// <summary>Graceful SHUTDOWN (not part of ISctpAssociation): Closed("shutdown complete") fires on both sides.</summary>
    public void Shutdown()
    {
        using (new GateScope())
        {
            if (_disposed || _closed || _socket == IntPtr.Zero) return;
            usrsctp_shutdown(_socket, SHUT_WR);
            ServiceAll();
        }
        Drain();
    }

    /// <summary>ABORTs the association (the peer's Closed fires), closes the socket and deregisters the address.</summary>
    public void Dispose()
    {
        using (new GateScope())
        {
            if (_disposed) return;
            _disposed = true;
            if (_socket != IntPtr.Zero)
            {
                usrsctp_close(_socket); // SO_LINGER 0 → ABORT, handed to OnConnOutput right now
                _socket = IntPtr.Zero;
            }
            Live.TryRemove(_id, out _);
            usrsctp_deregister_address(_id);
            _pending.Clear();
            _pendingBytes = 0;
            _nativeBuffered = 0;
        }
        Drain();
    }

    // ---------------------------------------------------------------- sending

    private const int EAGAIN = 11, EMSGSIZE = 90;

    // A full send buffer reports EWOULDBLOCK, or EMSGSIZE when the (rest of the) message is larger than the whole buffer.
    private bool WouldBlock(int errno, int length) => errno == EAGAIN || (errno == EMSGSIZE && length > _sendBufferLimit);

    private nint SendNative(ushort sid, uint ppid, ReadOnlySpan<byte> data, SctpSendOptions o, out int errno)
    {
        var spa = new byte[32]; // struct sctp_sendv_spa
        var flags = SCTP_SEND_SNDINFO_VALID;
        BinaryPrimitives.WriteUInt16LittleEndian(spa.AsSpan(4), sid);
        BinaryPrimitives.WriteUInt16LittleEndian(spa.AsSpan(6), (ushort)(SCTP_EOR | (o.Unordered ? SCTP_UNORDERED : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(spa.AsSpan(8), ppid); // network order
        if (o.MaxRetransmits is { } rtx)
        {
            flags |= SCTP_SEND_PRINFO_VALID;
            BinaryPrimitives.WriteUInt16LittleEndian(spa.AsSpan(20), SCTP_PR_SCTP_RTX);
            BinaryPrimitives.WriteUInt32LittleEndian(spa.AsSpan(24), (uint)Math.Max(0, rtx));
        }
        else if (o.MaxLifetime is { } ttl)
        {
            flags |= SCTP_SEND_PRINFO_VALID;
            BinaryPrimitives.WriteUInt16LittleEndian(spa.AsSpan(20), SCTP_PR_SCTP_TTL);
            BinaryPrimitives.WriteUInt32LittleEndian(spa.AsSpan(24), (uint)Math.Clamp(ttl.TotalMilliseconds, 0, uint.MaxValue));
        }
        BinaryPrimitives.WriteUInt32LittleEndian(spa, flags);
        var n = usrsctp_sendv(_socket, ref MemoryMarshal.GetReference(data), (nuint)data.Length, IntPtr.Zero, 0, spa, (uint)spa.Length, SCTP_SENDV_SPA, 0);
        errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
        return n;
    }

    /// <summary>Hands queued work to usrsctp until it would block. Under the gate.</summary>
    private bool ServicePending()
    {
        var progressed = false;
        while (_pending.Count > 0 && _socket != IntPtr.Zero && !_closed && _established)
        {
            switch (_pending.Peek())
            {
                case PendingReset r:
                    var opt = new byte[10]; // sctp_reset_streams { assoc_id; flags; number; list[1] }
                    BinaryPrimitives.WriteUInt16LittleEndian(opt.AsSpan(4), SCTP_STREAM_RESET_OUTGOING);
                    BinaryPrimitives.WriteUInt16LittleEndian(opt.AsSpan(6), 1);
                    BinaryPrimitives.WriteUInt16LittleEndian(opt.AsSpan(8), r.Sid);
                    usrsctp_setsockopt(_socket, IPPROTO_SCTP, SCTP_RESET_STREAMS, opt, (uint)opt.Length);
                    _pending.Dequeue();
                    progressed = true;
                    continue;
                case PendingSend s:
                    var n = SendNative(s.Sid, s.Ppid, s.Data.AsSpan(s.Offset), s.Options, out var errno);
                    if (n < 0)
                    {
                        if (WouldBlock(errno, s.Data.Length - s.Offset)) return progressed;
                        _pendingBytes -= s.Data.Length - s.Offset; // refused: drop it
                        _pending.Dequeue();
                        continue;
                    }
                    if (n > 0) progressed = true;
                    s.Offset += (int)n;
                    _pendingBytes -= n;
                    _nativeBuffered += n;
                    if (s.Offset < s.Data.Length) return progressed; // partial: the rest later
                    _pending.Dequeue();
                    continue;
            }
        }
        return progressed;
    }

    private static void ServiceAll()
    {
        for (var round = 0; round < 64; round++)
        {
            var any = false;
            foreach (var a in Live.Values) any |= a.ServicePending();
            if (!any) return;
        }
    }

    // ---------------------------------------------------------------- callbacks (C calls these; they must not throw)

    [UnmanagedCallersOnly]
    private static int OnConnOutput(IntPtr addr, IntPtr buffer, nuint length, byte tos, byte setDf)
    {
        try
        {
            if (Live.TryGetValue(addr, out var a) && !(a._passive && !a._heardFromPeer))
            {
                var packet = new byte[(int)length];
                Marshal.Copy(buffer, packet, 0, packet.Length);
                Enqueue(a, new OutputEvent(packet));
            }
        }
        catch (Exception e)
        {
            LastCallbackError = e;
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int OnReceive(IntPtr socket, SockStore addr, IntPtr data, nuint length, RcvInfo rcv, int flags, IntPtr ulpInfo)
    {
        try
        {
            if (data == IntPtr.Zero) return 1; // the association went down (after SCTP_SHUTDOWN_COMP)
            var bytes = new byte[(int)length];
            Marshal.Copy(data, bytes, 0, bytes.Length);
            if (Live.TryGetValue(ulpInfo, out var a)) a.OnData(bytes, rcv, flags);
        }
        catch (Exception e)
        {
            LastCallbackError = e;
        }
        finally
        {
            if (data != IntPtr.Zero) Marshal.FreeHGlobal(data); // usrsctp malloc()ed it; FreeHGlobal is free() on Unix
        }
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int OnSendReady(IntPtr socket, uint sbFree, IntPtr ulpInfo)
    {
        try
        {
            if (Live.TryGetValue(ulpInfo, out var a)) a._nativeBuffered = Math.Max(0, a._sendBufferLimit - (long)sbFree);
        }
        catch (Exception e)
        {
            LastCallbackError = e;
        }
        return 0;
    }

    private void OnData(byte[] bytes, RcvInfo rcv, int flags)
    {
        if ((flags & MSG_NOTIFICATION) != 0)
        {
            OnNotification(bytes);
            return;
        }
        var eor = (flags & MSG_EOR) != 0;
        var key = (rcv.Sid, (rcv.Flags & SCTP_UNORDERED) != 0, rcv.Ssn);
        byte[] whole;
        if (_partial.Remove(key, out var acc))
        {
            acc.Write(bytes);
            if (!eor)
            {
                _partial[key] = acc;
                return;
            }
            whole = acc.ToArray();
        }
        else if (!eor)
        {
            var ms = new MemoryStream();
            ms.Write(bytes);
            _partial[key] = ms;
            return;
        }
        else
        {
            whole = bytes;
        }
        Enqueue(this, new SctpMessage(rcv.Sid, BinaryPrimitives.ReverseEndianness(rcv.Ppid), whole));
    }

    private void OnNotification(byte[] n)
    {
        if (n.Length < 8) return;
        var type = BinaryPrimitives.ReadUInt16LittleEndian(n);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(n.AsSpan(2));
        var length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(n.AsSpan(4)), (uint)n.Length);
        switch (type)
        {
            case SCTP_ASSOC_CHANGE when n.Length >= 12:
                var state = BinaryPrimitives.ReadUInt16LittleEndian(n.AsSpan(8));
                var error = BinaryPrimitives.ReadUInt16LittleEndian(n.AsSpan(10));
                switch (state)
                {
                    case SCTP_COMM_UP when !_established:
                        _established = true;
                        Enqueue(this, new EstablishedEvent());
                        break;
                    case SCTP_COMM_LOST: MarkClosed($"association lost (ABORT or retransmissions exhausted), error {error}"); break;
                    case SCTP_SHUTDOWN_COMP: MarkClosed("shutdown complete"); break;
                    case SCTP_CANT_STR_ASSOC: MarkClosed($"could not start the association, error {error}"); break;
                }
                break;
            case SCTP_STREAM_RESET_EVENT:
                if ((flags & SCTP_STREAM_RESET_INCOMING_SSN) == 0 || (flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) != 0) break;
                for (var i = 12; i + 2 <= length; i += 2) // strreset_stream_list, host order
                {
                    var sid = BinaryPrimitives.ReadUInt16LittleEndian(n.AsSpan(i));
                    foreach (var k in _partial.Keys.Where(k => k.Item1 == sid).ToList()) _partial.Remove(k);
                    Enqueue(this, new StreamResetEvent(sid));
                    // The peer closed its side. Close ours too (pitfall 5), unless this is the answer to our own reset.
                    if (!_resetByUs.Remove(sid)) _pending.Enqueue(new PendingReset(sid));
                }
                break;
            case SCTP_PARTIAL_DELIVERY_EVENT when n.Length >= 16:
                var stream = (ushort)BinaryPrimitives.ReadUInt32LittleEndian(n.AsSpan(12));
                foreach (var k in _partial.Keys.Where(k => k.Item1 == stream).ToList()) _partial.Remove(k);
                break;
            case SCTP_SENDER_DRY_EVENT:
                _nativeBuffered = 0;
                break;
            case SCTP_SEND_FAILED_EVENT:
                SendFailures++;
                break;
        }
    }

    private void MarkClosed(string reason)
    {
        if (_closed) return;
        _closed = true;
        Enqueue(this, new ClosedEvent(reason));
    }

    // ---------------------------------------------------------------- raising events, outside the lock

    private static void Drain()
    {
        if (t_draining) return; // an event handler called into us: the loop below raises what that queued
        t_draining = true;
        try
        {
            while (true)
            {
                if (t_events is { Count: > 0 } q)
                {
                    var (target, e) = q.Dequeue();
                    target.Deliver(e);
                }
                else if (Orphans.TryDequeue(out var o))
                {
                    o.Target.Deliver(o.Event);
                }
                else
                {
                    return;
                }
            }
        }
        finally
        {
            t_draining = false;
        }
    }

    private void Deliver(object e)
    {
        if (e is OutputEvent o)
        {
            Output?.Invoke(o.Packet); // even after Dispose: the ABORT must reach the peer
            return;
        }
        if (_disposed) return;
        switch (e)
        {
            case EstablishedEvent: Established?.Invoke(); break;
            case ClosedEvent c: Closed?.Invoke(c.Reason); break;
            case SctpMessage m: MessageReceived?.Invoke(m); break;
            case StreamResetEvent r: StreamReset?.Invoke(r.StreamId); break;
        }
    }

    // ---------------------------------------------------------------- helpers

    private byte[] SockaddrConn(ushort port)
    {
        var b = new byte[16]; // struct sockaddr_conn { uint16 family; uint16 port (network order); void* addr }
        BinaryPrimitives.WriteUInt16LittleEndian(b, AF_CONN);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), port);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), _id);
        return b;
    }

    private byte[] InitMsg(ushort maxAttempts)
    {
        var init = new byte[8]; // sctp_initmsg { num_ostreams; max_instreams; max_attempts (0 = default 8); max_init_timeo }
        BinaryPrimitives.WriteUInt16LittleEndian(init, _options.Streams);
        BinaryPrimitives.WriteUInt16LittleEndian(init.AsSpan(2), _options.Streams);
        BinaryPrimitives.WriteUInt16LittleEndian(init.AsSpan(4), maxAttempts);
        return init;
    }

    private static byte[] Ints(params int[] values)
    {
        var b = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    private void SetOption(int level, int name, byte[] value, string what) =>
        Check(usrsctp_setsockopt(_socket, level, name, value, (uint)value.Length), what);

    private static void Check(int rc, string what)
    {
        if (rc < 0) throw new InvalidOperationException($"usrsctp: {what} failed");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
