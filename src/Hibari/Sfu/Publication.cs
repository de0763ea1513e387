using Hibari.Rtc;
using Hibari.Sdp;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Transport;

namespace Hibari.Sfu;

/// <summary>Where a publication's key-frame requests go: the publisher's transport, or the relay to its node.</summary>
internal interface IKeyFrameTarget
{
    void SendPli(uint mediaSsrc);
}

/// <summary>Takes a local publication's packets to other nodes (the relay): called on the media thread for each packet.</summary>
internal interface IRelayFanout
{
    void Relay(Publication publication, ReadOnlySpan<byte> packet);
    /// <summary>The publisher's sender report of a local track (media thread).</summary>
    void SenderReport(Publication publication, ulong ntp, uint rtp);
    /// <summary>
    /// Whether this node decides the session's spotlight focus (D-40): no other node of the session that shares the
    /// Spotlight capability has a smaller node name. Any thread.
    /// </summary>
    bool DecidesSpotlight { get; }
    /// <summary>The decider's focus, to the session's other nodes (control context).</summary>
    void SpotlightFocus(int number, IReadOnlyList<(string ConnectionId, bool Fixed)> focused);
}

/// <summary>
/// A recording of a local track (issue 16, docs/decisions.md D-58): gets each packet of the track after the duplicate
/// filter, and its sender reports, on the track's worker. It must copy and return at once (a full queue drops).
/// </summary>
internal interface IRecordingTap
{
    void OnRtp(Publication publication, ReadOnlySpan<byte> packet, long nowMicros);
    void OnSenderReport(Publication publication, ulong ntp, uint rtp, long nowMicros);
}

/// <summary>
/// One incoming track of a publisher (mediasoup's Producer): the publisher's SSRCs, receive statistics, the sender
/// report mapping, and the subscriptions it fans out to. Owned by <see cref="Worker"/> (the publisher's media worker,
/// or the worker a relayed track was placed on), except the immutable identity, <see cref="RequestKeyFrame"/> (any
/// thread) and the per-worker fan-out groups (each owned by its worker). docs/threads.md.
/// </summary>
internal sealed class Publication : IHandoffTarget
{
    /// <summary>Key-frame requests toward the publisher are rate-limited: a storm of PLIs helps nobody.</summary>
    private const long KeyFrameRequestIntervalMicros = 300_000;

    private Subscription[] _subscribers = [];
    // Subscribers on other workers: one group per worker, element k owned by worker k; the attached ones (that have
    // subscribers) are the owner's list of where to hand each packet.
    private readonly WorkerFanout?[] _groups;
    private WorkerFanout[] _handoffs = [];
    private long _lastKeyFrameRequest = long.MinValue / 2;
    private NewestSequence _newest;
    private int _keyFrameWanted;
    private volatile SenderReportSnapshot? _senderReport;

    public Publication(IKeyFrameTarget publisher, MediaWorker worker, string connectionId, string mid, MediaKind kind, RtpCodec codec,
        string trackId, string? remoteNode = null, int workerCount = 1)
    {
        _self = this;
        Publisher = publisher;
        Worker = worker;
        _groups = new WorkerFanout?[Math.Max(workerCount, worker.Index + 1)];
        ConnectionId = connectionId;
        Mid = mid;
        Kind = kind;
        Codec = codec;
        TrackId = trackId;
        RemoteNode = remoteNode;
        // A relayed track arrives over a reliable link: nothing to NACK there (subscribers' NACKs are answered here).
        if (kind == MediaKind.Video && codec.RtxPayloadType is not null && remoteNode is null) Nacks = new NackGenerator();
    }

    /// <summary>
    /// Simulcast (issue 12, docs/decisions.md D-35): this layer's rid ("r0" lowest .. "r2"), null for a plain track. A
    /// simulcast track is one publication per layer, all on the publisher's worker, sharing <see cref="Layers"/> (index =
    /// <see cref="LayerIndex"/>); the connection lists only layer 0, which subscribers are created for and which is relayed.
    /// </summary>
    public string? Rid { get; init; }
    /// <summary>The owner worker's counters, for the per-layer totals (GetStatsReport `simulcast`, /metrics).</summary>
    public SfuCounters? Counters { get; init; }
    public int LayerIndex { get; init; }
    public Publication[]? Layers { get; set; }
    /// <summary>A relayed simulcast track's layer needs of this node's subscribers (D-39); shared by its layers; else null.</summary>
    public LayerDemand? Demand { get; init; }

    /// <summary>When this layer last got a packet (media clock, µs; 0 = never): receivers fall back from a layer that stopped.</summary>
    public long LastPacketMicros => Volatile.Read(ref _lastPacketMicros);
    private long _lastPacketMicros;

    /// <summary>The layers a subscription attaches to: the simulcast layers, or this track alone.</summary>
    public ReadOnlySpan<Publication> LayersOrSelf => Layers is { } l ? l : new ReadOnlySpan<Publication>(in _self);
    private readonly Publication _self;

    public IKeyFrameTarget Publisher { get; }
    /// <summary>The media worker that owns this track (its packets arrive there).</summary>
    public MediaWorker Worker { get; }
    /// <summary>The node the publisher is connected to, for a track relayed from another node; null for a local one.</summary>
    public string? RemoteNode { get; }
    /// <summary>The session of a local track: while it is relayed to other nodes (<see cref="Session.Relay"/>), packets also go there.</summary>
    public Session? LocalSession { get; init; }
    /// <summary>The publisher's connection id: the msid stream id subscribers see (docs/protocol-notes.md, "Connect sequence" 11).</summary>
    public string ConnectionId { get; }
    /// <summary>The mid of the publisher's own sending m-line.</summary>
    public string Mid { get; }
    public MediaKind Kind { get; }
    public RtpCodec Codec { get; }
    /// <summary>The bitrate the publisher was given (kbps): sizes subscribers' retransmission caches.</summary>
    public int BitrateKbps { get; init; } = 1000;
    public string TrackId { get; }
    public uint Ssrc { get; set; }
    public uint RtxSsrc { get; set; }
    public ReceiveStatistics? Statistics { get; private set; }
    public bool Closed { get; private set; }

    /// <summary>
    /// The publisher's last sender report: lets subscribers' SRs keep this track's NTP ↔ RTP mapping (lip sync). One
    /// immutable snapshot, so subscribers' workers read it whole.
    /// </summary>
    public SenderReportSnapshot? SenderReport => _senderReport;

    // The newest packet's RFC 6464 audio level (level | voice << 7), -1 before any: written here, read by the spotlight (D-37).
    private int _audioLevel = -1;

    /// <summary>
    /// The audio level of the newest packet (dBov 0 loud .. 127 silent, and the voice-activity bit), or null when the
    /// track has none or sent nothing in the last 200 ms. Any thread (one atomic read; the owner writes it per packet).
    /// </summary>
    public (int Level, bool Voice)? AudioLevelSample(long nowMicros)
    {
        var v = Volatile.Read(ref _audioLevel);
        if (v < 0 || nowMicros - LastPacketMicros > 200_000) return null;
        return (v & 0x7F, (v & 0x80) != 0);
    }

    // The largest share of a receiver's downlink estimate reported for this track since the publisher last looked (D-38).
    private long _receiverMaxBps;

    /// <summary>A receiver's downlink share for this track (any worker; atomic max). long.MaxValue: a receiver without an estimate.</summary>
    public void ReportReceiverBps(long bps)
    {
        var current = Interlocked.Read(ref _receiverMaxBps);
        while (bps > current)
        {
            var seen = Interlocked.CompareExchange(ref _receiverMaxBps, bps, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>The largest reported since the last call (0: nobody reported); resets it (the publisher's worker).</summary>
    public long TakeReceiverMaxBps() => Interlocked.Exchange(ref _receiverMaxBps, 0);

    // Receive rate over windows of about half a second (bits/s), for the receivers' layer allocation (D-38).
    private long _rateBps, _rateBytes, _rateStart;

    /// <summary>The track's receive rate in bits/s over the last half second (any thread: one atomic read).</summary>
    public long RateBps => Volatile.Read(ref _rateBps);

    private readonly DuplicateFilter _duplicates = new();
    /// <summary>Copies of packets already received (RTX probes, late NACK answers), not forwarded.</summary>
    public long Duplicates { get; private set; }

    public long PacketsReceived { get; private set; }
    public long BytesReceived { get; private set; }
    public long KeyFrameRequests { get; private set; }
    /// <summary>Key frames seen (video).</summary>
    public long KeyFrames { get; private set; }
    /// <summary>Video frames received (packets with the marker bit; a duplicate is not counted).</summary>
    public long Frames { get; private set; }

    /// <summary>The subscribers on the owner worker (owner thread).</summary>
    public ReadOnlySpan<Subscription> Subscribers => _subscribers;
    /// <summary>How many other workers get this track's packets (owner thread).</summary>
    public int HandoffWorkers => _handoffs.Length;

    /// <summary>Video only: the sequence numbers missing from the publisher, to NACK (the publisher answers with RTX).</summary>
    public NackGenerator? Nacks { get; }
    public long NacksSent { get; set; }

    /// <summary>The recording of this track while one runs (owner thread: set through a post, read per packet).</summary>
    public IRecordingTap? Recorder { get; set; }

    public void LatchSsrc(uint ssrc)
    {
        Ssrc = ssrc;
        Statistics = new ReceiveStatistics(ssrc, Codec.ClockRate);
    }

    /// <summary>Adds a subscription; runs on the subscriber's worker (which may be another than <see cref="Worker"/>).</summary>
    public void Add(Subscription s)
    {
        var worker = s.Subscriber.Worker;
        worker.AssertOwner();
        if (worker == Worker)
        {
            _subscribers = Arrays.With(_subscribers, s);
            return;
        }
        var group = _groups[worker.Index] ??= new WorkerFanout(this, worker);
        group.Add(s);
        if (group.Count == 1) Worker.Post(() => { if (!Closed && !_handoffs.Contains(group)) _handoffs = Arrays.With(_handoffs, group); });
    }

    /// <summary>Removes a subscription; runs on the subscriber's worker.</summary>
    public void Remove(Subscription s)
    {
        var worker = s.Subscriber.Worker;
        worker.AssertOwner();
        if (worker == Worker)
        {
            _subscribers = Arrays.Without(_subscribers, s);
            return;
        }
        if (_groups[worker.Index] is not { } group || !group.Remove(s) || group.Count > 0) return;
        Worker.Post(() => { if (group.Count == 0) _handoffs = Arrays.Without(_handoffs, group); });
    }

    /// <summary>The track ended (owner thread): its local subscriptions stop; those on other workers get no more packets.</summary>
    public void Close()
    {
        Worker.AssertOwner();
        Closed = true;
        foreach (var s in _subscribers) s.Close();
        _subscribers = [];
        _handoffs = [];
    }

    /// <summary>
    /// A decrypted RTP packet of this track (owner thread): forwarded to the subscriptions on this worker, handed once
    /// to each other worker with subscribers (which forward to theirs), relayed to other nodes.
    /// </summary>
    public void OnRtp(ReadOnlySpan<byte> packet, in RtpHeader header, long nowMicros)
    {
        Worker.AssertOwner();
        if (_keyFrameWanted != 0) TakeKeyFrameRequest(nowMicros);
        if (_duplicates.IsDuplicate(header.SequenceNumber))
        {
            Duplicates++;
            return;
        }
        PacketsReceived++;
        BytesReceived += packet.Length;
        _rateBytes += packet.Length;
        if (nowMicros - _rateStart >= 500_000)
        {
            if (_rateStart != 0) Volatile.Write(ref _rateBps, _rateBytes * 8_000_000 / (nowMicros - _rateStart));
            _rateStart = nowMicros;
            _rateBytes = 0;
        }
        Volatile.Write(ref _lastPacketMicros, nowMicros);
        Statistics?.OnPacket(header.SequenceNumber, header.Timestamp, nowMicros);
        // Only a packet newer than all before can start a key frame: Chrome resends old packets as RTX (NACK answers and
        // bandwidth probes: the first packet of a key frame many times over), and a subscriber that started or switched
        // layers on such a copy would hand its decoder a stream that begins in the past.
        if (Kind == MediaKind.Audio && header.HasExtension
            && RtpHeaderExtensions.TryFind(packet, header, SfuCodecs.AudioLevelExtensionId, out var level)
            && AudioLevel.TryRead(level, out var dbov, out var voice))
            Volatile.Write(ref _audioLevel, dbov | (voice ? 0x80 : 0));
        var keyFrame = Kind == MediaKind.Video && _newest.IsNewest(header.SequenceNumber)
            && KeyFrameDetector.IsKeyFrame(CodecKind, header.GetPayload(packet));
        if (keyFrame) KeyFrames++;
        if (Kind == MediaKind.Video && header.Marker) Frames++; // a frame's last packet (RFC 7741 / 6184 / AV1 RTP spec)
        if (Rid is not null && Counters is { } counters && LayerIndex < 3)
        {
            counters.SimulcastPackets[LayerIndex]++;
            counters.SimulcastBytes[LayerIndex] += packet.Length;
            if (keyFrame) counters.SimulcastKeyFrames[LayerIndex]++;
        }
        Nacks?.OnPacket(header.SequenceNumber, keyFrame, nowMicros);
        Recorder?.OnRtp(this, packet, nowMicros);
        foreach (var s in _subscribers) s.Forward(this, packet, header, keyFrame, nowMicros);
        foreach (var g in _handoffs) Worker.Handoff(g.Worker, g, packet, nowMicros);
        // A simulcast track's layers are relayed by the relay's choice, per peer (D-39); they share layer 0's session.
        (Layers is { } all ? all[0].LocalSession : LocalSession)?.Relay?.Relay(this, packet);
    }

    /// <summary>
    /// A relayed packet a link reader handed to this track's worker through a ring (<see cref="MediaWorker.AddExternalRing"/>):
    /// fanned out like a local publisher's. <paramref name="stamp"/> is when it arrived (media clock, µs).
    /// </summary>
    public void OnHandoff(Span<byte> packet, long stamp)
    {
        if (Closed || !RtpHeader.TryParse(packet, out var header)) return;
        OnRtp(packet, header, stamp);
    }

    /// <summary>The publisher's sender report (owner thread).</summary>
    public void OnSenderReport(ulong ntp, uint rtp, long nowMicros)
    {
        Worker.AssertOwner();
        _senderReport = new SenderReportSnapshot(ntp, rtp, nowMicros);
        Statistics?.OnSenderReport(ntp, nowMicros);
        Recorder?.OnSenderReport(this, ntp, rtp, nowMicros);
        (Layers is { } all ? all[0].LocalSession : LocalSession)?.Relay?.SenderReport(this, ntp, rtp);
    }

    /// <summary>
    /// Asks the publisher for a key frame (PLI), at most once per 300 ms. Any thread: off the owner's thread the request
    /// is posted to it (at most one pending), after a cheap look at the rate limit.
    /// </summary>
    public void RequestKeyFrame(long nowMicros)
    {
        if (Kind != MediaKind.Video) return;
        if (Worker.IsOwnerThread)
        {
            RequestKeyFrameNow(nowMicros);
            return;
        }
        if (nowMicros - Interlocked.Read(ref _lastKeyFrameRequest) < KeyFrameRequestIntervalMicros) return;
        if (Interlocked.Exchange(ref _keyFrameWanted, 1) == 0) Worker.Post(() => TakeKeyFrameRequest(MediaClock.NowMicros()));
    }

    /// <summary>Owner thread: a request other threads left (also checked on every packet, so none waits for the post).</summary>
    public void TakeKeyFrameRequest(long nowMicros)
    {
        if (Interlocked.Exchange(ref _keyFrameWanted, 0) == 1) RequestKeyFrameNow(nowMicros);
    }

    private void RequestKeyFrameNow(long nowMicros)
    {
        if (Closed) return;
        if (Ssrc == 0)
        {
            // Asked before the publisher's first packet (a subscriber activated first): the PLI needs the SSRC, so the
            // request waits and goes out on that packet (OnRtp takes it) instead of being lost.
            Interlocked.Exchange(ref _keyFrameWanted, 1);
            return;
        }
        if (nowMicros - _lastKeyFrameRequest < KeyFrameRequestIntervalMicros) return;
        Interlocked.Exchange(ref _lastKeyFrameRequest, nowMicros);
        KeyFrameRequests++;
        Publisher.SendPli(Ssrc);
    }

    internal VideoCodecKind CodecKind => Codec.Name switch
    {
        "VP8" => VideoCodecKind.Vp8,
        "VP9" => VideoCodecKind.Vp9,
        "H264" => VideoCodecKind.H264,
        "AV1" => VideoCodecKind.Av1,
        "H265" => VideoCodecKind.H265,
        _ => VideoCodecKind.Vp8,
    };
}

/// <summary>
/// Whether an RTP sequence number was seen in the last <see cref="Window"/> numbers: Chrome resends old packets as RTX
/// (NACK answers it already had, and bandwidth probes that repeat recent packets many times), and forwarding the
/// copies only costs receivers bandwidth — their SRTP replay check drops them, so they also look lost to the
/// receiver's transport-wide feedback (D-38). Fixed storage, no allocation per packet.
/// </summary>
internal sealed class DuplicateFilter
{
    public const int Window = 1024;
    private readonly long[] _seen = new long[Window];
    private SequenceUnwrapper _unwrap;

    public DuplicateFilter() => _seen.AsSpan().Fill(-1);

    /// <summary>True when <paramref name="sequenceNumber"/> came before (within the window); records it otherwise.</summary>
    public bool IsDuplicate(ushort sequenceNumber)
    {
        var ext = _unwrap.Unwrap(sequenceNumber);
        ref var slot = ref _seen[(int)(ext & (Window - 1))];
        if (slot == ext) return true;
        slot = ext;
        return false;
    }
}

/// <summary>Whether each RTP sequence number is ahead of every one before it (a repeat or a late packet is not).</summary>
internal struct NewestSequence
{
    private SequenceUnwrapper _unwrap;
    private long _highest;

    public bool IsNewest(ushort sequenceNumber)
    {
        var ext = _unwrap.Unwrap(sequenceNumber);
        if (ext <= _highest) return false;
        _highest = ext;
        return true;
    }
}

/// <summary>A publisher's sender report as it arrived: NTP time, RTP time, and when (media clock, µs).</summary>
internal sealed record SenderReportSnapshot(ulong Ntp, uint Rtp, long ArrivalMicros);

/// <summary>
/// The subscribers of one publication on one worker other than the publication's own: the publication's worker hands
/// each packet to this group once (<see cref="MediaWorker.Handoff"/>), and this worker forwards it to each of them.
/// Owned by <see cref="Worker"/>.
/// </summary>
internal sealed class WorkerFanout(Publication publication, MediaWorker worker) : IHandoffTarget
{
    private Subscription[] _subscribers = [];
    private NewestSequence _newest;

    public Publication Publication { get; } = publication;
    public MediaWorker Worker { get; } = worker;
    /// <summary>Subscribers here (volatile: the publication's worker looks at it when detaching the group).</summary>
    public int Count => Volatile.Read(ref _count);
    private int _count;

    public void Add(Subscription s)
    {
        _subscribers = Arrays.With(_subscribers, s);
        Volatile.Write(ref _count, _subscribers.Length);
    }

    public bool Remove(Subscription s)
    {
        var before = _subscribers.Length;
        _subscribers = Arrays.Without(_subscribers, s);
        Volatile.Write(ref _count, _subscribers.Length);
        return _subscribers.Length != before;
    }

    public void OnHandoff(Span<byte> packet, long stamp)
    {
        Worker.AssertOwner();
        if (_subscribers.Length == 0 || !RtpHeader.TryParse(packet, out var header)) return;
        var p = Publication;
        var keyFrame = p.Kind == MediaKind.Video && _newest.IsNewest(header.SequenceNumber)
            && KeyFrameDetector.IsKeyFrame(p.CodecKind, header.GetPayload(packet));
        foreach (var s in _subscribers) s.Forward(p, packet, header, keyFrame, stamp);
    }
}

/// <summary>Copy-on-write arrays: the hot path iterates a plain array; topology changes replace it.</summary>
internal static class Arrays
{
    public static T[] With<T>(T[] array, T item)
    {
        var next = new T[array.Length + 1];
        array.CopyTo(next, 0);
        next[^1] = item;
        return next;
    }

    public static T[] Without<T>(T[] array, T item) where T : class
    {
        var i = Array.IndexOf(array, item);
        if (i < 0) return array;
        var next = new T[array.Length - 1];
        Array.Copy(array, 0, next, 0, i);
        Array.Copy(array, i + 1, next, i, array.Length - i - 1);
        return next;
    }
}
