using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Hibari.Signaling;
using Hibari.Signaling.Messages;
using Hibari.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Webhooks;

public sealed class AuthWebhookTests : IAsyncLifetime
{
    private WebhookTestServer _server = null!;
    private readonly string _logDir = Path.Combine(Path.GetTempPath(), "hibari-auth-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync() => _server = await WebhookTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        try { Directory.Delete(_logDir, true); } catch (DirectoryNotFoundException) { }
    }

    private WebhookClient Client(string? url = null, int timeoutMs = 2000) => new(new WebhookOptions
    {
        AuthWebhookUrl = url ?? _server.Url + "/auth",
        AuthWebhookTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        LogDir = _logDir,
        NodeName = "hibari-1@127.0.0.1",
        Version = "0.1.0",
        FlushTimeout = TimeSpan.FromSeconds(5),
    }, NullLogger.Instance);

    private static ConnectRequest Connect(string json)
    {
        Assert.True(ConnectParser.TryParse(Encoding.UTF8.GetBytes(json), out var c, out var e), e.ToString());
        return c;
    }

    private static AuthWebhookRequest Request(ConnectRequest? connect = null, string? sessionId = null) => new()
    {
        Connect = connect ?? Connect("""{"type":"connect","role":"sendrecv","channel_id":"sora","metadata":{"access_token":"t"},"sora_client":"Sora JavaScript SDK 2026.1.0","environment":"UA","sdp":"v=0"}"""),
        ConnectionId = "WCJC78EWK935N7P7Z8FYAKFW9M",
        SessionId = sessionId,
        ChannelConnections = new ChannelCounts(1, 2, 3),
    };

    [Fact]
    public async Task Allowed_answer_carries_its_overrides()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """
            {"allowed":true,"client_id":"user-1","bundle_id":"b","metadata":{"role":"host"},"event_metadata":{"room":42},
             "audio":false,"video":{"codec_type":"AV1","bit_rate":800},"audio_codec_type":"OPUS","audio_bit_rate":32,
             "video_codec_type":"H264","video_bit_rate":2000,"signaling_notify":false,"signaling_notify_metadata":{"n":"a"},
             "data_channel_signaling":true,"ignore_disconnect_websocket":true,"data_channels":[{"label":"#c","direction":"sendrecv"}],
             "cluster_affinity":false,"unknown_future_key":1}
            """);
        await using var client = Client();
        var outcome = await client.Auth.CallAsync(Request(), CancellationToken.None);
        var o = Assert.IsType<AuthOutcome.Allowed>(outcome).Overrides;
        Assert.Equal("user-1", o.ClientId);
        Assert.Equal("b", o.BundleId);
        Assert.Equal("host", o.Metadata!.Value.GetProperty("role").GetString());
        Assert.Equal(42, o.EventMetadata!.Value.GetProperty("room").GetInt32());
        Assert.Equal(AudioRequest.Off, o.Audio);
        Assert.Equal(new VideoRequest(true, "AV1", 800), o.Video);
        Assert.Equal("OPUS", o.AudioCodecType);
        Assert.Equal(32, o.AudioBitRate);
        Assert.Equal("H264", o.VideoCodecType);
        Assert.Equal(2000, o.VideoBitRate);
        Assert.False(o.SignalingNotify);
        Assert.Equal("a", o.SignalingNotifyMetadata!.Value.GetProperty("n").GetString());
        Assert.True(o.DataChannelSignaling);
        Assert.True(o.IgnoreDisconnectWebsocket);
        Assert.Equal(1, o.DataChannels!.Value.GetArrayLength());
        Assert.False(o.ClusterAffinity);
        var c = client.Counters;
        Assert.Equal((1, 0, 1, 0), (c.TotalAuthWebhookAllowed, c.TotalAuthWebhookDenied, c.TotalSuccessfulAuthWebhook, c.TotalFailedAuthWebhook));
    }

    [Fact]
    public async Task Plain_allowed_answer_has_no_overrides()
    {
        await using var client = Client();
        Assert.Equal(new AuthOutcome.Allowed(AuthOverrides.None), await client.Auth.CallAsync(Request(), CancellationToken.None));
    }

    [Fact]
    public async Task Denied_answer_carries_the_reason_and_closes_with_it()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """{"allowed":false,"reason":"INVALID-TOKEN"}""");
        await using var client = Client();
        var denied = Assert.IsType<AuthOutcome.Denied>(await client.Auth.CallAsync(Request(), CancellationToken.None));
        Assert.Equal("INVALID-TOKEN", denied.Reason);
        Assert.Equal(new SignalingClose(SignalingCloses.AuthWebhookDenied.Code, "INVALID-TOKEN"), denied.ToClose());
        var c = client.Counters;
        Assert.Equal((0, 1, 1, 0), (c.TotalAuthWebhookAllowed, c.TotalAuthWebhookDenied, c.TotalSuccessfulAuthWebhook, c.TotalFailedAuthWebhook));
    }

    [Fact]
    public async Task Codec_params_of_the_answer_are_validated_and_override_the_connects()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """
            {"allowed":true,"audio_opus_params":{"usedtx":true,"maxplaybackrate":24000},"video_vp9_params":{"profile_id":2},
             "video_av1_params":{"profile":0,"level_idx":8},"h264_profile_level_id":"4D0032"}
            """);
        await using var client = Client();
        var o = Assert.IsType<AuthOutcome.Allowed>(await client.Auth.CallAsync(Request(), CancellationToken.None)).Overrides;
        Assert.Equal(new Hibari.Sdp.OpusParams { UseDtx = true, MaxPlaybackRate = 24000 }, o.Opus);
        Assert.Equal(new Hibari.Sdp.VideoCodecParams { Vp9ProfileId = 2, Av1Profile = 0, Av1LevelIdx = 8 }, o.VideoParams);
        Assert.Equal("4d0032", o.H264ProfileLevelId);
    }

    [Fact]
    public async Task Simulcast_fields_of_the_answer_override_the_connects()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """
            {"allowed":true,"simulcast":true,"simulcast_request_rid":"r1","simulcast_encodings":[{"rid":"r0","active":true},{"rid":"r1","active":false}]}
            """);
        await using var client = Client();
        var o = Assert.IsType<AuthOutcome.Allowed>(await client.Auth.CallAsync(Request(), CancellationToken.None)).Overrides;
        Assert.True(o.Simulcast);
        Assert.Equal("r1", o.SimulcastRid);
        Assert.Equal([("r0", true), ("r1", false)], SimulcastEncodings.Layers(o.SimulcastEncodings!.Value));
    }

    [Fact]
    public async Task Rpc_methods_of_the_answer_are_read()
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, 200, """{"allowed":true,"rpc_methods":["2025.2.0/RequestSimulcastRid","x"]}""");
        await using var client = Client();
        var o = Assert.IsType<AuthOutcome.Allowed>(await client.Auth.CallAsync(Request(), CancellationToken.None)).Overrides;
        Assert.Equal(["2025.2.0/RequestSimulcastRid", "x"], o.RpcMethods);
    }

    [Fact]
    public void Denied_reason_that_is_not_short_ascii_falls_back_to_AUTH_WEBHOOK_DENIED()
    {
        Assert.Equal(SignalingCloses.AuthWebhookDenied, new AuthOutcome.Denied(null).ToClose());
        Assert.Equal(SignalingCloses.AuthWebhookDenied, new AuthOutcome.Denied("").ToClose());
        Assert.Equal(SignalingCloses.AuthWebhookDenied, new AuthOutcome.Denied("トークン不正").ToClose());
        Assert.Equal(SignalingCloses.AuthWebhookDenied, new AuthOutcome.Denied(new string('X', 124)).ToClose());
        Assert.Equal(SignalingCloses.AuthWebhookDenied, new AuthOutcome.Denied("line\nbreak").ToClose());
        Assert.Equal(new string('X', 123), new AuthOutcome.Denied(new string('X', 123)).ToClose().Reason);
    }

    [Theory]
    [InlineData(500, """{"allowed":true}""", "status 500")]
    [InlineData(403, """{"allowed":true}""", "status 403")]
    [InlineData(200, "not json", "invalid JSON")]
    [InlineData(200, "", "invalid JSON")]
    [InlineData(200, "[true]", "answer is not a JSON object")]
    [InlineData(200, "{}", "allowed is missing or not a bool")]
    [InlineData(200, """{"allowed":"true"}""", "allowed is missing or not a bool")]
    [InlineData(200, """{"allowed":true,"client_id":5}""", "invalid client_id")]
    [InlineData(200, """{"allowed":true,"video":"on"}""", "invalid video")]
    [InlineData(200, """{"allowed":true,"audio":{"codec_type":"LYRA"}}""", "invalid audio")]
    [InlineData(200, """{"allowed":true,"video_codec_type":"H266"}""", "invalid video_codec_type")]
    [InlineData(200, """{"allowed":true,"video_bit_rate":"1000"}""", "invalid video_bit_rate")]
    [InlineData(200, """{"allowed":true,"signaling_notify":"no"}""", "invalid signaling_notify")]
    [InlineData(200, """{"allowed":true,"data_channels":{}}""", "invalid data_channels")]
    [InlineData(200, """{"allowed":true,"cluster_affinity":1}""", "invalid cluster_affinity")]
    [InlineData(200, """{"allowed":true,"audio_opus_params":{"stereo":"yes"}}""", "invalid audio_opus_params (stereo must be a boolean)")]
    [InlineData(200, """{"allowed":true,"video_vp9_params":{"profile_id":7}}""", "invalid video_*_params (profile_id must be an integer in 0..3)")]
    [InlineData(200, """{"allowed":true,"video_h264_params":[]}""", "invalid video_h264_params")]
    [InlineData(200, """{"allowed":true,"h264_profile_level_id":"high"}""", "invalid h264_profile_level_id")]
    [InlineData(200, """{"allowed":true,"simulcast_rid":"r5"}""", "invalid simulcast_rid")]
    [InlineData(200, """{"allowed":true,"simulcast":"yes"}""", "invalid simulcast")]
    [InlineData(200, """{"allowed":true,"rpc_methods":"2025.2.0/RequestSimulcastRid"}""", "invalid rpc_methods")]
    [InlineData(200, """{"allowed":true,"rpc_methods":[1]}""", "invalid rpc_methods")]
    [InlineData(200, """{"allowed":true,"simulcast_encodings":[{"rid":"r1"}]}""", "invalid simulcast_encodings ([0].rid must be \"r0\" (r0, r1, r2 in order))")]
    public async Task Anything_but_a_valid_2xx_answer_fails_closed(int status, string body, string why)
    {
        _server.Handler = ctx => WebhookTestServer.Answer(ctx, status, body);
        await using var client = Client();
        var failed = Assert.IsType<AuthOutcome.Failed>(await client.Auth.CallAsync(Request(), CancellationToken.None));
        Assert.Equal(why, failed.Why);
        Assert.Equal(SignalingCloses.AuthWebhookFailed, failed.ToClose());
        Assert.Equal(1, client.Counters.TotalFailedAuthWebhook);
        Assert.Equal(0, client.Counters.TotalSuccessfulAuthWebhook);
    }

    [Fact]
    public async Task A_100_MB_answer_fails_closed_after_reading_at_most_1_MiB_of_it()
    {
        // Issue 13 part 5: a webhook that answers without end. The node reads up to 1 MiB, fails the connect closed
        // (4411) and drops the connection; the webhook's writes then fail long before 100 MB. A raw socket server:
        // Kestrel would silently discard writes after the client left, which could not show the cut.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        const long Hundred = 100L * 1024 * 1024;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            var stream = socket.GetStream();
            var request = new byte[64 * 1024];
            var seen = "";
            while (!seen.Contains("\r\n\r\n", StringComparison.Ordinal)) // headers (the body is small and may follow)
            {
                var n = await stream.ReadAsync(request);
                if (n == 0) return -1L;
                seen += Encoding.ASCII.GetString(request, 0, n);
            }
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {Hundred}\r\n\r\n"));
            var chunk = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
            long written = 0;
            try
            {
                while (written < Hundred)
                {
                    await stream.WriteAsync(chunk);
                    written += chunk.Length;
                }
            }
            catch (IOException) { }
            return written;
        });
        await using var client = Client(url: $"http://127.0.0.1:{port}/auth", timeoutMs: 10_000);
        var watch = Stopwatch.StartNew();
        var failed = Assert.IsType<AuthOutcome.Failed>(await client.Auth.CallAsync(Request(), CancellationToken.None));
        watch.Stop();
        Assert.Equal("response too large", failed.Why);
        Assert.Equal(SignalingCloses.AuthWebhookFailed, failed.ToClose());
        Assert.InRange(watch.ElapsedMilliseconds, 0, 5000);
        var writtenBeforeTheCut = await server.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(writtenBeforeTheCut is > 1024 * 1024 and < Hundred, $"{writtenBeforeTheCut} bytes written before the node hung up");
    }

    [Fact]
    public async Task Slow_webhook_fails_with_timeout_within_the_timeout_plus_margin()
    {
        var release = new TaskCompletionSource();
        _server.Handler = async ctx =>
        {
            await Task.WhenAny(release.Task, Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted));
            await WebhookTestServer.Answer(ctx, 200, """{"allowed":true}""");
        };
        await using var client = Client(timeoutMs: 300);
        var watch = Stopwatch.StartNew();
        var outcome = await client.Auth.CallAsync(Request(), CancellationToken.None);
        watch.Stop();
        release.TrySetResult();
        Assert.Equal(new AuthOutcome.Failed("timeout"), outcome);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 2300);
    }

    [Fact]
    public async Task Unreachable_webhook_fails_with_connection_refused()
    {
        await using var client = Client(WebhookTestServer.RefusingUrl());
        Assert.Equal(new AuthOutcome.Failed("connection refused"), await client.Auth.CallAsync(Request(), CancellationToken.None));
        Assert.Equal(1, client.Counters.TotalFailedAuthWebhook);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/auth")]
    public async Task Unusable_url_fails_instead_of_throwing(string url)
    {
        await using var client = Client(url);
        var failed = Assert.IsType<AuthOutcome.Failed>(await client.Auth.CallAsync(Request(), CancellationToken.None));
        Assert.StartsWith("request failed", failed.Why);
    }

    [Fact]
    public async Task Without_an_auth_url_every_connect_is_allowed_without_a_call()
    {
        await using var client = new WebhookClient(new WebhookOptions(), NullLogger.Instance);
        Assert.Equal(new AuthOutcome.Allowed(AuthOverrides.None), await client.Auth.CallAsync(Request(), CancellationToken.None));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Caller_cancellation_is_an_OperationCanceledException_not_a_failure()
    {
        _server.Handler = async ctx => await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted);
        await using var client = Client(timeoutMs: 10_000);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.Auth.CallAsync(Request(), cts.Token));
    }

    [Fact]
    public async Task Request_carries_the_connection_id_header_and_the_body_of_section_3_2()
    {
        await using var client = Client();
        var connect = Connect("""
            {"type":"connect","role":"sendonly","channel_id":"sora","client_id":"c1","bundle_id":"b1",
             "metadata":{"access_token":"t"},"signaling_notify_metadata":{"name":"alice"},
             "audio":{"codec_type":"OPUS","bit_rate":64},"video":false,"simulcast":true,"spotlight":false,
             "data_channel_signaling":true,"ignore_disconnect_websocket":false,"data_channels":[{"label":"#c","direction":"sendrecv"}],
             "sora_client":"Sora C++ SDK","environment":"linux","libwebrtc":"M132","redirect":true}
            """);
        await client.Auth.CallAsync(Request(connect, sessionId: "SCVC9JRZZ900F0KC32T3GY6FBR"), CancellationToken.None);
        var r = Assert.Single(_server.Requests);
        Assert.Equal("/auth", r.Path);
        Assert.Equal("WCJC78EWK935N7P7Z8FYAKFW9M", r.Headers["sora-connection-id"]);
        Assert.StartsWith("application/json", r.Headers["content-type"]);
        var b = r.Body;
        var keys = b.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[]
        {
            "audio", "bundle_id", "channel_connections", "channel_id", "channel_recvonly_connections",
            "channel_sendonly_connections", "channel_sendrecv_connections", "client_id", "connection_id",
            "data_channel_signaling", "data_channels", "e2ee", "environment", "ignore_disconnect_websocket", "label",
            "libwebrtc", "metadata", "multistream", "node_name", "redirect", "role", "session_id",
            "signaling_notify_metadata", "simulcast", "sora_client", "spotlight", "timestamp", "version", "video",
        }, keys);
        Assert.Equal("WebRTC SFU Hibari", b.GetProperty("label").GetString());
        Assert.Equal("hibari-1@127.0.0.1", b.GetProperty("node_name").GetString());
        Assert.Equal("sendonly", b.GetProperty("role").GetString());
        Assert.True(b.GetProperty("multistream").GetBoolean());
        Assert.False(b.GetProperty("e2ee").GetBoolean());
        Assert.True(b.GetProperty("redirect").GetBoolean());
        Assert.Equal("t", b.GetProperty("metadata").GetProperty("access_token").GetString());
        Assert.Equal(64, b.GetProperty("audio").GetProperty("bit_rate").GetInt32());
        Assert.False(b.GetProperty("video").GetBoolean());
        Assert.Equal(6, b.GetProperty("channel_connections").GetInt32());
        Assert.Equal(1, b.GetProperty("channel_sendrecv_connections").GetInt32());
        Assert.Equal(2, b.GetProperty("channel_sendonly_connections").GetInt32());
        Assert.Equal(3, b.GetProperty("channel_recvonly_connections").GetInt32());
        Assert.Equal("SCVC9JRZZ900F0KC32T3GY6FBR", b.GetProperty("session_id").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", b.GetProperty("timestamp").GetString());
    }

    [Fact]
    public async Task Minimal_connect_sends_null_ids_and_metadata_and_no_optional_keys()
    {
        await using var client = Client();
        await client.Auth.CallAsync(Request(Connect("""{"type":"connect","role":"recvonly","channel_id":"c"}""")), CancellationToken.None);
        var b = Assert.Single(_server.Requests).Body;
        Assert.Equal(JsonValueKind.Null, b.GetProperty("client_id").ValueKind);
        Assert.Equal(JsonValueKind.Null, b.GetProperty("metadata").ValueKind);
        Assert.True(b.GetProperty("audio").GetBoolean());
        foreach (var absent in new[] { "session_id", "redirect", "libwebrtc", "data_channels", "signaling_notify_metadata" })
            Assert.False(b.TryGetProperty(absent, out _), absent);
    }

    [Fact]
    public async Task Every_call_is_logged_and_failures_also_go_to_the_error_log()
    {
        await using (var client = Client())
        {
            await client.Auth.CallAsync(Request(), CancellationToken.None);
            _server.Handler = ctx => WebhookTestServer.Answer(ctx, 500, "oops");
            await client.Auth.CallAsync(Request(), CancellationToken.None);
        }
        var all = File.ReadAllLines(Path.Combine(_logDir, "auth_webhook.jsonl"));
        var errors = File.ReadAllLines(Path.Combine(_logDir, "auth_webhook_error.jsonl"));
        Assert.Equal(2, all.Length);
        var error = JsonDocument.Parse(Assert.Single(errors)).RootElement;
        Assert.Equal(500, error.GetProperty("status").GetInt32());
        Assert.Equal("status 500", error.GetProperty("error").GetString());
        Assert.Equal("oops", error.GetProperty("response").GetString());
        var ok = JsonDocument.Parse(all[0]).RootElement;
        Assert.Equal("auth", ok.GetProperty("type").GetString());
        Assert.Equal(_server.Url + "/auth", ok.GetProperty("url").GetString());
        Assert.Equal("sora", ok.GetProperty("request").GetProperty("channel_id").GetString());
        Assert.True(ok.GetProperty("response").GetProperty("allowed").GetBoolean());
        Assert.Equal(200, ok.GetProperty("status").GetInt32());
        Assert.True(ok.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.False(ok.TryGetProperty("error", out _));
    }
}
