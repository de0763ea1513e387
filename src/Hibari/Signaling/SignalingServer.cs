using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using Hibari.Cluster;
using Hibari.Config;
using Hibari.Sfu;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hibari.Signaling;

/// <summary>
/// The signaling WebSocket endpoint (`ws://HOST:signaling_port/signaling`). It enforces what the control plane
/// decides: a node that cannot serve closes every new WebSocket with a 4xxx code and a reason (C-CONF-1, C-MAJ-2),
/// and drops every open one when the QuorumGuard turns it unavailable.
/// </summary>
public sealed class SignalingServer : IAsyncDisposable
{
    private readonly IPAddress _address;
    private readonly int _port;
    private readonly QuorumGuard _guard;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<WebSocket, SignalingSession> _open = new();
    private readonly SfuEngine _sfu;
    private readonly HibariOptions _options;
    private readonly IConnectAuthorizer _authorizer;
    private readonly IConnectPlacement _placement;
    /// <summary>One timer for every session's ping (issue 11: nothing per connection that polls).</summary>
    private readonly PingScheduler _pings = new();
    private WebApplication? _app;

    internal SignalingServer(HibariOptions options, QuorumGuard guard, SfuEngine sfu, IConnectAuthorizer authorizer, ILoggerFactory loggerFactory,
        IConnectPlacement? placement = null)
    {
        _placement = placement ?? ServeHere.Instance;
        _address = options.ListenAddress;
        _port = options.SignalingPort;
        _guard = guard;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger("Hibari.Signaling");
        _options = options;
        _sfu = sfu;
        _authorizer = authorizer;
        _guard.Changed += OnGuardChanged;
        Admission = new SignalingAdmission(options.SignalingMaxPending, options.SignalingMaxPendingPerAddress);
    }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public int OpenSockets => _open.Count;
    /// <summary>Connections being set up, and the WebSockets refused for too many of them (D-44).</summary>
    public SignalingAdmission Admission { get; }
    /// <summary>Closes this node sent on signaling WebSockets, by code.</summary>
    public SignalingCloseCounters Closes { get; } = new();
    /// <summary>Time from a `connect` received to its `offer` sent (auth webhook, placement, session and offer included).</summary>
    public Metrics.LatencyHistogram ConnectToOffer { get; } = new();

    public static SignalingClose? CloseFor(Unavailability u) => u switch
    {
        Unavailability.NotInitialized => SignalingCloses.ClusterNotInitialized,
        Unavailability.MajorityLost => SignalingCloses.ClusterMajorityLost,
        _ => null,
    };

    public async Task StartAsync(CancellationToken ct)
    {
        // The empty builder reads no environment, command line or appsettings (and so watches no file: one thread less,
        // docs/threads.md): nothing but these options decides where the listener binds.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggerFactory);
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, Api.EmbeddedHostLifetime>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(_address, _port);
        });
        var app = builder.Build();
        // No WebSocket-level keep-alive: the signaling `ping` (every signaling_ping_interval_ms, answered by `pong`)
        // already carries traffic both ways, and a keep-alive frame per connection every few seconds is a timer per
        // connection (issue 11: an idle connection costs nothing; D-59).
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Map("/signaling", HandleAsync);
        DemoPage.Map(app, _options.DemoDir, _log);
        await app.StartAsync(ct).ConfigureAwait(false);
        _app = app;
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsync("WebSocket expected\n").ConfigureAwait(false);
            return;
        }
        using var ws = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        if (CloseFor(_guard.State) is { } refuse)
        {
            await CloseAsync(ws, refuse).ConfigureAwait(false);
            return;
        }
        if (Admission.TryEnter(context.Connection.RemoteIpAddress ?? IPAddress.None) is not { } slot)
        {
            _log.LogDebug("Signaling from {Address} refused: {Pending} connections being set up", context.Connection.RemoteIpAddress, Admission.Pending);
            await CloseAsync(ws, SignalingCloses.TooManyPendingConnections).ConfigureAwait(false);
            return;
        }
        var session = new SignalingSession(ws, _sfu, _options, _authorizer, _log)
        {
            ConnectTimeout = ConnectTimeout, Placement = _placement, OnEstablished = slot.Release, CloseCounters = Closes, ConnectToOffer = ConnectToOffer,
            Pings = _pings,
        };
        _open[ws] = session;
        try
        {
            await session.RunAsync(context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            slot.Release();
            _open.TryRemove(ws, out _);
        }
    }

    private void OnGuardChanged(Unavailability state)
    {
        if (CloseFor(state) is not { } close) return;
        if (_open.IsEmpty) _log.LogInformation("Node unavailable ({State}): refusing signaling", state);
        else _log.LogWarning("Node unavailable ({State}): closing {Count} signaling connections", state, _open.Count);
        // Each session's own writer sends the close (a WebSocket allows one sender at a time), then the SFU drops them.
        foreach (var session in _open.Values) session.Terminate(close);
        _sfu.DisconnectAll(close.Reason);
    }

    private async Task CloseAsync(WebSocket ws, SignalingClose close)
    {
        Closes.Count(close);
        if (ws.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await ws.CloseOutputAsync((WebSocketCloseStatus)close.Code, close.Reason, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _guard.Changed -= OnGuardChanged;
        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
        _pings.Dispose();
    }
}
