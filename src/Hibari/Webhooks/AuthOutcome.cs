using System.Text.Json;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Webhooks;

/// <summary>
/// What an `allowed: true` answer may assign (払い出し, docs/protocol-notes.md, "Auth webhook"). C# null = not assigned; for the raw
/// JSON members a JSON null is an assignment of null.
/// </summary>
public sealed record AuthOverrides
{
    public static readonly AuthOverrides None = new();

    public string? ClientId { get; init; }
    public string? BundleId { get; init; }
    /// <summary>→ offer `metadata` (and notify `authz_metadata`).</summary>
    public JsonElement? Metadata { get; init; }
    /// <summary>→ event webhooks and ListChannelConnections `event_metadata`.</summary>
    public JsonElement? EventMetadata { get; init; }
    public AudioRequest? Audio { get; init; }
    public VideoRequest? Video { get; init; }
    public string? AudioCodecType { get; init; }
    public int? AudioBitRate { get; init; }
    public JsonElement? AudioOpusParams { get; init; }
    /// <summary><see cref="AudioOpusParams"/> validated: replaces the connect's opus_params as a whole.</summary>
    public Hibari.Sdp.OpusParams? Opus { get; init; }
    /// <summary>`video_vp9_params` / `video_av1_params` / `video_h264_params` / `video_h265_params`, validated and merged: replace the connect's.</summary>
    public Hibari.Sdp.VideoCodecParams? VideoParams { get; init; }
    /// <summary>`h264_profile_level_id`: overrides the H.264 profile-level-id alone.</summary>
    public string? H264ProfileLevelId { get; init; }
    /// <summary>`simulcast`: overrides the connect's.</summary>
    public bool? Simulcast { get; init; }
    /// <summary>`simulcast_request_rid` / `simulcast_rid`: the layer this connection receives.</summary>
    public string? SimulcastRid { get; init; }
    /// <summary>`simulcast_encodings`, validated (<see cref="SimulcastEncodings"/>): the offer's `encodings`.</summary>
    public JsonElement? SimulcastEncodings { get; init; }
    public string? VideoCodecType { get; init; }
    public int? VideoBitRate { get; init; }
    public bool? SignalingNotify { get; init; }
    public JsonElement? SignalingNotifyMetadata { get; init; }
    public bool? DataChannelSignaling { get; init; }
    public bool? IgnoreDisconnectWebsocket { get; init; }
    /// <summary>`data_channels` array, raw.</summary>
    public JsonElement? DataChannels { get; init; }
    /// <summary>Hibari extension kept for placement: whether this connection follows cluster affinity (UNCONFIRMED in Sora).</summary>
    public bool? ClusterAffinity { get; init; }
    /// <summary>Sora's `turn_tcp_only` / `turn_tls_only`: the offer lists only the TURN-TCP / TURN-TLS URL (D-57).</summary>
    public bool TurnTcpOnly { get; init; }
    public bool TurnTlsOnly { get; init; }
    /// <summary>`rpc_methods`: the methods the client may call on the `rpc` data channel (D-36); null when absent.</summary>
    public IReadOnlyList<string>? RpcMethods { get; init; }
    /// <summary>`spotlight`, `spotlight_number`, `spotlight_focus_rid`, `spotlight_unfocus_rid` (D-37); null when absent.</summary>
    public bool? Spotlight { get; init; }
    public int? SpotlightNumber { get; init; }
    public string? SpotlightFocusRid { get; init; }
    public string? SpotlightUnfocusRid { get; init; }
    /// <summary>`forwarding_filters` / `forwarding_filter`, validated: replace the connect's as a whole (D-54); null when absent.</summary>
    public IReadOnlyList<Hibari.Sfu.ForwardingFilter>? ForwardingFilters { get; init; }
}

/// <summary>Result of the auth webhook. Fail closed: anything but a valid 2xx answer is <see cref="Failed"/>.</summary>
public abstract record AuthOutcome
{
    private AuthOutcome() { }

    /// <summary>`allowed: true`, with the assigned overrides (<see cref="AuthOverrides.None"/> without an auth webhook).</summary>
    public sealed record Allowed(AuthOverrides Overrides) : AuthOutcome;

    /// <summary>`allowed: false`, with the webhook's `reason` when it sent a string.</summary>
    public sealed record Denied(string? Reason) : AuthOutcome
    {
        /// <summary>
        /// Close for the client: 4410 with the webhook's reason when it is 1..123 bytes of printable ASCII (the WebSocket
        /// limit), else AUTH-WEBHOOK-DENIED. Lets the app tell the client e.g. INVALID-TOKEN.
        /// </summary>
        public SignalingClose ToClose() =>
            Reason is { Length: > 0 and <= 123 } r && r.All(c => c is >= ' ' and <= '~')
                ? SignalingCloses.AuthWebhookDenied with { Reason = r }
                : SignalingCloses.AuthWebhookDenied;
    }

    /// <summary>
    /// Timeout, non-2xx, unreachable, not JSON, `allowed` missing or not a bool, or an override of the wrong kind.
    /// <see cref="Why"/> names the cause ("timeout", "status 500", "connection refused", "invalid JSON",
    /// "allowed is not a bool", "invalid client_id", ...). Always closes with AUTH-WEBHOOK-FAILED.
    /// </summary>
    public sealed record Failed(string Why) : AuthOutcome
    {
        public SignalingClose ToClose() => SignalingCloses.AuthWebhookFailed;
    }
}
