using System.Buffers.Binary;
using System.Security.Cryptography;
using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

/// <summary>
/// AES-CM/HMAC-SHA1 packets rebuilt independently from RFC 3711's formulas with the BCL primitives (one ECB call per
/// block, one-shot HMAC), for the cases no published vector covers: CSRCs and extension, nonzero ROC, SRTCP E = 0.
/// </summary>
public sealed class SrtpOracleTests
{
    private static readonly byte[] Key = Convert.FromHexString("00112233445566778899AABBCCDDEEFF");
    private static readonly byte[] Salt = Convert.FromHexString("0102030405060708090A0B0C0D0E");
    private static readonly byte[] Auth = Convert.FromHexString("A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3");

    private static SrtpContext Cm() => SrtpContext.FromSessionKeys(SrtpProfile.AesCm128HmacSha1_80, Key, Salt, Auth);

    private static byte[] Keystream(uint ssrc, ulong index, int length)
    {
        using var aes = Aes.Create();
        aes.Key = Key;
        var output = new byte[length];
        for (var block = 0; block * 16 < length; block++)
        {
            var iv = new byte[16];
            Salt.CopyTo(iv, 0);
            var x = new byte[16];
            BinaryPrimitives.WriteUInt32BigEndian(x.AsSpan(4), ssrc);
            for (var i = 0; i < 6; i++) x[8 + i] = (byte)(index >> (40 - 8 * i)); // 48-bit index·2^16
            for (var i = 0; i < 16; i++) iv[i] ^= x[i];
            iv[14] = (byte)(block >> 8);
            iv[15] = (byte)block;
            var ks = aes.EncryptEcb(iv, PaddingMode.None);
            for (var i = 0; i < 16 && block * 16 + i < length; i++) output[block * 16 + i] = ks[i];
        }
        return output;
    }

    [Fact]
    public void Cm_rtp_with_csrcs_and_extension_across_a_wrap_matches_the_formulas()
    {
        using var sender = Cm();
        foreach (var (seq, roc) in new (ushort, uint)[] { (65534, 0), (65535, 0), (0, 1), (3, 1) })
        {
            var packet = SrtpContextTests.Rtp(seq, 77);
            var plain = packet[..SrtpContextTests.RtpLength(77)];
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, plain.Length, out var n));

            var expected = (byte[])plain.Clone();
            var ks = Keystream(0x11223344, ((ulong)roc << 16) | seq, 77);
            for (var i = 0; i < 77; i++) expected[32 + i] ^= ks[i]; // header = 12 + 2 CSRC + 4 + 8 extension
            var authenticated = expected.Concat(new[] { (byte)(roc >> 24), (byte)(roc >> 16), (byte)(roc >> 8), (byte)roc }).ToArray();
            var tag = HMACSHA1.HashData(Auth, authenticated)[..10];
            Assert.Equal(expected.Concat(tag).ToArray(), packet[..n]);
        }
    }

    [Fact]
    public void Cm_srtcp_with_E_flag_clear_is_authenticated_but_not_decrypted()
    {
        var rtcp = SrtpContextTests.Rtcp(16, room: 0);
        var word = new byte[] { 0x00, 0x00, 0x00, 0x05 }; // E = 0, index 5
        var tag = HMACSHA1.HashData(Auth, rtcp.Concat(word).ToArray())[..10];
        var packet = rtcp.Concat(word).Concat(tag).ToArray();

        using var receiver = Cm();
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(packet, out var n));
        Assert.Equal(rtcp, packet[..n]);
        Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtcp(rtcp.Concat(word).Concat(tag).ToArray(), out _));
    }

    [Fact]
    public void Cm_srtcp_protect_matches_the_formulas()
    {
        using var sender = Cm();
        sender.NextSrtcpIndex = 0x1234567;
        var rtcp = SrtpContextTests.Rtcp(40);
        var plain = rtcp[..48];
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(rtcp, 48, out var n));

        var expected = (byte[])plain.Clone();
        var ks = Keystream(0x11223344, 0x1234567, 40);
        for (var i = 0; i < 40; i++) expected[8 + i] ^= ks[i];
        expected = expected.Concat(new byte[] { 0x81, 0x23, 0x45, 0x67 }).ToArray();
        var tag = HMACSHA1.HashData(Auth, expected)[..10];
        Assert.Equal(expected.Concat(tag).ToArray(), rtcp[..n]);
    }
}
