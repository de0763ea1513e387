using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Hibari.Signaling;

namespace Hibari.Tests.Sfu;

/// <summary>
/// The signaling receive buffer starts small and grows per message up to the 256 KiB limit (SignalingSession.MessageBuffer):
/// a large connect is still served, one over the limit closes with 4409, and the buffer shrinks back afterwards.
/// </summary>
[Collection("sfu")]
public sealed class SignalingMessageSizeTests
{
    private static async Task<(JsonObject? First, WebSocketCloseStatus? Close, string? Reason)> ConnectAsync(Uri url, int padding)
    {
        using var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.ConnectAsync(url, cts.Token);
        var connect = """{"type":"connect","role":"recvonly","channel_id":"size","metadata":{"pad":"PAD"}}""".Replace("PAD", new string('x', padding));
        var bytes = Encoding.UTF8.GetBytes(connect);
        // In several frames, as a browser may send a large message.
        for (var at = 0; at < bytes.Length; at += 16 * 1024)
        {
            var n = Math.Min(16 * 1024, bytes.Length - at);
            await ws.SendAsync(bytes.AsMemory(at, n), WebSocketMessageType.Text, at + n == bytes.Length, cts.Token);
        }
        var buffer = new byte[256 * 1024];
        var r = await ws.ReceiveAsync(buffer, cts.Token);
        if (r.MessageType == WebSocketMessageType.Close) return (null, ws.CloseStatus, ws.CloseStatusDescription);
        return (JsonNode.Parse(buffer.AsSpan(0, r.Count))!.AsObject(), null, null);
    }

    [Fact]
    public async Task A_connect_of_200_KiB_is_served_and_one_over_256_KiB_closes_with_4409()
    {
        await using var node = await InProcessNode.StartAsync();
        var (first, close, _) = await ConnectAsync(node.SignalingUrl, 200 * 1024);
        Assert.Null(close);
        Assert.Equal("offer", (string?)first!["type"]);

        (first, close, var reason) = await ConnectAsync(node.SignalingUrl, 300 * 1024);
        Assert.Null(first);
        Assert.Equal((WebSocketCloseStatus)SignalingCloses.MessageTooLarge.Code, close);
        Assert.Equal(SignalingCloses.MessageTooLarge.Reason, reason);
    }

    [Fact]
    public void The_buffer_doubles_up_to_the_limit_keeps_what_it_holds_and_shrinks_back()
    {
        var b = new SignalingSession.MessageBuffer(20 * 1024);
        Assert.Equal(4096, b.Array.Length);
        b.Array[4095] = 7;
        Assert.True(b.Grow(4096));
        Assert.Equal(8192, b.Array.Length);
        Assert.Equal(7, b.Array[4095]);
        Assert.True(b.Grow(8192));
        Assert.True(b.Grow(16384));
        Assert.Equal(20 * 1024, b.Array.Length);
        Assert.False(b.Grow(20 * 1024));
        b.Shrink();
        Assert.Equal(4096, b.Array.Length);
    }
}
