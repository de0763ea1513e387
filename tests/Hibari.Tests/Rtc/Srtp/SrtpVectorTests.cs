using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

/// <summary>Published vectors: RFC 3711 Appendix B.2/B.3, RFC 7714 §16.1.1 and §17.1/§17.3.</summary>
public sealed class SrtpVectorTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    [Fact]
    public void Aes_cm_keystream_matches_RFC_3711_B_2()
    {
        var key = Hex("2B7E151628AED2A6ABF7158809CF4F3C");
        var iv = Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
        var stream = new byte[0xFF02 * 16];
        using var ctr = new AesCounterMode(key);
        ctr.Transform(iv, stream); // XOR into zeros = the keystream

        Assert.Equal(Hex("E03EAD0935C95E80E166B16DD92B4EB4"), stream[0x0000..0x0010]);
        Assert.Equal(Hex("D23513162B02D0F72A43A2FE4A5F97AB"), stream[0x0010..0x0020]);
        Assert.Equal(Hex("41E95B3BB0A2E8DD477901E4FCA894C0"), stream[0x0020..0x0030]);
        Assert.Equal(Hex("EC8CDF7398607CB0F2D21675EA9EA1E4"), stream[(0xFEFF * 16)..(0xFF00 * 16)]);
        Assert.Equal(Hex("362B7C3C6773516318A077D7FC5073AE"), stream[(0xFF00 * 16)..(0xFF01 * 16)]);
        Assert.Equal(Hex("6A2CC3787889374FBEB4C81B17BA6C44"), stream[(0xFF01 * 16)..(0xFF02 * 16)]);
    }

    [Fact]
    public void Key_derivation_matches_RFC_3711_B_3()
    {
        var masterKey = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
        var masterSalt = Hex("0EC675AD498AFEEBB6960B3AABE6");
        var cipherKey = new byte[16];
        var salt = new byte[14];
        var auth = new byte[94];
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpLabel.RtpEncryption, cipherKey);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpLabel.RtpSalt, salt);
        SrtpKeyDerivation.Derive(masterKey, masterSalt, SrtpLabel.RtpAuthentication, auth);

        Assert.Equal(Hex("C61E7A93744F39EE10734AFE3FF7A087"), cipherKey);
        Assert.Equal(Hex("30CBBC08863D8C85D49DB34A9AE1"), salt);
        Assert.Equal(Hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15" + "6D38BAA48F0A0ACF3C34E2359E6CDBCE" +
            "E049646C43D9327AD175578EF7227098" + "6371C10C9A369AC2F94A8C5FBCDDDC25" +
            "6D6E919A48B610EF17C2041E47403576" + "6B68642C59BBFC2F34DB60DBDFB2"), auth);
    }

    // RFC 7714 §16/§17 state session key and salt directly ("Quid pro quo").
    private const string GcmKey = "000102030405060708090a0b0c0d0e0f";
    private const string GcmSalt = "517569642070726f2071756f";

    private const string Rfc7714Rtp =
        "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976" +
        "69736120696e207061727465732074726573";

    private const string Rfc7714Srtp =
        "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd5" +
        "0d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce";

    private const string Rfc7714Rtcp =
        "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61" +
        "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

    private const string Rfc7714Srtcp =
        "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32d" +
        "c676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf872" +
        "45d9eade800005d4";

    private const string Rfc7714SrtcpTagOnly =
        "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61" +
        "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790" +
        "125f62b3000005d4";

    private static SrtpContext Gcm(bool managed) =>
        SrtpContext.FromSessionKeys(SrtpProfile.AeadAes128Gcm, Hex(GcmKey), Hex(GcmSalt), ReadOnlySpan<byte>.Empty, managed);

    [Theory, InlineData(true), InlineData(false)]
    public void Gcm_rtp_protect_matches_RFC_7714_16_1_1(bool managed)
    {
        using var ctx = Gcm(managed);
        var plain = Hex(Rfc7714Rtp);
        var buffer = new byte[plain.Length + ctx.RtpOverhead];
        plain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, ctx.ProtectRtp(buffer, plain.Length, out var n));
        Assert.Equal(Hex(Rfc7714Srtp), buffer[..n]);
    }

    [Theory, InlineData(true), InlineData(false)]
    public void Gcm_rtp_unprotect_matches_RFC_7714_16_1_2(bool managed)
    {
        using var ctx = Gcm(managed);
        var packet = Hex(Rfc7714Srtp);
        Assert.Equal(SrtpResult.Ok, ctx.UnprotectRtp(packet, out var n));
        Assert.Equal(Hex(Rfc7714Rtp), packet[..n]);
    }

    [Theory, InlineData(true), InlineData(false)]
    public void Gcm_srtcp_protect_matches_RFC_7714_17_1(bool managed)
    {
        using var ctx = Gcm(managed);
        ctx.NextSrtcpIndex = 0x5d4;
        var plain = Hex(Rfc7714Rtcp);
        var buffer = new byte[plain.Length + ctx.RtcpOverhead];
        plain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, ctx.ProtectRtcp(buffer, plain.Length, out var n));
        Assert.Equal(Hex(Rfc7714Srtcp), buffer[..n]);
        Assert.Equal(0x5d5u, ctx.NextSrtcpIndex);
    }

    [Theory, InlineData(true), InlineData(false)]
    public void Gcm_srtcp_unprotect_matches_RFC_7714_17_2(bool managed)
    {
        using var ctx = Gcm(managed);
        var packet = Hex(Rfc7714Srtcp);
        Assert.Equal(SrtpResult.Ok, ctx.UnprotectRtcp(packet, out var n));
        Assert.Equal(Hex(Rfc7714Rtcp), packet[..n]);
    }

    [Theory, InlineData(true), InlineData(false)]
    public void Gcm_srtcp_without_E_flag_is_authenticated_only_RFC_7714_17_3(bool managed)
    {
        using var ctx = Gcm(managed);
        var packet = Hex(Rfc7714SrtcpTagOnly);
        Assert.Equal(SrtpResult.Ok, ctx.UnprotectRtcp(packet, out var n));
        Assert.Equal(Hex(Rfc7714Rtcp), packet[..n]);

        using var other = Gcm(managed);
        var tampered = Hex(Rfc7714SrtcpTagOnly);
        tampered[20] ^= 1;
        Assert.Equal(SrtpResult.AuthenticationFailed, other.UnprotectRtcp(tampered, out _));
    }

    // libsrtp's srtp_validate reference packets (test/srtp_driver.c), master key and salt of RFC 3711 B.3.
    private static SrtpContext LibsrtpCm() => new(SrtpProfile.AesCm128HmacSha1_80,
        Hex("E1F97A0D3E018BE0D64FA32C06DE4139"), Hex("0EC675AD498AFEEBB6960B3AABE6"));

    [Fact]
    public void Cm_rtp_matches_libsrtp_reference_packet()
    {
        var plain = Hex("800f1234decafbadcafebabe" + "abababababababababababababababab");
        var expected = Hex("800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb");
        using var sender = LibsrtpCm();
        var buffer = new byte[plain.Length + sender.RtpOverhead];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out var n));
        Assert.Equal(expected, buffer[..n]);

        using var receiver = LibsrtpCm();
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer.AsSpan(0, n), out var m));
        Assert.Equal(plain, buffer[..m]);
    }

    [Fact]
    public void Cm_srtcp_matches_libsrtp_reference_packet()
    {
        var plain = Hex("81c8000bcafebabe" + "abababababababababababababababab");
        var expected = Hex("81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798");
        using var sender = LibsrtpCm();
        sender.NextSrtcpIndex = 1; // libsrtp counts its first SRTCP packet as index 1
        var buffer = new byte[plain.Length + sender.RtcpOverhead];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out var n));
        Assert.Equal(expected, buffer[..n]);

        using var receiver = LibsrtpCm();
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer.AsSpan(0, n), out var m));
        Assert.Equal(plain, buffer[..m]);
    }
}

public sealed class AesCounterModeTests
{
    [Fact]
    public void Aes_ni_and_portable_paths_give_the_same_keystream_for_every_length()
    {
        var rng = new Random(7);
        var key = new byte[16];
        var iv = new byte[16];
        for (var round = 0; round < 20; round++)
        {
            rng.NextBytes(key);
            rng.NextBytes(iv.AsSpan(0, 14));
            using var fast = new AesCounterMode(key, useAesNi: true);
            using var portable = new AesCounterMode(key, useAesNi: false);
            for (var length = 0; length < 300; length += 1 + round)
            {
                var a = new byte[length];
                rng.NextBytes(a);
                var b = (byte[])a.Clone();
                fast.Transform(iv, a);
                portable.Transform(iv, b);
                Assert.Equal(b, a);
            }
        }
    }
}
