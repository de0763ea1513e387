using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Config;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The signaling-notify metadata extension API (Sora_20201124, docs/decisions.md D-52): per-connection metadata kept by
/// the node, read and changed through the API, shown to new participants in `connection.created` and, with `push`, to
/// the channel's participants in `connection.updated`. Needs `signaling_notify_metadata_ext = true`. Channel calls
/// (C-API-1): 307 from a node that does not hold the channel; on a holder the connection is looked for here and on the
/// channel's other owners, and a change is told to every owner (each updates its copy of a relayed connection and
/// notifies its own participants).
/// </summary>
internal sealed class NotifyMetadataApi(HibariOptions options, SfuEngine sfu, ChannelScope? scope = null, ILogger? log = null)
{
    private const string Prefix = "Sora_20201124.";
    public const string ListTarget = Prefix + "ListSignalingNotifyMetadata";
    public const string GetTarget = Prefix + "GetSignalingNotifyMetadata";
    public const string PutTarget = Prefix + "PutSignalingNotifyMetadata";
    public const string DeleteTarget = Prefix + "DeleteSignalingNotifyMetadata";
    public const string PutItemTarget = Prefix + "PutSignalingNotifyMetadataItem";
    public const string DeleteItemTarget = Prefix + "DeleteSignalingNotifyMetadataItem";
    /// <summary>Node to node only (never on the HTTP API): a connection's new value, to keep copies current and notify.</summary>
    public const string ChangedTarget = "Hibari_20261207.SignalingNotifyMetadataChanged";
    /// <summary>The largest metadata value a connection may hold (its JSON text).</summary>
    public const int MaxMetadataBytes = 64 * 1024;

    private static readonly string[] ChangeTargets = [PutTarget, DeleteTarget, PutItemTarget, DeleteItemTarget];

    public void Register(ApiRouter router)
    {
        router.Register(ListTarget, (request, ct) => new(ListAsync(request, ct)));
        router.Register(GetTarget, (request, ct) => new(FindAsync(request, ct)));
        foreach (var target in ChangeTargets) router.Register(target, (request, ct) => new(ChangeAsync(request, ct)));
    }

    public static bool Handles(string target) =>
        target is ListTarget or GetTarget or ChangedTarget || Array.IndexOf(ChangeTargets, target) >= 0;

    /// <summary>A call from another node: this node's part only.</summary>
    public (int Status, byte[] Body) RunLocal(string target, byte[] body)
    {
        var request = new ApiRequest(target, body);
        ApiResult result;
        if (!TryRead(request, out var r, out var error)) result = error!;
        else if (target == ChangedTarget)
        {
            sfu.ExtMetadataChanged(r.ChannelId, r.ConnectionId!, r.Metadata, r.Push);
            result = NodeCalls.Json(new JsonObject());
        }
        else if (target == ListTarget) result = NodeCalls.Json(ListHere(r.ChannelId));
        else if (target == GetTarget) result = GetHere(r) is { } row ? NodeCalls.Json(row) : ConnectionNotFound();
        else result = ChangeHere(target, r) is { } changed ? NodeCalls.Json(ExtMetadata.Row(changed)) : ConnectionNotFound();
        return NodeCalls.Encode(result);
    }

    // --- the operations, from a client ---

    private async Task<ApiResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        if (Refused(request, out var r) is { } refused) return refused;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        var rows = ListHere(r.ChannelId);
        if (scope is not null)
            foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(r.ChannelId), request, log, ct).ConfigureAwait(false))
                if (status == 200 && NodeCalls.ParseAnswer(body, log, request.Target) is JsonArray more)
                    foreach (var row in more) rows.Add(row?.DeepClone());
        return NodeCalls.Json(rows);
    }

    private async Task<ApiResult> FindAsync(ApiRequest request, CancellationToken ct)
    {
        if (Refused(request, out var r, needsConnection: true) is { } refused) return refused;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        if (GetHere(r) is { } row) return NodeCalls.Json(row);
        return await FirstFromOwnersAsync(r.ChannelId, request, ct).ConfigureAwait(false) ?? ConnectionNotFound();
    }

    private async Task<ApiResult> ChangeAsync(ApiRequest request, CancellationToken ct)
    {
        if (Refused(request, out var r, needsConnection: true) is { } refused) return refused;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        if (Validate(request.Target, r) is { } invalid) return invalid;
        // The connection's node applies the change; the answer is the connection's row with the new value.
        ApiResult? answer = ChangeHere(request.Target, r) is { } here ? NodeCalls.Json(ExtMetadata.Row(here)) : null;
        answer ??= await FirstFromOwnersAsync(r.ChannelId, request, ct).ConfigureAwait(false);
        if (answer is not ApiResult.JsonResult json) return answer ?? ConnectionNotFound();
        var metadata = JsonDocument.Parse(json.Utf8Json).RootElement.GetProperty("metadata").Clone();
        JsonElement? value = metadata.ValueKind == JsonValueKind.Null ? null : metadata;
        // Every owner hears of it: copies of the relayed connection stay current, participants are notified (push).
        sfu.ExtMetadataChanged(r.ChannelId, r.ConnectionId!, value, r.Push);
        await BroadcastAsync(r.ChannelId, r.ConnectionId!, value, r.Push, ct).ConfigureAwait(false);
        return answer;
    }

    /// <summary>Tells the channel's other owners a connection's new value (they update their copy, and notify when pushed).</summary>
    public async Task BroadcastAsync(string channelId, string connectionId, JsonElement? value, bool push, CancellationToken ct)
    {
        if (scope is null) return;
        var changed = new JsonObject
        {
            ["channel_id"] = channelId, ["connection_id"] = connectionId, ["metadata"] = value is { } v ? JsonNode.Parse(v.GetRawText()) : null,
            ["push"] = push,
        };
        await scope.CallAllAsync(scope.OtherOwners(channelId), new ApiRequest(ChangedTarget, JsonSerializer.SerializeToUtf8Bytes(changed)), log, ct).ConfigureAwait(false);
    }

    // --- this node's part ---

    private JsonArray ListHere(string channelId) =>
        new(sfu.ListConnections(channelId).Select(c => (JsonNode)ExtMetadata.Row(c)).ToArray());

    private JsonObject? GetHere(Request r) =>
        sfu.ListConnections(r.ChannelId).FirstOrDefault(c => c.ConnectionId == r.ConnectionId) is { } c ? ExtMetadata.Row(c) : null;

    private ConnectionInfo? ChangeHere(string target, Request r) => sfu.ChangeExtMetadata(r.ChannelId, r.ConnectionId!, old => target switch
    {
        PutTarget => r.Metadata,
        DeleteTarget => null,
        PutItemTarget => ExtMetadata.WithItem(old, r.Key!, r.Value),
        _ => ExtMetadata.WithoutItem(old, r.Key!),
    });

    // --- requests ---

    private sealed record Request(string ChannelId, string? ConnectionId, JsonElement? Metadata, string? Key, JsonElement? Value, bool Push, bool HasMetadata, bool HasValue);

    private ApiResult? Refused(ApiRequest request, out Request r, bool needsConnection = false)
    {
        if (!TryRead(request, out r!, out var error)) return error;
        if (!options.SignalingNotifyMetadataExt)
            return ApiResult.BadRequest("SignalingNotifyMetadataExtDisabled", "signaling_notify_metadata_ext is not enabled on this node (docs/decisions.md D-52)");
        if (needsConnection && string.IsNullOrEmpty(r.ConnectionId)) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required");
        return null;
    }

    private static ApiResult? Validate(string target, Request r)
    {
        if (target == PutTarget && (!r.HasMetadata || r.Metadata is not { ValueKind: JsonValueKind.Object }))
            return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "metadata is required (a JSON object)");
        if (target is PutItemTarget or DeleteItemTarget && string.IsNullOrEmpty(r.Key))
            return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "key is required (a non-empty string)");
        if (target == PutItemTarget && !r.HasValue) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "value is required");
        var size = (r.Metadata?.GetRawText().Length ?? 0) + (r.Value?.GetRawText().Length ?? 0);
        if (size > MaxMetadataBytes) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, $"metadata is limited to {MaxMetadataBytes} bytes");
        return null;
    }

    private static bool TryRead(ApiRequest request, out Request r, out ApiResult? error)
    {
        r = null!;
        error = null;
        if (!NodeCalls.TryParseObject(request, out var doc, out error)) return false;
        using (doc)
        {
            var e = doc.RootElement;
            if (Str(e, "channel_id") is not { Length: > 0 } channel) { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required (a non-empty string)"); return false; }
            var hasMetadata = e.TryGetProperty("metadata", out var metadata);
            var hasValue = e.TryGetProperty("value", out var value);
            var push = e.TryGetProperty("push", out var p) && p.ValueKind == JsonValueKind.True;
            if (e.TryGetProperty("push", out p) && p.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "push must be a boolean");
                return false;
            }
            r = new Request(channel, Str(e, "connection_id"), hasMetadata && metadata.ValueKind != JsonValueKind.Null ? metadata.Clone() : null,
                Str(e, "key"), hasValue && value.ValueKind != JsonValueKind.Null ? value.Clone() : null, push, hasMetadata, hasValue);
            return true;
        }
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    // --- other owners ---

    private async Task<ApiResult?> FirstFromOwnersAsync(string channelId, ApiRequest request, CancellationToken ct)
    {
        if (scope is null) return null;
        foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(channelId), request, log, ct).ConfigureAwait(false))
            if (status == 200) return new ApiResult.JsonResult(body);
        return null;
    }

    private static ApiResult ConnectionNotFound() => ApiResult.Error(404, "ConnectionNotFound", "no such connection in the channel");
}
