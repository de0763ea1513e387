using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Hibari.Recording.Webm;

/// <summary>The video track of a WebM file: CodecID <c>V_VP8</c>, <c>V_VP9</c>, <c>V_AV1</c> or
/// <c>V_MPEG4/ISO/AVC</c> (H.264 blocks in Annex B, as Sora writes them), its first size, and CodecPrivate if any
/// (see README.md for what each codec wants).</summary>
internal sealed record WebmVideoTrack(string CodecId, int Width, int Height, byte[]? CodecPrivate = null);

/// <summary>The Opus audio track of a WebM file. A null <paramref name="CodecPrivate"/> writes a default OpusHead
/// (version 1, <paramref name="Channels"/>, pre-skip 0, the sample rate, gain 0, channel mapping family 0).</summary>
internal sealed record WebmAudioTrack(int Channels = 2, int SampleRate = 48000, byte[]? CodecPrivate = null);

/// <summary>
/// Writes one recorded connection as WebM (Matroska, RFC 9559) the way Sora lays it out: EBML header, a Segment
/// with a SeekHead, Info, Tracks (video = track 1, audio = track 2), Clusters of SimpleBlocks with known sizes, then
/// Cues. Timestamps are milliseconds (TimestampScale 1,000,000 ns).
/// <para>
/// The output must be seekable: the Segment size, SeekHead, Duration and the video size are patched in place. Until
/// <see cref="Finish"/> the Segment's size is "unknown" and each cluster is written whole when it closes, so a file
/// cut short by a crash still plays up to its last complete cluster. One thread at a time.
/// </para>
/// <para>
/// Times never go backwards within a track: a block older than its track's previous block is written at the
/// previous block's time (and a negative time at 0), since players and muxers downstream assume monotonic tracks.
/// Cluster Timestamps never go backwards either. A block may be earlier than its cluster's Timestamp (another track
/// opened the cluster, or a key frame opens a cluster while an earlier cluster of the other track is later) by up to
/// 32,768 ms, the reach of SimpleBlock's signed 16-bit relative time; an older block is moved up to that limit.
/// </para>
/// </summary>
internal sealed class WebmWriter : IDisposable
{
    public const int VideoTrackNumber = 1;
    public const int AudioTrackNumber = 2;

    /// <summary>A cluster closes before a block more than this many ms after its Timestamp, so that files with rare
    /// key frames (or audio only) still have clusters and cues every few seconds to seek by.</summary>
    public const long MaxClusterDurationMs = 5_000;

    /// <summary>A cluster closes once it holds this many bytes: it is built in memory and written whole.</summary>
    public const int MaxClusterBytes = 4 * 1024 * 1024;

    private const int ClusterSizeWidth = 8;
    /// <summary>The SeekHead area at the start of the Segment: room for the three-entry SeekHead (68 bytes) and a Void
    /// (at least 2), so the Cues entry can be added at <see cref="Finish"/> without moving anything.</summary>
    private const int SeekAreaLength = 80;
    private const int DurationElementLength = 11; // ID (2) + size (1) + 8-byte float
    private const int SizeValueWidth = 4;

    /// <summary>Bytes the video track keeps for its CodecPrivate (element and Void): an av1C record (4 bytes + a
    /// sequence header of some 10–100 bytes) or an avcC with its SPS and PPS fits.</summary>
    public const int CodecPrivateRoom = 512;

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly bool _hasVideo;
    private readonly bool _hasAudio;
    private readonly long _start;
    private readonly long _segmentSizeAt;
    private readonly long _segmentDataStart;
    private readonly long _seekAreaAt;
    private readonly long _infoAt;
    private readonly long _tracksAt;
    private readonly long _durationAt;
    private readonly long _pixelWidthAt;
    private readonly long _pixelHeightAt;
    private readonly long _displayWidthAt;
    private readonly long _displayHeightAt;
    private readonly long _codecPrivateAt;
    private readonly int _codecPrivateRoom;

    private readonly EbmlWriter _cluster = new(64 * 1024);
    private readonly List<CuePoint> _cues = [];
    private long _end;
    private bool _clusterOpen;
    private long _clusterTime;
    private long _lastVideoTime = -1;
    private long _lastAudioTime = -1;
    private long _duration = -1;
    private long _durationWritten;
    private int _width;
    private int _height;
    private bool _finished;
    private bool _disposed;

    private readonly record struct CuePoint(long TimeMs, long ClusterPosition, int Track);

    /// <summary>Writes the file's header (EBML header, Segment start, SeekHead, Info, Tracks) to
    /// <paramref name="output"/>, which must be seekable and writable; the file starts at its current position.</summary>
    public WebmWriter(Stream output, WebmVideoTrack? video, WebmAudioTrack? audio, string writingApp, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(writingApp);
        if (!output.CanSeek || !output.CanWrite) throw new ArgumentException("WebM output must be a writable, seekable stream", nameof(output));
        if (video is null && audio is null) throw new ArgumentException("A WebM file needs a video or an audio track");
        if (video is not null && string.IsNullOrEmpty(video.CodecId)) throw new ArgumentException("Video CodecID missing", nameof(video));
        if (audio is not null && audio.CodecPrivate is null && audio.Channels is not (1 or 2))
            throw new ArgumentException("The default OpusHead (mapping family 0) holds 1 or 2 channels", nameof(audio));
        if (audio is not null && audio.SampleRate <= 0) throw new ArgumentException("Sample rate must be positive", nameof(audio));

        _output = output;
        _leaveOpen = leaveOpen;
        _hasVideo = video is not null;
        _hasAudio = audio is not null;
        var start = output.Position;

        using var w = new EbmlWriter();
        var ebml = w.StartMaster(EbmlId.Ebml, 1);
        w.WriteUInt(EbmlId.EbmlVersion, 1);
        w.WriteUInt(EbmlId.EbmlReadVersion, 1);
        w.WriteUInt(EbmlId.EbmlMaxIdLength, 4);
        w.WriteUInt(EbmlId.EbmlMaxSizeLength, 8);
        w.WriteString(EbmlId.DocType, "webm");
        w.WriteUInt(EbmlId.DocTypeVersion, 4);
        w.WriteUInt(EbmlId.DocTypeReadVersion, 2);
        w.EndMaster(ebml);

        // Segment size "unknown" until Finish patches it: a crashed file is still one readable Segment.
        w.WriteId(EbmlId.Segment);
        var segmentSize = w.Length;
        w.WriteSize(EbmlWriter.UnknownSize8, 8);
        var segmentData = w.Length;

        var seekArea = w.Reserve(SeekAreaLength);

        var info = w.Length;
        var infoMaster = w.StartMaster(EbmlId.Info, 4);
        w.WriteUInt(EbmlId.TimestampScale, 1_000_000);
        w.WriteString(EbmlId.MuxingApp, writingApp);
        w.WriteString(EbmlId.WritingApp, writingApp);
        Span<byte> uid = stackalloc byte[16];
        RandomNumberGenerator.Fill(uid);
        w.WriteBinary(EbmlId.SegmentUid, uid);
        // Duration must be > 0 when present, so a Void holds its place until Finish knows it.
        var duration = w.Length;
        w.WriteVoid(DurationElementLength);
        w.EndMaster(infoMaster);

        var tracks = w.Length;
        var tracksMaster = w.StartMaster(EbmlId.Tracks, 4);
        int pixelWidth = 0, pixelHeight = 0, displayWidth = 0, displayHeight = 0, codecPrivate = 0, codecPrivateRoom = 0;
        if (video is not null)
        {
            _width = Math.Max(0, video.Width);
            _height = Math.Max(0, video.Height);
            var entry = w.StartMaster(EbmlId.TrackEntry, 4);
            w.WriteUInt(EbmlId.TrackNumber, VideoTrackNumber);
            w.WriteUIntFixed(EbmlId.TrackUid, RandomTrackUid(), 8);
            w.WriteUInt(EbmlId.TrackType, 1);
            w.WriteString(EbmlId.CodecId, video.CodecId);
            w.WriteUInt(EbmlId.FlagLacing, 0);
            w.WriteString(EbmlId.Language, "und");
            var v = w.StartMaster(EbmlId.Video, 1);
            // Fixed 4-byte values: SetVideoSize patches them in place.
            pixelWidth = w.WriteUIntFixed(EbmlId.PixelWidth, (uint)_width, SizeValueWidth);
            pixelHeight = w.WriteUIntFixed(EbmlId.PixelHeight, (uint)_height, SizeValueWidth);
            displayWidth = w.WriteUIntFixed(EbmlId.DisplayWidth, (uint)_width, SizeValueWidth);
            displayHeight = w.WriteUIntFixed(EbmlId.DisplayHeight, (uint)_height, SizeValueWidth);
            w.EndMaster(v);
            // CodecPrivate in an area with room to spare (the rest a Void), so SetVideoCodecPrivate can fill or
            // replace it once the first key frame shows what it should be.
            var given = video.CodecPrivate ?? [];
            codecPrivateRoom = Math.Max(CodecPrivateRoom, CodecPrivateElementLength(given.Length, out _) + 2);
            codecPrivate = w.Reserve(codecPrivateRoom);
            WriteCodecPrivateArea(w.At(codecPrivate, codecPrivateRoom), given);
            w.EndMaster(entry);
        }
        if (audio is not null)
        {
            var entry = w.StartMaster(EbmlId.TrackEntry, 4);
            w.WriteUInt(EbmlId.TrackNumber, AudioTrackNumber);
            w.WriteUIntFixed(EbmlId.TrackUid, RandomTrackUid(), 8);
            w.WriteUInt(EbmlId.TrackType, 2);
            w.WriteString(EbmlId.CodecId, "A_OPUS");
            w.WriteUInt(EbmlId.FlagLacing, 0);
            w.WriteString(EbmlId.Language, "und");
            // 80 ms: what an Opus decoder needs to converge after a seek (RFC 7845 §4.6), in ns.
            w.WriteUInt(EbmlId.SeekPreRoll, 80_000_000);
            var a = w.StartMaster(EbmlId.Audio, 1);
            w.WriteUInt(EbmlId.Channels, (ulong)Math.Max(1, audio.Channels));
            w.WriteFloat(EbmlId.SamplingFrequency, audio.SampleRate);
            w.EndMaster(a);
            if (audio.CodecPrivate is { Length: > 0 } ap) w.WriteBinary(EbmlId.CodecPrivate, ap);
            else
            {
                Span<byte> head = stackalloc byte[OpusHeadLength];
                WriteOpusHead(head, audio.Channels, audio.SampleRate);
                w.WriteBinary(EbmlId.CodecPrivate, head);
            }
            w.EndMaster(entry);
        }
        w.EndMaster(tracksMaster);

        _start = start;
        _segmentSizeAt = start + segmentSize;
        _segmentDataStart = start + segmentData;
        _seekAreaAt = start + seekArea;
        _infoAt = start + info;
        _tracksAt = start + tracks;
        _durationAt = start + duration;
        _pixelWidthAt = start + pixelWidth;
        _pixelHeightAt = start + pixelHeight;
        _displayWidthAt = start + displayWidth;
        _displayHeightAt = start + displayHeight;
        _codecPrivateAt = start + codecPrivate;
        _codecPrivateRoom = codecPrivateRoom;

        WriteSeekHead(w.At(seekArea, SeekAreaLength), cuesAt: -1);
        output.Write(w.Written);
        output.Flush();
        _end = start + w.Length;
    }

    /// <summary>Bytes of the file so far, counting the open cluster that is still in memory (it is written whole
    /// when it closes): what the file would hold if it were finished now, less the Cues.</summary>
    public long BytesWritten => _end - _start + _cluster.Length;

    /// <summary>The largest block time written so far, in ms (0 before the first block).</summary>
    public long DurationMs => Math.Max(0, _duration);

    /// <summary>The video size in the Tracks element now.</summary>
    public (int Width, int Height) VideoSize => (_width, _height);

    /// <summary>True once <see cref="Finish"/> has run.</summary>
    public bool IsFinished => _finished;

    /// <summary>Writes one video frame (for H.264, an Annex B access unit). <paramref name="keyFrame"/> opens a new
    /// cluster and a cue point. Empty frames are skipped.</summary>
    public void WriteVideo(long timeMs, bool keyFrame, ReadOnlySpan<byte> frame)
    {
        CheckWritable();
        if (!_hasVideo) throw new InvalidOperationException("This WebM file has no video track");
        if (frame.IsEmpty) return;
        var time = Math.Max(Math.Max(0, timeMs), _lastVideoTime);
        time = WriteBlock(VideoTrackNumber, time, keyFrame, frame);
        _lastVideoTime = time;
    }

    /// <summary>Writes one Opus packet; every audio block is a key frame. Empty packets are skipped.</summary>
    public void WriteAudio(long timeMs, ReadOnlySpan<byte> frame)
    {
        CheckWritable();
        if (!_hasAudio) throw new InvalidOperationException("This WebM file has no audio track");
        if (frame.IsEmpty) return;
        var time = Math.Max(Math.Max(0, timeMs), _lastAudioTime);
        time = WriteBlock(AudioTrackNumber, time, true, frame);
        _lastAudioTime = time;
    }

    /// <summary>Sets PixelWidth/PixelHeight and DisplayWidth/DisplayHeight in the Tracks element already written
    /// (patched in place at once, so a crashed file has them too). Non-positive sizes are ignored.</summary>
    public void SetVideoSize(int width, int height)
    {
        CheckWritable();
        if (!_hasVideo) throw new InvalidOperationException("This WebM file has no video track");
        if (width <= 0 || height <= 0 || (width == _width && height == _height)) return;
        _width = width;
        _height = height;
        Span<byte> value = stackalloc byte[SizeValueWidth];
        EbmlWriter.WriteUnsigned(value, (uint)width);
        PatchAt(_pixelWidthAt, value);
        PatchAt(_displayWidthAt, value);
        EbmlWriter.WriteUnsigned(value, (uint)height);
        PatchAt(_pixelHeightAt, value);
        PatchAt(_displayHeightAt, value);
        _output.Position = _end;
    }

    /// <summary>Sets (or replaces) the video track's CodecPrivate in the Tracks element already written, patched in
    /// place at once; for instance the av1C of the first AV1 key frame (<see cref="Av1CodecConfiguration"/>). False
    /// when it does not fit the room kept for it (<see cref="CodecPrivateRoom"/>, or the constructor's CodecPrivate
    /// plus 2 bytes if larger); an empty value removes it.</summary>
    public bool SetVideoCodecPrivate(ReadOnlySpan<byte> codecPrivate)
    {
        CheckWritable();
        if (!_hasVideo) throw new InvalidOperationException("This WebM file has no video track");
        var length = CodecPrivateElementLength(codecPrivate.Length, out _);
        if (length > _codecPrivateRoom) return false;
        Span<byte> area = _codecPrivateRoom <= 1024 ? stackalloc byte[_codecPrivateRoom] : new byte[_codecPrivateRoom];
        WriteCodecPrivateArea(area, codecPrivate);
        PatchAt(_codecPrivateAt, area);
        _output.Position = _end;
        return true;
    }

    /// <summary>Completes the file: writes the open cluster and the Cues, fills the SeekHead, the Duration and the
    /// Segment size, and flushes. Idempotent; later writes throw.</summary>
    public void Finish()
    {
        if (_finished) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        _finished = true;
        CloseCluster();

        long cuesAt = -1;
        if (_cues.Count > 0)
        {
            cuesAt = _end;
            _cluster.Clear();
            var cues = _cluster.StartMaster(EbmlId.Cues, 8);
            foreach (var cue in _cues)
            {
                var point = _cluster.StartMaster(EbmlId.CuePoint, 1);
                _cluster.WriteUInt(EbmlId.CueTime, (ulong)cue.TimeMs);
                var positions = _cluster.StartMaster(EbmlId.CueTrackPositions, 1);
                _cluster.WriteUInt(EbmlId.CueTrack, (ulong)cue.Track);
                _cluster.WriteUInt(EbmlId.CueClusterPosition, (ulong)cue.ClusterPosition);
                // The cue's block is the one that opened the cluster.
                _cluster.WriteUInt(EbmlId.CueBlockNumber, 1);
                _cluster.EndMaster(positions);
                _cluster.EndMaster(point);
            }
            _cluster.EndMaster(cues);
            _output.Position = _end;
            _output.Write(_cluster.Written);
            _end += _cluster.Length;
            _cluster.Clear();
        }

        Span<byte> area = stackalloc byte[SeekAreaLength];
        WriteSeekHead(area, cuesAt);
        PatchAt(_seekAreaAt, area);

        PatchDuration();

        Span<byte> size = stackalloc byte[8];
        EbmlWriter.WriteSize(size, (ulong)(_end - _segmentDataStart), 8);
        PatchAt(_segmentSizeAt, size);
        _output.Position = _end;
        _output.Flush();
    }

    /// <summary>Finishes the file if <see cref="Finish"/> was not called, then closes the stream unless the
    /// constructor was told to leave it open. An I/O error while finishing propagates after the stream is closed.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            if (!_finished) Finish();
        }
        finally
        {
            _disposed = true;
            _cluster.Dispose();
            if (!_leaveOpen) _output.Dispose();
        }
    }

    private long WriteBlock(int track, long time, bool keyFrame, ReadOnlySpan<byte> frame)
    {
        var startsCluster = !_clusterOpen
            || (keyFrame && track == VideoTrackNumber)
            || time - _clusterTime > MaxClusterDurationMs
            || _cluster.Length >= MaxClusterBytes;
        if (startsCluster)
        {
            CloseCluster();
            // Cluster timestamps never go backwards (players seek by them): a key frame older than the cluster another
            // track opened starts a cluster at that cluster's time, with a negative relative time.
            var clusterTime = Math.Max(time, _clusterTime);
            time = Math.Max(time, clusterTime + short.MinValue);
            OpenCluster(clusterTime, time, track, keyFrame);
        }
        else
        {
            time = Math.Max(time, _clusterTime + short.MinValue);
        }

        var relative = (short)(time - _clusterTime);
        var blockLength = 1 + 2 + 1 + frame.Length; // track vint, relative time, flags, frame
        _cluster.WriteId(EbmlId.SimpleBlock);
        _cluster.WriteSize((ulong)blockLength);
        var block = _cluster.Append(blockLength);
        block[0] = (byte)(0x80 | track);
        BinaryPrimitives.WriteInt16BigEndian(block[1..], relative);
        block[3] = keyFrame ? (byte)0x80 : (byte)0;
        frame.CopyTo(block[4..]);
        if (time > _duration) _duration = time;
        return time;
    }

    private void OpenCluster(long clusterTime, long blockTime, int track, bool keyFrame)
    {
        _cluster.Clear();
        _cluster.WriteId(EbmlId.Cluster);
        _cluster.Reserve(ClusterSizeWidth);
        _cluster.WriteUInt(EbmlId.Timestamp, (ulong)clusterTime);
        _clusterOpen = true;
        _clusterTime = clusterTime;
        // Cue the clusters a player can start decoding at: those opened by a video key frame, or every cluster of
        // an audio-only file.
        // The cue's time is its block's (the first in the cluster), which may be before the cluster's Timestamp.
        if (track == VideoTrackNumber && keyFrame) _cues.Add(new CuePoint(blockTime, _end - _segmentDataStart, VideoTrackNumber));
        else if (!_hasVideo) _cues.Add(new CuePoint(blockTime, _end - _segmentDataStart, AudioTrackNumber));
    }

    private void CloseCluster()
    {
        if (!_clusterOpen) return;
        _clusterOpen = false;
        var idLength = EbmlWriter.IdLength(EbmlId.Cluster);
        EbmlWriter.WriteSize(_cluster.At(idLength, ClusterSizeWidth), (ulong)(_cluster.Length - idLength - ClusterSizeWidth), ClusterSizeWidth);
        _output.Position = _end;
        _output.Write(_cluster.Written);
        _end += _cluster.Length;
        _cluster.Clear();
        // The Duration follows the clusters on disk, so a crashed file still says how long it is (ffmpeg reports no
        // duration at all without it).
        PatchDuration();
        _output.Position = _end;
        // Hand the cluster to the OS now: it is what a crashed file can still be read up to.
        _output.Flush();
    }

    /// <summary>Info's Duration = the largest block time on disk; stays a Void while that is 0 (Duration must be > 0).</summary>
    private void PatchDuration()
    {
        if (_duration <= _durationWritten || _duration <= 0) return;
        Span<byte> duration = stackalloc byte[DurationElementLength];
        EbmlWriter.WriteId(duration, EbmlId.Duration);
        EbmlWriter.WriteSize(duration[2..], 8, 1);
        BinaryPrimitives.WriteDoubleBigEndian(duration[3..], _duration);
        PatchAt(_durationAt, duration);
        _durationWritten = _duration;
    }

    /// <summary>The SeekHead (Info, Tracks, and Cues when written) and a Void filling the rest of the area.</summary>
    private void WriteSeekHead(Span<byte> area, long cuesAt)
    {
        using var w = new EbmlWriter(SeekAreaLength * 2);
        var head = w.StartMaster(EbmlId.SeekHead, 1);
        WriteSeek(w, EbmlId.Info, _infoAt - _segmentDataStart);
        WriteSeek(w, EbmlId.Tracks, _tracksAt - _segmentDataStart);
        if (cuesAt >= 0) WriteSeek(w, EbmlId.Cues, cuesAt - _segmentDataStart);
        w.EndMaster(head);
        w.WriteVoid(SeekAreaLength - w.Length);
        w.Written.CopyTo(area);
    }

    private static void WriteSeek(EbmlWriter w, uint id, long position)
    {
        var seek = w.StartMaster(EbmlId.Seek, 1);
        Span<byte> idBytes = stackalloc byte[4];
        EbmlWriter.WriteId(idBytes, id);
        w.WriteBinary(EbmlId.SeekId, idBytes[..EbmlWriter.IdLength(id)]);
        w.WriteUIntFixed(EbmlId.SeekPosition, (ulong)position, 8);
        w.EndMaster(seek);
    }

    /// <summary>Bytes of a CodecPrivate element holding <paramref name="length"/> bytes (none when empty).</summary>
    private static int CodecPrivateElementLength(int length, out int sizeWidth)
    {
        sizeWidth = EbmlWriter.SizeLength((ulong)length);
        return length == 0 ? 0 : EbmlWriter.IdLength(EbmlId.CodecPrivate) + sizeWidth + length;
    }

    /// <summary>Fills <paramref name="area"/> with a CodecPrivate element (when not empty) and a Void for the rest.
    /// A one-byte rest cannot be a Void, so the size field then takes a byte more.</summary>
    private static void WriteCodecPrivateArea(Span<byte> area, ReadOnlySpan<byte> value)
    {
        var length = CodecPrivateElementLength(value.Length, out var sizeWidth);
        if (area.Length - length == 1 && value.Length > 0)
        {
            sizeWidth++;
            length++;
        }
        if (value.Length > 0)
        {
            EbmlWriter.WriteId(area, EbmlId.CodecPrivate);
            var idLength = EbmlWriter.IdLength(EbmlId.CodecPrivate);
            EbmlWriter.WriteSize(area[idLength..], (ulong)value.Length, sizeWidth);
            value.CopyTo(area[(idLength + sizeWidth)..]);
        }
        if (area.Length > length) EbmlWriter.WriteVoid(area[length..], area.Length - length);
    }

    private void PatchAt(long position, ReadOnlySpan<byte> bytes)
    {
        _output.Position = position;
        _output.Write(bytes);
    }

    private void CheckWritable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_finished) throw new InvalidOperationException("The WebM file is finished: no more blocks can be written");
    }

    private static ulong RandomTrackUid()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong uid;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            uid = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        } while (uid == 0); // TrackUID must not be 0
        return uid;
    }

    /// <summary>Length of the OpusHead of channel mapping family 0 (RFC 7845 §5.1).</summary>
    public const int OpusHeadLength = 19;

    /// <summary>OpusHead for mapping family 0: "OpusHead", version 1, channels, pre-skip 0, input sample rate,
    /// output gain 0, family 0 (little-endian fields, RFC 7845 §5.1).</summary>
    public static void WriteOpusHead(Span<byte> destination, int channels, int sampleRate)
    {
        "OpusHead"u8.CopyTo(destination);
        destination[8] = 1;
        destination[9] = (byte)channels;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], (uint)sampleRate);
        BinaryPrimitives.WriteInt16LittleEndian(destination[16..], 0);
        destination[18] = 0;
    }
}
