using System.Diagnostics;
using System.Text.Json;
using Hibari.Load;
using Hibari.Recording;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Sfu;
using Hibari.Tests.Webhooks;

namespace Hibari.Tests.Recording;

/// <summary>
/// Recording end to end in one process (issue 16, docs/decisions.md D-58): a node with the load tool's synthetic
/// publishers (VP8-shaped video, key frames every 2 s), the recording API, a real webhook receiver, the files on disk.
/// The archives are read back with ffprobe where the machine has it (scripts/test.sh installs it).
/// </summary>
[Collection("sfu")]
public sealed class RecordingServiceTests : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private WebhookTestServer _hooks = null!;
    private string _archive = null!;
    private readonly List<SyntheticClient> _clients = [];
    private readonly List<(CancellationTokenSource Stop, Task Publishing)> _publishing = [];

    public async Task InitializeAsync()
    {
        _hooks = await WebhookTestServer.StartAsync();
        _hooks.BodyHandler = (ctx, _) => WebhookTestServer.Answer(ctx, 200, "{}");
        _archive = Path.Combine(Path.GetTempPath(), "hibari-rec-" + Guid.NewGuid().ToString("n")[..8]);
    }

    public async Task DisposeAsync()
    {
        foreach (var (stop, publishing) in _publishing)
        {
            await stop.CancelAsync();
            await publishing.ContinueWith(_ => { });
        }
        foreach (var c in _clients) await c.DisposeAsync();
        await _hooks.DisposeAsync();
        try { Directory.Delete(_archive, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private Task<InProcessNode> NodeAsync(Func<Hibari.Config.HibariOptions, Hibari.Config.HibariOptions>? more = null) =>
        InProcessNode.StartAsync(o =>
        {
            o = o with
            {
                ArchiveDir = _archive, SessionWebhookUrl = _hooks.Url + "/session", EventWebhookUrl = _hooks.Url + "/event",
                RecordingMinFreeDiskSpaceMb = 0,
            };
            return more?.Invoke(o) ?? o;
        });

    private async Task<SyntheticClient> ConnectAsync(InProcessNode node, string channel, string role)
    {
        var c = new SyntheticClient(node.SignalingUrl, channel, new SyntheticClientOptions { Role = role, Certificate = Certificate });
        _clients.Add(c);
        await c.ConnectAsync();
        return c;
    }

    private async Task<SyntheticClient> PublisherAsync(InProcessNode node, string channel, int kbps = 500)
    {
        var p = await ConnectAsync(node, channel, "sendonly");
        var stop = new CancellationTokenSource();
        _publishing.Add((stop, p.PublishAsync(kbps, 1000, stop.Token)));
        return p;
    }

    private List<JsonElement> Hooks(string type) =>
        _hooks.Requests.Where(r => r.Body.ValueKind == JsonValueKind.Object && r.Body.TryGetProperty("type", out var t) && t.GetString() == type)
            .Select(r => r.Body).ToList();

    private async Task<JsonElement> ReportAsync(string recordingId)
    {
        JsonElement? found = null;
        await InProcessNode.EventuallyAsync("the recording.report webhook", () =>
            (found = Hooks("recording.report").Cast<JsonElement?>().FirstOrDefault(b => b!.Value.GetProperty("data").GetProperty("recording_id").GetString() == recordingId)) is not null,
            TimeSpan.FromSeconds(20));
        return found!.Value;
    }

    private static string Str(JsonElement e, string name) => e.GetProperty(name).GetString()!;

    /// <summary>ffprobe's view of a file: (format duration s, [codec_name], video width, height); null without ffprobe.</summary>
    private static (double Duration, string[] Codecs, int Width, int Height)? Probe(string file)
    {
        if (!FfmpegTools.Available()) return null;
        var (code, output, stderr) = FfmpegTools.Run("ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name,width,height", "-of", "json", file);
        Assert.True(code == 0, $"ffprobe {file}: exit {code}: {stderr}");
        var json = JsonDocument.Parse(output).RootElement;
        var streams = json.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.FirstOrDefault(s => s.TryGetProperty("width", out _));
        return (double.Parse(json.GetProperty("format").GetProperty("duration").GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            streams.Select(s => s.GetProperty("codec_name").GetString()!).ToArray(),
            video.ValueKind == JsonValueKind.Object ? video.GetProperty("width").GetInt32() : 0,
            video.ValueKind == JsonValueKind.Object ? video.GetProperty("height").GetInt32() : 0);
    }

    [Fact]
    public async Task StartRecording_writes_each_publishers_archive_its_metadata_and_the_report_with_sora_webhooks()
    {
        await using var node = await NodeAsync();
        var a = await PublisherAsync(node, "rec");
        var b = await PublisherAsync(node, "rec");
        var watcher = await ConnectAsync(node, "rec", "recvonly");
        await InProcessNode.EventuallyAsync("media flows", () => watcher.PacketsReceived > 100);

        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec","metadata":{"who":"test"}}""");
        var clock = Stopwatch.StartNew();
        Assert.Equal(200, started.Status);
        var rid = (string)started.Body!["recording_id"]!;
        Assert.Equal(26, rid.Length);
        Assert.Equal("rec", (string)started.Body["channel_id"]!);
        Assert.Equal(a.SessionId, (string)started.Body["session_id"]!);
        Assert.Equal("test", (string)started.Body["recording_metadata"]!["who"]!);
        Assert.False((bool)started.Body["split_only"]!);

        await InProcessNode.EventuallyAsync("archive.started for both publishers", () => Hooks("archive.started").Count == 2);
        await InProcessNode.EventuallyAsync("the recording.started notify", () => watcher.Messages.Any(n => (string?)n["type"] == "notify" && (string?)n["event_type"] == "recording.started"));
        await Task.Delay(3000);
        var stopped = await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec"}""");
        var seconds = clock.Elapsed.TotalSeconds;
        Assert.Equal(200, stopped.Status);
        Assert.Equal(rid, (string)stopped.Body!["recording_id"]!);

        var report = await ReportAsync(rid);
        Assert.Equal("rec", Str(report, "channel_id"));
        var data = report.GetProperty("data");
        Assert.Equal("test", data.GetProperty("recording_metadata").GetProperty("who").GetString());
        Assert.Equal("API", Str(data, "stop_reason"));
        Assert.True(data.GetProperty("file_written").GetBoolean());
        Assert.Empty(data.GetProperty("failed_archives").EnumerateArray());
        var archives = data.GetProperty("archives").EnumerateArray().ToList();
        Assert.Equal(new[] { a.ConnectionId, b.ConnectionId }.Order(), archives.Select(x => Str(x, "connection_id")).Order());
        var dir = Path.Combine(_archive, rid);
        Assert.True(File.Exists(Path.Combine(dir, $"report-{rid}.json")));
        var reportFile = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, $"report-{rid}.json"))).RootElement;
        Assert.Equal(rid, Str(reportFile, "recording_id"));
        Assert.Equal(2, reportFile.GetProperty("archives").GetArrayLength());

        foreach (var p in new[] { a, b })
        {
            var file = Path.Combine(dir, $"archive-{p.ConnectionId}.webm");
            var entry = archives.Single(x => Str(x, "connection_id") == p.ConnectionId);
            Assert.Equal(file, Str(entry, "file_path"));
            Assert.Equal(new FileInfo(file).Length, entry.GetProperty("size").GetInt64());
            var meta = JsonDocument.Parse(File.ReadAllBytes(Path.ChangeExtension(file, ".json"))).RootElement;
            Assert.Equal(rid, Str(meta, "recording_id"));
            Assert.Equal(p.ConnectionId, Str(meta, "connection_id"));
            Assert.Equal("VP8", Str(meta, "video_codec_type"));
            Assert.True(meta.GetProperty("video").GetBoolean());
            Assert.Equal(320, meta.GetProperty("video_width").GetInt32());
            var stats = meta.GetProperty("stats");
            Assert.True(stats.GetProperty("video_frames").GetInt64() >= 60, $"video frames: {stats}");
            Assert.Equal(0, stats.GetProperty("dropped_packets").GetInt64());
            var available = Hooks("archive.available").Single(h => Str(h, "connection_id") == p.ConnectionId);
            Assert.Equal(rid, Str(available.GetProperty("data"), "recording_id"));
            Assert.Equal(file, Str(available.GetProperty("data"), "file_path"));
            Assert.Equal(p.SessionId, Str(available, "session_id"));
            if (Probe(file) is { } probe)
            {
                Assert.Equal(["vp8"], probe.Codecs);
                Assert.Equal((320, 240), (probe.Width, probe.Height));
                // The file starts at the first key frame after the start (key frames every 2 s, one asked for at once).
                Assert.InRange(probe.Duration, seconds - 1.0, seconds + 0.2);
            }
        }
        Assert.Contains(Hooks("recording.started"), h => Str(h.GetProperty("data"), "recording_id") == rid);
        await InProcessNode.EventuallyAsync("the recording.stopped notify", () => watcher.Messages.Any(n => (string?)n["type"] == "notify" && (string?)n["event_type"] == "recording.stopped"));
    }

    [Fact]
    public async Task The_api_refuses_what_it_cannot_do_with_clear_errors()
    {
        await using var node = await NodeAsync();
        var none = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"nobody-here"}""");
        Assert.Equal(404, none.Status);
        Assert.Equal("SessionNotFound", (string)none.Body!["error_type"]!);
        Assert.Equal(404, (await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"nobody-here"}""")).Status);
        Assert.Equal(400, (await node.ApiAsync("Sora_20231220.StartRecording", "{}")).Status);
        Assert.Equal(400, (await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"c","expire_time":0}""")).Status);
        Assert.Equal(400, (await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"c","split_only":true}""")).Status);
        var mp4 = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"c","format":"mp4"}""");
        Assert.Equal(400, mp4.Status);
        Assert.Contains("webm", (string)mp4.Body!["message"]!);
        Assert.Equal(400, (await node.ApiAsync("Sora_20231220.StartRecording", "[1,2]")).Status);
    }

    [Fact]
    public async Task A_publisher_that_leaves_gets_its_archive_at_once_and_one_that_joins_is_recorded_too_until_expire_time()
    {
        await using var node = await NodeAsync();
        var a = await PublisherAsync(node, "rec-join");
        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-join","expire_time":4}""");
        Assert.Equal(200, started.Status);
        var rid = (string)started.Body!["recording_id"]!;
        Assert.Equal(4, (int)started.Body["expire_time"]!);
        await InProcessNode.EventuallyAsync("a's archive starts", () => Hooks("archive.started").Count == 1);
        await Task.Delay(1000);
        var b = await PublisherAsync(node, "rec-join");
        await InProcessNode.EventuallyAsync("b's archive starts", () => Hooks("archive.started").Any(h => Str(h, "connection_id") == b.ConnectionId));
        await a.DisposeAsync();
        await InProcessNode.EventuallyAsync("a's archive.available while the recording goes on",
            () => Hooks("archive.available").Any(h => Str(h, "connection_id") == a.ConnectionId));
        Assert.Empty(Hooks("recording.report"));
        // No StopRecording: expire_time ends it.
        var report = await ReportAsync(rid);
        Assert.Equal("EXPIRED", Str(report.GetProperty("data"), "stop_reason"));
        Assert.Equal(2, report.GetProperty("data").GetProperty("archives").GetArrayLength());
        Assert.Equal(404, (await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec-join"}""")).Status);
        var bEntry = report.GetProperty("data").GetProperty("archives").EnumerateArray().Single(x => Str(x, "connection_id") == b.ConnectionId);
        Assert.True(bEntry.GetProperty("start_time_offset").GetInt64() >= 1, $"b joined a second in: {bEntry}");
    }

    [Fact]
    public async Task Split_only_writes_numbered_split_files_with_their_webhooks_and_an_end_file()
    {
        await using var node = await NodeAsync();
        var a = await PublisherAsync(node, "rec-split");
        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-split","split_only":true,"split_duration":1}""");
        Assert.Equal(200, started.Status);
        var rid = (string)started.Body!["recording_id"]!;
        // Key frames every 2 s: a split ends at the first key frame after 1 s, so two splits take ~4-6 s.
        await InProcessNode.EventuallyAsync("two split files", () => Hooks("split-archive.available").Count >= 2, TimeSpan.FromSeconds(20));
        Assert.Equal(200, (await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec-split"}""")).Status);
        var report = await ReportAsync(rid);
        var dir = Path.Combine(_archive, rid);
        Assert.False(File.Exists(Path.Combine(dir, $"archive-{a.ConnectionId}.webm")), "split_only writes no whole file");
        var splits = Hooks("split-archive.available").Select(h => h.GetProperty("data")).ToList();
        Assert.Equal(Enumerable.Range(1, splits.Count).Select(i => i.ToString("D4")), splits.Select(s => Str(s, "split_index")));
        foreach (var (s, i) in splits.Select((s, i) => (s, i)))
        {
            Assert.Equal(Path.Combine(dir, $"split-archive-{a.ConnectionId}_{Str(s, "split_index")}.webm"), Str(s, "file_path"));
            Assert.True(File.Exists(Str(s, "file_path")));
            Assert.True(File.Exists(Str(s, "metadata_file_path")));
            // A split that rotated holds from one key frame to the first one after 1 s; the last one ends with the stop.
            if (i < splits.Count - 1 && Probe(Str(s, "file_path")) is { } probe) Assert.InRange(probe.Duration, 0.9, 4.5);
        }
        var end = Assert.Single(Hooks("split-archive.end"));
        Assert.Equal(splits.Count.ToString("D4"), Str(end.GetProperty("data"), "split_last_index"));
        Assert.True(File.Exists(Path.Combine(dir, $"split-archive-end-{a.ConnectionId}.json")));
        var entry = Assert.Single(report.GetProperty("data").GetProperty("archives").EnumerateArray());
        Assert.Equal(splits.Count.ToString("D4"), Str(entry, "split_last_index"));
        Assert.False(entry.TryGetProperty("file_path", out _));
    }

    [Fact]
    public async Task Recording_true_in_the_session_created_answer_records_the_session_from_its_start()
    {
        _hooks.BodyHandler = (ctx, body) =>
            body.TryGetProperty("type", out var t) && t.GetString() == "session.created"
                ? WebhookTestServer.Answer(ctx, 200, """{"recording":true,"recording_metadata":{"from":"answer"}}""")
                : WebhookTestServer.Answer(ctx, 200, "{}");
        await using var node = await NodeAsync();
        var a = await PublisherAsync(node, "rec-answer");
        await InProcessNode.EventuallyAsync("recording.started from the answer", () => Hooks("recording.started").Count == 1);
        var started = Hooks("recording.started")[0].GetProperty("data");
        Assert.Equal("answer", started.GetProperty("recording_metadata").GetProperty("from").GetString());
        Assert.Equal(a.SessionId, Str(started, "session_id"));
        await InProcessNode.EventuallyAsync("a's archive starts", () => Hooks("archive.started").Count == 1);
        // The session ends with its last connection: so does the recording.
        await a.DisposeAsync();
        var report = await ReportAsync(Str(started, "recording_id"));
        Assert.Equal("SESSION-DESTROYED", Str(report.GetProperty("data"), "stop_reason"));
        Assert.Single(report.GetProperty("data").GetProperty("archives").EnumerateArray());
    }

    [Fact]
    public async Task Below_the_free_space_floor_every_archive_stops_with_archive_failed_before_the_disk_fills()
    {
        await using var node = await NodeAsync();
        long free = 10L << 30;
        node.Node.Recordings.Limits = new RecordingLimits(1L << 30, 0, _ => Interlocked.Read(ref free));
        var a = await PublisherAsync(node, "rec-disk");
        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-disk"}""");
        var rid = (string)started.Body!["recording_id"]!;
        await InProcessNode.EventuallyAsync("a's archive starts", () => Hooks("archive.started").Count == 1);
        Interlocked.Exchange(ref free, 100L << 20); // 100 MiB left, the floor is 1 GiB
        var failed = (await ReportAsync(rid)).GetProperty("data");
        Assert.Equal("DISK-FULL", Str(failed, "stop_reason"));
        var f = Assert.Single(failed.GetProperty("failed_archives").EnumerateArray());
        Assert.Equal(a.ConnectionId, Str(f, "connection_id"));
        var hook = Assert.Single(Hooks("archive.failed"));
        Assert.Contains("free disk space", Str(hook.GetProperty("data"), "reason"));
        Assert.Empty(Hooks("archive.available"));
        // The recording ended by itself: the channel is no longer recorded (and may be again).
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec-disk"}""")).Status != 404)
        {
            Assert.True(DateTime.UtcNow < deadline, "the channel stayed recorded after its recording failed");
            await Task.Delay(50);
        }
        Assert.Equal(0, node.Node.Recordings.Active);
    }

    [Fact]
    public async Task A_stalled_disk_drops_recorded_packets_and_counts_them_but_never_slows_forwarding()
    {
        await using var node = await NodeAsync();
        var stall = new ManualResetEventSlim(true);
        node.Node.Recordings.Limits = new RecordingLimits(0, 0, _ => { stall.Wait(TimeSpan.FromSeconds(30)); return long.MaxValue; });
        var a = await PublisherAsync(node, "rec-stall", kbps: 8000); // 1,000 packets/s: the 2,048-slot ring fills in ~2 s
        var watcher = await ConnectAsync(node, "rec-stall", "recvonly");
        await InProcessNode.EventuallyAsync("media flows", () => watcher.PacketsReceived > 100);
        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-stall"}""");
        var rid = (string)started.Body!["recording_id"]!;
        await InProcessNode.EventuallyAsync("a's archive starts", () => Hooks("archive.started").Count == 1);
        stall.Reset(); // the writer's next free-space look blocks: the disk "hangs"
        await Task.Delay(1500);
        var before = watcher.PacketsReceived;
        await Task.Delay(3000);
        var during = watcher.PacketsReceived - before;
        stall.Set();
        Assert.True(during > 2000, $"forwarding slowed while the recording's writer was stalled: {during} packets in 3 s");
        Assert.Equal(200, (await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec-stall"}""")).Status);
        await ReportAsync(rid);
        var meta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_archive, rid, $"archive-{a.ConnectionId}.json"))).RootElement;
        Assert.True(meta.GetProperty("stats").GetProperty("dropped_packets").GetInt64() > 0, $"stats: {meta.GetProperty("stats")}");
        Assert.True(meta.GetProperty("stats").GetProperty("key_frame_requests").GetInt64() >= 2, "the loss asked for a key frame");
    }
    [Fact]
    public async Task The_size_limit_rotates_split_files_and_stops_a_whole_file_with_archive_failed()
    {
        await using var node = await NodeAsync();
        // 200 KB per file; the publisher sends ~250 KB/s, key frames every 2 s.
        node.Node.Recordings.Limits = new RecordingLimits(0, 200_000, _ => long.MaxValue);
        var split = await PublisherAsync(node, "rec-size-split", kbps: 2000);
        var whole = await PublisherAsync(node, "rec-size-whole", kbps: 2000);
        var s1 = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-size-split","split_only":true,"split_duration":3600}""");
        var s2 = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-size-whole"}""");
        Assert.Equal((200, 200), (s1.Status, s2.Status));
        // An hour's split duration, yet the size makes the splits.
        await InProcessNode.EventuallyAsync("two splits ended by size", () =>
            Hooks("split-archive.available").Count(h => Str(h, "connection_id") == split.ConnectionId) >= 2, TimeSpan.FromSeconds(20));
        foreach (var h in Hooks("split-archive.available").Where(h => Str(h, "connection_id") == split.ConnectionId))
            Assert.InRange(h.GetProperty("data").GetProperty("size").GetInt64(), 200_000, 2_000_000);
        await InProcessNode.EventuallyAsync("the whole file stops at the size", () => Hooks("archive.failed").Any(h => Str(h, "connection_id") == whole.ConnectionId));
        var failed = Hooks("archive.failed").Single(h => Str(h, "connection_id") == whole.ConnectionId);
        Assert.Contains("recording_max_file_size_mb", Str(failed.GetProperty("data"), "reason"));
        Assert.Empty(Hooks("split-archive.available").Where(h => Str(h, "connection_id") == whole.ConnectionId));
    }

    [Fact]
    public async Task A_simulcast_publisher_is_recorded_at_one_layer_its_best()
    {
        await using var node = await NodeAsync();
        var pub = new SyntheticClient(node.SignalingUrl, "rec-sim", new SyntheticClientOptions
        {
            Role = "sendonly", Certificate = Certificate, SimulcastRids = ["r0", "r1", "r2"],
        });
        _clients.Add(pub);
        await pub.ConnectAsync();
        var stop = new CancellationTokenSource();
        _publishing.Add((stop, pub.PublishSimulcastAsync([100, 400, 1200], 600, stop.Token)));
        var started = await node.ApiAsync("Sora_20231220.StartRecording", """{"channel_id":"rec-sim"}""");
        var rid = (string)started.Body!["recording_id"]!;
        await InProcessNode.EventuallyAsync("the archive starts", () => Hooks("archive.started").Count == 1);
        var clock = Stopwatch.StartNew();
        await Task.Delay(3000);
        Assert.Equal(200, (await node.ApiAsync("Sora_20231220.StopRecording", """{"channel_id":"rec-sim"}""")).Status);
        var seconds = clock.Elapsed.TotalSeconds;
        await ReportAsync(rid);
        var meta = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_archive, rid, $"archive-{pub.ConnectionId}.json"))).RootElement;
        var frames = meta.GetProperty("stats").GetProperty("video_frames").GetInt64();
        // 30 frames/s per layer: one layer's worth, not three layers' (90/s).
        Assert.InRange(frames, (long)(25 * (seconds - 0.5)), (long)(31 * (seconds + 1)));
        var recorded = meta.GetProperty("stats").GetProperty("recorded_packets").GetInt64();
        Assert.True(recorded > frames * 2, $"all layers' packets reach the recorder ({recorded}), one layer's frames are written ({frames})");
    }
}
