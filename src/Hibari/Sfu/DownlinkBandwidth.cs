using Hibari.Rtc.Bwe;
using Hibari.Rtc.Rtp;

namespace Hibari.Sfu;

/// <summary>
/// Bandwidth adaptation toward one receiver (D-38), owned by its transport's media worker: every RTP packet the SFU
/// sends it carries a transport-wide sequence number, the receiver's transport-cc feedback feeds a
/// <see cref="SendSideBandwidthEstimator"/>, and every <see cref="AllocateIntervalMicros"/> the estimate is shared
/// among the receiver's subscriptions: each simulcast one gets the highest layer that fits (never above what it
/// asked for), round robin from the lowest layer up; when the next layer does not fit, a probe (padding sent as RTX
/// of recent packets) checks whether it would.
/// </summary>
internal sealed class DownlinkBandwidth
{
    public const long AllocateIntervalMicros = 200_000;
    /// <summary>Padding is sent in steps this far apart while a probe runs (its cluster lasts 50 ms).</summary>
    public const long ProbeStepMicros = 5_000;
    /// <summary>Start high: the estimate falls within a second on a weak link; starting low would hold every new receiver on r0 until probes succeed.</summary>
    public const long InitialBps = 2_500_000;
    public const long MinBps = 100_000;
    public const long MaxBps = 20_000_000;
    /// <summary>An upgrade needs the new total under this share of the estimate; keeping a layer needs only the estimate (hysteresis).</summary>
    public const double UpgradeShare = 0.9;

    private readonly SendSideBandwidthEstimator _estimator = new(InitialBps, MinBps, MaxBps);

    /// <summary>
    /// A probe lasts 200 ms here, not the estimator's 50 ms: its padding is RTX of ~1,100-byte video packets sent on the
    /// worker's timer (20 ms steps), and a cluster needs at least 5 packets to count — at the rates of r1/r2 that takes
    /// about 200 ms (found with Chromium: every 50 ms probe came back unusable).
    /// </summary>
    public const long ProbeDurationMicros = 200_000;

    public DownlinkBandwidth() => _estimator.Probe.DurationMicros = ProbeDurationMicros;
    private ushort _sequence;
    private long _nextAllocate;

    /// <summary>Whether any packet went out with a transport-wide sequence number (the receiver negotiated transport-cc).</summary>
    public bool Active { get; private set; }
    public long EstimateBps => _estimator.EstimateBps;
    public long AckedBps => _estimator.AckedBps;
    public double LossFraction => _estimator.LossFraction;
    public ProbeController Probe => _estimator.Probe;
    /// <summary>Probes sent, and padding bytes sent for them (stats).</summary>
    public long Probes { get; private set; }
    public long PaddingBytes { get; private set; }

    /// <summary>
    /// Retransmissions (RTX answers to NACKs) may use this share of the estimate. Nothing paces what the SFU forwards,
    /// so without a bound a congested receiver's NACKs for every packet the bottleneck dropped were answered in full:
    /// with Chromium behind a 500 kbit/s limit the node sent 2.4-2.7 Mbit/s, mostly RTX, for two seconds after the
    /// down-switch, and the new layer's key frame was lost in that queue (replayed in RecordedTraceTests; D-38).
    /// </summary>
    public const double RetransmissionShare = 0.3;
    /// <summary>The retransmission budget holds at most this much time of its rate (a burst of NACKs after one loss).</summary>
    public const long RetransmissionBurstMicros = 250_000;
    private double _rtxTokens = -1;
    private long _rtxRefilled;

    /// <summary>
    /// Whether a retransmission of <paramref name="bytes"/> fits the budget now (and takes it). Always true until the
    /// receiver's feedback has produced an estimate (no transport-cc: nothing to go by).
    /// </summary>
    public bool TryRetransmit(int bytes, long nowMicros)
    {
        if (!Active || AckedBps == 0) return true;
        var bytesPerSecond = EstimateBps * RetransmissionShare / 8;
        var cap = bytesPerSecond * RetransmissionBurstMicros / 1e6;
        _rtxTokens = _rtxTokens < 0 ? cap : Math.Min(cap, _rtxTokens + bytesPerSecond * Math.Max(0, nowMicros - _rtxRefilled) / 1e6);
        _rtxRefilled = nowMicros;
        if (_rtxTokens < bytes) return false;
        _rtxTokens -= bytes;
        return true;
    }

    /// <summary>The next transport-wide sequence number.</summary>
    public ushort Next()
    {
        Active = true;
        return _sequence++;
    }

    /// <summary>
    /// Where traces of what each receiver's estimate was fed are written (<see cref="BweTrace"/>): the directory named
    /// by the environment variable HIBARI_BWE_TRACE_DIR, or null (the default: nothing is recorded).
    /// </summary>
    public static string? TraceDirectory { get; } = Environment.GetEnvironmentVariable("HIBARI_BWE_TRACE_DIR") is { Length: > 0 } d ? d : null;

    /// <summary>The record of this receiver's packets and feedback, when <see cref="TraceDirectory"/> is set.</summary>
    public BweTrace? Trace { get; } = TraceDirectory is null ? null : new BweTrace();

    /// <summary>A packet with <paramref name="sequence"/> left (its size on the wire, SRTP included).</summary>
    public void OnSent(ushort sequence, int size, long nowMicros, bool padding = false)
    {
        if (padding) PaddingBytes += size;
        var probing = _estimator.Probe.Probing;
        Trace?.Sent(sequence, size, nowMicros, probing);
        _estimator.OnPacketSent(sequence, size, nowMicros, probing);
    }

    /// <summary>One transport-cc feedback packet (<paramref name="raw"/>: its bytes, for the trace).</summary>
    public void OnFeedback(in TransportCcFeedback feedback, ReadOnlySpan<byte> raw, long nowMicros)
    {
        Trace?.Feedback(raw, nowMicros);
        _estimator.OnFeedback(feedback, nowMicros);
    }

    /// <summary>
    /// The worker's timer: layer caps every <see cref="AllocateIntervalMicros"/>, padding while a probe runs. Returns
    /// when it wants to be called again.
    /// </summary>
    public long OnTick(long nowMicros, IReadOnlyList<Subscription> subscriptions, Func<int, int> sendPadding)
    {
        if (!Active) return long.MaxValue;
        if (nowMicros >= _nextAllocate)
        {
            _nextAllocate = nowMicros + AllocateIntervalMicros;
            Allocate(subscriptions, nowMicros);
        }
        var due = _nextAllocate;
        var bytes = _estimator.Probe.PaddingBytesDue(nowMicros, 0);
        if (bytes > 0) sendPadding(bytes);
        if (_estimator.Probe.Probing) due = Math.Min(due, nowMicros + ProbeStepMicros);
        return due;
    }

    /// <summary>Typical rates of Sora's default layers (r0 a quarter, r1 half, r2 full of 720p), for a layer not flowing here.</summary>
    private static readonly long[] DefaultLayerBps = [150_000, 500_000, 1_500_000];

    /// <summary>
    /// A layer that can be chosen: one that flows, or one of a relayed track, which the publisher's node starts sending
    /// once this node asks for it (D-39) — until then it does not flow here.
    /// </summary>
    private static bool Usable(Publication layer, long nowMicros) => Subscription.Flows(layer, nowMicros) || layer.RemoteNode is not null;

    private static long RateOf(Publication layer, long nowMicros) =>
        Subscription.Flows(layer, nowMicros) && layer.RateBps > 0 ? layer.RateBps : DefaultLayerBps[Math.Min(layer.LayerIndex, 2)];

    /// <summary>Shares the estimate among the subscriptions; asks for a probe when the next wanted layer does not fit.</summary>
    private void Allocate(IReadOnlyList<Subscription> subscriptions, long nowMicros)
    {
        var budget = (double)_estimator.EstimateBps;
        double total = 0;
        var layered = new List<(Subscription Sub, Publication[] Layers, int Current, int Want)>();
        // What single-layer video tracks could use: their publishers' configured rate (REMB follows this receiver, so
        // their rate here is only what the estimate let through; probing up to it is how they recover).
        double singleWanted = 0;
        foreach (var s in subscriptions)
        {
            if (!s.Active || s.Closed) continue;
            if (s.Publication.Layers is not { } layers)
            {
                if (s.Forwarding) total += s.Publication.RateBps;
                if (s.Forwarding && s.Publication.Kind == Sdp.MediaKind.Video) singleWanted += s.Publication.BitrateKbps * 1000.0;
                continue;
            }
            var want = Math.Min(Subscription.LayerOf(s.RequestedRid), layers.Length - 1);
            if (want < 0) continue;
            var first = 0;
            while (first < want && !Usable(layers[first], nowMicros)) first++;
            layered.Add((s, layers, first, want));
            total += RateOf(layers[first], nowMicros);
        }
        // Round robin, one layer at a time: an upgrade back to (or below) the layer a subscription has now needs only
        // the estimate; a new, higher layer needs UpgradeShare of it.
        long probeFor = 0;
        for (var changed = true; changed;)
        {
            changed = false;
            for (var i = 0; i < layered.Count; i++)
            {
                var (s, layers, current, want) = layered[i];
                var next = current + 1;
                while (next <= want && !Usable(layers[next], nowMicros)) next++;
                if (next > want) continue;
                var after = total - RateOf(layers[current], nowMicros) + RateOf(layers[next], nowMicros);
                var limit = next <= s.CapLayer ? budget : budget * UpgradeShare;
                if (after <= limit)
                {
                    total = after;
                    layered[i] = (s, layers, next, want);
                    changed = true;
                }
                else if (probeFor == 0 || after < probeFor) probeFor = (long)after;
            }
        }
        foreach (var (s, _, current, _) in layered) s.CapLayer = current;
        if (singleWanted > 0 && total < singleWanted * UpgradeShare && budget < singleWanted)
        {
            // Ramp by probing, at most doubling each time (libwebrtc's probes double too).
            var single = (long)Math.Min(singleWanted, budget * 2);
            if (probeFor == 0 || single < probeFor) probeFor = single;
        }
        if (probeFor > 0 && _estimator.Probe.RequestProbe((long)(probeFor / UpgradeShare * 1.05), nowMicros)) Probes++;
    }
}
