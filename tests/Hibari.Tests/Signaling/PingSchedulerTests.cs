using Hibari.Signaling;
using Xunit;

namespace Hibari.Tests.Signaling;

/// <summary>The node's one ping timer (issue 11): every session keeps its interval, nothing runs per session.</summary>
public sealed class PingSchedulerTests
{
    /// <summary>A clock in milliseconds that moves only when told; the timer's callback runs on the caller's thread.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _now = 1_000_000;
        private readonly List<ManualTimer> _timers = [];
        public override long TimestampFrequency => 1000;
        public override long GetTimestamp() => _now;
        public int TimersCreated => _timers.Count;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var t = new ManualTimer(callback, state, _now + (long)dueTime.TotalMilliseconds, (long)period.TotalMilliseconds);
            _timers.Add(t);
            return t;
        }

        public void Advance(long ms)
        {
            for (var i = 0; i < ms; i++)
            {
                _now++;
                foreach (var t in _timers.ToArray()) t.At(_now);
            }
        }

        private sealed class ManualTimer(TimerCallback callback, object? state, long next, long period) : ITimer
        {
            private bool _disposed;
            public void At(long now)
            {
                if (_disposed || now < next) return;
                next = now + period;
                callback(state);
            }
            public bool Change(TimeSpan dueTime, TimeSpan period) => throw new NotSupportedException();
            public void Dispose() => _disposed = true;
            public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
        }
    }

    [Fact]
    public void Every_registration_keeps_its_own_interval_within_half_a_grid_on_one_timer()
    {
        var time = new ManualTime();
        using var pings = new PingScheduler(time);
        var calls = new List<long>[100];
        var starts = new long[100];
        for (var i = 0; i < calls.Length; i++)
        {
            var mine = calls[i] = [];
            starts[i] = time.GetTimestamp();
            pings.Register(TimeSpan.FromMilliseconds(5000), () => mine.Add(time.GetTimestamp()));
            time.Advance(37); // registrations spread over 3.7 s, as connections arrive
        }
        time.Advance(30_000);
        Assert.Equal(1, time.TimersCreated);
        var half = (long)PingScheduler.Grid.TotalMilliseconds / 2;
        for (var i = 0; i < calls.Length; i++)
        {
            var expected = (time.GetTimestamp() - starts[i] + half) / 5000;
            Assert.InRange(calls[i].Count, expected - 1, expected);
            for (var n = 0; n < calls[i].Count; n++)
                Assert.InRange(calls[i][n] - (starts[i] + (n + 1) * 5000L), -half, half);
        }
        // 100 sessions at 5 s: the timer ran about four times a second, not 20 times (one wake per ping).
        Assert.InRange(pings.Ticks, 30_000 / 250 + 3_700 / 250 - 2, 30_000 / 250 + 3_700 / 250 + 2);
        Assert.Equal(100, pings.Count);
    }

    [Fact]
    public void A_disposed_registration_is_not_called_again_and_leaves_the_schedule()
    {
        var time = new ManualTime();
        using var pings = new PingScheduler(time);
        int a = 0, b = 0;
        var ra = pings.Register(TimeSpan.FromMilliseconds(1000), () => a++);
        pings.Register(TimeSpan.FromMilliseconds(1000), () => b++);
        time.Advance(2100);
        Assert.Equal(2, a);
        ra.Dispose();
        time.Advance(5000);
        Assert.Equal(2, a);
        Assert.Equal(7, b);
        Assert.Equal(1, pings.Count);
    }

    [Fact]
    public void A_throwing_callback_ends_its_registration_only()
    {
        var time = new ManualTime();
        using var pings = new PingScheduler(time);
        int bad = 0, good = 0;
        pings.Register(TimeSpan.FromMilliseconds(500), () => { bad++; throw new InvalidOperationException("bug"); });
        pings.Register(TimeSpan.FromMilliseconds(500), () => good++);
        time.Advance(3000);
        Assert.Equal(1, bad);
        Assert.Equal(6, good);
    }

    [Fact]
    public void An_interval_under_the_grid_is_refused_and_a_disposed_scheduler_refuses_registrations()
    {
        var pings = new PingScheduler(new ManualTime());
        Assert.Throws<ArgumentOutOfRangeException>(() => pings.Register(TimeSpan.FromMilliseconds(100), () => { }));
        pings.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pings.Register(TimeSpan.FromSeconds(1), () => { }));
    }
}
