using System.Buffers.Binary;
using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;

namespace Hibari.Tests.Rtc.Sctp.Managed;

/// <summary>
/// Seeded fuzz: the chunk parser and a live association must survive garbage and mutated real packets without an
/// exception. Iterations: HIBARI_FUZZ_ITERATIONS (default 5,000; CI nightly runs ≥ 100,000).
/// </summary>
public sealed class SctpFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static List<(bool ToB, byte[] Packet)> RealPackets(out VirtualLink link)
    {
        var captured = new List<(bool, byte[])>();
        link = new VirtualLink(99) { Loss = 0.1 };
        link.Sniff = (toB, p) => { if (captured.Count < 2_000) captured.Add((toB, p)); };
        Assert.True(link.Connect());
        for (var i = 0; i < 60; i++) link.A.Send((ushort)(i % 3), 51, new byte[i * 97 % 3000 + 1], new SctpSendOptions(Unordered: i % 2 == 0, MaxRetransmits: i % 5 == 0 ? 0 : null));
        link.A.ResetStream(2);
        link.B.ResetStream(1);
        link.Run(TimeSpan.FromSeconds(3));
        return captured;
    }

    private static void Mutate(Random rng, byte[] p, int from = 0)
    {
        if (p.Length <= from) return;
        var flips = rng.Next(1, 6);
        for (var k = 0; k < flips; k++)
        {
            var at = rng.Next(from, p.Length);
            switch (rng.Next(4))
            {
                case 0: p[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: p[at] = (byte)rng.Next(256); break;
                case 2: if (at + 1 < p.Length) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at), (ushort)rng.Next(0, 70)); break; // lengths, counts
                default: p[at] = 0xFF; break;
            }
        }
    }

    [Fact, Trait("Category", "Fuzz")]
    public void Chunk_parser_returns_errors_for_garbage_and_mutations_and_never_throws()
    {
        var real = RealPackets(out _);
        var rng = new Random(20261202);
        var parsed = 0;
        for (var i = 0; i < Iterations; i++)
        {
            byte[] input;
            if (i % 3 == 0) { input = new byte[rng.Next(0, 200)]; rng.NextBytes(input); }
            else { input = (byte[])real[rng.Next(real.Count)].Packet.Clone(); Mutate(rng, input); }
            var chunks = input.AsSpan(Math.Min(input.Length, i % 2 == 0 ? SctpPacket.HeaderLength : 0));
            var reader = new SctpChunkReader(chunks);
            while (reader.TryRead(out var raw))
            {
                if (SctpChunk.TryParse(raw, out var chunk, out var error)) { parsed++; _ = chunk!.ToArray(); }
                else Assert.NotNull(error);
            }
            _ = SctpPacket.TryReadHeader(input, out _, out _);
        }
        Assert.True(parsed > 0);
    }

    [Fact, Trait("Category", "Fuzz")]
    public void Live_association_survives_mutated_packets_with_valid_checksums()
    {
        var real = RealPackets(out var link);
        var rng = new Random(7);
        var now = link.Now;
        var (a, b) = (link.A, link.B);
        var count = Iterations;
        var restarts = 0;
        for (var i = 0; i < count; i++)
        {
            if (a.State == SctpState.Closed || b.State == SctpState.Closed)
            {
                // A mutated ABORT or SHUTDOWN-COMPLETE ended it: start the same (seeded) association again.
                restarts++;
                RealPackets(out link);
                (a, b, now) = (link.A, link.B, link.Now);
            }
            var (toB, original) = real[rng.Next(real.Count)];
            var p = (byte[])original.Clone();
            // Mostly keep the common header (ports, verification tag) so the packet reaches the chunk handlers.
            Mutate(rng, p, rng.Next(4) == 0 ? 0 : SctpPacket.HeaderLength);
            SctpPacket.SealChecksum(p);
            (toB ? b : a).Receive(p);
            if (i % 50 == 0) { now += 10_000; a.Tick(now); b.Tick(now); }
            if (i % 500 == 0 && a.State == SctpState.Established) a.Send(1, 51, new byte[rng.Next(1, 5000)], default);
        }
        Assert.True(restarts < count / 20, $"{restarts} restarts: the fuzzer mostly hit dead associations");
        // Random garbage too.
        for (var i = 0; i < count / 4; i++)
        {
            var g = new byte[rng.Next(0, 300)];
            rng.NextBytes(g);
            if (g.Length >= 16 && i % 2 == 0) SctpPacket.SealChecksum(g);
            a.Receive(g);
        }
    }
}
