using System.Text.Json;

namespace Hibari.Sfu;

public enum ConnectionRole { SendRecv, SendOnly, RecvOnly }

/// <summary>What the SFU knows of a client, after the auth webhook's overrides: for notifies, webhooks and the API.</summary>
public sealed record ConnectionInfo
{
    public required string ConnectionId { get; init; }
    public required string ClientId { get; init; }
    public required string BundleId { get; init; }
    public required string ChannelId { get; init; }
    public string SessionId { get; init; } = "";
    public required ConnectionRole Role { get; init; }
    public bool Audio { get; init; }
    public bool Video { get; init; }
    public string? AudioCodecType { get; init; }
    public int? AudioBitRate { get; init; }
    public string? VideoCodecType { get; init; }
    public int? VideoBitRate { get; init; }
    /// <summary>Effective opus_params (connect, or the auth webhook's audio_opus_params), written into the offer (D-34).</summary>
    public Hibari.Sdp.OpusParams? OpusParams { get; init; }
    /// <summary>Effective vp9/av1/h264/h265 params (connect, or the auth webhook's video_*_params / h264_profile_level_id).</summary>
    public Hibari.Sdp.VideoCodecParams? VideoParams { get; init; }
    public bool Simulcast { get; init; }
    /// <summary>The simulcast layer this connection receives by default ("none", "r0".."r2"; null = r0): issue 12.</summary>
    public string? SimulcastRid { get; init; }
    /// <summary>The auth webhook's `simulcast_encodings` (an array of RTCRtpEncodingParameters), sent in the offer as is.</summary>
    public System.Text.Json.JsonElement? SimulcastEncodings { get; init; }
    /// <summary>Spotlight (D-37): the channel forwards focused senders' video at the focus rid, the others' at the unfocus rid.</summary>
    public bool Spotlight { get; init; }
    /// <summary>`spotlight_number` the connection asked for (the channel's number is set by its first spotlight connection).</summary>
    public int? SpotlightNumber { get; init; }
    /// <summary>The rid this receiver gets from focused senders (default r1) and from the others (default r0; "none" = nothing).</summary>
    public string SpotlightFocusRid { get; init; } = "r1";
    public string SpotlightUnfocusRid { get; init; } = "r0";
    /// <summary>`signaling_notify_metadata` , shown to others in notifies.</summary>
    public JsonElement? NotifyMetadata { get; init; }
    /// <summary>`signaling_notify_metadata` of the connect (`authn_metadata` with the metadata extension, D-52).</summary>
    public JsonElement? AuthnNotifyMetadata { get; init; }
    /// <summary>The auth webhook's `signaling_notify_metadata` (`authz_metadata` with the metadata extension, D-52).</summary>
    public JsonElement? AuthzNotifyMetadata { get; init; }
    /// <summary>The metadata extension's value (D-52): set through the API or `rpc`; null until then. Replaced, never changed in place.</summary>
    public JsonElement? ExtMetadata { get; init; }
    /// <summary>The auth webhook's `metadata` , sent back in the offer.</summary>
    public JsonElement? AuthzMetadata { get; init; }
    /// <summary>The auth webhook's `event_metadata` , attached to event webhooks and the API.</summary>
    public JsonElement? EventMetadata { get; init; }
    /// <summary>Whether this client gets `notify` messages (sora.conf `signaling_notify`, auth override).</summary>
    public bool SignalingNotify { get; init; } = true;
    /// <summary>The auth webhook's `cluster_affinity`, kept for placement (issue 4).</summary>
    public bool? ClusterAffinity { get; init; }
    /// <summary>The auth webhook's `turn_tcp_only` / `turn_tls_only` (D-57).</summary>
    public bool TurnTcpOnly { get; init; }
    public bool TurnTlsOnly { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>The client's own throw-away offer from `connect.sdp` (capability detection; the C++ SDK sends none).</summary>
    public string? ClientSdp { get; init; }
    /// <summary>Client software (`sora_client`, `environment`), for the API and webhooks.</summary>
    public string? SoraClient { get; init; }

    /// <summary>Signaling moves to data channels once they are open (`switched`, docs/protocol-notes.md, "Data-channel signaling").</summary>
    public bool DataChannelSignaling { get; init; }
    /// <summary>After `switched`, the WebSocket's loss does not end the connection.</summary>
    public bool IgnoreDisconnectWebsocket { get; init; }
    /// <summary>
    /// The `rpc` data-channel methods this connection may call (D-36): the auth webhook's `rpc_methods` that Hibari
    /// implements, when signaling goes over data channels and `data_channel_rpc` is on; empty = no `rpc` channel.
    /// </summary>
    public IReadOnlyList<string> RpcMethods { get; init; } = [];
    /// <summary>Effective `data_channels`: system-label settings (compress) and messaging labels.</summary>
    public IReadOnlyList<DataChannelSpec> DataChannels { get; init; } = [];
    /// <summary>
    /// This receiver's connection forwarding filters (D-54): from the connect or the auth webhook, then changed by the
    /// Create/Update/DeleteConnectionForwardingFilter API (the info is replaced, never changed in place).
    /// </summary>
    public IReadOnlyList<ForwardingFilter> ForwardingFilters { get; init; } = [];

    /// <summary>The entry for a label, or null (system labels without an entry use the defaults).</summary>
    public DataChannelSpec? DataChannel(string label)
    {
        foreach (var d in DataChannels)
            if (d.Label == label) return d;
        return null;
    }

    public bool Publishes => Role != ConnectionRole.RecvOnly && (Audio || Video);
    public bool Receives => Role != ConnectionRole.SendOnly;
}

/// <summary>The channel counters carried by every notify (docs/protocol-notes.md, "Notify").</summary>
public readonly record struct ChannelCounts(int Connections, int SendRecv, int SendOnly, int RecvOnly);

/// <summary>
/// How the SFU talks back to a client: the signaling layer formats these as Sora messages on the WebSocket. Calls
/// may come from any thread and must not block (queue the message).
/// </summary>
public interface IConnectionSignaling
{
    void SendReOffer(string sdp);
    /// <summary>The connection reached `connected` (ICE and DTLS done): it is no longer being set up (D-44).</summary>
    void Established() { }
    /// <summary>`notify` connection.created; <paramref name="present"/> is non-null only for the client's own event.</summary>
    void SendConnectionCreated(ConnectionInfo who, ChannelCounts counts, IReadOnlyList<ConnectionInfo>? present, int minutes);
    void SendConnectionDestroyed(ConnectionInfo who, ChannelCounts counts, int minutes);
    /// <summary>`connection.updated` about <paramref name="who"/> (its metadata changed through the extension, D-52).</summary>
    void SendConnectionUpdated(ConnectionInfo who, ChannelCounts counts, int minutes) { }
    void SendPush(JsonElement data);
    /// <summary>`notify` simulcast.switched: the layer this receiver gets from <paramref name="senderConnectionId"/> changed (D-35).</summary>
    void SendSimulcastSwitched(string senderConnectionId, string requestRid, string currentRid, string previousRid, bool byReceiver);
    /// <summary>`notify` spotlight.focused / unfocused / changed about <paramref name="who"/> (D-37); <paramref name="slot"/> only for changed.</summary>
    void SendSpotlight(string eventType, ConnectionInfo who, bool fixedFocus, int? slot);
    /// <summary>A `notify` message already written (recording.started / recording.stopped, D-58), on the notify path.</summary>
    void SendNotify(byte[] utf8) { }
    /// <summary>
    /// The server ends the connection (API disconnect, node shutdown): close 1000 with this reason. True when the
    /// signaling ends the connection itself (after `close` on DC:signaling and the client's channel closes); false
    /// when the caller must <see cref="SfuEngine.Leave"/> it.
    /// </summary>
    bool Disconnect(string reason);
    /// <summary>The connection ended inside the SFU (DTLS closed or failed, ICE consent lost, data channels gone); also after any Leave.</summary>
    void Ended(string reason);
    /// <summary>The node's data channels of this connection are open (media thread): signaling may switch to them.</summary>
    void DataChannelsOpen();
    /// <summary>A JSON message the client sent on DC:signaling or DC:stats, already decompressed (media thread).</summary>
    void DataChannelMessage(string label, byte[] utf8);
}
