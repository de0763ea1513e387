using System.Text.Json;
using Hibari.Signaling.Messages;

namespace Hibari.Webhooks;

/// <summary>Reads a 2xx auth webhook answer body into an <see cref="AuthOutcome"/>. Pure; never throws.</summary>
internal static class AuthAnswerParser
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static AuthOutcome Parse(ReadOnlySpan<byte> body)
    {
        JsonDocument doc;
        try
        {
            if (!System.Text.Unicode.Utf8.IsValid(body) || !JsonInput.StringsDecode(body)) return new AuthOutcome.Failed("invalid JSON");
            doc = JsonDocument.Parse(body.ToArray(), Options);
        }
        catch (JsonException)
        {
            return new AuthOutcome.Failed("invalid JSON");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return new AuthOutcome.Failed("answer is not a JSON object");
            if (!root.TryGetProperty("allowed", out var allowed) || allowed.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                return new AuthOutcome.Failed("allowed is missing or not a bool");
            if (!allowed.GetBoolean())
            {
                var reason = root.TryGetProperty("reason", out var r) && SignalingJson.TryGetString(r, out var s) ? s : null;
                return new AuthOutcome.Denied(reason);
            }
            return TryReadOverrides(root, out var overrides, out var field)
                ? new AuthOutcome.Allowed(overrides)
                : new AuthOutcome.Failed($"invalid {field}");
        }
    }

    private static bool TryReadOverrides(JsonElement a, out AuthOverrides overrides, out string field)
    {
        overrides = AuthOverrides.None;
        field = "client_id";
        if (!SignalingJson.TryGetOptionalId(a, field, out var clientId)) return false;
        field = "bundle_id";
        if (!SignalingJson.TryGetOptionalId(a, field, out var bundleId)) return false;

        AudioRequest? audio = null;
        field = "audio";
        if (a.TryGetProperty(field, out var ae) && ae.ValueKind != JsonValueKind.Null)
        {
            if (MediaJson.TryReadAudio(ae, out var parsed) != MediaError.None) return false;
            audio = parsed;
        }
        VideoRequest? video = null;
        field = "video";
        if (a.TryGetProperty(field, out var ve) && ve.ValueKind != JsonValueKind.Null)
        {
            if (MediaJson.TryReadVideo(ve, out var parsed) != MediaError.None) return false;
            video = parsed;
        }

        field = "audio_codec_type";
        if (!TryReadCodec(a, field, MediaCodecs.IsAudioCodec, out var audioCodec)) return false;
        field = "video_codec_type";
        if (!TryReadCodec(a, field, MediaCodecs.IsVideoCodec, out var videoCodec)) return false;
        field = "audio_bit_rate";
        if (!TryReadBitRate(a, field, MediaCodecs.MinAudioBitRate, MediaCodecs.MaxAudioBitRate, out var audioBitRate)) return false;
        field = "video_bit_rate";
        if (!TryReadBitRate(a, field, MediaCodecs.MinVideoBitRate, MediaCodecs.MaxVideoBitRate, out var videoBitRate)) return false;
        field = "audio_opus_params";
        if (!TryReadKind(a, field, JsonValueKind.Object, out var opus)) return false;
        Hibari.Sdp.OpusParams? opusTyped = null;
        if (opus is { } rawOpus)
        {
            if (!Hibari.Sdp.OpusParams.TryParse(rawOpus, out var parsedOpus, out var why)) { field += $" ({why})"; return false; }
            opusTyped = parsedOpus;
        }
        // The flat names of video.*_params (the rule audio.opus_params → audio_opus_params applied to video, D-34).
        field = "video_vp9_params";
        if (!TryReadKind(a, field, JsonValueKind.Object, out var vp9)) return false;
        field = "video_av1_params";
        if (!TryReadKind(a, field, JsonValueKind.Object, out var av1)) return false;
        field = "video_h264_params";
        if (!TryReadKind(a, field, JsonValueKind.Object, out var h264)) return false;
        field = "video_h265_params";
        if (!TryReadKind(a, field, JsonValueKind.Object, out var h265)) return false;
        field = "video_*_params";
        if (!MediaJson.TryReadVideoParams(vp9, av1, h264, h265, out var videoParams, out var videoWhy)) { field += $" ({videoWhy})"; return false; }
        field = "h264_profile_level_id";
        if (!SignalingJson.TryGetOptionalString(a, field, out var h264Pli)) return false;
        if (h264Pli is not null && !Hibari.Sdp.VideoCodecParams.IsProfileLevelId(h264Pli)) return false;

        field = "simulcast";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var simulcast)) return false;
        field = "simulcast_rid";
        if (!SignalingJson.TryGetOptionalString(a, field, out var simulcastRid) || simulcastRid is not (null or "r0" or "r1" or "r2")) return false;
        field = "simulcast_request_rid";
        if (!SignalingJson.TryGetOptionalString(a, field, out var requestRid) || requestRid is not (null or "none" or "r0" or "r1" or "r2")) return false;
        field = "simulcast_encodings";
        if (!TryReadKind(a, field, JsonValueKind.Array, out var encodings)) return false;
        if (encodings is { } enc && !SimulcastEncodings.Valid(enc, out var encWhy)) { field += $" ({encWhy})"; return false; }

        field = "signaling_notify";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var notify)) return false;
        field = "data_channel_signaling";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var dcs)) return false;
        field = "ignore_disconnect_websocket";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var ignoreWs)) return false;
        field = "cluster_affinity";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var affinity)) return false;
        field = "data_channels";
        if (!TryReadKind(a, field, JsonValueKind.Array, out var dataChannels)) return false;
        field = "turn_tcp_only";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var turnTcpOnly)) return false;
        field = "turn_tls_only";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var turnTlsOnly)) return false;

        field = "spotlight";
        if (!SignalingJson.TryGetOptionalBool(a, field, out var spotlight)) return false;
        field = "spotlight_number";
        if (!SignalingJson.TryGetOptionalInt(a, field, 1, Sfu.Spotlight.SpotlightSelector.MaxSpotlightNumber, out var spotlightNumber)) return false;
        field = "spotlight_focus_rid";
        if (!SignalingJson.TryGetOptionalSpotlightRid(a, field, out var focusRid)) return false;
        field = "spotlight_unfocus_rid";
        if (!SignalingJson.TryGetOptionalSpotlightRid(a, field, out var unfocusRid)) return false;
        field = "rpc_methods";
        if (!TryReadKind(a, field, JsonValueKind.Array, out var rpc)) return false;
        List<string>? rpcMethods = null;
        if (rpc is { } rpcArray)
        {
            rpcMethods = [];
            foreach (var m in rpcArray.EnumerateArray())
            {
                if (m.ValueKind != JsonValueKind.String) return false;
                rpcMethods.Add(m.GetString()!);
            }
        }

        field = "forwarding_filters";
        if (!Sfu.ForwardingFilters.TryReadMember(a, out var forwardingFilters, out var filterWhy)) { field = filterWhy; return false; }

        overrides = new AuthOverrides
        {
            ForwardingFilters = forwardingFilters,
            ClientId = clientId,
            BundleId = bundleId,
            Metadata = SignalingJson.GetRaw(a, "metadata"),
            EventMetadata = SignalingJson.GetRaw(a, "event_metadata"),
            Audio = audio,
            Video = video,
            AudioCodecType = audioCodec,
            AudioBitRate = audioBitRate,
            AudioOpusParams = opus,
            Opus = opusTyped,
            Simulcast = simulcast,
            SimulcastRid = requestRid ?? simulcastRid,
            SimulcastEncodings = encodings,
            VideoParams = videoParams,
            H264ProfileLevelId = h264Pli?.ToLowerInvariant(),
            VideoCodecType = videoCodec,
            VideoBitRate = videoBitRate,
            SignalingNotify = notify,
            SignalingNotifyMetadata = SignalingJson.GetRaw(a, "signaling_notify_metadata"),
            DataChannelSignaling = dcs,
            IgnoreDisconnectWebsocket = ignoreWs,
            DataChannels = dataChannels,
            ClusterAffinity = affinity,
            TurnTcpOnly = turnTcpOnly == true,
            TurnTlsOnly = turnTlsOnly == true,
            RpcMethods = rpcMethods,
            Spotlight = spotlight,
            SpotlightNumber = spotlightNumber,
            SpotlightFocusRid = focusRid,
            SpotlightUnfocusRid = unfocusRid,
        };
        field = "";
        return true;
    }

    private static bool TryReadCodec(JsonElement a, string name, Func<string, bool> known, out string? codec)
    {
        codec = null;
        if (!SignalingJson.TryGetOptionalString(a, name, out var s)) return false;
        if (s is not null && !known(s)) return false;
        codec = s;
        return true;
    }

    private static bool TryReadBitRate(JsonElement a, string name, int min, int max, out int? bitRate)
    {
        bitRate = null;
        if (!a.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        return MediaJson.TryReadBitRateValue(e, min, max, out bitRate);
    }

    private static bool TryReadKind(JsonElement a, string name, JsonValueKind kind, out JsonElement? raw)
    {
        raw = null;
        if (!a.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return true;
        if (e.ValueKind != kind) return false;
        raw = e.Clone();
        return true;
    }
}
