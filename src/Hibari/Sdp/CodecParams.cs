using System.Globalization;
using System.Text.Json;

namespace Hibari.Sdp;

/// <summary>
/// `audio.opus_params` (connect) / `audio_opus_params` (auth webhook answer), validated (docs/decisions.md D-34). Every
/// field is optional; null = not given, the offer's default applies. Written into the Opus a=fmtp of the offer to the
/// publisher (<see cref="CodecParamsFmtp.Opus"/>), so that the browser's encoder follows them.
/// </summary>
public sealed record OpusParams
{
    /// <summary>1 or 2: sets the default of <see cref="Stereo"/> and <see cref="SpropStereo"/> (the rtpmap stays opus/48000/2, RFC 7587 §7).</summary>
    public int? Channels { get; init; }
    /// <summary>8000..48000 Hz.</summary>
    public int? MaxPlaybackRate { get; init; }
    /// <summary>ms, 3..120.</summary>
    public int? MinPtime { get; init; }
    /// <summary>ms, 3..120: written as a=ptime (RFC 4566), which libwebrtc reads as the encoder's frame length.</summary>
    public int? Ptime { get; init; }
    public bool? Stereo { get; init; }
    public bool? SpropStereo { get; init; }
    public bool? UseInbandFec { get; init; }
    public bool? UseDtx { get; init; }

    private static readonly string[] Keys = ["channels", "maxplaybackrate", "minptime", "ptime", "stereo", "sprop_stereo", "useinbandfec", "usedtx"];

    /// <summary>Strict: an object with only the documented keys, each of its type and range (Sora refuses the whole object otherwise).</summary>
    public static bool TryParse(JsonElement e, out OpusParams value, out string error)
    {
        value = new OpusParams();
        if (!CodecParamsJson.OnlyKeys(e, Keys, "opus_params", out error)) return false;
        if (!CodecParamsJson.Int(e, "channels", 1, 2, out var channels, ref error)
            || !CodecParamsJson.Int(e, "maxplaybackrate", 8000, 48000, out var maxPlayback, ref error)
            || !CodecParamsJson.Int(e, "minptime", 3, 120, out var minPtime, ref error)
            || !CodecParamsJson.Int(e, "ptime", 3, 120, out var ptime, ref error)
            || !CodecParamsJson.Bool(e, "stereo", out var stereo, ref error)
            || !CodecParamsJson.Bool(e, "sprop_stereo", out var spropStereo, ref error)
            || !CodecParamsJson.Bool(e, "useinbandfec", out var fec, ref error)
            || !CodecParamsJson.Bool(e, "usedtx", out var dtx, ref error))
            return false;
        value = new OpusParams
        {
            Channels = channels, MaxPlaybackRate = maxPlayback, MinPtime = minPtime, Ptime = ptime, Stereo = stereo,
            SpropStereo = spropStereo, UseInbandFec = fec, UseDtx = dtx,
        };
        return true;
    }
}

/// <summary>
/// `video.vp9_params` / `av1_params` / `h264_params` / `h265_params` (connect) and the auth webhook's `video_*_params`,
/// validated (D-34). Only the object of the connection's video codec is used; the others are checked and kept for the
/// webhooks.
/// </summary>
public sealed record VideoCodecParams
{
    /// <summary>VP9 profile-id 0..3 (RFC 9628 §6).</summary>
    public int? Vp9ProfileId { get; init; }
    /// <summary>AV1 profile 0..2, level-idx 0..31, tier 0..1 (AV1 RTP payload spec, SDP parameters).</summary>
    public int? Av1Profile { get; init; }
    public int? Av1LevelIdx { get; init; }
    public int? Av1Tier { get; init; }
    /// <summary>H.264 profile-level-id: six hex digits, lower-case (RFC 6184 §8.1).</summary>
    public string? H264ProfileLevelId { get; init; }
    public bool? H264BFrame { get; init; }
    /// <summary>H.265 level-id 0..255, profile-id 0..31, tier-flag 0..1, tx-mode SRST/MRST/MRMT (RFC 7798 §7.1).</summary>
    public int? H265LevelId { get; init; }
    public int? H265ProfileId { get; init; }
    public int? H265TierFlag { get; init; }
    public string? H265TxMode { get; init; }
    public bool? H265BFrame { get; init; }

    public bool HasVp9 => Vp9ProfileId is not null;
    public bool HasAv1 => Av1Profile is not null || Av1LevelIdx is not null || Av1Tier is not null;
    public bool HasH264 => H264ProfileLevelId is not null || H264BFrame is not null;
    public bool HasH265 => H265LevelId is not null || H265ProfileId is not null || H265TierFlag is not null || H265TxMode is not null || H265BFrame is not null;

    public static bool TryParseVp9(JsonElement e, VideoCodecParams into, out VideoCodecParams value, out string error)
    {
        value = into;
        if (!CodecParamsJson.OnlyKeys(e, ["profile_id"], "vp9_params", out error)) return false;
        if (!CodecParamsJson.Int(e, "profile_id", 0, 3, out var profile, ref error)) return false;
        value = into with { Vp9ProfileId = profile };
        return true;
    }

    public static bool TryParseAv1(JsonElement e, VideoCodecParams into, out VideoCodecParams value, out string error)
    {
        value = into;
        if (!CodecParamsJson.OnlyKeys(e, ["profile", "level_idx", "tier"], "av1_params", out error)) return false;
        if (!CodecParamsJson.Int(e, "profile", 0, 2, out var profile, ref error)
            || !CodecParamsJson.Int(e, "level_idx", 0, 31, out var level, ref error)
            || !CodecParamsJson.Int(e, "tier", 0, 1, out var tier, ref error))
            return false;
        value = into with { Av1Profile = profile, Av1LevelIdx = level, Av1Tier = tier };
        return true;
    }

    public static bool TryParseH264(JsonElement e, VideoCodecParams into, out VideoCodecParams value, out string error)
    {
        value = into;
        if (!CodecParamsJson.OnlyKeys(e, ["profile_level_id", "b_frame"], "h264_params", out error)) return false;
        if (!CodecParamsJson.Bool(e, "b_frame", out var bFrame, ref error)) return false;
        string? pli = null;
        if (e.TryGetProperty("profile_level_id", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            if (p.ValueKind != JsonValueKind.String || !IsProfileLevelId(p.GetString()!))
            {
                error = "h264_params.profile_level_id must be six hex digits (e.g. \"42e01f\")";
                return false;
            }
            pli = p.GetString()!.ToLowerInvariant();
        }
        value = into with { H264ProfileLevelId = pli, H264BFrame = bFrame };
        return true;
    }

    public static bool TryParseH265(JsonElement e, VideoCodecParams into, out VideoCodecParams value, out string error)
    {
        value = into;
        if (!CodecParamsJson.OnlyKeys(e, ["level_id", "profile_id", "tier_flag", "tx_mode", "b_frame"], "h265_params", out error)) return false;
        if (!CodecParamsJson.Int(e, "level_id", 0, 255, out var level, ref error)
            || !CodecParamsJson.Int(e, "profile_id", 0, 31, out var profile, ref error)
            || !CodecParamsJson.Int(e, "tier_flag", 0, 1, out var tier, ref error)
            || !CodecParamsJson.Bool(e, "b_frame", out var bFrame, ref error))
            return false;
        string? txMode = null;
        if (e.TryGetProperty("tx_mode", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.String || t.GetString() is not ("SRST" or "MRST" or "MRMT"))
            {
                error = "h265_params.tx_mode must be \"SRST\", \"MRST\" or \"MRMT\"";
                return false;
            }
            txMode = t.GetString();
        }
        value = into with { H265LevelId = level, H265ProfileId = profile, H265TierFlag = tier, H265TxMode = txMode, H265BFrame = bFrame };
        return true;
    }

    /// <summary>Six hex digits.</summary>
    public static bool IsProfileLevelId(string s) =>
        s.Length == 6 && int.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _);
}

/// <summary>The strict readers shared by <see cref="OpusParams"/> and <see cref="VideoCodecParams"/>.</summary>
internal static class CodecParamsJson
{
    public static bool OnlyKeys(JsonElement e, string[] keys, string name, out string error)
    {
        error = "";
        if (e.ValueKind != JsonValueKind.Object) { error = $"{name} must be an object"; return false; }
        foreach (var p in e.EnumerateObject())
            if (Array.IndexOf(keys, p.Name) < 0)
            {
                error = $"{name}: unknown key \"{Cut(p.Name)}\" (known: {string.Join(", ", keys)})";
                return false;
            }
        return true;
    }

    public static bool Int(JsonElement obj, string key, int min, int max, out int? value, ref string error)
    {
        value = null;
        if (!obj.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var v) || v < min || v > max)
        {
            error = $"{key} must be an integer in {min}..{max}";
            return false;
        }
        value = v;
        return true;
    }

    public static bool Bool(JsonElement obj, string key, out bool? value, ref string error)
    {
        value = null;
        if (!obj.TryGetProperty(key, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = $"{key} must be a boolean";
            return false;
        }
        value = e.ValueKind == JsonValueKind.True;
        return true;
    }

    private static string Cut(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
