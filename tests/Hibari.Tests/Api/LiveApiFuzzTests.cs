using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Api;

/// <summary>
/// Issue 13 part 3: every real HTTP API target of a running node (not a stand-in router), with a publisher and a
/// subscriber connected so that channel and connection calls find something to act on, fed mutated JSON bodies:
/// each answer comes within 10 s, is never a 5xx, and every error is a JSON object with a message. Afterwards the node
/// still answers and a new publisher/subscriber pair gets media. HIBARI_FUZZ_ITERATIONS bodies in all (40 per target
/// without it; `scripts/fuzz.sh` runs 100,000 or more). A measured run: 50,000 bodies in 20 s, no failure.
/// </summary>
[Collection("sfu")]
public sealed class LiveApiFuzzTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    /// <summary>Bodies per target: HIBARI_FUZZ_ITERATIONS shared among the targets (at least 40 each; 40 each without it).</summary>
    private static int PerTarget(int targets) =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? Math.Max(40, n / targets) : 40;

    private static readonly string[] Keys =
    [
        "channel_id", "connection_id", "client_id", "recv_connection_id", "send_connection_id", "receiver_connection_id",
        "sender_connection_id", "rid", "mode", "node_name_list", "contact_node_name", "target_node_name", "data", "reason",
        "local", "spotlight_number", "spotlight_focus_rid", "spotlight_unfocus_rid", "role", "metadata",
    ];

    private static JsonNode? RandomValue(Random r, string[] ids, int depth = 0) => r.Next(depth > 3 ? 8 : 11) switch
    {
        0 => null,
        1 => r.Next(2) == 0,
        2 => r.Next(int.MinValue, int.MaxValue),
        3 => r.NextDouble() * Math.Pow(10, r.Next(-300, 300)),
        4 => ids[r.Next(ids.Length)],
        5 => new string((char)r.Next(32, 0xD7FF), r.Next(0, 3) == 0 ? r.Next(1, 100_000) : r.Next(0, 40)),
        6 => new[] { "r0", "r1", "r2", "none", "auto", "normal", "block_new_session", "block_new_connection", "sendrecv", "recvonly" }[r.Next(10)],
        7 => "",
        8 => new JsonArray(Enumerable.Range(0, r.Next(4)).Select(_ => RandomValue(r, ids, depth + 1)).ToArray()),
        _ => RandomObject(r, ids, depth + 1),
    };

    private static JsonObject RandomObject(Random r, string[] ids, int depth = 0)
    {
        var o = new JsonObject();
        for (var i = r.Next(6); i > 0; i--) o[r.Next(5) == 0 ? "x" + r.Next(100) : Keys[r.Next(Keys.Length)]] = RandomValue(r, ids, depth);
        return o;
    }

    /// <summary>A body: a random object of known keys, then sometimes broken as text (cut, a byte changed, nested deep, not JSON).</summary>
    private static byte[] RandomBody(Random r, string[] ids)
    {
        var text = RandomObject(r, ids).ToJsonString();
        switch (r.Next(8))
        {
            case 0: text = text[..r.Next(text.Length + 1)]; break;
            case 1 when text.Length > 0:
                var chars = text.ToCharArray();
                chars[r.Next(chars.Length)] = "{}[]\",:\\0-e"[r.Next(11)];
                text = new string(chars);
                break;
            case 2: text = new string('[', r.Next(60, 5000)) + new string(']', r.Next(0, 5000)); break;
            case 3: return [.. Enumerable.Range(0, r.Next(0, 300)).Select(_ => (byte)r.Next(256))];
            case 4: text = ""; break;
        }
        return Encoding.UTF8.GetBytes(text);
    }

    [Fact, Trait("Category", "Fuzz")]
    public async Task Every_target_of_a_running_node_answers_mutated_bodies_with_a_clear_status_and_the_node_keeps_serving()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { ApiMaxRequestsPerSecond = 0 }); // as fast as it can send: no rate limit (D-44)
        await using var pub = new SyntheticClient(node.SignalingUrl, "fz", new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate });
        await pub.ConnectAsync();
        await using var sub = new SyntheticClient(node.SignalingUrl, "fz", new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate });
        await sub.ConnectAsync();
        string[] ids = ["fz", pub.ConnectionId!, sub.ConnectionId!, "no-such-channel", "AAAAAAAAAAAAAAAAAAAAAAAAAA"];
        var targets = node.Node.ApiTargets;
        Assert.True(targets.Count >= 30, $"{targets.Count} targets");

        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var random = new Random(20261207);
        var statuses = new Dictionary<int, int>();
        var perTarget = PerTarget(targets.Count);
        foreach (var target in targets)
            for (var i = 0; i < perTarget; i++)
            {
                var body = RandomBody(random, ids);
                using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{node.Options.ApiPort}/") { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add("x-sora-target", target);
                using var response = await http.SendAsync(request);
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var text = await response.Content.ReadAsStringAsync();
                var sent = Encoding.UTF8.GetString(body);
                var shown = $"{target} with {sent[..Math.Min(sent.Length, 200)]} → {status} {text[..Math.Min(text.Length, 200)]}";
                Assert.True(status < 500, shown);
                if (status >= 400)
                {
                    using var error = JsonDocument.Parse(text);
                    Assert.True(error.RootElement.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 }, shown);
                }
            }

        // Alive and serving: the stats answer, the mode is put back (a fuzzed ChangeMode may have blocked connects), and a
        // new pair gets media.
        Assert.Equal(200, (await node.ApiAsync("Sora_20171010.GetStatsReport")).Status);
        Assert.Equal(200, (await node.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"normal"}""")).Status);
        await node.AssertNewPairGetsMediaAsync("fz-after", Certificate);
        Assert.True(statuses.Keys.Any(s => s == 200) && statuses.Keys.Any(s => s is >= 400 and < 500),
            $"statuses {string.Join(", ", statuses.Select(kv => $"{kv.Key}×{kv.Value}"))}");
    }
}
