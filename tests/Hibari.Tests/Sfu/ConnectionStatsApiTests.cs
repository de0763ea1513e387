using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// GetStatsConnection, GetStatsAllConnections (D-41) and GetStatsClient (D-45) on a node with a simulcast publisher and a receiver: Sora's
/// identifiers and `simulcast.rN.rtp` counters, Hibari's per-track and per-layer figures, the forwarded rid and its
/// changes, and the shape sorastats needs (objects with scalar leaves only: no arrays, no nulls).
/// </summary>
[Collection("sfu")]
public sealed class ConnectionStatsApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    /// <summary>Every value under <paramref name="node"/> is an object or a string, number or boolean.</summary>
    private static void AssertScalarLeaves(JsonNode? node, string path)
    {
        Assert.True(node is not null, $"{path} is null");
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o) AssertScalarLeaves(v, $"{path}.{k}");
                break;
            case JsonArray:
                Assert.Fail($"{path} is an array");
                break;
        }
    }

    [Fact]
    public async Task Stats_of_a_simulcast_publisher_and_its_receiver()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var pub = new SyntheticClient(node.SignalingUrl, "stats", new SyntheticClientOptions
        {
            Role = "sendonly", Certificate = Certificate, SimulcastRids = ["r0", "r1", "r2"],
        });
        await pub.ConnectAsync();
        await using var sub = new SyntheticClient(node.SignalingUrl, "stats", new SyntheticClientOptions
        {
            Role = "recvonly", Certificate = Certificate, ConnectExtra = new JsonObject { ["simulcast_request_rid"] = "r1" },
        });
        await sub.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishSimulcastAsync([100, 400, 1200], 600, stop.Token);
        try
        {
            await InProcessNode.EventuallyAsync("the receiver gets media", () => sub.PacketsReceived > 100);
            JsonNode? forwarded = null;
            await InProcessNode.EventuallyAsync("the receiver's stats say r1 is forwarded", () =>
            {
                var (status, body) = node.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"stats","connection_id":"{{sub.ConnectionId}}"}""").Result;
                forwarded = body?["hibari"]?["forwarded"]?.AsObject().Select(kv => kv.Value).SingleOrDefault(t => (string?)t?["kind"] == "video");
                return status == 200 && (string?)forwarded?["rid"] == "r1";
            });
            Assert.Equal(pub.ConnectionId, (string?)forwarded!["sender_connection_id"]);
            Assert.Equal("r1", (string?)forwarded["requested_rid"]);
            Assert.True((long)forwarded["total_sent_rtp"]! > 0);

            var (s1, p) = await node.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"stats","connection_id":"{{pub.ConnectionId}}"}""");
            Assert.Equal(200, s1);
            AssertScalarLeaves(p, "$");
            Assert.Equal(pub.ConnectionId, (string?)p!["connection_id"]);
            Assert.Equal("stats", (string?)p["channel_id"]);
            Assert.False(string.IsNullOrEmpty((string?)p["session_id"]));
            Assert.True(DateTimeOffset.TryParse((string?)p["timestamp"], out _));
            foreach (var rid in new[] { "r0", "r1", "r2" })
                Assert.True((long)p["simulcast"]![rid]!["rtp"]!["total_received_rtp"]! > 0, $"{rid} received nothing");
            var layers = p["hibari"]!["published"]!.AsObject().Select(kv => kv.Value!).Where(t => t["rid"] is not null).ToList();
            Assert.Equal(3, layers.Count);
            Assert.All(layers, l => Assert.True((long)l["total_received_key_frames"]! > 0));
            // 30 frames/s per layer (the synthetic publisher), each frame's last packet marked.
            Assert.All(layers, l => Assert.InRange((long)l["total_received_frames"]!, (long)l["total_received_key_frames"]!, (long)l["total_received_rtp"]!));
            Assert.All(layers, l => Assert.True((long)l["total_received_frames"]! >= 10));
            // The receiver has no transport-cc feedback here: no downlink estimate, and the group is left out (not null).
            var (s2, r) = await node.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"stats","connection_id":"{{sub.ConnectionId}}"}""");
            Assert.Equal(200, s2);
            AssertScalarLeaves(r, "$");

            // Switch the receiver to r2 through the API: the stats count the change.
            Assert.Equal(200, (await node.ApiAsync("Sora_20201005.RequestRtpStream",
                $$"""{"channel_id":"stats","recv_connection_id":"{{sub.ConnectionId}}","rid":"r2"}""")).Status);
            await InProcessNode.EventuallyAsync("one layer switch counted", () =>
            {
                var (_, b) = node.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"stats","connection_id":"{{sub.ConnectionId}}"}""").Result;
                var v = b?["hibari"]?["forwarded"]?.AsObject().Select(kv => kv.Value).Single(t => (string?)t?["kind"] == "video");
                return (string?)v?["rid"] == "r2" && (long?)v?["total_layer_switches"] >= 1;
            });

            var (s3, all) = await node.ApiAsync("Sora_20171101.GetStatsAllConnections", "");
            Assert.Equal(200, s3);
            var rows = Assert.IsType<JsonArray>(all);
            Assert.Equal(new[] { pub.ConnectionId, sub.ConnectionId }.Order(), rows.Select(x => (string?)x!["connection_id"]).Order());
            foreach (var row in rows) AssertScalarLeaves(row, "$[]");
            Assert.Equal(200, (await node.ApiAsync("Sora_20171101.GetStatsAllConnections", """{"local":false}""")).Status);
        }
        finally
        {
            await stop.CancelAsync();
            await publishing.ContinueWith(_ => { });
        }
    }

    [Fact]
    public async Task Stats_of_a_client_are_every_connection_with_that_client_id()
    {
        // D-45: a client_id may name several connections (two tabs of one user); GetStatsClient answers them all.
        await using var node = await InProcessNode.StartAsync();
        SyntheticClient Client(string clientId) => new(node.SignalingUrl, "stats-client", new SyntheticClientOptions
        {
            Role = "recvonly", Certificate = Certificate, ConnectExtra = new JsonObject { ["client_id"] = clientId },
        });
        await using var a1 = Client("alice");
        await using var a2 = Client("alice");
        await using var b = Client("bob");
        foreach (var c in new[] { a1, a2, b }) await c.ConnectAsync();
        JsonArray rows = [];
        await InProcessNode.EventuallyAsync("alice's two connections listed", () =>
        {
            var (status, body) = node.ApiAsync("Sora_20170529.GetStatsClient", """{"channel_id":"stats-client","client_id":"alice"}""").Result;
            rows = status == 200 ? body!.AsArray() : [];
            return rows.Count == 2;
        });
        Assert.Equal(new[] { a1.ConnectionId, a2.ConnectionId }.Order(), rows.Select(r => (string?)r!["connection_id"]).Order());
        Assert.All(rows, r => Assert.Equal("alice", (string?)r!["client_id"]));
        foreach (var row in rows) AssertScalarLeaves(row, "$[]");
        var (bobStatus, bob) = await node.ApiAsync("Sora_20170529.GetStatsClient", """{"channel_id":"stats-client","client_id":"bob"}""");
        Assert.Equal(200, bobStatus);
        Assert.Equal(b.ConnectionId, (string?)bob!.AsArray().Single()!["connection_id"]);
        var (missing, error) = await node.ApiAsync("Sora_20170529.GetStatsClient", """{"channel_id":"stats-client","client_id":"carol"}""");
        Assert.Equal(404, missing);
        Assert.Equal("ClientNotFound", (string?)error!["error_type"]);
    }

    [Theory]
    [InlineData("Sora_20170529.GetStatsClient", """{"channel_id":"stats"}""", 400)]
    [InlineData("Sora_20170529.GetStatsConnection", """{"channel_id":"stats"}""", 400)]
    [InlineData("Sora_20170529.GetStatsConnection", """{"channel_id":"stats","connection_id":"NOPE"}""", 404)]
    [InlineData("Sora_20170529.GetStatsConnection", """[1]""", 400)]
    [InlineData("Sora_20171101.GetStatsAllConnections", """{"local":"no"}""", 400)]
    [InlineData("Sora_20171101.GetStatsAllConnections", """not json""", 400)]
    [InlineData("Sora_20171101.GetStatsAllConnections", """{}""", 200)]
    public async Task Bad_requests_get_a_clear_error(string target, string body, int status)
    {
        await using var node = await InProcessNode.StartAsync();
        var (got, answer) = await node.ApiAsync(target, body);
        Assert.Equal(status, got);
        if (status != 200) Assert.False(string.IsNullOrEmpty((string?)answer?["message"]), answer?.ToJsonString());
    }
}
