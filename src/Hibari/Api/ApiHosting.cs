using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hibari.Api;

/// <summary>Hands the embedded web host's log output to the node's own logger factory (not owned, not disposed).</summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

    public void Dispose() { }
}

/// <summary>Host lifetime that leaves Ctrl+C and SIGTERM to the process: the API listener is started and stopped by its owner.</summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
