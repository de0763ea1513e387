using Hibari.Cluster.Relay;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>
/// Seeded fuzz of the relay readers: random and mutated frames must come back as values (no exception, no read outside
/// the input: inputs are exact-length arrays), and whatever decodes encodes back to the very same bytes. The default
/// run is short; scripts/fuzz.sh (HIBARI_FUZZ_ITERATIONS=100000) runs the long one.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class RelayFramesFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    /// <summary>Every sample but the ~256 KiB ones (mutating those is slow and finds nothing the small ones do not).</summary>
    private static byte[][] Seeds() =>
    [
        .. RelaySamples.All().Select(s => RelayFrames.Encode(s.Frame)).Where(b => b.Length < 20_000),
        RelaySamples.RtpFrame(),
    ];

    private static byte[] Mutate(Random rng, byte[] seed)
    {
        var bytes = seed.ToList();
        var edits = rng.Next(1, 4);
        for (var i = 0; i < edits; i++)
        {
            var at = rng.Next(bytes.Count + 1);
            switch (rng.Next(7))
            {
                case 0 when at < bytes.Count: bytes[at] = (byte)rng.Next(256); break;
                case 1 when at < bytes.Count: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 2 when at < bytes.Count: bytes[at] = rng.Next(2) == 0 ? (byte)0xFF : (byte)0; break;
                case 3: bytes.Insert(at, (byte)rng.Next(256)); break;
                case 4 when at < bytes.Count: bytes.RemoveAt(at); break;
                case 5: bytes.RemoveRange(at, bytes.Count - at); break; // truncate
                default: if (at < bytes.Count) bytes[at] = (byte)rng.Next(3); break; // near-valid small values (bools, lengths)
            }
        }
        // Keep a valid header now and then, so the bodies are reached.
        if (bytes.Count >= 2 && rng.Next(3) == 0) { bytes[0] = seed[0]; bytes[1] = seed[1]; }
        return bytes.ToArray();
    }

    /// <summary>Every reader on <paramref name="data"/>: no exception; a decoded frame re-encodes to the same bytes.</summary>
    private static (bool Decoded, bool Rtp) Check(byte[] data)
    {
        var peeked = RelayFrames.TryPeek(data, out var version, out var type);
        var decoded = RelayFrames.TryDecode(data, out var frame, out var error);
        Assert.Equal(decoded, frame is not null);
        Assert.Equal(decoded, error is null);
        if (decoded)
        {
            Assert.True(peeked);
            Assert.Equal(data, RelayFrames.Encode(frame!, version));
        }
        var isRtp = RelayFrames.TryReadRtp(data, out var view, out var rtpError);
        Assert.Equal(isRtp, rtpError is null);
        if (isRtp)
        {
            Assert.True(peeked);
            Assert.Equal(RelayFrameType.Rtp, type);
            var again = new byte[data.Length];
            Assert.Equal(data.Length, RelayFrames.WriteRtp(again, view.SessionId16, view.Ssrc, view.SentAtMicros, view.Rtp, version));
            Assert.Equal(data, again);
        }
        Assert.False(decoded && isRtp);
        if (peeked) Assert.True(RelayProtocol.Speaks(version) || type == RelayFrameType.Hello);
        return (decoded, isRtp);
    }

    [Fact]
    public void Mutated_frames_never_throw_and_what_decodes_re_encodes_to_the_same_bytes()
    {
        var rng = new Random(20_251);
        var seeds = Seeds();
        int decoded = 0, rtp = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var (d, r) = Check(Mutate(rng, seeds[rng.Next(seeds.Length)]));
            decoded += d ? 1 : 0;
            rtp += r ? 1 : 0;
        }
        // The mutations stay close enough to valid frames that some still decode (the re-encode check is exercised).
        Assert.True(decoded > 0, "no mutated frame decoded");
        Assert.True(rtp > 0, "no mutated RTP frame read");
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(7);
        for (var i = 0; i < Iterations; i++)
        {
            var data = new byte[rng.Next(i % 10 == 0 ? 2_000 : 80)];
            rng.NextBytes(data);
            if (data.Length >= 2 && i % 2 == 0)
            {
                data[0] = RelayProtocol.MaxVersion;
                data[1] = (byte)rng.Next(1, 11);
            }
            Check(data);
        }
    }

    /// <summary>Random valid frames (random field values within their bounds) round trip exactly.</summary>
    [Fact]
    public void Random_valid_frames_round_trip()
    {
        var rng = new Random(99);
        string Id() { var b = new byte[16]; rng.NextBytes(b); return Hibari.Signaling.Messages.SoraId.Encode(b); }
        string Str(int min, int max)
        {
            string[] pieces = ["a", "b", "X", "0", "9", "-", "_", "#", "@", " ", "ü", "€", "ノ", "😀"];
            var s = new System.Text.StringBuilder();
            var target = rng.Next(min, max + 1);
            while (System.Text.Encoding.UTF8.GetByteCount(s.ToString()) < target)
            {
                var c = pieces[rng.Next(pieces.Length)];
                if (System.Text.Encoding.UTF8.GetByteCount(s + c) > max) break;
                s.Append(c);
            }
            return s.ToString().Length == 0 && min > 0 ? "a" : s.ToString();
        }
        byte[] Bytes(int max) { var b = new byte[rng.Next(max + 1)]; rng.NextBytes(b); return b; }
        byte[] RandomBytes(int n) { var b = new byte[n]; rng.NextBytes(b); return b; }
        long Long() => rng.NextInt64(long.MinValue, long.MaxValue);
        uint UInt() => (uint)rng.NextInt64(0, 1L << 32);
        RelayFrame Next() => rng.Next(15) switch
        {
            0 => new RelayHello((byte)rng.Next(1, 3), (byte)rng.Next(3, 256), (RelayCapabilities)(ulong)Long(), Str(1, 255)),
            1 => new RelaySessionJoin(Str(1, 255), Id()),
            2 => new RelaySessionLeave(Str(1, 255), Id()),
            3 => new RelayConnectionUp(Id(), new RelayConnection(Id(), Str(0, 255), Str(0, 255), Str(1, 255), (byte)rng.Next(3),
                rng.Next(2) == 0, rng.Next(2) == 0, Long(), rng.Next(2) == 0 ? null : System.Text.Encoding.UTF8.GetBytes(
                    System.Text.Json.JsonSerializer.Serialize(new { s = Str(0, 100), n = rng.Next() })))),
            4 => new RelayConnectionDown(Id(), Id(), Str(0, 255), rng.Next(int.MaxValue)),
            5 => new RelayTrackUp(Id(), Id(), Str(1, 255), (byte)rng.Next(2), UInt(), UInt(),
                new RelayTrackCodec(Str(1, 255), (byte)rng.Next(128), UInt(), (byte)rng.Next(256), rng.Next(2) == 0 ? null : Str(0, 1024),
                    (byte)rng.Next(128), Enumerable.Range(0, rng.Next(33)).Select(_ => Str(1, 40)).ToArray())),
            6 => new RelayTrackDown(Id(), Id(), Str(1, 255)),
            7 => new RelayKeyFrameRequest(Id(), UInt()),
            8 => new RelaySenderReport(Id(), UInt(), (ulong)Long(), UInt()),
            9 => new RelayUdpEndpoint(new System.Net.IPAddress(rng.Next(2) == 0 ? RandomBytes(4) : RandomBytes(16)),
                (ushort)rng.Next(1, 65536), (uint)rng.NextInt64(1, 1L << 32), new UInt128((ulong)Long(), (ulong)Long())),
            10 => new RelayUdpConfirm((uint)rng.NextInt64(1, 1L << 32)),
            11 => new RelayTrackLayers(Id(), Id(), Str(1, 255),
                Enumerable.Range(0, rng.Next(1, RelayFrames.MaxLayers + 1)).Select(_ => new RelayLayer(Str(1, 16), UInt(), UInt())).ToList()),
            12 => new RelayLayerDemand(Id(), UInt(), (byte)rng.Next(256)),
            13 => new RelaySpotlightFocus(Id(), (byte)rng.Next(1, RelayFrames.MaxFocus + 1), []) is var sf
                ? sf with { Focused = Enumerable.Range(0, rng.Next(sf.Number + 1)).Select(_ => new RelayFocus(Id(), rng.Next(2) == 0)).ToList() } : null!,
            _ => new RelayMessage(Id(), Id(), Str(0, 255), Str(0, 255), rng.Next(2) == 0, Bytes(rng.Next(10) == 0 ? 70_000 : 300)),
        };
        for (var i = 0; i < Math.Max(1, Iterations / 5); i++)
        {
            var frame = Next() with { SentAtMicros = Long() };
            var bytes = RelayFrames.Encode(frame);
            Assert.True(RelayFrames.TryDecode(bytes, out var back, out var error), error);
            Assert.Equal(frame, back);
            Assert.Equal(bytes, RelayFrames.Encode(back!));
        }
    }
}
