using System.Buffers;
using System.IO.Pipelines;
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
/// A node's HTTP API listener (sora-protocol §4.1): `POST /` with `x-sora-target` dispatched through an
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
    }

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
            // Backstop for bodies without Content-Length; ReadBodyAsync enforces the same limit.
            kestrel.Limits.MaxRequestBodySize = _options.MaxBodyBytes;
            kestrel.Listen(_options.ListenAddress, _options.Port, listen => listen.Protocols = HttpProtocols.Http1);
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(_loggerFactory));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // The process owns signals and shutdown; this listener is one part of it.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();

        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync(ct).ConfigureAwait(false);

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
        var request = context.Request;
        var response = context.Response;
        if (_options.CorsOrigin is { } origin)
        {
            var headers = response.Headers;
            headers.AccessControlAllowOrigin = origin;
            headers.Vary = "origin";
            headers.AccessControlAllowHeaders = "Origin, X-Requested-With, Content-Type, Accept, x-sora-target";
            headers.AccessControlAllowMethods = AllowedMethods;
            headers.AccessControlMaxAge = "1000";
        }

        var path = request.Path.Value;
        if (path == "/")
        {
            if (HttpMethods.IsPost(request.Method))
                await DispatchAsync(context).ConfigureAwait(false);
            else if (HttpMethods.IsOptions(request.Method))
            {
                // Preflight: the CORS headers above are the answer.
                response.Headers.Allow = AllowedMethods;
                response.StatusCode = StatusCodes.Status204NoContent;
            }
            else
            {
                response.Headers.Allow = AllowedMethods;
                await WriteErrorAsync(response, StatusCodes.Status405MethodNotAllowed, ApiErrorTypes.MethodNotAllowed,
                    $"{request.Method} is not allowed on /; use POST with an {TargetHeader} header").ConfigureAwait(false);
            }
        }
        else if (path == "/metrics")
        {
            if (!HttpMethods.IsGet(request.Method))
            {
                response.Headers.Allow = "GET";
                await WriteErrorAsync(response, StatusCodes.Status405MethodNotAllowed, ApiErrorTypes.MethodNotAllowed,
                    $"{request.Method} is not allowed on /metrics; use GET").ConfigureAwait(false);
            }
            else if (_options.MetricsText is { } metrics)
            {
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = MetricsContentType;
                await response.WriteAsync(metrics(), context.RequestAborted).ConfigureAwait(false);
            }
            else
                await WriteErrorAsync(response, StatusCodes.Status404NotFound, ApiErrorTypes.NotFound, "metrics are not enabled on this node").ConfigureAwait(false);
        }
        else
            await WriteErrorAsync(response, StatusCodes.Status404NotFound, ApiErrorTypes.NotFound, "not found; the API is POST /").ConfigureAwait(false);
    }

    private async Task DispatchAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
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
            body = await ReadBodyAsync(request.BodyReader, _options.MaxBodyBytes, ct).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            if (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                await WriteTooLargeAsync(response).ConfigureAwait(false);
            else
                await WriteErrorAsync(response, e.StatusCode, ApiErrorTypes.BadRequest, "malformed HTTP request body").ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is IOException || (e is OperationCanceledException && ct.IsCancellationRequested))
        {
            return; // the connection broke while the body was arriving
        }
        if (body is null)
        {
            await WriteTooLargeAsync(response).ConfigureAwait(false);
            return;
        }

        ApiResult result;
        try
        {
            result = await operation(new ApiRequest(target, body), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            LogOperationFailed(_logger, target, e);
            await WriteErrorAsync(response, StatusCodes.Status500InternalServerError, ApiErrorTypes.InternalError,
                $"{target} failed; see the node's log").ConfigureAwait(false);
            return;
        }
        await WriteResultAsync(response, result, ct).ConfigureAwait(false);
    }

    /// <summary>The whole body, or null when it exceeds <paramref name="limit"/> bytes.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, int limit, CancellationToken ct)
    {
        while (true)
        {
            var read = await reader.ReadAsync(ct).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (buffer.Length > limit)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static Task WriteResultAsync(HttpResponse response, ApiResult result, CancellationToken ct)
    {
        switch (result)
        {
            case ApiResult.JsonResult json:
                response.StatusCode = StatusCodes.Status200OK;
                return WriteJsonAsync(response, json.Utf8Json, ct);
            case ApiResult.ErrorResult error:
                return WriteErrorAsync(response, error.Status, error.ErrorType, error.Message);
            case ApiResult.RedirectResult redirect:
                response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                response.Headers.Location = redirect.Location;
                return WriteJsonAsync(response,
                    JsonSerializer.SerializeToUtf8Bytes(new RedirectBody { Location = redirect.Location }, ApiJsonContext.Default.RedirectBody), ct);
            default:
                throw new InvalidOperationException($"unknown ApiResult {result.GetType().Name}");
        }
    }

    private Task WriteTooLargeAsync(HttpResponse response) =>
        WriteErrorAsync(response, StatusCodes.Status413PayloadTooLarge, ApiErrorTypes.PayloadTooLarge,
            $"the request body exceeds {_options.MaxBodyBytes} bytes");

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

    [LoggerMessage(Level = LogLevel.Error, Message = "API operation {Target} threw; answered 500")]
    private static partial void LogOperationFailed(ILogger logger, string target, Exception exception);
}
