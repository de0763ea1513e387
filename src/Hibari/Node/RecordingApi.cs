using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Config;
using Hibari.Recording;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// The recording operations of the HTTP API (issue 16, docs/decisions.md D-58): `Sora_20231220.StartRecording` and
/// `Sora_20231220.StopRecording`, Sora's session recording. A channel call (C-API-1): 307 from a node that does not
/// hold the channel; on a holder the recording starts (stops) here and on the channel's other owner nodes, each
/// recording the connections it serves under the one recording id; a node whose part of the session opens later asks
/// the others whether the channel is being recorded (<see cref="LearnAsync"/>).
/// </summary>
internal sealed class RecordingApi(HibariOptions options, RecordingService recordings, ChannelScope? scope = null, ILogger? log = null)
{
    public const string StartTarget = "Sora_20231220.StartRecording";
    public const string StopTarget = "Sora_20231220.StopRecording";
    /// <summary>Node to node only: start this node's part of a recording (the body carries the recording id).</summary>
    public const string StartHereTarget = "Hibari_20261207.StartRecordingHere";
    /// <summary>Node to node only: stop this node's part.</summary>
    public const string StopHereTarget = "Hibari_20261207.StopRecordingHere";
    /// <summary>Node to node only: the channel's recording on the asked node, if any (for a node that joins the session).</summary>
    public const string FindTarget = "Hibari_20261207.FindRecording";

    public void Register(ApiRouter router)
    {
        router.Register(StartTarget, (request, ct) => new(StartAsync(request, ct)));
        router.Register(StopTarget, (request, ct) => new(StopAsync(request, ct)));
    }

    public static bool Handles(string target) => target is StartHereTarget or StopHereTarget or FindTarget;

    /// <summary>A call from another node: this node's part only.</summary>
    public async Task<(int Status, byte[] Body)> RunLocalAsync(string target, byte[] body)
    {
        var request = new ApiRequest(target, body);
        if (!TryRead(request, out var channelId, out var doc, out var error)) return NodeCalls.Encode(error!);
        using (doc)
        {
            var e = doc.RootElement;
            switch (target)
            {
                case StartHereTarget:
                {
                    var r = RecordingRequest.FromApi(e, options.RecordingMaxExpireTime, options.RecordingMaxSplitDuration, out var invalid);
                    if (r is null) return NodeCalls.Encode(ApiResult.BadRequest(ApiErrorTypes.InvalidBody, invalid!));
                    var id = e.TryGetProperty("recording_id", out var rid) && rid.ValueKind == JsonValueKind.String ? rid.GetString() : null;
                    var (started, refusal) = await recordings.StartAsync(channelId, r, recordingId: id).ConfigureAwait(false);
                    return NodeCalls.Encode(started is null ? Refused(refusal) : NodeCalls.Json(RecordingService.RecordingData(started)));
                }
                case StopHereTarget:
                {
                    var (stopped, refusal) = await recordings.StopAsync(channelId).ConfigureAwait(false);
                    return NodeCalls.Encode(stopped is null ? Refused(refusal) : NodeCalls.Json(RecordingService.RecordingData(stopped)));
                }
                default:
                {
                    var found = await recordings.FindAsync(channelId).ConfigureAwait(false);
                    return NodeCalls.Encode(found is null ? Refused(RecordingRefusal.NotRecording) : NodeCalls.Json(ForPeer(found)));
                }
            }
        }
    }

    private async Task<ApiResult> StartAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryRead(request, out var channelId, out var doc, out var error)) return error!;
        RecordingRequest? r;
        string? invalid;
        using (doc)
        {
            if (doc.RootElement.TryGetProperty("format", out var format) && format.ValueKind != JsonValueKind.Null
                && !(format.ValueKind == JsonValueKind.String && format.GetString() == "webm"))
                return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "format: only \"webm\" is supported (D-58)");
            r = RecordingRequest.FromApi(doc.RootElement, options.RecordingMaxExpireTime, options.RecordingMaxSplitDuration, out invalid);
        }
        if (r is null) return ApiResult.BadRequest(ApiErrorTypes.InvalidBody, invalid!);
        if (scope?.OwnerApiUrl(channelId) is { } location) return ApiResult.Redirect(location);
        var (started, refusal) = await recordings.StartAsync(channelId, r).ConfigureAwait(false);
        if (started is null) return Refused(refusal);
        var answer = RecordingService.RecordingData(started);
        if (scope is not null)
            await scope.CallAllAsync(scope.OtherOwners(channelId), new ApiRequest(StartHereTarget, JsonSerializer.SerializeToUtf8Bytes(ForPeer(started))), log, ct)
                .ConfigureAwait(false);
        return NodeCalls.Json(answer);
    }

    private async Task<ApiResult> StopAsync(ApiRequest request, CancellationToken ct)
    {
        if (!TryRead(request, out var channelId, out var doc, out var error)) return error!;
        doc.Dispose();
        if (scope?.OwnerApiUrl(channelId) is { } location) return ApiResult.Redirect(location);
        var (stopped, refusal) = await recordings.StopAsync(channelId).ConfigureAwait(false);
        var others = scope is null ? [] : await scope.CallAllAsync(scope.OtherOwners(channelId), new ApiRequest(StopHereTarget, request.Body), log, ct)
            .ConfigureAwait(false);
        if (stopped is not null) return NodeCalls.Json(RecordingService.RecordingData(stopped));
        // Not recorded here but on another owner (it started while this node had no part): its answer stands.
        foreach (var (status, body) in others)
            if (status == 200) return new ApiResult.JsonResult(body);
        return Refused(refusal);
    }

    /// <summary>
    /// D-58: a node whose part of a session opened asks the channel's other owners whether it is being recorded, and
    /// records its own connections under the same recording id.
    /// </summary>
    public async Task LearnAsync(string channelId, CancellationToken ct)
    {
        if (scope is null) return;
        var body = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["channel_id"] = channelId });
        foreach (var (status, answer) in await scope.CallAllAsync(scope.OtherOwners(channelId), new ApiRequest(FindTarget, body), log, ct).ConfigureAwait(false))
        {
            if (status != 200) continue;
            await RunLocalAsync(StartHereTarget, answer).ConfigureAwait(false);
            return;
        }
    }

    /// <summary>What another node needs to record its part: the id and the request as StartRecording had it.</summary>
    private static JsonObject ForPeer(ChannelRecording r)
    {
        var o = new JsonObject { ["channel_id"] = r.ChannelId, ["recording_id"] = r.RecordingId, ["split_only"] = r.Request.SplitOnly };
        if (r.Request.SplitDuration is { } split) o["split_duration"] = split;
        if (r.Request.ExpireTime is { } expire)
        {
            // What is left of it: the recording ends at the same time everywhere.
            var left = (int)Math.Ceiling((r.ExpiredAt!.Value - DateTimeOffset.UtcNow).TotalSeconds);
            o["expire_time"] = Math.Clamp(left, 1, RecordingRequest.MaxSeconds);
        }
        if (r.Request.Metadata is { } md) o["metadata"] = JsonNode.Parse(md.GetRawText());
        return o;
    }

    private static ApiResult Refused(RecordingRefusal refusal) => refusal switch
    {
        RecordingRefusal.SessionNotFound => ApiResult.Error(404, "SessionNotFound", "the channel has no session on this node: a recording starts with the session (D-58)"),
        RecordingRefusal.AlreadyRecording => ApiResult.BadRequest("RecordingAlreadyStarted", "the channel's session is already being recorded"),
        _ => ApiResult.Error(404, "RecordingNotFound", "the channel is not being recorded"),
    };

    private static bool TryRead(ApiRequest request, out string channelId, out JsonDocument doc, out ApiResult? error)
    {
        channelId = "";
        if (!NodeCalls.TryParseObject(request, out doc, out error)) return false;
        if (doc.RootElement.TryGetProperty("channel_id", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } id)
        {
            channelId = id;
            return true;
        }
        doc.Dispose();
        error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "channel_id is required (a non-empty string)");
        return false;
    }
}
