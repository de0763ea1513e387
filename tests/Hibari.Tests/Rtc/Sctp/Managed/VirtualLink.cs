using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;

namespace Hibari.Tests.Rtc.Sctp.Managed;

/// <summary>
/// A deterministic in-process network between two associations: seeded loss, delay, jitter (reordering) and
/// duplication, and a simulated clock that only moves in <see cref="StepMicros"/> steps. No real time, no sleeps.
/// </summary>
internal sealed class VirtualLink
{
    private readonly Random _rng;
    private readonly PriorityQueue<(bool ToB, byte[] Packet), (long Time, long Seq)> _wire = new();
    private long _seq;

    public VirtualLink(int seed, SctpOptions? a = null, SctpOptions? b = null)
    {
        _rng = new Random(seed);
        A = new SctpAssociation((a ?? new SctpOptions()) with { Random = new Random(seed * 7 + 1) });
        B = new SctpAssociation((b ?? new SctpOptions()) with { Random = new Random(seed * 7 + 2) });
        A.Output = p => Put(true, p);
        B.Output = p => Put(false, p);
    }

    public SctpAssociation A { get; }
    public SctpAssociation B { get; }
    public long Now { get; private set; }
    public long StepMicros { get; set; } = 1_000;
    public double Loss { get; set; }
    public double Duplication { get; set; }
    /// <summary>One-way delay: 5 ms, i.e. a 10 ms round trip.</summary>
    public long DelayMicros { get; set; } = 5_000;
    /// <summary>Extra random delay in [0, Jitter) for every packet: heavy reordering.</summary>
    public long JitterMicros { get; set; }
    /// <summary>Share of packets held back by <see cref="ReorderDelayMicros"/>, so later ones overtake them.</summary>
    public double Reorder { get; set; }
    public long ReorderDelayMicros { get; set; } = 3_000;
    /// <summary>Return true to drop a packet (toB, bytes); applied before random loss.</summary>
    public Func<bool, byte[], bool>? Drop { get; set; }
    /// <summary>Sees every packet put on the wire (before loss).</summary>
    public Action<bool, byte[]>? Sniff { get; set; }
    public long PacketsAtoB { get; private set; }
    public long PacketsBtoA { get; private set; }

    private void Put(bool toB, ReadOnlyMemory<byte> packet)
    {
        var bytes = packet.ToArray();
        if (toB) PacketsAtoB++; else PacketsBtoA++;
        Sniff?.Invoke(toB, bytes);
        if (Drop?.Invoke(toB, bytes) == true) return;
        if (Loss > 0 && _rng.NextDouble() < Loss) return;
        var copies = Duplication > 0 && _rng.NextDouble() < Duplication ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var at = Now + DelayMicros + (JitterMicros > 0 ? _rng.NextInt64(JitterMicros) : 0)
                     + (Reorder > 0 && _rng.NextDouble() < Reorder ? ReorderDelayMicros : 0);
            _wire.Enqueue((toB, bytes), (at, _seq++));
        }
    }

    public void Step()
    {
        Now += StepMicros;
        while (_wire.TryPeek(out _, out var when) && when.Time <= Now)
        {
            var (toB, packet) = _wire.Dequeue();
            (toB ? B : A).Receive(packet);
        }
        A.Tick(Now);
        B.Tick(Now);
    }

    /// <summary>Steps until the condition holds; false when the simulated time budget runs out first.</summary>
    public bool RunUntil(Func<bool> done, TimeSpan budget)
    {
        var end = Now + (long)budget.TotalMicroseconds;
        while (!done())
        {
            if (Now >= end) return false;
            Step();
        }
        return true;
    }

    public void Run(TimeSpan span) => RunUntil(() => false, span);

    public bool Connect(bool bothSendInit = false)
    {
        A.Start(true);
        B.Start(bothSendInit);
        return RunUntil(() => A.State == SctpState.Established && B.State == SctpState.Established, TimeSpan.FromSeconds(30));
    }

    /// <summary>Parses the chunks of a packet on the wire (test helper).</summary>
    public static List<SctpChunk> Chunks(byte[] packet)
    {
        var list = new List<SctpChunk>();
        if (!SctpPacket.TryReadHeader(packet, out _, out _)) return list;
        var reader = new SctpChunkReader(packet.AsSpan(SctpPacket.HeaderLength));
        while (reader.TryRead(out var raw))
            if (SctpChunk.TryParse(raw, out var c, out _) && c is not null) list.Add(c);
        return list;
    }
}
