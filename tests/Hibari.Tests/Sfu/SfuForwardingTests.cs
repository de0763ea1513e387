using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// The load tool's synthetic clients against a node in this process: connect → offer → answer → ICE → DTLS → SRTP,
/// media forwarded with rewritten SSRCs and decrypting at the subscriber, notifies, re-offers, the connection API.
/// </summary>
[Collection("sfu")]
public sealed class SfuForwardingTests : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private InProcessNode _node = null!;
    private readonly List<SyntheticClient> _clients = [];

    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _node.DisposeAsync();
    }

    private async Task<SyntheticClient> ConnectAsync(string channel, string role)
    {
        var c = new SyntheticClient(_node.SignalingUrl, channel, new SyntheticClientOptions { Role = role, Certificate = Certificate });
        _clients.Add(c);
        await c.ConnectAsync();
        return c;
    }

    private static bool IsNotify(JsonObject m, string eventType, string? connectionId) =>
        (string?)m["type"] == "notify" && (string?)m["event_type"] == eventType && (connectionId is null || (string?)m["connection_id"] == connectionId);

    [Fact]
    public async Task Publisher_media_reaches_a_subscriber_decrypted_under_a_rewritten_ssrc()
    {
        var sub = await ConnectAsync("fwd", "recvonly");
        var pub = await ConnectAsync("fwd", "sendonly");
        Assert.Equal(26, pub.ConnectionId!.Length);
        Assert.Equal(sub.SessionId, pub.SessionId);
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await InProcessNode.EventuallyAsync("subscriber receives forwarded packets", () => sub.PacketsReceived > 100);
        // The SFU terminates RTCP: the subscriber's PLI on joining made the publisher send a key frame (it may reach the
        // publisher a little after the 100th packet reached the subscriber).
        await InProcessNode.EventuallyAsync("the publisher gets a key-frame request", () => pub.PliReceived > 0);
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.Equal(0, sub.DecryptFailures);
        var ssrc = Assert.Single(sub.ReceivedSsrcs);
        Assert.True(sub.Latency.Count > 0, "forwarded packets carry the publisher's send time");
        Assert.NotEqual(0u, ssrc);
        Assert.NotEqual(pub.VideoSsrc, ssrc); // rewritten: the subscriber's own SSRC, not the publisher's
        var stats = await _node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.True(stats.Body!["total_decrypted_srtp"]!.GetValue<long>() > 100);
        Assert.True(stats.Body!["total_sent_srtp"]!.GetValue<long>() > 100);
    }

    [Fact]
    public async Task A_subscriber_nack_is_answered_from_the_cache_as_rtx_on_the_rtx_ssrc()
    {
        var sub = new SyntheticClient(_node.SignalingUrl, "nack", new SyntheticClientOptions { Certificate = Certificate, DropEveryNth = 25 });
        _clients.Add(sub);
        await sub.ConnectAsync();
        var pub = await ConnectAsync("nack", "sendonly");
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await InProcessNode.EventuallyAsync("NACKed packets come back as RTX", () => sub.RtxRepaired >= 5);
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.True(sub.Dropped >= sub.RtxRepaired);
        Assert.Equal(0, sub.DecryptFailures);
    }

    [Fact]
    public async Task Every_connection_gets_its_own_connection_created_with_channel_counters()
    {
        var a = await ConnectAsync("notify", "sendrecv");
        var own = await a.WaitForMessageAsync(m => IsNotify(m, "connection.created", a.ConnectionId), TimeSpan.FromSeconds(10));
        Assert.Equal(1, own["channel_connections"]!.GetValue<int>());
        var b = await ConnectAsync("notify", "recvonly");
        var seenByA = await a.WaitForMessageAsync(m => IsNotify(m, "connection.created", b.ConnectionId), TimeSpan.FromSeconds(10));
        Assert.Equal(2, seenByA["channel_connections"]!.GetValue<int>());
        Assert.Equal(1, seenByA["channel_recvonly_connections"]!.GetValue<int>());
        var bOwn = await b.WaitForMessageAsync(m => IsNotify(m, "connection.created", b.ConnectionId), TimeSpan.FromSeconds(10));
        var present = bOwn["data"]!.AsArray();
        Assert.Contains(present, p => (string?)p!["connection_id"] == a.ConnectionId);
    }

    [Fact]
    public async Task A_publisher_joining_later_reaches_existing_subscribers_through_a_re_offer_and_leaving_sets_port_0()
    {
        var sub = await ConnectAsync("reoffer", "recvonly");
        var pub = await ConnectAsync("reoffer", "sendonly");
        var reOffer = await sub.WaitForMessageAsync(m => (string?)m["type"] == "re-offer", TimeSpan.FromSeconds(10));
        var sdp = (string)reOffer["sdp"]!;
        Assert.Contains($"a=msid:{pub.ConnectionId} ", sdp);
        var count = sub.Messages.Count(m => (string?)m["type"] == "re-offer");
        await pub.DisconnectAsync();
        await sub.WaitForMessageAsync(m => IsNotify(m, "connection.destroyed", pub.ConnectionId), TimeSpan.FromSeconds(10));
        var second = await sub.WaitForMessageAsync(m => (string?)m["type"] == "re-offer" && sub.Messages.Where(x => (string?)x["type"] == "re-offer").Skip(count).Contains(m),
            TimeSpan.FromSeconds(10));
        var after = (string)second["sdp"]!;
        Assert.DoesNotContain($"a=msid:{pub.ConnectionId} ", after);
        Assert.Contains("m=video 0 ", after);
    }

    [Fact]
    public async Task The_api_lists_pushes_to_and_disconnects_connections()
    {
        var a = await ConnectAsync("api", "sendrecv");
        var b = await ConnectAsync("api", "recvonly");
        await InProcessNode.EventuallyAsync("both listed", () =>
            _node.ApiAsync("Sora_20201013.ListChannelConnections", """{"channel_id":"api"}""").Result.Body!.AsArray().Count == 2);
        var (status, list) = await _node.ApiAsync("Sora_20201013.ListChannelConnections", """{"channel_id":"api"}""");
        Assert.Equal(200, status);
        var rows = list!.AsArray();
        Assert.Contains(rows, r => (string?)r!["connection_id"] == a.ConnectionId && (string?)r!["role"] == "sendrecv");
        Assert.All(rows, r => Assert.Equal(a.SessionId, (string?)r!["session_id"]));

        (status, _) = await _node.ApiAsync("Sora_20160711.PushChannel", """{"channel_id":"api","data":{"hello":"world"}}""");
        Assert.Equal(200, status);
        var push = await b.WaitForMessageAsync(m => (string?)m["type"] == "push", TimeSpan.FromSeconds(10));
        Assert.Equal("world", (string?)push["data"]!["hello"]);

        (status, _) = await _node.ApiAsync("Sora_20151104.DisconnectConnection", $$"""{"channel_id":"api","connection_id":"{{b.ConnectionId}}"}""");
        Assert.Equal(200, status);
        await InProcessNode.EventuallyAsync("b closed with 1000", () => b.CloseStatus is not null);
        Assert.Equal(1000, (int)b.CloseStatus!.Value);
        await a.WaitForMessageAsync(m => IsNotify(m, "connection.destroyed", b.ConnectionId), TimeSpan.FromSeconds(10));

        (status, var missing) = await _node.ApiAsync("Sora_20151104.DisconnectConnection", """{"channel_id":"api","connection_id":"NOPE"}""");
        Assert.Equal(404, status);
        Assert.Equal("ConnectionNotFound", (string?)missing!["error_type"]);
    }

    /// <remarks>The connection licence's refusal (4414) is <see cref="SfuEdgeTests.Connects_beyond_license_max_connections_are_refused_C_PLACE_0"/>.</remarks>
    [Fact]
    public async Task Modes_refuse_connects_with_a_reason_C_PLACE_0()
    {
        var first = await ConnectAsync("modes", "recvonly");
        Assert.Equal(200, (await _node.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"block_new_session"}""")).Status);
        var newSession = new SyntheticClient(_node.SignalingUrl, "other-channel", new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(newSession);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => newSession.ConnectAsync());
        Assert.Contains("4413", e.Message);
        Assert.Contains("MODE-BLOCK-NEW-SESSION", e.Message);
        await ConnectAsync("modes", "recvonly"); // an existing session still takes connections

        Assert.Equal(200, (await _node.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"block_new_connection"}""")).Status);
        var blocked = new SyntheticClient(_node.SignalingUrl, "modes", new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(blocked);
        e = await Assert.ThrowsAnyAsync<Exception>(() => blocked.ConnectAsync());
        Assert.Contains("MODE-BLOCK-NEW-CONNECTION", e.Message);
        Assert.NotNull(first.ConnectionId);
    }
}

/// <summary>Edges of one node: its connection licence, and garbage on its media port.</summary>
[Collection("sfu")]
public sealed class SfuEdgeTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public async Task Connects_beyond_license_max_connections_are_refused_C_PLACE_0()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { LicenseMaxConnections = 2 });
        await using var a = new SyntheticClient(node.SignalingUrl, "licence", new SyntheticClientOptions { Certificate = Certificate });
        await using var b = new SyntheticClient(node.SignalingUrl, "licence", new SyntheticClientOptions { Certificate = Certificate });
        await using var c = new SyntheticClient(node.SignalingUrl, "licence", new SyntheticClientOptions { Certificate = Certificate });
        await a.ConnectAsync();
        await b.ConnectAsync();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => c.ConnectAsync());
        Assert.Contains("4414", e.Message);
        Assert.Contains("LICENSE-MAX-CONNECTIONS-REACHED", e.Message);
        // A slot frees when a connection leaves.
        await a.DisconnectAsync();
        await InProcessNode.EventuallyAsync("slot freed", () => node.Node.Sfu.ConnectionCount == 1);
        await using var d = new SyntheticClient(node.SignalingUrl, "licence", new SyntheticClientOptions { Certificate = Certificate });
        await d.ConnectAsync();
    }

    [Fact]
    public async Task Codec_params_shape_the_publishers_offer_and_each_bundle_keeps_one_fmtp_per_payload_type_D_34()
    {
        await using var node = await InProcessNode.StartAsync();
        var pubExtra = new JsonObject
        {
            ["audio"] = new JsonObject { ["bit_rate"] = 128, ["opus_params"] = new JsonObject { ["usedtx"] = true, ["ptime"] = 40 } },
            ["video"] = new JsonObject { ["codec_type"] = "H264", ["bit_rate"] = 300, ["h264_params"] = new JsonObject { ["profile_level_id"] = "4d0032" } },
        };
        await using var pub = new SyntheticClient(node.SignalingUrl, "params", new SyntheticClientOptions { Role = "sendrecv", Certificate = Certificate, ConnectExtra = pubExtra });
        await pub.ConnectAsync();
        var offer = (string)pub.Messages.First(m => (string?)m["type"] == "offer")["sdp"]!;
        Assert.Contains("a=fmtp:111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;usedtx=1;maxaveragebitrate=128000\r\n", offer);
        Assert.Contains("a=ptime:40\r\n", offer);
        Assert.Contains("a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d0032\r\n", offer);
        Assert.Contains("b=AS:300\r\n", offer);

        // A second publisher with other opus_params: in its BUNDLE, the first one's audio section carries its own Opus fmtp.
        var otherExtra = new JsonObject { ["audio"] = new JsonObject { ["opus_params"] = new JsonObject { ["stereo"] = false } } };
        await using var other = new SyntheticClient(node.SignalingUrl, "params", new SyntheticClientOptions { Role = "sendrecv", Certificate = Certificate, ConnectExtra = otherExtra });
        await other.ConnectAsync();
        // The publisher's tracks arrive in the offer or a re-offer.
        var reOffer = await other.WaitForMessageAsync(m => (string?)m["type"] is "offer" or "re-offer" && ((string)m["sdp"]!).Contains(pub.ConnectionId!), TimeSpan.FromSeconds(10));
        var fmtps = ((string)reOffer["sdp"]!).Split("\r\n").Where(l => l.StartsWith("a=fmtp:111 ", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Equal(["a=fmtp:111 minptime=10;useinbandfec=1;stereo=0;sprop-stereo=1"], fmtps);
        // The H.264 main section it receives is the catalog's entry (the publisher's level stays in the publisher's own offer).
        Assert.Contains("a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n", (string)reOffer["sdp"]!);

        // The API shows the effective parameters.
        await InProcessNode.EventuallyAsync("both listed", () =>
            node.ApiAsync("Sora_20201013.ListChannelConnections", """{"channel_id":"params"}""").Result.Body!.AsArray().Count == 2);
        var row = (await node.ApiAsync("Sora_20201013.ListChannelConnections", """{"channel_id":"params"}""")).Body!.AsArray()
            .Single(r => (string?)r!["connection_id"] == pub.ConnectionId)!;
        Assert.Equal("""{"codec_type":"OPUS","bit_rate":128,"opus_params":{"ptime":40,"usedtx":true}}""", row["audio"]!.ToJsonString());
        Assert.Equal("""{"codec_type":"H264","bit_rate":300,"h264_params":{"profile_level_id":"4d0032"}}""", row["video"]!.ToJsonString());
    }

    [Fact]
    public async Task H265_is_negotiated_and_forwarded_for_a_client_that_asks_for_it_D_34()
    {
        await using var node = await InProcessNode.StartAsync();
        // No `sdp` in connect (as the C++ SDK): the node trusts the request and offers H.265 main with the client's level.
        var extra = new JsonObject { ["video"] = new JsonObject { ["codec_type"] = "H265", ["h265_params"] = new JsonObject { ["level_id"] = 120 } } };
        await using var sub = new SyntheticClient(node.SignalingUrl, "h265", new SyntheticClientOptions { Certificate = Certificate });
        await sub.ConnectAsync();
        await using var pub = new SyntheticClient(node.SignalingUrl, "h265",
            new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate, ConnectExtra = extra });
        await pub.ConnectAsync();
        var offer = (string)pub.Messages.First(m => (string?)m["type"] == "offer")["sdp"]!;
        Assert.Contains("a=rtpmap:49 H265/90000\r\n", offer);
        Assert.Contains("a=fmtp:49 level-id=120;profile-id=1;tier-flag=0;tx-mode=SRST\r\n", offer);
        Assert.Contains("a=fmtp:50 apt=49\r\n", offer);
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(300, 800, stop.Token);
        await InProcessNode.EventuallyAsync("the subscriber receives the H.265 stream", () => sub.PacketsReceived > 50);
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.Equal(0, sub.DecryptFailures);
        var reOffer = sub.Messages.Last(m => (string?)m["type"] is "offer" or "re-offer" && ((string)m["sdp"]!).Contains("H265"));
        Assert.Contains("a=fmtp:49 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST\r\n", (string)reOffer["sdp"]!);
    }

    [Fact]
    public async Task Video_params_need_their_sora_conf_switch_and_b_frame_its_own()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { SignalingVp9Params = false });
        var vp9 = new JsonObject { ["video"] = new JsonObject { ["codec_type"] = "VP9", ["vp9_params"] = new JsonObject { ["profile_id"] = 0 } } };
        await using var refused = new SyntheticClient(node.SignalingUrl, "switch",
            new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate, ConnectExtra = vp9 });
        var e = await Assert.ThrowsAnyAsync<Exception>(() => refused.ConnectAsync());
        Assert.Contains("INVALID-VIDEO: vp9_params needs signaling_vp9_params = true", e.Message);
        var bFrame = new JsonObject { ["video"] = new JsonObject { ["codec_type"] = "H264", ["h264_params"] = new JsonObject { ["b_frame"] = true } } };
        await using var noBFrames = new SyntheticClient(node.SignalingUrl, "switch",
            new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate, ConnectExtra = bFrame });
        e = await Assert.ThrowsAnyAsync<Exception>(() => noBFrames.ConnectAsync());
        Assert.Contains("INVALID-VIDEO: h264_params.b_frame needs h264_b_frame = true", e.Message);
        // Without params the same node serves VP9.
        await using var plain = new SyntheticClient(node.SignalingUrl, "switch",
            new SyntheticClientOptions { Role = "sendonly", VideoCodecType = "VP9", Certificate = Certificate });
        await plain.ConnectAsync();
    }

    [Fact]
    public async Task A_codec_the_clients_own_offer_lacks_is_refused_with_a_reason()
    {
        await using var node = await InProcessNode.StartAsync();
        // A browser-like throw-away offer that can do Opus and VP8 only.
        const string vp8Only = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n" +
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n";
        var extra = new JsonObject { ["sdp"] = vp8Only };
        await using var h264 = new SyntheticClient(node.SignalingUrl, "codec",
            new SyntheticClientOptions { Role = "sendonly", VideoCodecType = "H264", Certificate = Certificate, ConnectExtra = extra });
        var e = await Assert.ThrowsAnyAsync<Exception>(() => h264.ConnectAsync());
        Assert.Contains("UNSUPPORTED-CODEC-TYPE", e.Message);
        await using var vp8 = new SyntheticClient(node.SignalingUrl, "codec",
            new SyntheticClientOptions { Role = "sendonly", VideoCodecType = "VP8", Certificate = Certificate, ConnectExtra = (JsonObject)extra.DeepClone() });
        await vp8.ConnectAsync();
    }

    [Fact]
    public async Task Garbage_on_the_media_port_is_dropped_and_counted_and_media_goes_on()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var sub = new SyntheticClient(node.SignalingUrl, "garbage", new SyntheticClientOptions { Certificate = Certificate });
        await using var pub = new SyntheticClient(node.SignalingUrl, "garbage", new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate });
        await sub.ConnectAsync();
        await pub.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(300, 800, stop.Token);
        using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var target = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, node.Options.RtcUdpPort);
        var random = new Random(7);
        for (var i = 0; i < 5000; i++)
        {
            var datagram = new byte[random.Next(0, 1500)];
            random.NextBytes(datagram);
            // Every demultiplexing class: STUN-looking, DTLS-looking, RTP-looking, and the rest.
            if (datagram.Length > 0) datagram[0] = (i % 4) switch { 0 => (byte)random.Next(0, 4), 1 => (byte)random.Next(20, 64), 2 => (byte)random.Next(128, 192), _ => datagram[0] };
            await udp.SendAsync(datagram, target);
        }
        var before = sub.PacketsReceived;
        await InProcessNode.EventuallyAsync("media still forwarded after the garbage", () => sub.PacketsReceived > before + 50);
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        var (_, stats) = await node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.True(stats!["total_dropped_media_datagrams"]!.GetValue<long>() > 1000, stats.ToJsonString());
        Assert.Equal(0, sub.DecryptFailures);
    }
}

[CollectionDefinition("sfu", DisableParallelization = true)]
public sealed class SfuCollection;

/// <summary>Several publishers joining at once: every one of their tracks reaches a subscriber (re-offers pile up while one is out).</summary>
[Collection("sfu")]
public sealed class SfuConcurrentJoinTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public async Task Publishers_connecting_concurrently_all_reach_a_subscriber()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var sub = new SyntheticClient(node.SignalingUrl, "many", new SyntheticClientOptions { Certificate = Certificate });
        await sub.ConnectAsync();
        var pubs = Enumerable.Range(0, 4).Select(_ => new SyntheticClient(node.SignalingUrl, "many",
            new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate })).ToList();
        try
        {
            await Task.WhenAll(pubs.Select(p => p.ConnectAsync()));
            using var stop = new CancellationTokenSource();
            var publishing = pubs.Select(p => p.PublishAsync(300, 800, stop.Token)).ToList();
            await InProcessNode.EventuallyAsync("the subscriber receives all four publishers' video", () => sub.ReceivedSsrcs.Count == 4, TimeSpan.FromSeconds(20));
            await stop.CancelAsync();
            await Task.WhenAll(publishing.Select(t => t.ContinueWith(_ => { })));
        }
        finally
        {
            foreach (var p in pubs) await p.DisposeAsync();
        }
    }
}
