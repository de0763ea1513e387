using System.Buffers;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Recently sent packets of one outgoing stream, for answering NACKs (via RTX, docs/protocol-notes.md, "SRTP rules"). A ring of
/// fixed slots backed by one pooled buffer rented at construction: storing never allocates. Slots remember the
/// 64-bit extended sequence number, so a lookup returns only the exact packet asked for — never one that reused the
/// slot or the 16-bit number after a wrap. Not thread-safe.
/// </summary>
public sealed class RtpPacketCache : IDisposable
{
    private readonly int _capacity;
    private readonly int _slotSize;
    private readonly int _mask;
    private byte[]? _buffer;
    private readonly int[] _lengths;
    private readonly long[] _sequences;
    private long _highest = -1;

    /// <param name="capacity">Slots, a power of two (512 or 1024 suit video at a few hundred packets per second).</param>
    /// <param name="maxPacketSize">Longest packet kept; longer ones are not stored.</param>
    public RtpPacketCache(int capacity = 1024, int maxPacketSize = 1500)
    {
        if (capacity < 1 || (capacity & (capacity - 1)) != 0) capacity = 1024;
        _capacity = capacity;
        _mask = capacity - 1;
        _slotSize = Math.Max(RtpHeader.FixedLength, maxPacketSize);
        _buffer = ArrayPool<byte>.Shared.Rent(capacity * _slotSize);
        _lengths = new int[capacity];
        _sequences = new long[capacity];
        _sequences.AsSpan().Fill(-1);
    }

    public int Capacity => _capacity;

    /// <summary>Stores a packet under its RTP sequence number; false when too long, too old, or disposed.</summary>
    public bool Store(ushort sequenceNumber, ReadOnlySpan<byte> packet)
    {
        if (_buffer is null || packet.Length > _slotSize || packet.IsEmpty) return false;
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
        packet.CopyTo(_buffer.AsSpan(slot * _slotSize, _slotSize));
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
        packet = _buffer.AsSpan(slot * _slotSize, _lengths[slot]);
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
