using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Config;
using Hibari.Sfu;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The session operations of the HTTP API (docs/decisions.md D-50): `GetSession` and `ListSessions` (Sora_20231220) and
/// `TerminateSession` (Sora_20230628). A session may span nodes (relay): in a cluster GetSession and TerminateSession are
/// channel calls (C-API-1: 307 from a node that does not hold the channel; on a holder the channel's other owner nodes
/// are asked through the node links) and ListSessions gathers every linked node's sessions. A node asked by another
/// answers for itself only (<see cref="RunLocalAsync"/>).
/// </summary>
internal sealed class SessionApi(HibariOptions options, SfuEngine sfu, ChannelScope? scope = null, ILogger? log = null)
{
    public const string GetTarget = "Sora_20231220.GetSession";
    public const string ListTarget = "Sora_20231220.ListSessions";
    public const string TerminateTarget = "Sora_20230628.TerminateSession";
    /// <summary>The close reason of the connections a TerminateSession ends (D-50).</summary>
    public const string TerminatedReason = "SESSION-TERMINATED";

    private string NodeName => options.NodeName ?? Cluster.Placement.PlacementConfig.StandaloneName;

    public void Register(ApiRouter router)
    {
        router.Register(GetTarget, (request, ct) => new(GetAsync(request, ct)));
        router.Register(ListTarget, (request, ct) => new(ListAsync(request, ct)));
        router.Register(TerminateTarget, (request, ct) => new(TerminateAsync(request, ct)));
    }

    /// <summary>Whether <paramref name="target"/> is one of these operations (a node-link call for this node alone).</summary>
    public static bool Handles(string target) => target is GetTarget or ListTarget or TerminateTarget;

    /// <summary>A call from another node: this node's part only (no redirect, no fan-out).</summary>
    public (int Status, byte[] Body) RunLocal(string target, byte[] body)
    {
        var request = new ApiRequest(target, body);
        var result = target switch
        {
            GetTarget => GetLocal(request, out _),
            ListTarget => ListLocal(request),
            _ => TerminateLocal(request, out _),
        };
        return NodeCalls.Encode(result);
    }

    // --- GetSession ---

    private async Task<ApiResult> GetAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryReadChannel(request, out var channelId, out var sessionId, out var error)) return error!;
        if (scope?.OwnerApiUrl(channelId) is { } location) return ApiResult.Redirect(location);
        var parts = new List<JsonObject>();
        if (GetLocal(request, out _) is ApiResult.JsonResult here) parts.Add((JsonObject)JsonNode.Parse(here.Utf8Json)!);
        if (scope is not null)
            foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(channelId), request, log, ct).ConfigureAwait(false))
                if (status == 200 && NodeCalls.ParseAnswer(body, log, request.Target) is JsonObject o) parts.Add(o);
        // The session this node holds decides which id the parts must carry (a peer may already hold a newer one).
        var id = sessionId ?? (string?)parts.FirstOrDefault()?["session_id"];
        var merged = Merge(parts.Where(p => (string?)p["session_id"] == id));
        return merged is null ? SessionNotFound() : NodeCalls.Json(merged);
    }

    private ApiResult GetLocal(ApiRequest request, out string? channelId)
    {
        channelId = null;
        if (!TryReadChannel(request, out var channel, out var sessionId, out var error)) return error!;
        channelId = channel;
        var found = sfu.Sessions(channel).FirstOrDefault(s => sessionId is null || s.SessionId == sessionId);
        return found is null ? SessionNotFound() : NodeCalls.Json(Part(found));
    }

    // --- ListSessions ---

    private async Task<ApiResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        var local = ListLocal(request);
        if (local is not ApiResult.JsonResult here) return local;
        var parts = ((JsonArray)JsonNode.Parse(here.Utf8Json)!).Select(n => (JsonObject)n!).ToList();
        if (scope is not null)
            foreach (var (status, body) in await scope!.CallAllAsync(scope.LinkedPeers(), new ApiRequest(ListTarget, "{}"u8.ToArray()), log, ct).ConfigureAwait(false))
                if (status == 200 && NodeCalls.ParseAnswer(body, log, request.Target) is JsonArray rows)
                    parts.AddRange(rows.OfType<JsonObject>());
        var sessions = parts.GroupBy(p => (string?)p["session_id"] ?? "").Select(Merge).OfType<JsonObject>()
            .OrderBy(s => (long?)s["created_time"] ?? 0).ToArray();
        return NodeCalls.Json(new JsonArray(sessions.Select(s => (JsonNode)s).ToArray()));
    }

    private ApiResult ListLocal(ApiRequest request)
    {
        if (!request.Body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            try
            {
                using var doc = JsonDocument.Parse(request.Body);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object");
                // Sora's ListSessions takes a `group_id`; Hibari has no session groups: a clear refusal, not a wrong list.
                if (doc.RootElement.TryGetProperty("group_id", out _))
                    return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "group_id is not supported by Hibari (docs/decisions.md D-50)");
            }
            catch (JsonException) { return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not JSON"); }
        }
        return NodeCalls.Json(new JsonArray(sfu.Sessions().Select(s => (JsonNode)Part(s)).ToArray()));
    }

    // --- TerminateSession ---

    private async Task<ApiResult> TerminateAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryReadChannel(request, out var channelId, out _, out var error)) return error!;
        if (scope?.OwnerApiUrl(channelId) is { } location) return ApiResult.Redirect(location);
        var local = TerminateLocal(request, out var terminated);
        if (local is not ApiResult.JsonResult || scope is null) return local;
        // The other owners end their part of the same session (named, so a newer session there is left alone).
        var peers = scope.OtherOwners(channelId);
        if (peers.Count > 0)
        {
            var named = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["channel_id"] = channelId, ["session_id"] = terminated });
            await scope!.CallAllAsync(peers, new ApiRequest(TerminateTarget, named), log, ct).ConfigureAwait(false);
        }
        return local;
    }

    private ApiResult TerminateLocal(ApiRequest request, out string? terminated)
    {
        terminated = null;
        if (!TryReadChannel(request, out var channelId, out var sessionId, out var error)) return error!;
        terminated = sfu.TerminateSession(channelId, sessionId, TerminatedReason);
        if (terminated is null) return SessionNotFound();
        log?.LogInformation("TerminateSession: session {Session} of {Channel} ended by the API", terminated, channelId);
        return NodeCalls.Json(new JsonObject { ["session_id"] = terminated });
    }

    // --- shapes ---

    /// <summary>This node's part of a session: the session's fields with this node's counts, and one row in `nodes`.</summary>
    private JsonObject Part(SessionSnapshot s) => new()
    {
        ["channel_id"] = s.ChannelId,
        ["session_id"] = s.SessionId,
        ["created_time"] = (s.CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10,
        ["created_timestamp"] = SoraTimestamp.Format(s.CreatedAt),
        ["connections"] = s.Connections,
        ["total_connections"] = s.TotalConnections,
        ["max_connections"] = s.MaxConnections,
        ["nodes"] = new JsonArray(new JsonObject
        {
            ["node_name"] = NodeName,
            ["connections"] = s.Connections,
            ["total_connections"] = s.TotalConnections,
            ["max_connections"] = s.MaxConnections,
        }),
    };

    /// <summary>
    /// One session from its nodes' parts: the earliest creation, counts summed (`max_connections` is then the sum of
    /// each node's maximum, an upper bound of the session's), every node's row; null when there is no part.
    /// </summary>
    private static JsonObject? Merge(IEnumerable<JsonObject> parts)
    {
        JsonObject? merged = null;
        foreach (var p in parts)
        {
            if (merged is null) { merged = (JsonObject)p.DeepClone(); continue; }
            if ((long?)p["created_time"] < (long?)merged["created_time"])
            {
                merged["created_time"] = p["created_time"]!.DeepClone();
                merged["created_timestamp"] = p["created_timestamp"]!.DeepClone();
            }
            foreach (var key in new[] { "connections", "total_connections", "max_connections" })
                merged[key] = ((long?)merged[key] ?? 0) + ((long?)p[key] ?? 0);
            var rows = merged["nodes"]!.AsArray();
            foreach (var row in p["nodes"]?.AsArray() ?? []) rows.Add(row?.DeepClone());
        }
        if (merged?["nodes"] is JsonArray all)
        {
            var sorted = all.OrderBy(r => (string?)r?["node_name"], StringComparer.Ordinal).Select(r => r?.DeepClone()).ToArray();
            merged["nodes"] = new JsonArray(sorted);
        }
        return merged;
    }

    private static bool TryReadChannel(ApiRequest request, out string channelId, out string? sessionId, out ApiResult? error)
    {
        channelId = "";
        sessionId = null;
        error = null;
        if (!NodeCalls.TryParseObject(request, out var doc, out error)) return false;
        using (doc)
        {
            var e = doc.RootElement;
            if (!e.TryGetProperty("channel_id", out var c) || c.ValueKind != JsonValueKind.String || c.GetString() is not { Length: > 0 } channel)
            {
                error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required (a non-empty string)");
                return false;
            }
            channelId = channel;
            if (e.TryGetProperty("session_id", out var s) && s.ValueKind != JsonValueKind.Null)
            {
                if (s.ValueKind != JsonValueKind.String) { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "session_id must be a string"); return false; }
                sessionId = s.GetString();
            }
            return true;
        }
    }

    private static ApiResult SessionNotFound() => ApiResult.Error(404, "SessionNotFound", "no such session in the channel");
}
