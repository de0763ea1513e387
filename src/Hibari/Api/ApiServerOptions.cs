using System.Net;

namespace Hibari.Api;

/// <summary>Settings of a node's HTTP API listener (`listen_address`, `api_port`, `api_cors_origin`).</summary>
public sealed record ApiServerOptions
{
    /// <summary>The one address the listener binds (`listen_address`).</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>`api_port` (3000); 0 picks a free port, see <see cref="ApiServer.BoundPort"/>.</summary>
    public int Port { get; init; } = 3000;

    /// <summary>`api_cors_origin`: when set, every answer carries Sora's CORS headers for this origin.</summary>
    public string? CorsOrigin { get; init; }

    /// <summary>Largest accepted request body; larger ones are answered 413.</summary>
    public int MaxBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>Requests per second per client address on POST / (`api_max_requests_per_second`; 0: no limit); more are answered 429.</summary>
    public int MaxRequestsPerSecond { get; init; }

    /// <summary>Prometheus text served at `GET /metrics`; null answers 404 there.</summary>
    public Func<string>? MetricsText { get; init; }

    /// <summary>
    /// The cluster dashboard (`dashboard = true`, D-53): the page served at `GET /dashboard` and its data (JSON) at
    /// `GET /dashboard/data`; null answers 404 on both.
    /// </summary>
    public Func<CancellationToken, Task<byte[]>>? DashboardData { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    internal void Validate()
    {
        if (ListenAddress is null)
            throw new ArgumentException("ApiServerOptions.ListenAddress is required", nameof(ListenAddress));
        if (Port is < 0 or > 65535)
            throw new ArgumentException($"ApiServerOptions.Port = {Port}: must be 0..65535", nameof(Port));
        if (MaxRequestsPerSecond < 0)
            throw new ArgumentException($"ApiServerOptions.MaxRequestsPerSecond = {MaxRequestsPerSecond}: must be 0 (no limit) or positive", nameof(MaxRequestsPerSecond));
        if (MaxBodyBytes <= 0)
            throw new ArgumentException($"ApiServerOptions.MaxBodyBytes = {MaxBodyBytes}: must be positive", nameof(MaxBodyBytes));
        // The origin is echoed into a header: refuse anything that is not one visible-ASCII token.
        if (CorsOrigin is { } origin && (origin.Length == 0 || origin.Any(c => c is <= ' ' or > '~')))
            throw new ArgumentException($"ApiServerOptions.CorsOrigin = '{origin}': must be an origin such as https://example.com", nameof(CorsOrigin));
    }
}
