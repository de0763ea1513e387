using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Hibari.Signaling;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Sfu;

/// <summary>The signaling state machine's redirect (used by cluster placement): message, close, and no chains.</summary>
[Collection("sfu")]
public sealed class RedirectTests
{
    private sealed class AlwaysRedirect(string location) : IConnectPlacement
    {
        public PlacementDecision BeforeAuth(ConnectRequest connect) => PlacementDecision.Redirect(location);
        public PlacementDecision AfterAuth(ConnectRequest connect, Hibari.Sfu.ConnectionInfo info) => PlacementDecision.Redirect(location);
        public PlacementDecision SessionElsewhere(ConnectRequest connect, string owner) => PlacementDecision.Redirect(location);
    }

    private static async Task<(JsonObject? First, WebSocketCloseStatus? Close)> ConnectAsync(Uri url, bool redirected)
    {
        using var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await ws.ConnectAsync(url, cts.Token);
        var connect = redirected
            ? """{"type":"connect","role":"recvonly","channel_id":"r","redirect":true}"""
            : """{"type":"connect","role":"recvonly","channel_id":"r"}""";
        await ws.SendAsync(Encoding.UTF8.GetBytes(connect), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[64 * 1024];
        var r = await ws.ReceiveAsync(buffer, cts.Token);
        if (r.MessageType == WebSocketMessageType.Close) return (null, ws.CloseStatus);
        var first = JsonNode.Parse(buffer.AsSpan(0, r.Count))!.AsObject();
        if ((string?)first["type"] != "redirect") return (first, null);
        r = await ws.ReceiveAsync(buffer, cts.Token);
        return (first, r.MessageType == WebSocketMessageType.Close ? ws.CloseStatus : null);
    }

    [Fact]
    public async Task A_redirect_decision_sends_the_location_then_closes_and_a_redirected_connect_is_served()
    {
        await using var node = await InProcessNode.StartAsync();
        var options = node.Options with { SignalingPort = InProcessNode.FreeTcpPort() };
        var authorizer = new ConnectAuthorizer(options, node.Node.Webhooks.Auth, node.Node.Sfu, NullLogger.Instance);
        await using var redirecting = new SignalingServer(options, node.Node.Cluster.Guard, node.Node.Sfu, authorizer,
            NullLoggerFactory.Instance, new AlwaysRedirect("ws://192.0.2.7:5000/signaling"));
        await redirecting.StartAsync(CancellationToken.None);
        var url = new Uri($"ws://127.0.0.1:{options.SignalingPort}/signaling");

        var (first, close) = await ConnectAsync(url, redirected: false);
        Assert.Equal("redirect", (string?)first!["type"]);
        Assert.Equal("ws://192.0.2.7:5000/signaling", (string?)first["location"]);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, close);

        // "redirect": true marks a connect that already followed one: it is served, never sent on again.
        (first, _) = await ConnectAsync(url, redirected: true);
        Assert.Equal("offer", (string?)first!["type"]);
    }
}
