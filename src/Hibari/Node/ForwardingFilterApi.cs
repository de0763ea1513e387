using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The forwarding filter API (Sora_20230628, docs/decisions.md D-54): channel filters (every receiver of the channel) and
/// connection filters (one receiver), created, updated and deleted by `name` ("default" when absent), listed with
/// ListForwardingFilters. Channel calls (C-API-1): 307 from a node that does not hold the channel. A channel filter is
/// kept by every owner node of the session: the holder changes its copy and sends the whole set to the other owners; a
/// node whose part of the session opens later asks the other owners for it (<see cref="LearnChannelFiltersAsync"/>). A
/// connection filter is changed on the node that holds the receiver. Filters are evaluated on the receiver's node,
/// for local and relayed senders alike; a change re-negotiates the receivers whose tracks change. With `"blocked": true`
/// ListForwardingFilters also lists, per receiver and kind, the senders the filters keep from it, each node its own.
/// </summary>
internal sealed class ForwardingFilterApi(SfuEngine sfu, ChannelScope? scope = null, ILogger? log = null)
{
    private const string Prefix = "Sora_20230628.";
    public const string ListTarget = Prefix + "ListForwardingFilters";
    public const string CreateChannelTarget = Prefix + "CreateChannelForwardingFilter";
    public const string UpdateChannelTarget = Prefix + "UpdateChannelForwardingFilter";
    public const string DeleteChannelTarget = Prefix + "DeleteChannelForwardingFilter";
    public const string CreateConnectionTarget = Prefix + "CreateConnectionForwardingFilter";
    public const string UpdateConnectionTarget = Prefix + "UpdateConnectionForwardingFilter";
    public const string DeleteConnectionTarget = Prefix + "DeleteConnectionForwardingFilter";
    /// <summary>Node to node only: the channel's whole filter set (`{channel_id, filters}`), replacing the receiver node's copy.</summary>
    public const string ChannelSetTarget = "Hibari_20261207.SetChannelForwardingFilters";
    /// <summary>Node to node only: this node's copy of the channel's filters (`{channel_id}` → `{filters}`).</summary>
    public const string ChannelGetTarget = "Hibari_20261207.GetChannelForwardingFilters";

    private static readonly string[] ConnectionTargets = [CreateConnectionTarget, UpdateConnectionTarget, DeleteConnectionTarget];
    private static readonly string[] ChannelTargets = [CreateChannelTarget, UpdateChannelTarget, DeleteChannelTarget];

    public void Register(ApiRouter router)
    {
        router.Register(ListTarget, (request, ct) => new(ListAsync(request, ct)));
        foreach (var t in ChannelTargets) router.Register(t, (request, ct) => new(ChangeChannelAsync(request, ct)));
        foreach (var t in ConnectionTargets) router.Register(t, (request, ct) => new(ChangeConnectionAsync(request, ct)));
    }

    public static bool Handles(string target) =>
        target is ListTarget or ChannelSetTarget or ChannelGetTarget || Array.IndexOf(ConnectionTargets, target) >= 0;

    /// <summary>A call from another node: this node's part only.</summary>
    public (int Status, byte[] Body) RunLocal(string target, byte[] body)
    {
        var request = new ApiRequest(target, body);
        ApiResult result;
        if (!TryRead(request, out var r, out var error)) result = error!;
        else if (target == ListTarget)
            // Without `blocked` the rows alone (an array, as before); with it the rows and this node's blocked entries.
            result = !r.Blocked ? NodeCalls.Json(new JsonArray(ConnectionRowsHere(r.ChannelId).ToArray()))
                : NodeCalls.Json(new JsonObject
                {
                    ["connection_forwarding_filters"] = new JsonArray(ConnectionRowsHere(r.ChannelId).ToArray()),
                    ["blocked"] = new JsonArray(BlockedHere(r.ChannelId).ToArray()),
                });
        else if (target == ChannelGetTarget)
            result = sfu.ForwardingFiltersOf(r.ChannelId) is { } here ? NodeCalls.Json(new JsonObject { ["filters"] = FiltersJson(here.Channel) }) : SessionNotFound();
        else if (target == ChannelSetTarget)
        {
            IReadOnlyList<ForwardingFilter> set = [];
            var why = "missing";
            if (!r.Body.TryGetProperty("filters", out var fs) || !ForwardingFilters.TryParseList(fs, out set, out why))
                result = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "filters: " + why);
            else result = sfu.ChangeChannelForwardingFilters(r.ChannelId, _ => set) ? NodeCalls.Json(new JsonObject()) : SessionNotFound();
        }
        else result = ChangeConnectionHere(target, r);
        return NodeCalls.Encode(result);
    }

    /// <summary>
    /// This node's part of a session opened: when other owners hold the session, take their copy of the channel's
    /// filters (the first that answers with some). Until it arrives the first receivers here are unfiltered (D-54).
    /// </summary>
    public async Task LearnChannelFiltersAsync(string channelId, CancellationToken ct)
    {
        if (scope is null || scope.OtherOwners(channelId).Count == 0) return;
        var body = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["channel_id"] = channelId });
        foreach (var (status, answer) in await scope!.CallAllAsync(scope.OtherOwners(channelId), new ApiRequest(ChannelGetTarget, body), log, ct).ConfigureAwait(false))
        {
            if (status != 200) continue;
            try
            {
                using var doc = JsonDocument.Parse(answer);
                if (!doc.RootElement.TryGetProperty("filters", out var fs) || !ForwardingFilters.TryParseList(fs, out var set, out _) || set.Count == 0) continue;
                sfu.ChangeChannelForwardingFilters(channelId, current => current.Count == 0 ? set : null);
                return;
            }
            catch (JsonException) { }
        }
    }

    // --- ListForwardingFilters ---

    private async Task<ApiResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryRead(request, out var r, out var error)) return error!;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        if (sfu.ForwardingFiltersOf(r.ChannelId) is not { } here) return SessionNotFound();
        var rows = ConnectionRowsHere(r.ChannelId);
        var blocked = r.Blocked ? BlockedHere(r.ChannelId) : [];
        if (scope is not null)
            foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(r.ChannelId), request, log, ct).ConfigureAwait(false))
            {
                if (status != 200) continue;
                switch (NodeCalls.ParseAnswer(body, log, request.Target))
                {
                    case JsonArray more: // the rows alone (asked without `blocked`, or a node that does not answer it)
                        rows.AddRange(more.Select(n => n!.DeepClone()));
                        break;
                    case JsonObject part:
                        if (part["connection_forwarding_filters"] is JsonArray theirRows) rows.AddRange(theirRows.Select(n => n!.DeepClone()));
                        if (part["blocked"] is JsonArray theirBlocked) blocked.AddRange(theirBlocked.Select(n => n!.DeepClone()));
                        break;
                }
            }
        var answer = new JsonObject
        {
            ["channel_forwarding_filters"] = FiltersJson(here.Channel),
            ["connection_forwarding_filters"] = new JsonArray(rows.ToArray()),
        };
        // Sora's single-filter shape: the "default" channel filter alone.
        if (here.Channel.FirstOrDefault(f => f.Name == ForwardingFilter.DefaultName) is { } legacy) answer["channel_forwarding_filter"] = legacy.ToJson();
        if (r.Blocked) answer["blocked"] = new JsonArray(blocked.ToArray());
        return NodeCalls.Json(answer);
    }

    private List<JsonNode> ConnectionRowsHere(string channelId)
    {
        var rows = new List<JsonNode>();
        if (sfu.ForwardingFiltersOf(channelId) is not { } here) return rows;
        foreach (var (connectionId, filters) in here.Connections)
            foreach (var f in filters)
            {
                var row = f.ToJson();
                row["connection_id"] = connectionId;
                rows.Add(row);
            }
        return rows;
    }

    /// <summary>
    /// `blocked` for this node's receivers of the channel (D-54), Sora's shape: `{destination_connection_id, kind,
    /// source_connection_id_list}` per receiver and kind that has a blocked sender, from the evaluation the forwarding uses.
    /// </summary>
    private List<JsonNode> BlockedHere(string channelId) =>
        sfu.BlockedOf(channelId)?.Select(b => (JsonNode)new JsonObject
        {
            ["destination_connection_id"] = b.DestinationConnectionId,
            ["kind"] = b.Kind,
            ["source_connection_id_list"] = new JsonArray(b.Sources.Select(id => (JsonNode)JsonValue.Create(id)).ToArray()),
        }).ToList() ?? [];

    // --- channel filters ---

    private async Task<ApiResult> ChangeChannelAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryRead(request, out var r, out var error)) return error!;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        ForwardingFilter? filter = null;
        string? name = ForwardingFilter.DefaultName;
        if (request.Target != DeleteChannelTarget)
        {
            if (!ForwardingFilters.TryParse(r.Body, out filter, out var why)) return Invalid(why);
            name = filter.Name;
        }
        else if (!TryName(r.Body, out name, out var bad)) return bad!;
        ApiResult? refused = null;
        IReadOnlyList<ForwardingFilter> result = [];
        var found = sfu.ChangeChannelForwardingFilters(r.ChannelId, current =>
        {
            var next = Apply(request.Target == CreateChannelTarget ? Op.Create : request.Target == UpdateChannelTarget ? Op.Update : Op.Delete,
                current, filter, name!, out refused);
            if (next is not null) result = next;
            return next;
        });
        if (!found) return SessionNotFound();
        if (refused is not null) return refused;
        log?.LogInformation("{Target}: channel {Channel} has {Count} forwarding filter(s)", request.Target, r.ChannelId, result.Count);
        if (scope is not null)
        {
            var set = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["channel_id"] = r.ChannelId, ["filters"] = FiltersJson(result) });
            await scope!.CallAllAsync(scope.OtherOwners(r.ChannelId), new ApiRequest(ChannelSetTarget, set), log, ct).ConfigureAwait(false);
        }
        return Answer(r.ChannelId, null, request.Target == DeleteChannelTarget ? null : filter, name!);
    }

    // --- connection filters ---

    private async Task<ApiResult> ChangeConnectionAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryRead(request, out var r, out var error)) return error!;
        if (scope?.OwnerApiUrl(r.ChannelId) is { } location) return ApiResult.Redirect(location);
        var here = ChangeConnectionHere(request.Target, r);
        if (here is not ApiResult.ErrorResult { Status: 404, ErrorType: "ConnectionNotFound" } || scope is null) return here;
        foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(r.ChannelId), request, log, ct).ConfigureAwait(false))
        {
            if (status == 200) return new ApiResult.JsonResult(body);
            if (status is 400 or 404 && NodeCalls.ParseAnswer(body, log, request.Target) is JsonObject o && (string?)o["error_type"] is { } type && type != "ConnectionNotFound")
                return ApiResult.Error(status, type, (string?)o["message"] ?? "");
        }
        return here;
    }

    private ApiResult ChangeConnectionHere(string target, Request r)
    {
        if (r.ConnectionId is not { Length: > 0 } connectionId) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required (a non-empty string)");
        ForwardingFilter? filter = null;
        string? name = ForwardingFilter.DefaultName;
        if (target != DeleteConnectionTarget)
        {
            if (!ForwardingFilters.TryParse(r.Body, out filter, out var why)) return Invalid(why);
            name = filter.Name;
        }
        else if (!TryName(r.Body, out name, out var bad)) return bad!;
        ApiResult? refused = null;
        var info = sfu.ChangeConnectionForwardingFilters(r.ChannelId, connectionId, current =>
            Apply(target == CreateConnectionTarget ? Op.Create : target == UpdateConnectionTarget ? Op.Update : Op.Delete, current, filter, name!, out refused));
        if (info is null) return ApiResult.Error(404, "ConnectionNotFound", "no such connection in the channel");
        if (refused is not null) return refused;
        if (!info.Receives) log?.LogInformation("{Target}: {Connection} is sendonly; its filters have no effect", target, connectionId);
        return Answer(r.ChannelId, connectionId, target == DeleteConnectionTarget ? null : filter, name!);
    }

    // --- the set operations ---

    private enum Op { Create, Update, Delete }

    /// <summary>The filter set after the operation, or null with <paramref name="refused"/> set.</summary>
    private static IReadOnlyList<ForwardingFilter>? Apply(Op op, IReadOnlyList<ForwardingFilter> current, ForwardingFilter? filter, string name, out ApiResult? refused)
    {
        refused = null;
        var index = current.ToList().FindIndex(f => f.Name == name);
        switch (op)
        {
            case Op.Create when index >= 0:
                refused = ApiResult.BadRequest("ForwardingFilterAlreadyExists", $"a forwarding filter named {name} exists (use Update, or another name and priority)");
                return null;
            case Op.Create when current.Count >= ForwardingFilters.MaxFilters:
                refused = ApiResult.BadRequest("TooManyForwardingFilters", $"at most {ForwardingFilters.MaxFilters} forwarding filters");
                return null;
            case Op.Create:
                return [.. current, filter!];
            case Op.Update or Op.Delete when index < 0:
                refused = ApiResult.Error(404, "ForwardingFilterNotFound", $"no forwarding filter named {name}");
                return null;
            case Op.Update:
                var updated = current.ToList();
                updated[index] = filter!;
                return updated;
            default:
                var removed = current.ToList();
                removed.RemoveAt(index);
                return removed;
        }
    }

    private static ApiResult Answer(string channelId, string? connectionId, ForwardingFilter? filter, string name)
    {
        var o = filter?.ToJson() ?? new JsonObject { ["name"] = name };
        o["channel_id"] = channelId;
        if (connectionId is not null) o["connection_id"] = connectionId;
        return NodeCalls.Json(o);
    }

    // --- requests ---

    private sealed record Request(string ChannelId, string? ConnectionId, JsonElement Body, bool Blocked = false);

    private static bool TryRead(ApiRequest request, out Request r, out ApiResult? error)
    {
        r = null!;
        error = null;
        if (!NodeCalls.TryParseObject(request, out var doc, out error)) return false;
        using (doc)
        {
            var e = doc.RootElement;
            if (Str(e, "channel_id") is not { Length: > 0 } channel) { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required (a non-empty string)"); return false; }
            if (e.TryGetProperty("blocked", out var b) && b.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "blocked must be a boolean"); return false; }
            r = new Request(channel, Str(e, "connection_id"), e.Clone(), b.ValueKind == JsonValueKind.True);
            return true;
        }
    }

    private static bool TryName(JsonElement body, out string? name, out ApiResult? error)
    {
        name = ForwardingFilter.DefaultName;
        error = null;
        if (!body.TryGetProperty("name", out var n) || n.ValueKind == JsonValueKind.Null) return true;
        if (n.ValueKind != JsonValueKind.String || n.GetString() is not { Length: > 0 } s)
        {
            error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "name must be a non-empty string");
            return false;
        }
        name = s;
        return true;
    }

    private static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static ApiResult Invalid(string why) => ApiResult.BadRequest("InvalidForwardingFilter", "invalid forwarding filter: " + why);

    private static JsonArray FiltersJson(IEnumerable<ForwardingFilter> filters) => new(filters.Select(f => (JsonNode)f.ToJson()).ToArray());

    // --- other owners ---

    private static ApiResult SessionNotFound() => ApiResult.Error(404, "SessionNotFound", "no session of the channel on this node");
}
