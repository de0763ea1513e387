using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 14: `Sora_20201120.DisconnectChannelByRole`, `Sora_20201120.PushChannelByRole` (every connection of one role
/// in the channel) and `Sora_20241218.RequestKeyFrame` (a key-frame request to one publisher), with the request bodies
/// of Shiguredo's sora-devtools templates.
/// </summary>
[Collection("sfu")]
public sealed class ChannelByRoleApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static SyntheticClient Client(InProcessNode node, string channel, string role) =>
        new(node.SignalingUrl, channel, new SyntheticClientOptions { Role = role, Certificate = Certificate });

    [Fact]
    public async Task Disconnect_and_push_by_role_reach_exactly_the_connections_of_that_role()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var sender = Client(node, "by-role", "sendonly");
        await using var receiver = Client(node, "by-role", "recvonly");
        await using var both = Client(node, "by-role", "sendrecv");
        foreach (var c in new[] { sender, receiver, both }) await c.ConnectAsync();
        // A client's connect returns once its side is connected; the node marks it connected a moment later (control
        // queue), and by-role calls act on connected connections only.
        await InProcessNode.EventuallyAsync("the node has all three connected", () => node.Node.Sfu.ListConnections("by-role").Count == 3);

        Assert.Equal(200, (await node.ApiAsync("Sora_20201120.PushChannelByRole", """{"channel_id":"by-role","role":"sendrecv","data":{"n":1}}""")).Status);
        var push = await both.WaitForMessageAsync(m => (string?)m["type"] == "push", TimeSpan.FromSeconds(10));
        Assert.Equal(1, (int)push["data"]!["n"]!);
        await Task.Delay(500); // an absence check: the other roles get nothing
        Assert.DoesNotContain(sender.Messages, m => (string?)m["type"] == "push");
        Assert.DoesNotContain(receiver.Messages, m => (string?)m["type"] == "push");

        Assert.Equal(200, (await node.ApiAsync("Sora_20201120.DisconnectChannelByRole", """{"channel_id":"by-role","role":"recvonly"}""")).Status);
        await InProcessNode.EventuallyAsync("the recvonly client closed", () => receiver.CloseStatus is not null);
        Assert.Equal(1000, (int)receiver.CloseStatus!.Value);
        await InProcessNode.EventuallyAsync("two connections left", () => node.Node.Sfu.ConnectionCount == 2);
        Assert.Null(sender.CloseStatus);
        Assert.Null(both.CloseStatus);

        foreach (var (target, body) in new[]
        {
            ("Sora_20201120.DisconnectChannelByRole", """{"channel_id":"by-role"}"""),
            ("Sora_20201120.DisconnectChannelByRole", """{"channel_id":"by-role","role":"viewer"}"""),
            ("Sora_20201120.PushChannelByRole", """{"channel_id":"by-role","role":"recvonly"}"""),
        })
        {
            var (status, error) = await node.ApiAsync(target, body);
            Assert.Equal(400, status);
            Assert.False(string.IsNullOrEmpty((string?)error?["message"]));
        }
    }

    [Fact]
    public async Task Request_key_frame_sends_the_publisher_a_key_frame_request()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var pub = Client(node, "key-frame", "sendonly");
        await pub.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(300, 1000, stop.Token);
        try
        {
            // Alone in the channel nobody asks it for key frames (checked over a second: an absence check); the API does.
            await Task.Delay(500);
            var before = pub.PliReceived;
            await Task.Delay(1000);
            Assert.Equal(before, pub.PliReceived);
            var (status, _) = await node.ApiAsync("Sora_20241218.RequestKeyFrame", $$"""{"channel_id":"key-frame","connection_id":"{{pub.ConnectionId}}"}""");
            Assert.Equal(200, status);
            await InProcessNode.EventuallyAsync("a PLI reached the publisher", () => pub.PliReceived > before);
            var (missing, error) = await node.ApiAsync("Sora_20241218.RequestKeyFrame", """{"channel_id":"key-frame","connection_id":"NOPE"}""");
            Assert.Equal(404, missing);
            Assert.Equal("ConnectionNotFound", (string?)error!["error_type"]);
        }
        finally
        {
            await stop.CancelAsync();
            await publishing.ContinueWith(_ => { });
        }
    }
}
