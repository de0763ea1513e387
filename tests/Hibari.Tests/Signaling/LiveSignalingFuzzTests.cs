using System.Net.WebSockets;
using System.Text;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Signaling;

/// <summary>
/// Issue 13 part 3: the signaling WebSocket of a running node fed garbage — random text and binary frames, an
/// oversized message, a valid `connect` split over many frames, a valid `connect` followed by garbage, and clients that
/// never send. Every socket ends with a close from the node (a 4xxx code, or the offer for the valid connect) within
/// its timeout, never a hang; afterwards no connection is left behind and a new publisher/subscriber pair gets media.
/// HIBARI_FUZZ_ITERATIONS sockets (default 60).
/// </summary>
[Collection("sfu")]
public sealed class LiveSignalingFuzzTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static int Sockets =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? Math.Max(60, n / 100) : 60;

    private const string Connect = """{"type":"connect","role":"sendrecv","channel_id":"ws-fuzz","sora_client":"fuzz","environment":"fuzz","sdk_type":"fuzz","sdk_version":"0"}""";

    /// <summary>What the node did with one socket: its close code (0: it sent an offer first), and what was sent.</summary>
    private static async Task<(int Close, string Sent)> OneAsync(Uri url, int kind, Random r)
    {
        try
        {
            return await ExchangeAsync(url, kind, r);
        }
        catch (WebSocketException e)
        {
            return (-1, $"kind {kind}: {e.Message}");
        }
    }

    private static async Task<(int Close, string Sent)> ExchangeAsync(Uri url, int kind, Random r)
    {
        using var ws = new ClientWebSocket();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await ws.ConnectAsync(url, deadline.Token);
        string sent;
        switch (kind)
        {
            case 0: // random text
                var text = new string(Enumerable.Range(0, r.Next(1, 400)).Select(_ => (char)r.Next(1, 0xD7FF)).ToArray());
                sent = "text " + text.Length;
                await ws.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, deadline.Token);
                break;
            case 1: // random binary
                var bytes = new byte[r.Next(0, 2000)];
                r.NextBytes(bytes);
                sent = "binary " + bytes.Length;
                await ws.SendAsync(bytes, WebSocketMessageType.Binary, true, deadline.Token);
                break;
            case 2: // oversized JSON-looking text
                sent = "oversized";
                await ws.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"connect\",\"x\":\"" + new string('a', 300_000) + "\"}"), WebSocketMessageType.Text, true, deadline.Token);
                break;
            case 3: // a valid connect in many small frames: one message
                sent = "fragmented connect";
                var all = Encoding.UTF8.GetBytes(Connect);
                for (var at = 0; at < all.Length; at += 7)
                    await ws.SendAsync(all.AsMemory(at, Math.Min(7, all.Length - at)), WebSocketMessageType.Text, at + 7 >= all.Length, deadline.Token);
                break;
            case 4: // valid connect, then garbage once the offer came
                sent = "connect then garbage";
                await ws.SendAsync(Encoding.UTF8.GetBytes(Connect), WebSocketMessageType.Text, true, deadline.Token);
                var buf = new byte[64 * 1024];
                var first = await ws.ReceiveAsync(buf, deadline.Token);
                if (first.MessageType == WebSocketMessageType.Close) return ((int)(ws.CloseStatus ?? 0), sent);
                await ws.SendAsync(Encoding.UTF8.GetBytes("{\"type\":\"answer\",\"sdp\":" + r.Next() + "}"), WebSocketMessageType.Text, true, deadline.Token);
                break;
            default: // never sends: the node's connect timeout closes it
                sent = "silent";
                break;
        }
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var m = await ws.ReceiveAsync(buffer, deadline.Token);
            if (m.MessageType == WebSocketMessageType.Close) return ((int)(ws.CloseStatus ?? 0), sent);
            if (kind == 3 && m.EndOfMessage) return (0, sent); // the offer: the split connect was read whole
        }
    }

    [Fact, Trait("Category", "Fuzz")]
    public async Task Garbage_on_the_signaling_socket_gets_a_close_never_a_hang_and_the_node_keeps_serving()
    {
        await using var node = await InProcessNode.StartAsync();
        var random = new Random(20261207);
        var jobs = new List<Task<(int Close, string Sent)>>();
        // Two silent sockets run alongside (they take the 10 s connect timeout); the rest a few at a time.
        jobs.Add(OneAsync(node.SignalingUrl, 9, random));
        jobs.Add(OneAsync(node.SignalingUrl, 9, random));
        for (var i = 0; i < Sockets; i++)
        {
            var kind = random.Next(5);
            var seed = random.Next();
            jobs.Add(OneAsync(node.SignalingUrl, kind, new Random(seed)));
            // One snapshot: a job may complete between a count and a second look (an empty WhenAny at 10,000 sockets).
            var pending = jobs.Where(j => !j.IsCompleted).ToList();
            if (pending.Count >= 8) await Task.WhenAny(pending);
        }
        var results = await Task.WhenAll(jobs);
        foreach (var (close, sent) in results)
        {
            if (sent == "fragmented connect") Assert.Equal(0, close); // read as one message: the offer came
            else if (sent == "silent") Assert.Equal(4010, close);       // SIGNALING-TIMEOUT
            else if (sent == "oversized") Assert.Equal(4409, close);    // SIGNALING-MESSAGE-TOO-LARGE
            else Assert.True(close is >= 4000 and < 5000, $"{sent}: closed with {close}");
        }
        // Nothing left behind, and the node still serves.
        await InProcessNode.EventuallyAsync("no connection left", () => node.Node.Sfu.ConnectionCount == 0, TimeSpan.FromSeconds(30));
        await node.AssertNewPairGetsMediaAsync("ws-fuzz-after", Certificate);
    }
}
