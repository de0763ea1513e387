using System.Buffers.Binary;
using System.Security.Cryptography;
using Hibari.Rtc.Sctp.Chunks;

namespace Hibari.Rtc.Sctp;

/// <summary>
/// A managed SCTP association for WebRTC data channels (RFC 9260 core, RFC 3758 PR-SCTP, RFC 6525 stream reset),
/// the subset Chrome's dcSCTP needs: see docs/protocol-notes.md, "SCTP for data channels". Single-threaded: the caller serialises every call
/// (<see cref="Receive"/>, <see cref="Tick"/>, <see cref="Send"/>, <see cref="ResetStream"/>, <see cref="Shutdown"/>);
/// events fire synchronously inside those calls, and packets produced by calls made from an event handler are
/// sent when the outer call returns. Time comes only from <see cref="Tick"/>.
/// </summary>
public sealed class SctpAssociation : ISctpAssociation
{
    private readonly SctpOptions _o;
    private readonly Random _random;
    private readonly byte[] _cookieKey = RandomNumberGenerator.GetBytes(32);
    private readonly int _mtu;
    private readonly int _maxFragment;
    private readonly long _minRto, _maxRto;

    // Time since the first Tick (µs). Calls before the first Tick happen at time 0, i.e. at that Tick: a caller's clock
    // may start anywhere (a monotonic clock since boot), and the first packet may well arrive before the first Tick.
    private long _now, _clockBase;
    private bool _clockKnown;
    private bool _terminated;
    private int _depth;

    // --- handshake
    private uint _myTag, _peerTag, _myInitialTsn, _peerInitialTsn;
    private InitChunk? _ourInit;
    private SctpChunk? _t1Chunk;
    private long _t1;
    private int _t1Count;
    private long _t1Rto;

    // --- send side
    private uint _nextTsn, _cumAckPoint;
    private readonly Queue<OutMessage> _pending = new();
    private readonly List<OutChunk> _out = new();
    private int _unsent, _retransmitCount, _prMessages;
    private long _flight, _cwnd, _ssthresh, _partialBytesAcked, _peerRwnd, _buffered;
    private bool _fastRecovery;
    private uint _recoverTsn;
    private long _t3;
    private long _rto;
    private double _srtt, _rttvar;
    private bool _haveRtt;
    private int _errorCount;
    private bool _forwardTsnNeeded;
    private readonly Dictionary<ushort, ushort> _outSsn = new();

    // --- receive side
    private uint _peerCum;
    private readonly HashSet<uint> _received = new();
    private readonly List<uint> _dups = new();
    private readonly Dictionary<uint, DataChunk> _reasm = new();
    private readonly Dictionary<ushort, InStream> _inStreams = new();
    private long _reasmBytes, _readyBytes;
    private bool _sackNow;
    private int _unackedPackets;
    private long _delayedAck;

    // --- shutdown, heartbeat
    private long _t2;
    private long _nextHeartbeat;
    private ulong _hbNonce;
    private bool _hbOutstanding;

    // --- RE-CONFIG (RFC 6525)
    private uint _reconfigReqSeq, _peerExpectedReqSeq;
    private readonly HashSet<ushort> _resetQueued = new();
    private readonly HashSet<ushort> _resetting = new();
    private OutgoingResetRequest? _reconfigInFlight;
    private long _reconfigTimer;
    private bool _reconfigRetryNewSeq;
    private ReconfigResult _lastReconfigResult;
    private DeferredReset? _deferred;

    private readonly List<SctpChunk> _control = new();

    public SctpAssociation(SctpOptions options)
    {
        _o = options;
        _random = options.Random;
        _mtu = Math.Max(options.Mtu, 256);
        _maxFragment = _mtu - SctpPacket.HeaderLength - DataChunk.HeaderLength;
        _minRto = (long)options.MinRto.TotalMicroseconds;
        _maxRto = (long)options.MaxRto.TotalMicroseconds;
        _rto = (long)options.InitialRto.TotalMicroseconds;
        _t1Rto = _rto;
    }

    public Action<ReadOnlyMemory<byte>>? Output { get; set; }
    public SctpState State { get; private set; } = SctpState.Closed;
    public event Action? Established;
    public event Action<string>? Closed;
    public event Action<SctpMessage>? MessageReceived;
    public event Action<ushort>? StreamReset;
    public long BufferedAmount => _buffered;

    /// <summary>Current retransmission timeout, congestion window and slow-start threshold (diagnostics, tests).</summary>
    public TimeSpan Rto => TimeSpan.FromMicroseconds(_rto);
    public long CongestionWindow => _cwnd;
    public long FlightSize => _flight;
    public long PeerReceiveWindow => _peerRwnd;
    public long SlowStartThreshold => _ssthresh;
    /// <summary>a_rwnd we would advertise now.</summary>
    public long ReceiveWindowAvailable => Math.Max(0, _o.ReceiveWindow - _reasmBytes - _readyBytes);
    public long RetransmittedChunks { get; private set; }

    public void Start(bool sendInit)
    {
        if (_terminated || State != SctpState.Closed || !sendInit) return;
        _myTag = NonZeroRandom();
        _myInitialTsn = (uint)_random.NextInt64(0, 1L << 32);
        _ourInit = OurInit(false, _myTag, _myInitialTsn, null);
        State = SctpState.CookieWait;
        _t1Chunk = _ourInit;
        _t1Count = 0;
        _t1Rto = (long)_o.InitialRto.TotalMicroseconds;
        _t1 = _now + _t1Rto;
        SendAlone(_ourInit, 0);
    }

    public void Tick(long nowMicros)
    {
        if (_terminated) return;
        if (!_clockKnown) { _clockKnown = true; _clockBase = nowMicros; }
        _now = Math.Max(_now, nowMicros - _clockBase); // never backwards
        _depth++;
        try
        {
            if (_t1 != 0 && _now >= _t1) OnT1();
            if (_t3 != 0 && _now >= _t3) OnT3();
            if (_t2 != 0 && _now >= _t2) OnT2();
            if (_reconfigTimer != 0 && _now >= _reconfigTimer) OnReconfigTimer();
            if (_delayedAck != 0 && _now >= _delayedAck) _sackNow = true;
            if (IsEstablishedish && _o.HeartbeatInterval > TimeSpan.Zero)
            {
                if (_nextHeartbeat == 0) _nextHeartbeat = _now + (long)_o.HeartbeatInterval.TotalMicroseconds;
                else if (_now >= _nextHeartbeat) OnHeartbeatTimer();
            }
            if (_prMessages > 0) AbandonExpired();
        }
        finally { _depth--; }
        Flush();
    }

    /// <summary>
    /// When <see cref="Tick"/> next has work (the earliest armed timer, on the caller's clock), long.MaxValue when no
    /// timer is armed, or the last tick's time when something is due now. Lets an owner tick the association only
    /// when needed instead of polling it; any Receive/Send/Reset may arm an earlier timer, so ask again after those.
    /// </summary>
    public long NextTimerMicros
    {
        get
        {
            if (_terminated || !_clockKnown) return _terminated ? long.MaxValue : 0;
            var next = long.MaxValue;
            foreach (var t in (ReadOnlySpan<long>)[_t1, _t2, _t3, _reconfigTimer, _delayedAck])
                if (t != 0 && t < next) next = t;
            if (IsEstablishedish && _o.HeartbeatInterval > TimeSpan.Zero)
                next = Math.Min(next, _nextHeartbeat == 0 ? _now : _nextHeartbeat);
            if (_prMessages > 0 || _sackNow) next = Math.Min(next, _now);
            return next == long.MaxValue ? long.MaxValue : _clockBase + next;
        }
    }

    public bool Send(ushort streamId, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options)
    {
        if (_terminated || State != SctpState.Established) return false;
        if (message.Length > _o.MaxMessageSize || _resetting.Contains(streamId)) return false;
        if (_buffered + message.Length > _o.SendBufferSize) return false;
        // An empty message goes out as one zero byte (DATA needs user data; RFC 8831 §6.6 uses PPIDs 56/57 for empty ones).
        var data = message.IsEmpty ? new byte[1] : message.ToArray();
        var m = new OutMessage(streamId, ppid, data, options.Unordered, options.MaxRetransmits,
            options.MaxLifetime is { } l ? _now + (long)l.TotalMicroseconds : long.MaxValue);
        if (m.IsPartiallyReliable) _prMessages++;
        _pending.Enqueue(m);
        _buffered += data.Length;
        Flush();
        return true;
    }

    public void ResetStream(ushort streamId)
    {
        if (_terminated || State != SctpState.Established) return;
        if (_resetting.Add(streamId)) _resetQueued.Add(streamId);
        Flush();
    }

    /// <summary>Graceful close (RFC 9260 §9.2): outstanding data is delivered, then SHUTDOWN.</summary>
    public void Shutdown()
    {
        if (_terminated) return;
        if (State == SctpState.Established) { State = SctpState.ShutdownPending; Flush(); }
        else if (State is SctpState.CookieWait or SctpState.CookieEchoed or SctpState.Closed) Terminate("SHUTDOWN before established");
    }

    /// <summary>Sends ABORT with a user-initiated-abort cause and closes at once.</summary>
    public void Abort(string reason)
    {
        if (_terminated) return;
        if (State != SctpState.Closed)
            SendAlone(new ErrorCausesChunk(SctpChunkType.Abort, [new SctpErrorCause(SctpErrorCause.UserInitiatedAbort, System.Text.Encoding.UTF8.GetBytes(reason))]), _peerTag);
        Terminate("ABORT (local): " + reason);
    }

    public void Dispose()
    {
        if (_terminated) return;
        if (State != SctpState.Closed)
            SendAlone(new ErrorCausesChunk(SctpChunkType.Abort, [new SctpErrorCause(SctpErrorCause.UserInitiatedAbort, [])]), _peerTag);
        _terminated = true;
        State = SctpState.Closed;
        ClearTimers();
    }

    // ------------------------------------------------------------------ receive

    public void Receive(ReadOnlySpan<byte> packet)
    {
        if (_terminated) return;
        if (!SctpPacket.TryReadHeader(packet, out var header, out _)) return;
        if (header.DestinationPort != _o.LocalPort || header.SourcePort != _o.RemotePort) return;
        _depth++;
        try { ReceiveChunks(header, packet[SctpPacket.HeaderLength..]); }
        finally { _depth--; }
        Flush();
    }

    private void ReceiveChunks(SctpCommonHeader header, ReadOnlySpan<byte> chunks)
    {
        var reader = new SctpChunkReader(chunks);
        var first = true;
        var hadData = false;
        while (!_terminated && reader.TryRead(out var raw))
        {
            var isFirst = first;
            first = false;
            // Verification tag rules (RFC 9260 §8.5, §8.5.1).
            switch (raw.Type)
            {
                case SctpChunkType.Init:
                    if (!isFirst || header.VerificationTag != 0) return;
                    break;
                case SctpChunkType.Abort:
                case SctpChunkType.ShutdownComplete:
                    var t = (raw.Flags & 1) != 0;
                    if (State == SctpState.Closed || header.VerificationTag != (t ? _peerTag : _myTag)) return;
                    break;
                case SctpChunkType.CookieEcho:
                    break; // checked against the cookie
                default:
                    if (State == SctpState.Closed || header.VerificationTag != _myTag) return;
                    break;
            }
            if (!SctpChunk.TryParse(raw, out var chunk, out _) || chunk is null) return; // malformed: drop the rest
            switch (chunk)
            {
                case DataChunk d: hadData = true; OnData(d); break;
                case InitChunk { IsAck: false } init: OnInit(init); return;
                case InitChunk init: OnInitAck(init); break;
                case SackChunk s: OnSack(s); break;
                case HeartbeatChunk { IsAck: false } hb: _control.Add(new HeartbeatChunk(true, hb.Info)); break;
                case HeartbeatChunk hb: OnHeartbeatAck(hb); break;
                case ErrorCausesChunk { Type: SctpChunkType.Abort } a:
                    Terminate("ABORT" + (a.Causes.Count > 0 ? ": " + a.Causes[0] : ""));
                    return;
                case ErrorCausesChunk: break; // ERROR: informational for this subset
                case ShutdownChunk s: OnShutdown(s); break;
                case EmptyChunk { Type: SctpChunkType.ShutdownAck }: OnShutdownAck(); break;
                case EmptyChunk { Type: SctpChunkType.ShutdownComplete }:
                    if (State == SctpState.ShutdownAckSent) Terminate("SHUTDOWN");
                    break;
                case EmptyChunk { Type: SctpChunkType.CookieAck }:
                    if (State == SctpState.CookieEchoed) EnterEstablished();
                    break;
                case CookieEchoChunk c: OnCookieEcho(header.VerificationTag, c); break;
                case ForwardTsnChunk f: OnForwardTsn(f); break;
                case ReConfigChunk r: OnReConfig(r); break;
                case UnknownChunk u:
                    var action = SctpChunk.ActionFor(u.Type);
                    if (action is UnknownChunkAction.StopDiscardAndReport or UnknownChunkAction.SkipAndReport)
                        _control.Add(new ErrorCausesChunk(SctpChunkType.Error, [new SctpErrorCause(SctpErrorCause.UnrecognizedChunkType, raw.Whole.ToArray())]));
                    if (action is UnknownChunkAction.StopAndDiscard or UnknownChunkAction.StopDiscardAndReport) goto done;
                    break;
            }
        }
        done:
        if (hadData && !_terminated)
        {
            _unackedPackets++;
            // RFC 9260 §6.2: SACK at least every second packet, at once on gaps/duplicates, else within 200 ms.
            if (_unackedPackets >= 2 || _received.Count > 0 || State == SctpState.ShutdownSent) _sackNow = true;
            else if (_delayedAck == 0) _delayedAck = _now + (long)_o.DelayedAck.TotalMicroseconds;
        }
    }

    // ------------------------------------------------------------------ handshake

    private bool IsEstablishedish => State is SctpState.Established or SctpState.ShutdownPending or SctpState.ShutdownReceived or SctpState.ShutdownSent;

    private InitChunk OurInit(bool ack, uint tag, uint tsn, byte[]? cookie) => new()
    {
        IsAck = ack, InitiateTag = tag, AdvertisedReceiverWindow = (uint)_o.ReceiveWindow, OutboundStreams = _o.Streams,
        InboundStreams = _o.Streams, InitialTsn = tsn, StateCookie = cookie, ForwardTsnSupported = true,
        SupportedExtensions = [(byte)SctpChunkType.ReConfig, (byte)SctpChunkType.ForwardTsn],
    };

    private void OnInit(InitChunk init)
    {
        // RFC 9260 §5.2.1: in COOKIE-WAIT/COOKIE-ECHOED answer with the tag and TSN of our own INIT; otherwise fresh ones.
        uint tag, tsn;
        if (State is SctpState.CookieWait or SctpState.CookieEchoed) { tag = _myTag; tsn = _myInitialTsn; }
        else { tag = NonZeroRandom(); tsn = (uint)_random.NextInt64(0, 1L << 32); }
        var cookie = MakeCookie(tag, init.InitiateTag, tsn, init.InitialTsn, init.AdvertisedReceiverWindow);
        SendAlone(OurInit(true, tag, tsn, cookie), init.InitiateTag);
    }

    private void OnInitAck(InitChunk ack)
    {
        if (State != SctpState.CookieWait) return;
        _peerTag = ack.InitiateTag;
        _peerInitialTsn = ack.InitialTsn;
        _peerRwnd = ack.AdvertisedReceiverWindow;
        var echo = new CookieEchoChunk(ack.StateCookie!);
        State = SctpState.CookieEchoed;
        _t1Chunk = echo;
        _t1Count = 0;
        _t1 = _now + _t1Rto;
        SendAlone(echo, _peerTag);
    }

    private void OnCookieEcho(uint packetTag, CookieEchoChunk echo)
    {
        if (!TryReadCookie(echo.Cookie, out var c) || packetTag != c.MyTag) return;
        if (State is SctpState.Closed or SctpState.CookieWait or SctpState.CookieEchoed)
        {
            // Also the collision cases B and D of RFC 9260 §5.2.4: the cookie carries our INIT's tag and TSN.
            Adopt(c);
            _control.Add(new EmptyChunk(SctpChunkType.CookieAck));
            EnterEstablished();
            return;
        }
        if (c.MyTag == _myTag)
        {
            if (c.PeerTag != _peerTag) _peerTag = c.PeerTag; // case B after a collision
            _control.Add(new EmptyChunk(SctpChunkType.CookieAck));
            return;
        }
        if (c.PeerTag == _peerTag) return; // case C: a late cookie, discard
        // Case A: the peer restarted. Start over from the cookie.
        ResetTransferState();
        Adopt(c);
        _control.Add(new EmptyChunk(SctpChunkType.CookieAck));
        EnterEstablished();
    }

    private void Adopt(Cookie c)
    {
        _myTag = c.MyTag;
        _peerTag = c.PeerTag;
        _myInitialTsn = c.MyTsn;
        _peerInitialTsn = c.PeerTsn;
        _peerRwnd = c.PeerRwnd;
    }

    private void EnterEstablished()
    {
        _t1 = 0;
        _t1Chunk = null;
        _nextTsn = _myInitialTsn;
        _cumAckPoint = _myInitialTsn - 1;
        _peerCum = _peerInitialTsn - 1;
        _reconfigReqSeq = _myInitialTsn;      // RFC 6525 §5.1.1: request numbers start at our initial TSN
        _peerExpectedReqSeq = _peerInitialTsn;
        _cwnd = Math.Min(4 * _mtu, Math.Max(2 * _mtu, 4404));
        _ssthresh = Math.Max(_peerRwnd, 4 * _mtu);
        State = SctpState.Established;
        Established?.Invoke();
    }

    private void ResetTransferState()
    {
        _pending.Clear(); _out.Clear(); _unsent = _retransmitCount = _prMessages = 0;
        _flight = _buffered = _partialBytesAcked = 0; _fastRecovery = false; _t3 = 0; _forwardTsnNeeded = false;
        _outSsn.Clear(); _received.Clear(); _dups.Clear(); _reasm.Clear(); _inStreams.Clear();
        _reasmBytes = _readyBytes = 0; _resetQueued.Clear(); _resetting.Clear(); _reconfigInFlight = null; _reconfigTimer = 0; _deferred = null;
    }

    private void OnT1()
    {
        if (_t1Chunk is null) { _t1 = 0; return; }
        if (++_t1Count > _o.MaxInitRetransmissions) { Terminate("max retransmissions (" + _t1Chunk.Type + ")"); return; }
        _t1Rto = Math.Min(_t1Rto * 2, _maxRto);
        _t1 = _now + _t1Rto;
        SendAlone(_t1Chunk, _t1Chunk is InitChunk ? 0 : _peerTag);
    }

    private readonly record struct Cookie(uint MyTag, uint PeerTag, uint MyTsn, uint PeerTsn, uint PeerRwnd);

    private const int CookieBody = 28;

    private byte[] MakeCookie(uint myTag, uint peerTag, uint myTsn, uint peerTsn, uint peerRwnd)
    {
        var b = new byte[CookieBody + 32];
        BinaryPrimitives.WriteUInt32BigEndian(b, myTag);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), peerTag);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), myTsn);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), peerTsn);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), peerRwnd);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(20), _now);
        HMACSHA256.HashData(_cookieKey, b.AsSpan(0, CookieBody), b.AsSpan(CookieBody));
        return b;
    }

    private bool TryReadCookie(byte[] b, out Cookie c)
    {
        c = default;
        if (b.Length != CookieBody + 32) return false;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_cookieKey, b.AsSpan(0, CookieBody), mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, b.AsSpan(CookieBody))) return false;
        var issued = BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(20));
        if (_now - issued > (long)_o.CookieLifetime.TotalMicroseconds || issued > _now) return false; // stale
        c = new Cookie(BinaryPrimitives.ReadUInt32BigEndian(b), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4)),
            BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(12)),
            BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(16)));
        return true;
    }

    private uint NonZeroRandom()
    {
        uint v;
        do v = (uint)_random.NextInt64(1, 1L << 32); while (v == 0);
        return v;
    }

    // ------------------------------------------------------------------ receive path

    private void OnData(DataChunk d)
    {
        if (!IsEstablishedish) return;
        var tsn = d.Tsn;
        if (!Serial.Gt(tsn, _peerCum) || _received.Contains(tsn))
        {
            if (_dups.Count < 32) _dups.Add(tsn);
            _sackNow = true;
            return;
        }
        if (tsn - _peerCum > 0x10000) { _sackNow = true; return; } // beyond what a SACK can describe
        var len = d.UserData.Length;
        var held = _reasmBytes + _readyBytes;
        // a_rwnd accounting: past the window only the next expected TSN is taken (it is what lets the window drain).
        if (held + len > _o.ReceiveWindow && !(tsn == _peerCum + 1 && held + len <= _o.ReceiveWindow + _o.MaxMessageSize))
        {
            _sackNow = true;
            return;
        }
        if (tsn == _peerCum + 1)
        {
            _peerCum = tsn;
            if (_received.Count > 0) { AdvanceCum(); _sackNow = true; }
        }
        else _received.Add(tsn);
        _reasm[tsn] = d;
        _reasmBytes += len;
        TryAssemble(tsn);
        CheckDeferredReset();
    }

    private void AdvanceCum()
    {
        while (_received.Remove(_peerCum + 1)) _peerCum++;
    }

    private void TryAssemble(uint tsn)
    {
        var c = _reasm[tsn];
        var first = tsn;
        var f = c;
        var total = (long)c.UserData.Length;
        while (!f.Beginning)
        {
            if (!_reasm.TryGetValue(first - 1, out var p) || p.Ending || !SameMessage(p, c)) return;
            first--; f = p; total += p.UserData.Length;
            if (total > _o.MaxMessageSize + _o.ReceiveWindow) return;
        }
        var last = tsn;
        var l = c;
        while (!l.Ending)
        {
            if (!_reasm.TryGetValue(last + 1, out var n) || n.Beginning || !SameMessage(n, c)) return;
            last++; l = n; total += n.UserData.Length;
            if (total > _o.MaxMessageSize + _o.ReceiveWindow) return;
        }
        byte[]? data = total <= _o.MaxMessageSize ? new byte[total] : null; // oversize: dropped, its SSN still consumed
        var o = 0;
        for (var t = first; ; t++)
        {
            _reasm.Remove(t, out var part);
            _reasmBytes -= part!.UserData.Length;
            if (data is not null) { part.UserData.Span.CopyTo(data.AsSpan(o)); o += part.UserData.Length; }
            if (t == last) break;
        }
        var msg = data is null ? null : new SctpMessage(c.StreamId, c.Ppid, data);
        if (c.Unordered)
        {
            if (msg is not null) MessageReceived?.Invoke(msg);
            return;
        }
        var s = InStreamFor(c.StreamId);
        if (Serial.Lt16(c.Ssn, s.NextSsn) || s.Ready.ContainsKey(c.Ssn)) return; // stale
        s.Ready[c.Ssn] = msg;
        if (msg is not null) _readyBytes += msg.Data.Length;
        DeliverOrdered(s);
    }

    private static bool SameMessage(DataChunk a, DataChunk b) =>
        a.StreamId == b.StreamId && a.Unordered == b.Unordered && (a.Unordered || a.Ssn == b.Ssn) && a.Ppid == b.Ppid;

    private InStream InStreamFor(ushort id)
    {
        if (!_inStreams.TryGetValue(id, out var s)) _inStreams[id] = s = new InStream();
        return s;
    }

    private void DeliverOrdered(InStream s)
    {
        while (s.Ready.Remove(s.NextSsn, out var m))
        {
            s.NextSsn++;
            if (m is null) continue;
            _readyBytes -= m.Data.Length;
            MessageReceived?.Invoke(m);
        }
    }

    private void OnForwardTsn(ForwardTsnChunk f)
    {
        _sackNow = true;
        if (!IsEstablishedish || !Serial.Gt(f.NewCumulativeTsn, _peerCum)) return;
        if (f.NewCumulativeTsn - _peerCum > 0x10000 * 4) return; // nonsense jump
        var cum = f.NewCumulativeTsn;
        List<uint>? drop = null;
        foreach (var k in _reasm.Keys) if (!Serial.Gt(k, cum)) (drop ??= new()).Add(k);
        if (drop is not null)
            foreach (var k in drop) { _reasm.Remove(k, out var part); _reasmBytes -= part!.UserData.Length; }
        _received.RemoveWhere(t => !Serial.Gt(t, cum));
        _peerCum = cum;
        AdvanceCum();
        foreach (var (sid, ssn) in f.Streams)
        {
            var s = InStreamFor(sid);
            // RFC 3758 §3.6: deliver what is ready up to the skipped SSN, then move past it.
            while (!Serial.Gt16(s.NextSsn, ssn))
            {
                if (s.Ready.Remove(s.NextSsn, out var m) && m is not null) { _readyBytes -= m.Data.Length; MessageReceived?.Invoke(m); }
                s.NextSsn++;
            }
            DeliverOrdered(s);
        }
        CheckDeferredReset();
    }

    private SackChunk BuildSack()
    {
        var gaps = new List<(ushort, ushort)>();
        if (_received.Count > 0)
        {
            var offsets = new List<uint>(_received.Count);
            foreach (var t in _received) { var off = t - _peerCum; if (off <= 0xFFFF) offsets.Add(off); }
            offsets.Sort();
            var maxBlocks = (_mtu - SctpPacket.HeaderLength - 16 - 4 * _dups.Count) / 4;
            var i = 0;
            while (i < offsets.Count && gaps.Count < maxBlocks)
            {
                var start = offsets[i];
                var end = start;
                while (i + 1 < offsets.Count && offsets[i + 1] == end + 1) { i++; end++; }
                gaps.Add(((ushort)start, (ushort)end));
                i++;
            }
        }
        var sack = new SackChunk(_peerCum, (uint)ReceiveWindowAvailable, gaps, _dups.ToArray());
        _dups.Clear();
        _sackNow = false;
        _unackedPackets = 0;
        _delayedAck = 0;
        return sack;
    }

    // ------------------------------------------------------------------ send path

    private void OnSack(SackChunk s)
    {
        if (!IsEstablishedish && State != SctpState.ShutdownAckSent) return;
        var cum = s.CumulativeTsnAck;
        if (Serial.Lt(cum, _cumAckPoint)) return; // old, out of order
        if (Serial.Gt(cum, _nextTsn - 1)) return; // acks what we never sent
        ProcessCumAck(cum, out var bytesAcked, out var htna, out var haveHtna, out var rttSample);
        foreach (var (start, end) in s.GapBlocks)
        {
            for (int off = start; off <= end && off - 1 < _out.Count; off++)
            {
                var c = _out[off - 1];
                if (c.Acked || c.Abandoned) continue;
                if (c.SendCount == 0) continue; // never sent: a confused peer
                c.Acked = true;
                if (c.InFlight) { c.InFlight = false; _flight -= c.Length; }
                if (c.Retransmit) { c.Retransmit = false; _retransmitCount--; }
                htna = c.Tsn; haveHtna = true;
                if (c.SendCount == 1) rttSample = _now - c.SentAt;
            }
        }
        if (rttSample >= 0) UpdateRto(rttSample);
        if (haveHtna)
        {
            // Miss indications (RFC 9260 §7.2.4, HTNA): three, and the chunk is fast-retransmitted once.
            var limit = (int)(htna - _cumAckPoint - 1);
            for (var i = 0; i < limit && i < _out.Count; i++)
            {
                var c = _out[i];
                if (c.Acked || c.Abandoned || !c.InFlight) continue;
                if (++c.Misses >= 3 && !c.FastRetransmitted) MarkFastRetransmit(c);
            }
        }
        if (bytesAcked > 0)
        {
            _errorCount = 0;
            if (!_fastRecovery)
            {
                if (_cwnd <= _ssthresh) _cwnd += Math.Min(bytesAcked, _mtu);
                else
                {
                    _partialBytesAcked += bytesAcked;
                    if (_partialBytesAcked >= _cwnd) { _partialBytesAcked -= _cwnd; _cwnd += _mtu; }
                }
            }
            else if (!Serial.Lt(_cumAckPoint, _recoverTsn)) _fastRecovery = false;
            _t3 = _flight > 0 || _unsent > 0 ? _now + _rto : 0;
        }
        _peerRwnd = Math.Max(0, s.AdvertisedReceiverWindow - _flight);
        if (_flight == 0 && _retransmitCount == 0 && !HasAbandonedHead()) _t3 = 0;
        if (HasAbandonedHead()) _forwardTsnNeeded = true;
        if (State == SctpState.ShutdownReceived || State == SctpState.ShutdownPending) { } // checked in Flush
    }

    private void ProcessCumAck(uint cum, out long bytesAcked, out uint htna, out bool haveHtna, out long rttSample)
    {
        bytesAcked = 0; htna = 0; haveHtna = false; rttSample = -1;
        var n = (int)Math.Min(cum - _cumAckPoint, (uint)_out.Count);
        var firstUnsent = _out.Count - _unsent;
        for (var i = 0; i < n; i++)
        {
            var c = _out[i];
            if (!c.Acked && !c.Abandoned)
            {
                bytesAcked += c.Length; // gap-acked bytes were counted when they left the flight
                htna = c.Tsn; haveHtna = true;
                if (c.SendCount == 1) rttSample = _now - c.SentAt;
            }
            if (c.InFlight) { c.InFlight = false; _flight -= c.Length; }
            if (c.Retransmit) { c.Retransmit = false; _retransmitCount--; }
            c.Acked = true;
            if (!c.Abandoned) { _buffered -= c.Length; c.Message.Done(); if (c.Message.IsPartiallyReliable && c.Message.Finished) _prMessages--; }
            if (i >= firstUnsent) _unsent--; // acked before sent: only through FORWARD-TSN of abandoned chunks
        }
        _out.RemoveRange(0, n);
        _cumAckPoint = cum;
    }

    private void MarkFastRetransmit(OutChunk c)
    {
        if (c.Message.MaxRetransmits is { } max && c.SendCount > max) { Abandon(c.Message); return; }
        c.FastRetransmitted = true;
        c.Misses = 0;
        if (c.InFlight) { c.InFlight = false; _flight -= c.Length; }
        if (!c.Retransmit) { c.Retransmit = true; c.Fast = true; _retransmitCount++; }
        if (!_fastRecovery)
        {
            _fastRecovery = true;
            _recoverTsn = _nextTsn - 1;
            _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
            _cwnd = _ssthresh;
            _partialBytesAcked = 0;
        }
    }

    private void OnT3()
    {
        _t3 = 0;
        if (++_errorCount > _o.MaxRetransmissions) { Terminate("max retransmissions"); return; }
        _rto = Math.Min(_rto * 2, _maxRto); // back-off (RFC 9260 §6.3.3)
        _ssthresh = Math.Max(_cwnd / 2, 4 * _mtu);
        _cwnd = _mtu;
        _partialBytesAcked = 0;
        _fastRecovery = false;
        for (var i = 0; i < _out.Count; i++)
        {
            var c = _out[i];
            if (!c.InFlight) continue;
            c.InFlight = false;
            _flight -= c.Length;
            if (c.Message.MaxRetransmits is { } max && c.SendCount > max) { Abandon(c.Message); continue; }
            if (!c.Retransmit) { c.Retransmit = true; c.Fast = false; _retransmitCount++; }
        }
        if (HasAbandonedHead()) _forwardTsnNeeded = true;
    }

    private void Abandon(OutMessage m)
    {
        if (m.Abandoned) return;
        m.Abandoned = true;
        if (m.IsPartiallyReliable) _prMessages--;
        foreach (var c in m.Chunks)
        {
            if (c.Acked || c.Abandoned) continue;
            c.Abandoned = true;
            _buffered -= c.Length;
            if (c.InFlight) { c.InFlight = false; _flight -= c.Length; }
            if (c.Retransmit) { c.Retransmit = false; _retransmitCount--; }
        }
        _forwardTsnNeeded = true;
    }

    private void AbandonExpired()
    {
        for (var i = 0; i < _out.Count; i++)
        {
            var m = _out[i].Message;
            if (!m.Abandoned && !_out[i].Acked && m.ExpiresAt <= _now) Abandon(m);
        }
        if (_pending.Count > 0 && _prMessages > 0)
        {
            var n = _pending.Count;
            for (var i = 0; i < n; i++)
            {
                var m = _pending.Dequeue();
                if (m.ExpiresAt <= _now) { _buffered -= m.Data.Length; _prMessages--; continue; } // never sent: no TSN to forward
                _pending.Enqueue(m);
            }
        }
    }

    private bool HasAbandonedHead() => _out.Count > 0 && _out[0].Abandoned;

    private ForwardTsnChunk? BuildForwardTsn()
    {
        // Advanced.Peer.Ack.Point (RFC 3758 §3.5 C): over abandoned and gap-acked chunks from the head.
        var adv = _cumAckPoint;
        var streams = new Dictionary<ushort, ushort>();
        for (var i = 0; i < _out.Count; i++)
        {
            var c = _out[i];
            if (!c.Abandoned && !c.Acked) break;
            adv = c.Tsn;
            if (c.Abandoned && !c.Message.Unordered)
                streams[c.Message.StreamId] = !streams.TryGetValue(c.Message.StreamId, out var prev) || Serial.Gt16(c.Ssn, prev) ? c.Ssn : prev;
        }
        if (adv == _cumAckPoint) return null;
        var list = new List<(ushort, ushort)>(streams.Count);
        foreach (var kv in streams) list.Add((kv.Key, kv.Value));
        return new ForwardTsnChunk(adv, list);
    }

    private void UpdateRto(long r)
    {
        // RFC 9260 §6.3.1; samples only from chunks sent once (Karn).
        if (r < 0) return;
        if (!_haveRtt) { _srtt = r; _rttvar = r / 2.0; _haveRtt = true; }
        else
        {
            _rttvar = 0.75 * _rttvar + 0.25 * Math.Abs(_srtt - r);
            _srtt = 0.875 * _srtt + 0.125 * r;
        }
        _rto = Math.Clamp((long)(_srtt + Math.Max(4 * _rttvar, 1000)), _minRto, _maxRto);
    }

    private void Flush()
    {
        if (_depth > 0 || _terminated) return;
        var pb = new PacketBuilder(this);
        if (_sackNow && IsEstablishedish) pb.Add(BuildSack());
        foreach (var c in _control) pb.Add(c);
        _control.Clear();
        if (IsEstablishedish || State == SctpState.ShutdownAckSent)
        {
            if (_forwardTsnNeeded)
            {
                _forwardTsnNeeded = false;
                if (BuildForwardTsn() is { } f) { pb.Add(f); if (_t3 == 0) _t3 = _now + _rto; }
            }
            SendData(ref pb);
            SendReconfig(ref pb);
            SendShutdownIfReady(ref pb);
        }
        pb.Finish();
    }

    private void SendData(ref PacketBuilder pb)
    {
        if (State is not (SctpState.Established or SctpState.ShutdownPending or SctpState.ShutdownReceived)) return;
        if (_retransmitCount > 0)
        {
            for (var i = 0; i < _out.Count && _retransmitCount > 0; i++)
            {
                var c = _out[i];
                if (!c.Retransmit) continue;
                if (!c.Fast && _flight >= _cwnd) break;
                c.Retransmit = false; c.Fast = false; _retransmitCount--;
                RetransmittedChunks++;
                Transmit(ref pb, c);
            }
        }
        if (_retransmitCount > 0) return;
        while (true)
        {
            if (_unsent == 0 && !AssignNext()) break;
            var c = _out[_out.Count - _unsent];
            if (c.Abandoned) { _unsent--; continue; }
            if (_flight >= _cwnd) break;
            if (_peerRwnd < c.Length && _flight > 0) break; // zero-window probing: one chunk while nothing is in flight
            _unsent--;
            _peerRwnd = Math.Max(0, _peerRwnd - c.Length);
            Transmit(ref pb, c);
        }
    }

    private void Transmit(ref PacketBuilder pb, OutChunk c)
    {
        var m = c.Message;
        c.SendCount++;
        c.SentAt = _now;
        c.InFlight = true;
        c.Misses = 0;
        _flight += c.Length;
        pb.Add(new DataChunk(c.Tsn, m.StreamId, c.Ssn, m.Ppid, c.Data, c.Beginning, c.Ending, m.Unordered));
        if (_t3 == 0) _t3 = _now + _rto;
    }

    /// <summary>Moves the next queued message into the TSN space: all its fragments get consecutive TSNs.</summary>
    private bool AssignNext()
    {
        while (_pending.Count > 0)
        {
            var m = _pending.Dequeue();
            if (m.ExpiresAt <= _now) { _buffered -= m.Data.Length; _prMessages--; continue; }
            ushort ssn = 0;
            if (!m.Unordered)
            {
                _outSsn.TryGetValue(m.StreamId, out ssn);
                _outSsn[m.StreamId] = (ushort)(ssn + 1);
            }
            var count = (m.Data.Length + _maxFragment - 1) / _maxFragment;
            for (var i = 0; i < count; i++)
            {
                var off = i * _maxFragment;
                var len = Math.Min(_maxFragment, m.Data.Length - off);
                var c = new OutChunk(m, _nextTsn++, ssn, m.Data.AsMemory(off, len), i == 0, i == count - 1);
                m.Chunks.Add(c);
                _out.Add(c);
            }
            m.Remaining = count;
            _unsent += count;
            return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ RE-CONFIG (RFC 6525)

    private void SendReconfig(ref PacketBuilder pb)
    {
        if (_reconfigInFlight is not null || _resetQueued.Count == 0 || State != SctpState.Established) return;
        var streams = new List<ushort>();
        foreach (var s in _resetQueued)
        {
            var queued = false;
            foreach (var m in _pending) if (m.StreamId == s) { queued = true; break; }
            if (!queued) streams.Add(s);
        }
        if (streams.Count == 0) return;
        foreach (var s in streams) _resetQueued.Remove(s);
        streams.Sort();
        _reconfigInFlight = new OutgoingResetRequest(_reconfigReqSeq++, _peerExpectedReqSeq - 1, _nextTsn - 1, streams.ToArray());
        _reconfigRetryNewSeq = false;
        _reconfigTimer = _now + _rto;
        pb.Add(new ReConfigChunk([_reconfigInFlight]));
    }

    private void OnReconfigTimer()
    {
        _reconfigTimer = 0;
        if (_reconfigInFlight is not { } r) return;
        if (_reconfigRetryNewSeq)
        {
            _reconfigInFlight = r with { RequestSequence = _reconfigReqSeq++, ResponseSequence = _peerExpectedReqSeq - 1 };
            _reconfigRetryNewSeq = false;
        }
        else if (++_errorCount > _o.MaxRetransmissions) { Terminate("max retransmissions (RE-CONFIG)"); return; }
        _reconfigTimer = _now + _rto;
        _control.Add(new ReConfigChunk([_reconfigInFlight]));
    }

    private void OnReConfig(ReConfigChunk r)
    {
        if (!IsEstablishedish) return;
        foreach (var p in r.Parameters)
        {
            switch (p)
            {
                case OutgoingResetRequest req: OnOutgoingResetRequest(req); break;
                case ReconfigResponse resp: OnReconfigResponse(resp); break;
                case IncomingResetRequest inc:
                    // We do not reset on the peer's behalf (data channels close from the sending side).
                    _control.Add(new ReConfigChunk([new ReconfigResponse(inc.RequestSequence, ReconfigResult.Denied)]));
                    if (inc.RequestSequence == _peerExpectedReqSeq) _peerExpectedReqSeq++;
                    break;
                case UnknownReconfigParameter u when u.Value.Length >= 4:
                    var seq = BinaryPrimitives.ReadUInt32BigEndian(u.Value);
                    _control.Add(new ReConfigChunk([new ReconfigResponse(seq, ReconfigResult.Denied)]));
                    if (seq == _peerExpectedReqSeq) _peerExpectedReqSeq++;
                    break;
            }
        }
    }

    private void OnOutgoingResetRequest(OutgoingResetRequest req)
    {
        ReconfigResult result;
        if (req.RequestSequence == _peerExpectedReqSeq)
        {
            _peerExpectedReqSeq++;
            _deferred = new DeferredReset(req.RequestSequence, req.SendersLastAssignedTsn, req.Streams);
            CheckDeferredReset();
            result = _deferred is null ? ReconfigResult.SuccessPerformed : ReconfigResult.InProgress;
        }
        else if (req.RequestSequence == _peerExpectedReqSeq - 1)
        {
            // A retransmission: answer again (now performed if the data has arrived meanwhile).
            CheckDeferredReset();
            result = _deferred is { } d && d.RequestSequence == req.RequestSequence ? ReconfigResult.InProgress
                : _lastReconfigResult == ReconfigResult.InProgress ? ReconfigResult.SuccessPerformed : _lastReconfigResult;
        }
        else result = ReconfigResult.ErrorBadSequenceNumber;
        _lastReconfigResult = result;
        _control.Add(new ReConfigChunk([new ReconfigResponse(req.RequestSequence, result)]));
    }

    /// <summary>RFC 6525 §5.2.2: the reset takes effect once everything up to the sender's last assigned TSN has arrived.</summary>
    private void CheckDeferredReset()
    {
        if (_deferred is not { } d || Serial.Gt(d.LastTsn, _peerCum)) return;
        _deferred = null;
        IEnumerable<ushort> streams = d.Streams.Length > 0 ? d.Streams : [.. _inStreams.Keys];
        foreach (var s in streams)
        {
            var st = InStreamFor(s);
            st.NextSsn = 0;
            foreach (var m in st.Ready.Values) if (m is not null) _readyBytes -= m.Data.Length;
            st.Ready.Clear();
            StreamReset?.Invoke(s);
        }
    }

    private void OnReconfigResponse(ReconfigResponse resp)
    {
        if (_reconfigInFlight is not { } r || resp.ResponseSequence != r.RequestSequence) return;
        switch (resp.Result)
        {
            case ReconfigResult.InProgress:
                _reconfigRetryNewSeq = true;
                _reconfigTimer = _now + _rto;
                return;
            case ReconfigResult.SuccessPerformed or ReconfigResult.SuccessNothingToDo:
                foreach (var s in r.Streams) _outSsn[s] = 0;
                break;
        }
        foreach (var s in r.Streams) _resetting.Remove(s);
        _reconfigInFlight = null;
        _reconfigTimer = 0;
    }

    // ------------------------------------------------------------------ shutdown, heartbeat, abort

    private bool AllAcked => _pending.Count == 0 && _out.Count == 0;

    private void SendShutdownIfReady(ref PacketBuilder pb)
    {
        if (!AllAcked) return;
        if (State == SctpState.ShutdownPending)
        {
            State = SctpState.ShutdownSent;
            _t2 = _now + _rto;
            pb.Add(new ShutdownChunk(_peerCum));
        }
        else if (State == SctpState.ShutdownReceived)
        {
            State = SctpState.ShutdownAckSent;
            _t2 = _now + _rto;
            pb.Add(new EmptyChunk(SctpChunkType.ShutdownAck));
        }
    }

    private void OnShutdown(ShutdownChunk s)
    {
        if (!IsEstablishedish) return;
        if (!Serial.Lt(s.CumulativeTsnAck, _cumAckPoint) && !Serial.Gt(s.CumulativeTsnAck, _nextTsn - 1))
            ProcessCumAck(s.CumulativeTsnAck, out _, out _, out _, out _);
        if (State == SctpState.ShutdownSent)
        {
            State = SctpState.ShutdownAckSent;
            _t2 = _now + _rto;
            _control.Add(new EmptyChunk(SctpChunkType.ShutdownAck));
        }
        else if (State is SctpState.Established or SctpState.ShutdownPending) State = SctpState.ShutdownReceived;
    }

    private void OnShutdownAck()
    {
        if (State is not (SctpState.ShutdownSent or SctpState.ShutdownAckSent)) return;
        SendAlone(new EmptyChunk(SctpChunkType.ShutdownComplete), _peerTag);
        Terminate("SHUTDOWN");
    }

    private void OnT2()
    {
        _t2 = 0;
        if (++_errorCount > _o.MaxRetransmissions) { Terminate("max retransmissions (SHUTDOWN)"); return; }
        _rto = Math.Min(_rto * 2, _maxRto);
        _t2 = _now + _rto;
        if (State == SctpState.ShutdownSent) _control.Add(new ShutdownChunk(_peerCum));
        else if (State == SctpState.ShutdownAckSent) _control.Add(new EmptyChunk(SctpChunkType.ShutdownAck));
        else _t2 = 0;
    }

    private void OnHeartbeatTimer()
    {
        if (_hbOutstanding && ++_errorCount > _o.MaxRetransmissions) { Terminate("max retransmissions (HEARTBEAT)"); return; }
        _hbNonce = (ulong)_random.NextInt64();
        var info = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(info, _now);
        BinaryPrimitives.WriteUInt64BigEndian(info.AsSpan(8), _hbNonce);
        _hbOutstanding = true;
        _nextHeartbeat = _now + (long)_o.HeartbeatInterval.TotalMicroseconds + _rto;
        _control.Add(new HeartbeatChunk(false, info));
    }

    private void OnHeartbeatAck(HeartbeatChunk hb)
    {
        if (hb.Info.Length != 16 || BinaryPrimitives.ReadUInt64BigEndian(hb.Info.AsSpan(8)) != _hbNonce || !_hbOutstanding) return;
        _hbOutstanding = false;
        _errorCount = 0;
        UpdateRto(_now - BinaryPrimitives.ReadInt64BigEndian(hb.Info));
    }

    private void Terminate(string reason)
    {
        if (_terminated) return;
        _terminated = true;
        State = SctpState.Closed;
        ClearTimers();
        Closed?.Invoke(reason);
    }

    private void ClearTimers() => _t1 = _t2 = _t3 = _reconfigTimer = _delayedAck = 0;

    // ------------------------------------------------------------------ output

    private void SendAlone(SctpChunk chunk, uint tag)
    {
        var bytes = new byte[SctpPacket.HeaderLength + chunk.PaddedLength];
        SctpPacket.WriteHeader(bytes, new SctpCommonHeader(_o.LocalPort, _o.RemotePort, tag));
        chunk.WriteTo(bytes.AsSpan(SctpPacket.HeaderLength));
        SctpPacket.SealChecksum(bytes);
        Output?.Invoke(bytes);
    }

    /// <summary>Bundles chunks into packets of at most one MTU.</summary>
    private struct PacketBuilder(SctpAssociation owner)
    {
        private byte[]? _buffer;
        private int _length;

        public void Add(SctpChunk chunk)
        {
            var need = chunk.PaddedLength;
            if (_buffer is not null && _length + need > _buffer.Length) Finish();
            if (_buffer is null)
            {
                _buffer = new byte[Math.Max(owner._mtu, SctpPacket.HeaderLength + need)];
                _length = SctpPacket.HeaderLength;
            }
            _length += chunk.WriteTo(_buffer.AsSpan(_length));
        }

        public void Finish()
        {
            if (_buffer is null) return;
            var packet = _buffer.AsSpan(0, _length);
            SctpPacket.WriteHeader(packet, new SctpCommonHeader(owner._o.LocalPort, owner._o.RemotePort, owner._peerTag));
            SctpPacket.SealChecksum(packet);
            var bytes = _buffer.AsMemory(0, _length);
            _buffer = null;
            owner.Output?.Invoke(bytes);
        }
    }

    private sealed class OutMessage(ushort streamId, uint ppid, byte[] data, bool unordered, int? maxRetransmits, long expiresAt)
    {
        public ushort StreamId { get; } = streamId;
        public uint Ppid { get; } = ppid;
        public byte[] Data { get; } = data;
        public bool Unordered { get; } = unordered;
        public int? MaxRetransmits { get; } = maxRetransmits;
        public long ExpiresAt { get; } = expiresAt;
        public bool IsPartiallyReliable => MaxRetransmits is not null || ExpiresAt != long.MaxValue;
        public bool Abandoned { get; set; }
        public List<OutChunk> Chunks { get; } = new(1);
        public int Remaining { get; set; }
        public bool Finished => Remaining == 0;
        public void Done() => Remaining--;
    }

    private sealed class OutChunk(OutMessage message, uint tsn, ushort ssn, ReadOnlyMemory<byte> data, bool beginning, bool ending)
    {
        public OutMessage Message { get; } = message;
        public uint Tsn { get; } = tsn;
        public ushort Ssn { get; } = ssn;
        public ReadOnlyMemory<byte> Data { get; } = data;
        public int Length => Data.Length;
        public bool Beginning { get; } = beginning;
        public bool Ending { get; } = ending;
        public int SendCount;
        public long SentAt;
        public bool InFlight, Acked, Abandoned, Retransmit, Fast, FastRetransmitted;
        public int Misses;
    }

    private sealed class InStream
    {
        public ushort NextSsn;
        public readonly Dictionary<ushort, SctpMessage?> Ready = new();
    }

    private sealed record DeferredReset(uint RequestSequence, uint LastTsn, ushort[] Streams);
}

/// <summary>Serial number arithmetic (RFC 1982) for TSNs and SSNs.</summary>
internal static class Serial
{
    public static bool Lt(uint a, uint b) => (int)(a - b) < 0;
    public static bool Gt(uint a, uint b) => (int)(a - b) > 0;
    public static bool Lt16(ushort a, ushort b) => (short)(a - b) < 0;
    public static bool Gt16(ushort a, ushort b) => (short)(a - b) > 0;
}
