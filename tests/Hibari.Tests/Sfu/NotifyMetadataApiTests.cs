using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 14: the signaling-notify metadata extension (`signaling_notify_metadata_ext`, Sora_20201124 APIs, D-52): a
/// connection's metadata changed through the API, shown to new participants in `connection.created` and, with
/// `push`, to the channel in `connection.updated`.
/// </summary>
[Collection("sfu")]
public sealed class NotifyMetadataApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private const string P = "Sora_20201124.";

    private static SyntheticClient Client(InProcessNode node, string channel, JsonObject? extra = null) =>
        new(node.SignalingUrl, channel, new SyntheticClientOptions { Certificate = Certificate, ConnectExtra = extra });

    private static bool IsUpdated(JsonNode m, string? about) =>
        (string?)m["type"] == "notify" && (string?)m["event_type"] == "connection.updated" && (string?)m["connection_id"] == about;

    [Fact]
    public async Task Without_the_extension_the_apis_refuse_clearly()
    {
        await using var node = await InProcessNode.StartAsync();
        var (status, error) = await node.ApiAsync(P + "ListSignalingNotifyMetadata", """{"channel_id":"x"}""");
        Assert.Equal(400, status);
        Assert.Equal("SignalingNotifyMetadataExtDisabled", (string?)error!["error_type"]);
    }

    [Fact]
    public async Task Metadata_changed_through_the_api_is_pushed_to_the_channel_and_shown_to_newcomers()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { SignalingNotifyMetadataExt = true });
        await using var a = Client(node, "meta", new JsonObject { ["signaling_notify_metadata"] = new JsonObject { ["name"] = "a" } });
        await using var b = Client(node, "meta");
        await a.ConnectAsync();
        await b.ConnectAsync();
        // A client's connect returns once its side is connected; the node marks it connected a moment later.
        await InProcessNode.EventuallyAsync("the node has both connected", () => node.Node.Sfu.ListConnections("meta").Count == 2);

        var (listStatus, list) = await node.ApiAsync(P + "ListSignalingNotifyMetadata", """{"channel_id":"meta"}""");
        Assert.Equal(200, listStatus);
        Assert.Equal(new[] { a.ConnectionId, b.ConnectionId }.Order(), list!.AsArray().Select(r => (string?)r!["connection_id"]).Order());
        Assert.All(list.AsArray(), r => Assert.Null(r!["metadata"]));

        // PutSignalingNotifyMetadataItem with push: the channel (b, and a itself) hears connection.updated with the value.
        var (putStatus, row) = await node.ApiAsync(P + "PutSignalingNotifyMetadataItem",
            $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","key":"status","value":"busy","push":true}""");
        Assert.Equal(200, putStatus);
        Assert.Equal("busy", (string?)row!["metadata"]!["status"]);
        var updated = await b.WaitForMessageAsync(m => IsUpdated(m, a.ConnectionId), TimeSpan.FromSeconds(10));
        Assert.Equal("busy", (string?)updated["metadata"]!["status"]);
        Assert.Equal("a", (string?)updated["authn_metadata"]!["name"]);
        Assert.Equal(2, (int)updated["channel_connections"]!);
        await a.WaitForMessageAsync(m => IsUpdated(m, a.ConnectionId), TimeSpan.FromSeconds(10));

        // Put without push replaces the value and tells nobody (an absence check over half a second).
        var (put2, _) = await node.ApiAsync(P + "PutSignalingNotifyMetadata",
            $$$"""{"channel_id":"meta","connection_id":"{{{a.ConnectionId}}}","metadata":{"x":1}}""");
        Assert.Equal(200, put2);
        await Task.Delay(500);
        Assert.Single(b.Messages, m => IsUpdated(m, a.ConnectionId));
        var (_, got) = await node.ApiAsync(P + "GetSignalingNotifyMetadata", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}"}""");
        Assert.Equal(1, (int)got!["metadata"]!["x"]!);
        Assert.Null(got["metadata"]!["status"]);

        // A newcomer's own connection.created lists a with the current value.
        await using var c = Client(node, "meta");
        await c.ConnectAsync();
        var own = await c.WaitForMessageAsync(m => (string?)m["event_type"] == "connection.created" && (string?)m["connection_id"] == c.ConnectionId, TimeSpan.FromSeconds(10));
        var aRow = own["data"]!.AsArray().Single(d => (string?)d!["connection_id"] == a.ConnectionId)!;
        Assert.Equal(1, (int)aRow["metadata"]!["x"]!);

        // Item delete, then delete.
        var (_, afterItem) = await node.ApiAsync(P + "DeleteSignalingNotifyMetadataItem", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","key":"x"}""");
        Assert.Empty(afterItem!["metadata"]!.AsObject());
        var (_, afterDelete) = await node.ApiAsync(P + "DeleteSignalingNotifyMetadata", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}"}""");
        Assert.Null(afterDelete!["metadata"]);

        foreach (var (target, body, expected) in new[]
        {
            ("PutSignalingNotifyMetadata", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}"}""", 400),
            ("PutSignalingNotifyMetadata", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","metadata":[1]}""", 400),
            ("PutSignalingNotifyMetadataItem", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","value":1}""", 400),
            ("PutSignalingNotifyMetadataItem", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","key":"k"}""", 400),
            ("PutSignalingNotifyMetadataItem", $$"""{"channel_id":"meta","connection_id":"{{a.ConnectionId}}","key":"k","value":1,"push":"yes"}""", 400),
            ("PutSignalingNotifyMetadata", """{"channel_id":"meta","connection_id":"NOSUCHCONNECTION","metadata":{}}""", 404),
            ("GetSignalingNotifyMetadata", """{"channel_id":"meta"}""", 400),
            ("ListSignalingNotifyMetadata", "{}", 400),
        })
        {
            var (status, error) = await node.ApiAsync(P + target, body);
            Assert.True(status == expected, $"{target} {body}: {status}");
            Assert.False(string.IsNullOrEmpty((string?)error?["message"]));
        }
    }
}
