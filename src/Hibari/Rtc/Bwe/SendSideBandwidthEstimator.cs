using Hibari.Rtc.Rtp;

namespace Hibari.Rtc.Bwe;

/// <summary>
/// Send-side bandwidth estimate for one receiver from its transport-cc feedback, in the spirit of Google congestion
/// control (draft-ietf-rmcat-gcc-02 with libwebrtc goog_cc's send-side changes): a delay-based estimate
/// (<see cref="TrendlineDetector"/> + <see cref="AimdRateControl"/>), a loss-based estimate (draft §6: loss above 10 %
/// cuts by 1 − 0.5·loss, below 2 % allows growth, in between holds), and probe clusters sent at the rate a
/// <see cref="ProbeController"/> asks for, which are the only way the estimate climbs above 1.5 × what was actually
/// received. The estimate is min(delay-based, loss-based) clamped to [min, max]; docs/decisions.md D-38 has the
/// constants and their sources.
/// Sent packets live in a power-of-two ring keyed by the unwrapped transport-wide sequence number, so 16-bit wrap,
/// reordered or duplicated feedback (a status is used once), statuses for numbers never sent or long forgotten
/// (ignored) and malformed feedback (ignored) cost nothing and never throw. No allocation after construction.
/// Not thread-safe: one instance per receiver transport, driven from its send loop.
/// </summary>
public sealed class SendSideBandwidthEstimator
{
    public const int DefaultHistory = 4096;
    public const double LossDecreaseThreshold = 0.10;
    public const double LossIncreaseThreshold = 0.02;
    private const int LossMinPackets = 40;
    private const long LossMinIntervalMicros = 200_000;
    private const long LossDecreaseIntervalMicros = 300_000;
    private const double LossSmoothing = 0.3;
    private const int ProbeMinPackets = 5;
    private const double ProbeMinReceivedShare = 0.8;
    private const double ProbeSuccessShare = 0.85;

    private const byte Unreported = 0, ReportedLost = 1, Received = 2;

    private readonly long _minBps, _maxBps;
    private readonly int _mask;
    private readonly long[] _seq, _sendMicros;
    private readonly int[] _size, _cluster;
    private readonly byte[] _state;
    private readonly long[] _arrivals = new long[TransportCcFeedback.MaxStatusesPerPacket];
    private readonly TrendlineDetector _detector = new();
    private readonly AimdRateControl _delayBased;
    private readonly AckedRateWindow _acked;
    private long _highestSent = -1;

    private long _lossLost, _lossReceived, _lastLossSample = long.MinValue, _lastLossDecrease = long.MinValue;
    private bool _hasLoss;
    private double _rttMicros = 100_000;
    private ProbeCluster _probe;
    private long _probeProtectUntil = long.MinValue;
    private const long ProbeProtectMicros = 300_000;
    private const long ProbeHoldOffAfterOveruseMicros = 1_000_000;

    public SendSideBandwidthEstimator(long initialBps, long minBps, long maxBps, int history = DefaultHistory)
    {
        if (minBps < 1) minBps = 1;
        if (maxBps < minBps) maxBps = minBps;
        if (history < 64 || (history & (history - 1)) != 0) history = DefaultHistory;
        _minBps = minBps;
        _maxBps = maxBps;
        _mask = history - 1;
        _seq = new long[history];
        _seq.AsSpan().Fill(-1);
        _sendMicros = new long[history];
        _size = new int[history];
        _cluster = new int[history];
        _state = new byte[history];
        _acked = new AckedRateWindow(history);
        _delayBased = new AimdRateControl(initialBps, minBps, maxBps);
        LossBasedBps = _delayBased.RateBps;
        EstimateBps = _delayBased.RateBps;
    }

    /// <summary>Probe scheduling for this receiver: the sender asks it for padding and flags probe packets.</summary>
    public ProbeController Probe { get; } = new();
    public long EstimateBps { get; private set; }
    public long AckedBps => _acked.RateBps;
    public double LossFraction { get; private set; }
    public BandwidthUsage Usage => _detector.State;
    /// <summary>The delay detector's slope of the queuing delay and its adaptive threshold (diagnostics, trace replays).</summary>
    public double DelayTrend => _detector.Trend;
    public double DelayThresholdMs => _detector.ThresholdMs;
    public long DelayBasedBps => _delayBased.RateBps;
    public long LossBasedBps { get; private set; }
    /// <summary>Smoothed time from sending a packet to receiving the feedback about it (RTT + feedback interval).</summary>
    public long FeedbackDelayMicros => (long)_rttMicros;
    public long MinBps => _minBps;
    public long MaxBps => _maxBps;

    /// <summary>
    /// Every packet sent to the receiver with a transport-wide sequence number (media, RTX, padding), in send order.
    /// <paramref name="isProbe"/>: sent while <see cref="ProbeController.Probing"/>; it joins that cluster.
    /// </summary>
    public void OnPacketSent(ushort transportSequenceNumber, int sizeBytes, long sendMicros, bool isProbe = false)
    {
        long ext = _highestSent < 0
            ? transportSequenceNumber
            : _highestSent + (short)(ushort)(transportSequenceNumber - (ushort)_highestSent);
        if (ext < 0 || ext <= _highestSent - _seq.Length) return;
        if (ext > _highestSent) _highestSent = ext;
        var slot = (int)(ext & _mask);
        _seq[slot] = ext;
        _sendMicros[slot] = sendMicros;
        _size[slot] = Math.Max(0, sizeBytes);
        _state[slot] = Unreported;
        _cluster[slot] = isProbe ? _probe.OnSent(Probe.ClusterId, _size[slot], sendMicros) : 0;
        if (isProbe) Probe.OnProbePacketSent(_size[slot]);
    }

    /// <summary>One transport-cc feedback packet. Returns true when <see cref="EstimateBps"/> changed.</summary>
    public bool OnFeedback(in TransportCcFeedback feedback, long nowMicros)
    {
        Probe.Advance(nowMicros);
        if (_highestSent < 0 || !feedback.TryDecode(_arrivals, out var count)) return false;
        var before = EstimateBps;
        var baseExt = _highestSent + (short)(ushort)(feedback.BaseSequenceNumber - (ushort)_highestSent);
        long newestSend = long.MinValue;
        for (var i = 0; i < count; i++)
        {
            var ext = baseExt + i;
            if (ext > _highestSent) break;
            if (ext < 0) continue;
            var slot = (int)(ext & _mask);
            if (_seq[slot] != ext) continue; // never sent, or overwritten long ago
            if (OnStatus(slot, _arrivals[i])) newestSend = Math.Max(newestSend, _sendMicros[slot]);
        }
        if (newestSend != long.MinValue && nowMicros >= newestSend)
            _rttMicros = 0.875 * _rttMicros + 0.125 * Math.Min(nowMicros - newestSend, 5_000_000);

        var usage = DelayUsage(nowMicros);
        if (usage == BandwidthUsage.Overusing) Probe.HoldOff(nowMicros + ProbeHoldOffAfterOveruseMicros);
        _delayBased.Update(usage, AckedBps, (long)_rttMicros + 100_000, nowMicros);
        UpdateLossBased(nowMicros);
        EvaluateProbe(nowMicros);
        EstimateBps = Math.Clamp(Math.Min(_delayBased.RateBps, LossBasedBps), _minBps, _maxBps);
        return EstimateBps != before;
    }

    // Over-use while a probe cluster is in flight (or just after it) is charged to the probe: the probe fails and the
    // rate holds instead of being cut, so verifying the next layer never costs the layer the receiver already has.
    // Congestion that persists is still seen once the window has passed (at most a cluster + feedback + 300 ms later).
    private BandwidthUsage DelayUsage(long nowMicros)
    {
        var usage = _detector.State;
        if (usage != BandwidthUsage.Overusing) return usage;
        var inFlight = _probe.Id != 0 && !_probe.Done && (_probe.Reported > 0 || Probe.AwaitingResult);
        if (!inFlight && nowMicros >= _probeProtectUntil) return usage;
        if (!_probe.Done) _probe.Overuse = true;
        return BandwidthUsage.Underusing;
    }

    // One status of a sent packet. A status already reported received is a duplicate; "lost" then "received" is a
    // late packet (counted received). Returns true for a newly received packet.
    private bool OnStatus(int slot, long arrival)
    {
        var state = _state[slot];
        if (arrival == TransportCcFeedback.NotReceived)
        {
            if (state != Unreported) return false;
            _state[slot] = ReportedLost;
            _lossLost++;
            if (_cluster[slot] != 0) _probe.OnReported(_cluster[slot]);
            return false;
        }
        if (state == Received) return false;
        if (state == ReportedLost) _lossLost--;
        else if (_cluster[slot] != 0) _probe.OnReported(_cluster[slot]);
        _state[slot] = Received;
        _lossReceived++;
        _acked.Add(arrival, _size[slot]);
        _detector.OnPacket(_sendMicros[slot], arrival);
        if (_cluster[slot] != 0) _probe.OnReceived(_cluster[slot], _size[slot], arrival);
        return true;
    }

    // draft-ietf-rmcat-gcc-02 §6, over windows of at least 40 packets and 200 ms, smoothed; the loss-based value never
    // exceeds the delay-based one, so "allow increase" follows it at most at 8 %/s (libwebrtc SendSideBandwidthEstimation).
    private void UpdateLossBased(long nowMicros)
    {
        var total = _lossLost + _lossReceived;
        var due = _lastLossSample == long.MinValue || nowMicros - _lastLossSample >= LossMinIntervalMicros
            || nowMicros < _lastLossSample;
        if (total >= LossMinPackets && due)
        {
            var sample = Math.Clamp((double)_lossLost / total, 0, 1);
            LossFraction = _hasLoss ? (1 - LossSmoothing) * LossFraction + LossSmoothing * sample : sample;
            var dt = _hasLoss ? Math.Clamp(nowMicros - _lastLossSample, 0, 1_000_000) / 1e6 : 0;
            _hasLoss = true;
            _lastLossSample = nowMicros;
            _lossLost = _lossReceived = 0;
            var bps = (double)LossBasedBps;
            if (LossFraction > LossDecreaseThreshold)
            {
                if (_lastLossDecrease == long.MinValue || nowMicros - _lastLossDecrease >= LossDecreaseIntervalMicros
                    || nowMicros < _lastLossDecrease)
                {
                    bps = Math.Min(bps, _delayBased.RateBps) * (1 - 0.5 * LossFraction);
                    _lastLossDecrease = nowMicros;
                }
            }
            else if (LossFraction < LossIncreaseThreshold)
            {
                bps = bps * Math.Pow(AimdRateControl.MultiplicativeIncreasePerSecond, dt) + 1000 * dt;
            }
            LossBasedBps = (long)Math.Clamp(bps, _minBps, _maxBps);
        }
        if (total < 0 || total > 1_000_000) _lossLost = _lossReceived = 0; // garbage feedback cannot drift it
        LossBasedBps = Math.Clamp(Math.Min(LossBasedBps, _delayBased.RateBps), _minBps, _maxBps);
    }

    private void EvaluateProbe(long nowMicros)
    {
        var id = _probe.Id;
        if (id == 0 || _probe.Done || (Probe.Probing && Probe.ClusterId == id)) return;
        if (_probe.Reported < _probe.Sent) return; // the controller times the cluster out if this never happens
        _probe.Done = true;
        _probeProtectUntil = nowMicros + ProbeProtectMicros;
        var result = _probe.ResultBps(ProbeMinPackets, ProbeMinReceivedShare);
        var target = Probe.ClusterId == id ? Probe.TargetBps : long.MaxValue;
        var usable = _probe.Overuse ? 0 : Math.Min(result, target);
        if (usable > 0)
        {
            _delayBased.RaiseTo(usable);
            if (LossFraction < LossDecreaseThreshold) LossBasedBps = Math.Clamp(Math.Max(LossBasedBps, usable), _minBps, _maxBps);
        }
        Probe.OnProbeResult(id, result, usable > 0 && usable >= ProbeSuccessShare * target, nowMicros);
    }

    /// <summary>The probe cluster being measured: what was sent, what came back, and whether over-use was seen.</summary>
    private struct ProbeCluster
    {
        public int Id;
        public bool Done, Overuse;
        public int Sent, Reported, ReceivedCount;
        public long SentBytes, FirstSend, LastSend;
        public int LastSize;
        public long ReceivedBytes, MinArrival, MaxArrival;
        public int MinArrivalSize;

        public int OnSent(int clusterId, int size, long sendMicros)
        {
            if (clusterId <= 0) return 0;
            if (clusterId != Id) this = new ProbeCluster { Id = clusterId, FirstSend = sendMicros, MinArrival = long.MaxValue, MaxArrival = long.MinValue };
            if (Done) return 0;
            Sent++;
            SentBytes += size;
            LastSize = size;
            FirstSend = Math.Min(FirstSend, sendMicros);
            LastSend = Math.Max(LastSend, sendMicros);
            return clusterId;
        }

        public void OnReported(int clusterId)
        {
            if (clusterId == Id) Reported++;
        }

        public void OnReceived(int clusterId, int size, long arrival)
        {
            if (clusterId != Id) return;
            ReceivedCount++;
            ReceivedBytes += size;
            if (arrival < MinArrival) { MinArrival = arrival; MinArrivalSize = size; }
            if (arrival > MaxArrival) MaxArrival = arrival;
        }

        // min(send rate, receive rate), each leaving out the one packet that only opens the interval
        // (libwebrtc ProbeBitrateEstimator); 0 when too few packets came back to trust it.
        public readonly long ResultBps(int minPackets, double minShare)
        {
            if (ReceivedCount < minPackets || ReceivedCount < minShare * Sent) return 0;
            var sendSpan = LastSend - FirstSend;
            var receiveSpan = MaxArrival - MinArrival;
            if (sendSpan <= 0 || receiveSpan <= 0) return 0;
            var sendBps = (SentBytes - LastSize) * 8e6 / sendSpan;
            var receiveBps = (ReceivedBytes - MinArrivalSize) * 8e6 / receiveSpan;
            var bps = Math.Min(sendBps, receiveBps);
            return double.IsFinite(bps) && bps > 0 ? (long)Math.Min(bps, long.MaxValue / 2) : 0;
        }
    }
}
