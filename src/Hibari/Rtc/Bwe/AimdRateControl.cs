namespace Hibari.Rtc.Bwe;

/// <summary>
/// Delay-based rate controller (draft-ietf-rmcat-gcc-02 §5.5, libwebrtc AimdRateControl): over-use cuts the rate to
/// β = 0.85 × the acknowledged rate; under-use holds; normal increases — multiplicatively (8 %/s) while far from the
/// link capacity seen at earlier cuts, additively (about one packet per response time) near it. An increase never
/// lifts the rate above 1.5 × acknowledged + 10 kbps, so an application-limited sender cannot claim capacity it never
/// used; probes (<see cref="ProbeController"/>) are how it climbs beyond that.
/// </summary>
public sealed class AimdRateControl
{
    public const double Beta = 0.85;
    public const double MultiplicativeIncreasePerSecond = 1.08;
    public const double AckedCapFactor = 1.5;
    public const long AckedCapOffsetBps = 10_000;
    public const long MinDecreaseIntervalMicros = 200_000;
    private const double PacketBits = 1200 * 8;
    private const long MinAdditivePerSecondBps = 4_000;

    private readonly long _minBps, _maxBps;
    private long _lastUpdateMicros = long.MinValue;
    private long _lastDecreaseMicros = long.MinValue;
    private bool _increasing = true;
    // Link capacity at earlier cuts: exponential average and normalised variance (kbps), libwebrtc LinkCapacityEstimator.
    private double _capacityKbps = -1, _capacityVar = 0.4;

    public AimdRateControl(long initialBps, long minBps, long maxBps)
    {
        _minBps = minBps;
        _maxBps = maxBps;
        RateBps = Math.Clamp(initialBps, minBps, maxBps);
    }

    public long RateBps { get; private set; }
    /// <summary>True while the increase is additive (near the capacity seen at the last cuts).</summary>
    public bool NearConvergence => _capacityKbps > 0;

    /// <summary>A probe (or an outside source) measured this much: never lowers the rate.</summary>
    public void RaiseTo(long bps) => RateBps = Math.Clamp(Math.Max(RateBps, bps), _minBps, _maxBps);

    public void Update(BandwidthUsage usage, long ackedBps, long responseMicros, long nowMicros)
    {
        var dt = _lastUpdateMicros == long.MinValue ? 0 : Math.Clamp(nowMicros - _lastUpdateMicros, 0, 1_000_000);
        _lastUpdateMicros = nowMicros;
        switch (usage)
        {
            case BandwidthUsage.Overusing:
                Decrease(ackedBps, nowMicros);
                break;
            case BandwidthUsage.Underusing:
                _increasing = false; // hold: the queue is draining, the acked rate is above the true capacity
                break;
            default:
                if (_increasing) Increase(ackedBps, responseMicros, dt);
                _increasing = true;
                break;
        }
    }

    private void Decrease(long ackedBps, long nowMicros)
    {
        _increasing = false;
        if (ackedBps <= 0) return;
        if (_lastDecreaseMicros != long.MinValue && nowMicros - _lastDecreaseMicros < MinDecreaseIntervalMicros
            && nowMicros >= _lastDecreaseMicros) return;
        _lastDecreaseMicros = nowMicros;
        var target = (long)(Beta * ackedBps);
        if (target < RateBps) RateBps = Math.Clamp(target, _minBps, _maxBps);
        AddCapacitySample(ackedBps / 1000.0);
    }

    private void Increase(long ackedBps, long responseMicros, long dtMicros)
    {
        if (dtMicros <= 0) return;
        var ackedKbps = ackedBps / 1000.0;
        if (_capacityKbps > 0 && ackedKbps > _capacityKbps + 3 * Deviation()) _capacityKbps = -1; // capacity moved up
        var seconds = dtMicros / 1e6;
        double next;
        if (_capacityKbps > 0)
        {
            var response = Math.Clamp(responseMicros, 100_000, 2_000_000) / 1e6;
            next = RateBps + Math.Max(MinAdditivePerSecondBps, PacketBits / response) * seconds;
        }
        else
        {
            next = RateBps * Math.Pow(MultiplicativeIncreasePerSecond, seconds) + 1000 * seconds;
        }
        var cap = AckedCapFactor * ackedBps + AckedCapOffsetBps;
        if (next > cap) next = Math.Max(RateBps, cap);
        RateBps = Math.Clamp((long)next, _minBps, _maxBps);
    }

    private double Deviation() => Math.Sqrt(_capacityVar * Math.Max(_capacityKbps, 1));

    private void AddCapacitySample(double kbps)
    {
        if (_capacityKbps < 0)
        {
            _capacityKbps = kbps;
            return;
        }
        if (kbps < _capacityKbps - 3 * Deviation())
        {
            _capacityKbps = kbps; // the link got slower: start the average again (libwebrtc does the same)
            return;
        }
        var error = _capacityKbps - kbps;
        _capacityKbps = 0.95 * _capacityKbps + 0.05 * kbps;
        var norm = Math.Max(_capacityKbps, 1.0);
        _capacityVar = Math.Clamp(0.95 * _capacityVar + 0.05 * error * error / norm, 0.4, 2.5);
    }
}
