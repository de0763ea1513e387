using Hibari.Rtc.Bwe;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// Deterministic 1 ms-step simulation of one SFU → receiver path: a sender pacing the chosen simulcast layer in
/// 1,100-byte packets plus the padding the <see cref="ProbeController"/> asks for, a bottleneck (capacity changeable at
/// any time, drop-tail FIFO, fixed propagation delay, optional seeded random loss), the real
/// <see cref="TransportCcRecorder"/> at the receiver writing feedback every 100 ms, and that feedback parsed with
/// <see cref="RtcpReader"/> and fed to the estimator after the return delay. A layer chooser drives the sent rate.
/// </summary>
internal sealed class NetworkSimulator
{
    public static readonly long[] Layers = [150_000, 500_000, 1_700_000];
    public const int MediaPacketBytes = 1_100;
    public const double Headroom = 0.9;       // a layer fits when its bitrate ≤ 0.9 × estimate
    public const double ProbeMargin = 1.05;    // probe a bit above what the next layer needs

    private readonly Queue<(long At, ushort Seq)> _inFlight = new();
    private readonly Queue<(long At, byte[] Packet)> _feedback = new();
    private readonly byte[] _feedbackBuffer = new byte[1500];
    private readonly Random _random;
    private long _linkFreeAt;
    private double _mediaBudget, _paddingCarry;
    private ushort _nextSeq;

    public NetworkSimulator(long initialBps, int initialLayer = 0, ushort firstSeq = 0, int seed = 1)
    {
        Estimator = new SendSideBandwidthEstimator(initialBps, 50_000, 20_000_000);
        Recorder = new TransportCcRecorder(1, 2);
        Layer = initialLayer;
        _nextSeq = firstSeq;
        _random = new Random(seed);
    }

    public SendSideBandwidthEstimator Estimator { get; }
    public TransportCcRecorder Recorder { get; }
    public long Now { get; private set; }
    public long CapacityBps { get; set; } = 50_000_000;
    public int MaxQueueBytes { get; set; } = 60_000;
    public long PropagationMicros { get; set; } = 20_000;
    public long ReturnMicros { get; set; } = 20_000;
    public double LossRate { get; set; }
    public int Layer { get; private set; }
    /// <summary>Queueing delay the last sent packet met at the bottleneck.</summary>
    public long QueueDelayMicros { get; private set; }
    public long MaxQueueDelayMicros { get; set; }
    public int LayerSwitches { get; private set; }
    public long PacketsSent { get; private set; }
    public Action<byte[]>? FeedbackFilter { get; set; }

    /// <summary>Runs <paramref name="micros"/> of simulated time; <paramref name="onMillisecond"/> sees every step.</summary>
    public void Run(long micros, Action<NetworkSimulator>? onMillisecond = null)
    {
        var end = Now + micros;
        while (Now < end)
        {
            Now += 1_000;
            Deliver();
            WriteFeedback();
            ReceiveFeedback();
            Choose();
            Send();
            onMillisecond?.Invoke(this);
        }
    }

    private void Deliver()
    {
        while (_inFlight.Count > 0 && _inFlight.Peek().At <= Now)
        {
            var (at, seq) = _inFlight.Dequeue();
            Recorder.Record(seq, at);
        }
    }

    private void WriteFeedback()
    {
        int n;
        while ((n = Recorder.WriteFeedbackIfDue(Now, _feedbackBuffer)) > 0)
            _feedback.Enqueue((Now + ReturnMicros, _feedbackBuffer[..n]));
    }

    private void ReceiveFeedback()
    {
        while (_feedback.Count > 0 && _feedback.Peek().At <= Now)
        {
            var packet = _feedback.Dequeue().Packet;
            if (FeedbackFilter is { } filter) filter(packet);
            else Feed(packet);
        }
    }

    /// <summary>Parses an RTCP datagram and feeds its transport-cc packets to the estimator now.</summary>
    public void Feed(ReadOnlySpan<byte> datagram)
    {
        var reader = new RtcpReader(datagram);
        while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
            if (TransportCcFeedback.TryParse(p, out var fb)) Estimator.OnFeedback(fb, Now);
    }

    // Highest layer with bitrate ≤ 0.9 × estimate; the current one is kept while it still fits the estimate itself
    // (hysteresis); below the next layer's need, ask for a probe of it.
    private void Choose()
    {
        var estimate = Estimator.EstimateBps;
        var choice = 0;
        for (var i = 0; i < Layers.Length; i++)
            if (Layers[i] <= Headroom * estimate) choice = i;
        if (choice < Layer && Layers[Layer] <= estimate) choice = Layer;
        if (choice != Layer) LayerSwitches++;
        Layer = choice;
        if (choice + 1 < Layers.Length && estimate < Layers[choice + 1] / Headroom)
            Estimator.Probe.RequestProbe((long)(Layers[choice + 1] / Headroom * ProbeMargin), Now);
    }

    private void Send()
    {
        var probing = Estimator.Probe.Probing;
        _mediaBudget += Layers[Layer] / 8e6 * 1_000;
        while (_mediaBudget >= MediaPacketBytes)
        {
            _mediaBudget -= MediaPacketBytes;
            SendPacket(MediaPacketBytes, probing);
        }
        if (Now % 5_000 != 0) return;
        _paddingCarry += Estimator.Probe.PaddingBytesDue(Now, Layers[Layer]);
        while (_paddingCarry >= 200)
        {
            var size = (int)Math.Min(_paddingCarry, MediaPacketBytes);
            _paddingCarry -= size;
            SendPacket(size, probing);
        }
        if (!Estimator.Probe.Probing) _paddingCarry = 0;
    }

    private void SendPacket(int size, bool probe)
    {
        var seq = _nextSeq++;
        PacketsSent++;
        Estimator.OnPacketSent(seq, size, Now, probe);
        var start = Math.Max(Now, _linkFreeAt);
        var queued = (start - Now) * CapacityBps / 8_000_000;
        QueueDelayMicros = start - Now;
        MaxQueueDelayMicros = Math.Max(MaxQueueDelayMicros, QueueDelayMicros);
        if (queued + size > MaxQueueBytes) return; // drop-tail
        _linkFreeAt = start + size * 8_000_000L / CapacityBps;
        if (LossRate > 0 && _random.NextDouble() < LossRate) return;
        _inFlight.Enqueue((_linkFreeAt + PropagationMicros, seq));
    }
}
