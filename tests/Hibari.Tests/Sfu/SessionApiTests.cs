using System.Diagnostics;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Webhooks;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 14: the session APIs (docs/decisions.md D-50): `Sora_20231220.GetSession` and `ListSessions`,
/// `Sora_20230628.TerminateSession` with the request fields of Sora's session API documentation
/// (`channel_id`, optional `session_id`; TerminateSession answers `{"session_id"}`).
/// </summary>
[Collection("sfu")]
public sealed class SessionApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static SyntheticClient Client(InProcessNode node, string channel, string role = "recvonly") =>
        new(node.SignalingUrl, channel, new SyntheticClientOptions { Role = role, Certificate = Certificate });

    [Fact]
    public async Task Get_and_list_sessions_show_each_session_with_its_counts_and_errors_are_clear()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var a1 = Client(node, "sess-a", "sendrecv");
        await using var a2 = Client(node, "sess-a");
        await using var b1 = Client(node, "sess-b");
        foreach (var c in new[] { a1, a2, b1 }) await c.ConnectAsync();
        // A client's connect returns once its side is connected; the node marks it connected a moment later.
        await InProcessNode.EventuallyAsync("the node has all three connected", () => node.Node.Sfu.ListConnections().Count == 3);

        var (status, s) = await node.ApiAsync("Sora_20231220.GetSession", """{"channel_id":"sess-a"}""");
        Assert.Equal(200, status);
        Assert.Equal("sess-a", (string?)s!["channel_id"]);
        Assert.Equal(a1.SessionId, (string?)s["session_id"]);
        Assert.Equal(2, (int)s["connections"]!);
        Assert.Equal(2, (int)s["total_connections"]!);
        Assert.Equal(2, (int)s["max_connections"]!);
        Assert.True((long)s["created_time"]! > 1_600_000_000_000_000L, s.ToJsonString()); // µs since the epoch
        Assert.EndsWith("Z", (string)s["created_timestamp"]!);
        var row = Assert.Single(s["nodes"]!.AsArray())!;
        Assert.Equal(2, (int)row["connections"]!);

        // With the session id: the same; with another: 404.
        Assert.Equal(200, (await node.ApiAsync("Sora_20231220.GetSession", $$"""{"channel_id":"sess-a","session_id":"{{a1.SessionId}}"}""")).Status);
        var (missing, error) = await node.ApiAsync("Sora_20231220.GetSession", $$"""{"channel_id":"sess-a","session_id":"{{b1.SessionId}}"}""");
        Assert.Equal(404, missing);
        Assert.Equal("SessionNotFound", (string?)error!["error_type"]);
        (missing, error) = await node.ApiAsync("Sora_20231220.GetSession", """{"channel_id":"nobody-here"}""");
        Assert.Equal(404, missing);

        var (listStatus, list) = await node.ApiAsync("Sora_20231220.ListSessions", "{}");
        Assert.Equal(200, listStatus);
        var sessions = list!.AsArray();
        Assert.Equal(["sess-a", "sess-b"], sessions.Select(x => (string)x!["channel_id"]!));
        Assert.Equal([2, 1], sessions.Select(x => (int)x!["connections"]!));
        Assert.Equal(200, (await node.ApiAsync("Sora_20231220.ListSessions", "")).Status); // no body at all

        foreach (var (target, body) in new[]
        {
            ("Sora_20231220.GetSession", "{}"),
            ("Sora_20231220.GetSession", """{"channel_id":""}"""),
            ("Sora_20231220.GetSession", """{"channel_id":"sess-a","session_id":5}"""),
            ("Sora_20231220.GetSession", "[1]"),
            ("Sora_20231220.GetSession", "not json"),
            ("Sora_20231220.ListSessions", """{"group_id":"g"}"""),
            ("Sora_20231220.ListSessions", "[]"),
            ("Sora_20230628.TerminateSession", """{"session_id":"X"}"""),
        })
        {
            var (code, err) = await node.ApiAsync(target, body);
            Assert.True(code == 400, $"{target} {body}: {code}");
            Assert.Equal("InvalidBody", (string?)err!["error_type"]);
            Assert.False(string.IsNullOrEmpty((string?)err["message"]));
        }
    }

    [Fact]
    public async Task Terminate_closes_every_connection_ends_the_session_at_once_and_the_next_connect_starts_a_new_one()
    {
        await using var hooks = await WebhookTestServer.StartAsync();
        // A long destroy delay: without TerminateSession the session would outlive its connections by 60 s.
        await using var node = await InProcessNode.StartAsync(o => o with { SessionWebhookUrl = hooks.Url + "/session", SessionDestroyDelayMs = 60_000 });
        await using var a = Client(node, "term", "sendrecv");
        await using var b = Client(node, "term");
        await using var other = Client(node, "term-other");
        foreach (var c in new[] { a, b, other }) await c.ConnectAsync();
        await InProcessNode.EventuallyAsync("the node has all three connected", () => node.Node.Sfu.ListConnections().Count == 3);
        var session = a.SessionId!;

        // A wrong session id is refused and changes nothing.
        var (status, error) = await node.ApiAsync("Sora_20230628.TerminateSession", $$"""{"channel_id":"term","session_id":"{{other.SessionId}}"}""");
        Assert.Equal(404, status);
        Assert.Equal("SessionNotFound", (string?)error!["error_type"]);
        Assert.Null(a.CloseStatus);

        var sw = Stopwatch.StartNew();
        var (ok, answer) = await node.ApiAsync("Sora_20230628.TerminateSession", $$"""{"channel_id":"term","session_id":"{{session}}"}""");
        Assert.Equal(200, ok);
        Assert.Equal(session, (string?)answer!["session_id"]);
        await InProcessNode.EventuallyAsync("both clients closed", () => a.CloseStatus is not null && b.CloseStatus is not null);
        await InProcessNode.EventuallyAsync("session.destroyed sent", () => hooks.Requests.Any(r =>
            r.Body.GetProperty("type").GetString() == "session.destroyed" && r.Body.GetProperty("session_id").GetString() == session));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"the session ended {sw.ElapsedMilliseconds} ms after TerminateSession (destroy delay 60 s)");
        Assert.Null(other.CloseStatus); // another channel is untouched
        Assert.Equal(404, (await node.ApiAsync("Sora_20231220.GetSession", """{"channel_id":"term"}""")).Status);

        // The channel's next connect starts a new session.
        await using var next = Client(node, "term");
        await next.ConnectAsync();
        Assert.NotEqual(session, next.SessionId);
        var (_, now) = await node.ApiAsync("Sora_20231220.GetSession", """{"channel_id":"term"}""");
        Assert.Equal(next.SessionId, (string?)now!["session_id"]);
        Assert.Equal(404, (await node.ApiAsync("Sora_20230628.TerminateSession", """{"channel_id":"none"}""")).Status);
    }
}
