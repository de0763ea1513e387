using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Api.Contracts;
using Hibari.Config;
using Hibari.Sfu;
using Hibari.Sfu.Spotlight;
using Hibari.Signaling;
using Hibari.Signaling.Messages;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// How channel-scoped calls reach the other nodes of a channel in a cluster (C-API-1): the holder's API URL for a 307
/// when this node does not hold the channel, the other alive owners, and a call to one of them.
/// </summary>
internal sealed record ChannelScope(
    Func<string, string?> OwnerApiUrl,
    Func<string, IReadOnlyList<string>> OtherOwners,
    Func<string, string, ReadOnlyMemory<byte>, CancellationToken, Task<(int Status, byte[] Body)>> CallPeer,
    Func<IReadOnlyCollection<string>> LinkedPeers);

/// <summary>
/// The connection operations of the HTTP API (docs/protocol-notes.md, "Connection operations"): list, disconnect and push, by channel, connection
/// or client. In a cluster a channel call on a node that does not hold the channel answers 307 to the holder; on a holder
/// it acts on the whole session: here, and on every other owner node through the node links (C-API-1).
/// </summary>
internal sealed class ConnectionApi(HibariOptions options, SfuEngine sfu, ChannelScope? scope = null, ILogger? log = null)
{
    private delegate ApiResult LocalOperation(ApiRequest request, out string? channelId);

    private readonly Dictionary<string, (LocalOperation Run, Target Target, bool IsList)> _channelOps = new(StringComparer.Ordinal);

    public void Register(ApiRouter router)
    {
        Channel(router, "Sora_20201013.ListChannelConnections", ListLocal, Target.Channel, isList: true);
        Channel(router, "Sora_20151104.DisconnectChannel", (ApiRequest r, out string? c) => DisconnectLocal(r, Target.Channel, out c), Target.Channel);
        Channel(router, "Sora_20151104.DisconnectConnection", (ApiRequest r, out string? c) => DisconnectLocal(r, Target.Connection, out c), Target.Connection);
        Channel(router, "Sora_20151104.DisconnectClient", (ApiRequest r, out string? c) => DisconnectLocal(r, Target.Client, out c), Target.Client);
        Channel(router, "Sora_20160711.PushChannel", (ApiRequest r, out string? c) => PushLocal(r, Target.Channel, out c), Target.Channel);
        Channel(router, "Sora_20160711.PushConnection", (ApiRequest r, out string? c) => PushLocal(r, Target.Connection, out c), Target.Connection);
        Channel(router, "Sora_20160711.PushClient", (ApiRequest r, out string? c) => PushLocal(r, Target.Client, out c), Target.Client);
        // By role (sora-devtools' templates: `{"channel_id", "role"}`, push with `data`): every connection of that role.
        Channel(router, "Sora_20201120.DisconnectChannelByRole", (ApiRequest r, out string? c) => DisconnectLocal(r, Target.Channel, out c, byRole: true), Target.Channel);
        Channel(router, "Sora_20201120.PushChannelByRole", (ApiRequest r, out string? c) => PushLocal(r, Target.Channel, out c, byRole: true), Target.Channel);
        Channel(router, "Sora_20241218.RequestKeyFrame", RequestKeyFrameLocal, Target.Connection);
        // Simulcast layer of a receiver (issue 12, docs/decisions.md D-35): the current name under both dates Sora's
        // documents and tools use, and the older RequestRtpStream / ResetRtpStream.
        foreach (var target in new[] { "Sora_20251217.RequestSimulcastRid", "Sora_20251210.RequestSimulcastRid" })
            Channel(router, target, (ApiRequest r, out string? c) => SimulcastRidLocal(r, "receiver_connection_id", "sender_connection_id", reset: false, out c), Target.Connection);
        Channel(router, "Sora_20201005.RequestRtpStream", (ApiRequest r, out string? c) => SimulcastRidLocal(r, "recv_connection_id", "send_connection_id", reset: false, out c), Target.Connection);
        Channel(router, "Sora_20201005.ResetRtpStream", (ApiRequest r, out string? c) => SimulcastRidLocal(r, "recv_connection_id", "send_connection_id", reset: true, out c), Target.Connection);
        // Spotlight (docs/decisions.md D-37): focus by API, the number of focused senders, a receiver's spotlight rids.
        Channel(router, "Sora_20200807.FocusSpotlight", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.Focus, out c), Target.Connection);
        Channel(router, "Sora_20200807.FocusSpotlightFixed", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.FocusFixed, out c), Target.Connection);
        Channel(router, "Sora_20200807.UnfocusSpotlight", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.Unfocus, out c), Target.Connection);
        Channel(router, "Sora_20200807.ChangeSpotlightNumber", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.Number, out c), Target.Channel);
        Channel(router, "Sora_20211215.RequestSpotlightRid", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.RequestRid, out c), Target.Connection);
        Channel(router, "Sora_20211215.ResetSpotlightRid", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.ResetRid, out c), Target.Connection);
        Channel(router, "Sora_20211215.BatchRequestSpotlightRid", (ApiRequest r, out string? c) => SpotlightLocal(r, SpotlightOp.Batch, out c), Target.Channel);
        router.Register("Sora_20201013.ListConnections", (_, _) => new(List(sfu.ListConnections())));
        router.Register(StatsConnectionTarget, (request, ct) => new(StatsConnectionAsync(request, ct)));
        router.Register(StatsAllConnectionsTarget, (request, ct) => new(StatsAllConnectionsAsync(request, ct)));
        router.Register(StatsClientTarget, (request, ct) => new(StatsClientAsync(request, ct)));
    }

    // --- connection statistics (D-41) ---

    public const string StatsConnectionTarget = "Sora_20170529.GetStatsConnection";
    public const string StatsAllConnectionsTarget = "Sora_20171101.GetStatsAllConnections";
    public const string StatsClientTarget = "Sora_20170529.GetStatsClient";

    private static JsonArray StatsRows(IEnumerable<ConnectionStats> stats)
    {
        var now = DateTimeOffset.UtcNow;
        return new JsonArray(stats.Select(s => (JsonNode)ConnectionStatsJson.Build(s, now)).ToArray());
    }

    private static ApiResult StatsArray(IEnumerable<ConnectionStats> stats) =>
        new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(StatsRows(stats)));

    /// <summary>{channel_id, connection_id} → that connection's statistics here, or the 400/404 to answer.</summary>
    private async Task<ApiResult> StatsConnectionLocalAsync(ApiRequest request)
    {
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return error!;
        if (MissingTarget(Target.Connection, body.ConnectionId, null) is { } missing) return missing;
        var found = await sfu.ConnectionStatsAsync(body.ChannelId, body.ConnectionId).ConfigureAwait(false);
        return found.Count == 0 ? NotFound(Target.Connection)
            : new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(ConnectionStatsJson.Build(found[0], DateTimeOffset.UtcNow)));
    }

    /// <summary>
    /// GetStatsConnection from a client: in a cluster, 307 to the channel's holder when this node does not hold it; on a
    /// holder, the connection's node answers (this one, or another owner asked over the node links; C-API-1).
    /// </summary>
    private async Task<ApiResult> StatsConnectionAsync(ApiRequest request, CancellationToken ct)
    {
        if (scope is not null && PeekChannel(request) is { } channel && scope.OwnerApiUrl(channel) is { } location)
            return ApiResult.Redirect(location);
        var local = await StatsConnectionLocalAsync(request).ConfigureAwait(false);
        if (scope is null || local is not ApiResult.ErrorResult { Status: 404 } || PeekChannel(request) is not { } ch) return local;
        foreach (var peer in scope.OtherOwners(ch))
        {
            var (status, body) = await CallQuietlyAsync(peer, request, ct).ConfigureAwait(false);
            if (status == 200) return new ApiResult.JsonResult(body);
        }
        return local;
    }

    /// <summary>{channel_id, client_id} → the statistics of that client's connections here (an array, maybe empty), or the 400.</summary>
    private async Task<ApiResult> StatsClientLocalAsync(ApiRequest request)
    {
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return error!;
        if (MissingTarget(Target.Client, null, body.ClientId) is { } missing) return missing;
        var found = await sfu.ConnectionStatsAsync(body.ChannelId, null).ConfigureAwait(false);
        return StatsArray(found.Where(s => s.Info.ClientId == body.ClientId));
    }

    /// <summary>
    /// GetStatsClient (D-45): every connection of the channel with that `client_id` (a client_id may name several),
    /// as an array of GetStatsConnection's objects; 404 ClientNotFound when there is none. In a cluster, 307 to the
    /// channel's holder when this node does not hold it; on a holder, the channel's other owners are asked too.
    /// </summary>
    private async Task<ApiResult> StatsClientAsync(ApiRequest request, CancellationToken ct)
    {
        if (scope is not null && PeekChannel(request) is { } channel && scope.OwnerApiUrl(channel) is { } location)
            return ApiResult.Redirect(location);
        var local = await StatsClientLocalAsync(request).ConfigureAwait(false);
        if (local is not ApiResult.JsonResult json) return local;
        var rows = JsonNode.Parse(json.Utf8Json)!.AsArray();
        if (scope is not null && PeekChannel(request) is { } ch)
            await AddRowsFromAsync(rows, scope.OtherOwners(ch), request, ct).ConfigureAwait(false);
        return rows.Count == 0 ? NotFound(Target.Client) : new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(rows));
    }

    /// <summary>
    /// GetStatsAllConnections: this node's connections; with `"local": false` in a cluster, every linked node's too
    /// (as sorastats `--global` asks).
    /// </summary>
    private async Task<ApiResult> StatsAllConnectionsAsync(ApiRequest request, CancellationToken ct)
    {
        var everyNode = false; // Sora's `local` defaults to true: this node only
        if (!request.Body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            if (ParseBody(request, out var doc) is { } notJson) return notJson;
            using (doc)
            {
                var e = doc.RootElement;
                if (e.ValueKind != JsonValueKind.Object) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object");
                if (e.TryGetProperty("local", out var l) && l.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "local must be a boolean");
                everyNode = l.ValueKind == JsonValueKind.False;
            }
        }
        var rows = StatsRows(await sfu.ConnectionStatsAsync(null, null).ConfigureAwait(false));
        if (everyNode && scope is not null) await AddOtherNodesAsync(rows, request.Target, ct).ConfigureAwait(false);
        return new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(rows));
    }

    /// <summary>Every linked node's own connections (asked with an empty body: `local` true there).</summary>
    private Task AddOtherNodesAsync(JsonArray rows, string target, CancellationToken ct) =>
        AddRowsFromAsync(rows, scope!.LinkedPeers(), new ApiRequest(target, "{}"u8.ToArray()), ct);

    /// <summary>Asks each of <paramref name="peers"/> the local part of <paramref name="request"/>; adds the rows of every array answered.</summary>
    private async Task AddRowsFromAsync(JsonArray rows, IEnumerable<string> peers, ApiRequest request, CancellationToken ct)
    {
        var target = request.Target;
        var answers = await Task.WhenAll(peers.Select(peer => CallQuietlyAsync(peer, request, ct))).ConfigureAwait(false);
        foreach (var (status, body) in answers)
        {
            if (status != 200) continue;
            try
            {
                if (JsonNode.Parse(body) is JsonArray more)
                    foreach (var row in more) rows.Add(row?.DeepClone());
            }
            catch (JsonException e)
            {
                log?.LogWarning("{Target}: a node answered something that is not JSON: {Error}", target, e.Message);
            }
        }
    }

    private async Task<(int Status, byte[] Body)> CallQuietlyAsync(string peer, ApiRequest request, CancellationToken ct)
    {
        try { return await scope!.CallPeer(peer, request.Target, request.Body, ct).ConfigureAwait(false); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log?.LogWarning("{Target} on {Peer} failed: {Error}", request.Target, peer, e.Message);
            return (0, []);
        }
    }

    private void Channel(ApiRouter router, string target, LocalOperation run, Target kind, bool isList = false)
    {
        _channelOps[target] = (run, kind, isList);
        router.Register(target, (request, ct) => new(RunAsync(request, ct)));
    }

    private enum Target { Channel, Connection, Client }

    /// <summary>A channel call from a client: redirect, or act here and on the channel's other owner nodes.</summary>
    private async Task<ApiResult> RunAsync(ApiRequest request, CancellationToken ct)
    {
        var (run, kind, isList) = _channelOps[request.Target];
        if (scope is not null && PeekChannel(request) is { } channel && scope.OwnerApiUrl(channel) is { } location)
            return ApiResult.Redirect(location);
        var local = run(request, out var channelId);
        if (scope is null || channelId is null || local is ApiResult.ErrorResult { Status: not 404 }) return local;
        var others = scope.OtherOwners(channelId);
        if (others.Count == 0) return local;
        var answers = await Task.WhenAll(others.Select(async peer =>
        {
            try { return await scope.CallPeer(peer, request.Target, request.Body, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log?.LogWarning("{Target} on {Peer} failed: {Error}", request.Target, peer, e.Message);
                return (Status: 0, Body: Array.Empty<byte>());
            }
        })).ConfigureAwait(false);
        if (isList)
        {
            var all = new List<ConnectionBody>(Decode(local));
            foreach (var (status, body) in answers)
                if (status == 200 && JsonSerializer.Deserialize(body, ApiJsonContext.Default.ConnectionBodyArray) is { } rows) all.AddRange(rows);
            return ApiResult.Json(all.OrderBy(c => c.CreatedTime).ToArray(), ApiJsonContext.Default.ConnectionBodyArray);
        }
        // A connection or client target is found if any node had it.
        return local is ApiResult.ErrorResult && kind != Target.Channel && answers.Any(a => a.Status == 200)
            ? ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody)
            : local;
    }

    /// <summary>A channel call from another node of the channel: this node's connections only (no redirect, no fan-out).</summary>
    public async Task<(int Status, byte[] Body)> RunLocalAsync(string target, byte[] body, CancellationToken ct)
    {
        if (target == StatsConnectionTarget) return Encode(await StatsConnectionLocalAsync(new ApiRequest(target, body)).ConfigureAwait(false));
        if (target == StatsAllConnectionsTarget) return Encode(StatsArray(await sfu.ConnectionStatsAsync(null, null).ConfigureAwait(false)));
        if (target == StatsClientTarget) return Encode(await StatsClientLocalAsync(new ApiRequest(target, body)).ConfigureAwait(false));
        return RunChannelLocal(target, body);
    }

    private (int Status, byte[] Body) RunChannelLocal(string target, byte[] body)
    {
        if (!_channelOps.TryGetValue(target, out var op)) return (404, Array.Empty<byte>());
        return Encode(op.Run(new ApiRequest(target, body), out _));
    }

    private static (int, byte[]) Encode(ApiResult r) => NodeCalls.Encode(r);

    private static ConnectionBody[] Decode(ApiResult r) =>
        r is ApiResult.JsonResult j ? JsonSerializer.Deserialize(j.Utf8Json, ApiJsonContext.Default.ConnectionBodyArray) ?? [] : [];

    private static string? PeekChannel(ApiRequest request) =>
        request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out _) ? body.ChannelId : null;

    private ApiResult ListLocal(ApiRequest request, out string? channelId)
    {
        channelId = null;
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return error!;
        channelId = body.ChannelId;
        return List(sfu.ListConnections(body.ChannelId));
    }

    private ApiResult List(IReadOnlyList<ConnectionInfo> connections) =>
        ApiResult.Json(connections.Select(ToBody).ToArray(), ApiJsonContext.Default.ConnectionBodyArray);

    private ApiResult DisconnectLocal(ApiRequest request, Target target, out string? channelId, bool byRole = false)
    {
        channelId = null;
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return error!;
        if (MissingTarget(target, body.ConnectionId, body.ClientId) is { } missing) return missing;
        ConnectionRole? role = null;
        if (byRole && (role = ParseRole(body.Role)) is null) return BadRole();
        channelId = body.ChannelId;
        var reason = body.Reason is { ValueKind: JsonValueKind.String } r ? r.GetString()! : "DISCONNECTED-BY-API";
        var n = sfu.Disconnect(body.ChannelId, target == Target.Connection ? body.ConnectionId : null,
            target == Target.Client ? body.ClientId : null, reason, role);
        return n == 0 && target != Target.Channel ? NotFound(target) : ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody);
    }

    private ApiResult PushLocal(ApiRequest request, Target target, out string? channelId, bool byRole = false)
    {
        channelId = null;
        if (!request.TryRead(ApiJsonContext.Default.PushRequest, out var body, out var error)) return error!;
        if (MissingTarget(target, body.ConnectionId, body.ClientId) is { } missing) return missing;
        ConnectionRole? role = null;
        if (byRole && (role = ParseRole(body.Role)) is null) return BadRole();
        channelId = body.ChannelId;
        var n = sfu.Push(body.ChannelId, target == Target.Connection ? body.ConnectionId : null,
            target == Target.Client ? body.ClientId : null, body.Data, role);
        return n == 0 && target != Target.Channel ? NotFound(target) : ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody);
    }

    private static ConnectionRole? ParseRole(string? role) => role switch
    {
        "sendrecv" => ConnectionRole.SendRecv,
        "sendonly" => ConnectionRole.SendOnly,
        "recvonly" => ConnectionRole.RecvOnly,
        _ => null,
    };

    private static ApiResult BadRole() => ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "role is required: sendrecv, sendonly or recvonly");

    /// <summary>RequestKeyFrame (Sora_20241218): {channel_id, connection_id} → a key-frame request to that publisher's video.</summary>
    private ApiResult RequestKeyFrameLocal(ApiRequest request, out string? channelId)
    {
        channelId = null;
        if (!request.TryRead(ApiJsonContext.Default.ChannelTargetRequest, out var body, out var error)) return error!;
        if (MissingTarget(Target.Connection, body.ConnectionId, null) is { } missing) return missing;
        channelId = body.ChannelId;
        return sfu.RequestKeyFrame(body.ChannelId, body.ConnectionId!) ? ApiResult.Json(new EmptyBody(), ApiJsonContext.Default.EmptyBody)
            : NotFound(Target.Connection);
    }

    /// <summary>
    /// {channel_id, receiver (recv_connection_id / receiver_connection_id), sender?, rid} → the receiver's layer; the
    /// answer echoes the request as Sora's does. `auto` asks for the best layer that flows (r2 first) until bandwidth
    /// estimation chooses (D-35).
    /// </summary>
    private ApiResult SimulcastRidLocal(ApiRequest request, string receiverField, string senderField, bool reset, out string? channelId)
    {
        channelId = null;
        if (ParseBody(request, out var doc) is { } notJson) return notJson;
        using (doc)
        {
            var e = doc.RootElement;
            var channel = Str(e, "channel_id");
            var receiver = Str(e, receiverField);
            var sender = Str(e, senderField);
            var rid = Str(e, "rid");
            if (string.IsNullOrEmpty(channel)) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required");
            if (string.IsNullOrEmpty(receiver)) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, $"{receiverField} is required");
            var allowed = receiverField == "receiver_connection_id" ? new[] { "none", "r0", "r1", "r2", "auto" } : ["r0", "r1", "r2"];
            if (!reset && (rid is null || !allowed.Contains(rid)))
                return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, $"rid must be one of {string.Join(", ", allowed)}");
            channelId = channel;
            if (!sfu.RequestSimulcastRid(channel, receiver, sender, reset ? null : rid == "auto" ? "r2" : rid))
                return NotFound(Target.Connection);
            var echo = new JsonObject { ["channel_id"] = channel, [receiverField] = receiver };
            if (!reset) echo["rid"] = rid;
            if (sender is not null) echo[senderField] = sender;
            return new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(echo));
        }
    }

    /// <summary>The request's body as JSON, or the 400 to answer.</summary>
    private static ApiResult? ParseBody(ApiRequest request, out JsonDocument doc)
    {
        doc = null!;
        try { doc = JsonDocument.Parse(request.Body); }
        catch (JsonException) { return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not JSON"); }
        return null;
    }

    /// <summary>A string member of an object body, else null (absent, another kind, or the body is no object).</summary>
    private static string? Str(JsonElement o, string name) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private enum SpotlightOp { Focus, FocusFixed, Unfocus, Number, RequestRid, ResetRid, Batch }

    private static readonly string[] SpotlightRids = ["none", "r0", "r1", "r2"];

    /// <summary>
    /// The spotlight APIs (D-37): `{channel_id, connection_id}` for the focus calls, `{channel_id, spotlight_number}`,
    /// `{channel_id, recv_connection_id, send_connection_id?, spotlight_focus_rid, spotlight_unfocus_rid}` (Reset without the
    /// rids), `{channel_id, item_list: [...]}`; answered with the request's body, as Sora's are. 404 when the channel has no
    /// spotlight session here or the connection is not in it.
    /// </summary>
    private ApiResult SpotlightLocal(ApiRequest request, SpotlightOp op, out string? channelId)
    {
        channelId = null;
        if (ParseBody(request, out var doc) is { } notJson) return notJson;
        using (doc)
        {
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not a JSON object");
            var channel = Str(e, "channel_id");
            if (string.IsNullOrEmpty(channel)) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required");
            SpotlightResult result;
            switch (op)
            {
                case SpotlightOp.Focus or SpotlightOp.FocusFixed or SpotlightOp.Unfocus:
                {
                    var connection = Str(e, "connection_id");
                    if (string.IsNullOrEmpty(connection)) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required");
                    result = op == SpotlightOp.Unfocus ? sfu.UnfocusSpotlight(channel, connection) : sfu.FocusSpotlight(channel, connection, op == SpotlightOp.FocusFixed);
                    break;
                }
                case SpotlightOp.Number:
                    if (!e.TryGetProperty("spotlight_number", out var n) || n.ValueKind != JsonValueKind.Number || !n.TryGetInt32(out var number)
                        || number < 1 || number > SpotlightSelector.MaxSpotlightNumber)
                        return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "spotlight_number must be an integer in 1..8");
                    result = sfu.ChangeSpotlightNumber(channel, number);
                    break;
                case SpotlightOp.RequestRid or SpotlightOp.ResetRid:
                    if (SpotlightRidItem(e, op == SpotlightOp.ResetRid, out var receiver, out var sender, out var focus, out var unfocus) is { } bad) return bad;
                    result = sfu.RequestSpotlightRid(channel, receiver, sender, focus, unfocus);
                    break;
                default:
                {
                    if (!e.TryGetProperty("item_list", out var items) || items.ValueKind != JsonValueKind.Array || items.GetArrayLength() == 0)
                        return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "item_list must be a non-empty array");
                    var parsed = new List<(string, string?, string?, string?)>();
                    foreach (var item in items.EnumerateArray())
                    {
                        if (item.ValueKind != JsonValueKind.Object) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "item_list entries must be objects");
                        if (SpotlightRidItem(item, reset: false, out var r, out var s, out var f, out var u) is { } badItem) return badItem;
                        parsed.Add((r, s, f, u));
                    }
                    // Items of receivers on other nodes are theirs (the call fans out): one found here is enough.
                    var outcomes = parsed.Select(i => sfu.RequestSpotlightRid(channel, i.Item1, i.Item2, i.Item3, i.Item4)).ToList();
                    result = outcomes.Contains(SpotlightResult.Ok) ? SpotlightResult.Ok
                        : outcomes.All(o => o == SpotlightResult.NoChannel) ? SpotlightResult.NoChannel
                        : SpotlightResult.NoConnection;
                    break;
                }
            }
            channelId = channel;
            return result switch
            {
                SpotlightResult.Ok => new ApiResult.JsonResult(request.Body.ToArray()),
                SpotlightResult.NoChannel => ApiResult.Error(404, "ChannelNotFound", "the channel has no spotlight session here"),
                SpotlightResult.Refused => ApiResult.Error(409, "SpotlightFull", "every focus of the channel is fixed"),
                _ => NotFound(Target.Connection),
            };
        }
    }

    /// <summary>recv_connection_id, send_connection_id? and (unless a reset) the two spotlight rids of one request or item.</summary>
    private static ApiResult? SpotlightRidItem(JsonElement e, bool reset, out string receiver, out string? sender, out string? focus, out string? unfocus)
    {
        receiver = Str(e, "recv_connection_id") ?? "";
        sender = Str(e, "send_connection_id");
        focus = reset ? null : Str(e, "spotlight_focus_rid");
        unfocus = reset ? null : Str(e, "spotlight_unfocus_rid");
        if (receiver.Length == 0) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "recv_connection_id is required");
        if (!reset && (focus is null || !SpotlightRids.Contains(focus) || unfocus is null || !SpotlightRids.Contains(unfocus)))
            return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "spotlight_focus_rid and spotlight_unfocus_rid must be none, r0, r1 or r2");
        return null;
    }

    private static ApiResult? MissingTarget(Target target, string? connectionId, string? clientId) => target switch
    {
        Target.Connection when string.IsNullOrEmpty(connectionId) => ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required"),
        Target.Client when string.IsNullOrEmpty(clientId) => ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "client_id is required"),
        _ => null,
    };

    private static ApiResult NotFound(Target target) => target == Target.Connection
        ? ApiResult.Error(404, "ConnectionNotFound", "no such connection in the channel")
        : ApiResult.Error(404, "ClientNotFound", "no connection with that client_id in the channel");

    private ConnectionBody ToBody(ConnectionInfo c) => new()
    {
        ChannelId = c.ChannelId,
        SessionId = c.SessionId,
        ClientId = c.ClientId,
        BundleId = c.BundleId,
        ConnectionId = c.ConnectionId,
        Role = c.Role.ToWireRole().ToWire(),
        Simulcast = c.Simulcast,
        Spotlight = c.Spotlight,
        CreatedTime = (c.CreatedAt - DateTimeOffset.UnixEpoch).Ticks / 10,
        CreatedTimestamp = c.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        NodeName = options.NodeName,
        EventMetadata = c.EventMetadata,
        Audio = Audio(c),
        Video = Video(c, c.VideoCodecType ?? options.DefaultVideoCodecType, c.VideoBitRate ?? options.DefaultVideoBitRate),
    };

    /// <summary>`audio`: false, or {codec_type, bit_rate?, opus_params?} with the effective parameters (D-34).</summary>
    private static JsonElement Audio(ConnectionInfo c)
    {
        if (!c.Audio) return JsonSerializer.SerializeToElement(false);
        var o = new JsonObject { ["codec_type"] = c.AudioCodecType ?? "OPUS" };
        if (c.AudioBitRate is { } b) o["bit_rate"] = b;
        if (c.OpusParams is { } p)
            o["opus_params"] = Compact(new JsonObject
            {
                ["channels"] = p.Channels, ["maxplaybackrate"] = p.MaxPlaybackRate, ["minptime"] = p.MinPtime, ["ptime"] = p.Ptime,
                ["stereo"] = p.Stereo, ["sprop_stereo"] = p.SpropStereo, ["useinbandfec"] = p.UseInbandFec, ["usedtx"] = p.UseDtx,
            });
        return JsonSerializer.SerializeToElement(o);
    }

    /// <summary>`video`: false, or {codec_type, bit_rate, vp9_params? / av1_params? / h264_params? / h265_params?} (D-34).</summary>
    private static JsonElement Video(ConnectionInfo c, string codecType, int bitRate)
    {
        if (!c.Video) return JsonSerializer.SerializeToElement(false);
        var o = new JsonObject { ["codec_type"] = codecType, ["bit_rate"] = bitRate };
        if (c.VideoParams is { } p)
        {
            if (p.HasVp9) o["vp9_params"] = Compact(new JsonObject { ["profile_id"] = p.Vp9ProfileId });
            if (p.HasAv1) o["av1_params"] = Compact(new JsonObject { ["profile"] = p.Av1Profile, ["level_idx"] = p.Av1LevelIdx, ["tier"] = p.Av1Tier });
            if (p.HasH264) o["h264_params"] = Compact(new JsonObject { ["profile_level_id"] = p.H264ProfileLevelId, ["b_frame"] = p.H264BFrame });
            if (p.HasH265)
                o["h265_params"] = Compact(new JsonObject
                {
                    ["level_id"] = p.H265LevelId, ["profile_id"] = p.H265ProfileId, ["tier_flag"] = p.H265TierFlag, ["tx_mode"] = p.H265TxMode,
                    ["b_frame"] = p.H265BFrame,
                });
        }
        return JsonSerializer.SerializeToElement(o);
    }

    /// <summary>The object without its null members (fields the client did not give).</summary>
    private static JsonObject Compact(JsonObject o)
    {
        foreach (var key in o.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) o.Remove(key);
        return o;
    }
}
