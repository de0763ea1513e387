using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;

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
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_switches_keep_one_gapless_stream_and_end_on_the_asked_layer(int seed)
    {
        var channel = $"sim-switch-{seed}";
        var pub = await ConnectAsync(channel, new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate, SimulcastRids = ["r0", "r1", "r2"] });
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
    }
}
