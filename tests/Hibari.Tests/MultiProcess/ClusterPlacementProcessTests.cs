using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Webhooks;
using Xunit.Abstractions;

namespace Hibari.Tests.MultiProcess;

/// <summary>
/// Placement and takeover rules seen from outside, with real processes and the load tool's clients: where a client lands
/// (the redirect it gets and the owners every node lists) as capacity, affinity threshold, the auth webhook's
/// `cluster_affinity`, relay and the licence change, and how capacity moves when nodes fail and come back
/// (docs/requirements.md, sections 5 and 8). The unit tests of <c>Placement</c> and <c>Capacity</c> cover the
/// combinations; these show each rule end to end once.
/// </summary>
[Collection("processes")]
public sealed class ClusterPlacementProcessTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private readonly ClusterHarness _h = new();
    private readonly List<SyntheticClient> _clients = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _h.DisposeAsync();
    }

    private static Uri UrlOf(NodeProcess n) => new($"ws://{n.Ip}:{n.SignalingPort}/signaling");

    private async Task<SyntheticClient> ConnectAsync(NodeProcess node, string channel)
    {
        var c = new SyntheticClient(UrlOf(node), channel, new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(c);
        await c.ConnectAsync();
        return c;
    }

    /// <summary>A connect that must be refused; returns the error (close code and reason).</summary>
    private async Task<string> RefusedAsync(NodeProcess node, string channel)
    {
        var c = new SyntheticClient(UrlOf(node), channel, new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(c);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => c.ConnectAsync());
        return e.Message;
    }

    private static async Task<JsonNode> RowAsync(NodeProcess on, NodeProcess target) =>
        (await ClusterHarness.ListNodesAsync(on)).Single(n => (string?)n!["node_name"] == target.NodeName)!;

    /// <summary>Until <paramref name="on"/> lists every pair's connection count (its view of the others' load reports).</summary>
    private Task SeesConnectionsAsync(NodeProcess on, params (NodeProcess Node, int Connections)[] expected) =>
        _h.EventuallyAsync($"{on.Name} sees {string.Join(", ", expected.Select(e => $"{e.Node.Name}={e.Connections}"))}", async () =>
        {
            var rows = await ClusterHarness.ListNodesAsync(on);
            return expected.All(e => rows.Any(r => (string?)r!["node_name"] == e.Node.NodeName && (int?)r["connections"] == e.Connections));
        });

    /// <summary>Until <paramref name="on"/> lists every pair's capacity (takeover included).</summary>
    private Task SeesCapacityAsync(NodeProcess on, params (NodeProcess Node, int Capacity)[] expected) =>
        _h.EventuallyAsync($"{on.Name} sees capacity {string.Join(", ", expected.Select(e => $"{e.Node.Name}={e.Capacity}"))}", async () =>
        {
            var rows = await ClusterHarness.ListNodesAsync(on);
            return expected.All(e => rows.Any(r => (string?)r!["node_name"] == e.Node.NodeName && (int?)r["capacity"] == e.Capacity));
        });

    private async Task<string[]> OwnersAsync(NodeProcess on, string channel)
    {
        var (_, body, _) = await on.ApiAsync("Sora_20211215.ListClusterChannels");
        var row = body!.AsArray().FirstOrDefault(c => (string?)c!["channel_id"] == channel);
        return row?["owners"]?.AsArray().Select(o => (string)o!["node_name"]!).Order(StringComparer.Ordinal).ToArray() ?? [];
    }

    private Task OwnersAreAsync(NodeProcess on, string channel, params NodeProcess[] owners) =>
        _h.EventuallyAsync($"{on.Name} lists {string.Join(",", owners.Select(o => o.Name))} as the owners of {channel}", async () =>
            (await OwnersAsync(on, channel)).SequenceEqual(owners.Select(o => o.NodeName).Order(StringComparer.Ordinal)));

    [Fact]
    public async Task Takeover_lets_a_full_node_take_clients_again_and_ends_without_cutting_them_C_TAKE_1_C_TAKE_2_C_TAKE_3_C_REL_2()
    {
        // 3 regular nodes and a temporary one, 2 connections each by licence, relay on and affinity off (C-REL).
        string[] settings = ["license_max_connections=2", "default_cluster_affinity=false"];
        var n1 = _h.Add("n1", 1, settings: settings);
        var n2 = _h.Add("n2", 2, settings: settings);
        var n3 = _h.Add("n3", 3, settings: settings);
        var t4 = _h.Add("t4", 4, temporary: true, settings: settings);
        await _h.StartAllAsync(n1, n2, n3, t4);
        await ClusterHarness.InitClusterAsync(n1, n1, n2, n3);
        await _h.EventuallyAsync("t4 registers", async () =>
            (await t4.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""")).Status == 200);
        foreach (var n in new[] { n1, n2, n3, t4 }) await _h.EventuallyAsync($"{n.Name} available", n.IsAvailableAsync);
        await SeesCapacityAsync(n1, (n1, 2), (n2, 2), (n3, 2), (t4, 2));

        // n1 full (2 of 2), n2 holding one: a third client at n1 goes to the most spare node, n3 (C-REL-2; n3 and t4
        // tie, the smaller name wins).
        var onN1 = new List<SyntheticClient> { await ConnectAsync(n1, "take-a"), await ConnectAsync(n1, "take-b") };
        Assert.All(onN1, c => Assert.Null(c.RedirectedTo));
        var onN2 = await ConnectAsync(n2, "take-c");
        Assert.Null(onN2.RedirectedTo);
        await SeesConnectionsAsync(n1, (n1, 2), (n2, 1), (n3, 0), (t4, 0));
        var moved = await ConnectAsync(n1, "take-d");
        Assert.Equal(UrlOf(n3), moved.RedirectedTo);
        await OwnersAreAsync(n2, "take-d", n3);

        // C-TAKE-1: n2 (regular, capacity 2) dies; each of the 3 survivors gets ceil(2 / 3) = 1 more, the temporary
        // node included, and n1 serves a client again where it had to redirect one before.
        n2.Kill();
        foreach (var on in new[] { n1, n3, t4 }) await SeesCapacityAsync(on, (n1, 3), (n3, 3), (t4, 3));
        var third = await ConnectAsync(n1, "take-e");
        Assert.Null(third.RedirectedTo);
        onN1.Add(third);
        await OwnersAreAsync(n3, "take-e", n1);

        // C-TAKE-2: n2 comes back; capacities fall back to 2, n1 keeps its 3 clients (none is cut) but refuses a new
        // one: it is redirected to the most spare node, n2 (empty again; n2 and t4 tie, the smaller name wins).
        n2.Start();
        await _h.EventuallyAsync("n2 available again", n2.IsAvailableAsync, TimeSpan.FromSeconds(60));
        foreach (var on in new[] { n1, n2, n3, t4 }) await SeesCapacityAsync(on, (n1, 2), (n2, 2), (n3, 2), (t4, 2));
        await SeesConnectionsAsync(n1, (n1, 3), (n2, 0), (n3, 1), (t4, 0));
        Assert.All(onN1, c => Assert.Null(c.CloseStatus));
        var after = await ConnectAsync(n1, "take-f");
        Assert.Equal(UrlOf(n2), after.RedirectedTo);
        Assert.All(onN1, c => Assert.Null(c.CloseStatus));

        // C-TAKE-3: the temporary node dies. While the survivors list it as down (before its registration expires),
        // nobody's capacity grows: a temporary node's capacity is not taken over.
        t4.Kill();
        var sawDown = false;
        var samples = 0;
        await _h.EventuallyAsync("t4 removed from n1's list", async () =>
        {
            var rows = await ClusterHarness.ListNodesAsync(n1);
            var t4Row = rows.SingleOrDefault(r => (string?)r!["node_name"] == t4.NodeName);
            sawDown |= t4Row is not null && !(bool)t4Row["connected"]!;
            samples++;
            foreach (var r in rows.Where(r => (string?)r!["node_name"] != t4.NodeName))
                Assert.True((int?)r!["capacity"] == 2, $"capacity after the temporary node died: {r.ToJsonString()}");
            return t4Row is null;
        }, TimeSpan.FromSeconds(15));
        output.WriteLine($"{samples} samples of n1's list between t4's death and its removal");
        Assert.True(sawDown, "n1 never listed t4 as down before removing it, so C-TAKE-3 was not observed");
        foreach (var n in new[] { n2, n3 })
            foreach (var r in await ClusterHarness.ListNodesAsync(n)) Assert.Equal(2, (int?)r!["capacity"]);
    }

    [Fact]
    public async Task With_relay_off_a_full_contact_node_sends_new_sessions_away_and_refuses_its_own_and_affinity_off_changes_nothing_C_NOREL_3_C_CONF_6()
    {
        // default_cluster_affinity=false has no effect without relay (C-CONF-6): a session still lives on one node.
        var (n1, n2, n3) = await _h.StartServingClusterAsync("cluster_relay=false", "default_cluster_affinity=false", "license_max_connections=3");
        for (var i = 0; i < 3; i++) Assert.Null((await ConnectAsync(n1, "own")).RedirectedTo); // n1 full, one session
        Assert.Null((await ConnectAsync(n2, "other")).RedirectedTo);
        await SeesConnectionsAsync(n3, (n1, 3), (n2, 1), (n3, 0));
        Assert.Null((await ConnectAsync(n3, "third")).RedirectedTo);

        // C-CONF-6: a client of n2's session contacting n3 is sent to n2, as with affinity on.
        Assert.Equal(UrlOf(n2), (await ConnectAsync(n3, "other")).RedirectedTo);
        await SeesConnectionsAsync(n1, (n1, 3), (n2, 2), (n3, 1));

        // C-NOREL-3 at the full n1: an existing session elsewhere → its node; n1's own session → refused; a new
        // session → the most spare node (n2 and n3 both have 1 free after the first, the smaller name wins).
        Assert.Equal(UrlOf(n3), (await ConnectAsync(n1, "third")).RedirectedTo);
        var refused = await RefusedAsync(n1, "own");
        Assert.Contains("SESSION-NODE-FULL", refused);
        await SeesConnectionsAsync(n1, (n1, 3), (n2, 2), (n3, 2));
        Assert.Equal(UrlOf(n2), (await ConnectAsync(n1, "fresh")).RedirectedTo);
        foreach (var n in new[] { n1, n2, n3 })
        {
            await OwnersAreAsync(n, "own", n1);
            await OwnersAreAsync(n, "other", n2);
            await OwnersAreAsync(n, "third", n3);
            await OwnersAreAsync(n, "fresh", n2);
        }
    }

    [Fact]
    public async Task Affinity_threshold_capacity_and_the_webhook_override_decide_where_clients_land_C_AFF_3_C_AFF_4_C_AFF_6_C_CONF_7()
    {
        // The auth webhook answers `cluster_affinity: false` for channels named free-* (C-AFF-6), nothing for others.
        await using var webhook = await WebhookTestServer.StartAsync();
        webhook.BodyHandler = (ctx, body) => WebhookTestServer.Answer(ctx, 200,
            body.GetProperty("channel_id").GetString()!.StartsWith("free-", StringComparison.Ordinal)
                ? """{"allowed":true,"cluster_affinity":false}""" : """{"allowed":true}""");
        var (n1, n2, n3) = await _h.StartServingClusterAsync($"auth_webhook_url={webhook.Url}/auth",
            "cluster_affinity_threshold=1", "license_max_connections=4");

        // C-AFF-3 / C-CONF-7 with a threshold of 1: the owner takes clients of its session while it holds at most 1;
        // beyond that the next goes to another node under the threshold (the most spare: the contact node on a tie).
        Assert.Null((await ConnectAsync(n2, "thr")).RedirectedTo);
        await SeesConnectionsAsync(n1, (n2, 1));
        Assert.Equal(UrlOf(n2), (await ConnectAsync(n1, "thr")).RedirectedTo); // n2 held 1: not above the threshold
        await SeesConnectionsAsync(n1, (n2, 2));
        Assert.Null((await ConnectAsync(n1, "thr")).RedirectedTo); // n2 holds 2 > 1: n1 (empty) takes it
        await SeesConnectionsAsync(n3, (n1, 1), (n2, 2));
        Assert.Equal(UrlOf(n1), (await ConnectAsync(n3, "thr")).RedirectedTo); // n1 holds 1 of the session: under it
        await OwnersAreAsync(n3, "thr", n1, n2);

        // C-AFF-6: `cluster_affinity: false` from the webhook: served where it connected, although n2 owns the session.
        Assert.Null((await ConnectAsync(n2, "free-a")).RedirectedTo);
        await SeesConnectionsAsync(n3, (n1, 2), (n2, 3));
        Assert.Null((await ConnectAsync(n3, "free-a")).RedirectedTo);
        await OwnersAreAsync(n1, "free-a", n2, n3);

        // C-AFF-4: the owner n3 of a new session "cap" is full (n3: free-a, cap, free-b, free-c = 4 of 4); the next
        // client of "cap", at n2, is not sent to the owner but to the most spare node, n1 (2 free; n2 has 1).
        await SeesConnectionsAsync(n3, (n1, 2), (n2, 3), (n3, 1));
        Assert.Null((await ConnectAsync(n3, "cap")).RedirectedTo); // n3 is the most spare: the session starts there
        Assert.Null((await ConnectAsync(n3, "free-b")).RedirectedTo);
        Assert.Null((await ConnectAsync(n3, "free-c")).RedirectedTo);
        await SeesConnectionsAsync(n2, (n1, 2), (n2, 3), (n3, 4));
        var capAtN2 = await ConnectAsync(n2, "cap");
        Assert.Equal(UrlOf(n1), capAtN2.RedirectedTo);
        await OwnersAreAsync(n2, "cap", n1, n3);
    }

    [Fact]
    public async Task A_standard_licence_turns_relay_off_whatever_cluster_relay_says_C_CONF_5()
    {
        // cluster_relay=true and affinity off would serve the second client on n1 (C-REL-1); a standard licence has no
        // relay, so the session stays on one node and the client is sent to it (C-NOREL-2).
        var (n1, n2, n3) = await _h.StartServingClusterAsync("license_type=standard", "cluster_relay=true", "default_cluster_affinity=false");
        Assert.Null((await ConnectAsync(n2, "std")).RedirectedTo);
        await OwnersAreAsync(n1, "std", n2);
        Assert.Equal(UrlOf(n2), (await ConnectAsync(n1, "std")).RedirectedTo);
        foreach (var n in new[] { n1, n2, n3 }) await OwnersAreAsync(n, "std", n2);
        var (_, stats, _) = await n1.ApiAsync("Sora_20171010.GetStatsReport");
        output.WriteLine(stats?["cluster"]?.ToJsonString() ?? "(no cluster block)");
    }
}
