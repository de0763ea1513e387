using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

/// <summary>
/// Seeded fuzz: garbage and mutated packets must come back as a result value, never an exception, and a mutated
/// packet must never be accepted.
/// </summary>
public sealed class SrtpFuzzTests
{
    public static TheoryData<SrtpProfile, bool> Profiles => SrtpContextTests.Profiles;

    [Theory, MemberData(nameof(Profiles)), Trait("Category", "Fuzz")]
    public void Random_garbage_is_rejected_without_exceptions(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = SrtpContextTests.Pair(profile, managedGcm, seed: 3);
        var rng = new Random(20261202);
        var buffer = new byte[400];
        var accepted = 0;
        for (var i = 0; i < 60_000; i++)
        {
            var length = rng.Next(0, 120);
            var input = buffer.AsSpan(0, length);
            rng.NextBytes(input);
            // Most real traffic starts with V=2; make the header parser go deeper half of the time.
            if (length > 0 && (i & 1) == 0) input[0] = (byte)(0x80 | (input[0] & 0x3F));
            if ((i & 3) == 0) accepted += receiver.UnprotectRtp(input, out _) == SrtpResult.Ok ? 1 : 0;
            else if ((i & 3) == 1) accepted += receiver.UnprotectRtcp(input, out _) == SrtpResult.Ok ? 1 : 0;
            else if ((i & 3) == 2)
            {
                var room = rng.Next(0, 30);
                var r = sender.ProtectRtp(buffer.AsSpan(0, Math.Min(buffer.Length, length + room)), rng.Next(-2, length + 2), out var n);
                Assert.True(r != SrtpResult.Ok || n <= length + room);
            }
            else sender.ProtectRtcp(buffer.AsSpan(0, Math.Min(buffer.Length, length + rng.Next(0, 30))), rng.Next(-2, length + 2), out _);
        }
        Assert.Equal(0, accepted);
    }

    [Theory, MemberData(nameof(Profiles)), Trait("Category", "Fuzz")]
    public void Mutated_genuine_packets_are_never_accepted(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = SrtpContextTests.Pair(profile, managedGcm, seed: 4);
        var rng = new Random(42);
        var rtp = new List<byte[]>();
        var rtcp = new List<byte[]>();
        for (ushort seq = 1; seq <= 64; seq++)
        {
            var payload = rng.Next(0, 200);
            var p = SrtpContextTests.Rtp(seq, payload);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(p, SrtpContextTests.RtpLength(payload), out var n));
            rtp.Add(p[..n]);
            var body = 4 * rng.Next(0, 30);
            var c = SrtpContextTests.Rtcp(body);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(c, 8 + body, out var m));
            rtcp.Add(c[..m]);
        }

        var scratch = new byte[512];
        for (var i = 0; i < 50_000; i++)
        {
            var isRtp = (i & 1) == 0;
            var original = isRtp ? rtp[rng.Next(rtp.Count)] : rtcp[rng.Next(rtcp.Count)];
            var length = Mutate(rng, original, scratch);
            var input = scratch.AsSpan(0, length);
            if (input.SequenceEqual(original)) continue; // mutation undid itself
            var r = isRtp ? receiver.UnprotectRtp(input, out _) : receiver.UnprotectRtcp(input, out _);
            Assert.NotEqual(SrtpResult.Ok, r);
        }

        // The window never moved: every genuine packet still unprotects once.
        foreach (var p in rtp) Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp((byte[])p.Clone(), out _));
        foreach (var c in rtcp) Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp((byte[])c.Clone(), out _));
    }

    private static int Mutate(Random rng, byte[] original, byte[] into)
    {
        original.CopyTo(into, 0);
        var length = original.Length;
        switch (rng.Next(5))
        {
            case 0: // flip 1–3 bits
                for (var k = rng.Next(1, 4); k > 0; k--) into[rng.Next(length)] ^= (byte)(1 << rng.Next(8));
                break;
            case 1: // truncate
                length = rng.Next(0, length);
                break;
            case 2: // extend with garbage
                var extra = rng.Next(1, 40);
                rng.NextBytes(into.AsSpan(length, extra));
                length += extra;
                break;
            case 3: // overwrite a byte in the header (CC, X, extension length, SSRC, seq)
                into[rng.Next(Math.Min(length, 32))] = (byte)rng.Next(256);
                break;
            default: // random run
                var start = rng.Next(length);
                rng.NextBytes(into.AsSpan(start, Math.Min(length - start, rng.Next(1, 16))));
                break;
        }
        return length;
    }
}
