namespace Hibari.Recording.Depacketize;

/// <summary>
/// RFC 7587 §4.2: an Opus RTP payload is exactly one Opus packet (no descriptor, no fragmentation), which is what a
/// Matroska A_OPUS block holds. The only work is the copy out of the caller's reused receive buffer, and leaving out
/// what is not audio: an empty payload is padding or a DTX gap the sender filled with nothing.
/// </summary>
internal static class OpusDepacketizer
{
    /// <summary>The block data for one Opus RTP payload, or null when there is none to store.</summary>
    public static byte[]? ToFrame(ReadOnlySpan<byte> payload) => payload.IsEmpty ? null : payload.ToArray();

    /// <summary>
    /// RFC 6716 §3.1: the duration of the Opus packet in 48 kHz samples from its TOC byte and frame count, or 0 when
    /// the packet is malformed. A writer uses it for the block duration or to spot a gap between RTP timestamps.
    /// </summary>
    public static int SamplesAt48kHz(ReadOnlySpan<byte> packet)
    {
        if (packet.IsEmpty) return 0;
        var toc = packet[0];
        var config = toc >> 3;
        int frameSamples;
        if (config < 12) frameSamples = (config & 3) switch { 0 => 480, 1 => 960, 2 => 1920, _ => 2880 };        // SILK 10/20/40/60 ms
        else if (config < 16) frameSamples = (config & 1) == 0 ? 480 : 960;                                       // hybrid 10/20 ms
        else frameSamples = (config & 3) switch { 0 => 120, 1 => 240, 2 => 480, _ => 960 };                      // CELT 2.5/5/10/20 ms
        int frames;
        switch (toc & 3)
        {
            case 0: frames = 1; break;
            case 1: case 2: frames = 2; break;
            default:
                if (packet.Length < 2) return 0;
                frames = packet[1] & 0x3F;
                if (frames == 0) return 0;
                break;
        }
        var total = frames * frameSamples;
        return total > 5760 ? 0 : total; // at most 120 ms
    }
}
