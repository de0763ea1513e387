using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging;

namespace Hibari.Webhooks;

/// <summary>What became of a session or event webhook handed to the client.</summary>
public enum WebhookEnqueue { Queued, Ignored, Dropped }

/// <summary>
/// All outgoing webhooks of a node over one pooled <see cref="HttpClient"/> (docs/protocol-notes.md, "Webhook basics"). The auth webhook is
/// awaited by the connect (<see cref="Auth"/>); session and event webhooks never block the caller: they go into a
/// bounded queue drained in order by one background task, and a full queue drops and counts. Logs go to LogDir as
/// JSON lines through another background writer. Disposal flushes both within <see cref="WebhookOptions.FlushTimeout"/>.
/// </summary>
public sealed partial class WebhookClient : IAsyncDisposable
{
    /// <summary>Largest webhook answer read; a bigger one is a failure.</summary>
    internal const int MaxResponseBytes = 1024 * 1024;

    private readonly WebhookOptions _options;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly WebhookCounters _counters = new();
    private readonly WebhookLog _log;
    private readonly Channel<Delivery> _queue;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly Task _delivery;
    private int _disposed;

    /// <summary>A queued webhook; the body is written by the background task so the caller only pays for the enqueue.</summary>
    private sealed record Delivery(string Url, SessionWebhookEvent? Session, ConnectionWebhookEvent? Event, RecordingWebhookEvent? Recording = null);

    public WebhookClient(WebhookOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = Max(options.AuthWebhookTimeout, options.WebhookTimeout),
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false, // webhook targets are the app's own servers; see README.md
            MaxConnectionsPerServer = 64,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan, // per call, see PostAsync
            DefaultRequestVersion = HttpVersion.Version11,
        };
        _log = new WebhookLog(options.LogDir, options.LogQueueCapacity, _counters, logger);
        _queue = Channel.CreateBounded<Delivery>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: drop and count
        });
        Auth = new AuthWebhook(this);
        _delivery = Task.Run(DeliverLoopAsync);
    }

    /// <summary>The auth webhook of this node.</summary>
    public AuthWebhook Auth { get; }

    internal WebhookOptions Options => _options;

    internal WebhookCounters CountersRef => _counters;

    internal WebhookLog Log => _log;

    public WebhookCountersSnapshot Counters => _counters.Snapshot();

    /// <summary>Queues `session.created` / `session.destroyed`; returns at once.</summary>
    public WebhookEnqueue EnqueueSession(SessionWebhookEvent e)
    {
        if (_options.SessionWebhookUrl is not { } url)
        {
            WebhookCounters.Add(ref _counters.SessionIgnored);
            return WebhookEnqueue.Ignored;
        }
        return Enqueue(new Delivery(url, e, null));
    }

    /// <summary>
    /// Queues `connection.created` / `updated` / `destroyed`; returns at once. <see cref="ConnectionWebhookEvent.EventMetadata"/>
    /// is detached here (cheap when it already is), so the caller may dispose its document afterwards.
    /// </summary>
    public WebhookEnqueue EnqueueEvent(ConnectionWebhookEvent e)
    {
        if (_options.EventWebhookUrl is not { } url)
        {
            WebhookCounters.Add(ref _counters.EventIgnored);
            return WebhookEnqueue.Ignored;
        }
        if (e.EventMetadata is { } md) e = e with { EventMetadata = md.Clone() };
        return Enqueue(new Delivery(url, null, e));
    }

    /// <summary>Queues a recording webhook (D-58) to the session or the event webhook URL; returns at once.</summary>
    public WebhookEnqueue EnqueueRecording(RecordingWebhookEvent e)
    {
        var url = e.ToSessionWebhook ? _options.SessionWebhookUrl : _options.EventWebhookUrl;
        if (url is null)
        {
            WebhookCounters.Add(ref e.ToSessionWebhook ? ref _counters.SessionIgnored : ref _counters.EventIgnored);
            return WebhookEnqueue.Ignored;
        }
        if (e.EventMetadata is { } md) e = e with { EventMetadata = md.Clone() };
        return Enqueue(new Delivery(url, null, null, e));
    }

    private WebhookEnqueue Enqueue(Delivery d)
    {
        if (Volatile.Read(ref _disposed) == 0 && _queue.Writer.TryWrite(d)) return WebhookEnqueue.Queued;
        WebhookCounters.Add(ref _counters.DroppedWebhook);
        if (d.Session is not null || d.Recording is { ToSessionWebhook: true }) WebhookCounters.Add(ref _counters.SessionFailed);
        else WebhookCounters.Add(ref _counters.EventFailed);
        return WebhookEnqueue.Dropped;
    }

    /// <summary>Body, type and headers of a delivery. Headers: see README.md (names UNCONFIRMED in Sora).</summary>
    private (string Type, byte[] Body, (string, string)[] Headers) Render(Delivery d)
    {
        if (d.Session is { } s)
        {
            var type = WebhookBodies.SessionType(s.Type);
            return (type, WebhookBodies.Session(s, SoraId.New(), _options),
                [("sora-session-webhook-type", type), ("sora-session-id", s.SessionId)]);
        }
        if (d.Recording is { } r)
        {
            (string, string)[] headers = r.ToSessionWebhook
                ? [("sora-session-webhook-type", r.Type), ("sora-session-id", r.SessionId)]
                : [("sora-event-webhook-type", r.Type), ("sora-session-id", r.SessionId), ("sora-connection-id", r.ConnectionId ?? "")];
            return (r.Type, WebhookBodies.Recording(r, SoraId.New(), _options), headers);
        }
        var e = d.Event!;
        var eventType = WebhookBodies.EventType(e.Type);
        return (eventType, WebhookBodies.Event(e, SoraId.New(), _options),
            [("sora-event-webhook-type", eventType), ("sora-session-id", e.SessionId), ("sora-connection-id", e.ConnectionId)]);
    }

    private async Task DeliverLoopAsync()
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_shutdown.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var d))
                {
                    var at = DateTimeOffset.UtcNow;
                    var isSession = d.Session is not null || d.Recording is { ToSessionWebhook: true };
                    var (type, body, headers) = Render(d);
                    var result = await PostAsync(d.Url, body, headers, _options.WebhookTimeout, _shutdown.Token).ConfigureAwait(false);
                    (isSession ? SessionLatency : EventLatency).Add((long)(result.DurationMs * 1000));
                    var ok = result.Error is null;
                    if (isSession) WebhookCounters.Add(ref ok ? ref _counters.SessionSuccessful : ref _counters.SessionFailed);
                    else WebhookCounters.Add(ref ok ? ref _counters.EventSuccessful : ref _counters.EventFailed);
                    // The log gets sensitive metadata as "REDACTED", the error log as it is (Sora's SENSITIVE_DATA, D-55).
                    var line = WebhookBodies.LogLine(at, type, d.Url, body, result.Status, result.Body, result.DurationMs, result.Error);
                    var keys = isSession ? WebhookBodies.SessionSensitive : WebhookBodies.EventSensitive;
                    var logged = _options.SkipRedact ? line : WebhookBodies.LogLine(at, type, d.Url, WebhookBodies.Redact(body, keys).ToArray(),
                        result.Status, WebhookBodies.Redact(result.Body, keys), result.DurationMs, result.Error);
                    _log.Append(isSession ? WebhookLogFile.Session : WebhookLogFile.Event, logged);
                    if (ok && d.Session is { Type: SessionWebhookType.Created } created) SessionCreatedAnswered(created, result.Body);
                    if (!ok)
                    {
                        _log.Append(isSession ? WebhookLogFile.SessionError : WebhookLogFile.EventError, line);
                        LogDeliveryFailed(_logger, type, d.Url, result.Error!);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // flush timeout passed: what is left in the queue is abandoned
        }
    }

    /// <summary>
    /// The session.created answer's documented effect (D-55): `spotlight_number` (1–8) for the session. Raised on the
    /// delivery task with (channel id, session id, number); other answer keys are logged only.
    /// </summary>
    public event Action<string, string, int>? SessionSpotlightNumber;

    /// <summary>
    /// The session.created answer said `recording: true` (D-58): raised on the delivery task with (channel id, session
    /// id, the whole answer, for its `recording_*` fields).
    /// </summary>
    public event Action<string, string, JsonElement>? SessionRecording;

    private void SessionCreatedAnswered(SessionWebhookEvent created, byte[] answer)
    {
        if (answer.Length == 0 || !JsonInput.StringsDecode(answer)) return;
        try
        {
            using var doc = JsonDocument.Parse(answer);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("spotlight_number", out var n))
            {
                if (n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var number) && number is >= 1 and <= 8)
                    SessionSpotlightNumber?.Invoke(created.ChannelId, created.SessionId, number);
                else _logger.LogWarning("session.created answer for {Session}: spotlight_number must be 1-8, ignored", created.SessionId);
            }
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("recording", out var rec))
            {
                if (rec.ValueKind == JsonValueKind.True) SessionRecording?.Invoke(created.ChannelId, created.SessionId, doc.RootElement.Clone());
                else if (rec.ValueKind != JsonValueKind.False)
                    _logger.LogWarning("session.created answer for {Session}: recording must be a boolean, ignored", created.SessionId);
            }
        }
        catch (JsonException)
        {
            // An answer that is not JSON has no effect (the webhook succeeded by its status).
        }
    }

    /// <summary>Round trips (request sent → answer read, or the failure) of the auth, session and event webhooks.</summary>
    public Metrics.LatencyHistogram AuthLatency { get; } = new();
    public Metrics.LatencyHistogram SessionLatency { get; } = new();
    public Metrics.LatencyHistogram EventLatency { get; } = new();

    internal readonly record struct PostResult(int? Status, byte[] Body, string? Error, double DurationMs);

    /// <summary>
    /// One POST with its own timeout. Never throws except <see cref="OperationCanceledException"/> for
    /// <paramref name="cancel"/>; every other failure is named in <see cref="PostResult.Error"/>.
    /// </summary>
    internal async Task<PostResult> PostAsync(string url, byte[] body, (string Name, string Value)[] headers, TimeSpan timeout, CancellationToken cancel)
    {
        var watch = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Version = HttpVersion.Version11,
                VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
                Content = new ByteArrayContent(body),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            var (answer, tooLarge) = await ReadBoundedAsync(response.Content, cts.Token).ConfigureAwait(false);
            string? error = tooLarge ? "response too large"
                : status is < 200 or > 299 ? $"status {status}"
                : null;
            return new PostResult(status, answer, error, watch.Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return new PostResult(null, [], "timeout", watch.Elapsed.TotalMilliseconds);
        }
        catch (HttpRequestException e)
        {
            return new PostResult(null, [], Describe(e), watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UriFormatException or NotSupportedException)
        {
            return new PostResult(null, [], $"request failed: {e.GetType().Name}", watch.Elapsed.TotalMilliseconds);
        }
    }

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is SocketException { SocketErrorCode: SocketError.ConnectionRefused }) return "connection refused";
        return e.HttpRequestError switch
        {
            HttpRequestError.ConnectionError => "connection failed",
            HttpRequestError.NameResolutionError => "name resolution failed",
            HttpRequestError.ResponseEnded => "response ended early",
            HttpRequestError.InvalidResponse => "invalid HTTP response",
            _ => $"request failed: {e.HttpRequestError}",
        };
    }

    private static async Task<(byte[] Body, bool TooLarge)> ReadBoundedAsync(HttpContent content, CancellationToken cancel)
    {
        await using var stream = await content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancel).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > MaxResponseBytes) return ([], true);
            buffer.Write(chunk, 0, n);
        }
        return (buffer.ToArray(), false);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Delivers what is queued and writes the logs, waiting at most FlushTimeout in all; then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        var deadline = Stopwatch.StartNew();
        _queue.Writer.TryComplete();
        if (await Task.WhenAny(_delivery, Task.Delay(_options.FlushTimeout)).ConfigureAwait(false) != _delivery)
        {
            _shutdown.Cancel();
            await Task.WhenAny(_delivery, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        }
        var left = _options.FlushTimeout - deadline.Elapsed;
        await _log.CompleteAsync(left > TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
        await _log.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _shutdown.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Type} webhook to {Url} failed: {Error}")]
    private static partial void LogDeliveryFailed(ILogger logger, string type, string url, string error);
}

/// <summary>The auth webhook (docs/protocol-notes.md, "Auth webhook"): one awaited call per connect, fail closed.</summary>
public sealed class AuthWebhook
{
    private readonly WebhookClient _client;

    internal AuthWebhook(WebhookClient client) => _client = client;

    /// <summary>
    /// Calls the auth webhook for <paramref name="request"/> with header `sora-connection-id`. Without an auth URL every
    /// connect is allowed with no overrides (and nothing is counted). Throws only <see cref="OperationCanceledException"/>
    /// when <paramref name="cancel"/> fires; every other failure is <see cref="AuthOutcome.Failed"/>.
    /// </summary>
    public async Task<AuthOutcome> CallAsync(AuthWebhookRequest request, CancellationToken cancel)
    {
        var options = _client.Options;
        if (options.AuthWebhookUrl is not { } url) return new AuthOutcome.Allowed(AuthOverrides.None);
        var at = DateTimeOffset.UtcNow;
        var body = WebhookBodies.Auth(request, options);
        var result = await _client.PostAsync(url, body, [("sora-connection-id", request.ConnectionId)],
            options.AuthWebhookTimeout, cancel).ConfigureAwait(false);
        _client.AuthLatency.Add((long)(result.DurationMs * 1000));

        var outcome = result.Error is { } error ? new AuthOutcome.Failed(error) : AuthAnswerParser.Parse(result.Body);
        var counters = _client.CountersRef;
        switch (outcome)
        {
            case AuthOutcome.Allowed:
                WebhookCounters.Add(ref counters.AuthSuccessful);
                WebhookCounters.Add(ref counters.AuthAllowed);
                break;
            case AuthOutcome.Denied:
                WebhookCounters.Add(ref counters.AuthSuccessful);
                WebhookCounters.Add(ref counters.AuthDenied);
                break;
            default:
                WebhookCounters.Add(ref counters.AuthFailed);
                break;
        }
        var why = outcome is AuthOutcome.Failed f ? f.Why : null;
        var line = WebhookBodies.LogLine(at, "auth", url, body, result.Status, result.Body, result.DurationMs, why);
        var logged = options.SkipRedact ? line : WebhookBodies.LogLine(at, "auth", url, WebhookBodies.Redact(body, WebhookBodies.AuthSensitive).ToArray(),
            result.Status, WebhookBodies.Redact(result.Body, WebhookBodies.AuthSensitive), result.DurationMs, why);
        _client.Log.Append(WebhookLogFile.Auth, logged);
        if (why is not null) _client.Log.Append(WebhookLogFile.AuthError, line);
        return outcome;
    }
}
