namespace Hibari.Rtc.Srtp;

/// <summary>SRTP protection profiles, numbered as DTLS-SRTP use_srtp announces them (RFC 5764 §4.1.2, RFC 7714 §14.2).</summary>
public enum SrtpProfile : ushort
{
    /// <summary>AES-128 counter mode, HMAC-SHA1 tag truncated to 80 bits (RFC 3711).</summary>
    AesCm128HmacSha1_80 = 0x0001,

    /// <summary>AES-128-GCM with a 16-byte tag (RFC 7714).</summary>
    AeadAes128Gcm = 0x0007,
}

internal static class SrtpProfileInfo
{
    public static int MasterKeyLength(SrtpProfile p) => p switch
    {
        SrtpProfile.AesCm128HmacSha1_80 or SrtpProfile.AeadAes128Gcm => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "unsupported SRTP profile"),
    };

    public static int MasterSaltLength(SrtpProfile p) => p switch
    {
        SrtpProfile.AesCm128HmacSha1_80 => 14,
        SrtpProfile.AeadAes128Gcm => 12,
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "unsupported SRTP profile"),
    };

    public static int TagLength(SrtpProfile p) => p switch
    {
        SrtpProfile.AesCm128HmacSha1_80 => 10,
        SrtpProfile.AeadAes128Gcm => 16,
        _ => throw new ArgumentOutOfRangeException(nameof(p), p, "unsupported SRTP profile"),
    };
}
