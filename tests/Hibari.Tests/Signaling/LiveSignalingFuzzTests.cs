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
/// HIBARI_FUZZ_ITERATIONS / 100 sockets (at least 60). Then the same number of inputs as messages: garbage sent on the
/// signaling sockets of a running call after its answer, which the node must parse and ignore (D-15) while the call
/// keeps delivering media (at least 2,000 messages).
/// </summary>
[Collection("sfu")]
public sealed class LiveSignalingFuzzTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 0;

    // A socket per 100 inputs: a million sockets would need more ephemeral ports than loopback has in TIME_WAIT's minute.
    private static int Sockets => Math.Max(60, Iterations / 100);

    private static int MessagesAfterAnswer => Math.Max(2000, Iterations);

    /// <summary>Types a client may send after its answer, except `disconnect` (which ends the connection by design).</summary>
    private static readonly string[] Types = ["pong", "re-answer", "candidate", "stats", "answer", "connect", "notify", "ping", "", "PONG", "x"];

    /// <summary>One garbage message for an answered connection: random bytes, random text, or a mutated message.</summary>
    private static (byte[] Bytes, WebSocketMessageType Type) AfterAnswerGarbage(Random r)
    {
        switch (r.Next(6))
        {
            case 0:
                var bytes = new byte[r.Next(0, 1500)];
                r.NextBytes(bytes);
                return (bytes, WebSocketMessageType.Binary);
            case 1:
                return (Encoding.UTF8.GetBytes(new string(Enumerable.Range(0, r.Next(0, 300)).Select(_ => (char)r.Next(1, 0xD7FF)).ToArray())), WebSocketMessageType.Text);
            case 2: // deep nesting, within and past what the parser allows
                var depth = r.Next(1, 300);
                return (Encoding.UTF8.GetBytes("{\"type\":\"pong\",\"stats\":" + new string('[', depth) + new string(']', r.Next(depth + 1))), WebSocketMessageType.Text);
            default: // a known (or near) type with fields of the wrong kinds, sometimes cut short
                var fields = new List<string> { $"\"type\":\"{Types[r.Next(Types.Length)]}\"" };
                for (var i = r.Next(4); i > 0; i--)
                    fields.Add($"\"{(r.Next(3) == 0 ? "sdp" : r.Next(2) == 0 ? "stats" : "reason")}\":{Value(r)}");
                var json = "{" + string.Join(",", fields) + "}";
                if (r.Next(8) == 0) json = json[..r.Next(json.Length)];
                return (Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);
        }

        static string Value(Random r) => r.Next(7) switch
        {
            0 => r.Next().ToString(),
            1 => "\"" + new string('v', r.Next(0, 2000)) + "\"",
            2 => "[{\"type\":\"codec\",\"id\":" + r.Next() + "}]",
            3 => "null",
            4 => "1e999",
            5 => "\"v=0\\r\\no=- 0 0 IN IP4 0.0.0.0\\r\\nm=video 9 UDP/TLS/RTP/SAVPF 96\\r\\n\"",
            _ => "{\"\\ud800\":true}",
        };
    }

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

    [Fact, Trait("Category", "Fuzz")]
    public async Task Garbage_after_the_answer_is_ignored_and_the_call_keeps_its_media()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var call = await node.StartCallAsync("ws-fuzz-answered", Certificate);
        var random = new Random(20261208);
        // Both clients' sockets, one sender each (a WebSocket takes one message at a time).
        var clients = new[] { call.Publisher, call.Subscriber };
        var per = MessagesAfterAnswer / clients.Length;
        await Task.WhenAll(clients.Select((c, k) => Task.Run(async () =>
        {
            var r = new Random(random.Next() + k);
            for (var i = 0; i < per; i++)
            {
                var (bytes, type) = AfterAnswerGarbage(r);
                await c.SendRawAsync(bytes, type);
            }
        })));
        // The node reads a socket's messages in order: a pong with a marker in its stats, sent after the garbage and
        // seen in the node's stored client stats (D-56), proves every garbage message before it was read. The client's
        // own answer to a `ping` asking for stats replaces the stored sample, so the marker is sent again until seen.
        bool Marked(Hibari.Load.SyntheticClient c) =>
            node.Node.Sfu.RtcStats().Any(x => x.Info.ConnectionId == c.ConnectionId && x.Stats.Stats.GetRawText().Contains("fuzz-marker"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        foreach (var c in clients)
        {
            while (!Marked(c))
            {
                Assert.True(DateTime.UtcNow < deadline,
                    $"{c.ConnectionId}: no marker read within 120 s (connections {node.Node.Sfu.ConnectionCount}, socket {c.WebSocketState})");
                await c.SendRawAsync(Encoding.UTF8.GetBytes($"{{\"type\":\"pong\",\"stats\":[{{\"type\":\"fuzz-marker\",\"id\":\"{c.ConnectionId}\"}}]}}"), WebSocketMessageType.Text);
                for (var i = 0; i < 40 && !Marked(c); i++) await Task.Delay(50);
            }
        }
        // None of it closed either connection, and media still reaches the subscriber afterwards.
        var before = call.Subscriber.PacketsReceived;
        await InProcessNode.EventuallyAsync("media after the garbage", () => call.Subscriber.PacketsReceived > before + 50);
        Assert.Equal(2, node.Node.Sfu.ConnectionCount);
        Assert.All(clients, c => Assert.Equal(WebSocketState.Open, c.WebSocketState));
    }
}
