namespace Hibari.Rtc.Rtp;

/// <summary>
/// Reception statistics of one incoming SSRC, as RFC 3550 Appendix A.1 (sequence validation with probation, wrap
/// cycles, resync after a large jump), A.3 (expected/lost/fraction lost) and A.8 (interarrival jitter), plus LSR/DLSR
/// from the last sender report. Times are µs on the caller's clock. Not thread-safe: one receive loop owns it.
/// </summary>
public sealed class ReceiveStatistics
{
    public const int MaxDropout = 3000;
    public const int MaxMisorder = 100;
    public const int MinSequential = 2;
    private const uint SequenceModulo = 1 << 16;

    private readonly int _clockRate;
    private ushort _maxSeq;
    private uint _cycles;
    private uint _baseSeq;
    private uint _badSeq = SequenceModulo + 1;
    private int _probation = MinSequential;
    private uint _received;
    private uint _expectedPrior;
    private uint _receivedPrior;
    private bool _initialized;

    private long _lastTransit;
    private bool _hasTransit;
    private long _jitterQ4; // jitter · 16, in RTP clock units (A.8 integer form)

    private uint _lastSenderReport;
    private long _lastSenderReportArrival;
    private bool _hasSenderReport;

    public ReceiveStatistics(uint ssrc, int clockRate)
    {
        Ssrc = ssrc;
        _clockRate = clockRate > 0 ? clockRate : 90_000;
    }

    public uint Ssrc { get; }
    /// <summary>Packets accepted (after probation), including duplicates and retransmissions, as A.1 counts them.</summary>
    public uint PacketsReceived => _received;
    public uint ExtendedHighestSequenceNumber => _cycles + _maxSeq;
    /// <summary>Interarrival jitter in RTP timestamp units.</summary>
    public uint Jitter => (uint)(_jitterQ4 >> 4);
    public long CumulativeLost => (long)ExtendedHighestSequenceNumber - _baseSeq + 1 - _received;

    /// <summary>
    /// Accounts one packet. False while the source is on probation or for a packet treated as bad (a jump over
    /// <see cref="MaxDropout"/> not yet confirmed by the next one); such packets should not be forwarded as in-order media.
    /// </summary>
    public bool OnPacket(ushort sequenceNumber, uint rtpTimestamp, long arrivalMicros)
    {
        if (!_initialized)
        {
            _initialized = true;
            InitSequence(sequenceNumber);
            _maxSeq = (ushort)(sequenceNumber - 1);
            _probation = MinSequential;
        }

        var advanced = false;
        var udelta = (ushort)(sequenceNumber - _maxSeq);
        if (_probation > 0)
        {
            // A.1: a source is valid once MIN_SEQUENTIAL packets arrive in sequence.
            if (sequenceNumber == (ushort)(_maxSeq + 1))
            {
                _probation--;
                _maxSeq = sequenceNumber;
                if (_probation == 0)
                {
                    InitSequence(sequenceNumber);
                    _received++;
                    UpdateJitter(rtpTimestamp, arrivalMicros);
                    return true;
                }
            }
            else
            {
                _probation = MinSequential - 1;
                _maxSeq = sequenceNumber;
            }
            return false;
        }
        if (udelta < MaxDropout)
        {
            if (sequenceNumber < _maxSeq) _cycles += SequenceModulo; // wrapped
            _maxSeq = sequenceNumber;
            advanced = udelta != 0;
        }
        else if (udelta <= SequenceModulo - MaxMisorder)
        {
            // A large jump: resync only if the next packet follows this one (the sender restarted).
            if (sequenceNumber == _badSeq)
            {
                InitSequence(sequenceNumber);
                advanced = true;
            }
            else
            {
                _badSeq = (uint)(sequenceNumber + 1) & (SequenceModulo - 1);
                return false;
            }
        }
        // else: duplicate or reordered within MAX_MISORDER — counted, does not advance.
        _received++;
        // Jitter only from packets that advance the sequence: retransmissions would read as huge transit changes.
        if (advanced) UpdateJitter(rtpTimestamp, arrivalMicros);
        return true;
    }

    /// <summary>Remembers an SR from this source for LSR/DLSR (RFC 3550 §6.4.1).</summary>
    public void OnSenderReport(ulong ntpTimestamp, long arrivalMicros)
    {
        _lastSenderReport = (uint)(ntpTimestamp >> 16);
        _lastSenderReportArrival = arrivalMicros;
        _hasSenderReport = true;
    }

    /// <summary>The report block for an RR/SR now; moves the "since last report" interval for fraction lost (A.3).</summary>
    public ReportBlock CreateReportBlock(long nowMicros)
    {
        var extendedMax = ExtendedHighestSequenceNumber;
        var expected = _initialized && _probation == 0 ? extendedMax - _baseSeq + 1 : 0;
        var lost = (long)expected - _received;
        var expectedInterval = expected - _expectedPrior;
        _expectedPrior = expected;
        var receivedInterval = _received - _receivedPrior;
        _receivedPrior = _received;
        var lostInterval = (long)expectedInterval - receivedInterval;
        var fraction = expectedInterval == 0 || lostInterval <= 0 ? (byte)0 : (byte)Math.Min(255, (lostInterval << 8) / expectedInterval);

        uint dlsr = 0;
        if (_hasSenderReport)
        {
            var elapsed = Math.Max(0, nowMicros - _lastSenderReportArrival);
            dlsr = (uint)Math.Min(uint.MaxValue, elapsed * 65536 / 1_000_000);
        }
        return new ReportBlock(Ssrc, fraction, (int)Math.Clamp(lost, ReportBlock.MinCumulativeLost, ReportBlock.MaxCumulativeLost),
            extendedMax, Jitter, _hasSenderReport ? _lastSenderReport : 0, dlsr);
    }

    private void InitSequence(ushort sequenceNumber)
    {
        _baseSeq = sequenceNumber;
        _maxSeq = sequenceNumber;
        _badSeq = SequenceModulo + 1;
        _cycles = 0;
        _received = 0;
        _receivedPrior = 0;
        _expectedPrior = 0;
    }

    private void UpdateJitter(uint rtpTimestamp, long arrivalMicros)
    {
        // A.8: transit in RTP units; the 32-bit difference handles timestamp wrap.
        // Split so that µs since the Unix epoch times 90 kHz does not overflow 64 bits.
        var arrival = arrivalMicros / 1_000_000 * _clockRate + arrivalMicros % 1_000_000 * _clockRate / 1_000_000;
        var transit = (long)(int)((uint)arrival - rtpTimestamp);
        if (_hasTransit)
        {
            var d = Math.Abs(transit - _lastTransit);
            _jitterQ4 += d - ((_jitterQ4 + 8) >> 4);
        }
        _lastTransit = transit;
        _hasTransit = true;
    }
}
