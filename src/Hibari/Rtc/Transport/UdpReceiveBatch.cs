using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static Hibari.Rtc.Transport.UdpNative;

namespace Hibari.Rtc.Transport;

/// <summary>
/// Receives up to <see cref="Capacity"/> waiting datagrams of one UDP socket at once: one recvmmsg(2) with
/// MSG_DONTWAIT on 64-bit Linux, <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> while
/// <see cref="Socket.Available"/> says more is queued elsewhere. <see cref="Receive"/> never waits: the caller waits
/// for readability itself (poll, <see cref="Socket.Poll(int, SelectMode)"/>, Select).
/// <para>
/// After <see cref="Receive"/> returns n, datagram i (0 ≤ i &lt; n) is <see cref="Datagram"/>(i), writable in place
/// (decrypt there), and came from <see cref="Source"/>(i). Both stay valid until the next <see cref="Receive"/>; the
/// source SocketAddress objects are reused, so copy one that must outlive the batch. Datagrams longer than the slot
/// are dropped and counted in <see cref="Truncated"/>. Nothing allocates after construction. Not thread-safe.
/// </para>
/// </summary>
public sealed unsafe class UdpReceiveBatch
{
    public const int DefaultSlotSize = 2048;

    private static int s_nativeBroken, s_loggedFallback;

    private readonly Socket _socket;
    private readonly ILogger _log;
    private readonly int _capacity, _slotSize, _stride;
    private readonly byte[] _slots;          // pinned: capacity × stride (stride ≥ slotSize + 1: the portable path sees overlong)
    private readonly byte* _slotBase;
    private readonly MMsgHdr[] _messages;    // pinned
    private readonly IoVec[] _iov;           // pinned
    private readonly byte[] _addresses;      // pinned: capacity × SockaddrStride
    private readonly MMsgHdr* _msgBase;
    private readonly byte* _addrBase;
    private readonly SocketAddress[] _sources;
    private readonly int[] _index, _length;
    private bool _native;
    private int _count;
    private long _received, _bytes, _syscalls, _truncated, _errors;

    /// <param name="socket">A bound UDP socket; the batch does not own it.</param>
    /// <param name="capacity">Datagrams per <see cref="Receive"/> (1–1024).</param>
    /// <param name="slotSize">The longest datagram kept (at least 1,600); longer ones are dropped.</param>
    /// <param name="portable">Never use recvmmsg (tests; other platforms get the portable path anyway).</param>
    public UdpReceiveBatch(Socket socket, int capacity = 64, int slotSize = DefaultSlotSize, bool portable = false, ILogger? log = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, 1024);
        ArgumentOutOfRangeException.ThrowIfLessThan(slotSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slotSize, 65_536);
        _socket = socket;
        _log = log ?? NullLogger.Instance;
        _capacity = capacity;
        _slotSize = slotSize;
        _stride = (slotSize + 1 + 63) & ~63;
        _slots = GC.AllocateArray<byte>(capacity * _stride, pinned: true);
        _messages = GC.AllocateArray<MMsgHdr>(capacity, pinned: true);
        _iov = GC.AllocateArray<IoVec>(capacity, pinned: true);
        _addresses = GC.AllocateArray<byte>(capacity * SockaddrStride, pinned: true);
        _slotBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_slots));
        _msgBase = (MMsgHdr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_messages));
        var iovBase = (IoVec*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_iov));
        _addrBase = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_addresses));
        _sources = new SocketAddress[capacity];
        _index = new int[capacity];
        _length = new int[capacity];
        for (var i = 0; i < capacity; i++)
        {
            _sources[i] = new SocketAddress(socket.AddressFamily);
            iovBase[i].Base = _slotBase + (nint)i * _stride;
            iovBase[i].Length = (nuint)slotSize;
            _msgBase[i].Header.Iov = iovBase + i;
            _msgBase[i].Header.IovLength = 1;
            _msgBase[i].Header.Name = _addrBase + i * SockaddrStride;
        }
        _native = !portable && Supported && Volatile.Read(ref s_nativeBroken) == 0;
    }

    public Socket Socket => _socket;
    public int Capacity => _capacity;
    public int SlotSize => _slotSize;
    /// <summary>True while recvmmsg is in use (false: Socket.ReceiveFrom per datagram).</summary>
    public bool IsNative => _native;
    /// <summary>Datagrams of the last <see cref="Receive"/>.</summary>
    public int Count => _count;

    public long DatagramsReceived => Volatile.Read(ref _received);
    public long BytesReceived => Volatile.Read(ref _bytes);
    /// <summary>recvmmsg or recvfrom calls made (including ones that found nothing).</summary>
    public long SystemCalls => Volatile.Read(ref _syscalls);
    /// <summary>Datagrams longer than <see cref="SlotSize"/>: dropped.</summary>
    public long Truncated => Volatile.Read(ref _truncated);
    /// <summary>Failed receive calls other than "nothing waiting" (e.g. an ICMP error reported on the socket).</summary>
    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Datagram <paramref name="index"/> of the last <see cref="Receive"/> (its buffer: may be changed in place).</summary>
    public Span<byte> Datagram(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        return new Span<byte>(_slotBase + (nint)_index[index] * _stride, _length[index]);
    }

    /// <summary>Where datagram <paramref name="index"/> came from (reused by the next <see cref="Receive"/>).</summary>
    public SocketAddress Source(int index)
    {
        if ((uint)index >= (uint)_count) throw new ArgumentOutOfRangeException(nameof(index));
        return _sources[_index[index]];
    }

    /// <summary>
    /// Takes up to <see cref="Capacity"/> datagrams that are already queued, without waiting; returns how many were
    /// kept (0: nothing was queued, or only overlong datagrams). Throws only <see cref="ObjectDisposedException"/>.
    /// </summary>
    public int Receive()
    {
        _count = 0;
        return _native ? ReceiveNative() : ReceivePortable();
    }

    private int ReceiveNative()
    {
        var handle = _socket.SafeHandle;
        var added = false;
        handle.DangerousAddRef(ref added); // ObjectDisposedException when closed
        try
        {
            var fd = (int)handle.DangerousGetHandle();
            for (var i = 0; i < _capacity; i++)
            {
                _msgBase[i].Header.NameLength = SockaddrMax;
                _msgBase[i].Header.Flags = 0;
                _msgBase[i].Length = 0;
            }
            int n;
            while (true)
            {
                try
                {
                    n = RecvMMsg(fd, _msgBase, (uint)_capacity, MSG_DONTWAIT, null);
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    SwitchToPortable(e.Message);
                    return ReceivePortable();
                }
                _syscalls++;
                if (n >= 0) break;
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR) continue;
                if (errno == EAGAIN) return 0;
                if (errno == ENOSYS)
                {
                    SwitchToPortable("recvmmsg: ENOSYS");
                    return ReceivePortable();
                }
                _errors++;
                return 0;
            }
            var kept = 0;
            for (var k = 0; k < n; k++)
            {
                ref var m = ref _msgBase[k];
                if ((m.Header.Flags & MSG_TRUNC) != 0 || m.Length > (uint)_slotSize)
                {
                    _truncated++;
                    continue;
                }
                var source = _sources[k];
                var nameLength = (int)m.Header.NameLength;
                if (nameLength > SockaddrMax || nameLength > source.Buffer.Length)
                {
                    _errors++;
                    continue;
                }
                new ReadOnlySpan<byte>(_addrBase + k * SockaddrStride, nameLength).CopyTo(source.Buffer.Span);
                source.Size = nameLength;
                _index[kept] = k;
                _length[kept] = (int)m.Length;
                kept++;
                _received++;
                _bytes += m.Length;
            }
            _count = kept;
            return kept;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private int ReceivePortable()
    {
        var kept = 0;
        for (var k = 0; k < _capacity; k++)
        {
            if (_socket.Available == 0) break;
            int n;
            _syscalls++;
            try
            {
                // One byte more than a slot holds: a datagram that fills it was too long.
                n = _socket.ReceiveFrom(new Span<byte>(_slotBase + (nint)k * _stride, _slotSize + 1), SocketFlags.None, _sources[k]);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
            {
                _truncated++;
                continue;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                break;
            }
            catch (SocketException)
            {
                _errors++;
                continue;
            }
            if (n > _slotSize)
            {
                _truncated++;
                continue;
            }
            _index[kept] = k;
            _length[kept] = n;
            kept++;
            _received++;
            _bytes += n;
        }
        _count = kept;
        return kept;
    }

    private void SwitchToPortable(string why)
    {
        _native = false;
        Volatile.Write(ref s_nativeBroken, 1);
        if (Interlocked.Exchange(ref s_loggedFallback, 1) == 0)
            _log.LogWarning("UDP receive batch: recvmmsg unavailable ({Reason}); receiving one datagram per recvfrom", why);
    }
}
