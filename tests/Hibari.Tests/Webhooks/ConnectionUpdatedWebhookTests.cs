using System.Globalization;
using System.Text.Json;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Signaling.Messages;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Webhooks;

/// <summary>
/// The periodic `connection.updated` event webhook (docs/decisions.md D-52, amendment: Sora's
/// `connection_updated_webhook_interval`), end to end: a node with a short interval, real clients, a real receiver.
/// </summary>
[Collection("sfu")]
public sealed class ConnectionUpdatedWebhookTests : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(300);
    private const string Channel = "conn-updated";

    private WebhookTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await WebhookTestServer.StartAsync();
        // The auth webhook hands out event_metadata, which every event webhook of the connection carries.
        _server.BodyHandler = (ctx, _) => ctx.Request.Path == "/auth"
            ? WebhookTestServer.Answer(ctx, 200, """{"allowed":true,"event_metadata":{"room":7}}""")
            : WebhookTestServer.Answer(ctx, 200, "{}");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static SyntheticClient Client(InProcessNode node, string role) =>
        new(node.SignalingUrl, Channel, new SyntheticClientOptions { Role = role, Certificate = Certificate });

    /// <summary>The event webhooks received so far, in delivery order (one drainer: the order they were queued).</summary>
    private List<(string Type, JsonElement Body)> Events() =>
        _server.Requests.Where(r => r.Path == "/event").Select(r => (r.Body.GetProperty("type").GetString()!, r.Body)).ToList();

    private List<JsonElement> Of(string type, string connectionId) =>
        Events().Where(e => e.Type == type && e.Body.GetProperty("connection_id").GetString() == connectionId).Select(e => e.Body).ToList();

    private static DateTimeOffset At(JsonElement body) =>
        DateTimeOffset.Parse(body.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture);

    private static string[] Keys(JsonElement o) => o.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Each_live_connection_gets_connection_updated_every_interval_with_the_event_fields_until_it_ends()
    {
        await using var node = await InProcessNode.StartAsync(o => o with
        {
            AuthWebhookUrl = _server.Url + "/auth",
            EventWebhookUrl = _server.Url + "/event",
            ConnectionUpdatedWebhookInterval = Interval,
        });
        await using var sender = Client(node, "sendonly");
        await using var receiver = Client(node, "recvonly");
        await sender.ConnectAsync();
        await receiver.ConnectAsync();
        await InProcessNode.EventuallyAsync("the node has both connected", () => node.Node.Sfu.ListConnections(Channel).Count == 2);
        var senderId = sender.ConnectionId!;
        var receiverId = receiver.ConnectionId!;

        await InProcessNode.EventuallyAsync("five connection.updated about the sender", () => Of("connection.updated", senderId).Count >= 5, TimeSpan.FromSeconds(30));
        var created = Assert.Single(Of("connection.created", senderId));
        var updated = Of("connection.updated", senderId);

        // The body: connection.created's fields (event_metadata included), with its own type; the header names it.
        Assert.Equal(Keys(created), Keys(updated[0]));
        Assert.Equal(Keys(created.GetProperty("data")), Keys(updated[0].GetProperty("data")));
        foreach (var u in updated)
        {
            Assert.Equal("connection.updated", u.GetProperty("type").GetString());
            Assert.Equal(Channel, u.GetProperty("channel_id").GetString());
            Assert.Equal(sender.SessionId, u.GetProperty("session_id").GetString());
            Assert.Equal("sendonly", u.GetProperty("role").GetString());
            Assert.Equal(7, u.GetProperty("event_metadata").GetProperty("room").GetInt32());
            var data = u.GetProperty("data");
            Assert.Equal(JsonValueKind.Number, data.GetProperty("minutes").ValueKind);
            Assert.Equal((long)(At(u) - DateTimeOffset.Parse(data.GetProperty("created_timestamp").GetString()!, CultureInfo.InvariantCulture)).TotalMinutes,
                data.GetProperty("minutes").GetInt64());
            Assert.Equal(created.GetProperty("data").GetProperty("created_time").GetInt64(), data.GetProperty("created_time").GetInt64());
            Assert.True(data.GetProperty("channel_connections").GetInt32() >= 1);
            Assert.True(SoraId.IsValid(u.GetProperty("id").GetString()));
        }
        Assert.Equal(updated.Count, updated.Select(u => u.GetProperty("id").GetString()).Distinct().Count());
        Assert.Contains(_server.Requests, r => r.Path == "/event" && r.Headers.GetValueOrDefault("sora-event-webhook-type") == "connection.updated"
            && r.Headers.GetValueOrDefault("sora-connection-id") == senderId);

        // The cadence: the k-th comes no earlier than k intervals after connection.created, and four intervals
        // separate the first and the fifth (late ticks only add; the schedule does not drift).
        for (var k = 1; k <= updated.Count; k++)
            Assert.True(At(updated[k - 1]) >= At(created) + k * Interval - TimeSpan.FromMilliseconds(1),
                $"update {k} at {At(updated[k - 1]):O}, connection.created at {At(created):O}");
        var span = At(updated[4]) - At(updated[0]);
        Assert.True(span >= 4 * Interval - TimeSpan.FromMilliseconds(100) && span <= 4 * Interval + TimeSpan.FromSeconds(1),
            $"first to fifth connection.updated: {span.TotalMilliseconds} ms for 4 intervals of {Interval.TotalMilliseconds} ms");

        // The sender leaves: its connection.destroyed is the last event webhook about it, while the receiver goes on
        // being reported, now with one connection in the channel.
        await sender.DisposeAsync();
        await InProcessNode.EventuallyAsync("the sender's connection.destroyed", () => Of("connection.destroyed", senderId).Count == 1);
        var afterDestroyed = Events().Count;
        await InProcessNode.EventuallyAsync("three more connection.updated about the receiver", () =>
            Events().Skip(afterDestroyed).Count(e => e.Type == "connection.updated" && e.Body.GetProperty("connection_id").GetString() == receiverId) >= 3,
            TimeSpan.FromSeconds(30));
        var aboutSender = Events().Where(e => e.Body.GetProperty("connection_id").GetString() == senderId).Select(e => e.Type).ToList();
        Assert.Equal("connection.created", aboutSender[0]);
        Assert.Equal("connection.destroyed", aboutSender[^1]);
        Assert.All(aboutSender.Skip(1).SkipLast(1), t => Assert.Equal("connection.updated", t));
        Assert.Equal(1, Events().Last(e => e.Type == "connection.updated" && e.Body.GetProperty("connection_id").GetString() == receiverId)
            .Body.GetProperty("data").GetProperty("channel_connections").GetInt32());

        // GetStatsReport counts them as they are issued (total_connection_updated): never fewer than were delivered.
        var delivered = Events().Count(e => e.Type == "connection.updated");
        var (status, report) = await node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Equal(200, status);
        Assert.True((long)report!["total_connection_updated"]! >= delivered, $"{report["total_connection_updated"]} counted, {delivered} delivered");
    }
}
