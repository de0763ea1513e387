using System.Text;
using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>
/// The one way signaling JSON is read: a bounded <see cref="JsonDocument"/> (size and depth limits), never an
/// exception to the caller. Members are looked up by name, so unknown members are ignored.
/// </summary>
internal static class SignalingJson
{
    /// <summary>Largest signaling message accepted (a JS connect is ~7 KB with its throw-away SDP).</summary>
    public const int MaxMessageBytes = 256 * 1024;
    /// <summary>Deepest nesting accepted (metadata and stats reports are shallow).</summary>
    public const int MaxDepth = 32;
    /// <summary>channel_id / client_id / bundle_id limit in UTF-8 bytes (docs/protocol-notes.md, "Identifiers and terms").</summary>
    public const int MaxIdBytes = 255;

    private static readonly JsonDocumentOptions Options = new()
    {
        MaxDepth = MaxDepth,
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
    };

    /// <summary>Parses an object with a string `type`; on failure the close to send.</summary>
    public static bool TryParseObject(ReadOnlySpan<byte> utf8, out JsonDocument document, out string type, out SignalingClose error)
    {
        document = null!;
        type = "";
        if (utf8.Length > MaxMessageBytes) { error = SignalingCloses.MessageTooLarge; return false; }
        // JsonDocument does not validate UTF-8 inside strings (found by the fuzz test); refuse it up front.
        if (!System.Text.Unicode.Utf8.IsValid(utf8) || !JsonInput.StringsDecode(utf8) || !TryParse(utf8, out var doc))
        {
            error = SignalingCloses.InvalidMessage;
            return false;
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object
            || !doc.RootElement.TryGetProperty("type", out var t) || !TryGetString(t, out var typeName))
        {
            doc.Dispose();
            error = SignalingCloses.InvalidMessage;
            return false;
        }
        document = doc;
        type = typeName;
        error = default;
        return true;
    }

    private static bool TryParse(ReadOnlySpan<byte> utf8, out JsonDocument document)
    {
        try
        {
            // JsonDocument.Parse takes ReadOnlyMemory; one copy of a bounded message.
            document = JsonDocument.Parse(utf8.ToArray(), Options);
            return true;
        }
        catch (JsonException)
        {
            document = null!;
            return false;
        }
        catch (ArgumentException)
        {
            // invalid UTF-8 surfaces as ArgumentException on some paths
            document = null!;
            return false;
        }
    }

    /// <summary>Absent or null → (true, null); string → (true, s); other kinds or an undecodable string → false.</summary>
    public static bool TryGetOptionalString(JsonElement obj, string name, out string? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (!TryGetString(e, out var s)) return false;
        value = s;
        return true;
    }

    /// <summary>
    /// The string value, or false when it is not a string or its escapes do not decode (a lone `\ud800` makes
    /// <see cref="JsonElement.GetString"/> throw).
    /// </summary>
    public static bool TryGetString(JsonElement e, out string value)
    {
        value = "";
        if (e.ValueKind != JsonValueKind.String) return false;
        try
        {
            value = e.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Absent or null → (true, null); true/false → value; other kinds → false.</summary>
    public static bool TryGetOptionalBool(JsonElement obj, string name, out bool? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind is JsonValueKind.True or JsonValueKind.False) { value = e.GetBoolean(); return true; }
        return false;
    }

    /// <summary>Absent or null → (true, null); an integer in [min, max] → value; anything else → false.</summary>
    public static bool TryGetOptionalInt(JsonElement obj, string name, int min, int max, out int? value)
    {
        value = null;
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var i) || i < min || i > max) return false;
        value = i;
        return true;
    }

    /// <summary>A spotlight rid (`spotlight_focus_rid`, `spotlight_unfocus_rid`): absent/null ok, else none, r0, r1 or r2.</summary>
    public static bool TryGetOptionalSpotlightRid(JsonElement obj, string name, out string? value) =>
        TryGetOptionalString(obj, name, out value) && value is null or "none" or "r0" or "r1" or "r2";

    /// <summary>Absent → null; any value (null included) → a detached copy.</summary>
    public static JsonElement? GetRaw(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var e) ? e.Clone() : null;

    public static bool FitsIdLimit(string s) => Encoding.UTF8.GetByteCount(s) <= MaxIdBytes;

    /// <summary>An optional id (client_id, bundle_id): absent/null ok, else a string of ≤ 255 UTF-8 bytes.</summary>
    public static bool TryGetOptionalId(JsonElement obj, string name, out string? value) =>
        TryGetOptionalString(obj, name, out value) && (value is null || FitsIdLimit(value));
}

/// <summary>Why an `audio`/`video` value was refused.</summary>
internal enum MediaError { None, Invalid, UnsupportedCodec }

/// <summary>`audio` / `video` as bool or object, shared by connect and the auth webhook overrides.</summary>
internal static class MediaJson
{
    public static MediaError TryReadAudio(JsonElement e, out AudioRequest audio) => TryReadAudio(e, out audio, out _);

    /// <summary><paramref name="detail"/>: what is wrong, for the close reason (empty when nothing is).</summary>
    public static MediaError TryReadAudio(JsonElement e, out AudioRequest audio, out string detail)
    {
        audio = AudioRequest.On;
        detail = "";
        switch (e.ValueKind)
        {
            case JsonValueKind.True: audio = AudioRequest.On; return MediaError.None;
            case JsonValueKind.False: audio = AudioRequest.Off; return MediaError.None;
            case JsonValueKind.Object: break;
            default: return MediaError.Invalid;
        }
        var codec = ReadCodec(e, MediaCodecs.IsAudioCodec, out var codecType);
        if (codec != MediaError.None) return codec;
        if (!TryReadBitRate(e, MediaCodecs.MinAudioBitRate, MediaCodecs.MaxAudioBitRate, out var bitRate))
        {
            detail = $"bit_rate must be an integer in {MediaCodecs.MinAudioBitRate}..{MediaCodecs.MaxAudioBitRate}";
            return MediaError.Invalid;
        }
        if (!TryReadParams(e, "opus_params", out var opus)) { detail = "opus_params must be an object"; return MediaError.Invalid; }
        Hibari.Sdp.OpusParams? typed = null;
        if (opus is { } raw)
        {
            if (!Hibari.Sdp.OpusParams.TryParse(raw, out var parsed, out detail)) return MediaError.Invalid;
            typed = parsed;
        }
        audio = new AudioRequest(true, codecType, bitRate, opus) { Opus = typed };
        return MediaError.None;
    }

    public static MediaError TryReadVideo(JsonElement e, out VideoRequest video) => TryReadVideo(e, out video, out _);

    public static MediaError TryReadVideo(JsonElement e, out VideoRequest video, out string detail)
    {
        video = VideoRequest.On;
        detail = "";
        switch (e.ValueKind)
        {
            case JsonValueKind.True: video = VideoRequest.On; return MediaError.None;
            case JsonValueKind.False: video = VideoRequest.Off; return MediaError.None;
            case JsonValueKind.Object: break;
            default: return MediaError.Invalid;
        }
        var codec = ReadCodec(e, MediaCodecs.IsVideoCodec, out var codecType);
        if (codec != MediaError.None) return codec;
        if (!TryReadBitRate(e, MediaCodecs.MinVideoBitRate, MediaCodecs.MaxVideoBitRate, out var bitRate))
        {
            detail = $"bit_rate must be an integer in {MediaCodecs.MinVideoBitRate}..{MediaCodecs.MaxVideoBitRate}";
            return MediaError.Invalid;
        }
        if (!TryReadParams(e, "vp9_params", out var vp9) || !TryReadParams(e, "av1_params", out var av1)
            || !TryReadParams(e, "h264_params", out var h264) || !TryReadParams(e, "h265_params", out var h265))
        {
            detail = "*_params must be objects";
            return MediaError.Invalid;
        }
        if (!TryReadVideoParams(vp9, av1, h264, h265, out var typed, out detail)) return MediaError.Invalid;
        video = new VideoRequest(true, codecType, bitRate, vp9, av1, h264, h265) { Params = typed };
        return MediaError.None;
    }

    /// <summary>The four *_params objects (each optional) validated into one <see cref="Hibari.Sdp.VideoCodecParams"/>; null when none.</summary>
    public static bool TryReadVideoParams(JsonElement? vp9, JsonElement? av1, JsonElement? h264, JsonElement? h265,
        out Hibari.Sdp.VideoCodecParams? typed, out string detail)
    {
        typed = null;
        detail = "";
        if (vp9 is null && av1 is null && h264 is null && h265 is null) return true;
        var p = new Hibari.Sdp.VideoCodecParams();
        if (vp9 is { } a && !Hibari.Sdp.VideoCodecParams.TryParseVp9(a, p, out p, out detail)) return false;
        if (av1 is { } b && !Hibari.Sdp.VideoCodecParams.TryParseAv1(b, p, out p, out detail)) return false;
        if (h264 is { } c && !Hibari.Sdp.VideoCodecParams.TryParseH264(c, p, out p, out detail)) return false;
        if (h265 is { } d && !Hibari.Sdp.VideoCodecParams.TryParseH265(d, p, out p, out detail)) return false;
        typed = p;
        return true;
    }

    private static MediaError ReadCodec(JsonElement obj, Func<string, bool> known, out string? codecType)
    {
        codecType = null;
        if (!SignalingJson.TryGetOptionalString(obj, "codec_type", out var s)) return MediaError.Invalid;
        if (s is null) return MediaError.None;
        if (!known(s)) return MediaError.UnsupportedCodec;
        codecType = s;
        return MediaError.None;
    }

    /// <summary>Absent/null ok; else an integer (JSON number without fraction) in [min, max].</summary>
    public static bool TryReadBitRate(JsonElement obj, int min, int max, out int? bitRate)
    {
        bitRate = null;
        if (!obj.TryGetProperty("bit_rate", out var e) || e.ValueKind == JsonValueKind.Null) return true;
        return TryReadBitRateValue(e, min, max, out bitRate);
    }

    public static bool TryReadBitRateValue(JsonElement e, int min, int max, out int? bitRate)
    {
        bitRate = null;
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out var v) || v < min || v > max) return false;
        bitRate = v;
        return true;
    }

    private static bool TryReadParams(JsonElement obj, string name, out JsonElement? raw)
    {
        raw = null;
        if (!obj.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != JsonValueKind.Object) return false;
        raw = e.Clone();
        return true;
    }
}
