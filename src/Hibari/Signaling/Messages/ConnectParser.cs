using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>
/// Validates the first signaling message (docs/protocol-notes.md, "The connect message"). Rules, checked in this order, each with one close:
/// size ≤ 256 KiB (SIGNALING-MESSAGE-TOO-LARGE); a JSON object of depth ≤ 32 with `"type":"connect"`
/// (INVALID-SIGNALING-MESSAGE); `role` one of sendrecv/sendonly/recvonly (INVALID-ROLE); `channel_id` a non-empty
/// string of ≤ 255 UTF-8 bytes (INVALID-CHANNEL-ID); `client_id`, `bundle_id` strings of ≤ 255 bytes when present
/// (INVALID-CLIENT-ID, INVALID-BUNDLE-ID); `audio`/`video` bool or object, absent = true (INVALID-AUDIO / INVALID-VIDEO,
/// unknown codec_type → UNSUPPORTED-CODEC-TYPE); `multistream: false` → MULTISTREAM-REQUIRED; any other known member of
/// the wrong JSON kind → INVALID-SIGNALING-MESSAGE. Unknown members are ignored; `null` counts as absent for optional ones.
/// </summary>
public static class ConnectParser
{
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ConnectRequest request, out SignalingClose error)
    {
        request = null!;
        if (!SignalingJson.TryParseObject(utf8, out var doc, out var type, out error)) return false;
        using (doc)
        {
            if (type != "connect") { error = SignalingCloses.InvalidMessage; return false; }
            return TryRead(doc.RootElement, out request, out error);
        }
    }

    private static bool TryRead(JsonElement m, out ConnectRequest request, out SignalingClose error)
    {
        request = null!;
        error = SignalingCloses.InvalidMessage;

        if (!m.TryGetProperty("role", out var roleElement) || !SignalingJson.TryGetString(roleElement, out var roleName)
            || !Roles.TryParse(roleName, out var role))
            return Fail(SignalingCloses.InvalidRole, out error);

        if (!m.TryGetProperty("channel_id", out var ch) || !SignalingJson.TryGetString(ch, out var channelId)
            || channelId.Length == 0 || !SignalingJson.FitsIdLimit(channelId))
            return Fail(SignalingCloses.InvalidChannelId, out error);

        if (!SignalingJson.TryGetOptionalId(m, "client_id", out var clientId)) return Fail(SignalingCloses.InvalidClientId, out error);
        if (!SignalingJson.TryGetOptionalId(m, "bundle_id", out var bundleId)) return Fail(SignalingCloses.InvalidBundleId, out error);

        var audio = AudioRequest.On;
        if (m.TryGetProperty("audio", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            switch (MediaJson.TryReadAudio(a, out audio, out var why))
            {
                case MediaError.Invalid: return Fail(why.Length == 0 ? SignalingCloses.InvalidAudio : SignalingCloses.WithDetail(SignalingCloses.InvalidAudio, why), out error);
                case MediaError.UnsupportedCodec: return Fail(SignalingCloses.UnsupportedCodecType, out error);
            }
        }
        var video = VideoRequest.On;
        if (m.TryGetProperty("video", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            switch (MediaJson.TryReadVideo(v, out video, out var why))
            {
                case MediaError.Invalid: return Fail(why.Length == 0 ? SignalingCloses.InvalidVideo : SignalingCloses.WithDetail(SignalingCloses.InvalidVideo, why), out error);
                case MediaError.UnsupportedCodec: return Fail(SignalingCloses.UnsupportedCodecType, out error);
            }
        }

        if (!SignalingJson.TryGetOptionalBool(m, "multistream", out var multistream)) return false;
        if (multistream == false) return Fail(SignalingCloses.MultistreamRequired, out error);

        if (!TryReadSimulcast(m, out var simulcast)) return false;
        // The layer a receiver starts on: simulcast_request_rid (sora-js-sdk 2025.2+, may be "none"), else the older simulcast_rid.
        if (!SignalingJson.TryGetOptionalString(m, "simulcast_request_rid", out var requestRid)
            || !SignalingJson.TryGetOptionalString(m, "simulcast_rid", out var legacyRid)) return false;
        if (requestRid is not (null or "none" or "r0" or "r1" or "r2") || legacyRid is not (null or "r0" or "r1" or "r2"))
            return Fail(SignalingCloses.WithDetail(SignalingCloses.InvalidMessage, "simulcast_request_rid / simulcast_rid must be r0, r1 or r2 (or none)"), out error);
        if (!SignalingJson.TryGetOptionalBool(m, "spotlight", out var spotlight)) return false;
        // Spotlight (D-37): the number of focused senders 1–8 (Sora's ChangeSpotlightNumber range), the rids of focused
        // and unfocused senders' video.
        if (!SignalingJson.TryGetOptionalInt(m, "spotlight_number", 1, Sfu.Spotlight.SpotlightSelector.MaxSpotlightNumber, out var spotlightNumber))
            return Fail(SignalingCloses.WithDetail(SignalingCloses.InvalidMessage, "spotlight_number must be an integer in 1..8"), out error);
        if (!SignalingJson.TryGetOptionalSpotlightRid(m, "spotlight_focus_rid", out var focusRid)
            || !SignalingJson.TryGetOptionalSpotlightRid(m, "spotlight_unfocus_rid", out var unfocusRid))
            return Fail(SignalingCloses.WithDetail(SignalingCloses.InvalidMessage, "spotlight_focus_rid / spotlight_unfocus_rid must be none, r0, r1 or r2"), out error);
        if (!SignalingJson.TryGetOptionalBool(m, "data_channel_signaling", out var dcSignaling)) return false;
        if (!SignalingJson.TryGetOptionalBool(m, "ignore_disconnect_websocket", out var ignoreWs)) return false;
        if (!SignalingJson.TryGetOptionalBool(m, "redirect", out var redirect)) return false;
        if (!SignalingJson.TryGetOptionalString(m, "sdp", out var sdp)) return false;
        if (!SignalingJson.TryGetOptionalString(m, "sora_client", out var soraClient)) return false;
        if (!SignalingJson.TryGetOptionalString(m, "environment", out var environment)) return false;
        if (!SignalingJson.TryGetOptionalString(m, "libwebrtc", out var libwebrtc)) return false;

        JsonElement? dataChannels = null;
        if (m.TryGetProperty("data_channels", out var dc) && dc.ValueKind != JsonValueKind.Null)
        {
            if (!DataChannelsParser.TryParse(dc, out _, out var why))
                return Fail(SignalingCloses.WithDetail(SignalingCloses.InvalidDataChannels, why), out error);
            dataChannels = dc.Clone();
        }

        // Forwarding filters (D-54): forwarding_filters wins over the legacy forwarding_filter.
        if (!Sfu.ForwardingFilters.TryReadMember(m, out var forwardingFilters, out var filterWhy))
            return Fail(SignalingCloses.WithDetail(SignalingCloses.InvalidForwardingFilter, filterWhy), out error);

        request = new ConnectRequest
        {
            ForwardingFilters = forwardingFilters,
            SimulcastRid = requestRid ?? legacyRid,
            Role = role,
            ChannelId = channelId,
            ClientId = clientId,
            BundleId = bundleId,
            Metadata = SignalingJson.GetRaw(m, "metadata"),
            SignalingNotifyMetadata = SignalingJson.GetRaw(m, "signaling_notify_metadata"),
            Audio = audio,
            Video = video,
            Sdp = sdp,
            Simulcast = simulcast,
            Spotlight = spotlight ?? false,
            SpotlightNumber = spotlightNumber,
            SpotlightFocusRid = focusRid,
            SpotlightUnfocusRid = unfocusRid,
            DataChannelSignaling = dcSignaling,
            IgnoreDisconnectWebsocket = ignoreWs,
            DataChannels = dataChannels,
            Redirect = redirect == true,
            SoraClient = soraClient,
            Environment = environment,
            Libwebrtc = libwebrtc,
        };
        error = default;
        return true;
    }

    /// <summary>`simulcast` is a bool; the legacy object form `{rid}` (old JS types) means true.</summary>
    private static bool TryReadSimulcast(JsonElement m, out bool simulcast)
    {
        simulcast = false;
        if (!m.TryGetProperty("simulcast", out var s) || s.ValueKind == JsonValueKind.Null) return true;
        switch (s.ValueKind)
        {
            case JsonValueKind.True: simulcast = true; return true;
            case JsonValueKind.False: return true;
            case JsonValueKind.Object: simulcast = true; return true;
            default: return false;
        }
    }

    private static bool Fail(SignalingClose close, out SignalingClose error)
    {
        error = close;
        return false;
    }
}
