using System.Collections.Concurrent;
using Hibari.Rtc;
using Microsoft.Extensions.Logging;

namespace Hibari.Recording;

/// <summary>What a recording tells its owner (the node's <see cref="RecordingService"/>): webhooks and files of the report.</summary>
internal interface IRecordingEvents
{
    void ArchiveStarted(ChannelRecording recording, ArchiveRecorder archive);
    void ArchiveAvailable(ChannelRecording recording, ArchiveRecorder archive, ArchiveFile file);
    void SplitAvailable(ChannelRecording recording, ArchiveRecorder archive, ArchiveFile file, int index);
    void SplitEnd(ChannelRecording recording, ArchiveRecorder archive);
    void ArchiveFailed(ChannelRecording recording, ArchiveRecorder archive);
    void Ended(ChannelRecording recording, IReadOnlyList<ArchiveRecorder> archives);
}

/// <summary>
/// One recording of a channel's session on this node (docs/decisions.md D-58): its identity and request, and its
/// writer — one loop on the thread pool that owns the archives (their rings' consumer side, the files) and does all
/// the disk work, every <see cref="TickMs"/> ms. Others talk to it only through <see cref="Post"/>; the media workers
/// only fill the archives' rings. A slow disk makes this loop late, never a media worker.
/// </summary>
internal sealed class ChannelRecording
{
    public const int TickMs = 20;

    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly Dictionary<string, ArchiveRecorder> _archives = new(StringComparer.Ordinal);
    private readonly List<ArchiveRecorder> _ended = [];
    private readonly IRecordingEvents _events;
    private readonly ILogger _log;
    private readonly RecordingLimits _limits;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private long _lastLimitCheck;

    public ChannelRecording(string recordingId, string channelId, string sessionId, RecordingRequest request, string archiveDir,
        RecordingLimits limits, IRecordingEvents events, ILogger log)
    {
        RecordingId = recordingId;
        ChannelId = channelId;
        SessionId = sessionId;
        Request = request;
        Directory = Path.GetFullPath(Path.Combine(archiveDir, recordingId));
        CreatedAt = DateTimeOffset.UtcNow;
        StartedMicros = MediaClock.NowMicros();
        _limits = limits;
        _events = events;
        _log = log;
    }

    public string RecordingId { get; }
    public string ChannelId { get; }
    public string SessionId { get; }
    public RecordingRequest Request { get; }
    /// <summary>`archive_dir/&lt;recording_id&gt;`: every file of the recording on this node.</summary>
    public string Directory { get; }
    public DateTimeOffset CreatedAt { get; }
    public long StartedMicros { get; }
    /// <summary>`archive-*.webm` is written unless `split_only`.</summary>
    public bool WritesWhole => !Request.SplitOnly;
    /// <summary>
    /// Split files: with `split_only`, or with `split_duration` when `recording_dual_output` is on (then both); without
    /// it a `split_duration` alone writes the whole file only (D-58).
    /// </summary>
    public bool WritesSplits => Request.SplitDuration is not null && (Request.SplitOnly || DualOutput);
    public bool DualOutput { get; init; }
    /// <summary>`recording_max_file_size_mb` in bytes (0: none).</summary>
    public long MaxFileBytes => _limits.MaxFileBytes;
    public DateTimeOffset? ExpiredAt => Request.ExpireTime is { } s ? CreatedAt.AddSeconds(s) : null;
    /// <summary>Why the recording ended (set once it does).</summary>
    public string? StopReason { get; private set; }
    public DateTimeOffset? StoppedAt { get; private set; }
    public Task Completion => _done.Task;

    /// <summary>The wall-clock time of a media-clock instant of this recording.</summary>
    public DateTimeOffset WallOf(long micros) => CreatedAt.AddTicks((micros - StartedMicros) * 10);

    /// <summary>Whole seconds from the recording's start to <paramref name="micros"/> (never negative).</summary>
    public long OffsetSeconds(long micros, bool roundUp = false)
    {
        var d = Math.Max(0, micros - StartedMicros);
        return roundUp ? (d + 999_999) / 1_000_000 : d / 1_000_000;
    }

    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>Runs <paramref name="command"/> on the writer loop.</summary>
    public void Post(Action command) => _commands.Enqueue(command);

    /// <summary>Starts recording a connection (any thread: it is posted).</summary>
    public void Add(ArchiveRecorder archive) => Post(() =>
    {
        if (StopReason is not null || _archives.ContainsKey(archive.ConnectionId)) return;
        _archives[archive.ConnectionId] = archive;
        archive.RequestKeyFrames(MediaClock.NowMicros());
    });

    /// <summary>The connection left (any thread): its archive is closed.</summary>
    public void Remove(string connectionId) => Post(() =>
    {
        if (_archives.Remove(connectionId, out var a)) End(a);
    });

    /// <summary>Ends the recording (any thread): every archive is closed, then the report is made.</summary>
    public void Stop(string reason) => Post(() => StopNow(reason));

    private void StopNow(string reason)
    {
        if (StopReason is not null) return;
        StopReason = reason;
        StoppedAt = DateTimeOffset.UtcNow;
        foreach (var a in _archives.Values.ToList()) End(a);
        _archives.Clear();
        try { _events.Ended(this, _ended); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogError("Recording {Id}: the report could not be written: {Error}", RecordingId, e.Message);
        }
        _stop.Cancel();
    }

    internal void ArchiveStarted(ArchiveRecorder a) => _events.ArchiveStarted(this, a);

    internal void SplitAvailable(ArchiveRecorder a, ArchiveFile file, int index) => _events.SplitAvailable(this, a, file, index);

    private void End(ArchiveRecorder a)
    {
        a.Finish();
        foreach (var p in a.Publications) p.Worker.Post(() => { if (p.Recorder == a) p.Recorder = null; });
        _ended.Add(a);
        if (a.Failure is not null)
        {
            _log.LogWarning("Recording {Id}: archive of {Connection} failed: {Why}", RecordingId, a.ConnectionId, a.Failure);
            _events.ArchiveFailed(this, a);
            return;
        }
        if (!a.Started) return; // nothing ever arrived: no file, no webhook
        if (a.Whole is { } whole) _events.ArchiveAvailable(this, a, whole);
        if (WritesSplits) _events.SplitEnd(this, a);
    }

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                while (_commands.TryDequeue(out var c)) Run(c);
                if (_stop.IsCancellationRequested) break;
                var now = MediaClock.NowMicros();
                foreach (var a in _archives.Values.ToList())
                {
                    if (a.Pump(now)) continue;
                    _archives.Remove(a.ConnectionId);
                    End(a);
                }
                if (now - _lastLimitCheck >= 1_000_000)
                {
                    _lastLimitCheck = now;
                    CheckLimits();
                }
                try { await Task.Delay(TickMs, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
            }
            // Commands posted after the stop (a late Remove) find nothing to do.
            while (_commands.TryDequeue(out var c)) Run(c);
        }
        finally
        {
            foreach (var a in _archives.Values) a.Fail("node stopping");
            _done.TrySetResult();
        }
    }

    private void Run(Action c)
    {
        try { c(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Logged, and the loop goes on: the other archives and the report still matter.
            _log.LogError(e, "Recording {Id}: a writer command failed", RecordingId);
        }
    }

    /// <summary>
    /// The limits (docs/decisions.md D-58, "Limits"): below the free-space floor every archive stops with an error before
    /// the disk fills; an archive whose whole file passed the size limit is stopped the same way (split files rotate).
    /// </summary>
    private void CheckLimits()
    {
        if (_archives.Count == 0) return;
        if (_limits.FreeBytes(Directory) is { } free && free < _limits.MinFreeBytes)
        {
            foreach (var a in _archives.Values) a.Fail($"free disk space {free} bytes is below recording_min_free_disk_space_mb ({_limits.MinFreeBytes})");
            foreach (var a in _archives.Values.ToList()) End(a);
            _archives.Clear();
            StopNow("DISK-FULL");
            return;
        }
        if (_limits.MaxFileBytes <= 0) return;
        foreach (var a in _archives.Values.ToList())
        {
            if (a.WholeBytes < _limits.MaxFileBytes) continue;
            a.Fail($"the archive reached recording_max_file_size_mb ({_limits.MaxFileBytes} bytes)");
            _archives.Remove(a.ConnectionId);
            End(a);
        }
    }

    /// <summary>Waits for the writer to finish (after <see cref="Stop"/>).</summary>
    public async Task WaitAsync(TimeSpan timeout)
    {
        if (_loop is null) return;
        await Task.WhenAny(_done.Task, Task.Delay(timeout)).ConfigureAwait(false);
    }
}

/// <summary>The disk limits of recordings (docs/decisions.md D-58, "Limits").</summary>
internal sealed record RecordingLimits(long MinFreeBytes, long MaxFileBytes, Func<string, long?> FreeBytes)
{
    /// <summary>Free bytes of the file system that holds <paramref name="path"/> (null when it cannot be read).</summary>
    public static long? DiskFree(string path)
    {
        try
        {
            var dir = path;
            while (!System.IO.Directory.Exists(dir) && Path.GetDirectoryName(dir) is { } parent) dir = parent;
            return new DriveInfo(dir).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
