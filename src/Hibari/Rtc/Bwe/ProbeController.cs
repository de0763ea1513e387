namespace Hibari.Rtc.Bwe;

/// <summary>
/// Decides when and how hard to probe. The delay-based estimate may only grow to 1.5 × the acknowledged rate, so a
/// sender on a low simulcast layer never learns that the next layer fits; a probe sends padding so that media +
/// padding reach the requested rate for <see cref="DurationMicros"/>, and the estimator measures the rate at which
/// that cluster was received (libwebrtc ProbeController / ProbeBitrateEstimator, draft-ietf-rmcat-gcc-02 leaves
/// probing to the implementation). One probe at a time; after a failed probe the next request waits an exponential
/// back-off (2 s doubling to 8 s) so a receiver at its limit is not pushed into loss every second.
/// The sender flags every packet sent while <see cref="Probing"/> with isProbe (media included). Not thread-safe.
/// </summary>
public sealed class ProbeController
{
    public const long DefaultDurationMicros = 50_000;
    public const long ResultTimeoutMicros = 1_500_000;
    public const long InitialBackoffMicros = 2_000_000;
    public const long MaxBackoffMicros = 8_000_000;

    private long _endMicros, _lastPaddingMicros;
    private long _probeBytesSent, _paddingGiven;
    private double _mediaExpected;
    private long _holdUntil = long.MinValue;
    private bool _wired; // probe packets are reported to us: count them instead of trusting mediaBps
    private long _backoffUntil = long.MinValue;
    private int _failures;

    public long DurationMicros { get; set; } = DefaultDurationMicros;
    /// <summary>Sending the current cluster's padding: flag every packet sent now as a probe packet.</summary>
    public bool Probing { get; private set; }
    /// <summary>A cluster was sent and its result has not come back yet.</summary>
    public bool AwaitingResult { get; private set; }
    /// <summary>Id of the current (or last) cluster; increments per probe, starts at 1.</summary>
    public int ClusterId { get; private set; }
    public long TargetBps { get; private set; }
    public long StartMicros { get; private set; }
    public int Failures => _failures;
    /// <summary>The last finished probe's measured rate (0 if none) and whether it reached its target.</summary>
    public long LastResultBps { get; private set; }
    public bool LastSucceeded { get; private set; }

    /// <summary>
    /// Asks to verify that <paramref name="targetBps"/> fits. Ignored while a probe runs or awaits its result, and
    /// during the back-off after a failure. Returns true when a probe started.
    /// </summary>
    public bool RequestProbe(long targetBps, long nowMicros)
    {
        Advance(nowMicros);
        if (Probing || AwaitingResult || targetBps <= 0 || nowMicros < _backoffUntil || nowMicros < _holdUntil) return false;
        ClusterId++;
        TargetBps = targetBps;
        StartMicros = _lastPaddingMicros = nowMicros;
        _endMicros = nowMicros + DurationMicros;
        _probeBytesSent = _paddingGiven = 0;
        _mediaExpected = 0;
        Probing = AwaitingResult = true;
        return true;
    }

    /// <summary>
    /// Padding bytes the sender should send now so that <paramref name="mediaBps"/> + padding reach the probe target;
    /// 0 when idle. Call every few milliseconds; the fraction of a byte carries over.
    /// </summary>
    public int PaddingBytesDue(long nowMicros, long mediaBps)
    {
        Advance(nowMicros);
        if (!Probing) return 0;
        // Bytes the cluster should hold by now, less what it holds: the packets the estimator saw flagged as probe
        // (media arrives in lumps, so counting it beats assuming its average), or, when nobody reports them, the
        // padding handed out plus the media the sender's rate implies.
        var elapsed = Math.Max(0, nowMicros - _lastPaddingMicros);
        _lastPaddingMicros = nowMicros;
        _mediaExpected += Math.Max(0, mediaBps) * (elapsed / 8e6);
        var should = TargetBps * ((nowMicros - StartMicros) / 8e6);
        var holds = _wired ? _probeBytesSent : _paddingGiven + _mediaExpected;
        var due = should - holds;
        if (due < 1) return 0;
        var bytes = (int)Math.Min(due, int.MaxValue);
        _paddingGiven += bytes;
        return bytes;
    }

    /// <summary>A packet flagged as part of the current cluster was sent (the estimator calls this).</summary>
    public void OnProbePacketSent(int sizeBytes)
    {
        if (!Probing) return;
        _probeBytesSent += Math.Max(0, sizeBytes);
        _wired = true;
    }

    /// <summary>No probe starts before <paramref name="untilMicros"/> (the estimator holds probing off after a cut).</summary>
    public void HoldOff(long untilMicros) => _holdUntil = Math.Max(_holdUntil, untilMicros);

    /// <summary>
    /// The estimator's verdict on cluster <paramref name="clusterId"/>: <paramref name="resultBps"/> is the rate it was
    /// received at (0 when unusable). Success resets the back-off; failure doubles it.
    /// </summary>
    public void OnProbeResult(int clusterId, long resultBps, bool success, long nowMicros)
    {
        if (clusterId != ClusterId || !AwaitingResult || Probing) return;
        AwaitingResult = false;
        LastResultBps = resultBps;
        LastSucceeded = success;
        if (success)
        {
            _failures = 0;
            _backoffUntil = long.MinValue;
            return;
        }
        _failures = Math.Min(_failures + 1, 16);
        var backoff = Math.Min(MaxBackoffMicros, InitialBackoffMicros << Math.Min(_failures - 1, 8));
        _backoffUntil = nowMicros + backoff;
    }

    /// <summary>Ends the cluster once its duration passed and gives up on a result that never came.</summary>
    public void Advance(long nowMicros)
    {
        if (Probing && nowMicros >= _endMicros)
        {
            Probing = false;
            _endMicros = nowMicros;
        }
        if (AwaitingResult && !Probing && nowMicros - _endMicros > ResultTimeoutMicros)
            OnProbeResult(ClusterId, 0, false, nowMicros); // the feedback never came: count it as a failure
    }
}
