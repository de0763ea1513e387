using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using Hibari.Api.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace Hibari.Api;

/// <summary>
/// A node's HTTP API listener (docs/protocol-notes.md, "API conventions"): `POST /` with `x-sora-target` dispatched through an
/// <see cref="ApiRouter"/>, `OPTIONS /` for CORS preflight, `GET /metrics`. Every answer that is not a
/// success is `{"error_type", "message"}` JSON; bad input is a 4xx, only a failing operation is a 500.
/// </summary>
public sealed partial class ApiServer : IAsyncDisposable
{
    private const string TargetHeader = "x-sora-target";
    private const string JsonContentType = "application/json";
    private const string MetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
    private const string AllowedMethods = "POST, OPTIONS";

    private readonly ApiServerOptions _options;
    private readonly ApiRouter _router;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private WebApplication? _app;
    private int _boundPort;

    public ApiServer(ApiServerOptions options, ApiRouter router, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        options.Validate();
        _options = options;
        _router = router;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ApiServer>();
        RateLimiter = new ApiRateLimiter(options.MaxRequestsPerSecond);
    }

    /// <summary>Requests refused for their rate (429), per client address (D-44).</summary>
    public ApiRateLimiter RateLimiter { get; }
    /// <summary>Requests answered 413 (body over the limit).</summary>
    public long TooLarge => Interlocked.Read(ref _tooLarge);
    private long _tooLarge;

    /// <summary>The port actually bound; differs from the configured one when that was 0.</summary>
    public int BoundPort => _app is not null ? _boundPort : throw new InvalidOperationException("the API server is not started");

    /// <summary>Binds exactly <see cref="ApiServerOptions.ListenAddress"/>:<see cref="ApiServerOptions.Port"/> and starts serving.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_app is not null)
            throw new InvalidOperationException("the API server is already started");

        // The empty builder reads no environment, command line or appsettings: nothing but these
        // options decides where the listener binds.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // ReadBodyAsync enforces MaxBodyBytes exactly; Kestrel's own limit over-counts chunked bodies.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(_options.ListenAddress, _options.Port, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(_loggerFactory));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // The process owns signals and shutdown; this listener is one part of it.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();

        var app = builder.Build();
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        _boundPort = new Uri(addresses.First()).Port;
        _app = app;
        LogListening(_logger, _options.ListenAddress.ToString(), _boundPort);
    }

    /// <summary>Stops accepting requests and waits (briefly) for those in flight.</summary>
    public async Task StopAsync()
    {
        var app = _app;
        if (app is null)
            return;
        _app = null;
        try
        {
            await app.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task HandleAsync(HttpContext context)
    {
        AddCorsHeaders(context.Response);
        try
        {
            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            // Bad input is answered with a 4xx before this point, so what lands here is a bug.
            var target = context.Request.Headers[TargetHeader].ToString();
            LogRequestFailed(_logger, context.Request.Method, context.Request.Path.Value ?? "", target, e);
            var response = context.Response;
            response.Clear();
            AddCorsHeaders(response);
            await WriteErrorAsync(response, StatusCodes.Status500InternalServerError, ApiErrorTypes.InternalError,
                target.Length > 0 ? $"{target} failed; see the node's log" : "internal error; see the node's log").ConfigureAwait(false);
        }
    }

    private void AddCorsHeaders(HttpResponse response)
    {
        if (_options.CorsOrigin is not { } origin)
            return;
        var headers = response.Headers;
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = "origin";
        headers.AccessControlAllowHeaders = "Origin, X-Requested-With, Content-Type, Accept, x-sora-target";
        headers.AccessControlAllowMethods = AllowedMethods;
        headers.AccessControlMaxAge = "1000";
    }

    private Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        switch (request.Path.Value)
        {
            case "/" when HttpMethods.IsPost(request.Method):
                return DispatchAsync(context);
            case "/" when HttpMethods.IsOptions(request.Method):
                // Preflight: the CORS headers already set are the answer.
                response.Headers.Allow = AllowedMethods;
                response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            case "/":
                response.Headers.Allow = AllowedMethods;
                return WriteErrorAsync(response, StatusCodes.Status405MethodNotAllowed, ApiErrorTypes.MethodNotAllowed,
                    $"{request.Method} is not allowed on /; use POST with an {TargetHeader} header");
            case "/metrics" when HttpMethods.IsGet(request.Method):
                if (_options.MetricsText is not { } metrics)
                    return WriteErrorAsync(response, StatusCodes.Status404NotFound, ApiErrorTypes.NotFound, "metrics are not enabled on this node");
                var text = metrics();
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = MetricsContentType;
                return response.WriteAsync(text, context.RequestAborted);
            case "/dashboard" or "/dashboard/" or "/dashboard/data" when _options.DashboardData is null:
                return WriteErrorAsync(response, StatusCodes.Status404NotFound, ApiErrorTypes.NotFound, "the dashboard is not enabled on this node (dashboard = true)");
            case "/dashboard" or "/dashboard/" when HttpMethods.IsGet(request.Method):
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "text/html; charset=utf-8";
                response.Headers.CacheControl = "no-store";
                return response.Body.WriteAsync(DashboardPage.Html, context.RequestAborted).AsTask();
            case "/dashboard/data" when HttpMethods.IsGet(request.Method):
                return WriteDashboardDataAsync(context);
            case "/dashboard" or "/dashboard/" or "/dashboard/data":
                response.Headers.Allow = "GET";
                return WriteErrorAsync(response, StatusCodes.Status405MethodNotAllowed, ApiErrorTypes.MethodNotAllowed,
                    $"{request.Method} is not allowed on {request.Path.Value}; use GET");
            case "/metrics":
                response.Headers.Allow = "GET";
                return WriteErrorAsync(response, StatusCodes.Status405MethodNotAllowed, ApiErrorTypes.MethodNotAllowed,
                    $"{request.Method} is not allowed on /metrics; use GET");
            default:
                return WriteErrorAsync(response, StatusCodes.Status404NotFound, ApiErrorTypes.NotFound, "not found; the API is POST /");
        }
    }

    /// <summary>
    /// The dashboard's data, read-only and open to any origin (a page served by another node of the cluster reads it
    /// when its own node is gone, D-53).
    /// </summary>
    private async Task WriteDashboardDataAsync(HttpContext context)
    {
        var data = await _options.DashboardData!(context.RequestAborted).ConfigureAwait(false);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.Headers.AccessControlAllowOrigin = "*";
        await response.Body.WriteAsync(data, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!RateLimiter.TryAcquire(context.Connection.RemoteIpAddress ?? IPAddress.None))
        {
            response.Headers.RetryAfter = "1";
            await WriteErrorAsync(response, StatusCodes.Status429TooManyRequests, ApiErrorTypes.TooManyRequests,
                $"more than {_options.MaxRequestsPerSecond} requests per second from this address; retry later").ConfigureAwait(false);
            return;
        }
        if (request.ContentLength > _options.MaxBodyBytes)
        {
            await WriteTooLargeAsync(response).ConfigureAwait(false);
            return;
        }

        var targets = request.Headers[TargetHeader];
        if (targets.Count == 0 || string.IsNullOrEmpty(targets[0]))
        {
            await WriteErrorAsync(response, StatusCodes.Status400BadRequest, ApiErrorTypes.MissingTarget,
                $"the {TargetHeader} header is required, e.g. {TargetHeader}: Sora_20211215.GetMode").ConfigureAwait(false);
            return;
        }
        var target = targets[0]!;
        if (targets.Count > 1 || !ApiTarget.IsWellFormed(target))
        {
            await WriteErrorAsync(response, StatusCodes.Status400BadRequest, ApiErrorTypes.InvalidTarget,
                $"the {TargetHeader} header must be one value of the form Sora_YYYYMMDD.Name").ConfigureAwait(false);
            return;
        }
        if (!_router.TryGet(target, out var operation))
        {
            await WriteErrorAsync(response, StatusCodes.Status400BadRequest, ApiErrorTypes.UnknownTarget,
                $"unknown {TargetHeader}: {target}").ConfigureAwait(false);
            return;
        }

        var ct = context.RequestAborted;
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request.BodyReader, _options.MaxBodyBytes, request.ContentLength, ct).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            // Malformed framing, e.g. a broken chunked encoding: Kestrel's status, our error shape,
            // and the connection closed because its byte stream can no longer be trusted.
            response.Headers.Connection = "close";
            await WriteErrorAsync(response, e.StatusCode, ApiErrorTypes.BadRequest, "malformed HTTP request body").ConfigureAwait(false);
            return;
        }
        catch (IOException)
        {
            return; // the connection broke while the body was arriving
        }
        if (body is null)
        {
            await WriteTooLargeAsync(response).ConfigureAwait(false);
            return;
        }

        // A body whose strings do not decode (a lone surrogate escaped) would throw in any handler that looks at it.
        if (!JsonInput.StringsDecode(body))
        {
            await WriteErrorAsync(response, 400, ApiErrorTypes.InvalidBody, "the body is not valid JSON: a string does not decode (lone surrogate)").ConfigureAwait(false);
            return;
        }
        var result = await operation(new ApiRequest(target, body), ct).ConfigureAwait(false);
        await WriteResultAsync(response, target, result, ct).ConfigureAwait(false);
    }

    /// <summary>The whole body, or null when it exceeds <paramref name="limit"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, long? contentLength, CancellationToken ct)
    {
        var body = new ArrayBufferWriter<byte>((int)Math.Clamp(contentLength ?? 256, 1, limit));
        while (true)
        {
            var read = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (body.WrittenCount + buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            foreach (var segment in buffer)
                body.Write(segment.Span);
            reader.AdvanceTo(buffer.End);
            if (read.IsCompleted)
                return body.WrittenSpan.ToArray();
        }
    }

    private static Task WriteResultAsync(HttpResponse response, string target, ApiResult? result, CancellationToken ct)
    {
        switch (result)
        {
            case ApiResult.JsonResult json:
                response.StatusCode = StatusCodes.Status200OK;
                return WriteJsonAsync(response, json.Utf8Json, ct);
            case ApiResult.ErrorResult { Status: >= 400 and <= 599 } error:
                return WriteErrorAsync(response, error.Status, error.ErrorType, error.Message);
            case ApiResult.RedirectResult redirect:
                response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                response.Headers.Location = redirect.Location;
                return WriteJsonAsync(response,
                    JsonSerializer.SerializeToUtf8Bytes(new RedirectBody { Location = redirect.Location }, ApiJsonContext.Default.RedirectBody), ct);
            default:
                throw new InvalidOperationException($"{target} answered {result?.ToString() ?? "null"}, which is not a valid API result");
        }
    }

    private Task WriteTooLargeAsync(HttpResponse response)
    {
        // The rest of the body is not read: close the connection so the client does not reuse it mid-body.
        Interlocked.Increment(ref _tooLarge);
        response.Headers.Connection = "close";
        return WriteErrorAsync(response, StatusCodes.Status413PayloadTooLarge, ApiErrorTypes.PayloadTooLarge,
            $"the request body exceeds {_options.MaxBodyBytes} bytes");
    }

    private static Task WriteErrorAsync(HttpResponse response, int status, string errorType, string message)
    {
        response.StatusCode = status;
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody { ErrorType = errorType, Message = message }, ApiJsonContext.Default.ErrorBody);
        return WriteJsonAsync(response, body, CancellationToken.None);
    }

    private static Task WriteJsonAsync(HttpResponse response, byte[] utf8Json, CancellationToken ct)
    {
        response.ContentType = JsonContentType;
        response.ContentLength = utf8Json.Length;
        return response.Body.WriteAsync(utf8Json, ct).AsTask();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP API listening on {Address}:{Port}")]
    private static partial void LogListening(ILogger logger, string address, int port);

    [LoggerMessage(Level = LogLevel.Error, Message = "API request {Method} {Path} (x-sora-target: {Target}) failed; answered 500")]
    private static partial void LogRequestFailed(ILogger logger, string method, string path, string target, Exception exception);
}
