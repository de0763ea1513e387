using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Config;
using Hibari.Rtc;
using Hibari.Sfu;
using Hibari.Signaling.Messages;
using Hibari.Webhooks;
using Microsoft.Extensions.Logging;

namespace Hibari.Recording;

/// <summary>Why a start or stop was refused (the API turns it into its error).</summary>
internal enum RecordingRefusal { None, SessionNotFound, AlreadyRecording, NotRecording }

/// <summary>
/// The node's recordings (issue 16, docs/decisions.md D-58): which channel's session is being recorded, the archives of
/// its connections here, the webhooks, notifies and files they produce. The registry belongs to the SFU's control
/// context: every entry point posts itself there (<see cref="SfuEngine.PostControl"/>), so the SFU's events, the API
/// and the session webhook's answer never race. The disk work belongs to each recording's writer loop.
/// </summary>
internal sealed class RecordingService : IRecordingEvents, IAsyncDisposable
{
    private readonly HibariOptions _options;
    private readonly SfuEngine _sfu;
    private readonly WebhookClient? _webhooks;
    private readonly ILogger _log;
    // Control context only.
    private readonly Dictionary<string, ChannelRecording> _byChannel = new(StringComparer.Ordinal);
    private readonly List<ChannelRecording> _ending = [];
    private long _started, _archivesStarted, _archivesFailed;

    public RecordingService(HibariOptions options, SfuEngine sfu, WebhookClient? webhooks, ILogger log, RecordingLimits? limits = null)
    {
        _options = options;
        _sfu = sfu;
        _webhooks = webhooks;
        _log = log;
        Limits = limits ?? new RecordingLimits(options.RecordingMinFreeDiskSpaceMb * 1024L * 1024, options.RecordingMaxFileSizeMb * 1024L * 1024, RecordingLimits.DiskFree);
        sfu.ConnectionCreated += info => sfu.PostControl(() => OnConnected(info));
        sfu.ConnectionDestroyed += (info, _, _) => sfu.PostControl(() => OnDisconnected(info));
        sfu.SessionDestroyed += e => sfu.PostControl(() => OnSessionDestroyed(e.ChannelId, e.SessionId));
    }

    /// <summary>This node's name as its webhooks give it (`node_name`, or `hibari@listen_address` without a cluster).</summary>
    private string NodeName => _options.NodeName ?? $"hibari@{_options.ListenAddress}";

    /// <summary>The disk limits new recordings get (tests replace the free-space probe).</summary>
    internal RecordingLimits Limits { get; set; }

    public long RecordingsStarted => Interlocked.Read(ref _started);
    /// <summary>Recordings running (any thread: a counter the control context keeps).</summary>
    public long Active => Interlocked.Read(ref _active);
    private long _active;
    public long ArchivesStarted => Interlocked.Read(ref _archivesStarted);
    public long ArchivesFailed => Interlocked.Read(ref _archivesFailed);

    /// <summary>Runs <paramref name="f"/> on the control context and returns its result.</summary>
    private Task<T> OnControl<T>(Func<T> f)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _sfu.PostControl(() =>
        {
            try { done.TrySetResult(f()); }
            catch (Exception e) { done.TrySetException(e); }
        });
        return done.Task;
    }

    /// <summary>StartRecording / session.created's `recording: true`: records the channel's session on this node.</summary>
    public Task<(ChannelRecording? Recording, RecordingRefusal Refusal)> StartAsync(string channelId, RecordingRequest request,
        string? sessionId = null, string? recordingId = null) => OnControl(() =>
    {
        var session = _sfu.SessionIdOf(channelId);
        if (session is null || (sessionId is not null && session != sessionId)) return ((ChannelRecording?)null, RecordingRefusal.SessionNotFound);
        if (_byChannel.ContainsKey(channelId)) return (null, RecordingRefusal.AlreadyRecording);
        var r = new ChannelRecording(recordingId ?? SoraId.New(), channelId, session, request, _options.ArchiveDir, Limits, this, _log)
        {
            DualOutput = _options.RecordingDualOutput,
        };
        _byChannel[channelId] = r;
        Interlocked.Increment(ref _started);
        Interlocked.Increment(ref _active);
        r.Start();
        Webhook(true, "recording.started", r, null, RecordingData(r));
        Notify(r, "recording.started");
        foreach (var (connection, tracks) in _sfu.Publishers(channelId)) Attach(r, connection.Info, tracks);
        if (request.ExpireTime is { } seconds) _ = ExpireAsync(r, seconds);
        _log.LogInformation("Recording {Id} of channel {Channel} (session {Session}) started", r.RecordingId, channelId, session);
        return (r, RecordingRefusal.None);
    });

    /// <summary>StopRecording: ends the channel's recording here.</summary>
    public Task<(ChannelRecording? Recording, RecordingRefusal Refusal)> StopAsync(string channelId, string reason = "API") => OnControl(() =>
    {
        if (!_byChannel.Remove(channelId, out var r)) return ((ChannelRecording?)null, RecordingRefusal.NotRecording);
        End(r, reason);
        return (r, RecordingRefusal.None);
    });

    /// <summary>The channel's recording here, if any (a snapshot read on the control context).</summary>
    public Task<ChannelRecording?> FindAsync(string channelId) => OnControl(() => _byChannel.GetValueOrDefault(channelId));

    /// <summary>The session.created answer's `recording: true` (D-58).</summary>
    public void StartFromSessionAnswer(string channelId, string sessionId, JsonElement answer)
    {
        var request = RecordingRequest.FromSessionAnswer(answer, _options.RecordingMaxExpireTime, _options.RecordingMaxSplitDuration, out var error);
        if (request is null)
        {
            _log.LogWarning("session.created answer for {Session}: recording not started: {Error}", sessionId, error);
            return;
        }
        _ = StartAsync(channelId, request, sessionId).ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully && t.Result.Refusal != RecordingRefusal.None)
                _log.LogInformation("session.created answer for {Session}: recording not started ({Why})", sessionId, t.Result.Refusal);
        }, TaskScheduler.Default);
    }

    private async Task ExpireAsync(ChannelRecording r, int seconds)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds)).ConfigureAwait(false);
        _sfu.PostControl(() =>
        {
            if (_byChannel.TryGetValue(r.ChannelId, out var current) && current == r)
            {
                _byChannel.Remove(r.ChannelId);
                End(r, "EXPIRED");
            }
        });
    }

    private void End(ChannelRecording r, string reason)
    {
        _ending.Add(r);
        r.Stop(reason);
        Notify(r, "recording.stopped");
        _log.LogInformation("Recording {Id} of channel {Channel} ends: {Reason}", r.RecordingId, r.ChannelId, reason);
        _ = r.Completion.ContinueWith(_ => _sfu.PostControl(() => _ending.Remove(r)), TaskScheduler.Default);
    }

    private void OnConnected(ConnectionInfo info)
    {
        if (!_byChannel.TryGetValue(info.ChannelId, out var r) || r.SessionId != info.SessionId || !info.Publishes) return;
        foreach (var (connection, tracks) in _sfu.Publishers(info.ChannelId, info.ConnectionId)) Attach(r, connection.Info, tracks);
    }

    private void OnDisconnected(ConnectionInfo info)
    {
        if (_byChannel.TryGetValue(info.ChannelId, out var r)) r.Remove(info.ConnectionId);
    }

    private void OnSessionDestroyed(string channelId, string sessionId)
    {
        if (_byChannel.TryGetValue(channelId, out var r) && r.SessionId == sessionId)
        {
            _byChannel.Remove(channelId);
            End(r, "SESSION-DESTROYED");
        }
    }

    private void Attach(ChannelRecording r, ConnectionInfo info, List<Publication> tracks)
    {
        var local = tracks.Where(p => p.RemoteNode is null && !p.Closed).ToList();
        if (local.Count == 0) return;
        var archive = new ArchiveRecorder(r, info, local, MediaClock.NowMicros());
        foreach (var p in archive.Publications) p.Worker.Post(() => { if (!p.Closed) p.Recorder = archive; });
        r.Add(archive);
    }

    /// <summary>Stops every recording (node shutdown) and waits for their files (bounded).</summary>
    public async ValueTask DisposeAsync()
    {
        List<ChannelRecording> all;
        try
        {
            all = await OnControl(() =>
            {
                var list = _byChannel.Values.ToList();
                _byChannel.Clear();
                foreach (var r in list) End(r, "SHUTDOWN");
                return _ending.ToList();
            }).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("Recordings: the control queue did not answer within 5 s at shutdown; their files may be left unfinished");
            return;
        }
        await Task.WhenAll(all.Select(r => r.WaitAsync(TimeSpan.FromSeconds(5)))).ConfigureAwait(false);
    }

    // --- notifies and webhooks ---

    /// <summary>`recording.started` / `recording.stopped` to the channel's connections here (D-58: names UNCONFIRMED in Sora).</summary>
    private void Notify(ChannelRecording r, string eventType)
    {
        var message = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["type"] = "notify",
            ["event_type"] = eventType,
            ["timestamp"] = SoraTimestamp.Format(DateTimeOffset.UtcNow),
            ["channel_id"] = r.ChannelId,
            ["session_id"] = r.SessionId,
            ["recording_id"] = r.RecordingId,
        });
        foreach (var c in _sfu.ConnectedIn(r.ChannelId))
            if (c.Info.SignalingNotify) c.Signaling.SendNotify(message);
    }

    private void Webhook(bool session, string type, ChannelRecording r, ArchiveRecorder? a, JsonObject data)
    {
        _webhooks?.EnqueueRecording(new RecordingWebhookEvent
        {
            ToSessionWebhook = session, Type = type, ChannelId = r.ChannelId, SessionId = r.SessionId,
            ClientId = a?.Info.ClientId, BundleId = a?.Info.BundleId, ConnectionId = a?.ConnectionId, EventMetadata = a?.Info.EventMetadata,
            Data = data,
        });
    }

    /// <summary>The recording's own fields: `recording.started`'s data, StartRecording's answer, the report's first part.</summary>
    public static JsonObject RecordingData(ChannelRecording r)
    {
        var o = new JsonObject
        {
            ["recording_id"] = r.RecordingId,
            ["channel_id"] = r.ChannelId,
            ["session_id"] = r.SessionId,
            ["format"] = "webm",
            ["split_only"] = r.Request.SplitOnly,
            ["created_at"] = r.CreatedAt.ToUnixTimeSeconds(),
            ["start_timestamp"] = SoraTimestamp.Format(r.CreatedAt),
        };
        if (r.Request.SplitDuration is { } split) o["split_duration"] = split;
        if (r.Request.ExpireTime is { } expire)
        {
            o["expire_time"] = expire;
            o["expired_at"] = r.ExpiredAt!.Value.ToUnixTimeSeconds();
        }
        if (r.Request.Metadata is { } md) o["recording_metadata"] = JsonNode.Parse(md.GetRawText());
        return o;
    }

    /// <summary>An archive's fields (archive.* webhooks and the metadata JSON next to the file).</summary>
    private JsonObject ArchiveData(ChannelRecording r, ArchiveRecorder a, ArchiveFile? file)
    {
        var origin = file?.StartMicros ?? a.OriginMicros ?? r.StartedMicros;
        var o = new JsonObject
        {
            ["recording_id"] = r.RecordingId,
            ["channel_id"] = r.ChannelId,
            ["session_id"] = r.SessionId,
            ["client_id"] = a.Info.ClientId,
            ["bundle_id"] = a.Info.BundleId,
            ["connection_id"] = a.ConnectionId,
            ["node_name"] = NodeName,
            ["format"] = "webm",
            ["created_at"] = a.CreatedAt.ToUnixTimeSeconds(),
            ["audio"] = a.HasAudio,
            ["video"] = a.HasVideo,
            ["start_time"] = r.WallOf(origin).ToUnixTimeSeconds(),
            ["start_time_offset"] = r.OffsetSeconds(origin),
            ["start_timestamp"] = SoraTimestamp.Format(r.WallOf(origin)),
        };
        if (a.AudioCodecType is { } ac) o["audio_codec_type"] = ac;
        if (a.Info.AudioBitRate is { } ab) o["audio_bit_rate"] = ab;
        if (a.VideoCodecType is { } vc) o["video_codec_type"] = vc;
        if (a.Info.VideoBitRate is { } vb) o["video_bit_rate"] = vb;
        if (file is { Finished: true })
        {
            o["file_path"] = file.FilePath;
            o["filename"] = file.Filename;
            o["metadata_file_path"] = Path.Combine(file.Directory, file.MetadataFilename);
            o["metadata_filename"] = file.MetadataFilename;
            o["size"] = file.Size;
            if (a.HasVideo && file.Width > 0)
            {
                o["video_width"] = file.Width;
                o["video_height"] = file.Height;
            }
            o["stop_time"] = r.WallOf(file.LastMicros).ToUnixTimeSeconds();
            o["stop_time_offset"] = r.OffsetSeconds(file.LastMicros, roundUp: true);
            o["stop_timestamp"] = SoraTimestamp.Format(r.WallOf(file.LastMicros));
            o["stats"] = Stats(a, file);
        }
        return o;
    }

    private static JsonObject Stats(ArchiveRecorder a, ArchiveFile? file) => new()
    {
        ["audio_frames"] = file?.AudioFrames ?? a.AudioFramesWritten,
        ["video_frames"] = file?.VideoFrames ?? a.VideoFramesWritten,
        ["recorded_packets"] = a.PacketsRecorded,
        ["dropped_packets"] = a.PacketsDropped,
        ["dropped_frames"] = a.FramesDropped,
        ["key_frame_requests"] = a.KeyFrameRequests,
    };

    /// <summary>Writes <paramref name="o"/> to <paramref name="path"/> whole (a temporary file renamed): readers see all or nothing.</summary>
    private static void WriteJson(string path, JsonObject o)
    {
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(o, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    // IRecordingEvents: on the recording's writer loop.

    void IRecordingEvents.ArchiveStarted(ChannelRecording r, ArchiveRecorder a)
    {
        Interlocked.Increment(ref _archivesStarted);
        Webhook(false, "archive.started", r, a, ArchiveData(r, a, null));
    }

    void IRecordingEvents.ArchiveAvailable(ChannelRecording r, ArchiveRecorder a, ArchiveFile file)
    {
        var data = ArchiveData(r, a, file);
        WriteJson(Path.Combine(file.Directory, file.MetadataFilename), data);
        Webhook(false, "archive.available", r, a, data);
    }

    void IRecordingEvents.SplitAvailable(ChannelRecording r, ArchiveRecorder a, ArchiveFile file, int index)
    {
        var data = ArchiveData(r, a, file);
        data["split_index"] = index.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        WriteJson(Path.Combine(file.Directory, file.MetadataFilename), data);
        Webhook(false, "split-archive.available", r, a, data);
    }

    void IRecordingEvents.SplitEnd(ChannelRecording r, ArchiveRecorder a)
    {
        var data = ArchiveData(r, a, null);
        var name = $"split-archive-end-{a.ConnectionId}.json";
        data["split_last_index"] = a.SplitCount.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        data["file_path"] = Path.Combine(r.Directory, name);
        data["filename"] = name;
        if (a.ClosedParts.Count > 0)
        {
            var last = a.ClosedParts[^1].LastMicros;
            data["stop_time"] = r.WallOf(last).ToUnixTimeSeconds();
            data["stop_time_offset"] = r.OffsetSeconds(last, roundUp: true);
            data["stop_timestamp"] = SoraTimestamp.Format(r.WallOf(last));
        }
        data["stats"] = Stats(a, null);
        WriteJson(Path.Combine(r.Directory, name), data);
        Webhook(false, "split-archive.end", r, a, data);
    }

    void IRecordingEvents.ArchiveFailed(ChannelRecording r, ArchiveRecorder a)
    {
        Interlocked.Increment(ref _archivesFailed);
        var data = ArchiveData(r, a, null);
        data["reason"] = a.Failure;
        data["stats"] = Stats(a, null);
        Webhook(false, "archive.failed", r, a, data);
    }

    void IRecordingEvents.Ended(ChannelRecording r, IReadOnlyList<ArchiveRecorder> archives)
    {
        Interlocked.Decrement(ref _active);
        // A recording that ended by itself (the disk floor) leaves the registry here; the others already have.
        _sfu.PostControl(() =>
        {
            if (!_byChannel.TryGetValue(r.ChannelId, out var current) || current != r) return;
            _byChannel.Remove(r.ChannelId);
            _ending.Add(r);
            Notify(r, "recording.stopped");
            _ = r.Completion.ContinueWith(_ => _sfu.PostControl(() => _ending.Remove(r)), TaskScheduler.Default);
        });
        var report = RecordingData(r);
        var stopped = r.StoppedAt ?? DateTimeOffset.UtcNow;
        var name = $"report-{r.RecordingId}.json";
        report["stop_timestamp"] = SoraTimestamp.Format(stopped);
        report["stop_reason"] = r.StopReason;
        report["file_path"] = Path.Combine(r.Directory, name);
        report["filename"] = name;
        var list = new JsonArray();
        var failed = new JsonArray();
        foreach (var a in archives)
        {
            if (a.Failure is not null)
            {
                failed.Add(new JsonObject
                {
                    ["label"] = WebhookBodies.Label, ["node_name"] = NodeName, ["client_id"] = a.Info.ClientId,
                    ["bundle_id"] = a.Info.BundleId, ["connection_id"] = a.ConnectionId, ["reason"] = a.Failure,
                });
                continue;
            }
            if (!a.Started) continue;
            var origin = a.OriginMicros ?? r.StartedMicros;
            var entry = new JsonObject
            {
                ["label"] = WebhookBodies.Label, ["node_name"] = NodeName, ["client_id"] = a.Info.ClientId,
                ["bundle_id"] = a.Info.BundleId, ["connection_id"] = a.ConnectionId,
                ["start_time_offset"] = r.OffsetSeconds(origin), ["start_timestamp"] = SoraTimestamp.Format(r.WallOf(origin)),
                ["stop_time_offset"] = r.OffsetSeconds(a.LastMicros, roundUp: true), ["stop_timestamp"] = SoraTimestamp.Format(r.WallOf(a.LastMicros)),
            };
            if (a.Whole is { } whole)
            {
                entry["file_path"] = whole.FilePath;
                entry["filename"] = whole.Filename;
                entry["metadata_file_path"] = Path.Combine(whole.Directory, whole.MetadataFilename);
                entry["metadata_filename"] = whole.MetadataFilename;
                entry["size"] = whole.Size;
            }
            if (r.WritesSplits) entry["split_last_index"] = a.SplitCount.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
            list.Add(entry);
        }
        // The session may have ended here and opened again while other nodes kept the recording going (a cluster): the
        // earlier part's report on this node is kept in this one (same recording id, same file).
        var path = Path.Combine(r.Directory, name);
        try
        {
            if (File.Exists(path) && JsonNode.Parse(File.ReadAllBytes(path)) is JsonObject earlier)
            {
                foreach (var (key, into) in new[] { ("archives", list), ("failed_archives", failed) })
                    if (earlier[key] is JsonArray old)
                        for (var i = 0; i < old.Count; i++) into.Insert(i, old[i]?.DeepClone());
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            _log.LogWarning("Recording {Id}: the earlier report on this node could not be read: {Error}", r.RecordingId, e.Message);
        }
        report["archives"] = list;
        report["failed_archives"] = failed;
        try
        {
            System.IO.Directory.CreateDirectory(r.Directory);
            WriteJson(path, report);
            report["file_written"] = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogError("Recording {Id}: the report could not be written: {Error}", r.RecordingId, e.Message);
            report["file_written"] = false;
        }
        Webhook(true, "recording.report", r, null, report);
    }
}
