using System.Runtime.InteropServices;
using Hibari.Config;
using Hibari.Node;
using Microsoft.Extensions.Logging;

// config → host → run; nothing else lives here.
var config = ConfigLoader.FromCommandLine(args);
if (config.Options is not { } options)
{
    Console.Error.WriteLine("hibari: " + config.Error);
    return 2;
}

var level = options.LogLevel switch
{
    "trace" => LogLevel.Trace,
    "debug" => LogLevel.Debug,
    "warning" => LogLevel.Warning,
    "error" => LogLevel.Error,
    _ => LogLevel.Information,
};
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; o.UseUtcTimestamp = true; })
    .SetMinimumLevel(level)
    .AddFilter("Microsoft", LogLevel.Warning)
    .AddFilter("DotNext", LogLevel.Warning));

// Warnings of the configuration (D-48: sora.conf keys Hibari ignores) go to the start-up log, as the node's own do.
var configLog = loggerFactory.CreateLogger("Hibari.Config");
foreach (var warning in config.Warnings)
    configLog.LogWarning("{Warning}", warning);

var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });

await using var node = new HibariNode(options, loggerFactory);
try
{
    await node.StartAsync(CancellationToken.None);
}
catch (Exception e) when (e is InvalidOperationException or IOException or System.Net.Sockets.SocketException)
{
    Console.Error.WriteLine("hibari: cannot start: " + e.Message);
    return 1;
}
await stop.Task;
return 0;
