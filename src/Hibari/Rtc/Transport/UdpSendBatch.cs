using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Hibari.Rtc.Transport.UdpNative;

namespace Hibari.Rtc.Transport;

/// <summary>
/// A reusable batch of outgoing datagrams for one UDP socket, sent with as few system calls as possible: sendmmsg(2)
/// on 64-bit Linux, <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/> per datagram
/// elsewhere (or when the native call is missing: the batch switches once and logs it).
/// <para>
/// The hot path writes each packet straight into a slot of one pinned buffer and then commits it with its destination:
/// <code>
/// var slot = batch.NextSlot();
/// int n = Encrypt(packet, slot);
/// batch.Commit(n, subscriber.Address);   // sends the whole batch when it is full
/// ...
/// batch.Flush();                         // at the end of the receive batch that produced these packets
/// </code>
/// Nothing allocates after construction. Send errors never throw: datagrams that could not be sent are counted in
/// <see cref="Errors"/> (UDP is lossy anyway). Not thread-safe: one owner thread (e.g. the media thread).
/// </para>
/// <para>
/// With <c>gso</c> on (Linux UDP generic segmentation offload, UDP_SEGMENT), <see cref="Flush"/> groups the
/// datagrams of the batch by destination (keeping each destination's order) and sends each run of equal-size datagrams
/// to the same destination (the last one may be shorter) as one message with a UDP_SEGMENT control message; the
/// kernel (or the NIC) cuts it back into the original datagrams. If the kernel refuses GSO the batch turns it off
/// and sends the same datagrams without it. See bench/Hibari.Bench/UDP-BATCH.md for what it gains.
/// </para>
/// </summary>
public sealed unsafe class UdpSendBatch
{
    /// <summary>Bytes per slot: the largest datagram <see cref="Commit"/> accepts.</summary>
    public const int SlotSize = 2048;
    /// <summary>At most this many datagrams go into one GSO message (the kernel's UDP_MAX_SEGMENTS is 64 or more).</summary>
    public const int MaxGsoSegments = 64;
    /// <summary>At most this many payload bytes go into one GSO message (a UDP length field holds 65,535 with headers).</summary>
    public const int MaxGsoBytes = 65_000;

    private static int s_nativeBroken;   // process-wide: the entry point is missing, use the portable path
    private static int s_loggedFallback, s_loggedGso;

    private readonly Socket _socket;
    private readonly ILogger _log;
    private readonly int _capacity;
    private readonly byte[] _slots;              // pinned: capacity × SlotSize
    private readonly byte* _slotBase;
    private readonly MMsgHdr[] _messages;        // pinned
    private readonly IoVec[] _iov;               // pinned, in message order
    private readonly byte[] _addresses;          // pinned: capacity × SockaddrStride, zero-padded copies
    private readonly byte[] _control;            // pinned: capacity × CmsgSpaceU16
    private readonly MMsgHdr* _msgBase;
    private readonly IoVec* _iovBase;
    private readonly byte* _addrBase;
    private readonly byte* _controlBase;
    private readonly int[] _length, _addressLength;
    private readonly int[] _order, _messageStart, _messageSegments;
    // GSO grouping (destination → its latest run), rebuilt at every flush.
    private readonly int[] _table, _runHead, _runTail, _runCount, _runBytes, _runSize, _next;
    private readonly bool[] _runOpen;
    private readonly SocketAddress _scratch = new(AddressFamily.InterNetworkV6, SockaddrMax);
    private bool _native, _gso;
    private int _count;
    private long _sent, _bytes, _syscalls, _errors, _messagesSent, _gsoMessages;

    /// <param name="socket">A bound UDP socket; the batch does not own it.</param>
    /// <param name="capacity">Datagrams per batch (1–1024); <see cref="Commit"/> flushes when it is reached.</param>
    /// <param name="gso">Merge runs of equal-size datagrams to one destination into UDP_SEGMENT messages (Linux).</param>
    /// <param name="portable">Never use sendmmsg: Socket.SendTo per datagram (tests; other platforms get it anyway).</param>
    public UdpSendBatch(Socket socket, int capacity = 64, bool gso = false, bool portable = false, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1024);
        _socket = socket;
        _log = log ?? NullLogger.Instance;
        _capacity = capacity;
        _slots = GC.AllocateArray<byte>(capacity * SlotSize, pinned: true);
        _messages = GC.AllocateArray<MMsgHdr>(capacity, pinned: true);
        _iov = GC.AllocateArray<IoVec>(capacity, pinned: true);
        _addresses = GC.AllocateArray<byte>(capacity * SockaddrStride, pinned: true);
        _control = GC.AllocateArray<byte>(capacity * CmsgSpaceU16, pinned: true);
        _slotBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slots));
        _msgBase = (MMsgHdr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_messages));
        _iovBase = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iov));
        _addrBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_addresses));
        _controlBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_control));
        _length = new int[capacity];
        _addressLength = new int[capacity];
        _order = new int[capacity];
        _messageStart = new int[capacity];
        _messageSegments = new int[capacity];
        _table = new int[(int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2)];
        _runHead = new int[capacity];
        _runTail = new int[capacity];
        _runCount = new int[capacity];
        _runBytes = new int[capacity];
        _runSize = new int[capacity];
        _next = new int[capacity];
        _runOpen = new bool[capacity];
        _native = !portable && Supported && Volatile.Read(ref s_nativeBroken) == 0;
        _gso = gso && _native;
    }

    public Socket Socket => _socket;
    public int Capacity => _capacity;
    /// <summary>Datagrams committed and not yet sent.</summary>
    public int Count => _count;
    /// <summary>True while sendmmsg is in use (false: Socket.SendTo per datagram).</summary>
    public bool IsNative => _native;
    /// <summary>True while GSO merging is on (asked for, and not refused by the kernel so far).</summary>
    public bool GsoEnabled => _gso;

    /// <summary>Datagrams the kernel accepted (a GSO message counts as its segments).</summary>
    public long DatagramsSent => Volatile.Read(ref _sent);
    public long BytesSent => Volatile.Read(ref _bytes);
    /// <summary>sendmmsg or sendto calls made (including ones that failed).</summary>
    public long SystemCalls => Volatile.Read(ref _syscalls);
    /// <summary>Datagrams not sent: refused by the kernel, dropped when the send buffer stayed full, socket closed.</summary>
    public long Errors => Volatile.Read(ref _errors);
    /// <summary>Messages the kernel accepted: one per datagram, or one per GSO run.</summary>
    public long MessagesSent => Volatile.Read(ref _messagesSent);
    /// <summary>Messages sent with a UDP_SEGMENT control message (two datagrams or more each).</summary>
    public long GsoMessages => Volatile.Read(ref _gsoMessages);

    /// <summary>The next free slot (<see cref="SlotSize"/> bytes): write the datagram here, then <see cref="Commit"/>.</summary>
    public Span<byte> NextSlot()
    {
        if (_count == _capacity) Flush();
        return new Span<byte>(_slotBase + (nint)_count * SlotSize, SlotSize);
    }

    /// <summary>
    /// Adds the datagram written into <see cref="NextSlot"/> (its first <paramref name="length"/> bytes) for
    /// <paramref name="to"/> (AF_INET or AF_INET6, copied: the caller may reuse it at once). Sends the batch when full.
    /// </summary>
    public void Commit(int length, SocketAddress to)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, SlotSize);
        ArgumentNullException.ThrowIfNull(to);
        var size = to.Size;
        if (size <= 0 || size > SockaddrMax) throw new ArgumentException($"socket address of {size} bytes: not IPv4 or IPv6", nameof(to));
        var i = _count;
        var address = new Span<byte>(_addrBase + i * SockaddrStride, SockaddrStride);
        to.Buffer.Span[..size].CopyTo(address);
        address[size..].Clear();
        _addressLength[i] = size;
        _length[i] = length;
        _count = i + 1;
        if (_count == _capacity) Flush();
    }

    /// <summary>Copies <paramref name="datagram"/> into the next slot and commits it.</summary>
    public void Add(ReadOnlySpan<byte> datagram, SocketAddress to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(datagram.Length, SlotSize);
        datagram.CopyTo(NextSlot());
        Commit(datagram.Length, to);
    }

    /// <summary>Sends every committed datagram; returns how many the kernel accepted. Never throws for send errors.</summary>
    public int Flush()
    {
        var count = _count;
        if (count == 0) return 0;
        _count = 0; // whatever happens below, the slots are free again
        var before = _sent;
        if (_native) SendNative(count);
        else SendPortable(0, count, identity: true);
        return (int)(_sent - before);
    }

    private void SendNative(int count)
    {
        var messages = _gso ? BuildGso(count) : BuildPlain(0, 0, count);
        var handle = _socket.SafeHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            _errors += count;
            return;
        }
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            var m = 0;
            var waits = 0;
            while (m < messages)
            {
                int sent;
                try
                {
                    if (SimulateMissingEntryPoint) throw new EntryPointNotFoundException("simulated (test)");
                    sent = SendMMsg(fd, _msgBase + m, (uint)(messages - m), 0);
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    SwitchToPortable(e.Message);
                    SendPortable(_messageStart[m], count, identity: false);
                    return;
                }
                _syscalls++;
                if (sent > 0)
                {
                    for (var k = m; k < m + sent; k++)
                    {
                        _sent += _messageSegments[k];
                        _bytes += _msgBase[k].Length;
                        _messagesSent++;
                        if (_messageSegments[k] > 1) _gsoMessages++;
                    }
                    m += sent;
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case EINTR:
                        continue;
                    case EAGAIN:
                        // A non-blocking socket with a full send buffer: wait a little for room, then give up (lossy).
                        if (++waits <= 5 && WaitWritable()) continue;
                        for (var k = m; k < messages; k++) _errors += _messageSegments[k];
                        return;
                    case ENOSYS:
                        SwitchToPortable("sendmmsg: ENOSYS");
                        SendPortable(_messageStart[m], count, identity: false);
                        return;
                    case EIO or EINVAL or ENOPROTOOPT or EOPNOTSUPP when _messageSegments[m] > 1:
                        // The kernel or the route refuses UDP_SEGMENT (e.g. no checksum offload: EIO). Turn GSO off
                        // and send the rest one datagram per message.
                        _gso = false;
                        if (Interlocked.Exchange(ref s_loggedGso, 1) == 0)
                            _log.LogWarning("UDP send batch: the kernel refused a UDP_SEGMENT message (errno {Errno}); GSO off", errno);
                        messages = BuildPlain(m, _messageStart[m], count);
                        continue;
                    default:
                        // This message is refused (no route, EACCES, EMSGSIZE...): count it and go on with the next.
                        _errors += _messageSegments[m];
                        m++;
                        continue;
                }
            }
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private bool WaitWritable()
    {
        try { return _socket.Poll(1_000, SelectMode.SelectWrite); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return false; }
    }

    /// <summary>Tests: the next sendmmsg fails as if libc had no such entry point (this batch only, not process-wide).</summary>
    internal bool SimulateMissingEntryPoint { get; set; }

    private void SwitchToPortable(string why)
    {
        _native = false;
        _gso = false;
        if (!SimulateMissingEntryPoint) Volatile.Write(ref s_nativeBroken, 1);
        if (Interlocked.Exchange(ref s_loggedFallback, 1) == 0)
            _log.LogWarning("UDP send batch: sendmmsg unavailable ({Reason}); sending one datagram per sendto", why);
    }

    /// <summary>Sends order positions [from, count) one sendto each (positions are slots when <paramref name="identity"/>).</summary>
    private void SendPortable(int from, int count, bool identity)
    {
        for (var p = from; p < count; p++)
        {
            var slot = identity ? p : _order[p];
            var size = _addressLength[slot];
            new ReadOnlySpan<byte>(_addrBase + slot * SockaddrStride, size).CopyTo(_scratch.Buffer.Span);
            _scratch.Size = size;
            var length = _length[slot];
            _syscalls++;
            try
            {
                _socket.SendTo(new ReadOnlySpan<byte>(_slotBase + (nint)slot * SlotSize, length), SocketFlags.None, _scratch);
                _sent++;
                _messagesSent++;
                _bytes += length;
            }
            catch (SocketException)
            {
                _errors++;
            }
            catch (ObjectDisposedException)
            {
                _errors += count - p;
                return;
            }
        }
    }

    /// <summary>One message per datagram for order positions [position, count), written from message index <paramref name="message"/>.</summary>
    private int BuildPlain(int message, int position, int count)
    {
        if (position == 0)
            for (var p = 0; p < count; p++) _order[p] = p;
        for (var p = position; p < count; p++, message++)
        {
            var slot = _order[p];
            SetIov(p, slot);
            SetMessage(message, p, 1);
        }
        return message;
    }

    /// <summary>Groups slots into runs (same destination, equal sizes, the last may be shorter) and builds one message per run.</summary>
    private int BuildGso(int count)
    {
        Array.Clear(_table);
        var mask = _table.Length - 1;
        var runs = 0;
        for (var i = 0; i < count; i++)
        {
            var a = (ulong*)(_addrBase + i * SockaddrStride);
            var h = (int)(Hash(a) & (ulong)mask);
            var run = -1;
            while (_table[h] != 0)
            {
                var r = _table[h] - 1;
                if (SameAddress(a, (ulong*)(_addrBase + _runHead[r] * SockaddrStride)) && _addressLength[_runHead[r]] == _addressLength[i])
                {
                    run = r;
                    break;
                }
                h = (h + 1) & mask;
            }
            var length = _length[i];
            if (run >= 0 && _runOpen[run] && _runCount[run] < MaxGsoSegments && length <= _runSize[run] && length > 0
                && _runBytes[run] + length <= MaxGsoBytes)
            {
                _next[_runTail[run]] = i;
                _runTail[run] = i;
                _runCount[run]++;
                _runBytes[run] += length;
                if (length < _runSize[run]) _runOpen[run] = false;
                continue;
            }
            run = runs++;
            _runHead[run] = _runTail[run] = i;
            _runCount[run] = 1;
            _runBytes[run] = _runSize[run] = length;
            _runOpen[run] = length > 0;
            _table[h] = run + 1;
        }
        var position = 0;
        for (var r = 0; r < runs; r++)
        {
            var start = position;
            for (int slot = _runHead[r], k = 0; k < _runCount[r]; k++, slot = _next[slot])
            {
                _order[position] = slot;
                SetIov(position, slot);
                position++;
            }
            SetMessage(r, start, _runCount[r]);
            if (_runCount[r] > 1)
            {
                var cmsg = (CmsgHdr*)(_controlBase + r * CmsgSpaceU16);
                cmsg->Length = CmsgLenU16;
                cmsg->Level = SOL_UDP;
                cmsg->Type = UDP_SEGMENT;
                *(ushort*)(cmsg + 1) = (ushort)_runSize[r];
                _msgBase[r].Header.Control = (byte*)cmsg;
                _msgBase[r].Header.ControlLength = CmsgSpaceU16;
            }
        }
        return runs;
    }

    private void SetIov(int position, int slot)
    {
        _iovBase[position].Base = _slotBase + (nint)slot * SlotSize;
        _iovBase[position].Length = (nuint)_length[slot];
    }

    private void SetMessage(int message, int position, int segments)
    {
        var head = _order[position];
        ref var h = ref _msgBase[message].Header;
        h.Name = _addrBase + head * SockaddrStride;
        h.NameLength = (uint)_addressLength[head];
        h.Iov = _iovBase + position;
        h.IovLength = (nuint)segments;
        h.Control = null;
        h.ControlLength = 0;
        h.Flags = 0;
        _msgBase[message].Length = 0;
        _messageStart[message] = position;
        _messageSegments[message] = segments;
    }

    private static ulong Hash(ulong* a)
    {
        var h = (a[0] * 0x9E3779B97F4A7C15UL) ^ a[1];
        h = (h * 0x9E3779B97F4A7C15UL) ^ a[2];
        h = (h * 0x9E3779B97F4A7C15UL) ^ a[3];
        h *= 0x9E3779B97F4A7C15UL;
        return h ^ (h >> 29);
    }

    private static bool SameAddress(ulong* a, ulong* b) => a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}
