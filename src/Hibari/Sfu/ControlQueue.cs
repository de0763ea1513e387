using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// The SFU's control context (docs/threads.md): one logical thread — a single reader of a queue of work items, run on
/// the thread pool one at a time — where facts from the media workers (a transport connected, ICE consent expired,
/// DTLS or the data channels closed) become topology changes, notifies and webhook events. Workers only post here;
/// they never wait for it.
/// </summary>
internal sealed class ControlQueue : IDisposable
{
    [ThreadStatic] private static ControlQueue? t_running;

    private readonly Channel<Action> _items = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _log;
    private readonly Task _loop;

    public ControlQueue(ILogger log)
    {
        _log = log;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>True while this queue runs an item on the calling thread.</summary>
    public bool IsCurrent => t_running == this;

    [Conditional("DEBUG")]
    public void AssertCurrent() => OwnerChecks.Check(IsCurrent, "SFU control state touched outside the control context");

    /// <summary>Queues <paramref name="item"/>; any thread, never blocks. Dropped after <see cref="Dispose"/>.</summary>
    public void Post(Action item) => _items.Writer.TryWrite(item);

    /// <summary>Completes once everything posted before this call has run (tests wait for posted work with it).</summary>
    public Task DrainedAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_items.Writer.TryWrite(() => done.TrySetResult())) done.TrySetResult();
        return done.Task;
    }

    private async Task RunAsync()
    {
        await foreach (var item in _items.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            t_running = this;
            try
            {
                item();
            }
            catch (Exception e)
            {
                _log.LogError(e, "SFU control: a work item failed (continuing)");
            }
            finally
            {
                t_running = null;
            }
        }
    }

    /// <summary>Stops taking items; what is queued still runs (briefly waited for).</summary>
    public void Dispose()
    {
        _items.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(2));
    }
}
