namespace Hibari.Rtc.Rtp;

/// <summary>
/// The client-to-mixer audio level of RFC 6464 (urn:ietf:params:rtp-hdrext:ssrc-audio-level): one byte, the V bit
/// (voice activity, meaningful only when the extmap says so — browsers set it from their VAD) and a 7-bit level in
/// -dBov, 0 the loudest and 127 digital silence. The SFU reads it to pick speakers without decoding audio.
/// </summary>
public static class AudioLevel
{
    /// <summary>The level RFC 6464 gives to silence (and to muted tracks).</summary>
    public const int Silence = 127;

    /// <summary>
    /// Reads the value found by <see cref="RtpHeaderExtensions.TryFind"/>. False when the value is empty; a longer value
    /// (two-byte form padding) is read from its first byte, since the element has only that one byte of meaning.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> extensionValue, out int levelDbov, out bool voice)
    {
        if (extensionValue.IsEmpty)
        {
            levelDbov = Silence;
            voice = false;
            return false;
        }
        var b = extensionValue[0];
        levelDbov = b & 0x7F;
        voice = (b & 0x80) != 0;
        return true;
    }
}
