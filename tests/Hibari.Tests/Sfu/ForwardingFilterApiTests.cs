using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hibari.Api;
using Hibari.Load;
using Hibari.Node;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Forwarding filters end to end in one node (docs/decisions.md D-54): a connect-time filter, a connection filter and a
/// channel filter added by the Sora_20230628 API to a live receiver (re-offer), the API's errors, and
/// ListForwardingFilters' `blocked` list against what the receivers are really offered and sent.
/// </summary>
[Collection("sfu")]
public sealed partial class ForwardingFilterApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static SyntheticClient Client(InProcessNode node, string channel, string role, JsonObject? extra = null) =>
        new(node.SignalingUrl, channel, new SyntheticClientOptions { Role = role, Certificate = Certificate, ConnectExtra = extra });

    private static string BlockConnection(string connectionId) =>
        $$"""{"action":"block","rules":[[{"field":"connection_id","operator":"is_in","values":["{{connectionId}}"]}]]}""";

    [GeneratedRegex(@"a=ssrc:(\d+) msid:(\S+)")]
    private static partial Regex SsrcMsid();

    /// <summary>The SSRCs the receiver's latest offer or re-offer gives to each sender.</summary>
    private static Dictionary<string, List<uint>> SsrcsBySender(SyntheticClient c)
    {
        var sdp = (string)c.Messages.Last(m => (string?)m["type"] is "offer" or "re-offer")["sdp"]!;
        return SsrcMsid().Matches(sdp).GroupBy(m => m.Groups[2].Value).ToDictionary(g => g.Key, g => g.Select(m => uint.Parse(m.Groups[1].Value)).Distinct().ToList());
    }

    private static long From(SyntheticClient receiver, Dictionary<string, List<uint>> map, string sender) =>
        map.TryGetValue(sender, out var ssrcs) ? ssrcs.Sum(receiver.PacketsReceivedOn) : 0;

    [Fact]
    public async Task A_connect_time_filter_blocking_A_lets_B_through_and_none_of_A()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var a = Client(node, "ff-connect", "sendonly");
        await using var b = Client(node, "ff-connect", "sendonly");
        await a.ConnectAsync();
        await b.ConnectAsync();
        var filters = JsonNode.Parse($"[{BlockConnection(a.ConnectionId!)}]")!;
        await using var r = Client(node, "ff-connect", "recvonly", new JsonObject { ["forwarding_filters"] = filters });
        await r.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var sending = new[] { a.PublishAsync(300, 1000, stop.Token), b.PublishAsync(300, 1000, stop.Token) };
        try
        {
            await InProcessNode.EventuallyAsync("R receives B", () => From(r, SsrcsBySender(r), b.ConnectionId!) > 50);
            var map = SsrcsBySender(r);
            Assert.False(map.ContainsKey(a.ConnectionId!));
            Assert.All(r.ReceivedSsrcs, s => Assert.Contains(s, map[b.ConnectionId!]));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(sending).ContinueWith(_ => { });
        }
    }

    [Fact]
    public async Task Connection_and_channel_filters_set_by_the_api_re_offer_the_live_receiver()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var a = Client(node, "ff-api", "sendonly");
        await using var b = Client(node, "ff-api", "sendonly");
        await using var r = Client(node, "ff-api", "recvonly");
        foreach (var c in new[] { a, b, r }) await c.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var sending = new[] { a.PublishAsync(300, 1000, stop.Token), b.PublishAsync(300, 1000, stop.Token) };
        try
        {
            await InProcessNode.EventuallyAsync("R receives A and B", () =>
            {
                var m = SsrcsBySender(r);
                return From(r, m, a.ConnectionId!) > 20 && From(r, m, b.ConnectionId!) > 20;
            });
            var before = SsrcsBySender(r);

            // A connection filter blocking A: the re-offer drops A, and A's packets stop.
            var body = BlockConnection(a.ConnectionId!).Insert(1, $"\"channel_id\":\"ff-api\",\"connection_id\":\"{r.ConnectionId}\",");
            var (status, answer) = await node.ApiAsync("Sora_20230628.CreateConnectionForwardingFilter", body);
            Assert.Equal(200, status);
            Assert.Equal("default", (string?)answer!["name"]);
            await InProcessNode.EventuallyAsync("a re-offer without A", () => !SsrcsBySender(r).ContainsKey(a.ConnectionId!));
            await Task.Delay(300);
            var stopped = From(r, before, a.ConnectionId!);
            var fromB = From(r, before, b.ConnectionId!);
            await Task.Delay(700);
            Assert.Equal(stopped, From(r, before, a.ConnectionId!));
            Assert.True(From(r, before, b.ConnectionId!) > fromB);

            var (listed, list) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", """{"channel_id":"ff-api"}""");
            Assert.Equal(200, listed);
            var row = Assert.Single(list!["connection_forwarding_filters"]!.AsArray());
            Assert.Equal(r.ConnectionId, (string?)row!["connection_id"]);

            // Errors: a second "default" is refused; an invalid filter says why; unknown names and connections are 404.
            var (dup, dupError) = await node.ApiAsync("Sora_20230628.CreateConnectionForwardingFilter", body);
            Assert.Equal(400, dup);
            Assert.Equal("ForwardingFilterAlreadyExists", (string?)dupError!["error_type"]);
            var (bad, badError) = await node.ApiAsync("Sora_20230628.CreateChannelForwardingFilter",
                """{"channel_id":"ff-api","action":"drop","rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}""");
            Assert.Equal(400, bad);
            Assert.Contains("action", (string?)badError!["message"]);
            Assert.Equal(404, (await node.ApiAsync("Sora_20230628.DeleteConnectionForwardingFilter",
                $$"""{"channel_id":"ff-api","connection_id":"{{r.ConnectionId}}","name":"other"}""")).Status);
            Assert.Equal(404, (await node.ApiAsync("Sora_20230628.UpdateConnectionForwardingFilter",
                BlockConnection("X").Insert(1, "\"channel_id\":\"ff-api\",\"connection_id\":\"NOPE\","))).Status);

            // Deleting it brings A back; a channel filter blocking B then applies to R too.
            Assert.Equal(200, (await node.ApiAsync("Sora_20230628.DeleteConnectionForwardingFilter",
                $$"""{"channel_id":"ff-api","connection_id":"{{r.ConnectionId}}"}""")).Status);
            await InProcessNode.EventuallyAsync("A is offered again", () => SsrcsBySender(r).ContainsKey(a.ConnectionId!));
            Assert.Equal(200, (await node.ApiAsync("Sora_20230628.CreateChannelForwardingFilter",
                BlockConnection(b.ConnectionId!).Insert(1, "\"channel_id\":\"ff-api\","))).Status);
            await InProcessNode.EventuallyAsync("a re-offer without B", () =>
                !SsrcsBySender(r).ContainsKey(b.ConnectionId!) && SsrcsBySender(r).ContainsKey(a.ConnectionId!));
            (listed, list) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", """{"channel_id":"ff-api"}""");
            Assert.Single(list!["channel_forwarding_filters"]!.AsArray());
            Assert.Equal("block", (string?)list["channel_forwarding_filter"]!["action"]);
            Assert.Equal(200, (await node.ApiAsync("Sora_20230628.DeleteChannelForwardingFilter", """{"channel_id":"ff-api"}""")).Status);
            await InProcessNode.EventuallyAsync("B is offered again", () => SsrcsBySender(r).ContainsKey(b.ConnectionId!));
            Assert.Equal(404, (await node.ApiAsync("Sora_20230628.ListForwardingFilters", """{"channel_id":"none"}""")).Status);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(sending).ContinueWith(_ => { });
        }
    }

    // --- ListForwardingFilters' `blocked` (D-54) ---

    /// <summary>
    /// One `blocked` entry as Sora's 転送フィルター API page shows it (https://sora-doc.shiguredo.jp/API_FORWARDING_FILTER.html,
    /// the ListForwardingFilters example with `"blocked": true`): the fixture the live answer's shape is held to.
    /// </summary>
    private const string SoraBlockedEntry = """
        {"destination_connection_id": "6V9VANDZZH71HCQGVKBWKJ8GS0", "kind": "audio", "source_connection_id_list": ["ASJDFJ1PF94JN6DV59JQZ1HNDR"]}
        """;

    /// <summary>Field name → JSON kind (arrays: "Array of" the elements' kind), to compare a live object with a fixture.</summary>
    private static SortedDictionary<string, string> Shape(JsonElement o) =>
        new(o.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Array
            ? "Array of " + string.Join("|", p.Value.EnumerateArray().Select(e => e.ValueKind.ToString()).Distinct())
            : p.Value.ValueKind.ToString()), StringComparer.Ordinal);

    private static string WithIds(string filter, string channel, string? connection = null) =>
        filter.Insert(1, $"\"channel_id\":\"{channel}\"," + (connection is null ? "" : $"\"connection_id\":\"{connection}\","));

    [Fact]
    public async Task ListForwardingFilters_blocked_has_Soras_field_names_and_types()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var a = Client(node, "ff-blocked-shape", "sendonly");
        await a.ConnectAsync();
        var filters = JsonNode.Parse($"[{BlockConnection(a.ConnectionId!)}]")!;
        await using var r = Client(node, "ff-blocked-shape", "recvonly", new JsonObject { ["forwarding_filters"] = filters });
        await r.ConnectAsync();
        await InProcessNode.EventuallyAsync("the node has both connected", () => node.Node.Sfu.ListConnections("ff-blocked-shape").Count == 2);

        var (status, answer) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", """{"channel_id":"ff-blocked-shape","blocked":true}""");
        Assert.Equal(200, status);
        var blocked = JsonDocument.Parse(answer!.ToJsonString()).RootElement.GetProperty("blocked");
        Assert.Equal(JsonValueKind.Array, blocked.ValueKind);
        var entry = Assert.Single(blocked.EnumerateArray());
        using var fixture = JsonDocument.Parse(SoraBlockedEntry);
        Assert.Equal(Shape(fixture.RootElement), Shape(entry));
        Assert.Equal(r.ConnectionId, entry.GetProperty("destination_connection_id").GetString());
        Assert.Contains(entry.GetProperty("kind").GetString(), new[] { "audio", "video" });
        Assert.Equal([a.ConnectionId!], entry.GetProperty("source_connection_id_list").EnumerateArray().Select(e => e.GetString()!));

        // `blocked` is answered only when asked for (Sora: false when absent), and must be a boolean.
        foreach (var body in new[] { """{"channel_id":"ff-blocked-shape"}""", """{"channel_id":"ff-blocked-shape","blocked":false}""" })
        {
            var (plain, list) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", body);
            Assert.Equal(200, plain);
            Assert.False(list!.AsObject().ContainsKey("blocked"));
            Assert.Single(list["connection_forwarding_filters"]!.AsArray());
        }
        var (bad, error) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", """{"channel_id":"ff-blocked-shape","blocked":"yes"}""");
        Assert.Equal(400, bad);
        Assert.Equal("InvalidBody", (string?)error!["error_type"]);
    }

    [Fact]
    public async Task The_blocked_list_names_exactly_the_senders_each_receiver_is_not_forwarded()
    {
        const string channel = "ff-blocked";
        await using var node = await InProcessNode.StartAsync();
        await using var a = Client(node, channel, "sendonly");
        await using var b = Client(node, channel, "sendonly");
        await a.ConnectAsync();
        await b.ConnectAsync();
        // R1 blocks A, and audio from B (B sends no audio: nothing to list); R2 allows audio only (no video at all);
        // R3 has no filter.
        var blockBAudio = """{"name":"no-audio","priority":1,"action":"block","rules":[[{"field":"kind","operator":"is_in","values":["audio"]},""" +
            $$"""{"field":"connection_id","operator":"is_in","values":["{{b.ConnectionId}}"]}]]}""";
        var r1Filters = JsonNode.Parse($"[{BlockConnection(a.ConnectionId!)},{blockBAudio}]")!;
        var r2Filters = JsonNode.Parse("""[{"action":"allow","rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}]""")!;
        await using var r1 = Client(node, channel, "recvonly", new JsonObject { ["forwarding_filters"] = r1Filters });
        await using var r2 = Client(node, channel, "recvonly", new JsonObject { ["forwarding_filters"] = r2Filters });
        await using var r3 = Client(node, channel, "recvonly");
        var receivers = new[] { r1, r2, r3 };
        var senders = new[] { a, b };
        foreach (var r in receivers) await r.ConnectAsync();
        await InProcessNode.EventuallyAsync("the node has all five connected", () => node.Node.Sfu.ListConnections(channel).Count == 5);

        async Task<Dictionary<(string To, string Kind), List<string>>> BlockedAsync()
        {
            var (status, answer) = await node.ApiAsync("Sora_20230628.ListForwardingFilters", $$"""{"channel_id":"{{channel}}","blocked":true}""");
            Assert.Equal(200, status);
            return answer!["blocked"]!.AsArray().ToDictionary(
                e => ((string)e!["destination_connection_id"]!, (string)e["kind"]!),
                e => e!["source_connection_id_list"]!.AsArray().Select(x => (string)x!).ToList());
        }

        // What each receiver is really offered: the (receiver, sender) video pairs missing from its latest offer.
        HashSet<(string, string)> NotOffered() =>
            receivers.SelectMany(r => senders.Where(s => !SsrcsBySender(r).ContainsKey(s.ConnectionId!)).Select(s => (r.ConnectionId!, s.ConnectionId!))).ToHashSet();

        HashSet<(string, string)> Pairs(Dictionary<(string To, string Kind), List<string>> blocked) =>
            blocked.Where(e => e.Key.Kind == "video").SelectMany(e => e.Value.Select(s => (e.Key.To, s))).ToHashSet();

        using var stop = new CancellationTokenSource();
        var sending = senders.Select(s => s.PublishAsync(300, 1000, stop.Token)).ToArray();
        try
        {
            var blocked = await BlockedAsync();
            Assert.Equal(
                new Dictionary<(string, string), List<string>>
                {
                    [(r1.ConnectionId!, "video")] = [a.ConnectionId!],
                    [(r2.ConnectionId!, "video")] = [a.ConnectionId!, b.ConnectionId!],
                },
                blocked);
            // The same pairs are the ones the receivers' offers leave out, and what is offered does arrive.
            await InProcessNode.EventuallyAsync("the offers leave out exactly the blocked pairs", () => NotOffered().SetEquals(Pairs(blocked)));
            await InProcessNode.EventuallyAsync("every offered sender's packets arrive", () =>
                receivers.All(r => senders.All(s => Pairs(blocked).Contains((r.ConnectionId!, s.ConnectionId!)) || From(r, SsrcsBySender(r), s.ConnectionId!) > 20)));
            foreach (var r in receivers)
            {
                var offered = SsrcsBySender(r).Values.SelectMany(x => x).ToHashSet();
                Assert.All(r.ReceivedSsrcs, ssrc => Assert.Contains(ssrc, offered)); // nothing of a blocked sender was sent
            }

            // A channel filter blocking B adds B to every receiver's list, and the offers follow.
            Assert.Equal(200, (await node.ApiAsync("Sora_20230628.CreateChannelForwardingFilter", WithIds(BlockConnection(b.ConnectionId!), channel))).Status);
            blocked = await BlockedAsync();
            Assert.Equal([a.ConnectionId!, b.ConnectionId!], blocked[(r1.ConnectionId!, "video")]);
            Assert.Equal([a.ConnectionId!, b.ConnectionId!], blocked[(r2.ConnectionId!, "video")]);
            Assert.Equal([b.ConnectionId!], blocked[(r3.ConnectionId!, "video")]);
            Assert.DoesNotContain(blocked.Keys, k => k.Kind == "audio");
            await InProcessNode.EventuallyAsync("the re-offers leave out exactly the blocked pairs", () => NotOffered().SetEquals(Pairs(blocked)));
            Assert.True(From(r3, SsrcsBySender(r3), a.ConnectionId!) > 0);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(sending).ContinueWith(_ => { });
        }
    }

    /// <summary>
    /// The cluster path of `blocked` without a cluster: the holder's ListForwardingFilters asks "the other owner" — a
    /// second node, through its node-link handler (`LocalApi`) — and merges its rows and blocked entries; a node that
    /// answers the bare rows array (asked without `blocked`, or one that does not know it) still merges; a non-holder
    /// answers 307 as before.
    /// </summary>
    [Fact]
    public async Task A_holder_merges_the_other_owners_blocked_entries_and_a_non_holder_redirects()
    {
        const string channel = "ff-blocked-owners";
        await using var n1 = await InProcessNode.StartAsync();
        await using var n2 = await InProcessNode.StartAsync();
        var clients = new List<SyntheticClient>();
        try
        {
            async Task<(SyntheticClient Sender, SyntheticClient Receiver)> PairAsync(InProcessNode node)
            {
                var sender = Client(node, channel, "sendonly");
                clients.Add(sender);
                await sender.ConnectAsync();
                var receiver = Client(node, channel, "recvonly",
                    new JsonObject { ["forwarding_filters"] = JsonNode.Parse($"[{BlockConnection(sender.ConnectionId!)}]") });
                clients.Add(receiver);
                await receiver.ConnectAsync();
                await InProcessNode.EventuallyAsync("the node has both connected", () => node.Node.Sfu.ListConnections(channel).Count == 2);
                return (sender, receiver);
            }
            var (s1, r1) = await PairAsync(n1);
            var (s2, r2) = await PairAsync(n2);

            // The node-link answer: the bare rows without `blocked`, rows and blocked entries with it.
            var plain = await n2.Node.Cluster.LocalApi!("Sora_20230628.ListForwardingFilters", System.Text.Encoding.UTF8.GetBytes($$"""{"channel_id":"{{channel}}"}"""), CancellationToken.None);
            Assert.Equal(200, plain.Status);
            Assert.IsType<JsonArray>(JsonNode.Parse(plain.Body));
            var withBlocked = await n2.Node.Cluster.LocalApi!("Sora_20230628.ListForwardingFilters",
                System.Text.Encoding.UTF8.GetBytes($$"""{"channel_id":"{{channel}}","blocked":true}"""), CancellationToken.None);
            var part = Assert.IsType<JsonObject>(JsonNode.Parse(withBlocked.Body));
            Assert.Equal(r2.ConnectionId, (string?)Assert.Single(part["blocked"]!.AsArray())!["destination_connection_id"]);

            async Task<ApiResult> ListAsync(ChannelScope scope, string body)
            {
                var router = new ApiRouter();
                new ForwardingFilterApi(n1.Node.Sfu, scope).Register(router);
                Assert.True(router.TryGet("Sora_20230628.ListForwardingFilters", out var op));
                return await op(new ApiRequest("Sora_20230628.ListForwardingFilters", System.Text.Encoding.UTF8.GetBytes(body)), CancellationToken.None);
            }
            var holder = new ChannelScope(_ => null, _ => ["n2"], (peer, target, body, ct) => n2.Node.Cluster.LocalApi!(target, body.ToArray(), ct), () => ["n2"]);
            var merged = JsonNode.Parse(Assert.IsType<ApiResult.JsonResult>(await ListAsync(holder, $$"""{"channel_id":"{{channel}}","blocked":true}""")).Utf8Json)!;
            Assert.Equal(new[] { r1.ConnectionId, r2.ConnectionId }, merged["connection_forwarding_filters"]!.AsArray().Select(n => (string?)n!["connection_id"]));
            Assert.Equal(
                new[] { (r1.ConnectionId, s1.ConnectionId), (r2.ConnectionId, s2.ConnectionId) },
                merged["blocked"]!.AsArray().Select(e => ((string?)e!["destination_connection_id"], (string?)Assert.Single(e["source_connection_id_list"]!.AsArray()))));

            // An owner that answers only the rows array (a node without `blocked`): its rows still merge.
            var older = holder with
            {
                CallPeer = (peer, target, body, ct) => n2.Node.Cluster.LocalApi!(target, System.Text.Encoding.UTF8.GetBytes($$"""{"channel_id":"{{channel}}"}"""), ct),
            };
            merged = JsonNode.Parse(Assert.IsType<ApiResult.JsonResult>(await ListAsync(older, $$"""{"channel_id":"{{channel}}","blocked":true}""")).Utf8Json)!;
            Assert.Equal(2, merged["connection_forwarding_filters"]!.AsArray().Count);
            Assert.Equal(r1.ConnectionId, (string?)Assert.Single(merged["blocked"]!.AsArray())!["destination_connection_id"]);

            // A node that does not hold the channel: 307 to the holder, blocked or not (C-API-1).
            var elsewhere = holder with { OwnerApiUrl = _ => "http://127.0.0.9:3000/" };
            Assert.Equal("http://127.0.0.9:3000/", Assert.IsType<ApiResult.RedirectResult>(await ListAsync(elsewhere, $$"""{"channel_id":"{{channel}}","blocked":true}""")).Location);
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
        }
    }
}
