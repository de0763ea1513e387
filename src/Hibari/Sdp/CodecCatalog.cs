namespace Hibari.Sdp;

/// <summary>
/// A codec as Hibari offers it on one m-line: payload type, fmtp text, rtcp-fb list and the RTX payload type that
/// repairs it (a=fmtp:&lt;rtx&gt; apt=&lt;pt&gt;, RFC 4588), null for audio.
/// </summary>
public sealed record RtpCodec(
    MediaKind Kind, string Name, int ClockRate, int? Channels, int PayloadType, string? Parameters,
    IReadOnlyList<string> Feedback, int? RtxPayloadType)
{
    /// <summary>Sora's codec_type word: "OPUS", "VP8", "VP9", "AV1", "H264".</summary>
    public string CodecType => Name.ToUpperInvariant();

    public IReadOnlyDictionary<string, string> ParameterMap => Fmtp.ParseParameters(Parameters ?? "");

    public bool Equals(RtpCodec? o) =>
        o is not null && Kind == o.Kind && string.Equals(Name, o.Name, StringComparison.OrdinalIgnoreCase) && ClockRate == o.ClockRate &&
        Channels == o.Channels && PayloadType == o.PayloadType && Parameters == o.Parameters &&
        Feedback.SequenceEqual(o.Feedback) && RtxPayloadType == o.RtxPayloadType;

    public override int GetHashCode() => HashCode.Combine(Kind, PayloadType, RtxPayloadType);
}

/// <summary>
/// What Hibari offers. The offerer chooses payload types and extmap ids (docs/protocol-notes.md, "Chrome interop checklist" 5); the numbers follow
/// Chrome's own where they exist so traces read familiar. Sora offers exactly one codec (plus its RTX) per m-line.
/// </summary>
public static class CodecCatalog
{
    // No transport-cc: it obliges the SFU to send transport-wide feedback (docs/protocol-notes.md, "Chrome interop checklist" 8); REMB until then.
    public static IReadOnlyList<string> VideoFeedback { get; } = ["goog-remb", "nack", "nack pli", "ccm fir"];

    public static RtpCodec Opus { get; } = new(MediaKind.Audio, "opus", 48000, 2, 111, "minptime=10;useinbandfec=1", [], null);
    public static RtpCodec Vp8 { get; } = Video("VP8", 96, 97, null);
    public static RtpCodec Vp9 { get; } = Video("VP9", 98, 99, "profile-id=0");
    public static RtpCodec Vp9Profile2 { get; } = Video("VP9", 100, 101, "profile-id=2");
    public static RtpCodec Av1 { get; } = Video("AV1", 45, 46, "level-idx=5;profile=0;tier=0");
    /// <summary>Constrained baseline 3.1, the profile every Chrome build can decode and encode.</summary>
    public static RtpCodec H264 { get; } = Video("H264", 102, 103, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    public static RtpCodec H264Main { get; } = Video("H264", 104, 105, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f");

    /// <summary>In preference order within a codec type: the first the client supports wins.</summary>
    public static IReadOnlyList<RtpCodec> All { get; } = [Opus, Vp8, Vp9, Vp9Profile2, Av1, H264, H264Main];

    public const string MidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string RidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRidUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public const string AbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string AudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

    // One id per URI across the whole BUNDLE: Chrome 148+ fails SRD with "RTP extension ID reassignment not supported"
    // when an id changes meaning between sections or re-offers (versatica/mediasoup-client#368).
    public static IReadOnlyList<ExtMap> AudioExtensions { get; } =
        [new(1, MidUri), new(4, AbsSendTimeUri), new(5, AudioLevelUri)];
    public static IReadOnlyList<ExtMap> VideoExtensions { get; } =
        [new(1, MidUri), new(2, RidUri), new(3, RepairedRidUri), new(4, AbsSendTimeUri)];

    public static IReadOnlyList<ExtMap> ExtensionsFor(MediaKind kind) => kind switch
    {
        MediaKind.Audio => AudioExtensions, MediaKind.Video => VideoExtensions, _ => [],
    };

    /// <summary>
    /// The codec to offer for a Sora codec_type ("VP8", "VP9", "AV1", "H264", "OPUS"; case-insensitive), the first
    /// catalog entry of that type the client's throw-away offer shows it can do (any, when <paramref name="client"/>
    /// is null). An error value when the type is unknown or the client cannot do it.
    /// </summary>
    public static SdpResult<RtpCodec> Select(string? codecType, ClientCapabilities? client = null)
    {
        var type = codecType?.Trim().ToUpperInvariant();
        var candidates = All.Where(c => c.CodecType == type).ToList();
        if (candidates.Count == 0) return SdpResult<RtpCodec>.Fail($"unknown codec_type \"{codecType}\"");
        if (client is null) return SdpResult<RtpCodec>.Ok(candidates[0]);
        foreach (var c in candidates) if (client.Supports(c)) return SdpResult<RtpCodec>.Ok(c);
        return SdpResult<RtpCodec>.Fail($"the client does not support {type}");
    }

    private static RtpCodec Video(string name, int pt, int rtx, string? fmtp) =>
        new(MediaKind.Video, name, 90000, null, pt, fmtp, VideoFeedback, rtx);
}

/// <summary>A value or an error message; codecs in Hibari.Sdp return these instead of throwing.</summary>
public readonly record struct SdpResult<T>(T? Value, string? Error) where T : class
{
    public bool IsOk => Error is null;
    public static SdpResult<T> Ok(T value) => new(value, null);
    public static SdpResult<T> Fail(string error) => new(null, error);
}
