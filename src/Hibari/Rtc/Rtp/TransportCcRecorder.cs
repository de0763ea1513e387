namespace Hibari.Rtc.Rtp;

/// <summary>
/// Receiver side of transport-wide congestion control: records (transport-wide sequence number, arrival time) of
/// every packet on a transport and writes the feedback packets the sender's bandwidth estimator expects
/// (docs/protocol-notes.md, "Chrome interop checklist" 8). Sequence numbers are unwrapped to 64 bits, so wrap and reordering are handled; a
/// packet arriving after the feedback that covered its number (reported lost) is ignored, as it cannot be
/// re-reported in order. Fixed storage, no allocation after construction. Not thread-safe.
/// </summary>
public sealed class TransportCcRecorder
{
    private readonly long[] _arrivals; // ring indexed by extended seq; NotReceived for gaps
    private readonly long[] _scratch;
    private readonly int _mask;
    private readonly int _maxPacketSize;
    private long _highest = -1;     // highest extended seq recorded
    private long _next = -1;        // first extended seq not yet covered by a feedback packet
    private bool _sentAny;
    private byte _feedbackCount;
    private long _nextDueMicros = long.MinValue;

    /// <param name="capacity">Power of two: how many sequence numbers can wait for feedback.</param>
    /// <param name="maxPacketSize">Upper bound of one feedback packet in bytes (a multiple of 4 is used).</param>
    public TransportCcRecorder(uint senderSsrc, uint mediaSsrc, int capacity = 4096, int maxPacketSize = 1200)
    {
        if (capacity < 16 || (capacity & (capacity - 1)) != 0) capacity = 4096;
        SenderSsrc = senderSsrc;
        MediaSsrc = mediaSsrc;
        _arrivals = new long[capacity];
        _scratch = new long[Math.Min(capacity, TransportCcFeedback.MaxStatusesPerPacket)];
        _arrivals.AsSpan().Fill(TransportCcFeedback.NotReceived);
        _mask = capacity - 1;
        _maxPacketSize = Math.Max(32, maxPacketSize & ~3);
    }

    public uint SenderSsrc { get; }
    /// <summary>Feedback period for <see cref="WriteFeedbackIfDue"/>; libwebrtc sends about every 100 ms.</summary>
    public long IntervalMicros { get; set; } = 100_000;
    /// <summary>The SSRC the feedback names as media source (any of the sender's; Chrome ignores it).</summary>
    public uint MediaSsrc { get; set; }
    public bool HasPending => _next >= 0 && _next <= _highest;

    public void Record(ushort transportSequenceNumber, long arrivalMicros)
    {
        if (arrivalMicros == TransportCcFeedback.NotReceived) return;
        long ext;
        if (_highest < 0)
        {
            ext = transportSequenceNumber;
            _highest = ext;
            _next = ext;
        }
        else
        {
            ext = _highest + (short)(ushort)(transportSequenceNumber - (ushort)_highest);
            if (ext < 0) return;
        }

        if (ext < _next)
        {
            // Before the current window: extend it back only while no feedback covered that number yet.
            if (_sentAny || _highest - ext >= _arrivals.Length) return;
            for (var s = ext; s < _next; s++) _arrivals[s & _mask] = TransportCcFeedback.NotReceived;
            _next = ext;
        }
        else if (ext > _highest)
        {
            if (ext - _next >= _arrivals.Length)
            {
                // Too far ahead of the unreported window: those numbers will never be reported; restart at this one.
                ClearRange(_next, _highest);
                _next = ext;
            }
            else
            {
                for (var s = _highest + 1; s < ext; s++) _arrivals[s & _mask] = TransportCcFeedback.NotReceived;
            }
            _highest = ext;
        }
        _arrivals[ext & _mask] = arrivalMicros;
    }

    /// <summary>
    /// Writes the next feedback packet covering pending numbers into <paramref name="destination"/> (at most the
    /// configured packet size); 0 when nothing is pending or the buffer is too small. Call until it returns 0.
    /// </summary>
    public int WriteFeedback(Span<byte> destination)
    {
        if (!HasPending) return 0;
        // Leading gaps stay in: they tell the sender those packets were lost. The highest number is always received.
        var count = (int)Math.Min(_highest - _next + 1, _scratch.Length);
        for (var i = 0; i < count; i++) _scratch[i] = _arrivals[(_next + i) & _mask];
        var target = destination.Length > _maxPacketSize ? destination[.._maxPacketSize] : destination;
        var written = TransportCcFeedback.Write(target, SenderSsrc, MediaSsrc, (ushort)_next, _scratch.AsSpan(0, count),
            _feedbackCount, out var consumed);
        if (written == 0) return 0;
        ClearRange(_next, _next + consumed - 1);
        _next += consumed;
        _feedbackCount++;
        _sentAny = true;
        return written;
    }

    /// <summary>
    /// Periodic form of <see cref="WriteFeedback"/>: once the interval has passed, writes packets until nothing is
    /// pending (call again with the same time for each further packet), then waits one interval.
    /// </summary>
    public int WriteFeedbackIfDue(long nowMicros, Span<byte> destination)
    {
        if (nowMicros < _nextDueMicros) return 0;
        var written = WriteFeedback(destination);
        if (!HasPending) _nextDueMicros = nowMicros + IntervalMicros;
        return written;
    }

    private void ClearRange(long from, long to)
    {
        for (var s = from; s <= to; s++) _arrivals[s & _mask] = TransportCcFeedback.NotReceived;
    }
}
