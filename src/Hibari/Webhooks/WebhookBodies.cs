using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hibari.Signaling.Messages;

namespace Hibari.Webhooks;

/// <summary>
/// JSON bodies of the webhooks (docs/protocol-notes.md, "Webhook basics"). Common keys: type, timestamp, label, version, node_name and, for
/// session/event webhooks, a SoraId `id`. Written with <see cref="Utf8JsonWriter"/> like the signaling messages,
/// because they embed raw client and webhook JSON.
/// </summary>
internal static class WebhookBodies
{
    public const string Label = "WebRTC SFU Hibari";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Auth(AuthWebhookRequest r, WebhookOptions o) => Write(w =>
    {
        var c = r.Connect;
        w.WriteString("timestamp", SoraTimestamp.Format(r.Timestamp));
        WriteNode(w, o);
        w.WriteString("channel_id", c.ChannelId);
        WriteStringOrNull(w, "client_id", c.ClientId);
        WriteStringOrNull(w, "bundle_id", c.BundleId);
        w.WriteString("connection_id", r.ConnectionId);
        if (r.SessionId is { } sid) w.WriteString("session_id", sid);
        w.WriteString("role", c.Role.ToWire());
        w.WriteBoolean("multistream", true);
        w.WriteBoolean("simulcast", c.Simulcast);
        w.WriteBoolean("spotlight", c.Spotlight);
        WriteAudio(w, c.Audio);
        WriteVideo(w, c.Video);
        WriteRawOrNull(w, "metadata", c.Metadata);
        if (c.SignalingNotifyMetadata is { } snm) { w.WritePropertyName("signaling_notify_metadata"); snm.WriteTo(w); }
        if (c.DataChannelSignaling is { } dcs) w.WriteBoolean("data_channel_signaling", dcs);
        if (c.IgnoreDisconnectWebsocket is { } idw) w.WriteBoolean("ignore_disconnect_websocket", idw);
        if (c.DataChannels is { } dc) { w.WritePropertyName("data_channels"); dc.WriteTo(w); }
        if (c.SoraClient is { } sc) w.WriteString("sora_client", sc);
        if (c.Environment is { } env) w.WriteString("environment", env);
        if (c.Libwebrtc is { } lw) w.WriteString("libwebrtc", lw);
        if (c.Redirect) w.WriteBoolean("redirect", true);
        w.WriteBoolean("e2ee", false);
        WriteCounts(w, r.ChannelConnections);
    });

    public static byte[] Session(SessionWebhookEvent e, string id, WebhookOptions o) => Write(w =>
    {
        w.WriteString("type", SessionType(e.Type));
        w.WriteString("id", id);
        w.WriteString("timestamp", SoraTimestamp.Format(e.Timestamp));
        WriteNode(w, o);
        w.WriteString("channel_id", e.ChannelId);
        w.WriteString("session_id", e.SessionId);
        w.WriteNumber("created_time", ToUnixMicroseconds(e.CreatedAt));
        w.WriteString("created_timestamp", SoraTimestamp.Format(e.CreatedAt));
        if (e.Type == SessionWebhookType.Destroyed)
        {
            var destroyed = e.DestroyedAt ?? e.Timestamp;
            w.WriteNumber("destroyed_time", ToUnixMicroseconds(destroyed));
            w.WriteString("destroyed_timestamp", SoraTimestamp.Format(destroyed));
            w.WriteNumber("total_connections", e.TotalConnections);
            w.WriteNumber("max_connections", e.MaxConnections);
            w.WriteNumber("duration_sec", (long)Math.Max(0, (destroyed - e.CreatedAt).TotalSeconds));
        }
    });

    public static byte[] Event(ConnectionWebhookEvent e, string id, WebhookOptions o) => Write(w =>
    {
        w.WriteString("type", EventType(e.Type));
        w.WriteString("id", id);
        w.WriteString("timestamp", SoraTimestamp.Format(e.Timestamp));
        WriteNode(w, o);
        w.WriteString("channel_id", e.ChannelId);
        w.WriteString("session_id", e.SessionId);
        w.WriteString("client_id", e.ClientId);
        w.WriteString("bundle_id", e.BundleId);
        w.WriteString("connection_id", e.ConnectionId);
        w.WriteString("role", e.Role.ToWire());
        w.WriteBoolean("multistream", true);
        w.WriteBoolean("simulcast", e.Simulcast);
        w.WriteBoolean("spotlight", e.Spotlight);
        if (e.EventMetadata is { } em) { w.WritePropertyName("event_metadata"); em.WriteTo(w); }
        if (e.Type == ConnectionWebhookType.Destroyed) w.WriteString("reason", e.Reason ?? "NORMAL");
        w.WriteStartObject("data");
        w.WriteBoolean("audio", e.Audio);
        w.WriteBoolean("video", e.Video);
        w.WriteNumber("minutes", e.Minutes);
        w.WriteNumber("created_time", ToUnixMicroseconds(e.CreatedAt));
        w.WriteString("created_timestamp", SoraTimestamp.Format(e.CreatedAt));
        WriteCounts(w, e.ChannelConnections);
        w.WriteString("turn_transport_type", e.TurnTransportType);
        w.WriteEndObject();
    });

    public static byte[] Recording(RecordingWebhookEvent e, string id, WebhookOptions o) => Write(w =>
    {
        w.WriteString("type", e.Type);
        w.WriteString("id", id);
        w.WriteString("timestamp", SoraTimestamp.Format(e.Timestamp));
        WriteNode(w, o);
        w.WriteString("channel_id", e.ChannelId);
        w.WriteString("session_id", e.SessionId);
        if (e.ConnectionId is { } cid)
        {
            w.WriteString("client_id", e.ClientId ?? "");
            w.WriteString("bundle_id", e.BundleId ?? "");
            w.WriteString("connection_id", cid);
        }
        if (e.EventMetadata is { } em) { w.WritePropertyName("event_metadata"); em.WriteTo(w); }
        w.WritePropertyName("data");
        e.Data.WriteTo(w);
    });

    public static string SessionType(SessionWebhookType t) => t == SessionWebhookType.Created ? "session.created" : "session.destroyed";

    public static string EventType(ConnectionWebhookType t) => t switch
    {
        ConnectionWebhookType.Created => "connection.created",
        ConnectionWebhookType.Updated => "connection.updated",
        _ => "connection.destroyed",
    };

    /// <summary>What Sora rewrites to "REDACTED" in each webhook log (SENSITIVE_DATA; D-55): top-level keys of requests and answers.</summary>
    public static readonly string[] AuthSensitive = ["event_metadata"];
    public static readonly string[] SessionSensitive = ["session_metadata", "event_metadata"];
    public static readonly string[] EventSensitive = ["event_metadata"];

    /// <summary>
    /// <paramref name="json"/> with the values of the top-level <paramref name="keys"/> replaced by "REDACTED"; the bytes
    /// as they are when it is not a JSON object or has none of them.
    /// </summary>
    public static ReadOnlySpan<byte> Redact(ReadOnlySpan<byte> json, string[] keys)
    {
        if (json.IsEmpty || !IsJson(json)) return json;
        System.Text.Json.Nodes.JsonNode? node;
        try { node = System.Text.Json.Nodes.JsonNode.Parse(json); }
        catch (JsonException) { return json; }
        if (node is not System.Text.Json.Nodes.JsonObject o) return json;
        var changed = false;
        foreach (var key in keys)
            if (o.ContainsKey(key)) { o[key] = "REDACTED"; changed = true; }
        return changed ? JsonSerializer.SerializeToUtf8Bytes(o) : json;
    }

    /// <summary>One log line: {timestamp, type, url, request (raw JSON), status?, response?, duration_ms, error?}.</summary>
    public static byte[] LogLine(DateTimeOffset at, string type, string url, byte[] request, int? status,
        ReadOnlySpan<byte> response, double durationMs, string? error)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Length + response.Length + 256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            w.WriteString("timestamp", SoraTimestamp.Format(at));
            w.WriteString("type", type);
            w.WriteString("url", url);
            w.WritePropertyName("request");
            w.WriteRawValue(request, skipInputValidation: true); // our own writer's output
            if (status is { } s) w.WriteNumber("status", s);
            if (response.Length > 0)
            {
                w.WritePropertyName("response");
                if (IsJson(response)) w.WriteRawValue(response, skipInputValidation: true);
                else w.WriteStringValue(System.Text.Encoding.UTF8.GetString(response));
            }
            w.WriteNumber("duration_ms", Math.Round(durationMs, 3));
            if (error is not null) w.WriteString("error", error);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static bool IsJson(ReadOnlySpan<byte> utf8)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8)) return false;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            var any = false;
            while (reader.Read()) any = true;
            return any;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteNode(Utf8JsonWriter w, WebhookOptions o)
    {
        w.WriteString("label", Label);
        w.WriteString("version", o.Version);
        w.WriteString("node_name", o.NodeName);
    }

    private static void WriteCounts(Utf8JsonWriter w, ChannelCounts c)
    {
        w.WriteNumber("channel_connections", c.Total);
        w.WriteNumber("channel_sendrecv_connections", c.Sendrecv);
        w.WriteNumber("channel_sendonly_connections", c.Sendonly);
        w.WriteNumber("channel_recvonly_connections", c.Recvonly);
    }

    /// <summary>`audio` as requested: a bool, or the object form when the client gave codec, bit rate or params.</summary>
    private static void WriteAudio(Utf8JsonWriter w, AudioRequest a)
    {
        if (!a.Enabled || (a.CodecType is null && a.BitRate is null && a.OpusParams is null)) { w.WriteBoolean("audio", a.Enabled); return; }
        w.WriteStartObject("audio");
        if (a.CodecType is { } ct) w.WriteString("codec_type", ct);
        if (a.BitRate is { } br) w.WriteNumber("bit_rate", br);
        if (a.OpusParams is { } op) { w.WritePropertyName("opus_params"); op.WriteTo(w); }
        w.WriteEndObject();
    }

    private static void WriteVideo(Utf8JsonWriter w, VideoRequest v)
    {
        if (!v.Enabled || (v.CodecType is null && v.BitRate is null && v.Vp9Params is null && v.Av1Params is null
                           && v.H264Params is null && v.H265Params is null)) { w.WriteBoolean("video", v.Enabled); return; }
        w.WriteStartObject("video");
        if (v.CodecType is { } ct) w.WriteString("codec_type", ct);
        if (v.BitRate is { } br) w.WriteNumber("bit_rate", br);
        WriteRawIfSet(w, "vp9_params", v.Vp9Params);
        WriteRawIfSet(w, "av1_params", v.Av1Params);
        WriteRawIfSet(w, "h264_params", v.H264Params);
        WriteRawIfSet(w, "h265_params", v.H265Params);
        w.WriteEndObject();
    }

    private static void WriteRawIfSet(Utf8JsonWriter w, string name, JsonElement? value)
    {
        if (value is not { } v) return;
        w.WritePropertyName(name);
        v.WriteTo(w);
    }

    private static void WriteRawOrNull(Utf8JsonWriter w, string name, JsonElement? value)
    {
        w.WritePropertyName(name);
        if (value is { } v) v.WriteTo(w);
        else w.WriteNullValue();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }

    private static long ToUnixMicroseconds(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
