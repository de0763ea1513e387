using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Hibari.Tests.Webhooks;

/// <summary>A real Kestrel app server on 127.0.0.1:0 that records every POST and answers with <see cref="Handler"/>.</summary>
internal sealed class WebhookTestServer : IAsyncDisposable
{
    public sealed record Received(string Path, Dictionary<string, string> Headers, JsonElement Body, DateTimeOffset At);

    private readonly WebApplication _app;
    public ConcurrentQueue<Received> Requests { get; } = new();
    public Func<HttpContext, Task> Handler { get; set; } = ctx => Answer(ctx, 200, """{"allowed":true}""");
    /// <summary>When set, answers instead of <see cref="Handler"/> and sees the request's JSON body.</summary>
    public Func<HttpContext, JsonElement, Task>? BodyHandler { get; set; }
    public string Url { get; }

    private WebhookTestServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<WebhookTestServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        WebhookTestServer? self = null;
        app.MapPost("/{**path}", async (HttpContext ctx) =>
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            var headers = ctx.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var body = doc.RootElement.Clone();
            self!.Requests.Enqueue(new Received(ctx.Request.Path, headers, body, DateTimeOffset.UtcNow));
            if (self.BodyHandler is { } withBody) await withBody(ctx, body);
            else await self.Handler(ctx);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new WebhookTestServer(app, address.TrimEnd('/'));
        return self;
    }

    public static async Task Answer(HttpContext ctx, int status, string body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body);
    }

    /// <summary>A URL on which nothing listens (a port just released).</summary>
    public static string RefusingUrl()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return $"http://127.0.0.1:{port}/auth";
    }

    /// <summary>Polls <paramref name="condition"/> until true or the (generous) deadline.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(10);
        }
        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2)); // stalled handlers are abandoned
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
    }
}
