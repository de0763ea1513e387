using System.Collections.Concurrent;

namespace Hibari.Signaling;

/// <summary>
/// One timer for the `ping` of every signaling connection of the node, instead of a timer per connection: the
/// connections due in the same <see cref="Grid"/> slot are pinged together, so an idle node with N connections wakes a
/// few times a second rather than N/interval times (issue 11, "a connection costs nothing while idle"; D-59;
/// docs/benchmarks.md, "The idle window again"). Each connection keeps its own interval, counted from its
/// registration; a ping goes at the tick nearest its due time, at most half a <see cref="Grid"/> early or late.
/// <para>
/// Threads (docs/threads.md): <see cref="Register"/> and <see cref="Registration.Dispose"/> are called from any thread;
/// the schedule itself is owned by the timer callback, which never runs twice at once (a tick that finds the previous
/// one still running is skipped). The callbacks it calls must be quick and must not block: a session's callback only
/// queues a message on that session's outbox.
/// </para>
/// </summary>
public sealed class PingScheduler : IDisposable
{
    /// <summary>How often the schedule is looked at.</summary>
    public static readonly TimeSpan Grid = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentQueue<Registration> _added = new();
    // Owned by the timer callback (guarded by _running).
    private readonly PriorityQueue<Registration, long> _due = new();
    private readonly TimeProvider _time;
    private ITimer? _timer;
    private int _started;
    private int _running;
    private volatile bool _disposed;
    private long _ticks;

    public PingScheduler(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Connections whose pings are scheduled (registered and not yet disposed, as the last tick saw them).</summary>
    public int Count { get; private set; }

    /// <summary>Ticks run so far (for tests: the timer is shared, not one per connection).</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    /// <summary>
    /// Calls <paramref name="due"/> every <paramref name="interval"/>, the first time one interval from now, until the
    /// returned registration is disposed. An exception from the callback is the caller's bug: it ends that registration.
    /// </summary>
    public Registration Register(TimeSpan interval, Action due)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, Grid);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var r = new Registration(interval, due) { Due = NowMs() + (long)interval.TotalMilliseconds };
        _added.Enqueue(r);
        if (Interlocked.Exchange(ref _started, 1) == 0)
            _timer = _time.CreateTimer(_ => Tick(), null, Grid, Grid);
        return r;
    }

    private long NowMs() => (long)_time.GetElapsedTime(0).TotalMilliseconds;

    private void Tick()
    {
        if (_disposed || Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        try
        {
            Interlocked.Increment(ref _ticks);
            while (_added.TryDequeue(out var r)) _due.Enqueue(r, r.Due);
            var now = NowMs();
            // Everything nearer to this tick than to the next goes now: at most half a Grid early or late.
            var horizon = now + (long)Grid.TotalMilliseconds / 2;
            while (_due.TryPeek(out var r, out var at) && at <= horizon)
            {
                _due.Dequeue();
                if (r.Disposed) continue;
                try
                {
                    r.Callback();
                }
                catch (Exception)
                {
                    r.Dispose();
                    continue;
                }
                // The next ping one interval after this one was due (no drift), but never in the past.
                r.Due = Math.Max(at + r.IntervalMs, now + 1);
                _due.Enqueue(r, r.Due);
            }
            Count = _due.Count;
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _timer?.Dispose();
    }

    /// <summary>One connection's place in the schedule; disposing it stops its pings (it leaves at its next due time).</summary>
    public sealed class Registration : IDisposable
    {
        internal Registration(TimeSpan interval, Action callback)
        {
            IntervalMs = (long)interval.TotalMilliseconds;
            Callback = callback;
        }

        internal long IntervalMs { get; }
        internal Action Callback { get; }
        internal long Due { get; set; }
        private volatile bool _disposed;
        internal bool Disposed => _disposed;

        public void Dispose() => _disposed = true;
    }
}
