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

/// <summary>
/// A deterministic wire between two associations: each Output is queued and delivered to the other's Receive by
/// <see cref="Pump"/>, optionally dropped with a seeded probability; when the wire is quiet the virtual clock moves
/// 10 ms and both are ticked. Works for any <see cref="ISctpAssociation"/> (usrsctp or managed).
/// </summary>
public sealed class SctpTestPipe
{
    private readonly ISctpAssociation _a, _b;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(bool ToB, byte[] Packet)> _wire = new(); // another thread's Tick may fire our timers
    private readonly Random _random;

    public SctpTestPipe(ISctpAssociation a, ISctpAssociation b, int seed = 1, double lossAToB = 0, double lossBToA = 0)
    {
        _a = a;
        _b = b;
        _random = new Random(seed);
        LossAToB = lossAToB;
        LossBToA = lossBToA;
        a.Output = p => _wire.Enqueue((true, p.ToArray()));
        b.Output = p => _wire.Enqueue((false, p.ToArray()));
    }

    public double LossAToB { get; set; }
    public double LossBToA { get; set; }
    public long NowMicros { get; private set; } = 1_000_000;
    public int DeliveredAToB { get; private set; }
    public int DeliveredBToA { get; private set; }
    public int Dropped { get; private set; }
    public long BytesAToB { get; private set; }

    /// <summary>Optional tap on every packet put on the wire (before loss): (fromA, packet).</summary>
    public Action<bool, byte[]>? Tap { get; set; }

    /// <summary>Delivers everything on the wire, including what the deliveries produce.</summary>
    public bool Flush()
    {
        var any = false;
        while (_wire.TryDequeue(out var x))
        {
            any = true;
            Tap?.Invoke(x.ToB, x.Packet);
            if (_random.NextDouble() < (x.ToB ? LossAToB : LossBToA))
            {
                Dropped++;
                continue;
            }
            if (x.ToB)
            {
                DeliveredAToB++;
                BytesAToB += x.Packet.Length;
                _b.Receive(x.Packet);
            }
            else
            {
                DeliveredBToA++;
                _a.Receive(x.Packet);
            }
        }
        return any;
    }

    /// <summary>Moves the virtual clock and ticks both sides.</summary>
    public void Advance(TimeSpan by)
    {
        NowMicros += (long)(by.TotalMilliseconds * 1000);
        _a.Tick(NowMicros);
        _b.Tick(NowMicros);
    }

    // usrsctp fires its timers from Tick (virtual time) but timestamps chunks with gettimeofday: a T3 timeout only
    // retransmits chunks outstanding for longer than the RTO estimated in REAL time. When the wire has been idle for
    // a while (waiting for a retransmission), let some real time pass too, so a large real RTT sample (GC, JIT, a
    // loaded CI machine) cannot stall the virtual clock.
    private int _idleSteps;

    private void IdleStep(bool wireWasIdle)
    {
        _idleSteps = wireWasIdle ? _idleSteps + 1 : 0;
        if (_idleSteps > 20) Thread.Sleep(1);
    }

    /// <summary>Delivers and advances time in 10 ms steps until <paramref name="until"/> holds; fails after <paramref name="limit"/> of virtual time.</summary>
    public void Pump(Func<bool> until, string what, TimeSpan? limit = null)
    {
        var deadline = NowMicros + (long)((limit ?? TimeSpan.FromSeconds(60)).TotalMilliseconds * 1000);
        _a.Tick(NowMicros);
        _b.Tick(NowMicros);
        while (true)
        {
            var busy = Flush();
            if (until()) return;
            IdleStep(!busy);
            if (NowMicros >= deadline)
                Assert.Fail($"{what}: not reached within {(limit ?? TimeSpan.FromSeconds(60)).TotalSeconds} s of virtual time " +
                            $"(A→B {DeliveredAToB} delivered, B→A {DeliveredBToA}, {Dropped} dropped; states {_a.State}/{_b.State})");
            Advance(TimeSpan.FromMilliseconds(10));
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
        while (true)
        {
            var busy = false;
            foreach (var p in pipes) busy |= p.Flush();
            if (until()) return;
            pipes[0].IdleStep(!busy);
            if (now >= deadline) Assert.Fail($"{what}: not reached within {(limit ?? TimeSpan.FromSeconds(60)).TotalSeconds} s of virtual time");
            now += 10_000;
            foreach (var p in pipes)
            {
                p.NowMicros = now;
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
            IdleStep(!Flush());
            Advance(TimeSpan.FromMilliseconds(10));
        }
        Flush();
    }
}
