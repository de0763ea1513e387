using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hibari.Load;
using Hibari.Rtc.Dtls;

// Hibari load tool: 1 synthetic publisher → N synthetic subscribers in one channel, through a running node.
// Reports forwarded packets/s, loss and added latency; with --server-pid also the server's CPU per forwarded packet.
//   dotnet tools/Hibari.Load/bin/Release/net10.0/Hibari.Load.dll --url ws://127.0.0.1:5000/signaling --subscribers 50 \
//     --bitrate 1000 --duration 20 --server-pid 12345
// Simulcast (issue 12): --simulcast makes the publishers send r0, r1, r2 (`simulcast: true`, a=rid/a=simulcast:send, one
// SSRC per layer with MID + RID header extensions); --simulcast-bitrates K0,K1,K2 gives each layer's kbit/s (default
// --bitrate for each); --simulcast-rid rN makes the subscribers ask for that layer (`simulcast_request_rid`; default:
// none sent, Sora's r0). The result adds each layer's sent packets/s; server_us_per_sent_packet is then per packet the
// node received from the publishers (all layers), server_us_per_forwarded_packet per packet the subscribers received.
// --turn udp|tcp: every client goes through the node's TURN server (issue 15), to compare its cost with direct UDP.
// --record API_URL (issue 16): the channel is recorded (Sora_20231220.StartRecording on that node's HTTP API, e.g.
// http://127.0.0.1:5001/) from when every client has joined until the publishers have stopped (StopRecording): one
// archive per publisher. The result adds recording_id and recorded_sent_packets (what the publishers sent meanwhile).

var a = ParseArgs(args);
var url = new Uri(a.GetValueOrDefault("url", "ws://127.0.0.1:5000/signaling"));
// --subscriber-url: subscribers connect there (another node of a cluster: their media is relayed); default --url.
var subscriberUrl = new Uri(a.GetValueOrDefault("subscriber-url", url.ToString()));
// --subscriber-pid: a second node's process (the relay's receiving node), for its CPU per forwarded packet.
int? subscriberPid = a.TryGetValue("subscriber-pid", out var subPidText) ? int.Parse(subPidText, CultureInfo.InvariantCulture) : null;
var channel = a.GetValueOrDefault("channel", "load-" + Guid.NewGuid().ToString("n")[..8]);
var subscribers = int.Parse(a.GetValueOrDefault("subscribers", "10"), CultureInfo.InvariantCulture);
var publishers = int.Parse(a.GetValueOrDefault("publishers", "1"), CultureInfo.InvariantCulture);
var bitrate = int.Parse(a.GetValueOrDefault("bitrate", "1000"), CultureInfo.InvariantCulture);
var packetSize = int.Parse(a.GetValueOrDefault("packet-size", "1000"), CultureInfo.InvariantCulture);
var duration = TimeSpan.FromSeconds(double.Parse(a.GetValueOrDefault("duration", "15"), CultureInfo.InvariantCulture));
var warmup = TimeSpan.FromSeconds(double.Parse(a.GetValueOrDefault("warmup", "3"), CultureInfo.InvariantCulture));
int? serverPid = a.TryGetValue("server-pid", out var pidText) ? int.Parse(pidText, CultureInfo.InvariantCulture) : null;

var certificate = DtlsCertificate.Generate();
var simulcast = a.ContainsKey("simulcast");
var simulcastBitrates = a.TryGetValue("simulcast-bitrates", out var sbText)
    ? sbText.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [bitrate];
var simulcastRid = a.GetValueOrDefault("simulcast-rid");
// --turn udp|tcp (issue 15): every client reaches the node's media port through the node's TURN server, over UDP or TCP.
var turnMode = a.GetValueOrDefault("turn") switch
{
    null => LoadTurnMode.None,
    "udp" => LoadTurnMode.Udp,
    "tcp" => LoadTurnMode.Tcp,
    var other => throw new ArgumentException($"--turn {other}: expected udp or tcp"),
};
// --storm N: N recvonly clients connect at once (no media); reports how many reached `connected` and connect → connected.
if (a.TryGetValue("storm", out var stormText))
    return await StormAsync(url, channel, int.Parse(stormText, CultureInfo.InvariantCulture), serverPid, certificate,
        double.Parse(a.GetValueOrDefault("hold", "0"), CultureInfo.InvariantCulture),
        int.Parse(a.GetValueOrDefault("channels", "1"), CultureInfo.InvariantCulture));
// --soak SECONDS: N subscribers and one publisher for SECONDS, one subscriber replaced every second (leave + join); every
// 10 s one line with the node's RSS and threads and the forwarded rate (bench/soak.sh).
if (a.TryGetValue("soak", out var soakText))
    return await SoakAsync(url, channel, subscribers, bitrate, packetSize, double.Parse(soakText, CultureInfo.InvariantCulture), serverPid, certificate);
// --connect-parallel K: subscribers connect K at a time (default 1, one after another).
var connectParallel = int.Parse(a.GetValueOrDefault("connect-parallel", "1"), CultureInfo.InvariantCulture);
var recordApi = a.TryGetValue("record", out var recordText) ? new Uri(recordText) : null;
if (a.TryGetValue("messaging", out var messageSizeText))
    return await MessagingRunAsync(url, channel, int.Parse(messageSizeText, CultureInfo.InvariantCulture), duration, warmup, serverPid, certificate,
        int.Parse(a.GetValueOrDefault("rate", "0"), CultureInfo.InvariantCulture));
var subs = new List<SyntheticClient>();
var pubs = new List<SyntheticClient>();
try
{
    var setup = Stopwatch.StartNew();
    var offerTimes = new List<double>();
    for (var i = 0; i < subscribers; i += connectParallel)
    {
        var batch = Enumerable.Range(0, Math.Min(connectParallel, subscribers - i))
            .Select(_ => new SyntheticClient(subscriberUrl, channel, new SyntheticClientOptions
            {
                Role = "recvonly", Certificate = certificate, Turn = turnMode,
                ConnectExtra = simulcastRid is null ? null : new System.Text.Json.Nodes.JsonObject { ["simulcast_request_rid"] = simulcastRid },
            })).ToList();
        subs.AddRange(batch);
        await Task.WhenAll(batch.Select(s => s.ConnectAsync()));
        offerTimes.AddRange(batch.Select(s => s.ConnectToOffer.TotalMilliseconds));
    }
    for (var i = 0; i < publishers; i++)
    {
        var p = new SyntheticClient(url, channel, new SyntheticClientOptions
        {
            Role = "sendonly", Certificate = certificate, SimulcastRids = simulcast ? ["r0", "r1", "r2"] : null, Turn = turnMode,
        });
        await p.ConnectAsync();
        offerTimes.Add(p.ConnectToOffer.TotalMilliseconds);
        pubs.Add(p);
    }
    Console.WriteLine($"connected {subscribers} subscribers + {publishers} publishers in {setup.Elapsed.TotalSeconds:F1} s");
    // --idle S: the node's CPU for S seconds with everyone connected and nothing published yet (timers, RTCP,
    // estimators): server_idle_cores, the baseline that server_marginal_us_per_forwarded_packet takes out.
    var idleSeconds = double.Parse(a.GetValueOrDefault("idle", "0"), CultureInfo.InvariantCulture);
    double? idleCores = null;
    if (idleSeconds > 0 && serverPid is { } idlePid)
    {
        await Task.Delay(1000);
        var i0 = ServerCpu(idlePid);
        var idleClock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        idleCores = (ServerCpu(idlePid) - i0).TotalSeconds / idleClock.Elapsed.TotalSeconds;
    }
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
    var recordingId = recordApi is null ? null : await RecordingCallAsync(http, recordApi, "Sora_20231220.StartRecording", channel);
    var recordSent0 = pubs.Sum(p => p.PacketsSent);
    using var stop = new CancellationTokenSource();
    var publishing = pubs.Select(p => simulcast ? p.PublishSimulcastAsync(simulcastBitrates, packetSize, stop.Token) : p.PublishAsync(bitrate, packetSize, stop.Token)).ToList();
    // Subscribers get a re-offer for the new tracks and start on the next key frame: wait for media to flow.
    await Task.Delay(warmup);
    foreach (var s in subs) s.Latency.Clear();
    var received0 = subs.Sum(s => s.PacketsReceived);
    var lost0 = subs.Sum(s => s.PacketsLost);
    var sent0 = pubs.Sum(p => p.PacketsSent);
    long[] LayerSent() => simulcast ? Enumerable.Range(0, pubs[0].LayerRids.Count).Select(l => pubs.Sum(p => p.LayerPacketsSent(l))).ToArray() : [];
    var layerSent0 = LayerSent();
    var cpu0 = serverPid is { } pid0 ? ServerCpu(pid0) : TimeSpan.Zero;
    var subCpu0 = subscriberPid is { } sp0 ? ServerCpu(sp0) : TimeSpan.Zero;
    var clock = Stopwatch.StartNew();
    await Task.Delay(duration);
    var elapsed = clock.Elapsed.TotalSeconds;
    var cpu = serverPid is { } pid1 ? ServerCpu(pid1) - cpu0 : TimeSpan.Zero;
    var subCpu = subscriberPid is { } sp1 ? ServerCpu(sp1) - subCpu0 : TimeSpan.Zero;
    var received = subs.Sum(s => s.PacketsReceived) - received0;
    var lost = subs.Sum(s => s.PacketsLost) - lost0;
    var sent = pubs.Sum(p => p.PacketsSent) - sent0;
    var layerSent = LayerSent().Zip(layerSent0, (x, y) => x - y).ToArray();
    // What each subscriber should get: the sent rate of the layer it asked for (one layer), or of the single layer.
    var forwardedLayer = simulcast ? Math.Max(0, Array.IndexOf(pubs[0].LayerRids.ToArray(), simulcastRid ?? "r0")) : -1;
    var expectedPerSubscriber = simulcast && layerSent.Length > 0 ? layerSent[forwardedLayer] : sent;
    await stop.CancelAsync();
    await Task.WhenAll(publishing.Select(t => t.ContinueWith(_ => { })));
    if (recordApi is not null) await RecordingCallAsync(http, recordApi, "Sora_20231220.StopRecording", channel);
    var recordedSent = recordApi is null ? (long?)null : pubs.Sum(p => p.PacketsSent) - recordSent0;
    var latency = subs.SelectMany(s => s.Latency.Snapshot()).Order().ToArray();
    offerTimes.Sort();
    var result = new
    {
        subscribers, publishers, bitrate_kbps = simulcast ? (int?)null : bitrate, simulcast_bitrates_kbps = simulcast ? simulcastBitrates : null, packet_size = packetSize, seconds = Math.Round(elapsed, 1),
        sent_pps = Math.Round(sent / elapsed), forwarded_pps = Math.Round(received / elapsed),
        expected_pps = Math.Round(expectedPerSubscriber / elapsed * subscribers),
        simulcast, simulcast_rid = simulcast ? simulcastRid ?? "(default)" : null,
        layer_sent_pps = simulcast ? layerSent.Select(x => Math.Round(x / elapsed)).ToArray() : null,
        loss_percent = received + lost == 0 ? 0 : Math.Round(100.0 * lost / (received + lost), 3),
        latency_us_p50 = LatencyRecorder.Percentile(latency, 50), latency_us_p90 = LatencyRecorder.Percentile(latency, 90),
        latency_us_p99 = LatencyRecorder.Percentile(latency, 99), latency_us_max = latency.Length > 0 ? latency[^1] : 0,
        connect_to_offer_ms_p50 = Math.Round(offerTimes[offerTimes.Count / 2], 2),
        server_cpu_cores = serverPid is null ? (double?)null : Math.Round(cpu.TotalSeconds / elapsed, 3),
        server_us_per_forwarded_packet = serverPid is null || received == 0 ? (double?)null : Math.Round(cpu.TotalMicroseconds / received, 2),
        forwarded_pps_per_core = serverPid is null || cpu == TimeSpan.Zero ? (double?)null : Math.Round(received / cpu.TotalSeconds),
        decrypt_failures = subs.Sum(s => s.DecryptFailures),
        server_threads = serverPid is { } tp ? ServerStatus(tp, "Threads:") : null,
        server_rss_mib = serverPid is { } rp ? ServerStatus(rp, "VmRSS:") / 1024 : null,
        server_us_per_sent_packet = serverPid is null || sent == 0 ? (double?)null : Math.Round(cpu.TotalMicroseconds / sent, 2),
        server_idle_cores = idleCores is { } ic ? Math.Round(ic, 4) : (double?)null,
        server_marginal_us_per_forwarded_packet = idleCores is { } ic2 && received > 0 ? Math.Round((cpu.TotalMicroseconds - ic2 * elapsed * 1e6) / received, 2) : (double?)null,
        subscriber_node_cpu_cores = subscriberPid is null ? (double?)null : Math.Round(subCpu.TotalSeconds / elapsed, 3),
        subscriber_node_us_per_sent_packet = subscriberPid is null || sent == 0 ? (double?)null : Math.Round(subCpu.TotalMicroseconds / sent, 2),
        recording_id = recordingId, recorded_sent_packets = recordedSent,
    };
    Console.WriteLine(JsonSerializer.Serialize(result));
    return received > 0 ? 0 : 1;
}
catch (Exception e)
{
    Console.Error.WriteLine("load: " + e.Message);
    return 2;
}
finally
{
    foreach (var c in subs.Concat(pubs)) await c.DisposeAsync();
}

// Messaging through the node: client A sends SIZE-byte messages on #load as fast as its SCTP send buffer takes them
// (the server needs data_channel_messaging = true), client B receives them. Reports messages/s, MB/s, one-way latency.
//   ... Hibari.Load.dll --url ws://127.0.0.1:5000/signaling --messaging 1000 --duration 10 --server-pid 12345 [--rate 1000]
// --rate N paces the sender to N messages/s (latency without queueing); 0 (default) sends as fast as possible.
static async Task<int> MessagingRunAsync(Uri url, string channel, int size, TimeSpan duration, TimeSpan warmup, int? serverPid, DtlsCertificate certificate,
    int rate)
{
    SyntheticClient Make(string direction) => new(url, channel, new SyntheticClientOptions
    {
        Role = "sendonly", Certificate = certificate, DataChannels = true,
        ConnectExtra = new System.Text.Json.Nodes.JsonObject
        {
            ["video"] = false, ["data_channel_signaling"] = true,
            ["data_channels"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["label"] = "#load", ["direction"] = direction }),
        },
    });
    await using var sender = Make("sendonly");
    await using var receiver = Make("recvonly");
    try
    {
        await receiver.ConnectAsync();
        await sender.ConnectAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!(sender.DataChannels?.OpenLabels.Contains("#load") ?? false) || !(receiver.DataChannels?.OpenLabels.Contains("#load") ?? false))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("#load did not open on both clients (data_channel_messaging = true on the server?)");
            await Task.Delay(10);
        }
        long sent = 0;
        var stopAt = Stopwatch.StartNew();
        long received0 = 0, bytes0 = 0, sent0 = 0;
        var cpu0 = TimeSpan.Zero;
        var measuring = false;
        Stopwatch? clock = null;
        while (stopAt.Elapsed < warmup + duration)
        {
            if (!measuring && stopAt.Elapsed >= warmup)
            {
                measuring = true;
                receiver.MessageLatency.Clear();
                received0 = receiver.AppMessagesReceived; bytes0 = receiver.AppBytesReceived; sent0 = sent;
                cpu0 = serverPid is { } p0 ? ServerCpu(p0) : TimeSpan.Zero;
                clock = Stopwatch.StartNew();
            }
            if (rate > 0 && sent >= stopAt.Elapsed.TotalSeconds * rate) { await Task.Delay(1); continue; }
            // Keep about 1 MB in flight: the receiver's rate, not the sender's buffer, sets the pace.
            if (sender.DataChannels!.BufferedAmount < 1_000_000 && sender.SendMessage("#load", SyntheticClient.LoadMessage(size))) sent++;
            else await Task.Delay(1);
        }
        var elapsed = clock!.Elapsed.TotalSeconds;
        var cpu = serverPid is { } p1 ? ServerCpu(p1) - cpu0 : TimeSpan.Zero;
        var received = receiver.AppMessagesReceived - received0;
        var bytes = receiver.AppBytesReceived - bytes0;
        var latency = receiver.MessageLatency.Snapshot().Order().ToArray();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            message_size = size, seconds = Math.Round(elapsed, 1),
            sent_per_s = Math.Round((sent - sent0) / elapsed), received_per_s = Math.Round(received / elapsed),
            received_mb_per_s = Math.Round(bytes / elapsed / 1e6, 2),
            latency_us_p50 = LatencyRecorder.Percentile(latency, 50), latency_us_p99 = LatencyRecorder.Percentile(latency, 99),
            server_cpu_cores = serverPid is null ? (double?)null : Math.Round(cpu.TotalSeconds / elapsed, 3),
            server_us_per_message = serverPid is null || received == 0 ? (double?)null : Math.Round(cpu.TotalMicroseconds / received, 2),
        }));
        return received > 0 ? 0 : 1;
    }
    catch (Exception e)
    {
        Console.Error.WriteLine("load: " + e.Message);
        return 2;
    }
}

// StartRecording / StopRecording for the channel on a node's HTTP API (--record): its recording_id; not 200 → an error.
static async Task<string?> RecordingCallAsync(HttpClient http, Uri api, string target, string channel)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, api)
    {
        Content = new StringContent(JsonSerializer.Serialize(new { channel_id = channel }), System.Text.Encoding.UTF8, "application/json"),
    };
    request.Headers.Add("x-sora-target", target);
    using var response = await http.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    if (response.StatusCode != System.Net.HttpStatusCode.OK)
        throw new InvalidOperationException($"{target} on {api}: {(int)response.StatusCode} {body}");
    using var doc = JsonDocument.Parse(body);
    return doc.RootElement.TryGetProperty("recording_id", out var id) ? id.GetString() : null;
}

// utime + stime of a process from /proc/PID/stat (clock ticks of 10 ms on Linux).
static TimeSpan ServerCpu(int pid)
{
    var stat = File.ReadAllText($"/proc/{pid}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    return TimeSpan.FromMilliseconds(ticks * 10);
}

/// <summary>A number from /proc/PID/status (Threads:, VmRSS: in kB).</summary>
static long? ServerStatus(int pid, string field)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        if (line.StartsWith(field, StringComparison.Ordinal))
            return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    return null;
}

// Connect storm: N recvonly clients start connecting at the same moment; each times WebSocket open → `connected` (ICE,
// DTLS and the node's own connection.created notify). --hold S keeps them connected S seconds and samples the node.
// --channels K spreads them over K channels (one channel: every connect also notifies all the others, N² notifies).
static async Task<int> StormAsync(Uri url, string channel, int n, int? serverPid, DtlsCertificate certificate, double holdSeconds, int channels)
{
    var clients = Enumerable.Range(0, n)
        .Select(i => new SyntheticClient(url, channels <= 1 ? channel : $"{channel}-{i % channels}", new SyntheticClientOptions { Role = "recvonly", Certificate = certificate, Timeout = TimeSpan.FromSeconds(60) }))
        .ToList();
    try
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(clients.Select(async c =>
        {
            try { await c.ConnectAsync(); return (Ok: true, Error: (string?)null); }
            catch (Exception e) { return (Ok: false, Error: e.Message); }
        }));
        var all = clock.Elapsed.TotalSeconds;
        var times = clients.Zip(results).Where(x => x.Second.Ok).Select(x => x.First.ConnectToConnected.TotalMilliseconds).Order().ToArray();
        double P(double q) => times.Length == 0 ? 0 : Math.Round(times[Math.Min(times.Length - 1, (int)Math.Ceiling(times.Length * q / 100) - 1)], 1);
        if (holdSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(holdSeconds));
        var cpu0 = serverPid is { } pid0 ? ServerCpu(pid0) : TimeSpan.Zero;
        if (holdSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(holdSeconds));
        var idleCores = serverPid is { } pid1 && holdSeconds > 0 ? Math.Round((ServerCpu(pid1) - cpu0).TotalSeconds / holdSeconds, 4) : (double?)null;
        var result = new
        {
            storm = n, channels = Math.Max(1, channels), connected = times.Length, failed = n - times.Length, seconds_until_all = Math.Round(all, 2),
            connect_to_connected_ms_p50 = P(50), connect_to_connected_ms_p99 = P(99), connect_to_connected_ms_max = times.Length > 0 ? Math.Round(times[^1], 1) : 0,
            first_error = results.FirstOrDefault(r => !r.Ok).Error,
            server_threads = serverPid is { } tp ? ServerStatus(tp, "Threads:") : null,
            server_rss_mib = serverPid is { } rp ? ServerStatus(rp, "VmRSS:") / 1024 : null,
            server_idle_cores = idleCores,
        };
        Console.WriteLine(JsonSerializer.Serialize(result));
        return times.Length == n ? 0 : 1;
    }
    finally
    {
        foreach (var c in clients) await c.DisposeAsync();
    }
}

static async Task<int> SoakAsync(Uri url, string channel, int n, int bitrate, int packetSize, double seconds, int? serverPid, DtlsCertificate certificate)
{
    SyntheticClient Subscriber() => new(url, channel, new SyntheticClientOptions { Role = "recvonly", Certificate = certificate });
    var subs = new List<SyntheticClient>();
    long receivedByGone = 0, churned = 0, churnFailures = 0;
    await using var pub = new SyntheticClient(url, channel, new SyntheticClientOptions { Role = "sendonly", Certificate = certificate });
    try
    {
        for (var i = 0; i < n; i += 10)
        {
            var batch = Enumerable.Range(0, Math.Min(10, n - i)).Select(_ => Subscriber()).ToList();
            subs.AddRange(batch);
            await Task.WhenAll(batch.Select(s => s.ConnectAsync()));
        }
        await pub.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(bitrate, packetSize, stop.Token);
        var clock = Stopwatch.StartNew();
        var samples = new List<(double T, long Rss, long Threads)>();
        long lastReceived = 0;
        var lastSample = 0.0;
        var nextSample = 10.0;
        Console.WriteLine("t_s,rss_mib,threads,forwarded_pps,subscribers,churned,churn_failures");
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await Task.Delay(1000);
            // Churn: the oldest subscriber leaves, a new one joins.
            var gone = subs[0];
            subs.RemoveAt(0);
            receivedByGone += gone.PacketsReceived;
            await gone.DisposeAsync();
            var fresh = Subscriber();
            try { await fresh.ConnectAsync(); subs.Add(fresh); churned++; }
            catch (Exception) { churnFailures++; receivedByGone += fresh.PacketsReceived; await fresh.DisposeAsync(); }
            var t = clock.Elapsed.TotalSeconds;
            if (t < nextSample) continue;
            nextSample += 10;
            var received = receivedByGone + subs.Sum(s => s.PacketsReceived);
            var pps = (received - lastReceived) / (t - lastSample);
            lastReceived = received;
            lastSample = t;
            long rss = serverPid is { } p1 ? (ServerStatus(p1, "VmRSS:") ?? 0) / 1024 : 0, threads = serverPid is { } p2 ? ServerStatus(p2, "Threads:") ?? 0 : 0;
            samples.Add((t, rss, threads));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{t:F0},{rss},{threads},{pps:F0},{subs.Count},{churned},{churnFailures}"));
        }
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        // Flat after warm-up: every sample from the second minute on within ±10 % of their median.
        var steady = samples.Where(x => x.T >= 60).ToList();
        if (steady.Count == 0) steady = samples;
        double Median(IEnumerable<long> v) { var a = v.Order().ToArray(); return a.Length == 0 ? 0 : a[a.Length / 2]; }
        var rssMedian = Median(steady.Select(x => x.Rss));
        var threadMedian = Median(steady.Select(x => x.Threads));
        bool Flat(IEnumerable<long> v, double median) => median == 0 || v.All(x => Math.Abs(x - median) <= 0.1 * median);
        var summary = new
        {
            soak_seconds = Math.Round(clock.Elapsed.TotalSeconds), subscribers = n, churned, churn_failures = churnFailures,
            rss_mib_median = rssMedian, rss_mib_min = steady.Count > 0 ? steady.Min(x => x.Rss) : 0, rss_mib_max = steady.Count > 0 ? steady.Max(x => x.Rss) : 0,
            threads_median = threadMedian, threads_min = steady.Count > 0 ? steady.Min(x => x.Threads) : 0, threads_max = steady.Count > 0 ? steady.Max(x => x.Threads) : 0,
            rss_flat = Flat(steady.Select(x => x.Rss), rssMedian), threads_flat = Flat(steady.Select(x => x.Threads), threadMedian),
        };
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return summary.rss_flat && summary.threads_flat && churnFailures == 0 ? 0 : 1;
    }
    finally
    {
        foreach (var s in subs) await s.DisposeAsync();
    }
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var d = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument {args[i]}");
        var key = args[i][2..];
        d[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
    }
    return d;
}
