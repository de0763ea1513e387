using System.Collections.Concurrent;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The periodic `connection.updated` event webhook (docs/decisions.md D-52, amendment): Sora sends it every
/// `connection_updated_webhook_interval` (1 min by default) while a connection lives. Here each connection of this node
/// is reported at connected + k × interval (k = 1, 2, …), once per interval even when a tick came late.
/// </summary>
/// <remarks>
/// Threads (docs/threads.md): the SFU's ConnectionCreated / ConnectionDestroyed handlers and this class's own timer
/// loop on the pool. They share only <see cref="_live"/> (a concurrent map) and, per connection, the entry's lock: the
/// timer queues under it after checking the entry has not ended, and the destroyed handler marks the end and queues
/// `connection.destroyed` under it, so an updated webhook is never queued after the destroyed one. The created webhook
/// is queued before the entry exists, so none comes before it. Topology is read through <see cref="SfuEngine"/>'s
/// public calls (its gate), as an API call would, and never under an entry's lock (a caller of Leave may hold the
/// gate while it waits for that lock).
/// </remarks>
internal sealed class ConnectionUpdatedWebhooks : IAsyncDisposable
{
    private sealed class Live(ConnectionInfo info, DateTimeOffset since)
    {
        public ConnectionInfo Info { get; } = info;
        public DateTimeOffset Since { get; } = since;
        /// <summary>How many intervals have been reported (under the entry's lock).</summary>
        public long Reported;
        /// <summary>Set under the entry's lock when the connection's destroyed webhook is queued.</summary>
        public bool Ended;
    }

    private readonly ConcurrentDictionary<string, Live> _live = new(StringComparer.Ordinal);
    private readonly SfuEngine _sfu;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly Func<ConnectionInfo, Action> _prepare;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <param name="prepare">
    /// Builds one `connection.updated` about the connection (it may read the SFU) and returns what queues it; that
    /// runs under the entry's lock and must not block.
    /// </param>
    public ConnectionUpdatedWebhooks(SfuEngine sfu, TimeSpan interval, Func<ConnectionInfo, Action> prepare, ILogger log, TimeProvider? time = null)
    {
        _sfu = sfu;
        _interval = interval;
        _prepare = prepare;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How often the timer looks for due connections: a tenth of the interval, between 10 ms and 1 s.</summary>
    internal TimeSpan Tick => TimeSpan.FromMilliseconds(Math.Clamp(_interval.TotalMilliseconds / 10, 10, 1000));

    /// <summary>Connections being reported now.</summary>
    internal int Count => _live.Count;

    public void Start() => _loop = Task.Run(LoopAsync);

    /// <summary>The connection became connected and its `connection.created` is queued: report it from now on.</summary>
    public void Created(ConnectionInfo c) => _live[c.ConnectionId] = new Live(c, _time.GetUtcNow());

    /// <summary>
    /// The connection ended: no more reports, and <paramref name="queueDestroyed"/> (queuing its already built
    /// `connection.destroyed`; it must not block) runs under the entry's lock, after any report the timer is queuing.
    /// </summary>
    public void Destroyed(string connectionId, Action queueDestroyed)
    {
        if (!_live.TryRemove(connectionId, out var entry))
        {
            queueDestroyed();
            return;
        }
        lock (entry)
        {
            entry.Ended = true;
            queueDestroyed();
        }
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(Tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                try { ReportDue(); }
                catch (Exception e) { _log.LogError(e, "connection.updated webhooks: a tick failed (continuing)"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Queues `connection.updated` for every connection whose next interval has passed.</summary>
    internal void ReportDue()
    {
        var now = _time.GetUtcNow();
        HashSet<string>? connected = null;
        foreach (var (id, entry) in _live)
        {
            var due = (long)((now - entry.Since).Ticks / _interval.Ticks);
            if (due <= Volatile.Read(ref entry.Reported)) continue;
            // One listing per tick, and only when something is due: an entry whose connection is gone without its
            // destroyed event having reached us (it raced the created one) is dropped here.
            connected ??= _sfu.ListConnections().Select(c => c.ConnectionId).ToHashSet(StringComparer.Ordinal);
            if (!connected.Contains(id))
            {
                _live.TryRemove(new KeyValuePair<string, Live>(id, entry));
                continue;
            }
            var queue = _prepare(entry.Info);
            lock (entry)
            {
                if (entry.Ended) continue;
                entry.Reported = due;
                queue();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
