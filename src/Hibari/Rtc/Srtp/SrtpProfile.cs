namespace Hibari.Rtc.Srtp;

/// <summary>SRTP protection profiles, numbered as DTLS-SRTP use_srtp announces them (RFC 5764 §4.1.2, RFC 7714 §14.2).</summary>
public enum SrtpProfile : ushort
{
    /// <summary>AES-128 counter mode, HMAC-SHA1 tag truncated to 80 bits (RFC 3711).</summary>
    AesCm128HmacSha1_80 = 0x0001,

    /// <summary>AES-128-GCM with a 16-byte tag (RFC 7714).</summary>
    AeadAes128Gcm = 0x0007,
}

/// <summary>Outcome of protecting or unprotecting one packet; bad packets are values, never exceptions.</summary>
public enum SrtpResult
{
    Ok = 0,
    /// <summary>Shorter than its header, tag or SRTCP trailer.</summary>
    TooShort,
    /// <summary>Not RTP/RTCP version 2, or header (CSRCs, extension) runs past the packet.</summary>
    MalformedHeader,
    /// <summary>The buffer has no room for the tag (and SRTCP trailer) after the packet.</summary>
    BufferTooSmall,
    /// <summary>Tag did not verify: tampered, wrong key, or wrong rollover counter.</summary>
    AuthenticationFailed,
    /// <summary>Index already received (replay window, RFC 3711 §3.3.2).</summary>
    Replayed,
    /// <summary>Index is behind the 64-packet replay window.</summary>
    TooOld,
    /// <summary>RTP SSRC differs from the one this context is bound to (first packet binds it).</summary>
    SsrcMismatch,
    /// <summary>Packet index out of range (before the stream start, or SRTCP index 2^31 exhausted: rekey).</summary>
    IndexOutOfRange,
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
