using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Simulcast layer switching through a real node (D-35, D-38): a synthetic publisher sends three layers with key frames
/// every 2 s and on PLIs, a synthetic subscriber receives one stream. Property over random switch times: whatever the
/// requests and their timing, the subscriber sees one SSRC whose sequence numbers never jump (no gap to NACK), and each
/// request ends on the asked layer.
/// </summary>
public sealed class SimulcastSwitchingTests : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private InProcessNode _node = null!;
    private readonly List<SyntheticClient> _clients = [];

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _node.DisposeAsync();
    }

    private async Task<SyntheticClient> ConnectAsync(string channel, SyntheticClientOptions options)
    {
        var c = new SyntheticClient(_node.SignalingUrl, channel, options);
        _clients.Add(c);
        await c.ConnectAsync();
        return c;
    }

    [Theory]
    [InlineData(1, "VP8")]
    [InlineData(2, "VP8")]
    [InlineData(3, "VP8")]
    [InlineData(4, "H264")]
    [InlineData(5, "H264")]
    [InlineData(6, "AV1")]
    public async Task Random_switches_keep_one_gapless_stream_and_end_on_the_asked_layer(int seed, string codec)
    {
        var channel = $"sim-switch-{seed}";
        var pub = await ConnectAsync(channel, new SyntheticClientOptions
        {
            Role = "sendonly", Certificate = Certificate, SimulcastRids = ["r0", "r1", "r2"], VideoCodecType = codec,
        });
        var sub = await ConnectAsync(channel, new SyntheticClientOptions
        {
            Role = "recvonly", Certificate = Certificate, ConnectExtra = new JsonObject { ["simulcast_request_rid"] = "r0" },
        });
        using var stop = new CancellationTokenSource();
        // Layers at clearly different rates: the receive rate tells which one arrives.
        var publishing = pub.PublishSimulcastAsync([100, 400, 1200], 600, stop.Token);
        await InProcessNode.EventuallyAsync("the subscriber receives r0", () => sub.PacketsReceived > 50);
        var random = new Random(seed);
        string[] rids = ["r0", "r1", "r2"];
        var asked = "r0";
        var switches = 0;
        for (var i = 0; i < 6; i++)
        {
            var next = rids[random.Next(3)];
            Assert.True(_node.Node.Sfu.RequestSimulcastRid(channel, sub.ConnectionId!, null, next));
            if (next != asked) switches++;
            asked = next;
            await Task.Delay(random.Next(50, 700)); // random switch times: often before the previous switch completed
        }
        // The last request wins: its layer's rate arrives (r2 ≈ 1.2 Mbit/s, r0 ≈ 100 kbit/s).
        var expectedKbps = asked switch { "r0" => 100, "r1" => 400, _ => 1200 };
        await InProcessNode.EventuallyAsync($"the subscriber receives {asked} (~{expectedKbps} kbit/s)", () =>
        {
            var before = sub.BytesReceived;
            Thread.Sleep(1000);
            var kbps = (sub.BytesReceived - before) * 8 / 1000.0;
            return kbps > expectedKbps * 0.6 && kbps < expectedKbps * 1.6;
        }, TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        var ssrc = Assert.Single(sub.ReceivedSsrcs);
        Assert.NotEqual(0u, ssrc);
        Assert.Equal(0, sub.PacketsLost); // sequence numbers continued across every switch
        Assert.Equal(0, sub.DecryptFailures);
        Assert.True(_node.Node.Sfu.CountersSnapshot().SimulcastLayerSwitches >= (switches > 0 ? 1 : 0));
        // The layers were of the asked codec (their key frames found by its payload format).
        var (status, stats) = await _node.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"{{channel}}","connection_id":"{{pub.ConnectionId}}"}""");
        Assert.Equal(200, status);
        var layers = stats!["hibari"]!["published"]!.AsObject().Select(kv => kv.Value!).Where(t => (string?)t["kind"] == "video").ToList();
        Assert.Equal(3, layers.Count);
        Assert.All(layers, l => Assert.Equal(codec, ((string?)l["codec"])?.ToUpperInvariant()));
        Assert.All(layers, l => Assert.True((long)l["total_received_key_frames"]! > 0));
    }

    private static Task<T> On<T>(Action<Action> post, Func<T> read)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        post(() =>
        {
            try { done.SetResult(read()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task;
    }

    [Fact]
    public async Task A_bandwidth_down_switch_sheds_the_higher_layer_until_the_lower_key_frame_and_stays_gapless()
    {
        const string channel = "sim-shed";
        // The publisher ignores PLIs: key frames every 2 s only, so the wait for the lower layer's is long and certain.
        var pub = await ConnectAsync(channel, new SyntheticClientOptions
        {
            Role = "sendonly", Certificate = Certificate, SimulcastRids = ["r0", "r1", "r2"], IgnoreKeyFrameRequests = true,
        });
        var sub = await ConnectAsync(channel, new SyntheticClientOptions
        {
            // Without transport-cc the node has no estimate for it, and the cap set below stays as set.
            Role = "recvonly", Certificate = Certificate, ConnectExtra = new JsonObject { ["simulcast_request_rid"] = "r2" }, NoTransportCc = true,
        });
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishSimulcastAsync([100, 400, 1200], 600, stop.Token);
        var sfu = _node.Node.Sfu;
        var sessionId = sfu.SessionIdOf(channel)!;
        var (subscription, r2) = await On(sfu.PostControl, () =>
        {
            var session = sfu.SessionById(sessionId)!;
            var receiver = session.Connections.Single(c => c.ConnectionId == sub.ConnectionId);
            var publisher = session.Connections.Single(c => c.ConnectionId == pub.ConnectionId);
            return (receiver.Transport, publisher.Transport);
        });
        var worker = subscription.Worker;
        Subscription Video() => subscription.Subscriptions.Single(s => s.Publication.Layers is not null);
        await InProcessNode.EventuallyAsync("the subscriber gets r2", () => On(worker.Post, () => Video().CurrentRid).Result == "r2");
        // Right after one of r2's key frames (the next is 2 s away), the receiver's bandwidth cap falls to r0 (D-38).
        var keyFrames = await On(r2.Worker.Post, () => r2.Publications.Single(p => p.Rid == "r2").KeyFrames);
        await InProcessNode.EventuallyAsync("an r2 key frame", () => On(r2.Worker.Post, () => r2.Publications.Single(p => p.Rid == "r2").KeyFrames).Result > keyFrames);
        await On(worker.Post, () => Video().CapLayer = 0);
        var receivedAtCap = sub.BytesReceived;
        await Task.Delay(1000);
        // A second later: no r2 frame went out after the one in flight (at 1.2 Mbit/s that would be ~150 KB).
        var shedBytes = sub.BytesReceived - receivedAtCap;
        var (rid, shed) = await On(worker.Post, () => (Video().CurrentRid, Video().ShedPackets));
        Assert.Equal("r2", rid); // still waiting for r0's key frame
        Assert.True(shed > 20, $"{shed} packets shed");
        Assert.True(shedBytes < 30_000, $"{shedBytes} bytes reached the receiver while r2 was shed");
        await InProcessNode.EventuallyAsync("the switch to r0 on its key frame", () => On(worker.Post, () => Video().CurrentRid).Result == "r0",
            TimeSpan.FromSeconds(10));
        // Back up: no shedding on the way up, r2 resumes on its key frame.
        await On(worker.Post, () => Video().CapLayer = int.MaxValue);
        await InProcessNode.EventuallyAsync("back on r2", () => On(worker.Post, () => Video().CurrentRid).Result == "r2", TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.Single(sub.ReceivedSsrcs);
        Assert.Equal(0, sub.PacketsLost); // the shed frames left no gap in the sequence numbers
        Assert.Equal(0, sub.DecryptFailures);
    }
}
