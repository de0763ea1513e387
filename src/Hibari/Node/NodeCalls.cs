using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Api;
using Hibari.Api.Contracts;
using Microsoft.Extensions.Logging;

namespace Hibari.Node;

/// <summary>
/// What the channel-scoped API operations share (C-API-1): calling other nodes for their local part over the node
/// links, a local answer as a node-link reply, and JSON answers.
/// </summary>
internal static class NodeCalls
{
    /// <summary>
    /// Calls <paramref name="request"/> on every one of <paramref name="peers"/> at once (their local part); a call that
    /// fails is logged and answers (0, empty).
    /// </summary>
    public static async Task<(int Status, byte[] Body)[]> CallAllAsync(this ChannelScope scope, IEnumerable<string> peers, ApiRequest request,
        ILogger? log, CancellationToken ct) =>
        await Task.WhenAll(peers.Select(async peer =>
        {
            try { return await scope.CallPeer(peer, request.Target, request.Body, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log?.LogWarning("{Target} on {Peer} failed: {Error}", request.Target, peer, e.Message);
                return (0, Array.Empty<byte>());
            }
        })).ConfigureAwait(false);

    /// <summary>A local answer as the node-link reply to another node: the status and the body the HTTP API would send.</summary>
    public static (int Status, byte[] Body) Encode(ApiResult result) => result switch
    {
        ApiResult.JsonResult j => (200, j.Utf8Json),
        ApiResult.ErrorResult e => (e.Status, JsonSerializer.SerializeToUtf8Bytes(new ErrorBody { ErrorType = e.ErrorType, Message = e.Message },
            ApiJsonContext.Default.ErrorBody)),
        _ => (500, []),
    };

    /// <summary>
    /// The request body as a JSON object (the caller disposes <paramref name="doc"/>), or false with the 400 to answer:
    /// not JSON, or not an object.
    /// </summary>
    public static bool TryParseObject(ApiRequest request, out JsonDocument doc, out ApiResult? error)
    {
        doc = null!;
        error = null;
        try
        {
            if (!JsonInput.StringsDecode(request.Body.Span)) throw new JsonException("a string does not decode");
            doc = JsonDocument.Parse(request.Body);
        }
        catch (JsonException) { error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body is not JSON"); return false; }
        if (doc.RootElement.ValueKind == JsonValueKind.Object) return true;
        doc.Dispose();
        error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object");
        return false;
    }

    /// <summary>A 200 answer with <paramref name="node"/>.</summary>
    public static ApiResult Json(JsonNode node) => new ApiResult.JsonResult(JsonSerializer.SerializeToUtf8Bytes(node));

    /// <summary>Another node's answer as JSON; null (logged) when it is not JSON.</summary>
    public static JsonNode? ParseAnswer(byte[] body, ILogger? log, string target)
    {
        try { return JsonNode.Parse(body); }
        catch (JsonException e)
        {
            log?.LogWarning("{Target}: a node answered something that is not JSON: {Error}", target, e.Message);
            return null;
        }
    }
}
