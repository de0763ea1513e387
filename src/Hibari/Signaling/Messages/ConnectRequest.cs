using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>`role` of a connect (docs/protocol-notes.md, "The connect message").</summary>
public enum Role { SendRecv, SendOnly, RecvOnly }

/// <summary>Wire names of <see cref="Role"/>.</summary>
public static class Roles
{
    public static string ToWire(this Role role) => role switch
    {
        Role.SendRecv => "sendrecv",
        Role.SendOnly => "sendonly",
        _ => "recvonly",
    };

    public static bool TryParse(string? wire, out Role role)
    {
        switch (wire)
        {
            case "sendrecv": role = Role.SendRecv; return true;
            case "sendonly": role = Role.SendOnly; return true;
            case "recvonly": role = Role.RecvOnly; return true;
            default: role = default; return false;
        }
    }
}

/// <summary>
/// Requested audio: `audio: bool` or `audio: {codec_type?, bit_rate?, opus_params?}` (docs/protocol-notes.md, "The connect message"). An object means enabled.
/// <see cref="CodecType"/> is a validated wire name ("OPUS"); <see cref="BitRate"/> is kbps.
/// </summary>
public sealed record AudioRequest(bool Enabled, string? CodecType = null, int? BitRate = null, JsonElement? OpusParams = null)
{
    /// <summary><see cref="OpusParams"/> validated (null when absent).</summary>
    public Hibari.Sdp.OpusParams? Opus { get; init; }

    public static readonly AudioRequest On = new(true);
    public static readonly AudioRequest Off = new(false);
}

/// <summary>
/// Requested video: `video: bool` or `video: {codec_type?, bit_rate?, vp9_params?, av1_params?, h264_params?, h265_params?}`.
/// <see cref="CodecType"/> is one of VP8, VP9, AV1, H264, H265; <see cref="BitRate"/> is kbps. The *_params are kept raw.
/// </summary>
public sealed record VideoRequest(
    bool Enabled, string? CodecType = null, int? BitRate = null,
    JsonElement? Vp9Params = null, JsonElement? Av1Params = null, JsonElement? H264Params = null, JsonElement? H265Params = null)
{
    /// <summary>The *_params validated and merged (null when none was given).</summary>
    public Hibari.Sdp.VideoCodecParams? Params { get; init; }

    public static readonly VideoRequest On = new(true);
    public static readonly VideoRequest Off = new(false);
}

/// <summary>
/// A validated `connect` (docs/protocol-notes.md, "The connect message", "SDK differences"). Raw JSON members are detached <see cref="JsonElement"/>s:
/// C# null = the key was absent, <see cref="JsonValueKind.Null"/> = the client sent `null`.
/// Optional bools are null when the client did not send them, so the server's default applies.
/// </summary>
public sealed record ConnectRequest
{
    public required Role Role { get; init; }
    public required string ChannelId { get; init; }
    public string? ClientId { get; init; }
    /// <summary>Honoured only with `signaling_bundle_id = true`; the parser keeps it either way.</summary>
    public string? BundleId { get; init; }
    /// <summary>Authentication metadata, passed to the auth webhook.</summary>
    public JsonElement? Metadata { get; init; }
    /// <summary>Echoed to the other connections in notify `metadata`.</summary>
    public JsonElement? SignalingNotifyMetadata { get; init; }
    public AudioRequest Audio { get; init; } = AudioRequest.On;
    public VideoRequest Video { get; init; } = VideoRequest.On;
    /// <summary>The client's throw-away offer (capabilities only). Absent from C++ SDK connects (Appendix D).</summary>
    public string? Sdp { get; init; }
    public bool Simulcast { get; init; }
    /// <summary>The layer a receiver asks for: `simulcast_request_rid` ("none", "r0".."r2") or else `simulcast_rid`; null: Sora's default r0.</summary>
    public string? SimulcastRid { get; init; }
    public bool Spotlight { get; init; }
    /// <summary>`spotlight_number` (1–8), `spotlight_focus_rid`, `spotlight_unfocus_rid` ("none", "r0".."r2"); null when absent (D-37).</summary>
    public int? SpotlightNumber { get; init; }
    public string? SpotlightFocusRid { get; init; }
    public string? SpotlightUnfocusRid { get; init; }
    public bool? DataChannelSignaling { get; init; }
    public bool? IgnoreDisconnectWebsocket { get; init; }
    /// <summary>`data_channels` array, raw (messaging, docs/protocol-notes.md, "Messaging").</summary>
    public JsonElement? DataChannels { get; init; }
    /// <summary>True when the connect carried `"redirect": true` (sent after a `redirect`, docs/protocol-notes.md, "Client behaviour: URL lists and redirect").</summary>
    public bool Redirect { get; init; }
    public string? SoraClient { get; init; }
    /// <summary>`forwarding_filters` (or the legacy single `forwarding_filter`), validated; null when absent (D-54).</summary>
    public IReadOnlyList<Hibari.Sfu.ForwardingFilter>? ForwardingFilters { get; init; }
    public string? Environment { get; init; }
    public string? Libwebrtc { get; init; }
}
