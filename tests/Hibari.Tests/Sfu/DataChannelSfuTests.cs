using System.Text;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Sfu.Messaging;
using Hibari.Tests.Webhooks;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Data channels through a node in this process with the load tool's clients (their own SCTP + DCEP as DTLS
/// clients): messaging routing (direction, bundle_id, header, compress), refusals of bad data_channels, the auth
/// webhook's data_channels, and data-channel signaling (switched, ignore_disconnect_websocket, re-offers, push,
/// req-stats, disconnect over DC).
/// </summary>
[Collection("sfu")]
public sealed class DataChannelSfuTests : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private InProcessNode _node = null!;
    private readonly List<SyntheticClient> _clients = [];

    public async Task InitializeAsync() =>
        _node = await InProcessNode.StartAsync(o => o with { DataChannelMessaging = true, SignalingBundleId = true });

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _node.DisposeAsync();
    }

    private static JsonObject Label(string label, string direction, Action<JsonObject>? more = null)
    {
        var o = new JsonObject { ["label"] = label, ["direction"] = direction };
        more?.Invoke(o);
        return o;
    }

    private SyntheticClient Client(string channel, JsonObject extra, string role = "sendonly", InProcessNode? node = null)
    {
        var c = new SyntheticClient((node ?? _node).SignalingUrl, channel, new SyntheticClientOptions
        {
            Role = role, Certificate = Certificate, DataChannels = true, ConnectExtra = extra,
        });
        _clients.Add(c);
        return c;
    }

    /// <summary>A messaging client (audio and video off, data_channel_signaling on), connected, its labels open.</summary>
    private async Task<SyntheticClient> MessagingAsync(string channel, params JsonObject[] labels) => await MessagingAsync(channel, null, labels);

    private async Task<SyntheticClient> MessagingAsync(string channel, string? bundleId, params JsonObject[] labels)
    {
        var extra = new JsonObject
        {
            ["video"] = false, ["data_channel_signaling"] = true, ["data_channels"] = new JsonArray(labels.Select(l => (JsonNode)l.DeepClone()).ToArray()),
        };
        if (bundleId is not null) extra["bundle_id"] = bundleId;
        var c = Client(channel, extra);
        await c.ConnectAsync();
        await InProcessNode.EventuallyAsync($"{c.ConnectionId} switched with its labels open",
            () => c.Switched && labels.All(l => c.DataChannels!.OpenLabels.Contains((string)l["label"]!)));
        return c;
    }

    private static int Count(SyntheticClient c, string label, byte[] data) =>
        c.AppMessages.Count(m => m.Label == label && m.Data.AsSpan().SequenceEqual(data));

    [Fact]
    public async Task A_message_reaches_receiving_labels_of_others_but_not_the_sender_sendonly_labels_or_its_bundle()
    {
        const string ch = "route";
        var a = await MessagingAsync(ch, "bundle-a", Label("#chat", "sendrecv"));
        var b = await MessagingAsync(ch, Label("#chat", "recvonly"));
        var c = await MessagingAsync(ch, Label("#chat", "sendonly"));
        var d = await MessagingAsync(ch, "bundle-a", Label("#chat", "sendrecv"));
        var e = await MessagingAsync(ch, Label("#other", "sendrecv"));
        var hello = "hello from a"u8.ToArray();
        Assert.True(a.SendMessage("#chat", hello));
        await InProcessNode.EventuallyAsync("b receives a's message", () => Count(b, "#chat", hello) == 1);

        var fromC = "from c"u8.ToArray();
        Assert.True(c.SendMessage("#chat", fromC));
        await InProcessNode.EventuallyAsync("a and b receive c's message", () => Count(a, "#chat", fromC) == 1 && Count(b, "#chat", fromC) == 1);
        // b's label is recvonly: what it sends there goes nowhere (and is counted as dropped).
        var fromB = "from b"u8.ToArray();
        Assert.True(b.SendMessage("#chat", fromB));
        var dropped = await StatAsync("total_dropped_messages");
        await InProcessNode.EventuallyAsync("b's message on a recvonly label is dropped", () => StatAsync("total_dropped_messages").Result >= 1);

        // By now a's message had every chance to reach the wrong clients.
        Assert.Equal(0, Count(a, "#chat", hello));   // not the sender
        Assert.Equal(0, Count(c, "#chat", hello));   // sendonly
        Assert.Equal(0, Count(d, "#chat", hello));   // same bundle_id as a
        Assert.Empty(e.AppMessages);                  // no #chat at all
        Assert.Equal(0, Count(a, "#chat", fromB) + Count(c, "#chat", fromB) + Count(d, "#chat", fromB));
        Assert.Equal(0, Count(c, "#chat", fromC));
        Assert.Equal(1, Count(d, "#chat", fromC));    // d is not in c's bundle
    }

    private async Task<long> StatAsync(string name)
    {
        var (status, body) = await _node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Equal(200, status);
        return body![name]!.GetValue<long>();
    }

    [Fact]
    public async Task Each_receiver_gets_the_message_in_its_own_labels_form_header_and_compress()
    {
        const string ch = "forms";
        var header = new JsonArray(new JsonObject { ["type"] = "sender_connection_id" });
        var sender = await MessagingAsync(ch, Label("#m", "sendonly", o => o["compress"] = true));
        var plain = await MessagingAsync(ch, Label("#m", "recvonly"));
        var headed = await MessagingAsync(ch, Label("#m", "recvonly", o => o["header"] = header.DeepClone()));
        var zipped = await MessagingAsync(ch, Label("#m", "recvonly", o => { o["header"] = header.DeepClone(); o["compress"] = true; }));
        var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compressible text ", 500)));
        Assert.True(sender.SendMessage("#m", Zlib.Compress(payload)));
        await InProcessNode.EventuallyAsync("all three receive", () => plain.AppMessages.Count == 1 && headed.AppMessages.Count == 1 && zipped.AppMessages.Count == 1);
        Assert.Equal(payload, plain.AppMessages[0].Data);
        var expectedHeaded = Encoding.ASCII.GetBytes(sender.ConnectionId!).Concat(payload).ToArray();
        Assert.Equal(expectedHeaded, headed.AppMessages[0].Data);
        Assert.True(zipped.AppMessages[0].Data.Length < payload.Length / 5, "the compressed receiver gets zlib data");
        Assert.True(Zlib.TryDecompress(zipped.AppMessages[0].Data, 1 << 20, out var inflated));
        Assert.Equal(expectedHeaded, inflated);
        // Not zlib on a compress label: dropped, nobody gets it.
        Assert.True(sender.SendMessage("#m", "not zlib"u8));
        await InProcessNode.EventuallyAsync("the bad message is dropped", () => StatAsync("total_dropped_messages").Result == 1);
        Assert.Single(plain.AppMessages);
    }

    [Fact]
    public async Task Large_and_partially_reliable_labels_work()
    {
        const string ch = "sizes";
        var a = await MessagingAsync(ch, Label("#big", "sendrecv"), Label("#fast", "sendrecv", o => { o["ordered"] = false; o["max_retransmits"] = 0; }));
        var b = await MessagingAsync(ch, Label("#big", "sendrecv"), Label("#fast", "sendrecv", o => { o["ordered"] = false; o["max_retransmits"] = 0; }));
        var fast = b.DataChannels!.OptionsOf("#fast")!;
        Assert.False(fast.Ordered);
        Assert.Equal(0, fast.MaxRetransmits);
        var big = new byte[200_000];
        new Random(3).NextBytes(big);
        Assert.True(a.SendMessage("#big", big));
        for (var i = 0; i < 50; i++) Assert.True(a.SendMessage("#fast", BitConverter.GetBytes(i)));
        await InProcessNode.EventuallyAsync("b gets the 200 KB message whole and the unordered ones",
            () => Count(b, "#big", big) == 1 && b.AppMessages.Count(m => m.Label == "#fast") == 50);
    }

    [Fact]
    public async Task A_burst_faster_than_the_receiver_drains_is_queued_by_the_node_not_dropped()
    {
        const string ch = "burst";
        var a = await MessagingAsync(ch, Label("#b", "sendonly"));
        var b = await MessagingAsync(ch, Label("#b", "recvonly"));
        const int count = 6000;
        var message = new byte[1000];
        for (var sent = 0; sent < count;)
        {
            BitConverter.TryWriteBytes(message, sent);
            if (a.SendMessage("#b", message)) sent++;
            else await Task.Delay(1); // the client's own send buffer is full
        }
        await InProcessNode.EventuallyAsync("b receives every message", () => b.AppMessagesReceived == count, TimeSpan.FromSeconds(60));
        Assert.Equal(0, await StatAsync("total_dropped_messages"));
        // Ordered and reliable: in the order sent.
        var order = b.AppMessages.Select(m => BitConverter.ToInt32(m.Data)).ToList();
        Assert.Equal(Enumerable.Range(0, count), order);
    }

    [Theory]
    [InlineData("""[{"label":"chat","direction":"sendrecv"}]""", true, "must start with #")]
    [InlineData("""[{"label":"#chat"}]""", true, "direction missing")]
    [InlineData("""[{"label":"#chat","direction":"sendrecv"}]""", false, "data_channel_signaling: true")]
    public async Task Invalid_data_channels_are_refused_at_connect_with_a_reason(string dataChannels, bool dcSignaling, string reason)
    {
        var c = Client("refused", new JsonObject { ["video"] = false, ["data_channel_signaling"] = dcSignaling, ["data_channels"] = JsonNode.Parse(dataChannels) });
        var e = await Assert.ThrowsAnyAsync<Exception>(() => c.ConnectAsync());
        Assert.Contains("4424", e.Message);
        Assert.Contains("INVALID-DATA-CHANNELS", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public async Task Messaging_labels_are_refused_when_data_channel_messaging_is_off()
    {
        await using var off = await InProcessNode.StartAsync();
        var c = Client("off", new JsonObject
        {
            ["video"] = false, ["data_channel_signaling"] = true, ["data_channels"] = new JsonArray(Label("#chat", "sendrecv")),
        }, node: off);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => c.ConnectAsync());
        Assert.Contains("data_channel_messaging = true", e.Message);
    }

    [Fact]
    public async Task The_auth_webhooks_data_channels_and_data_channel_signaling_replace_the_clients()
    {
        await using var hook = await WebhookTestServer.StartAsync();
        hook.Handler = ctx => WebhookTestServer.Answer(ctx, 200,
            """{"allowed":true,"data_channel_signaling":true,"data_channels":[{"label":"#from-auth","direction":"sendrecv"}]}""");
        await using var node = await InProcessNode.StartAsync(o => o with { DataChannelMessaging = true, AuthWebhookUrl = hook.Url + "/auth" });
        var a = Client("auth", new JsonObject { ["video"] = false, ["data_channels"] = new JsonArray(Label("#from-client", "sendrecv")) }, node: node);
        var b = Client("auth", new JsonObject { ["video"] = false }, node: node);
        await a.ConnectAsync();
        await b.ConnectAsync();
        var offer = a.Messages.First(m => (string?)m["type"] == "offer");
        Assert.True((bool)offer["data_channel_signaling"]!);
        var labels = offer["data_channels"]!.AsArray().Select(d => (string)d!["label"]!).ToList();
        Assert.Equal(["signaling", "notify", "push", "stats", "#from-auth"], labels);
        await InProcessNode.EventuallyAsync("both have #from-auth", () => a.DataChannels!.OpenLabels.Contains("#from-auth") && b.DataChannels!.OpenLabels.Contains("#from-auth"));
        Assert.DoesNotContain("#from-client", a.DataChannels!.OpenLabels);
        Assert.True(a.SendMessage("#from-auth", "x"u8));
        await InProcessNode.EventuallyAsync("b receives on the webhook's label", () => b.AppMessages.Count == 1);

        // An invalid data_channels from the webhook refuses the connect with a reason naming the webhook.
        hook.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """{"allowed":true,"data_channels":[{"label":"#x","direction":"up"}]}""");
        var bad = Client("auth", new JsonObject { ["video"] = false }, node: node);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => bad.ConnectAsync());
        Assert.Contains("INVALID-DATA-CHANNELS: auth webhook data_channels[0]: direction", e.Message);
    }

    [Fact]
    public async Task After_switched_with_ignore_disconnect_websocket_the_connection_lives_on_data_channels()
    {
        const string ch = "switch";
        var a = Client(ch, new JsonObject { ["data_channel_signaling"] = true, ["ignore_disconnect_websocket"] = true }, role: "recvonly");
        await a.ConnectAsync();
        var switched = await a.WaitForMessageAsync(m => (string?)m["type"] == "switched", TimeSpan.FromSeconds(10));
        Assert.True((bool)switched["ignore_disconnect_websocket"]!);
        var offer = a.Messages.First(m => (string?)m["type"] == "offer");
        Assert.True((bool)offer["ignore_disconnect_websocket"]!);
        await InProcessNode.EventuallyAsync("a's WebSocket is closed", () => a.WebSocketState is System.Net.WebSockets.WebSocketState.Closed or System.Net.WebSockets.WebSocketState.CloseSent);

        // A publisher joins: a learns of it on DC:notify and gets its track through a re-offer on DC:signaling.
        var pub = new SyntheticClient(_node.SignalingUrl, ch, new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate });
        _clients.Add(pub);
        await pub.ConnectAsync();
        await a.WaitForMessageAsync(m => (string?)m["type"] == "re-offer" && (string?)m["_via"] == "datachannel:signaling", TimeSpan.FromSeconds(10));
        await a.WaitForMessageAsync(m => (string?)m["event_type"] == "connection.created" && (string?)m["connection_id"] == pub.ConnectionId
            && (string?)m["_via"] == "datachannel:notify", TimeSpan.FromSeconds(10));
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(300, 800, stop.Token);
        await InProcessNode.EventuallyAsync("a receives the publisher's media", () => a.PacketsReceived > 50);
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.Equal(0, a.DecryptFailures);

        Assert.Equal(200, (await _node.ApiAsync("Sora_20160711.PushChannel", $$$"""{"channel_id":"{{{ch}}}","data":{"n":1}}""")).Status);
        await a.WaitForMessageAsync(m => (string?)m["type"] == "push" && (string?)m["_via"] == "datachannel:push", TimeSpan.FromSeconds(10));

        // Disconnect over DC:signaling: the node closes the channels and the connection is gone.
        await a.DisconnectAsync();
        Assert.Empty(a.DataChannels!.OpenLabels);
        await InProcessNode.EventuallyAsync("a left the node", () => _node.Node.Sfu.ListConnections(ch).All(c => c.ConnectionId != a.ConnectionId));
        await pub.WaitForMessageAsync(m => (string?)m["event_type"] == "connection.destroyed" && (string?)m["connection_id"] == a.ConnectionId, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Without_ignore_disconnect_websocket_the_websockets_loss_ends_a_switched_connection()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { SignalingPingIntervalMs = 500 });
        var a = Client("keep", new JsonObject { ["video"] = false, ["data_channel_signaling"] = true }, node: node);
        await a.ConnectAsync();
        var switched = await a.WaitForMessageAsync(m => (string?)m["type"] == "switched", TimeSpan.FromSeconds(10));
        Assert.False((bool)switched["ignore_disconnect_websocket"]!);
        // Still on the WebSocket: pings; on DC:stats: req-stats, which the client answers there.
        await a.WaitForMessageAsync(m => (string?)m["type"] == "ping", TimeSpan.FromSeconds(10));
        await a.WaitForMessageAsync(m => (string?)m["type"] == "req-stats" && (string?)m["_via"] == "datachannel:stats", TimeSpan.FromSeconds(10));
        await InProcessNode.EventuallyAsync("the node counted the client's stats", () => node.Node.Sfu.Counters.ClientStatsReports >= 1);
        Assert.Single(node.Node.Sfu.ListConnections("keep"));
        await a.DisposeAsync(); // WebSocket closed without a disconnect
        await InProcessNode.EventuallyAsync("the connection ended with its WebSocket", () => node.Node.Sfu.ListConnections("keep").Count == 0);
    }
}
