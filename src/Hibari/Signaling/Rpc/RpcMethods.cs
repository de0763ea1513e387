using System.Text.Json;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Signaling.Rpc;

/// <summary>
/// The methods of the `rpc` data channel (D-36), with the names the Sora SDKs call (`2025.2.0/…`). A connection may call
/// those the auth webhook listed in `rpc_methods`; the offer repeats that list. Calls act on the caller as receiver.
/// </summary>
internal static class RpcMethods
{
    public const string RequestSimulcastRid = "2025.2.0/RequestSimulcastRid";
    public const string RequestSpotlightRid = "2025.2.0/RequestSpotlightRid";
    public const string ResetSpotlightRid = "2025.2.0/ResetSpotlightRid";
    /// <summary>The caller's own signaling-notify metadata (D-52): `{metadata, push?}` and `{key, value, push?}`.</summary>
    public const string PutSignalingNotifyMetadata = "2025.2.0/PutSignalingNotifyMetadata";
    public const string PutSignalingNotifyMetadataItem = "2025.2.0/PutSignalingNotifyMetadataItem";

    /// <summary>What Hibari implements; other names in `rpc_methods` are left out of the offer (logged once).</summary>
    public static readonly IReadOnlyList<string> Implemented =
        [RequestSimulcastRid, RequestSpotlightRid, ResetSpotlightRid, PutSignalingNotifyMetadata, PutSignalingNotifyMetadataItem];
    private static readonly string[] SpotlightRids = ["none", "r0", "r1", "r2"];

    private static readonly string[] SimulcastRids = ["none", "r0", "r1", "r2", "auto"];

    /// <summary>The auth webhook's `rpc_methods` that Hibari implements, in their order, without repeats.</summary>
    public static IReadOnlyList<string> Allowed(IReadOnlyList<string>? fromAuth, ILogger log, string connectionId)
    {
        if (fromAuth is null || fromAuth.Count == 0) return [];
        var allowed = fromAuth.Where(Implemented.Contains).Distinct().ToList();
        var unknown = fromAuth.Where(m => !Implemented.Contains(m)).Distinct().ToList();
        if (unknown.Count > 0)
            log.LogInformation("Connection {Id}: rpc_methods not implemented by Hibari, not offered: {Methods}", connectionId, string.Join(", ", unknown));
        return allowed;
    }

    /// <summary>Runs one request of <paramref name="caller"/>; the response to send, or null for a notification.</summary>
    public static byte[]? Handle(RpcRequest request, ConnectionInfo caller, SfuEngine sfu)
    {
        byte[] response;
        if (!caller.RpcMethods.Contains(request.Method))
            response = JsonRpc.Error(request.Id, RpcErrors.MethodNotFound, $"Method not found: {request.Method}");
        else response = request.Method switch
        {
            RequestSimulcastRid => SimulcastRid(request, caller, sfu),
            RequestSpotlightRid => SpotlightRid(request, caller, sfu, reset: false),
            ResetSpotlightRid => SpotlightRid(request, caller, sfu, reset: true),
            PutSignalingNotifyMetadata or PutSignalingNotifyMetadataItem => PutMetadata(request, caller, sfu),
            _ => JsonRpc.Error(request.Id, RpcErrors.MethodNotFound, $"Method not found: {request.Method}"),
        };
        return request.IsNotification ? null : response;
    }

    /// <summary>
    /// `{rid, sender_connection_id?}` → the caller's simulcast layer (from that sender, or every sender), as the
    /// RequestSimulcastRid API does; the result is the API's answer: channel_id, receiver_connection_id, rid, sender.
    /// </summary>
    private static byte[] SimulcastRid(RpcRequest r, ConnectionInfo caller, SfuEngine sfu)
    {
        if (r.Params is not { ValueKind: JsonValueKind.Object } p)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: an object with rid is required");
        if (Unknown(p, "rid", "sender_connection_id", "send_connection_id") is { } extra)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, $"Invalid params: unknown {extra}");
        var rid = Str(p, "rid");
        // sora-devtools sent send_connection_id in one version; the SDKs send sender_connection_id.
        var sender = Str(p, "sender_connection_id") ?? Str(p, "send_connection_id");
        if (rid is null || !SimulcastRids.Contains(rid))
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, $"Invalid params: rid must be one of {string.Join(", ", SimulcastRids)}");
        if (!sfu.RequestSimulcastRid(caller.ChannelId, caller.ConnectionId, sender, rid == "auto" ? "r2" : rid))
            return JsonRpc.Error(r.Id, RpcErrors.InternalError, "the connection is not connected");
        return JsonRpc.Result(r.Id, w =>
        {
            w.WriteStartObject();
            w.WriteString("channel_id", caller.ChannelId);
            w.WriteString("receiver_connection_id", caller.ConnectionId);
            w.WriteString("rid", rid);
            if (sender is not null) w.WriteString("sender_connection_id", sender);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// `{spotlight_focus_rid, spotlight_unfocus_rid, send_connection_id?}` (Reset: `{send_connection_id?}`) → the caller's
    /// spotlight rids, as RequestSpotlightRid / ResetSpotlightRid do; the result is `{channel_id, recv_connection_id}` and,
    /// for a request, the two rids (Shiguredo's Swift SDK result types).
    /// </summary>
    private static byte[] SpotlightRid(RpcRequest r, ConnectionInfo caller, SfuEngine sfu, bool reset)
    {
        var p = r.Params is { ValueKind: JsonValueKind.Object } o ? o : default;
        if (r.Params is { } given && given.ValueKind != JsonValueKind.Object)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: an object is required");
        string[] known = reset ? ["send_connection_id", "recv_connection_id"] : ["spotlight_focus_rid", "spotlight_unfocus_rid", "send_connection_id", "recv_connection_id"];
        if (p.ValueKind == JsonValueKind.Object && Unknown(p, known) is { } extra)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, $"Invalid params: unknown {extra}");
        var focus = p.ValueKind == JsonValueKind.Object ? Str(p, "spotlight_focus_rid") : null;
        var unfocus = p.ValueKind == JsonValueKind.Object ? Str(p, "spotlight_unfocus_rid") : null;
        var sender = p.ValueKind == JsonValueKind.Object ? Str(p, "send_connection_id") : null;
        if (!reset && (focus is null || !SpotlightRids.Contains(focus) || unfocus is null || !SpotlightRids.Contains(unfocus)))
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: spotlight_focus_rid and spotlight_unfocus_rid must be none, r0, r1 or r2");
        var result = sfu.RequestSpotlightRid(caller.ChannelId, caller.ConnectionId, string.IsNullOrEmpty(sender) ? null : sender, focus, unfocus);
        if (result != Sfu.Spotlight.SpotlightResult.Ok)
            return JsonRpc.Error(r.Id, RpcErrors.InternalError, result == Sfu.Spotlight.SpotlightResult.NoChannel ? "the channel is not a spotlight channel" : "the connection is not connected");
        return JsonRpc.Result(r.Id, w =>
        {
            w.WriteStartObject();
            w.WriteString("channel_id", caller.ChannelId);
            w.WriteString("recv_connection_id", caller.ConnectionId);
            if (!reset)
            {
                w.WriteString("spotlight_focus_rid", focus);
                w.WriteString("spotlight_unfocus_rid", unfocus);
            }
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// PutSignalingNotifyMetadata `{metadata (object), push?}` / PutSignalingNotifyMetadataItem `{key, value, push?}`: the
    /// caller's own metadata-extension value, as the API's Put calls change it (D-52); the result is the caller's List row.
    /// </summary>
    private static byte[] PutMetadata(RpcRequest r, ConnectionInfo caller, SfuEngine sfu)
    {
        if (!sfu.NotifyMetadataExt)
            return JsonRpc.Error(r.Id, RpcErrors.InternalError, "signaling_notify_metadata_ext is not enabled on this node");
        var item = r.Method == PutSignalingNotifyMetadataItem;
        if (r.Params is not { ValueKind: JsonValueKind.Object } p)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: an object is required");
        if (Unknown(p, item ? ["key", "value", "push"] : ["metadata", "push"]) is { } extra)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, $"Invalid params: unknown {extra}");
        if (p.TryGetProperty("push", out var pushValue) && pushValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: push must be a boolean");
        var push = pushValue.ValueKind == JsonValueKind.True;
        Func<JsonElement?, JsonElement?> change;
        if (item)
        {
            if (Str(p, "key") is not { Length: > 0 } key || !p.TryGetProperty("value", out var value))
                return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: key (a non-empty string) and value are required");
            var v = value.ValueKind == JsonValueKind.Null ? (JsonElement?)null : value.Clone();
            change = old => ExtMetadata.WithItem(old, key, v);
        }
        else
        {
            if (!p.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
                return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: metadata (an object) is required");
            var m = metadata.Clone();
            change = _ => m;
        }
        if (p.GetRawText().Length > 64 * 1024)
            return JsonRpc.Error(r.Id, RpcErrors.InvalidParams, "Invalid params: metadata is limited to 64 KiB");
        if (sfu.ChangeOwnExtMetadata(caller, change, push) is not { } info)
            return JsonRpc.Error(r.Id, RpcErrors.InternalError, "the connection is not connected");
        var row = ExtMetadata.Row(info);
        return JsonRpc.Result(r.Id, w => row.WriteTo(w));
    }

    /// <summary>The first member of <paramref name="p"/> not in <paramref name="known"/> (Sora refuses extra params), or null.</summary>
    private static string? Unknown(JsonElement p, params string[] known)
    {
        foreach (var m in p.EnumerateObject())
            if (!known.Contains(m.Name)) return m.Name;
        return null;
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
