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

    /// <summary>The next transport-wide sequence number.</summary>
    public ushort Next()
    {
        Active = true;
        return _sequence++;
    }

    /// <summary>A packet with <paramref name="sequence"/> left (its size on the wire, SRTP included).</summary>
    public void OnSent(ushort sequence, int size, long nowMicros, bool padding = false)
    {
        if (padding) PaddingBytes += size;
        _estimator.OnPacketSent(sequence, size, nowMicros, _estimator.Probe.Probing);
    }

    public void OnFeedback(in TransportCcFeedback feedback, long nowMicros) => _estimator.OnFeedback(feedback, nowMicros);

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
