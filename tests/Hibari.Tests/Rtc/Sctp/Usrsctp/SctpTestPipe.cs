using Hibari.Rtc.Sctp;
namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

/// <summary>
/// usrsctp is one global stack per process: every test that creates a <see cref="UsrsctpAssociation"/> belongs to this
/// collection, which xunit runs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UsrsctpCollection
{
    public const string Name = "usrsctp";
}

/// <summary>A simulated clock (µs) injected into one or more <see cref="SctpTestPipe"/>s; only the pipes move it.</summary>
public sealed class SimClock(long startMicros = 1_000_000)
{
    public long NowMicros { get; internal set; } = startMicros;
}

/// <summary>
/// A deterministic wire between two associations of any kind (usrsctp or managed). Every Output is put on the wire
/// with seeded loss, duplication, a one-way delay, jitter and occasional hold-backs (reordering); <see cref="Flush"/>
/// delivers what is due at the simulated clock (with no delay: everything, including what the deliveries produce), and
/// <see cref="Pump"/> moves the clock in <see cref="StepMicros"/> steps and ticks both sides. The clock is injected
/// (<see cref="SimClock"/>), so several pipes can share one (usrsctp's timers are global).
/// </summary>
public sealed class SctpTestPipe
{
    private readonly ISctpAssociation _a, _b;
    private readonly Lock _gate = new(); // another thread's usrsctp Tick may fire our timers (Output on that thread)
    private readonly PriorityQueue<(bool ToB, byte[] Packet), (long Due, long Seq)> _wire = new();
    private long _seq;
    private readonly SplitMix _randomAToB, _randomBToA;

    public SctpTestPipe(ISctpAssociation a, ISctpAssociation b, int seed = 1, double lossAToB = 0, double lossBToA = 0, SimClock? clock = null)
    {
        _a = a;
        _b = b;
        _randomAToB = new SplitMix((ulong)seed * 2 + 1);
        _randomBToA = new SplitMix((ulong)seed * 2 + 2);
        Clock = clock ?? new SimClock();
        LossAToB = lossAToB;
        LossBToA = lossBToA;
        RealTimeWhenIdle = a is UsrsctpAssociation || b is UsrsctpAssociation;
        a.Output = p => Put(true, p.ToArray());
        b.Output = p => Put(false, p.ToArray());
    }

    public SimClock Clock { get; }
    public long NowMicros => Clock.NowMicros;
    public double LossAToB { get; set; }
    public double LossBToA { get; set; }
    /// <summary>Share of packets delivered twice (both ways).</summary>
    public double Duplication { get; set; }
    /// <summary>One-way delay (µs); 0 = delivered within the same <see cref="Flush"/>.</summary>
    public long DelayMicros { get; set; }
    /// <summary>Extra random delay in [0, JitterMicros) per packet (reorders packets closer together than that).</summary>
    public long JitterMicros { get; set; }
    /// <summary>Share of packets held back by <see cref="ReorderDelayMicros"/>, so later ones overtake them.</summary>
    public double Reorder { get; set; }
    public long ReorderDelayMicros { get; set; } = 3_000;
    /// <summary>Clock step of <see cref="Pump"/>/<see cref="Run"/> (µs).</summary>
    public long StepMicros { get; set; } = 10_000;
    /// <summary>Return true to drop a packet (toB, bytes); applied before random loss.</summary>
    public Func<bool, byte[], bool>? Drop { get; set; }
    /// <summary>Optional tap on every packet put on the wire (before loss): (fromA, packet).</summary>
    public Action<bool, byte[]>? Tap { get; set; }

    /// <summary>Sees every packet the wire drops (after <see cref="Tap"/>).</summary>
    public Action<bool, byte[]>? Lost { get; set; }
    public int DeliveredAToB { get; private set; }
    public int DeliveredBToA { get; private set; }
    public int Dropped { get; private set; }
    public int Duplicated { get; private set; }
    public long BytesAToB { get; private set; }
    public long BytesBToA { get; private set; }

    private void Put(bool toB, byte[] packet)
    {
        lock (_gate)
        {
            Tap?.Invoke(toB, packet);
            var random = toB ? _randomAToB : _randomBToA;
            if (Drop?.Invoke(toB, packet) == true || random.NextDouble() < (toB ? LossAToB : LossBToA))
            {
                Dropped++;
                Lost?.Invoke(toB, packet);
                return;
            }
            var copies = Duplication > 0 && random.NextDouble() < Duplication ? 2 : 1;
            if (copies == 2) Duplicated++;
            for (var i = 0; i < copies; i++)
            {
                var due = Clock.NowMicros + DelayMicros + (JitterMicros > 0 ? (long)(random.NextDouble() * JitterMicros) : 0)
                          + (Reorder > 0 && random.NextDouble() < Reorder ? ReorderDelayMicros : 0);
                _wire.Enqueue((toB, packet), (due, _seq++));
            }
        }
    }

    private bool TryTakeDue(out (bool ToB, byte[] Packet) x)
    {
        lock (_gate)
        {
            if (_wire.TryPeek(out _, out var when) && when.Due <= Clock.NowMicros) { x = _wire.Dequeue(); return true; }
            x = default;
            return false;
        }
    }

    /// <summary>Packets on the wire, not yet delivered.</summary>
    public int InFlight { get { lock (_gate) return _wire.Count; } }

    /// <summary>Delivers everything due now, including what the deliveries produce when it is due now too.</summary>
    public bool Flush()
    {
        var any = false;
        while (TryTakeDue(out var x))
        {
            any = true;
            if (x.ToB)
            {
                DeliveredAToB++;
                BytesAToB += x.Packet.Length;
                _b.Receive(x.Packet);
            }
            else
            {
                DeliveredBToA++;
                BytesBToA += x.Packet.Length;
                _a.Receive(x.Packet);
            }
        }
        return any;
    }

    /// <summary>Moves the clock and ticks both sides.</summary>
    public void Advance(TimeSpan by)
    {
        Clock.NowMicros += (long)(by.TotalMilliseconds * 1000);
        _a.Tick(Clock.NowMicros);
        _b.Tick(Clock.NowMicros);
    }

    // usrsctp fires its timers from Tick (virtual time) but timestamps chunks with gettimeofday: a T3 timeout only
    // retransmits chunks outstanding for longer than its RTT estimate in REAL time (srtt + rttvar), and a timeout that
    // marks nothing still backs the RTO off. So while the wire is idle (nothing in flight: waiting for a retransmission
    // timer), real time is made to pass too: after IdleGraceMicros of idle simulated time, at least 1/IdleSlowdown (40) of the
    // idle simulated time. Only with a usrsctp side (managed ↔ managed runs never sleep).
    public bool RealTimeWhenIdle { get; set; }
    public long IdleGraceMicros { get; set; } = 20_000;
    public int IdleSlowdown { get; set; } = 40;
    private long _idleMicros;
    private readonly System.Diagnostics.Stopwatch _idleReal = new();

    private void IdleStep(bool wireWasIdle, long step)
    {
        if (!wireWasIdle) { _idleMicros = 0; _idleReal.Reset(); return; }
        if (_idleMicros == 0) _idleReal.Restart();
        _idleMicros += step;
        if (!RealTimeWhenIdle || _idleMicros <= IdleGraceMicros) return;
        var needMicros = (_idleMicros - IdleGraceMicros) / IdleSlowdown;
        while (_idleReal.Elapsed.TotalMicroseconds < needMicros)
        {
            if (needMicros - _idleReal.Elapsed.TotalMicroseconds > 1_500) Thread.Sleep(1);
            else Thread.SpinWait(200);
        }
    }

    /// <summary>Delivers and advances time in <see cref="StepMicros"/> steps until <paramref name="until"/> holds; fails after <paramref name="limit"/> of virtual time.</summary>
    public void Pump(Func<bool> until, string what, TimeSpan? limit = null)
    {
        if (!TryPump(until, limit ?? TimeSpan.FromSeconds(60)))
            Assert.Fail($"{what}: not reached within {(limit ?? TimeSpan.FromSeconds(60)).TotalSeconds} s of virtual time " +
                        $"(A→B {DeliveredAToB} delivered, B→A {DeliveredBToA}, {Dropped} dropped; states {_a.State}/{_b.State})");
    }

    /// <summary>Like <see cref="Pump"/>, but returns false instead of failing.</summary>
    public bool TryPump(Func<bool> until, TimeSpan limit)
    {
        var deadline = NowMicros + (long)(limit.TotalMilliseconds * 1000);
        _a.Tick(NowMicros);
        _b.Tick(NowMicros);
        while (true)
        {
            var busy = Flush();
            if (until()) return true;
            IdleStep(!busy && InFlight == 0, StepMicros);
            if (NowMicros >= deadline) return false;
            Advance(TimeSpan.FromMicroseconds(StepMicros));
        }
    }

    /// <summary>
    /// Pumps several pipes on ONE clock, as one process would (usrsctp's timers are global: a Tick moves every
    /// association's timers, so pipes with their own clocks would starve each other's retransmissions).
    /// </summary>
    public static void PumpAll(IReadOnlyList<SctpTestPipe> pipes, Func<bool> until, string what, TimeSpan? limit = null)
    {
        var now = pipes.Max(p => p.NowMicros);
        var deadline = now + (long)((limit ?? TimeSpan.FromSeconds(60)).TotalMilliseconds * 1000);
        var step = pipes[0].StepMicros;
        while (true)
        {
            var busy = false;
            foreach (var p in pipes) busy |= p.Flush();
            if (until()) return;
            pipes[0].IdleStep(!busy && pipes.All(p => p.InFlight == 0), step);
            if (now >= deadline) Assert.Fail($"{what}: not reached within {(limit ?? TimeSpan.FromSeconds(60)).TotalSeconds} s of virtual time");
            now += step;
            foreach (var p in pipes) p.Clock.NowMicros = now;
            foreach (var p in pipes)
            {
                p._a.Tick(now);
                p._b.Tick(now);
            }
        }
    }

    /// <summary>Runs the wire for a while (virtual time) without a goal.</summary>
    public void Run(TimeSpan duration)
    {
        var end = NowMicros + (long)(duration.TotalMilliseconds * 1000);
        while (NowMicros < end)
        {
            IdleStep(!Flush() && InFlight == 0, StepMicros);
            Advance(TimeSpan.FromMicroseconds(StepMicros));
        }
        Flush();
    }
}

/// <summary>
/// SplitMix64: a small seeded generator without the lag correlations of <c>new Random(seed)</c> (a subtractive
/// generator). The wire draws several numbers per packet in a fixed pattern, and with the old generator runs of lost
/// packets at 15 % loss looked far from independent. One stream per direction.
/// </summary>
internal sealed class SplitMix(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));
}
