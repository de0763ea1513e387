using System.Buffers.Binary;
using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

/// <summary>
/// The two GCM paths of <see cref="SrtpContext"/> (<see cref="AesGcmIntrinsics"/> and AesGcm) against each other:
/// byte-identical SRTP/SRTCP for the same key and index, and each unprotects what the other protected.
/// SrtpContext has one GCM profile, AEAD_AES_128_GCM; AES-256 is covered at the cipher level
/// (<see cref="AesGcmIntrinsicsTests"/>) and by the DTLS record layer's AES-256-GCM suite.
/// </summary>
public sealed class SrtpGcmPathTests
{
    private static (SrtpContext Managed, SrtpContext Platform) Contexts(int seed)
    {
        var rng = new Random(seed);
        var key = new byte[16];
        var salt = new byte[12];
        rng.NextBytes(key);
        rng.NextBytes(salt);
        var managed = new SrtpContext(SrtpProfile.AeadAes128Gcm, key, salt, managedGcm: true);
        var platform = new SrtpContext(SrtpProfile.AeadAes128Gcm, key, salt, managedGcm: false);
        Assert.True(managed.ManagedGcm);
        Assert.False(platform.ManagedGcm);
        return (managed, platform);
    }

    /// <summary>An RTP packet with a random number of CSRCs, maybe a header extension, and a random payload.</summary>
    private static (byte[] Buffer, int Length) RandomRtp(Random rng, ushort seq, uint ssrc, int payload)
    {
        var csrcs = rng.Next(0, 4);
        var extensionWords = rng.Next(0, 2) == 0 ? -1 : rng.Next(0, 4);
        var header = 12 + 4 * csrcs + (extensionWords < 0 ? 0 : 4 + 4 * extensionWords);
        var b = new byte[header + payload + 16];
        rng.NextBytes(b);
        b[0] = (byte)(0x80 | (extensionWords >= 0 ? 0x10 : 0) | csrcs);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), ssrc);
        if (extensionWords >= 0) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12 + 4 * csrcs + 2), (ushort)extensionWords);
        return (b, header + payload);
    }

    [GcmIntrinsicsFact]
    public void Rtp_is_byte_identical_and_crosses_between_the_managed_and_the_AesGcm_path()
    {
        var rng = new Random(11);
        var (managedSend, platformSend) = Contexts(1);
        var (managedReceive, platformReceive) = Contexts(1);
        using var _1 = managedSend; using var _2 = platformSend; using var _3 = managedReceive; using var _4 = platformReceive;
        for (var i = 0; i < 2000; i++)
        {
            // Sequence numbers across a rollover, two SSRCs, payloads 0..1500 bytes.
            var seq = (ushort)(64_800 + i);
            var ssrc = (i & 1) == 0 ? 0x1111_1111u : 0x2222_2222u;
            var (plain, length) = RandomRtp(rng, seq, ssrc, rng.Next(0, 1501));
            var viaManaged = (byte[])plain.Clone();
            var viaPlatform = (byte[])plain.Clone();
            Assert.Equal(SrtpResult.Ok, managedSend.ProtectRtp(viaManaged, length, out var n1));
            Assert.Equal(SrtpResult.Ok, platformSend.ProtectRtp(viaPlatform, length, out var n2));
            Assert.Equal(n2, n1);
            Assert.True(viaPlatform.AsSpan(0, n2).SequenceEqual(viaManaged.AsSpan(0, n1)), $"packet {i} differs");

            // Managed → AesGcm on even packets, AesGcm → managed on odd ones; each receiver sees one SSRC's stream
            // in order (replay windows are per receiver).
            var (receiver, packet) = (i & 1) == 0 ? (platformReceive, viaManaged) : (managedReceive, viaPlatform);
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(packet.AsSpan(0, n1), out var m));
            Assert.Equal(length, m);
            Assert.True(plain.AsSpan(0, length).SequenceEqual(packet.AsSpan(0, m)));
        }
        Assert.Equal(1u, managedReceive.ReceiveRolloverCounter);
        Assert.Equal(1u, platformReceive.ReceiveRolloverCounter);
    }

    [GcmIntrinsicsFact]
    public void Srtcp_is_byte_identical_and_crosses_between_the_managed_and_the_AesGcm_path()
    {
        var rng = new Random(12);
        var (managedSend, platformSend) = Contexts(2);
        var (managedReceive, platformReceive) = Contexts(2);
        using var _1 = managedSend; using var _2 = platformSend; using var _3 = managedReceive; using var _4 = platformReceive;
        for (var i = 0; i < 500; i++)
        {
            var body = 4 * rng.Next(0, 300);
            var plain = new byte[8 + body + 20];
            rng.NextBytes(plain);
            plain[0] = 0x81;
            plain[1] = (byte)(200 + rng.Next(0, 6));
            BinaryPrimitives.WriteUInt16BigEndian(plain.AsSpan(2), (ushort)((8 + body) / 4 - 1));
            BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(4), 0x3333_3333);
            var viaManaged = (byte[])plain.Clone();
            var viaPlatform = (byte[])plain.Clone();
            Assert.Equal(SrtpResult.Ok, managedSend.ProtectRtcp(viaManaged, 8 + body, out var n1));
            Assert.Equal(SrtpResult.Ok, platformSend.ProtectRtcp(viaPlatform, 8 + body, out var n2));
            Assert.Equal(n2, n1);
            Assert.True(viaPlatform.AsSpan(0, n2).SequenceEqual(viaManaged.AsSpan(0, n1)), $"compound {i} differs");

            Assert.Equal(SrtpResult.Ok, platformReceive.UnprotectRtcp(viaManaged.AsSpan(0, n1), out var m1));
            Assert.True(plain.AsSpan(0, 8 + body).SequenceEqual(viaManaged.AsSpan(0, m1)));
            Assert.Equal(SrtpResult.Ok, managedReceive.UnprotectRtcp(viaPlatform.AsSpan(0, n2), out var m2));
            Assert.True(plain.AsSpan(0, 8 + body).SequenceEqual(viaPlatform.AsSpan(0, m2)));
        }
    }

    [GcmIntrinsicsFact]
    public void A_forgery_is_refused_the_same_way_by_both_paths()
    {
        var rng = new Random(13);
        var (managedSend, _) = Contexts(3);
        var (managedReceive, platformReceive) = Contexts(3);
        var (plain, length) = RandomRtp(rng, 100, 0x4444_4444, 300);
        Assert.Equal(SrtpResult.Ok, managedSend.ProtectRtp(plain, length, out var n));
        var genuine = plain[..n];
        for (var i = 0; i < 200; i++)
        {
            var forged = (byte[])genuine.Clone();
            forged[rng.Next(2, n)] ^= (byte)(1 << rng.Next(8)); // anything past V/P/X/CC and M/PT
            if (forged.AsSpan().SequenceEqual(genuine)) continue;
            var a = managedReceive.UnprotectRtp((byte[])forged.Clone(), out _);
            var b = platformReceive.UnprotectRtp((byte[])forged.Clone(), out _);
            Assert.Equal(b, a);
            Assert.NotEqual(SrtpResult.Ok, a);
        }
        Assert.Equal(SrtpResult.Ok, managedReceive.UnprotectRtp((byte[])genuine.Clone(), out _));
        Assert.Equal(SrtpResult.Ok, platformReceive.UnprotectRtp((byte[])genuine.Clone(), out _));
    }
}
