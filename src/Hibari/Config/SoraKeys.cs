using System.Collections.Frozen;

namespace Hibari.Config;

/// <summary>
/// The sora.conf keys Sora's documentation names, so that a sora.conf starts Hibari unchanged (docs/decisions.md D-48).
/// A key here that Hibari does not implement (<see cref="ConfigKeys"/>) is ignored, and all such keys are named in one
/// start-up warning; a key in neither table stays an error.
/// </summary>
/// <remarks>
/// Where the names come from: Sora's documentation as read on 2026-12-07 — the sora.conf
/// reference (https://sora-doc.shiguredo.jp/SORA_CONF and its source SORA_CONF.rst.txt), the older sample sora.conf
/// (https://sora-doc.shiguredo.jp/sora_conf), TURN, PRODUCTION, LOG, WEBHOOK, CLUSTER and CLUSTER_TUTORIAL pages, the
/// release notes (https://sora.shiguredo.app/RELEASE_NOTE) for removed keys, and the Sora keys this repository's docs
/// already cite. Only the first part of each page could be read, so the list is not complete: a Sora key missing here
/// is refused as unknown and belongs added. Every name and its page: docs/research/sora-conf.md.
/// </remarks>
internal static class SoraKeys
{
    public static readonly FrozenSet<string> Documented = new[]
    {
        // sora.conf reference (SORA_CONF): the unit example, then the keys in the stored part of the page.
        "webhook_response_timeout", "license_file", "label", "ipv4_address", "ipv6", "ipv6_address",
        "api_cors_origin", "api_loopback_address_only", "api_port", "archive_dir",
        // the older sample sora.conf (sora_conf)
        "demo", "auth_webhook_url", "event_webhook_url", "event_webhook_worker_number",
        // WEBHOOK, EVENT_WEBHOOK (https://develop.shiguredo-sora-doc.pages.dev/EVENT_WEBHOOK.html)
        "session_webhook_url", "connection_updated_webhook_interval",
        // TURN
        "turn", "turn_realm", "turn_fqdn", "turn_tcp", "turn_tcp_listen_port", "turn_tcp_port", "turn_tls", "turn_tls_fqdn",
        // PRODUCTION
        "signaling_loopback_address_only", "legacy_log_format", "legacy_log_extension", "legacy_webhook_audio_video_json_structure",
        // LOG, RELEASE_NOTE (removed in Sora 2024.2.0; an older sora.conf may still carry them)
        "legacy_auth_webhook_log", "legacy_event_webhook_connection_destroyed_reason", "e2ee",
        // CLUSTER, CLUSTER_TUTORIAL, and docs/requirements.md section 2 ("Sora's key names")
        "cluster", "node_name", "cluster_listen_min_port", "cluster_listen_max_port", "external_signaling_url", "external_api_url",
        "cluster_relay", "default_cluster_affinity", "cluster_affinity_threshold", "cluster_temporary_node",
        // signaling, codecs and data channels, as cited in docs/decisions.md D-27, D-34, D-36 and docs/research/
        "signaling_port", "signaling_bundle_id", "signaling_notify", "ignore_session_vanished_webhook",
        "signaling_vp9_params", "signaling_av1_params", "signaling_h264_params", "signaling_h265_params",
        "h264_b_frame", "h265_b_frame", "default_h264_profile_level_id",
        "data_channel_signaling", "ignore_disconnect_websocket", "data_channel_messaging", "data_channel_rpc",
        "data_channel_signaling_close_message",
        // SIGNALING_NOTIFY_METADATA and SIGNALING_NOTIFY_METADATA_EXT (signaling_notify_metadata_ext is Hibari's too, D-52)
        "signaling_notify_metadata", "signaling_notify_metadata_ext", "signaling_notify_client_id", "signaling_notify_bundle_id",
        "signaling_notify_connection_id",
        // RECORDING, API_RECORDING, API_LEGACY_RECORDING (docs/research/recording.md, section 6)
        "recording_dual_output", "recording_max_expire_time", "recording_max_split_duration",
        // SENSITIVE_DATA
        "skip_redact_sensitive_data",
    }.ToFrozenSet(StringComparer.Ordinal);
}
