using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Forwarding filters end to end in one node (docs/decisions.md D-54): a connect-time filter, a connection filter and a
/// channel filter added by the Sora_20230628 API to a live receiver (re-offer), and the API's errors.
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
}
