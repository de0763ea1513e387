namespace Hibari.Rtc.Srtp;

/// <summary>Session key labels (RFC 3711 §4.3.1 and §4.3.2).</summary>
internal enum SrtpLabel : byte
{
    RtpEncryption = 0x00,
    RtpAuthentication = 0x01,
    RtpSalt = 0x02,
    RtcpEncryption = 0x03,
    RtcpAuthentication = 0x04,
    RtcpSalt = 0x05,
}

/// <summary>
/// The SRTP key derivation function with key_derivation_rate 0 (RFC 3711 §4.3.1, AES-CM PRF §4.3.3): x = label·2^48
/// XOR master_salt, output = AES-CM(master_key, x·2^16). With kdr 0 the index term r is zero, so keys are derived once.
/// A 12-byte GCM master salt is left-aligned in the 14-byte field (RFC 7714 §11).
/// </summary>
internal static class SrtpKeyDerivation
{
    public static void Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, SrtpLabel label, Span<byte> output)
    {
        if (masterSalt.Length > 14) throw new ArgumentException("master salt longer than 112 bits", nameof(masterSalt));
        Span<byte> iv = stackalloc byte[16];
        iv.Clear();
        masterSalt.CopyTo(iv);
        // label·2^48 in a 112-bit x lands in byte 7 (byte 0 is the most significant of 14).
        iv[7] ^= (byte)label;
        output.Clear();
        using var ctr = new AesCounterMode(masterKey);
        ctr.Transform(iv, output);
    }
}
