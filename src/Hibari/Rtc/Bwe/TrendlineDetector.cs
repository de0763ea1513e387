namespace Hibari.Rtc.Bwe;

/// <summary>
/// Delay-based over-use detector: groups packets into 5 ms send bursts (draft-ietf-rmcat-gcc-02 §5.2), takes the
/// inter-group delay variation d = arrival delta − send delta, and fits a least-squares slope over the last 20
/// smoothed accumulated delays (libwebrtc goog_cc "trendline" estimator, which replaced the draft's Kalman filter).
/// The slope, scaled by min(samples, 60) · 4, is compared with an adaptive threshold (draft §5.4, k_u = 0.01 in the
/// draft, libwebrtc's 0.0087 / 0.039 used here). Fixed arrays only, no allocation after construction.
/// </summary>
public sealed class TrendlineDetector
{
    public const long BurstMicros = 5_000;
    public const int WindowSize = 20;
    /// <summary>The fit needs this many points; fewer than <see cref="WindowSize"/> only at a start or at low group rates.</summary>
    public const int MinSamples = 8;
    /// <summary>Points older than this (arrival time, before the newest) leave the fit while more than <see cref="MinSamples"/> remain.</summary>
    public const double MaxWindowMs = 600;
    public const double Smoothing = 0.9;
    /// <summary>0.9 per 5 ms group, as a time constant: 5 / ln(1 / 0.9).</summary>
    public const double SmoothingTimeConstantMs = 47.5;
    public const double ThresholdGain = 4.0;
    public const double InitialThresholdMs = 12.5;
    private const double MinThresholdMs = 6, MaxThresholdMs = 600;
    private const double KUp = 0.0087, KDown = 0.039;
    private const double OverusingTimeThresholdMs = 10;
    private const long MaxArrivalGapMicros = 3_000_000; // a gap this long (or a clock jump) restarts the fit

    private readonly double[] _x = new double[WindowSize];
    private readonly double[] _y = new double[WindowSize];
    private int _head, _count;

    private bool _hasGroup, _hasPrevious;
    private long _groupFirstSend, _groupLastSend, _groupArrival;
    private long _prevLastSend, _prevArrival;

    private const int ReorderedResetCount = 3; // libwebrtc InterArrival kReorderedResetThreshold
    private int _reordered;
    private long _firstArrival = long.MinValue;
    private int _numDeltas;
    private double _accumulated, _smoothed, _trend, _prevTrend;
    private double _timeOverUsing = -1;
    private int _overuseCounter;
    private double _lastThresholdUpdateMs = double.NaN;

    public BandwidthUsage State { get; private set; }
    public double ThresholdMs { get; private set; } = InitialThresholdMs;
    /// <summary>Slope of the queuing delay (ms per ms) from the last full window.</summary>
    public double Trend => _trend;

    public void Reset()
    {
        _hasGroup = _hasPrevious = false;
        _reordered = 0;
        _head = _count = 0;
        _firstArrival = long.MinValue;
        _numDeltas = 0;
        _accumulated = _smoothed = _trend = _prevTrend = 0;
        _timeOverUsing = -1;
        _overuseCounter = 0;
        State = BandwidthUsage.Normal;
    }

    /// <summary>One received packet, in the order the feedback reports them. Returns true when a group completed.</summary>
    public bool OnPacket(long sendMicros, long arrivalMicros)
    {
        if (!_hasGroup)
        {
            StartGroup(sendMicros, arrivalMicros);
            return false;
        }
        if (sendMicros < _groupFirstSend) return false; // reordered behind the current group: ignored (as libwebrtc)
        if (sendMicros - _groupFirstSend <= BurstMicros)
        {
            _groupLastSend = Math.Max(_groupLastSend, sendMicros);
            _groupArrival = Math.Max(_groupArrival, arrivalMicros);
            return false;
        }

        var completed = false;
        if (_hasPrevious)
        {
            var sendDelta = _groupLastSend - _prevLastSend;
            var arrivalDelta = _groupArrival - _prevArrival;
            if (arrivalDelta < 0 && ++_reordered < ReorderedResetCount)
            {
                StartGroup(sendMicros, arrivalMicros); // a group overtaken in the network: skip it, keep the fit
                return false;
            }
            if (arrivalDelta < 0 || arrivalDelta - sendDelta > MaxArrivalGapMicros || sendDelta > MaxArrivalGapMicros)
            {
                Reset();
                StartGroup(sendMicros, arrivalMicros);
                return false;
            }
            _reordered = 0;
            Update(sendDelta / 1000.0, arrivalDelta / 1000.0, _groupArrival);
            completed = true;
        }
        _prevLastSend = _groupLastSend;
        _prevArrival = _groupArrival;
        _hasPrevious = true;
        StartGroup(sendMicros, arrivalMicros);
        return completed;
    }

    private void StartGroup(long sendMicros, long arrivalMicros)
    {
        _hasGroup = true;
        _groupFirstSend = _groupLastSend = sendMicros;
        _groupArrival = arrivalMicros;
    }

    private void Update(double sendDeltaMs, double arrivalDeltaMs, long arrivalMicros)
    {
        if (_firstArrival == long.MinValue) _firstArrival = arrivalMicros;
        _numDeltas = Math.Min(_numDeltas + 1, 1000);
        _accumulated += arrivalDeltaMs - sendDeltaMs;
        // libwebrtc smooths by 0.9 per group, with groups 5 ms apart behind its pacer: a time constant of ~50 ms. Here a
        // group is often a whole frame (33-100 ms apart), and 0.9 per group would lag by most of a second; the weight
        // follows the time between groups instead, never above 0.9 (D-38).
        var smoothing = Math.Min(Smoothing, Math.Exp(-Math.Max(0, sendDeltaMs) / SmoothingTimeConstantMs));
        _smoothed = smoothing * _smoothed + (1 - smoothing) * _accumulated;
        var xMs = (arrivalMicros - _firstArrival) / 1000.0;
        var slot = (_head + _count) % WindowSize;
        if (_count == WindowSize) _head = (_head + 1) % WindowSize;
        else _count++;
        _x[slot] = xMs;
        _y[slot] = _smoothed;
        // An SFU forwards frames as bursts (no pacer), so a group is a frame: at 15 frames/s a window of 20 groups spans
        // 1.3 s, and waiting for it to fill after a start (or keeping points that old) delays the detection of a new
        // bottleneck by as much (found replaying Chromium feedback, D-38). The fit starts at MinSamples and drops points
        // older than MaxWindowMs, keeping at least MinSamples.
        while (_count > MinSamples && xMs - _x[_head] > MaxWindowMs)
        {
            _head = (_head + 1) % WindowSize;
            _count--;
        }
        if (_count >= MinSamples && TrySlope(out var slope)) _trend = slope;
        Detect(sendDeltaMs, xMs);
    }

    private bool TrySlope(out double slope)
    {
        slope = 0;
        double sx = 0, sy = 0;
        for (var i = 0; i < _count; i++)
        {
            var k = (_head + i) % WindowSize;
            sx += _x[k];
            sy += _y[k];
        }
        var mx = sx / _count;
        var my = sy / _count;
        double num = 0, den = 0;
        for (var i = 0; i < _count; i++)
        {
            var k = (_head + i) % WindowSize;
            var dx = _x[k] - mx;
            num += dx * (_y[k] - my);
            den += dx * dx;
        }
        if (den <= 0 || double.IsNaN(num)) return false;
        slope = num / den;
        return true;
    }

    private void Detect(double sendDeltaMs, double nowMs)
    {
        if (_numDeltas < 2)
        {
            State = BandwidthUsage.Normal;
            return;
        }
        var modified = Math.Min(_numDeltas, 60) * _trend * ThresholdGain;
        if (modified > ThresholdMs)
        {
            _timeOverUsing = _timeOverUsing < 0 ? sendDeltaMs / 2 : _timeOverUsing + sendDeltaMs;
            _overuseCounter++;
            if (_timeOverUsing > OverusingTimeThresholdMs && _overuseCounter > 1 && _trend >= _prevTrend)
            {
                _timeOverUsing = 0;
                _overuseCounter = 0;
                State = BandwidthUsage.Overusing;
            }
        }
        else
        {
            _timeOverUsing = -1;
            _overuseCounter = 0;
            State = modified < -ThresholdMs ? BandwidthUsage.Underusing : BandwidthUsage.Normal;
        }
        _prevTrend = _trend;
        UpdateThreshold(modified, nowMs);
    }

    // draft-ietf-rmcat-gcc-02 §5.4: the threshold follows |m| slowly upwards and faster downwards, so that a
    // concurrent TCP flow does not starve us, and ignores spikes far above it.
    private void UpdateThreshold(double modified, double nowMs)
    {
        if (double.IsNaN(_lastThresholdUpdateMs) || nowMs < _lastThresholdUpdateMs) _lastThresholdUpdateMs = nowMs;
        var abs = Math.Abs(modified);
        if (abs > ThresholdMs + 15)
        {
            _lastThresholdUpdateMs = nowMs;
            return;
        }
        var k = abs < ThresholdMs ? KDown : KUp;
        var dt = Math.Min(nowMs - _lastThresholdUpdateMs, 100);
        var next = ThresholdMs + k * (abs - ThresholdMs) * dt;
        ThresholdMs = double.IsFinite(next) ? Math.Clamp(next, MinThresholdMs, MaxThresholdMs) : InitialThresholdMs;
        _lastThresholdUpdateMs = nowMs;
    }
}
