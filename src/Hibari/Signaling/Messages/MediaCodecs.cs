namespace Hibari.Signaling.Messages;

/// <summary>Codec names and bit-rate ranges accepted in connect and in auth webhook overrides.</summary>
public static class MediaCodecs
{
    public static readonly IReadOnlyList<string> AudioCodecTypes = ["OPUS"];
    public static readonly IReadOnlyList<string> VideoCodecTypes = ["VP8", "VP9", "AV1", "H264", "H265"];

    /// <summary>Audio kbps: the Opus range 6..510 (RFC 6716). Sora's own limit is UNCONFIRMED.</summary>
    public const int MinAudioBitRate = 6, MaxAudioBitRate = 510;
    /// <summary>Video kbps: 1..30000 (Sora's documented upper bound as we recall it; UNCONFIRMED).</summary>
    public const int MinVideoBitRate = 1, MaxVideoBitRate = 30000;

    public static bool IsAudioCodec(string s) => AudioCodecTypes.Contains(s);
    public static bool IsVideoCodec(string s) => VideoCodecTypes.Contains(s);
}
