using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The RTC-stats listing APIs (Sora_20211215, docs/decisions.md D-56): the RTCStats each client last reported (its
/// `pong` to a `ping` with `stats: true`, or its `stats` on DC:stats), as Sora's documentation shapes them:
/// `{channel_id, connection_id, timestamp, rtc_stats: [...]}`. ListRtcStats is this node's (`local`, default true) or
/// every linked node's; ListChannelRtcStats and GetRtcStats are channel calls (C-API-1).
/// </summary>
internal sealed class RtcStatsApi(SfuEngine sfu, ChannelScope? scope = null, ILogger? log = null)
{
    public const string ListTarget = "Sora_20211215.ListRtcStats";
    public const string ListChannelTarget = "Sora_20211215.ListChannelRtcStats";
    public const string GetTarget = "Sora_20211215.GetRtcStats";

    public void Register(ApiRouter router)
    {
        router.Register(ListTarget, (request, ct) => new(ListAsync(request, ct)));
        router.Register(ListChannelTarget, (request, ct) => new(ListChannelAsync(request, ct)));
        router.Register(GetTarget, (request, ct) => new(GetAsync(request, ct)));
    }

    public static bool Handles(string target) => target is ListTarget or ListChannelTarget or GetTarget;

    /// <summary>A call from another node: this node's part only.</summary>
    public (int Status, byte[] Body) RunLocal(string target, byte[] body)
    {
        var result = target switch
        {
            ListTarget => NodeCalls.Json(Rows(null)),
            ListChannelTarget => Read(new ApiRequest(target, body), out var channel, out _, out var e) ? NodeCalls.Json(Rows(channel)) : e!,
            _ => GetHere(new ApiRequest(target, body)),
        };
        return NodeCalls.Encode(result);
    }

    private async Task<ApiResult> ListAsync(ApiRequest request, CancellationToken ct)
    {
        var everyNode = false; // Sora's `local` defaults to true: this node only
        if (!request.Body.Span.Trim(" \t\r\n"u8).IsEmpty)
        {
            try
            {
                using var doc = JsonDocument.Parse(request.Body);
                var e = doc.RootElement;
                if (e.ValueKind != JsonValueKind.Object) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object");
                if (e.TryGetProperty("local", out var l) && l.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "local must be a boolean");
                everyNode = l.ValueKind == JsonValueKind.False;
            }
            catch (JsonException) { return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not JSON"); }
        }
        var rows = Rows(null);
        if (everyNode && scope is not null)
            AddRows(rows, await scope!.CallAllAsync(scope.LinkedPeers(), new ApiRequest(ListTarget, "{}"u8.ToArray()), log, ct).ConfigureAwait(false));
        return NodeCalls.Json(rows);
    }

    private async Task<ApiResult> ListChannelAsync(ApiRequest request, CancellationToken ct)
    {
        if (!Read(request, out var channel, out _, out var error)) return error!;
        if (scope?.OwnerApiUrl(channel) is { } location) return ApiResult.Redirect(location);
        var rows = Rows(channel);
        if (scope is not null) AddRows(rows, await scope!.CallAllAsync(scope.OtherOwners(channel), request, log, ct).ConfigureAwait(false));
        return NodeCalls.Json(rows);
    }

    private async Task<ApiResult> GetAsync(ApiRequest request, CancellationToken ct)
    {
        if (!Read(request, out var channel, out var connection, out var error)) return error!;
        if (connection is null) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required");
        if (scope?.OwnerApiUrl(channel) is { } location) return ApiResult.Redirect(location);
        var here = GetHere(request);
        if (here is not ApiResult.ErrorResult { Status: 404 } || scope is null) return here;
        foreach (var (status, body) in await scope!.CallAllAsync(scope.OtherOwners(channel), request, log, ct).ConfigureAwait(false))
            if (status == 200) return new ApiResult.JsonResult(body);
        return here;
    }

    private ApiResult GetHere(ApiRequest request)
    {
        if (!Read(request, out var channel, out var connection, out var error)) return error!;
        if (connection is null) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "connection_id is required");
        var found = sfu.RtcStats(channel).FirstOrDefault(s => s.Info.ConnectionId == connection);
        if (found.Info is not null) return NodeCalls.Json(Row(found.Info, found.Stats));
        return sfu.HasConnection(channel, connection)
            ? ApiResult.Error(404, "RtcStatsNotFound", "that connection has not reported its RTC stats yet")
            : ApiResult.Error(404, "ConnectionNotFound", "no such connection in the channel");
    }

    private JsonArray Rows(string? channel) => new(sfu.RtcStats(channel).Select(s => (JsonNode)Row(s.Info, s.Stats)).ToArray());

    /// <summary>One connection's report in Sora's documented shape.</summary>
    private static JsonObject Row(ConnectionInfo info, RtcStatsSample s) => new()
    {
        ["channel_id"] = info.ChannelId,
        ["connection_id"] = info.ConnectionId,
        ["timestamp"] = s.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
        ["rtc_stats"] = JsonNode.Parse(s.Stats.GetRawText()),
    };

    private static bool Read(ApiRequest request, out string channel, out string? connection, out ApiResult? error)
    {
        channel = "";
        connection = null;
        error = null;
        try
        {
            using var doc = JsonDocument.Parse(request.Body);
            var e = doc.RootElement;
            if (e.ValueKind != JsonValueKind.Object) { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object"); return false; }
            if (!e.TryGetProperty("channel_id", out var c) || c.ValueKind != JsonValueKind.String || c.GetString() is not { Length: > 0 } ch)
            {
                error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required (a non-empty string)");
                return false;
            }
            channel = ch;
            if (e.TryGetProperty("connection_id", out var id) && id.ValueKind == JsonValueKind.String) connection = id.GetString();
            return true;
        }
        catch (JsonException)
        {
            error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not JSON");
            return false;
        }
    }

    private void AddRows(JsonArray rows, (int Status, byte[] Body)[] answers)
    {
        foreach (var (status, body) in answers)
        {
            if (status != 200) continue;
            if (NodeCalls.ParseAnswer(body, log, "RTC stats") is JsonArray more)
                foreach (var row in more) rows.Add(row?.DeepClone());
        }
    }
}
