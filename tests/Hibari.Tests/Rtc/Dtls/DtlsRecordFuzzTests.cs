using System.Buffers.Binary;
using Hibari.Rtc.Dtls;
using Org.BouncyCastle.Tls;

namespace Hibari.Tests.Rtc.Dtls;

/// <summary>
/// Seeded fuzz of the managed DTLS record layer: random datagrams, and genuine records (single and several per
/// datagram) mutated, truncated and spliced, never throw, and nothing but an unmodified genuine record is ever taken as
/// authenticated. Iterations: HIBARI_FUZZ_ITERATIONS (default 5,000; scripts/fuzz.sh runs 100,000).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DtlsRecordFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static byte[] RandomDatagram(Random rng)
    {
        var b = new byte[rng.Next(0, 1600)];
        rng.NextBytes(b);
        if (b.Length >= 13 && rng.Next(2) == 0)
        {
            // Plausible headers: a DTLS type and version, epoch 0–2, and a length that sometimes fits.
            b[0] = (byte)rng.Next(19, 27);
            b[1] = 0xFE;
            b[2] = rng.Next(2) == 0 ? (byte)0xFD : (byte)0xFF;
            b[3] = 0;
            b[4] = (byte)rng.Next(3);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(11), (ushort)(rng.Next(2) == 0 ? b.Length - 13 : rng.Next(0, 2000)));
        }
        return b;
    }

    private static void Mutate(Random rng, byte[] p)
    {
        var flips = rng.Next(1, 5);
        for (var k = 0; k < flips; k++)
        {
            var at = rng.Next(p.Length);
            switch (rng.Next(3))
            {
                case 0: p[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: p[at] ^= (byte)rng.Next(1, 256); break;
                default:
                    if (at + 1 < p.Length) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at), (ushort)rng.Next(0, 1400));
                    break;
            }
        }
    }

    [Theory]
    [MemberData(nameof(ManagedRecordLayerTests.Suites), MemberType = typeof(ManagedRecordLayerTests))]
    public void The_record_parser_never_throws_and_authenticates_only_genuine_unmodified_records(int suite)
    {
        var (client, server) = ManagedRecordLayerTests.Layers(suite, seed: suite);
        var rng = new Random(suite);
        var iterations = Iterations;
        long authenticated = 0, genuine = 0;
        for (var i = 0; i < iterations; i++)
        {
            byte[] datagram;
            var expected = 0; // records in the datagram that are genuine, unmodified and fresh
            switch (rng.Next(5))
            {
                case 0:
                    datagram = RandomDatagram(rng);
                    break;
                case 1: // a genuine record, mutated (the mutation always changes at least one byte)
                    datagram = ManagedRecordLayerTests.Seal(client, new byte[rng.Next(0, 300)]);
                    var original = (byte[])datagram.Clone();
                    Mutate(rng, datagram);
                    if (datagram.AsSpan().SequenceEqual(original)) expected = 1; // a 16-bit write of the same value
                    break;
                case 2: // genuine records, several per datagram, one of them truncated at the end
                {
                    var records = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => ManagedRecordLayerTests.Seal(client, new byte[rng.Next(0, 200)])).ToList();
                    var cut = rng.Next(1, records[^1].Length);
                    datagram = [.. records.Take(records.Count - 1).SelectMany(r => r), .. records[^1][..cut]];
                    expected = records.Count - 1;
                    break;
                }
                case 3: // genuine, whole and in order
                    datagram = ManagedRecordLayerTests.Seal(client, new byte[rng.Next(0, 1000)]);
                    expected = 1;
                    break;
                default: // genuine followed by random bytes
                    datagram = [.. ManagedRecordLayerTests.Seal(client, new byte[rng.Next(0, 200)]), .. RandomDatagram(rng)];
                    expected = 1;
                    break;
            }
            var offset = 0;
            var seen = 0;
            var guard = 0;
            RecordKind kind;
            while ((kind = server.Next(datagram, ref offset, out var length)) != RecordKind.End)
            {
                Assert.True(++guard <= datagram.Length + 1, "the parser moves forward");
                Assert.InRange(length, 0, server.Plaintext.Length);
                if (kind is RecordKind.ApplicationData or RecordKind.Alert or RecordKind.Handshake) seen++;
            }
            Assert.True(seen == expected, $"iteration {i}: {seen} records authenticated, {expected} genuine");
            authenticated += seen;
            genuine += expected;
        }
        Assert.True(authenticated > iterations / 5, $"only {authenticated} of {genuine} genuine records got through");
    }

    [Fact]
    public async Task A_connected_endpoint_survives_random_and_mutated_datagrams_and_still_takes_the_next_record()
    {
        using var pair = new DtlsPair();
        var received = 0;
        pair.Server.ApplicationData = _ => received++;
        await pair.HandshakeAsync();
        for (var i = 0; i < 5; i++) pair.Client.SendApplicationData(new byte[100 * i]);
        var genuine = pair.ToServer.Captured.ToArray();
        var rng = new Random(11);
        for (var i = 0; i < Iterations; i++)
        {
            byte[] datagram;
            if (rng.Next(2) == 0)
            {
                datagram = RandomDatagram(rng);
            }
            else
            {
                datagram = (byte[])genuine[rng.Next(genuine.Length)].Clone();
                Mutate(rng, datagram);
            }
            pair.Server.Deliver(datagram);
        }
        Assert.Equal(0, pair.Server.DeliverFailures);
        Assert.Equal(DtlsState.Connected, pair.Server.State);
        var before = received;
        Assert.True(pair.Client.SendApplicationData(new byte[10]));
        Assert.Equal(before + 1, received);
    }
}
