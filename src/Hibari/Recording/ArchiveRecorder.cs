using System.Buffers.Binary;
using Hibari.Recording.Depacketize;
using Hibari.Recording.Webm;
using Hibari.Rtc;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Transport;
using Hibari.Sdp;
using Hibari.Sfu;

namespace Hibari.Recording;

/// <summary>
/// One connection's archive in a recording (docs/decisions.md D-58). Two sides:
/// <list type="bullet">
/// <item>the tap, on the publisher's media worker: each packet of its tracks (and each sender report) is copied into a
/// bounded single-producer ring and nothing else happens there; a full ring drops the packet and counts it, so a slow
/// disk never slows forwarding (the lost packets become a dropped frame and a key-frame request);</item>
/// <item>the writer, on the recording's writer loop (<see cref="Pump"/>): drains the ring, reassembles frames, places
/// them on the timeline (<see cref="RecordingTimeline"/>) and writes the WebM file(s).</item>
/// </list>
/// Video waits for its first key frame (up to <see cref="HeaderWaitMicros"/>): the file's header needs the picture
/// size and, for AV1 and H.264, the codec's configuration from it; audio that comes first is kept until then.
/// A simulcast publisher is recorded at its best layer that is flowing, switching layers only on a key frame.
/// </summary>
internal sealed class ArchiveRecorder : IRecordingTap
{
    public const int RingCapacity = 2048;
    /// <summary>How long the header waits for the first video key frame before the file starts without one.</summary>
    public const long HeaderWaitMicros = 3_000_000;
    /// <summary>A layer that sent no frame for this long is given up for a lower one (on the lower one's key frame).</summary>
    private const long LayerSilenceMicros = 1_000_000;
    /// <summary>Audio kept while the header waits (3 s of 20 ms frames and some).</summary>
    private const int MaxPendingAudio = 400;

    private readonly PacketRing _ring = new(RingCapacity);
    private readonly TrackState[] _tracks;
    private readonly RecordingTimeline _timeline = new();
    private readonly List<AssembledFrame> _frames = [];
    private readonly List<(long At, byte[] Frame)> _pendingAudio = [];
    private readonly long _createdMicros;
    private readonly bool _hasVideo, _hasAudio;
    private readonly RtpCodec? _videoCodec;
    private bool _started;              // the header is written (the file(s) exist)
    private long _originMicros = long.MinValue;
    private int _videoLayer = -1;       // the simulcast layer being recorded (index), -1 before the first key frame
    private long _videoLayerLastMicros;
    private ArchiveFile? _whole;
    private ArchiveFile? _part;
    private int _partIndex;
    private WebmVideoTrack? _videoTrack;
    private WebmAudioTrack? _audioTrack;

    public ArchiveRecorder(ChannelRecording recording, ConnectionInfo info, IReadOnlyList<Publication> tracks, long nowMicros)
    {
        Recording = recording;
        Info = info;
        _createdMicros = nowMicros;
        CreatedAt = DateTimeOffset.UtcNow;
        _tracks = tracks.Where(p => p.RemoteNode is null).Select(p => new TrackState(p, _timeline.NewTrack(p.Codec.ClockRate))).ToArray();
        _hasVideo = _tracks.Any(t => t.Publication.Kind == MediaKind.Video);
        _hasAudio = _tracks.Any(t => t.Publication.Kind == MediaKind.Audio);
        _videoCodec = _tracks.FirstOrDefault(t => t.Publication.Kind == MediaKind.Video)?.Publication.Codec;
        foreach (var t in _tracks)
        {
            if (t.Publication.Kind == MediaKind.Video) t.Depacketizer = new VideoDepacketizer(t.Publication.CodecKind);
            // The track's last sender report (Chrome sends one a second for video, every few seconds for audio): the
            // timeline maps by the sender's clock from the first frame instead of switching over later (D-58).
            if (t.Publication.SenderReport is { } sr) t.Clock.OnSenderReport(sr.Ntp, sr.Rtp);
        }
    }

    public ChannelRecording Recording { get; }
    public ConnectionInfo Info { get; }
    public string ConnectionId => Info.ConnectionId;
    public DateTimeOffset CreatedAt { get; }
    /// <summary>The tracks tapped (the caller attaches this recorder to each on its worker).</summary>
    public IEnumerable<Publication> Publications => _tracks.Select(t => t.Publication);
    public bool HasVideo => _hasVideo;
    public bool HasAudio => _hasAudio;
    public string? VideoCodecType => _videoCodec?.CodecType;
    public string? AudioCodecType => _tracks.FirstOrDefault(t => t.Publication.Kind == MediaKind.Audio)?.Publication.Codec.CodecType;

    // --- counters (writer side, except the ring's) ---
    /// <summary>Packets the ring refused (the writer was behind): lost to the recording, not to forwarding.</summary>
    public long PacketsDropped => _ring.Dropped;
    public long PacketsRecorded { get; private set; }
    public long FramesDropped => _tracks.Sum(t => t.Depacketizer?.FramesDropped ?? 0);
    public long KeyFrameRequests { get; private set; }
    public long AudioFramesWritten { get; private set; }
    public long VideoFramesWritten { get; private set; }
    /// <summary>The first failure (a write error, the disk floor); the archive stopped then.</summary>
    public string? Failure { get; private set; }
    public bool Finished { get; private set; }

    /// <summary>The closed files, in order (the whole file, and the splits); the writer adds to it.</summary>
    public List<ArchiveFile> ClosedParts { get; } = [];
    public ArchiveFile? Whole => _whole;
    public int SplitCount => _partIndex;

    // --- the tap (the tracks' media worker) ---

    public void OnRtp(Publication publication, ReadOnlySpan<byte> packet, long nowMicros)
    {
        foreach (var t in _tracks)
            if (t.Publication == publication)
            {
                _ring.TryEnqueue(t, packet, nowMicros);
                return;
            }
    }

    public void OnSenderReport(Publication publication, ulong ntp, uint rtp, long nowMicros)
    {
        Span<byte> b = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(b, ntp);
        BinaryPrimitives.WriteUInt32BigEndian(b[8..], rtp);
        foreach (var t in _tracks)
            if (t.Publication == publication)
            {
                _ring.TryEnqueue(t.ReportMark, b, nowMicros);
                return;
            }
    }

    // --- the writer ---

    /// <summary>Asks every video track for a key frame (the recording starts on one).</summary>
    public void RequestKeyFrames(long nowMicros)
    {
        foreach (var t in _tracks)
            if (t.Publication.Kind == MediaKind.Video)
            {
                t.Publication.RequestKeyFrame(nowMicros);
                KeyFrameRequests++;
            }
    }

    /// <summary>Writes what the tap queued (writer loop). Returns false when the archive failed (its files are closed).</summary>
    public bool Pump(long nowMicros)
    {
        if (Finished) return Failure is null;
        var sink = new Sink(this);
        try
        {
            while (_ring.Drain(ref sink, 512) > 0) { }
            if (!_started && _hasVideo && nowMicros - _createdMicros >= HeaderWaitMicros && _originMicros != long.MinValue) Start();
            if (!_started && _hasVideo && nowMicros - _lastKeyFrameRequest >= 1_000_000)
            {
                // Still no key frame: ask again (the first request can be lost, or the track started later).
                _lastKeyFrameRequest = nowMicros;
                RequestKeyFrames(nowMicros);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"write failed: {e.Message}");
            return false;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A defect on this archive's path must not end the recording's other archives or its report.
            Fail($"recording error: {e.GetType().Name}: {e.Message}");
            return false;
        }
        return true;
    }

    private long _lastKeyFrameRequest;

    private readonly struct Sink(ArchiveRecorder owner) : IPacketSink
    {
        public void OnPacket(object target, Span<byte> packet, long stamp) => owner.Handle(target, packet, stamp);
    }

    private void Handle(object target, Span<byte> packet, long stamp)
    {
        if (Finished) return;
        if (target is ReportMark mark)
        {
            if (packet.Length == 12)
                mark.Track.Clock.OnSenderReport(BinaryPrimitives.ReadUInt64BigEndian(packet), BinaryPrimitives.ReadUInt32BigEndian(packet[8..]));
            return;
        }
        var t = (TrackState)target;
        if (!RtpHeader.TryParse(packet, out var header)) return;
        PacketsRecorded++;
        var payload = header.GetPayload(packet);
        if (t.Depacketizer is null)
        {
            if (payload.IsEmpty) return;
            var at = t.Clock.Place(header.Timestamp, stamp);
            Audio(at, payload);
            return;
        }
        _frames.Clear();
        t.Depacketizer.Push(header.SequenceNumber, header.Timestamp, header.Marker, payload, _frames);
        if (t.Depacketizer.NeedsKeyFrame && stamp - t.LastKeyFrameRequest >= 300_000)
        {
            t.LastKeyFrameRequest = stamp;
            t.Publication.RequestKeyFrame(stamp);
            KeyFrameRequests++;
        }
        foreach (var f in _frames)
        {
            var at = t.Clock.Place(f.RtpTimestamp, stamp);
            Video(t, at, f, stamp);
        }
    }

    private void Audio(long at, ReadOnlySpan<byte> frame)
    {
        if (_originMicros == long.MinValue) _originMicros = at;
        if (!_started)
        {
            if (!_hasVideo) Start();
            else
            {
                if (_pendingAudio.Count < MaxPendingAudio) _pendingAudio.Add((at, frame.ToArray()));
                return;
            }
        }
        WriteAudio(at, frame);
    }

    private void Video(TrackState t, long at, in AssembledFrame f, long now)
    {
        var layer = t.Publication.LayerIndex;
        if (layer != _videoLayer)
        {
            // Switch only onto a key frame: up to a better layer at once, down only when the recorded one went silent.
            var better = layer > _videoLayer;
            var silent = now - _videoLayerLastMicros > LayerSilenceMicros;
            if (!f.KeyFrame || !(better || silent || _videoLayer < 0)) return;
            _videoLayer = layer;
        }
        _videoLayerLastMicros = now;
        if (!_started)
        {
            if (!f.KeyFrame) return;
            if (_originMicros == long.MinValue || at < _originMicros) _originMicros = at;
            // AV1 blocks need the av1C record; H.264 is stored as Sora stores it, Annex B with no avcC (an avcC would
            // make readers take the blocks as length-prefixed; every key frame carries its SPS/PPS, D-58).
            var codecPrivate = t.Publication.CodecKind == VideoCodecKind.Av1 ? t.Depacketizer!.CodecPrivate : null;
            _videoTrack = new WebmVideoTrack(WebmCodecId(), f.Width > 0 ? f.Width : 640, f.Height > 0 ? f.Height : 480, codecPrivate);
            Start();
        }
        WriteVideo(at, f);
    }

    private string WebmCodecId() => _videoCodec?.Name.ToUpperInvariant() switch
    {
        "VP9" => "V_VP9",
        "AV1" => "V_AV1",
        "H264" => "V_MPEG4/ISO/AVC",
        _ => "V_VP8",
    };

    /// <summary>Creates the file(s) and writes the audio that waited for the header.</summary>
    private void Start()
    {
        _started = true;
        if (_hasVideo) _videoTrack ??= new WebmVideoTrack(WebmCodecId(), 640, 480);
        if (_hasAudio) _audioTrack = new WebmAudioTrack();
        if (_originMicros == long.MinValue) _originMicros = MediaClock.NowMicros();
        Directory.CreateDirectory(Recording.Directory);
        if (Recording.WritesWhole) _whole = new ArchiveFile(Recording.Directory, $"archive-{ConnectionId}.webm", _originMicros, _videoTrack, _audioTrack);
        if (Recording.WritesSplits) OpenPart(_originMicros);
        Recording.ArchiveStarted(this);
        foreach (var (at, frame) in _pendingAudio) WriteAudio(at, frame);
        _pendingAudio.Clear();
    }

    private void OpenPart(long startMicros)
    {
        _partIndex++;
        _part = new ArchiveFile(Recording.Directory, $"split-archive-{ConnectionId}_{_partIndex:D4}.webm", startMicros, _videoTrack, _audioTrack);
    }

    private void WriteAudio(long at, ReadOnlySpan<byte> frame)
    {
        if (_part is not null && !_hasVideo) MaybeSplit(at);
        _whole?.WriteAudio(at, frame);
        _part?.WriteAudio(at, frame);
        AudioFramesWritten++;
    }

    private void WriteVideo(long at, in AssembledFrame f)
    {
        if (_part is not null && f.KeyFrame) MaybeSplit(at);
        _whole?.WriteVideo(at, f.KeyFrame, f.Data.Span, f.Width, f.Height);
        _part?.WriteVideo(at, f.KeyFrame, f.Data.Span, f.Width, f.Height);
        VideoFramesWritten++;
    }

    /// <summary>
    /// A split file ends at the first key frame (or audio frame, without video) after `split_duration`, or once it holds
    /// `recording_max_file_size_mb` (D-58, "Limits").
    /// </summary>
    private void MaybeSplit(long at)
    {
        if (_part is null) return;
        var full = Recording.MaxFileBytes > 0 && _part.BytesWritten >= Recording.MaxFileBytes;
        if (!full && at - _part.StartMicros < Recording.Request.SplitDuration!.Value * 1_000_000L) return;
        var done = _part;
        _part = null;
        done.Finish();
        ClosedParts.Add(done);
        Recording.SplitAvailable(this, done, _partIndex);
        OpenPart(at);
    }

    /// <summary>Ends the archive (connection gone, recording stopped): drains what is left and closes the files.</summary>
    public void Finish()
    {
        if (Finished) return;
        try
        {
            Pump(MediaClock.NowMicros());
            if (Failure is not null) return;
            // Frames still waiting behind an incomplete one are written (at their last packet's arrival).
            foreach (var t in _tracks)
            {
                if (t.Depacketizer is null) continue;
                _frames.Clear();
                t.Depacketizer.Flush(_frames);
                var now = MediaClock.NowMicros();
                foreach (var f in _frames) Video(t, t.Clock.Place(f.RtpTimestamp, now), f, now);
            }
            if (!_started && (_pendingAudio.Count > 0 || (_hasVideo && _originMicros != long.MinValue))) Start();
            Finished = true;
            if (_part is { } part)
            {
                _part = null;
                part.Finish();
                ClosedParts.Add(part);
                Recording.SplitAvailable(this, part, _partIndex);
            }
            _whole?.Finish();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail($"write failed: {e.Message}");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fail($"recording error: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Finished = true;
        }
    }

    /// <summary>Stops the archive with <paramref name="why"/>: the files are closed as they are (docs/decisions.md D-58, "Limits").</summary>
    public void Fail(string why)
    {
        if (Failure is not null) return;
        Failure = why;
        Finished = true;
        _whole?.Dispose();
        _part?.Dispose();
    }

    /// <summary>The size of the archive's whole file so far (the size limit stops it; split files rotate instead).</summary>
    public long WholeBytes => _whole?.BytesWritten ?? 0;

    /// <summary>Where the archive starts on the media clock (its first frame), or null before any.</summary>
    public long? OriginMicros => _started ? _originMicros : null;
    public long LastMicros => Math.Max(_whole?.LastMicros ?? 0, ClosedParts.Count > 0 ? ClosedParts[^1].LastMicros : 0);
    public bool Started => _started;

    internal sealed class TrackState
    {
        public TrackState(Publication publication, RecordingTimeline.Track clock)
        {
            Publication = publication;
            Clock = clock;
            ReportMark = new ReportMark(this);
        }

        public Publication Publication { get; }
        public RecordingTimeline.Track Clock { get; }
        public VideoDepacketizer? Depacketizer { get; set; }
        public long LastKeyFrameRequest { get; set; }
        /// <summary>The ring target that marks a sender report of this track.</summary>
        public ReportMark ReportMark { get; }
    }

    internal sealed class ReportMark(TrackState track)
    {
        public TrackState Track { get; } = track;
    }
}
