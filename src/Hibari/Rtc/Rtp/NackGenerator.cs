namespace Hibari.Rtc.Rtp;

/// <summary>
/// Receiver-side loss recovery toward a publisher (RFC 4585 generic NACK): tracks the missing sequence numbers of one
/// incoming stream and says which to NACK at each <see cref="Poll"/>. Each number is asked for at most
/// <see cref="MaxRetries"/> times, spaced by the RTT estimate; it is dropped when it arrives, when retries run out,
/// or when a key frame arrives after it (the decoder no longer needs it). When more are missing than the list holds,
/// the oldest are dropped and <see cref="KeyFrameNeeded"/> is raised so the caller sends a PLI instead.
/// No timers inside: time is the caller's µs clock. Fixed storage; not thread-safe.
/// </summary>
public sealed class NackGenerator
{
    private struct Entry
    {
        public long Sequence;
        public long DetectedAt;
        public long LastSentAt;
        public int Sent;
    }

    private readonly Entry[] _entries; // ascending by extended sequence number
    private int _count;
    private long _highest = -1;

    public NackGenerator(int maxRetries = 10, int maxMissing = 1000, long rttMicros = 100_000, long firstNackDelayMicros = 0)
    {
        MaxRetries = Math.Max(1, maxRetries);
        _entries = new Entry[Math.Max(1, maxMissing)];
        RttMicros = rttMicros;
        FirstNackDelayMicros = Math.Max(0, firstNackDelayMicros);
    }

    public int MaxRetries { get; }
    /// <summary>Spacing of repeated NACKs for one number; update it from RTCP (RR LSR/DLSR) as it is measured.</summary>
    public long RttMicros { get; set; }
    /// <summary>Grace before the first NACK, to let reordered packets arrive.</summary>
    public long FirstNackDelayMicros { get; }
    public int MissingCount => _count;
    /// <summary>Raised when losses overflowed the list (or the stream jumped); cleared by <see cref="ClearKeyFrameNeeded"/>.</summary>
    public bool KeyFrameNeeded { get; private set; }

    public void ClearKeyFrameNeeded() => KeyFrameNeeded = false;

    public void OnPacket(ushort sequenceNumber, bool isKeyFrame, long nowMicros)
    {
        if (_highest < 0)
        {
            _highest = sequenceNumber + (1L << 16);
            return;
        }
        var ext = _highest + (short)(ushort)(sequenceNumber - (ushort)_highest);

        if (ext > _highest)
        {
            var gap = ext - _highest - 1;
            if (gap > _entries.Length)
            {
                // More lost than could ever be recovered: start over from this packet and ask for a key frame.
                _count = 0;
                KeyFrameNeeded = true;
            }
            else
            {
                for (var s = _highest + 1; s < ext; s++) Add(s, nowMicros);
            }
            _highest = ext;
        }
        else
        {
            Remove(ext); // late or retransmitted
        }

        if (isKeyFrame) RemoveBefore(ext);
    }

    /// <summary>
    /// The numbers to NACK now, oldest first (ready for <see cref="RtcpWriter.WriteNack"/>); how many were written.
    /// Numbers that have been asked for <see cref="MaxRetries"/> times are given up here.
    /// </summary>
    public int Poll(long nowMicros, Span<ushort> destination)
    {
        var written = 0;
        var keep = 0;
        for (var i = 0; i < _count; i++)
        {
            ref var e = ref _entries[i];
            var due = e.Sent == 0
                ? nowMicros - e.DetectedAt >= FirstNackDelayMicros
                : e.Sent < MaxRetries && nowMicros - e.LastSentAt >= RttMicros;
            if (due && written < destination.Length)
            {
                destination[written++] = (ushort)e.Sequence;
                e.Sent++;
                e.LastSentAt = nowMicros;
            }
            // Given up once asked MaxRetries times and one more RTT passed without it.
            var exhausted = e.Sent >= MaxRetries && nowMicros - e.LastSentAt >= RttMicros;
            if (!exhausted) _entries[keep++] = e;
        }
        _count = keep;
        return written;
    }

    private void Add(long sequence, long now)
    {
        if (_count == _entries.Length)
        {
            // Oldest first out: the decoder will need a key frame anyway.
            Array.Copy(_entries, 1, _entries, 0, _count - 1);
            _count--;
            KeyFrameNeeded = true;
        }
        _entries[_count++] = new Entry { Sequence = sequence, DetectedAt = now, LastSentAt = 0, Sent = 0 };
    }

    private void Remove(long sequence)
    {
        var index = Find(sequence);
        if (index < 0) return;
        Array.Copy(_entries, index + 1, _entries, index, _count - index - 1);
        _count--;
    }

    private void RemoveBefore(long sequence)
    {
        var n = 0;
        while (n < _count && _entries[n].Sequence < sequence) n++;
        if (n == 0) return;
        Array.Copy(_entries, n, _entries, 0, _count - n);
        _count -= n;
    }

    private int Find(long sequence)
    {
        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var s = _entries[mid].Sequence;
            if (s == sequence) return mid;
            if (s < sequence) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }
}
