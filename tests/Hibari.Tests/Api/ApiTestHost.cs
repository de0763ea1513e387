using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Hibari.Api;
using Hibari.Api.Contracts;
using Microsoft.Extensions.Logging;

namespace Hibari.Tests.Api;

/// <summary>An <see cref="ApiServer"/> on a free loopback port with the test operations below, and a client for it.</summary>
internal sealed class ApiTestHost : IAsyncDisposable
{
    public const string GetMode = "Sora_20211215.GetMode";
    public const string ChangeMode = "Sora_20211215.ChangeMode";
    public const string InitCluster = "Sora_20990101.InitCluster";
    public const string Redirect = "Sora_20990101.Redirect";
    public const string Refuse = "Sora_20990101.Refuse";
    public const string Throw = "Sora_20990101.Throw";
    public const string RedirectLocation = "http://127.0.0.2:3000/";

    private ApiTestHost(ApiServer server, HttpClient client, TestLogs logs, ILoggerFactory loggerFactory)
    {
        Server = server;
        Client = client;
        Logs = logs;
        _loggerFactory = loggerFactory;
    }

    private readonly ILoggerFactory _loggerFactory;
    public ApiServer Server { get; }
    public HttpClient Client { get; }
    public TestLogs Logs { get; }

    public static async Task<ApiTestHost> StartAsync(ApiServerOptions? options = null, ApiRouter? router = null)
    {
        options ??= new ApiServerOptions();
        options = options with { Port = 0 };
        var logs = new TestLogs();
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        var server = new ApiServer(options, router ?? TestRouter(), loggerFactory);
        await server.StartAsync(CancellationToken.None);
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = new Uri($"http://{Format(options.ListenAddress)}:{server.BoundPort}/"),
            Timeout = TimeSpan.FromSeconds(30),
        };
        return new ApiTestHost(server, client, logs, loggerFactory);
    }

    private static string Format(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

    public static ApiRouter TestRouter()
    {
        var router = new ApiRouter();
        router.Register(GetMode, (_, _) => ValueTask.FromResult(ApiResult.Json(new ModeBody { Mode = "normal" }, ApiJsonContext.Default.ModeBody)));
        router.Register(ChangeMode, (request, _) => ValueTask.FromResult(
            request.TryRead(ApiJsonContext.Default.ModeBody, out var body, out var error)
                ? ApiResult.Json(body, ApiJsonContext.Default.ModeBody)
                : error!));
        router.Register(InitCluster, (request, _) => ValueTask.FromResult(
            request.TryRead(ApiJsonContext.Default.InitClusterRequest, out var body, out var error)
                ? ApiResult.Json(new NodeNameListBody { NodeNameList = body.NodeNameList }, ApiJsonContext.Default.NodeNameListBody)
                : error!));
        router.Register(Redirect, (_, _) => ValueTask.FromResult(ApiResult.Redirect(RedirectLocation)));
        router.Register(Refuse, (_, _) => ValueTask.FromResult(ApiResult.Unavailable("ClusterUnavailable", "no quorum")));
        router.Register(Throw, (_, _) => throw new InvalidOperationException("a bug in an operation"));
        return router;
    }

    public Task<HttpResponseMessage> PostAsync(string? target, string? json) =>
        PostAsync(target, json is null ? null : Encoding.UTF8.GetBytes(json));

    public Task<HttpResponseMessage> PostAsync(string? target, byte[]? body)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "/");
        if (target is not null)
            message.Headers.TryAddWithoutValidation("x-sora-target", target);
        if (body is not null)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        return Client.SendAsync(message);
    }

    /// <summary>Asserts the status and the error JSON shape; returns the body.</summary>
    public static async Task<ErrorBody> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? errorType = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("error_type").ValueKind);
        Assert.Equal(JsonValueKind.String, document.RootElement.GetProperty("message").ValueKind);
        var body = JsonSerializer.Deserialize(text, ApiJsonContext.Default.ErrorBody)!;
        Assert.False(string.IsNullOrWhiteSpace(body.ErrorType));
        Assert.False(string.IsNullOrWhiteSpace(body.Message));
        if (errorType is not null)
            Assert.Equal(errorType, body.ErrorType);
        return body;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        _loggerFactory.Dispose();
    }
}

/// <summary>Every log record written through the factory, for assertions.</summary>
internal sealed class TestLogs : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(TestLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
