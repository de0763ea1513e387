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
/// A payload type names one catalog entry (one profile) everywhere; the per-connection parameters (opus_params, bit
/// rates, level) only change the fmtp of the connection's own publishing section (docs/decisions.md D-34).
/// </summary>
public static class CodecCatalog
{
    // No transport-cc on what clients publish: it would oblige the SFU to send transport-wide feedback (docs/protocol-notes.md,
    // "Chrome interop checklist" 8); REMB there. What the SFU sends carries it (WithTransportCc, D-38).
    public static IReadOnlyList<string> VideoFeedback { get; } = ["goog-remb", "nack", "nack pli", "ccm fir"];

    /// <summary>
    /// stereo=1 lets a browser encode a stereo source in stereo (libwebrtc reads the channel count from the remote
    /// fmtp's `stereo`); a mono source stays mono in both channels. D-34.
    /// </summary>
    public const string OpusDefaultFmtp = "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1";

    public static RtpCodec Opus { get; } = new(MediaKind.Audio, "opus", 48000, 2, 111, OpusDefaultFmtp, [], null);
    public static RtpCodec Vp8 { get; } = Video("VP8", 96, 97, null);
    public static RtpCodec Vp9 { get; } = Video("VP9", 98, 99, "profile-id=0");
    public static RtpCodec Vp9Profile2 { get; } = Video("VP9", 100, 101, "profile-id=2");
    public static RtpCodec Vp9Profile1 { get; } = Video("VP9", 106, 107, "profile-id=1");
    public static RtpCodec Vp9Profile3 { get; } = Video("VP9", 108, 109, "profile-id=3");
    public static RtpCodec Av1 { get; } = Video("AV1", 45, 46, "level-idx=5;profile=0;tier=0");
    public static RtpCodec Av1Profile1 { get; } = Video("AV1", 35, 36, "level-idx=5;profile=1;tier=0");
    public static RtpCodec Av1Profile2 { get; } = Video("AV1", 37, 38, "level-idx=5;profile=2;tier=0");
    /// <summary>Constrained baseline 3.1, the profile every Chrome build can decode and encode.</summary>
    public static RtpCodec H264 { get; } = Video("H264", 102, 103, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    public static RtpCodec H264Main { get; } = Video("H264", 104, 105, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f");
    public static RtpCodec H264Baseline { get; } = Video("H264", 112, 113, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
    public static RtpCodec H264ConstrainedHigh { get; } = Video("H264", 114, 115, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f");
    public static RtpCodec H264High { get; } = Video("H264", 116, 117, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f");
    /// <summary>Main profile, main tier, level 3.1 (level-id 93), single RTP stream (RFC 7798 §7.1).</summary>
    public static RtpCodec H265 { get; } = Video("H265", 49, 50, "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST");
    public static RtpCodec H265Main10 { get; } = Video("H265", 51, 52, "level-id=93;profile-id=2;tier-flag=0;tx-mode=SRST");

    /// <summary>In preference order within a codec type: the first the client supports wins (when no profile is asked for).</summary>
    public static IReadOnlyList<RtpCodec> All { get; } =
    [
        Opus, Vp8, Vp9, Vp9Profile2, Vp9Profile1, Vp9Profile3, Av1, Av1Profile1, Av1Profile2,
        H264, H264Main, H264Baseline, H264ConstrainedHigh, H264High, H265, H265Main10,
    ];

    /// <summary>The catalog entry of a payload type and codec name, or null (a relayed codec this node does not list).</summary>
    public static RtpCodec? ByPayloadType(int payloadType, string name)
    {
        foreach (var c in All)
            if (c.PayloadType == payloadType && string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) return c;
        return null;
    }

    public const string MidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
    public const string RidUri = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    public const string RepairedRidUri = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    public const string AbsSendTimeUri = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    public const string AudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    public const string TransportCcUri = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// <summary>The transport-wide sequence number's id, on the sections the SFU sends on only (D-38).</summary>
    public const int TransportCcExtensionId = 6;

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

    private static readonly IReadOnlyList<ExtMap> AudioSendExtensions = [.. AudioExtensions, new(TransportCcExtensionId, TransportCcUri)];
    private static readonly IReadOnlyList<ExtMap> VideoSendExtensions = [.. VideoExtensions, new(TransportCcExtensionId, TransportCcUri)];

    /// <summary>The extensions of a section the SFU sends on: the kind's and the transport-wide sequence number (D-38).</summary>
    public static IReadOnlyList<ExtMap> ServerSendExtensionsFor(MediaKind kind) => kind == MediaKind.Audio ? AudioSendExtensions : VideoSendExtensions;

    /// <summary>The codec with `transport-cc` feedback: the receiver sends transport-wide feedback for what the SFU sends (D-38).</summary>
    public static RtpCodec WithTransportCc(RtpCodec c) =>
        c.Feedback.Contains("transport-cc") ? c : c with { Feedback = [.. c.Feedback, "transport-cc"] };

    /// <summary>
    /// The codec to offer for a Sora codec_type ("VP8", "VP9", "AV1", "H264", "H265", "OPUS"; case-insensitive), the
    /// first catalog entry of that type the client's throw-away offer shows it can do (any, when <paramref name="client"/>
    /// is null). An error value when the type is unknown or the client cannot do it.
    /// </summary>
    public static SdpResult<RtpCodec> Select(string? codecType, ClientCapabilities? client = null) =>
        Pick(codecType, _ => true, client, "");

    /// <summary>
    /// The Opus entry with the connection's own fmtp: <paramref name="opus"/> and the audio bit rate (kbps) written as
    /// RFC 7587 parameters (<see cref="CodecParamsFmtp.Opus"/>).
    /// </summary>
    public static SdpResult<RtpCodec> SelectAudio(string? codecType, OpusParams? opus, int? bitRateKbps, ClientCapabilities? client = null)
    {
        var picked = Select(codecType ?? "OPUS", client);
        if (!picked.IsOk || picked.Value!.Name != "opus") return picked;
        return SdpResult<RtpCodec>.Ok(picked.Value with { Parameters = CodecParamsFmtp.Opus(opus, bitRateKbps) });
    }

    /// <summary>
    /// The video entry for codec_type and its *_params: the profile (VP9 profile-id, AV1 profile, H.264 profile of
    /// profile-level-id, H.265 profile-id) picks the catalog entry, which the client must support; level, tier and
    /// tx-mode go into the connection's own fmtp. <paramref name="defaultH264ProfileLevelId"/> (sora.conf
    /// default_h264_profile_level_id) applies when H.264 is asked for without a profile_level_id.
    /// </summary>
    public static SdpResult<RtpCodec> SelectVideo(string? codecType, VideoCodecParams? p, ClientCapabilities? client = null,
        string? defaultH264ProfileLevelId = null)
    {
        var type = codecType?.Trim().ToUpperInvariant();
        p ??= new VideoCodecParams();
        switch (type)
        {
            case "VP9" when p.Vp9ProfileId is { } id:
                return Pick(type, c => Param(c, "profile-id", "0") == Num(id), client, $" profile-id={id}");
            case "AV1":
            {
                var profile = p.Av1Profile;
                var picked = Pick(type, c => profile is null || Param(c, "profile", "0") == Num(profile.Value), client,
                    profile is null ? "" : $" profile={profile}");
                if (!picked.IsOk) return picked;
                return SdpResult<RtpCodec>.Ok(WithFmtp(picked.Value!, ("level-idx", p.Av1LevelIdx), ("tier", p.Av1Tier)));
            }
            case "H264":
            {
                var pli = p.H264ProfileLevelId ?? defaultH264ProfileLevelId?.ToLowerInvariant();
                if (pli is null) return Pick(type, _ => true, client, "");
                var picked = Pick(type, c => ClientCapabilities.SameH264Profile(Param(c, "profile-level-id", "42001f"), pli), client,
                    $" profile-level-id={pli}");
                if (!picked.IsOk) return picked;
                return SdpResult<RtpCodec>.Ok(picked.Value! with { Parameters = Fmtp.Set(picked.Value!.Parameters, "profile-level-id", pli) });
            }
            case "H265":
            {
                var profile = p.H265ProfileId;
                var picked = Pick(type, c => profile is null || Param(c, "profile-id", "1") == Num(profile.Value), client,
                    profile is null ? "" : $" profile-id={profile}");
                if (!picked.IsOk) return picked;
                var codec = WithFmtp(picked.Value!, ("level-id", p.H265LevelId), ("tier-flag", p.H265TierFlag));
                if (p.H265TxMode is { } tx) codec = codec with { Parameters = Fmtp.Set(codec.Parameters, "tx-mode", tx) };
                return SdpResult<RtpCodec>.Ok(codec);
            }
            default:
                return Select(codecType, client);
        }
    }

    private static SdpResult<RtpCodec> Pick(string? codecType, Func<RtpCodec, bool> profile, ClientCapabilities? client, string what)
    {
        var type = codecType?.Trim().ToUpperInvariant();
        var ofType = All.Where(c => c.CodecType == type).ToList();
        if (ofType.Count == 0) return SdpResult<RtpCodec>.Fail($"unknown codec_type \"{codecType}\"");
        var candidates = ofType.Where(profile).ToList();
        if (candidates.Count == 0) return SdpResult<RtpCodec>.Fail($"{type}{what} is not offered by Hibari");
        if (client is null) return SdpResult<RtpCodec>.Ok(candidates[0]);
        foreach (var c in candidates) if (client.Supports(c)) return SdpResult<RtpCodec>.Ok(c);
        return SdpResult<RtpCodec>.Fail($"the client does not support {type}{what}");
    }

    private static string Param(RtpCodec c, string key, string absent) => c.ParameterMap.GetValueOrDefault(key) ?? absent;

    private static string Num(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static RtpCodec WithFmtp(RtpCodec c, params (string Key, int? Value)[] values)
    {
        var fmtp = c.Parameters ?? "";
        foreach (var (key, value) in values)
            if (value is { } v) fmtp = Fmtp.Set(fmtp, key, Num(v));
        return c with { Parameters = fmtp };
    }

    private static RtpCodec Video(string name, int pt, int rtx, string? fmtp) =>
        new(MediaKind.Video, name, 90000, null, pt, fmtp, VideoFeedback, rtx);
}

/// <summary>The connection's own fmtp text from its parameters (D-34).</summary>
public static class CodecParamsFmtp
{
    /// <summary>
    /// <see cref="CodecCatalog.OpusDefaultFmtp"/> with opus_params applied (booleans as 0/1, sprop_stereo as
    /// sprop-stereo; channels 1/2 sets the stereo defaults) and the bit rate as maxaveragebitrate in bit/s, which
    /// libwebrtc's Opus encoder takes as its target (RFC 7587 §6.1).
    /// </summary>
    public static string Opus(OpusParams? p, int? bitRateKbps)
    {
        var fmtp = CodecCatalog.OpusDefaultFmtp;
        if (p is not null)
        {
            if (p.MinPtime is { } minPtime) fmtp = Fmtp.Set(fmtp, "minptime", Num(minPtime));
            if (p.UseInbandFec is { } fec) fmtp = Fmtp.Set(fmtp, "useinbandfec", Bit(fec));
            var stereo = p.Stereo ?? (p.Channels is { } ch ? ch == 2 : null);
            var sprop = p.SpropStereo ?? (p.Channels is { } ch2 ? ch2 == 2 : null);
            if (stereo is { } st) fmtp = Fmtp.Set(fmtp, "stereo", Bit(st));
            if (sprop is { } sp) fmtp = Fmtp.Set(fmtp, "sprop-stereo", Bit(sp));
            if (p.UseDtx is { } dtx) fmtp = Fmtp.Set(fmtp, "usedtx", Bit(dtx));
            if (p.MaxPlaybackRate is { } rate) fmtp = Fmtp.Set(fmtp, "maxplaybackrate", Num(rate));
        }
        if (bitRateKbps is { } kbps) fmtp = Fmtp.Set(fmtp, "maxaveragebitrate", Num(kbps * 1000));
        return fmtp;
    }

    private static string Bit(bool b) => b ? "1" : "0";
    private static string Num(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A value or an error message; codecs in Hibari.Sdp return these instead of throwing.</summary>
public readonly record struct SdpResult<T>(T? Value, string? Error) where T : class
{
    public bool IsOk => Error is null;
    public static SdpResult<T> Ok(T value) => new(value, null);
    public static SdpResult<T> Fail(string error) => new(null, error);
}
