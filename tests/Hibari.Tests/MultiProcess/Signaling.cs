using System.Net.WebSockets;
using System.Text;

namespace Hibari.Tests.MultiProcess;

/// <summary>A minimal signaling client: opens the WebSocket, sends `connect`, returns how the server closed it.</summary>
public static class Signaling
{
    /// <summary>The reason returned when the node served the connect (sent an offer) instead of closing.</summary>
    public const string Served = "SERVED";

    /// <remarks>Each call uses a channel of its own unless <paramref name="channel"/> is given: with placement, a shared channel
    /// would send later probes to whichever node holds it.</remarks>
    public static async Task<(int? Code, string? Reason)> ConnectAndWaitForCloseAsync(NodeProcess node, int signalingPort, TimeSpan? timeout = null,
        string? channel = null)
    {
        using var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        await ws.ConnectAsync(new Uri($"ws://{node.Ip}:{signalingPort}/signaling"), cts.Token);
        var connect = $$"""{"type":"connect","role":"sendrecv","channel_id":"{{channel ?? "probe-" + Guid.NewGuid().ToString("n")[..12]}}","sdp":"v=0"}""";
        try
        {
            await ws.SendAsync(Encoding.UTF8.GetBytes(connect), WebSocketMessageType.Text, true, cts.Token);
        }
        catch (WebSocketException) { }
        var buf = new byte[4096];
        while (true)
        {
            try
            {
                var r = await ws.ReceiveAsync(buf, cts.Token);
                if (r.MessageType == WebSocketMessageType.Close) return ((int?)ws.CloseStatus, ws.CloseStatusDescription);
                // A serving node answers with an offer instead of closing.
                if (Encoding.UTF8.GetString(buf, 0, r.Count).Contains("\"type\":\"offer\"")) return (null, Served);
            }
            catch (WebSocketException)
            {
                return ((int?)ws.CloseStatus, ws.CloseStatusDescription);
            }
        }
    }
}
