using Hibari.Sdp;
using Hibari.Rtc.Rtp;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// One publication forwarded to one subscriber (mediasoup's Consumer): the subscriber's own SSRC (and RTX SSRC), the
/// sequence-number and timestamp rewrite, and a plaintext cache for NACK repair. Sequence numbers are offset once, at
/// the first forwarded packet, so every outgoing (SSRC, index) carries exactly one payload (docs/protocol-notes.md, "SRTP rules").
/// Owned by the subscriber's media worker (<see cref="PeerTransport.Worker"/>), which may differ from the publication's.
/// </summary>
internal sealed class Subscription
{
    private readonly RtpPacketCache? _cache;
    private bool _started;
    // The publisher's sequence numbers unwrapped to 64 bits against the highest seen (a fixed 16-bit base would call
    // every packet from the 32,768th on "older than the start": found by a 10k packets/s load run).
    private SequenceUnwrapper _inSeq;
    private long _startSeq;
    private ushort _seqOffset;
    private uint _timestampOffset;
    private ushort _rtxSeq;
    private ushort _highestOutSeq;

    /// <summary>How long a video packet stays answerable to a NACK: the cache holds about this much of the track.</summary>
    public const int CacheMillis = 1000;

    // Simulcast (issue 12, docs/decisions.md D-35): the layer the receiver asked for (-1 = none), the layer being
    // forwarded (null before the first key frame), and what keeps the outgoing stream continuous across switches.
    private int _requestedLayer;
    private Publication? _source;
    private PayloadIdRewriter _ids;

    public Subscription(Publication publication, PeerTransport subscriber, string mid, uint ssrc, uint rtxSsrc, Random random,
        string? requestedRid = null)
    {
        _requestedLayer = LayerOf(requestedRid);
        Publication = publication;
        UpdateDemand();
        Subscriber = subscriber;
        Mid = mid;
        Ssrc = ssrc;
        RtxSsrc = rtxSsrc;
        _seqOffset = (ushort)random.Next(1 << 16);
        _timestampOffset = (uint)random.NextInt64(1L << 32);
        _rtxSeq = (ushort)random.Next(1 << 16);
        if (publication.Kind == MediaKind.Video)
            _cache = new RtpPacketCache(CacheSlots(publication.BitrateKbps), ringBytes: CacheBytes(publication.BitrateKbps));
    }

    /// <summary>
    /// Bytes of the retransmission cache: <see cref="CacheMillis"/> of the track at <paramref name="bitrateKbps"/>, twice
    /// over for bursts, as a power of two in 64 KiB..1 MiB (pooled, returned on close).
    /// </summary>
    public static int CacheBytes(int bitrateKbps)
    {
        var bytes = (long)Math.Max(bitrateKbps, 1) * 1000 / 8 * CacheMillis / 1000 * 2;
        return (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)bytes), 64 * 1024, 1024 * 1024);
    }

    /// <summary>
    /// Slots for <see cref="CacheMillis"/> of a track at <paramref name="bitrateKbps"/> in ~1,000-byte packets, twice
    /// over for bursts (key frames), as a power of two in 128..1024: how many sequence numbers back a NACK may reach
    /// (the bytes are <see cref="CacheBytes"/>).
    /// </summary>
    public static int CacheSlots(int bitrateKbps)
    {
        var packets = (long)Math.Max(bitrateKbps, 1) * 1000 / 8 / 1000 * CacheMillis / 1000 * 2;
        return (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(packets, 1)), 128, 1024);
    }

    /// <summary>Slots of the retransmission cache (0 for audio).</summary>
    public int CacheCapacity => _cache?.Capacity ?? 0;

    /// <summary>Bytes of the retransmission cache (0 for audio).</summary>
    public int CacheRingBytes => _cache?.RingBytes ?? 0;

    public Publication Publication { get; }
    public PeerTransport Subscriber { get; }
    public string Mid { get; }
    public uint Ssrc { get; }
    public uint RtxSsrc { get; }
    /// <summary>Forwarding starts once the subscriber's answer has the m-line (after its re-answer).</summary>
    public bool Active { get; set; }
    /// <summary>Whether the subscriber accepted our RTX payload type.</summary>
    public bool RtxAccepted { get; set; }
    public bool Closed { get; private set; }

    public long PacketsSent { get; private set; }
    public long OctetsSent { get; private set; }
    public long Retransmitted { get; private set; }
    /// <summary>NACKed packets not sent again: the receiver's retransmission budget was spent (D-38).</summary>
    public long RetransmissionsSkipped { get; private set; }
    public uint LastRtpTimestamp { get; private set; }
    public long LastSentMicros { get; private set; }
    public bool HasSent => PacketsSent > 0;

    /// <summary>Ends forwarding and gives the retransmission cache's buffer back (owner thread).</summary>
    public void Close()
    {
        if (Closed) return; // a simulcast subscription is closed by each of its layers
        Closed = true;
        _cache?.Dispose();
        UpdateDemand();
    }

    /// <summary>"none" → -1, "r1" → 1, "r2" → 2, anything else (null, "r0") → 0: Sora's default layer is r0.</summary>
    public static int LayerOf(string? rid) => rid switch { "none" => -1, "r1" => 1, "r2" => 2, _ => 0 };

    /// <summary>The rid the receiver asked for ("none", "r0".."r2"); set on the subscriber's worker (API, rpc).</summary>
    public string RequestedRid
    {
        get => _requestedLayer switch { -1 => "none", 1 => "r1", 2 => "r2", _ => "r0" };
        set
        {
            Subscriber.Worker.AssertOwner();
            _requestedLayer = LayerOf(value);
            UpdateDemand();
        }
    }

    // This subscription's part of a relayed track's LayerDemand (bit masks; D-39).
    private int _demandMask;

    /// <summary>
    /// For a relayed simulcast track: tells the node's <see cref="LayerDemand"/> which layers this subscription needs —
    /// the one it asks for (capped by its bandwidth) and the one it gets now (until a switch is done).
    /// </summary>
    private void UpdateDemand()
    {
        if (Publication.Demand is not { } demand || Publication.Layers is not { } layers) return;
        var mask = 0;
        if (!Closed)
        {
            var want = Math.Min(Math.Min(_requestedLayer, CapLayer), layers.Length - 1);
            if (want >= 0) mask |= 1 << want;
            if (_source is { } s) mask |= 1 << s.LayerIndex;
        }
        if (mask == _demandMask) return;
        demand.Change(_demandMask, mask);
        _demandMask = mask;
    }

    /// <summary>The highest layer the receiver's bandwidth allows (<see cref="DownlinkBandwidth"/>, D-38); subscriber's worker.</summary>
    public int CapLayer
    {
        get => _capLayer;
        set
        {
            if (_capLayer == value) return;
            _capLayer = value;
            UpdateDemand();
        }
    }
    private int _capLayer = int.MaxValue;
    /// <summary>Whether packets flow to the receiver now (not paused by "none").</summary>
    public bool Forwarding => _requestedLayer >= 0 && (_started || _source is not null);
    /// <summary>Receives the receiver's transport-wide feedback (it answered our transport-cc extension, D-38).</summary>
    public bool TransportCc { get; set; }

    /// <summary>The rid of the layer being forwarded (null: none yet, or not simulcast).</summary>
    public string? CurrentRid => _source?.Rid;
    /// <summary>How many times the forwarded layer changed.</summary>
    public long LayerSwitches { get; private set; }

    /// <summary>
    /// The layer to forward now: the requested one while it flows, else the best lower one that flows, else the lowest
    /// higher one (a publisher's uplink drops r2 first); -1 for "none". A layer flows if a packet came in the last second.
    /// </summary>
    private int TargetLayer(Publication[] layers, long nowMicros)
    {
        var want = Math.Min(Math.Min(_requestedLayer, CapLayer), layers.Length - 1);
        if (want < 0) return -1;
        if (Flows(layers[want], nowMicros)) return want;
        for (var i = want - 1; i >= 0; i--) if (Flows(layers[i], nowMicros)) return i;
        for (var i = want + 1; i < layers.Length; i++) if (Flows(layers[i], nowMicros)) return i;
        return want;
    }

    internal static bool Flows(Publication layer, long nowMicros) =>
        layer.LastPacketMicros is var at && at != 0 && nowMicros - at < 1_000_000;

    /// <summary>A key-frame request of the receiver (PLI/FIR): to the layer it gets, or the one it is switching to.</summary>
    public void RequestKeyFrame(long nowMicros)
    {
        if (Publication.Layers is { } layers && TargetLayer(layers, nowMicros) is var t and >= 0 && layers[t] != _source)
            layers[t].RequestKeyFrame(nowMicros);
        else (_source ?? Publication).RequestKeyFrame(nowMicros);
    }

    public void Forward(Publication from, ReadOnlySpan<byte> packet, in RtpHeader header, bool keyFrame, long nowMicros)
    {
        Subscriber.Worker.AssertOwner();
        if (!Active || Closed || !Subscriber.CanSend) return;
        if (Publication.Layers is { } layers)
        {
            ForwardLayer(layers, from, packet, header, keyFrame, nowMicros);
            return;
        }
        if (_requestedLayer < 0)
        {
            // Paused (spotlight: an unfocused sender's audio, or its video with unfocus rid "none", D-37).
            _started = false;
            return;
        }
        if (!_started)
        {
            // Video starts on a key frame: frames before it cannot be decoded and only make the receiver ask again.
            if (Publication.Kind == MediaKind.Video && !keyFrame)
            {
                Publication.RequestKeyFrame(nowMicros);
                return;
            }
            _started = true;
            // Resuming after a pause: the outgoing numbering continues where it stopped (no gap to NACK, no jump).
            if (PacketsSent > 0) Rebase(header, nowMicros);
            _inSeq = default;
            _startSeq = _inSeq.Unwrap(header.SequenceNumber);
        }
        else if (_inSeq.Unwrap(header.SequenceNumber) < _startSeq)
        {
            return; // older than the first forwarded packet: the subscriber never had a place for it
        }
        Emit(packet, header, nowMicros);
    }

    /// <summary>Rewrites one packet into the subscriber's stream (SSRC, sequence number, timestamp, ids, extensions) and sends it.</summary>
    private void Emit(ReadOnlySpan<byte> packet, in RtpHeader header, long nowMicros)
    {
        var outSeq = (ushort)(header.SequenceNumber + _seqOffset);
        var outTs = header.Timestamp + _timestampOffset;
        var buffer = Subscriber.Scratch;
        // The publisher's mid/rid elements name ITS m-line; the subscriber's m-line is another one (Chrome routes by MID):
        // dropped. The receiver's own transport-wide sequence number is added (D-38).
        var transportSeq = TransportCc ? Subscriber.Downlink.Next() : -1;
        var length = RtpHeaderExtensions.CopyForwarded(packet, header, SfuCodecs.ForwardedExtensionMap,
            transportSeq >= 0 ? CodecCatalog.TransportCcExtensionId : 0, (ushort)Math.Max(transportSeq, 0), buffer, out var headerLength);
        if (length == 0) return;
        var span = buffer.AsSpan(0, length);
        RtpHeader.SetSsrc(span, Ssrc);
        RtpHeader.SetSequenceNumber(span, outSeq);
        RtpHeader.SetTimestamp(span, outTs);
        if (Publication.Layers is not null) _ids.Rewrite(Publication.CodecKind, span[headerLength..(length - header.PaddingLength)]);
        if ((short)(outSeq - _highestOutSeq) > 0 || PacketsSent == 0)
        {
            // The newest packet's timestamp, not a repair's or a probe's (resent old packets): a layer switch continues from it.
            _highestOutSeq = outSeq;
            LastRtpTimestamp = outTs;
            LastSentMicros = nowMicros;
        }
        _cache?.Store(outSeq, span);
        PacketsSent++;
        OctetsSent += header.PayloadLength;
        Subscriber.SendRtp(buffer, length, transportSeq);
    }

    /// <summary>
    /// Simulcast: a packet of layer <paramref name="from"/>. The layer being forwarded goes on until the target layer's
    /// next key frame (asked for with a PLI) has arrived whole — gathered meanwhile, so the receiver's picture does not
    /// stop while a large key frame trickles in — and then the stream switches, the gathered frame first, with sequence
    /// numbers, timestamps and picture ids continuing where they were: the receiver's decoder sees one stream.
    /// </summary>
    private void ForwardLayer(Publication[] layers, Publication from, ReadOnlySpan<byte> packet, in RtpHeader header, bool keyFrame, long nowMicros)
    {
        var target = TargetLayer(layers, nowMicros);
        if (target < 0)
        {
            // "none": nothing flows; what comes next starts on a key frame, continuing the numbering (SwitchTo).
            _pending = null;
            if (_source is not null)
            {
                _source = null;
                UpdateDemand();
            }
            return;
        }
        if (from == _source)
        {
            if (target != from.LayerIndex)
            {
                layers[target].RequestKeyFrame(nowMicros);
                // Down because the receiver's link is congested (its cap fell under this layer, D-38): this layer's
                // frames would only deepen the queue the lower layer's key frame must cross. The frame in flight ends,
                // later ones are shed until the switch (seen with Chromium: the key frame waited ~1 s behind them).
                if (target < from.LayerIndex && CapLayer < from.LayerIndex && !_shedding && nowMicros >= _shedAgainAt)
                {
                    _shedding = true;
                    _shedTimestamp = _lastSourceTimestamp;
                    _shedSince = nowMicros;
                }
            }
            if (target == from.LayerIndex || (_shedding && nowMicros - _shedSince > MaxShedMicros))
            {
                // The target is the current layer again, or the lower key frame did not come in time: this layer goes on.
                if (target == from.LayerIndex) _pending = null;
                else if (_shedding) _shedAgainAt = nowMicros + 5 * MaxShedMicros; // not again soon: it did not help
                if (_shedding)
                {
                    // Frames were shed: this layer resumes on its own next key frame, or the decoder misses references.
                    if (!keyFrame)
                    {
                        from.RequestKeyFrame(nowMicros);
                        ShedPackets++;
                        return;
                    }
                    _shedding = false;
                }
            }
            if (_shedding && header.Timestamp != _shedTimestamp)
            {
                ShedPackets++;
                return;
            }
            if (_inSeq.Unwrap(header.SequenceNumber) >= _startSeq)
            {
                _lastSourceTimestamp = header.Timestamp;
                Emit(packet, header, nowMicros);
            }
            return;
        }
        if (from.LayerIndex != target) return;
        if (_source is null)
        {
            // The first layer: nothing flows to the receiver yet, start at once on a key frame.
            if (!keyFrame)
            {
                from.RequestKeyFrame(nowMicros);
                return;
            }
            SwitchTo(from, header, nowMicros);
            Emit(packet, header, nowMicros);
            return;
        }
        if (_pending is null || _pending.Layer != from)
        {
            if (!keyFrame)
            {
                from.RequestKeyFrame(nowMicros);
                return;
            }
            _pending = new PendingKeyFrame(from, header.Timestamp, header.SequenceNumber);
        }
        else if ((short)(header.SequenceNumber - _pending.FirstSequenceNumber) < 0)
        {
            return; // older than the key frame (Chrome's RTX probes resend old packets): not part of the new stream
        }
        else if (header.Timestamp != _pending.Timestamp)
        {
            // A later frame began before the key frame's marker bit was seen (lost): switch with what was gathered.
            FlushPending(nowMicros);
            if (_inSeq.Unwrap(header.SequenceNumber) >= _startSeq) Emit(packet, header, nowMicros);
            return;
        }
        _pending.Packets.Add(packet.ToArray());
        if (header.Marker || _pending.Packets.Count >= PendingKeyFrame.MaxPackets) FlushPending(nowMicros);
    }

    /// <summary>Switches to the gathered key frame's layer and sends its packets in sequence order.</summary>
    private void FlushPending(long nowMicros)
    {
        var pending = _pending!;
        _pending = null;
        var packets = pending.Packets;
        if (!RtpHeader.TryParse(packets[0], out var first)) return;
        var base0 = first.SequenceNumber;
        packets.Sort((a, b) => (short)(Seq(a) - base0) - (short)(Seq(b) - base0));
        if (!RtpHeader.TryParse(packets[0], out first)) return;
        SwitchTo(pending.Layer, first, nowMicros);
        foreach (var p in packets)
            if (RtpHeader.TryParse(p, out var h) && _inSeq.Unwrap(h.SequenceNumber) >= _startSeq) Emit(p, h, nowMicros);
    }

    private static ushort Seq(byte[] packet) => System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(2));

    /// <summary>The packets of the target layer's key frame, gathered until its last one (marker bit).</summary>
    private sealed class PendingKeyFrame(Publication layer, uint timestamp, ushort firstSequenceNumber)
    {
        public ushort FirstSequenceNumber { get; } = firstSequenceNumber;
        /// <summary>A key frame is at most this many packets (~600 KB); more, and the switch goes ahead with what came.</summary>
        public const int MaxPackets = 512;

        public Publication Layer { get; } = layer;
        public uint Timestamp { get; } = timestamp;
        public List<byte[]> Packets { get; } = [];
    }

    private PendingKeyFrame? _pending;
    // A down-switch for bandwidth is waiting for the lower layer's key frame: only the frame with _shedTimestamp (the one
    // in flight) still goes (D-38). _lastSourceTimestamp: the publisher's timestamp of the last packet forwarded.
    private bool _shedding;
    private uint _shedTimestamp, _lastSourceTimestamp;
    private long _shedSince, _shedAgainAt;
    /// <summary>Shedding stops after this long without the lower layer's key frame (a publisher that ignores PLIs).</summary>
    private const long MaxShedMicros = 1_500_000;

    /// <summary>Packets of a layer being left for bandwidth not forwarded while the lower layer's key frame was awaited (D-38).</summary>
    public long ShedPackets { get; private set; }

    private void SwitchTo(Publication layer, in RtpHeader header, long nowMicros)
    {
        if (PacketsSent > 0) Rebase(header, nowMicros);
        if (_source is not null)
        {
            LayerSwitches++;
            Subscriber.Counters.SimulcastLayerSwitches++;
        }
        if (Subscriber.Log.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
            Subscriber.Log.LogDebug("Connection {Id}: {Publisher} video layer {From} -> {To} (asked {Asked}) at seq {Seq}",
                Subscriber.ConnectionId, Publication.ConnectionId, _source?.Rid ?? "-", layer.Rid, RequestedRid, header.SequenceNumber);
        var previous = _source;
        _source = layer;
        _shedding = false;
        _lastSourceTimestamp = header.Timestamp;
        UpdateDemand();
        if (previous?.Rid is { } from && layer.Rid is { } to) Subscriber.OnLayerSwitched(this, from, to);
        _inSeq = default;
        _startSeq = _inSeq.Unwrap(header.SequenceNumber);
        _started = true;
        _ids.StartNewSource();
    }

    /// <summary>
    /// Continues the outgoing numbering at <paramref name="header"/>: the next sequence number, and the timestamp advanced
    /// by the time since the last packet sent (another layer's RTP clock, or the same one after a pause).
    /// </summary>
    private void Rebase(in RtpHeader header, long nowMicros)
    {
        _seqOffset = (ushort)(_highestOutSeq + 1 - header.SequenceNumber);
        var elapsed = Math.Max(1, (nowMicros - LastSentMicros) * Publication.Codec.ClockRate / 1_000_000);
        _timestampOffset = LastRtpTimestamp + (uint)elapsed - header.Timestamp;
    }

    /// <summary>Answers a NACK of the subscriber from the cache, as RTX on the RTX SSRC (RFC 4588).</summary>
    public void Retransmit(ushort sequenceNumber)
    {
        if (SendRtx(sequenceNumber, padding: false) > 0)
        {
            Retransmitted++;
            Subscriber.Counters.Retransmissions++;
        }
    }

    /// <summary>
    /// Probe padding (D-38): up to <paramref name="bytes"/> of the newest cached packets sent again as RTX (a receiver
    /// drops the duplicates); bytes sent. Only when the receiver takes RTX and transport-wide feedback.
    /// </summary>
    public int SendPadding(int bytes)
    {
        if (_cache is null || !RtxAccepted || !TransportCc || Closed || PacketsSent == 0) return 0;
        var sent = 0;
        for (var k = 0; k < 64 && sent < bytes; k++)
        {
            var n = SendRtx((ushort)(_highestOutSeq - (k & 7)), padding: true);
            if (n == 0 && k >= 8) break;
            sent += n;
        }
        return sent;
    }

    /// <summary>One cached packet as RTX on the RTX SSRC (RFC 4588), with a fresh transport-wide number; its size or 0.</summary>
    private int SendRtx(ushort sequenceNumber, bool padding)
    {
        if (_cache is null || !RtxAccepted || Closed || !Subscriber.CanSend) return 0;
        if (!_cache.TryGet(sequenceNumber, out var original)) return 0;
        // A NACK is answered only within the receiver's retransmission budget (D-38); padding is budgeted by its probe.
        if (!padding && TransportCc && !Subscriber.Downlink.TryRetransmit(original.Length + RtxPacket.OsnLength, Rtc.MediaClock.NowMicros()))
        {
            RetransmissionsSkipped++;
            Subscriber.Counters.RetransmissionsSkipped++;
            return 0;
        }
        var buffer = Subscriber.Scratch;
        if (!RtpHeader.TryParse(original, out var header)
            || !RtxPacket.TryWrap(original, header, buffer, RtxSsrc, _rtxSeq++, (byte)(Publication.Codec.RtxPayloadType ?? 0), out var length)) return 0;
        var transportSeq = -1;
        if (TransportCc && RtpHeader.TryParse(buffer.AsSpan(0, length), out var wrapped))
        {
            transportSeq = Subscriber.Downlink.Next();
            if (!RtpHeaderExtensions.TrySetUInt16(buffer.AsSpan(0, length), wrapped, CodecCatalog.TransportCcExtensionId, (ushort)transportSeq)) transportSeq = -1;
        }
        Subscriber.SendRtp(buffer, length, transportSeq, padding);
        return length;
    }

    /// <summary>The RTP timestamp of "now" on this subscription's clock, from the publisher's last sender report.</summary>
    public bool TryGetSenderReport(long nowMicros, out ulong ntp, out uint rtp)
    {
        ntp = 0;
        rtp = 0;
        var p = _source ?? Publication;
        if (p.SenderReport is not { } sr || !HasSent) return false;
        var elapsed = nowMicros - sr.ArrivalMicros;
        ntp = sr.Ntp + (ulong)(elapsed * 4294.967296); // 2^32 / 10^6 NTP fraction units per µs
        rtp = sr.Rtp + _timestampOffset + (uint)(elapsed * p.Codec.ClockRate / 1_000_000);
        return true;
    }
}

/// <summary>
/// Unwraps 16-bit RTP sequence numbers to 64 bits: each one is placed within ±32,768 of the highest seen so far, so
/// streams of any length keep their order and reordered packets land before the highest.
/// </summary>
internal struct SequenceUnwrapper
{
    private long _highest;
    private bool _any;

    public long Unwrap(ushort seq)
    {
        if (!_any)
        {
            _any = true;
            _highest = (1L << 16) + seq; // room below for packets reordered before the first one
            return _highest;
        }
        var ext = _highest + (short)(seq - (ushort)_highest);
        if (ext > _highest) _highest = ext;
        return ext;
    }
}
