using System.Diagnostics;
using System.Text.Json;
using Hibari.Signaling.Messages;
using Hibari.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Webhooks;

public sealed class SessionEventWebhookTests : IAsyncLifetime
{
    private WebhookTestServer _server = null!;
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), "hibari-wh-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        _server = await WebhookTestServer.StartAsync();
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, "{}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_logDir, true); } catch (DirectoryNotFoundException) { }
    }

    private WebhookClient Client(int queue = 10_000, int timeoutMs = 2000, int flushMs = 5000) => new(new WebhookOptions
    {
        SessionWebhookUrl = _server.Url + "/session",
        EventWebhookUrl = _server.Url + "/event",
        WebhookTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        LogDir = _logDir,
        NodeName = "hibari-1@127.0.0.1",
        QueueCapacity = queue,
        FlushTimeout = TimeSpan.FromMilliseconds(flushMs),
    }, NullLogger.Instance);

    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static SessionWebhookEvent Session(SessionWebhookType type) => new()
    {
        Type = type, ChannelId = "sora", SessionId = "SCVC9JRZZ900F0KC32T3GY6FBR", CreatedAt = Created,
        DestroyedAt = type == SessionWebhookType.Destroyed ? Created.AddSeconds(90) : null,
        TotalConnections = 3, MaxConnections = 2,
    };

    private static ConnectionWebhookEvent Event(ConnectionWebhookType type, int n = 0) => new()
    {
        Type = type, ChannelId = "sora", SessionId = "SCVC9JRZZ900F0KC32T3GY6FBR", ClientId = $"c{n}", BundleId = "b",
        ConnectionId = "WCJC78EWK935N7P7Z8FYAKFW9M", Role = Role.SendRecv, CreatedAt = Created, Audio = true, Video = false,
        ChannelConnections = new ChannelCounts(2, 0, 1), Minutes = 1,
        Reason = type == ConnectionWebhookType.Destroyed ? "NO-ERROR" : null,
    };

    private static string[] Keys(JsonElement e) => e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Session_webhooks_have_the_common_keys_a_sora_id_and_the_type_header()
    {
        await using var client = Client();
        Assert.Equal(WebhookEnqueue.Queued, client.EnqueueSession(Session(SessionWebhookType.Created)));
        Assert.Equal(WebhookEnqueue.Queued, client.EnqueueSession(Session(SessionWebhookType.Destroyed)));
        Assert.True(await WebhookTestServer.EventuallyAsync(() => _server.Requests.Count == 2));
        var (created, destroyed) = (_server.Requests.ElementAt(0), _server.Requests.ElementAt(1));
        Assert.Equal("/session", created.Path);
        Assert.Equal("session.created", created.Headers["sora-session-webhook-type"]);
        Assert.Equal("SCVC9JRZZ900F0KC32T3GY6FBR", created.Headers["sora-session-id"]);
        Assert.Equal(new[] { "channel_id", "created_time", "created_timestamp", "id", "label", "node_name", "session_id", "timestamp", "type", "version" },
            Keys(created.Body));
        Assert.Equal("session.created", created.Body.GetProperty("type").GetString());
        Assert.True(SoraId.IsValid(created.Body.GetProperty("id").GetString()));
        Assert.Equal("WebRTC SFU Hibari", created.Body.GetProperty("label").GetString());
        Assert.Equal("2026-01-02T03:04:05.000000Z", created.Body.GetProperty("created_timestamp").GetString());
        Assert.Equal(Created.ToUnixTimeMilliseconds() * 1000, created.Body.GetProperty("created_time").GetInt64());
        Assert.Equal("session.destroyed", destroyed.Body.GetProperty("type").GetString());
        Assert.Equal(90, destroyed.Body.GetProperty("duration_sec").GetInt64());
        Assert.Equal(3, destroyed.Body.GetProperty("total_connections").GetInt32());
        Assert.Equal(2, destroyed.Body.GetProperty("max_connections").GetInt32());
        Assert.NotEqual(created.Body.GetProperty("id").GetString(), destroyed.Body.GetProperty("id").GetString());
        Assert.True(await WebhookTestServer.EventuallyAsync(() => client.Counters.TotalSuccessfulSessionWebhook == 2));
    }

    [Fact]
    public async Task Connection_event_webhooks_carry_connection_fields_and_event_metadata()
    {
        await using var client = Client();
        using var md = JsonDocument.Parse("""{"room":42}""");
        client.EnqueueEvent(Event(ConnectionWebhookType.Created) with { EventMetadata = md.RootElement });
        client.EnqueueEvent(Event(ConnectionWebhookType.Destroyed));
        Assert.True(await WebhookTestServer.EventuallyAsync(() => _server.Requests.Count == 2));
        var created = _server.Requests.ElementAt(0);
        Assert.Equal("/event", created.Path);
        Assert.Equal("connection.created", created.Headers["sora-event-webhook-type"]);
        Assert.Equal("WCJC78EWK935N7P7Z8FYAKFW9M", created.Headers["sora-connection-id"]);
        var b = created.Body;
        Assert.Equal(new[]
        {
            "bundle_id", "channel_id", "client_id", "connection_id", "data", "event_metadata", "id", "label",
            "multistream", "node_name", "role", "session_id", "simulcast", "spotlight", "timestamp", "type", "version",
        }, Keys(b));
        Assert.Equal(42, b.GetProperty("event_metadata").GetProperty("room").GetInt32());
        var data = b.GetProperty("data");
        Assert.Equal(new[]
        {
            "audio", "channel_connections", "channel_recvonly_connections", "channel_sendonly_connections",
            "channel_sendrecv_connections", "created_time", "created_timestamp", "minutes", "turn_transport_type", "video",
        }, Keys(data));
        Assert.Equal(3, data.GetProperty("channel_connections").GetInt32());
        var destroyed = _server.Requests.ElementAt(1).Body;
        Assert.Equal("connection.destroyed", destroyed.GetProperty("type").GetString());
        Assert.Equal("NO-ERROR", destroyed.GetProperty("reason").GetString());
        Assert.False(destroyed.TryGetProperty("event_metadata", out _));
    }

    [Fact]
    public async Task Webhooks_are_delivered_in_the_order_they_were_queued()
    {
        await using var client = Client();
        for (var i = 0; i < 200; i++) client.EnqueueEvent(Event(ConnectionWebhookType.Updated, i));
        Assert.True(await WebhookTestServer.EventuallyAsync(() => _server.Requests.Count == 200));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"c{i}"), _server.Requests.Select(r => r.Body.GetProperty("client_id").GetString()));
        Assert.True(await WebhookTestServer.EventuallyAsync(() => client.Counters.TotalSuccessfulEventWebhook == 200));
    }

    [Fact]
    public async Task A_stalled_endpoint_never_blocks_the_caller_and_drops_are_counted()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _server.Handler = async ctx =>
        {
            await Task.WhenAny(release.Task, Task.Delay(TimeSpan.FromSeconds(60), ctx.RequestAborted));
            await WebhookTestServer.Answer(ctx, 200, "{}");
        };
        var client = Client(queue: 10_000, timeoutMs: 30_000, flushMs: 1000);
        try
        {
            client.EnqueueEvent(Event(ConnectionWebhookType.Created));
            Assert.True(await WebhookTestServer.EventuallyAsync(() => _server.Requests.Count == 1)); // the drainer is stuck on it
            var watch = Stopwatch.StartNew();
            var results = new List<WebhookEnqueue>(20_000);
            for (var i = 0; i < 20_000; i++) results.Add(client.EnqueueEvent(Event(ConnectionWebhookType.Updated, i)));
            watch.Stop();
            Assert.True(watch.ElapsedMilliseconds < 2000, $"enqueueing 20k took {watch.ElapsedMilliseconds} ms");
            Assert.Equal(10_000, results.Count(r => r == WebhookEnqueue.Queued));
            Assert.Equal(10_000, results.Count(r => r == WebhookEnqueue.Dropped));
            Assert.Equal(10_000, client.Counters.TotalDroppedWebhook);
        }
        finally
        {
            // Disposal waits at most the flush timeout even though the endpoint is still stalled.
            var watch = Stopwatch.StartNew();
            await client.DisposeAsync();
            Assert.True(watch.ElapsedMilliseconds < 6000, $"dispose took {watch.ElapsedMilliseconds} ms");
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Failed_deliveries_are_counted_and_logged_without_retry()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 503, """{"busy":true}""");
        await using (var client = Client())
        {
            client.EnqueueSession(Session(SessionWebhookType.Created));
            client.EnqueueEvent(Event(ConnectionWebhookType.Created));
            Assert.True(await WebhookTestServer.EventuallyAsync(() =>
                client.Counters.TotalFailedSessionWebhook == 1 && client.Counters.TotalFailedEventWebhook == 1));
        }
        Assert.Equal(2, _server.Requests.Count);
        foreach (var file in new[] { "session_webhook.jsonl", "session_webhook_error.jsonl", "event_webhook.jsonl", "event_webhook_error.jsonl" })
        {
            var line = JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_logDir, file)))).RootElement;
            Assert.Equal(503, line.GetProperty("status").GetInt32());
            Assert.Equal("status 503", line.GetProperty("error").GetString());
            Assert.True(line.GetProperty("response").GetProperty("busy").GetBoolean());
            Assert.Equal(JsonValueKind.Object, line.GetProperty("request").ValueKind);
        }
    }

    [Fact]
    public async Task Successful_deliveries_are_logged_as_valid_json_lines()
    {
        await using (var client = Client())
        {
            for (var i = 0; i < 50; i++) client.EnqueueEvent(Event(ConnectionWebhookType.Updated, i));
            client.EnqueueSession(Session(SessionWebhookType.Created));
            Assert.True(await WebhookTestServer.EventuallyAsync(() =>
                client.Counters.TotalSuccessfulEventWebhook == 50 && client.Counters.TotalSuccessfulSessionWebhook == 1));
        }
        var lines = File.ReadAllLines(Path.Combine(_logDir, "event_webhook.jsonl"));
        Assert.Equal(50, lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal("connection.updated", line.GetProperty("type").GetString());
            Assert.Equal($"c{i}", line.GetProperty("request").GetProperty("client_id").GetString());
            Assert.Equal(200, line.GetProperty("status").GetInt32());
        }
        Assert.Single(File.ReadAllLines(Path.Combine(_logDir, "session_webhook.jsonl")));
        Assert.False(File.Exists(Path.Combine(_logDir, "event_webhook_error.jsonl")));
    }

    [Fact]
    public async Task Without_urls_webhooks_are_ignored_and_counted()
    {
        await using var client = new WebhookClient(new WebhookOptions(), NullLogger.Instance);
        Assert.Equal(WebhookEnqueue.Ignored, client.EnqueueSession(Session(SessionWebhookType.Created)));
        Assert.Equal(WebhookEnqueue.Ignored, client.EnqueueEvent(Event(ConnectionWebhookType.Created)));
        Assert.Equal(WebhookEnqueue.Ignored, client.EnqueueEvent(Event(ConnectionWebhookType.Destroyed)));
        Assert.Equal(1, client.Counters.TotalIgnoredSessionWebhook);
        Assert.Equal(2, client.Counters.TotalIgnoredEventWebhook);
    }

    [Fact]
    public void Options_from_the_node_configuration_keep_urls_timeouts_and_log_dir()
    {
        var o = WebhookOptions.From(new Hibari.Config.HibariOptions
        {
            AuthWebhookUrl = "http://a/", SessionWebhookUrl = "", EventWebhookUrl = "http://e/",
            AuthWebhookTimeoutMs = 1234, WebhookTimeoutMs = 4321, LogDir = "logs", NodeName = "n1@10.0.0.1",
        });
        Assert.Equal(("http://a/", (string?)null, "http://e/"), (o.AuthWebhookUrl, o.SessionWebhookUrl, o.EventWebhookUrl));
        Assert.Equal(TimeSpan.FromMilliseconds(1234), o.AuthWebhookTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(4321), o.WebhookTimeout);
        Assert.Equal("logs", o.LogDir);
        Assert.Equal("n1@10.0.0.1", o.NodeName);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Sensitive_metadata_is_redacted_in_the_logs_but_not_in_the_error_logs_unless_skipped_D_55(bool skip)
    {
        // The session webhook answers with session_metadata; the event webhook's request carries event_metadata.
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, ctx.Request.Path.Value == "/event" ? 500 : 200,
            """{"session_metadata":{"secret":"s"},"keep":1}""");
        var em = JsonDocument.Parse("""{"token":"t"}""").RootElement.Clone();
        await using (var client = new WebhookClient(new WebhookOptions
        {
            SessionWebhookUrl = _server.Url + "/session", EventWebhookUrl = _server.Url + "/event", LogDir = _logDir, SkipRedact = skip,
        }, NullLogger.Instance))
        {
            client.EnqueueSession(Session(SessionWebhookType.Created));
            client.EnqueueEvent(Event(ConnectionWebhookType.Created) with { EventMetadata = em });
            Assert.True(await WebhookTestServer.EventuallyAsync(() =>
                client.Counters.TotalSuccessfulSessionWebhook == 1 && client.Counters.TotalFailedEventWebhook == 1));
        }
        JsonElement Line(string file) => JsonDocument.Parse(Assert.Single(File.ReadAllLines(Path.Combine(_logDir, file)))).RootElement;
        var session = Line("session_webhook.jsonl").GetProperty("response");
        Assert.Equal(1, session.GetProperty("keep").GetInt32());
        var events = Line("event_webhook.jsonl").GetProperty("request");
        Assert.Equal("c0", events.GetProperty("client_id").GetString());
        if (skip)
        {
            Assert.Equal("s", session.GetProperty("session_metadata").GetProperty("secret").GetString());
            Assert.Equal("t", events.GetProperty("event_metadata").GetProperty("token").GetString());
        }
        else
        {
            Assert.Equal("REDACTED", session.GetProperty("session_metadata").GetString());
            Assert.Equal("REDACTED", events.GetProperty("event_metadata").GetString());
        }
        // The error log keeps what was sent, as Sora's does.
        Assert.Equal("t", Line("event_webhook_error.jsonl").GetProperty("request").GetProperty("event_metadata").GetProperty("token").GetString());
        // The webhook itself always received the real value.
        Assert.Contains(_server.Requests, r => r.Path == "/event" && r.Body.GetProperty("event_metadata").GetProperty("token").GetString() == "t");
    }

    [Theory]
    [InlineData("""{"spotlight_number":3}""", 3)]
    [InlineData("""{"spotlight_number":9}""", null)]
    [InlineData("""{"spotlight_number":"3"}""", null)]
    [InlineData("""not json""", null)]
    [InlineData("""{}""", null)]
    public async Task A_session_created_answer_with_spotlight_number_is_passed_on_D_55(string answer, int? expected)
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, answer);
        var got = new System.Collections.Concurrent.ConcurrentQueue<(string, string, int)>();
        await using (var client = Client())
        {
            client.SessionSpotlightNumber += (c, s, n) => got.Enqueue((c, s, n));
            client.EnqueueSession(Session(SessionWebhookType.Created));
            client.EnqueueSession(Session(SessionWebhookType.Destroyed)); // a destroyed answer has no effect
            Assert.True(await WebhookTestServer.EventuallyAsync(() => client.Counters.TotalSuccessfulSessionWebhook == 2));
        }
        if (expected is { } n) Assert.Equal([("sora", "SCVC9JRZZ900F0KC32T3GY6FBR", n)], got);
        else Assert.Empty(got);
    }
}

