using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 14: the RTC-stats listing APIs (D-56) — ListRtcStats, ListChannelRtcStats, GetRtcStats — fed by the clients'
/// answers to `ping` with `stats: true`.
/// </summary>
[Collection("sfu")]
public sealed class RtcStatsApiTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public async Task Stats_a_client_sent_with_its_pong_are_listed_in_soras_shape()
    {
        // A ping every 0.5 s, stats asked for at the first one after connected and then every 1 s.
        await using var node = await InProcessNode.StartAsync(o => o with { SignalingPingIntervalMs = 500, RtcStatsIntervalMs = 1000 });
        await using var call = await node.StartCallAsync("rtc-stats", Certificate, bitrateKbps: 300);
        var sub = call.Subscriber;
        await InProcessNode.EventuallyAsync("the subscriber was asked for stats twice", () => sub.StatsRequests >= 2);

        var (status, list) = await node.ApiAsync("Sora_20211215.ListRtcStats", "");
        Assert.Equal(200, status);
        var row = list!.AsArray().Single(r => (string?)r!["connection_id"] == sub.ConnectionId)!;
        Assert.Equal("rtc-stats", (string?)row["channel_id"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", (string)row["timestamp"]!);
        var inbound = row["rtc_stats"]!.AsArray().Single(s => (string?)s!["type"] == "inbound-rtp")!;
        Assert.True((long)inbound["packetsReceived"]! > 0, row.ToJsonString());

        var (cStatus, channel) = await node.ApiAsync("Sora_20211215.ListChannelRtcStats", """{"channel_id":"rtc-stats"}""");
        Assert.Equal(200, cStatus);
        Assert.Equal(2, channel!.AsArray().Count); // the publisher reported too
        Assert.Empty((await node.ApiAsync("Sora_20211215.ListChannelRtcStats", """{"channel_id":"other"}""")).Body!.AsArray());

        var (gStatus, one) = await node.ApiAsync("Sora_20211215.GetRtcStats", $$"""{"channel_id":"rtc-stats","connection_id":"{{sub.ConnectionId}}"}""");
        Assert.Equal(200, gStatus);
        Assert.Equal(sub.ConnectionId, (string?)one!["connection_id"]);

        // Reports are replaced by newer ones.
        var first = (string)one["timestamp"]!;
        await InProcessNode.EventuallyAsync("a newer report", () =>
            (string?)node.ApiAsync("Sora_20211215.GetRtcStats", $$"""{"channel_id":"rtc-stats","connection_id":"{{sub.ConnectionId}}"}""")
                .GetAwaiter().GetResult().Body?["timestamp"] != first);

        foreach (var (target, body, code) in new[]
        {
            ("Sora_20211215.GetRtcStats", """{"channel_id":"rtc-stats","connection_id":"NOSUCHCONNECTION"}""", 404),
            ("Sora_20211215.GetRtcStats", """{"channel_id":"rtc-stats"}""", 400),
            ("Sora_20211215.ListChannelRtcStats", "{}", 400),
            ("Sora_20211215.ListRtcStats", """{"local":"no"}""", 400),
        })
            Assert.Equal(code, (await node.ApiAsync(target, body)).Status);
    }
}
