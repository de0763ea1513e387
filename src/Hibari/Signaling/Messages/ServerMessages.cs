using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>Effective session parameters of an `offer` (docs/protocol-notes.md, "The offer message"). Raw JSON members are written verbatim.</summary>
public sealed record OfferMessage
{
    public required string Sdp { get; init; }
    public required string ConnectionId { get; init; }
    public required string ClientId { get; init; }
    public required string BundleId { get; init; }
    public required string SessionId { get; init; }
    public required string ChannelId { get; init; }
    /// <summary>Metadata returned by the auth webhook; written only when set (C# null = key absent).</summary>
    public JsonElement? Metadata { get; init; }
    /// <summary>mid of the client's sending audio / video transceiver; null for recvonly.</summary>
    public string? AudioMid { get; init; }
    public string? VideoMid { get; init; }
    public bool Simulcast { get; init; }
    public bool Spotlight { get; init; }
    public bool DataChannelSignaling { get; init; }
    public bool IgnoreDisconnectWebsocket { get; init; }
    /// <summary>`data_channels` of the offer (system and messaging labels), raw; omitted when null.</summary>
    public JsonElement? DataChannels { get; init; }
    /// <summary>Simulcast sender `encodings`, raw; omitted when null.</summary>
    public JsonElement? Encodings { get; init; }
    /// <summary>`rpc_methods`: what the client may call on the `rpc` data channel (D-36); omitted when empty.</summary>
    public IReadOnlyList<string> RpcMethods { get; init; } = [];
    public bool Audio { get; init; } = true;
    public string AudioCodecType { get; init; } = "OPUS";
    public int? AudioBitRate { get; init; }
    public bool Video { get; init; } = true;
    public string VideoCodecType { get; init; } = "VP9";
    public int VideoBitRate { get; init; } = 1000;
    public string Version { get; init; } = HibariVersion.Value;
    /// <summary>`config.iceServers`: the node's TURN server with this connection's credentials (D-57); empty when TURN is off.</summary>
    public IReadOnlyList<IceServer> IceServers { get; init; } = [];
    /// <summary>`config.iceTransportPolicy` (`turn_ice_transport_policy`).</summary>
    public string IceTransportPolicy { get; init; } = "all";
}

/// <summary>One entry of the offer's `config.iceServers`, as `RTCPeerConnection` takes it (sora-js-sdk passes `config` as is).</summary>
public sealed record IceServer(IReadOnlyList<string> Urls, string Username, string Credential);

/// <summary>`event_type` of a connection notify.</summary>
public enum ConnectionEvent { Created, Updated, Destroyed }

/// <summary>One already-present connection in the `data` list of the self `connection.created` notify.</summary>
public sealed record NotifyPeer(string ConnectionId, string ClientId, string BundleId, JsonElement? Metadata);

/// <summary>Fields of a `notify` connection.created / updated / destroyed (docs/protocol-notes.md, "Notify").</summary>
public sealed record ConnectionNotify
{
    public required ConnectionEvent Event { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
    public required Role Role { get; init; }
    public required string SessionId { get; init; }
    public required string ClientId { get; init; }
    public required string BundleId { get; init; }
    public required string ConnectionId { get; init; }
    public bool Audio { get; init; }
    public bool Video { get; init; }
    /// <summary>The subject's signaling_notify_metadata; written as `null` when absent.</summary>
    public JsonElement? Metadata { get; init; }
    /// <summary>With the metadata extension (D-52): connect's and the auth webhook's signaling_notify_metadata, written when present.</summary>
    public JsonElement? AuthnMetadata { get; init; }
    public JsonElement? AuthzMetadata { get; init; }
    public int Minutes { get; init; }
    public int ChannelConnections { get; init; }
    public int ChannelSendrecvConnections { get; init; }
    public int ChannelSendonlyConnections { get; init; }
    public int ChannelRecvonlyConnections { get; init; }
    public string TurnTransportType { get; init; } = "udp";
    /// <summary>Only on the self connection.created: the connections already in the channel.</summary>
    public IReadOnlyList<NotifyPeer>? Data { get; init; }
}

/// <summary>
/// Server → client messages as UTF-8 JSON with the exact field names of docs/protocol-notes.md, "The offer message", "Other messages and re-offers", "Notify". Written with
/// <see cref="Utf8JsonWriter"/> rather than a serializer context because every message embeds raw client or webhook JSON.
/// </summary>
public static class ServerMessages
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Not HTML: keep non-ASCII (Japanese channel ids) as UTF-8 instead of \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    public static byte[] Offer(OfferMessage o) => Write(w =>
    {
        w.WriteString("type", "offer");
        w.WriteString("sdp", o.Sdp);
        w.WriteString("version", o.Version);
        w.WriteString("channel_id", o.ChannelId);
        w.WriteString("session_id", o.SessionId);
        w.WriteString("client_id", o.ClientId);
        w.WriteString("bundle_id", o.BundleId);
        w.WriteString("connection_id", o.ConnectionId);
        if (o.Metadata is { } md) { w.WritePropertyName("metadata"); md.WriteTo(w); }
        w.WriteBoolean("simulcast", o.Simulcast);
        w.WriteBoolean("simulcast_multicodec", false);
        w.WriteBoolean("spotlight", o.Spotlight);
        w.WriteBoolean("multistream", true);
        w.WriteStartObject("mid");
        if (o.AudioMid is { } am) w.WriteString("audio", am);
        if (o.VideoMid is { } vm) w.WriteString("video", vm);
        w.WriteEndObject();
        w.WriteStartObject("config");
        w.WriteStartArray("iceServers");
        foreach (var server in o.IceServers)
        {
            w.WriteStartObject();
            w.WriteStartArray("urls");
            foreach (var url in server.Urls) w.WriteStringValue(url);
            w.WriteEndArray();
            w.WriteString("username", server.Username);
            w.WriteString("credential", server.Credential);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("iceTransportPolicy", o.IceTransportPolicy);
        w.WriteEndObject();
        if (o.Encodings is { } enc) { w.WritePropertyName("encodings"); enc.WriteTo(w); }
        w.WriteBoolean("data_channel_signaling", o.DataChannelSignaling);
        w.WriteBoolean("ignore_disconnect_websocket", o.IgnoreDisconnectWebsocket);
        if (o.DataChannels is { } dcs) { w.WritePropertyName("data_channels"); dcs.WriteTo(w); }
        if (o.RpcMethods.Count > 0)
        {
            w.WriteStartArray("rpc_methods");
            foreach (var m in o.RpcMethods) w.WriteStringValue(m);
            w.WriteEndArray();
        }
        w.WriteBoolean("audio", o.Audio);
        w.WriteString("audio_codec_type", o.AudioCodecType);
        if (o.AudioBitRate is { } abr) w.WriteNumber("audio_bit_rate", abr);
        w.WriteBoolean("video", o.Video);
        w.WriteString("video_codec_type", o.VideoCodecType);
        w.WriteNumber("video_bit_rate", o.VideoBitRate);
    });

    public static byte[] ReOffer(string sdp) => Write(w =>
    {
        w.WriteString("type", "re-offer");
        w.WriteString("sdp", sdp);
    });

    public static byte[] Notify(ConnectionNotify n) => Write(w =>
    {
        w.WriteString("type", "notify");
        w.WriteString("event_type", n.Event switch
        {
            ConnectionEvent.Created => "connection.created",
            ConnectionEvent.Updated => "connection.updated",
            _ => "connection.destroyed",
        });
        w.WriteString("timestamp", SoraTimestamp.Format(n.Timestamp));
        w.WriteString("role", n.Role.ToWire());
        w.WriteString("session_id", n.SessionId);
        w.WriteString("client_id", n.ClientId);
        w.WriteString("bundle_id", n.BundleId);
        w.WriteString("connection_id", n.ConnectionId);
        w.WriteBoolean("audio", n.Audio);
        w.WriteBoolean("video", n.Video);
        WriteRawOrNull(w, "metadata", n.Metadata);
        if (n.AuthnMetadata is { } authn) { w.WritePropertyName("authn_metadata"); authn.WriteTo(w); }
        if (n.AuthzMetadata is { } authz) { w.WritePropertyName("authz_metadata"); authz.WriteTo(w); }
        if (n.Data is { } data)
        {
            w.WriteStartArray("data");
            foreach (var p in data)
            {
                w.WriteStartObject();
                w.WriteString("client_id", p.ClientId);
                w.WriteString("bundle_id", p.BundleId);
                w.WriteString("connection_id", p.ConnectionId);
                WriteRawOrNull(w, "metadata", p.Metadata);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteNumber("minutes", n.Minutes);
        w.WriteNumber("channel_connections", n.ChannelConnections);
        w.WriteNumber("channel_sendrecv_connections", n.ChannelSendrecvConnections);
        w.WriteNumber("channel_sendonly_connections", n.ChannelSendonlyConnections);
        w.WriteNumber("channel_recvonly_connections", n.ChannelRecvonlyConnections);
        w.WriteString("turn_transport_type", n.TurnTransportType);
    });

    /// <summary>`{"type":"push","data"}`; <paramref name="data"/> is any JSON from the Push* APIs.</summary>
    /// <summary>
    /// `notify` simulcast.switched (sora-js-sdk's SignalingNotifySimulcastSwitched): the layer a receiver gets from a
    /// sender changed. `priority` says whether it went up or down; `trigger` is "receiver" (its request) or "sender"
    /// (the layer it asked for stopped or came back). D-35.
    /// </summary>
    public static byte[] SimulcastSwitched(DateTimeOffset at, string senderConnectionId, string requestRid, string currentRid, string previousRid,
        bool byReceiver) => Write(w =>
    {
        w.WriteString("type", "notify");
        w.WriteString("event_type", "simulcast.switched");
        w.WriteString("timestamp", SoraTimestamp.Format(at));
        w.WriteString("sender_connection_id", senderConnectionId);
        w.WriteString("priority", string.CompareOrdinal(currentRid, previousRid) > 0 ? "higher" : "lower");
        w.WriteString("trigger", byReceiver ? "receiver" : "sender");
        w.WriteString("request_rid", requestRid);
        w.WriteString("current_rid", currentRid);
        w.WriteString("previous_rid", previousRid);
    });

    public static byte[] Push(JsonElement data) => Write(w =>
    {
        w.WriteString("type", "push");
        w.WritePropertyName("data");
        data.WriteTo(w);
    });

    public static byte[] Ping(bool stats = false) => Write(w =>
    {
        w.WriteString("type", "ping");
        w.WriteBoolean("stats", stats);
    });

    public static byte[] Redirect(string location) => Write(w =>
    {
        w.WriteString("type", "redirect");
        w.WriteString("location", location);
    });

    public static byte[] Switched(bool ignoreDisconnectWebsocket) => Write(w =>
    {
        w.WriteString("type", "switched");
        w.WriteBoolean("ignore_disconnect_websocket", ignoreDisconnectWebsocket);
    });

    /// <summary>`{"type":"close","code","reason"}` on DC:signaling (docs/protocol-notes.md, "Message types").</summary>
    public static byte[] Close(SignalingClose close) => Write(w =>
    {
        w.WriteString("type", "close");
        w.WriteNumber("code", close.Code);
        w.WriteString("reason", close.Reason);
    });

    /// <summary>
    /// `notify` spotlight.focused / spotlight.unfocused / spotlight.changed (sora-js-sdk's SignalingNotifySpotlight*):
    /// the sender's client and connection ids, whether it sends audio and video, whether the focus is fixed; changed
    /// also names the slot as `spotlight_id` (D-37).
    /// </summary>
    public static byte[] Spotlight(string eventType, DateTimeOffset at, string channelId, string clientId, string connectionId,
        bool audio, bool video, bool fixedFocus, int? slot) => Write(w =>
    {
        w.WriteString("type", "notify");
        w.WriteString("event_type", eventType);
        w.WriteString("timestamp", SoraTimestamp.Format(at));
        w.WriteString("channel_id", channelId);
        w.WriteString("client_id", clientId);
        w.WriteString("connection_id", connectionId);
        if (slot is { } s) w.WriteString("spotlight_id", s.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteBoolean("fixed", fixedFocus);
        w.WriteBoolean("audio", audio);
        w.WriteBoolean("video", video);
    });

    /// <summary>`{"type":"req-stats"}` on DC:stats.</summary>
    public static byte[] ReqStats() => Write(w => w.WriteString("type", "req-stats"));

    /// <summary>
    /// The offer's `data_channels`: the system labels when signaling moves to data channels (direction sendrecv,
    /// compress as the client asked), then every messaging label as it is in effect.
    /// </summary>
    public static JsonElement OfferDataChannels(bool dataChannelSignaling, IReadOnlyList<Sfu.DataChannelSpec> specs, bool rpc = false)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartArray();
            {
                foreach (var label in Sfu.DataChannelLabels.SystemOf(dataChannelSignaling, rpc))
                {
                    w.WriteStartObject();
                    w.WriteString("label", label);
                    w.WriteString("direction", "sendrecv");
                    w.WriteBoolean("compress", specs.FirstOrDefault(d => d.Label == label)?.Compress ?? false);
                    w.WriteEndObject();
                }
            }
            foreach (var d in specs)
            {
                if (!d.IsMessaging) continue;
                w.WriteStartObject();
                w.WriteString("label", d.Label);
                w.WriteString("direction", d.Direction switch
                {
                    Sfu.DataChannelDirection.SendOnly => "sendonly",
                    Sfu.DataChannelDirection.RecvOnly => "recvonly",
                    _ => "sendrecv",
                });
                w.WriteBoolean("compress", d.Compress);
                w.WriteBoolean("ordered", d.Ordered);
                if (d.MaxPacketLifeTime is { } l) w.WriteNumber("max_packet_life_time", l);
                if (d.MaxRetransmits is { } r) w.WriteNumber("max_retransmits", r);
                if (d.Protocol is { } p) w.WriteString("protocol", p);
                if (d.SenderConnectionIdHeader)
                {
                    w.WriteStartArray("header");
                    w.WriteStartObject();
                    w.WriteString("type", "sender_connection_id");
                    w.WriteNumber("length", SoraId.Length);
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }

    private static void WriteRawOrNull(Utf8JsonWriter w, string name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v) v.WriteTo(w);
        else w.WriteNullValue();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
