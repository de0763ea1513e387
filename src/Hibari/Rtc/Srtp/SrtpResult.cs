namespace Hibari.Rtc.Srtp;

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
    /// <summary>A new SSRC beyond the per-context stream limit (state is per SSRC; see SrtpContext.MaxStreams).</summary>
    TooManyStreams,
    /// <summary>Packet index out of range (before the stream start, or SRTCP index 2^31 exhausted: rekey).</summary>
    IndexOutOfRange,
}
