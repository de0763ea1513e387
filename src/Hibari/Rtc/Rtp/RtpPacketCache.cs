using System.Buffers;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Recently sent packets of one outgoing stream, for answering NACKs (via RTX, docs/protocol-notes.md, "SRTP rules"). The
/// packets' bytes sit one after another in a ring of bytes (one pooled buffer, rented at construction: storing never
/// allocates), so the memory follows the stream's bitrate rather than slots × the longest packet; an index of slots by
/// sequence number says where each one is. A packet is returned only while both still hold it: its slot (the last
/// <c>capacity</c> sequence numbers, remembered as 64-bit extended numbers, so never one that reused the slot or the 16-bit
/// number after a wrap) and the byte ring (not yet overwritten by newer packets). Not thread-safe.
/// </summary>
public sealed class RtpPacketCache : IDisposable
{
    private readonly int _capacity;
    private readonly int _maxPacketSize;
    private readonly int _mask;
    private readonly int _ringBytes;
    private byte[]? _buffer;
    private readonly int[] _lengths;
    private readonly long[] _sequences;
    // Where each slot's packet starts in the byte ring, as an absolute position (bytes written since the start).
    private readonly long[] _starts;
    // Absolute position of the next write; a packet at start s is intact while _head <= s + _ringBytes.
    private long _head;
    private long _highest = -1;

    /// <param name="capacity">Slots: how many sequence numbers back a packet may be asked for (a power of two).</param>
    /// <param name="maxPacketSize">Longest packet kept; longer ones are not stored.</param>
    /// <param name="ringBytes">Bytes of packets kept (rounded up to a power of two); by default room for every slot at
    /// <paramref name="maxPacketSize"/>. Less keeps the last <paramref name="ringBytes"/> of the stream.</param>
    public RtpPacketCache(int capacity = 1024, int maxPacketSize = 1500, int ringBytes = 0)
    {
        if (capacity < 1 || (capacity & (capacity - 1)) != 0) capacity = 1024;
        _capacity = capacity;
        _mask = capacity - 1;
        _maxPacketSize = Math.Max(RtpHeader.FixedLength, maxPacketSize);
        var bytes = ringBytes > 0 ? (long)ringBytes : (long)capacity * _maxPacketSize;
        _ringBytes = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Clamp(bytes, 2L * _maxPacketSize, 1L << 26));
        _buffer = ArrayPool<byte>.Shared.Rent(_ringBytes);
        _lengths = new int[capacity];
        _sequences = new long[capacity];
        _starts = new long[capacity];
        _sequences.AsSpan().Fill(-1);
    }

    /// <summary>Bytes of packets the cache holds at most.</summary>
    public int RingBytes => _ringBytes;

    public int Capacity => _capacity;

    /// <summary>Stores a packet under its RTP sequence number; false when too long, too old, or disposed.</summary>
    public bool Store(ushort sequenceNumber, ReadOnlySpan<byte> packet)
    {
        if (_buffer is null || packet.Length > _maxPacketSize || packet.IsEmpty) return false;
        long ext;
        if (_highest < 0) ext = sequenceNumber + (1L << 16); // headroom so packets just before the first still unwrap
        else ext = _highest + (short)(ushort)(sequenceNumber - (ushort)_highest);
        if (_highest >= 0 && _highest - ext >= _capacity) return false;
        if (ext > _highest)
        {
            // Invalidate the slots skipped by a jump so none keeps a packet that now sits out of the window.
            var from = Math.Max(_highest + 1, ext - _capacity + 1);
            for (var s = from; s < ext; s++) _sequences[s & _mask] = -1;
            _highest = ext;
        }
        var slot = (int)(ext & _mask);
        // A packet never straddles the ring's end: it starts again at 0 (the skipped tail counts as written).
        var offset = (int)(_head & (_ringBytes - 1));
        if (offset + packet.Length > _ringBytes) { _head += _ringBytes - offset; offset = 0; }
        packet.CopyTo(_buffer.AsSpan(offset));
        _starts[slot] = _head;
        _head += packet.Length;
        _lengths[slot] = packet.Length;
        _sequences[slot] = ext;
        return true;
    }

    /// <summary>The packet stored with exactly <paramref name="sequenceNumber"/> within the window, if any; the span is valid until the next <see cref="Store"/>.</summary>
    public bool TryGet(ushort sequenceNumber, out ReadOnlySpan<byte> packet)
    {
        packet = default;
        if (_buffer is null || _highest < 0) return false;
        var ext = _highest + (short)(ushort)(sequenceNumber - (ushort)_highest);
        if (ext > _highest || _highest - ext >= _capacity) return false;
        var slot = (int)(ext & _mask);
        if (_sequences[slot] != ext) return false;
        var start = _starts[slot];
        if (_head - start > _ringBytes) return false; // newer packets overwrote its bytes
        packet = _buffer.AsSpan((int)(start & (_ringBytes - 1)), _lengths[slot]);
        return true;
    }

    public void Clear()
    {
        _sequences.AsSpan().Fill(-1);
        _highest = -1;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = null;
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
    }
}
