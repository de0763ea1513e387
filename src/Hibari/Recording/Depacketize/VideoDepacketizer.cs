using Hibari.Rtc.Rtp;

namespace Hibari.Recording.Depacketize;

/// <summary>
/// Turns one video track's RTP packets into whole frames for the recording (README.md in this folder). Packets are
/// buffered by sequence number; a frame is emitted when its packets form a contiguous run from a packet that starts a
/// frame to one that ends it (marker bit, or the next packet carries another timestamp). Frames come out in sequence
/// order; an incomplete frame holds the later ones back until it completes (a NACK repair arrives) or is given up:
/// after <see cref="MaxWaitFrames"/> later frames are complete, after <see cref="MaxWaitPackets"/> packets past its
/// hole, or when the buffer is full. A given-up frame breaks the decoding chain: <see cref="NeedsKeyFrame"/> is set
/// and delta frames are discarded until a key frame was emitted. Single-threaded: one instance per track, used by
/// one owner.
/// </summary>
internal sealed class VideoDepacketizer
{
    /// <summary>Complete later frames that may wait behind an incomplete one (about 100 ms at 30 fps: an RTX repair's round trip).</summary>
    public const int MaxWaitFrames = 3;
    /// <summary>
    /// Packets past the first hole after which the hole is given up. Larger than a key frame's burst (100+ packets
    /// at 1080p), so one lost packet of a key frame can still be repaired while the rest of it arrives.
    /// </summary>
    public const int MaxWaitPackets = 256;
    /// <summary>Ring size: the most packets buffered; a packet further ahead than this pushes the oldest out.</summary>
    public const int Capacity = 2048;
    /// <summary>Payload bytes buffered at most: a flood of packets whose frames never complete is dropped beyond this.</summary>
    public const long MaxBufferedBytes = 8 * 1024 * 1024;
    /// <summary>A packet this far behind the oldest buffered one is a restarted sequence, not a late packet.</summary>
    private const int ResetDistance = 8192;

    private readonly FrameBuilder _builder;
    private readonly BufferedPacket?[] _ring = new BufferedPacket?[Capacity];
    private readonly List<BufferedPacket> _framePackets = [];
    private bool _started;
    private long _next;     // extended sequence number of the next packet to emit or drop
    private long _highest;  // highest extended sequence number received
    private long _bufferedBytes;
    private int _bufferedCount;
    // The last packet removed (emitted or dropped), for whether the packet after it starts a frame.
    private long _removedSequence = -1;
    private uint _removedTimestamp;
    private bool _removedEnd;
    private int _lastPictureId = -1;
    private int _lastPictureIdBits;

    public VideoDepacketizer(VideoCodecKind codec)
    {
        Codec = codec;
        _builder = codec switch
        {
            VideoCodecKind.Vp8 => new Vp8FrameBuilder(),
            VideoCodecKind.Vp9 => new Vp9FrameBuilder(),
            VideoCodecKind.H264 => new H264FrameBuilder(),
            VideoCodecKind.Av1 => new Av1FrameBuilder(),
            _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "no depacketizer for this codec"),
        };
    }

    public VideoCodecKind Codec { get; }

    /// <summary>
    /// True from the start (a recording begins at a key frame) and after a loss that broke the decoding chain, until
    /// the next key frame was emitted: the caller asks the publisher for one (PLI) while it is set.
    /// </summary>
    public bool NeedsKeyFrame { get; private set; } = true;
    public long FramesEmitted { get; private set; }
    /// <summary>Incomplete frames given up, malformed frames, and frames discarded while waiting for a key frame.</summary>
    public long FramesDropped { get; private set; }
    /// <summary>Packets whose payload was malformed (treated as lost), plus packets of frames that turned out malformed.</summary>
    public long PacketsRejected { get; private set; }
    /// <summary>Duplicates of a buffered packet.</summary>
    public long PacketsDuplicated { get; private set; }
    /// <summary>Packets that arrived after their place was already emitted or given up (late repairs, old duplicates).</summary>
    public long PacketsLate { get; private set; }
    public long BufferedBytes => _bufferedBytes;
    public int BufferedPackets => _bufferedCount;

    /// <summary>AV1: av1C from the latest sequence header; H.264: avcC from the first SPS/PPS; else null.</summary>
    public byte[]? CodecPrivate => _builder.CodecPrivate;

    /// <summary>
    /// One RTP packet of the track (after SRTP, after RTX repair: the original sequence number). Packets may arrive
    /// reordered (a few) or duplicated, some never arrive. Padding-only packets should be pushed too, with an empty
    /// payload: their sequence numbers then do not read as loss. Completed frames are appended to
    /// <paramref name="output"/>, in increasing sequence order.
    /// </summary>
    public void Push(ushort sequenceNumber, uint timestamp, bool marker, ReadOnlySpan<byte> payload, List<AssembledFrame> output)
    {
        long ext;
        if (!_started)
        {
            _started = true;
            ext = (1L << 32) + sequenceNumber; // far from zero: arithmetic below never goes negative
            _next = ext;
            _highest = ext - 1;
            AssumeBoundaryBefore(ext);
        }
        else
        {
            ext = _highest + (short)(sequenceNumber - (ushort)_highest);
        }

        if (ext < _next)
        {
            if (_next - ext < ResetDistance)
            {
                PacketsLate++;
                return;
            }
            ext = Reset(sequenceNumber);
        }

        PacketTraits traits = default;
        var filler = payload.IsEmpty;
        if (!filler && !_builder.TryClassify(payload, out traits))
        {
            PacketsRejected++;
            return;
        }

        if (ext >= _next + Capacity)
        {
            // Far ahead: everything that cannot share the ring with it is given up.
            DropUntil(ext - Capacity + 1, lossKnown: true);
            if (_next < ext - Capacity + 1) _next = ext - Capacity + 1;
        }

        var slot = (int)(ext & (Capacity - 1));
        if (_ring[slot] is { } existing && existing.Sequence == ext)
        {
            PacketsDuplicated++;
            return;
        }
        _ring[slot] = new BufferedPacket
        {
            Sequence = ext, Timestamp = timestamp, Marker = marker, Filler = filler, Payload = payload.ToArray(), Traits = traits,
        };
        _bufferedBytes += payload.Length;
        _bufferedCount++;
        if (ext > _highest) _highest = ext;
        Process(output);
    }

    /// <summary>
    /// The end of the track: frames still held behind an incomplete one are emitted (the incomplete ones given up).
    /// The depacketizer can be used on afterwards.
    /// </summary>
    public void Flush(List<AssembledFrame> output)
    {
        while (_bufferedCount > 0)
        {
            Process(output);
            if (_bufferedCount == 0) break;
            var scan = Scan();
            if (scan.FirstStart >= 0) DropUntil(scan.FirstStart, lossKnown: false, scan.FirstPictureId);
            else DropUntil(_highest + 1, lossKnown: true);
        }
    }

    private BufferedPacket? Get(long sequence)
    {
        if (sequence < _next || sequence > _highest) return null;
        var p = _ring[(int)(sequence & (Capacity - 1))];
        return p is not null && p.Sequence == sequence ? p : null;
    }

    private void Remove(BufferedPacket p)
    {
        _ring[(int)(p.Sequence & (Capacity - 1))] = null;
        _bufferedBytes -= p.Payload.Length;
        _bufferedCount--;
        _removedSequence = p.Sequence;
        _removedTimestamp = p.Timestamp;
        _removedEnd = p.Marker || p.Filler;
    }

    /// <summary>
    /// A restarted sequence: everything buffered is given up and numbering continues above all earlier extended
    /// sequence numbers (frames keep coming out in increasing <see cref="AssembledFrame.FirstSequence"/>).
    /// </summary>
    private long Reset(ushort sequenceNumber)
    {
        DropUntil(_highest + 1, lossKnown: true);
        var floor = Math.Max(_highest, _next) + Capacity;
        var ext = floor + (ushort)(sequenceNumber - (ushort)floor);
        _next = ext;
        _highest = ext - 1;
        AssumeBoundaryBefore(ext);
        _lastPictureId = -1;
        return ext;
    }

    /// <summary>
    /// The first packet of a stream is taken to start a frame when its payload allows (H.264 and AV1 have no start
    /// flag otherwise). Joining mid-frame is harmless: until a key frame, only key frames are emitted, and a key frame
    /// is only complete from its first packet.
    /// </summary>
    private void AssumeBoundaryBefore(long ext)
    {
        _removedSequence = ext - 1;
        _removedTimestamp = 0;
        _removedEnd = true;
    }

    /// <summary>Whether the packet at <paramref name="sequence"/> begins a frame: by its own flag, or by the packet before it.</summary>
    private bool StartsFrame(long sequence, BufferedPacket p)
    {
        if (p.Filler || !p.Traits.CanStart) return false;
        if (p.Traits.DefiniteStart) return true;
        if (Get(sequence - 1) is { } prev) return prev.Filler || prev.Marker || prev.Timestamp != p.Timestamp;
        return _removedSequence == sequence - 1 && (_removedEnd || _removedTimestamp != p.Timestamp);
    }

    private struct ScanResult
    {
        public long FirstStart;     // first packet of the first complete frame, -1 if none
        public long FirstEnd;
        public int FirstPictureId;
        public int Complete;        // complete frames found (up to MaxWaitFrames + 1)
        public long FirstHole;      // first missing sequence number at or after _next, -1 if none up to _highest
        public long NextStartAfterNext; // first packet after _next that starts a frame, -1 if none
    }

    private ScanResult Scan()
    {
        var r = new ScanResult { FirstStart = -1, FirstEnd = -1, FirstPictureId = -1, FirstHole = -1, NextStartAfterNext = -1 };
        var s = _next;
        while (s <= _highest)
        {
            var p = Get(s);
            if (p is null)
            {
                if (r.FirstHole < 0) r.FirstHole = s;
                s++;
                continue;
            }
            if (!StartsFrame(s, p))
            {
                s++;
                continue;
            }
            if (s > _next && r.NextStartAfterNext < 0) r.NextStartAfterNext = s;
            var e = s;
            var complete = false;
            while (true)
            {
                var q = Get(e)!;
                if (q.Marker) { complete = true; break; }
                var n = Get(e + 1);
                if (n is null) break;
                if (n.Filler || n.Timestamp != q.Timestamp) { complete = true; break; }
                e++;
            }
            if (complete)
            {
                if (r.Complete == 0)
                {
                    r.FirstStart = s;
                    r.FirstEnd = e;
                    r.FirstPictureId = p.Traits.PictureId;
                }
                if (++r.Complete > MaxWaitFrames) break;
            }
            else if (r.FirstHole < 0) r.FirstHole = e + 1;
            s = e + 1;
        }
        return r;
    }

    private void Process(List<AssembledFrame> output)
    {
        while (_bufferedCount > 0)
        {
            // Padding at the head of the buffer is done with.
            while (Get(_next) is { Filler: true } f)
            {
                Remove(f);
                _next++;
            }
            if (_bufferedCount == 0) break;

            var scan = Scan();
            if (scan.FirstStart == _next)
            {
                Emit(scan.FirstStart, scan.FirstEnd, output);
                continue;
            }
            var giveUp = scan.Complete >= MaxWaitFrames
                || (scan.FirstHole >= 0 && _highest - scan.FirstHole >= MaxWaitPackets)
                || _bufferedBytes > MaxBufferedBytes;
            if (!giveUp) break;
            if (scan.FirstStart >= 0) DropUntil(scan.FirstStart, lossKnown: false, scan.FirstPictureId);
            else if (scan.NextStartAfterNext >= 0) DropUntil(scan.NextStartAfterNext, lossKnown: true);
            else DropUntil(_highest + 1, lossKnown: true);
        }
    }

    /// <summary>
    /// Gives up everything before <paramref name="until"/>. Without <paramref name="lossKnown"/> and with nothing
    /// buffered there, the hole may have been padding that was never pushed: consecutive VP8/VP9 PictureIDs across it
    /// prove no frame was lost.
    /// </summary>
    private void DropUntil(long until, bool lossKnown, int pictureIdAfter = -1)
    {
        var frames = 0;
        var media = false;
        uint lastTimestamp = 0;
        for (var s = _next; s < until && _bufferedCount > 0; s++)
        {
            if (Get(s) is not { } p) continue;
            if (!p.Filler)
            {
                if (!media || p.Timestamp != lastTimestamp) frames++;
                media = true;
                lastTimestamp = p.Timestamp;
            }
            Remove(p);
        }
        if (until > _next)
        {
            if (!media && !lossKnown && PictureIdFollows(pictureIdAfter))
            {
                // Only padding was missing.
            }
            else
            {
                FramesDropped += Math.Max(frames, 1);
                NeedsKeyFrame = true;
                _lastPictureId = -1;
            }
            _next = until;
        }
    }

    private bool PictureIdFollows(int pictureId)
    {
        if (pictureId < 0 || _lastPictureId < 0) return false;
        var mask = Math.Min(_lastPictureIdBits, 15) == 7 ? 0x7F : 0x7FFF;
        return ((_lastPictureId + 1) & mask) == (pictureId & mask);
    }

    private void Emit(long first, long last, List<AssembledFrame> output)
    {
        _framePackets.Clear();
        for (var s = first; s <= last; s++) _framePackets.Add(Get(s)!);
        var head = _framePackets[0];
        var ok = _builder.TryBuild(_framePackets, out var key, out var width, out var height, out var data);
        foreach (var p in _framePackets) Remove(p);
        _next = last + 1;
        _framePackets.Clear();
        if (!ok)
        {
            PacketsRejected++;
            FramesDropped++;
            NeedsKeyFrame = true;
            _lastPictureId = -1;
            return;
        }
        if (NeedsKeyFrame && !key)
        {
            FramesDropped++;
            return;
        }
        NeedsKeyFrame = false;
        _lastPictureId = head.Traits.PictureId;
        _lastPictureIdBits = head.Traits.PictureIdBits;
        FramesEmitted++;
        output.Add(new AssembledFrame(head.Timestamp, key, key ? width : 0, key ? height : 0, data) { FirstSequence = first });
    }
}
