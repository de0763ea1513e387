using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Hibari.Api;
using Hibari.Api.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Api;

public sealed class ApiServerTests : IAsyncLifetime
{
    private ApiTestHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Post_with_a_registered_target_answers_200_json_from_the_operation()
    {
        using var response = await _host.PostAsync(ApiTestHost.GetMode, (string?)null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"mode":"normal"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Operation_reads_its_request_body_B_4_ChangeMode_echoes_the_mode()
    {
        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, """{"mode": "block_new_connection"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), ApiJsonContext.Default.ModeBody);
        Assert.Equal("block_new_connection", body!.Mode);
    }

    [Fact]
    public async Task Unknown_fields_in_a_request_are_ignored()
    {
        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, """{"mode": "normal", "extra": {"a": [1, 2]}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Missing_target_header_is_400_MissingTarget()
    {
        using var response = await _host.PostAsync(null, "{}");

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.MissingTarget);
    }

    [Fact]
    public async Task Empty_target_header_is_400_MissingTarget()
    {
        using var response = await _host.PostAsync("", "{}");

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.MissingTarget);
    }

    [Theory]
    [InlineData("GetMode")]
    [InlineData("Sora_2021121.GetMode")]
    [InlineData("Sora_202112155.GetMode")]
    [InlineData("Sora_2021121X.GetMode")]
    [InlineData("sora_20211215.GetMode")]
    [InlineData("Sora_20211215.")]
    [InlineData("Sora_20211215GetMode")]
    [InlineData("Sora_20211215.Get-Mode")]
    [InlineData("Sora_20211215.Get Mode")]
    public async Task Malformed_target_is_400_InvalidTarget(string target)
    {
        using var response = await _host.PostAsync(target, "{}");

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.InvalidTarget);
    }

    [Fact]
    public async Task Unknown_target_is_400_UnknownTarget_naming_it()
    {
        using var response = await _host.PostAsync("Sora_20211215.NoSuchOperation", "{}");

        var error = await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.UnknownTarget);
        Assert.Contains("Sora_20211215.NoSuchOperation", error.Message);
    }

    [Fact]
    public async Task Target_matches_exactly_so_another_date_prefix_is_unknown()
    {
        using var response = await _host.PostAsync("Sora_20200101.GetMode", "{}");

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.UnknownTarget);
    }

    [Theory]
    [InlineData("""{"mode": """)]
    [InlineData("""{"mode": "normal",}""")]
    [InlineData("""mode=normal""")]
    [InlineData("""{"mode": "normal"} trailing""")]
    [InlineData("""null""")]
    [InlineData("""{"mode\ud800": "normal"}""")] // parses, but the name does not decode: a handler looking it up would throw
    [InlineData("""{"mode": "normal\udc00"}""")]
    public async Task Malformed_json_body_is_400_InvalidBody(string body)
    {
        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, body);

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.InvalidBody);
    }

    [Theory]
    [InlineData("""{"mode": 5}""")]
    [InlineData("""{"mode": ["normal"]}""")]
    [InlineData("""{"mode": {"x": 1}}""")]
    [InlineData("""{"mode": true}""")]
    public async Task Wrong_field_type_is_400_InvalidBody_naming_the_field(string body)
    {
        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, body);

        var error = await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.InvalidBody);
        Assert.Contains("mode", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \r\n")]
    [InlineData("{}")]
    [InlineData("""{"node_names": ["a@127.0.0.1"]}""")]
    [InlineData("""{"node_name_list": null}""")]
    [InlineData("""{"node_name_list": "a@127.0.0.1"}""")]
    [InlineData("""{"node_name_list": [1, 2]}""")]
    [InlineData("""{"node_name_list": ["a@127.0.0.1", null]}""")]
    [InlineData("""{"node_name_list": [["a@127.0.0.1"]]}""")]
    public async Task Missing_or_mistyped_required_field_is_400_naming_the_field(string body)
    {
        using var response = await _host.PostAsync(ApiTestHost.InitCluster, body);

        var error = await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, ApiErrorTypes.InvalidBody);
        Assert.Contains("node_name_list", error.Message);
    }

    [Fact]
    public async Task Required_field_present_is_accepted()
    {
        using var response = await _host.PostAsync(ApiTestHost.InitCluster, """{"node_name_list": ["a@127.0.0.1", "b@127.0.0.2"]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"node_name_list":["a@127.0.0.1","b@127.0.0.2"]}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Redirect_result_is_307_with_Location_C_API_1()
    {
        using var response = await _host.PostAsync(ApiTestHost.Redirect, """{"channel_id": "sora"}""");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal(new Uri(ApiTestHost.RedirectLocation), response.Headers.Location);
        var body = JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), ApiJsonContext.Default.RedirectBody);
        Assert.Equal(ApiTestHost.RedirectLocation, body!.Location);
    }

    [Fact]
    public async Task Error_result_is_its_status_with_error_json()
    {
        using var response = await _host.PostAsync(ApiTestHost.Refuse, "{}");

        var error = await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.ServiceUnavailable, "ClusterUnavailable");
        Assert.Equal("no quorum", error.Message);
    }

    [Fact]
    public async Task Operation_that_throws_is_500_InternalError_logged_and_the_server_keeps_serving()
    {
        using (var response = await _host.PostAsync(ApiTestHost.Throw, "{}"))
        {
            var error = await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.InternalServerError, ApiErrorTypes.InternalError);
            Assert.DoesNotContain("a bug in an operation", error.Message); // exception text stays in the log
        }

        var logged = Assert.Single(_host.Logs.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains(ApiTestHost.Throw, logged.Message);
        Assert.IsType<InvalidOperationException>(logged.Exception);

        using var next = await _host.PostAsync(ApiTestHost.GetMode, "{}");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/")]
    [InlineData("PUT", "/")]
    [InlineData("DELETE", "/")]
    [InlineData("POST", "/metrics")]
    public async Task Wrong_method_is_405_with_error_json(string method, string path)
    {
        using var response = await _host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.MethodNotAllowed, ApiErrorTypes.MethodNotAllowed);
        Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("GET", "/signaling")]
    [InlineData("POST", "/api")]
    [InlineData("POST", "/index.html")]
    [InlineData("OPTIONS", "/other")]
    [InlineData("GET", "/metrics")] // no MetricsText configured
    public async Task Wrong_path_is_404_with_error_json(string method, string path)
    {
        using var response = await _host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.NotFound, ApiErrorTypes.NotFound);
    }

    [Fact]
    public async Task Responses_carry_no_server_header()
    {
        using var response = await _host.PostAsync(ApiTestHost.GetMode, "{}");

        Assert.Empty(response.Headers.Server);
    }

    [Fact]
    public async Task Without_cors_origin_no_cors_headers_are_sent()
    {
        using var post = await _host.PostAsync(ApiTestHost.GetMode, "{}");
        using var preflight = await _host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/"));

        foreach (var response in new[] { post, preflight })
            Assert.DoesNotContain(response.Headers, h => h.Key.StartsWith("access-control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Kestrel_stays_quiet_below_warning()
    {
        using (await _host.PostAsync(ApiTestHost.GetMode, "{}")) { }
        using (await _host.Client.GetAsync("/nowhere")) { }
        using (await _host.PostAsync(ApiTestHost.ChangeMode, "{")) { }

        // Nothing at all in normal operation: a warning here (e.g. "overriding addresses") would mean
        // something outside ApiServerOptions tried to decide the binding.
        Assert.DoesNotContain(_host.Logs.Entries, e => e.Category.StartsWith("Microsoft", StringComparison.Ordinal));
    }
}

public sealed class ApiServerBodyLimitTests : IAsyncLifetime
{
    private const int Limit = 1024;
    private ApiTestHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiTestHost.StartAsync(new ApiServerOptions { MaxBodyBytes = Limit });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string ModeBodyOfLength(int length) => "{\"mode\":\"normal\",\"pad\":\"" + new string('x', length - 26) + "\"}";

    [Fact]
    public async Task Body_at_the_limit_is_accepted()
    {
        var body = ModeBodyOfLength(Limit);
        Assert.Equal(Limit, Encoding.UTF8.GetByteCount(body));

        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Body_over_the_limit_with_content_length_is_413()
    {
        using var response = await _host.PostAsync(ApiTestHost.ChangeMode, ModeBodyOfLength(Limit + 1));

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, ApiErrorTypes.PayloadTooLarge);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(ModeBodyOfLength(3 * Limit))) };
        request.Headers.Add("x-sora-target", ApiTestHost.ChangeMode);

        using var response = await _host.Client.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, ApiErrorTypes.PayloadTooLarge);
    }

    [Fact]
    public async Task Chunked_body_under_the_limit_is_read_whole()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(ModeBodyOfLength(Limit - 10))) };
        request.Headers.Add("x-sora-target", ApiTestHost.ChangeMode);

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Server_keeps_serving_after_an_oversized_body()
    {
        using (var big = await _host.PostAsync(ApiTestHost.ChangeMode, ModeBodyOfLength(4 * Limit)))
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);

        using var next = await _host.PostAsync(ApiTestHost.GetMode, "{}");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Broken_chunked_framing_is_a_400_error_json_not_a_500()
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _host.Server.BoundPort);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST / HTTP/1.1\r\nHost: x\r\nx-sora-target: {ApiTestHost.ChangeMode}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var answer = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync(timeout.Token); // the server closes

        Assert.StartsWith("HTTP/1.1 400 ", answer);
        var json = answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        Assert.Equal(ApiErrorTypes.BadRequest, JsonSerializer.Deserialize(json, ApiJsonContext.Default.ErrorBody)!.ErrorType);
    }

    /// <summary>Content of unknown length, so HttpClient sends it with chunked transfer encoding, in small pieces.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var i = 0; i < bytes.Length; i += 256)
            {
                await stream.WriteAsync(bytes.AsMemory(i, Math.Min(256, bytes.Length - i)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}

public sealed class ApiServerCorsTests : IAsyncLifetime
{
    private const string Origin = "https://app.example.com";
    private ApiTestHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiTestHost.StartAsync(new ApiServerOptions { CorsOrigin = Origin });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static void AssertSoraCorsHeaders(HttpResponseMessage response)
    {
        Assert.Equal(Origin, Assert.Single(response.Headers.GetValues("access-control-allow-origin")));
        Assert.Equal("Origin, X-Requested-With, Content-Type, Accept, x-sora-target", Assert.Single(response.Headers.GetValues("access-control-allow-headers")));
        Assert.Equal("POST, OPTIONS", Assert.Single(response.Headers.GetValues("access-control-allow-methods")));
        Assert.Equal("1000", Assert.Single(response.Headers.GetValues("access-control-max-age")));
        Assert.Contains("origin", response.Headers.Vary, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Success_carries_sora_cors_headers()
    {
        using var response = await _host.PostAsync(ApiTestHost.GetMode, "{}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSoraCorsHeaders(response);
    }

    [Fact]
    public async Task Errors_carry_sora_cors_headers_too()
    {
        using var unknown = await _host.PostAsync("Sora_20211215.Nope", "{}");
        using var notFound = await _host.Client.GetAsync("/nowhere");

        AssertSoraCorsHeaders(unknown);
        AssertSoraCorsHeaders(notFound);
    }

    [Fact]
    public async Task Options_preflight_answers_2xx_with_cors_headers()
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/");
        request.Headers.Add("Origin", Origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type, x-sora-target");

        using var response = await _host.Client.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"status {response.StatusCode}");
        AssertSoraCorsHeaders(response);
    }
}

public sealed class ApiServerFaultTests
{
    private static ApiRouter RouterAnswering(ApiResult? result)
    {
        var router = new ApiRouter();
        router.Register("Sora_20990101.Faulty", (_, _) => ValueTask.FromResult(result!));
        router.Register(ApiTestHost.GetMode, (_, _) => ValueTask.FromResult(ApiResult.Json(new ModeBody { Mode = "normal" }, ApiJsonContext.Default.ModeBody)));
        return router;
    }

    public static TheoryData<string, ApiResult?> InvalidResults => new()
    {
        { "null", null },
        { "error with a success status", ApiResult.Error(200, "Oops", "not an error status") },
        { "redirect to a header-breaking location", ApiResult.Redirect("http://127.0.0.2:3000/\r\nx-evil: 1") },
    };

    [Theory]
    [MemberData(nameof(InvalidResults))]
    public async Task Invalid_operation_result_is_a_logged_500_and_the_server_keeps_serving(string what, ApiResult? result)
    {
        await using var host = await ApiTestHost.StartAsync(router: RouterAnswering(result));

        using (var response = await host.PostAsync("Sora_20990101.Faulty", "{}"))
            await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.InternalServerError, ApiErrorTypes.InternalError);

        Assert.Contains(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("Sora_20990101.Faulty"));
        using var next = await host.PostAsync(ApiTestHost.GetMode, "{}");
        Assert.True(next.StatusCode == HttpStatusCode.OK, what);
    }

    [Fact]
    public async Task Failing_metrics_source_is_a_logged_500()
    {
        await using var host = await ApiTestHost.StartAsync(new ApiServerOptions { MetricsText = () => throw new InvalidOperationException("no counters") });

        using var response = await host.Client.GetAsync("/metrics");

        await ApiTestHost.AssertErrorAsync(response, HttpStatusCode.InternalServerError, ApiErrorTypes.InternalError);
        Assert.Contains(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Exception is InvalidOperationException);
    }
}

public sealed class ApiServerListenerTests
{
    [Fact]
    public async Task Metrics_serves_prometheus_text_when_configured()
    {
        await using var host = await ApiTestHost.StartAsync(new ApiServerOptions { MetricsText = () => "sora_up 1\n" });

        using var response = await host.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("sora_up 1\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listener_binds_exactly_the_listen_address()
    {
        // 127.0.0.0/8 is loopback on Linux, so two nodes can run on one machine on different addresses.
        await using var host = await ApiTestHost.StartAsync(new ApiServerOptions { ListenAddress = IPAddress.Parse("127.0.0.2") });
        using (var ok = await host.PostAsync(ApiTestHost.GetMode, "{}"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, host.Server.BoundPort));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Stopped_server_refuses_connections_and_dispose_is_idempotent()
    {
        var host = await ApiTestHost.StartAsync();
        var port = host.Server.BoundPort;
        Assert.NotEqual(0, port);

        await host.Server.StopAsync();
        await host.Server.StopAsync();

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, port));
        await host.DisposeAsync();
    }

    [Fact]
    public void BoundPort_before_start_is_an_error()
    {
        var server = new ApiServer(new ApiServerOptions { Port = 0 }, new ApiRouter(), NullLoggerFactory.Instance);

        Assert.Throws<InvalidOperationException>(() => server.BoundPort);
    }

    [Fact]
    public async Task Port_in_use_fails_start()
    {
        await using var first = await ApiTestHost.StartAsync();
        var second = new ApiServer(new ApiServerOptions { Port = first.Server.BoundPort }, new ApiRouter(), NullLoggerFactory.Instance);

        await Assert.ThrowsAnyAsync<IOException>(() => second.StartAsync(CancellationToken.None));
        await second.DisposeAsync();
    }

    [Theory]
    [InlineData(-1, 1024, null, "Port")]
    [InlineData(65536, 1024, null, "Port")]
    [InlineData(0, 0, null, "MaxBodyBytes")]
    [InlineData(0, 1024, "", "CorsOrigin")]
    [InlineData(0, 1024, "https://a.example\r\nx-evil: 1", "CorsOrigin")]
    public void Invalid_options_are_refused_naming_the_setting(int port, int maxBody, string? cors, string setting)
    {
        var options = new ApiServerOptions { Port = port, MaxBodyBytes = maxBody, CorsOrigin = cors };

        var error = Assert.Throws<ArgumentException>(() => new ApiServer(options, new ApiRouter(), NullLoggerFactory.Instance));
        Assert.Contains(setting, error.Message);
    }
}
