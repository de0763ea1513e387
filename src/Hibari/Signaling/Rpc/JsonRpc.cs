using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hibari.Signaling.Rpc;

/// <summary>
/// A JSON-RPC 2.0 request as sora-js-sdk's `rpc()` sends it on the `rpc` data channel (D-36): `jsonrpc` "2.0",
/// `method`, optional `params` (object or array), and `id` (number or string) unless it is a notification.
/// </summary>
internal sealed record RpcRequest(string Method, JsonElement? Params, JsonElement? Id)
{
    public bool IsNotification => Id is null;
}

/// <summary>JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification §5.1).</summary>
internal static class RpcErrors
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;
}

/// <summary>Reads requests and writes responses of the `rpc` data channel. Pure; never throws on input.</summary>
internal static class JsonRpc
{
    /// <summary>Largest request read (a request names a method and a few ids).</summary>
    public const int MaxRequestBytes = 64 * 1024;
    private static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 32 };
    private static readonly JsonWriterOptions WriteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Parses one request. False with an error response to send (or null when none is due: a malformed notification
    /// cannot be told from a malformed request, so, as the specification says, parse errors are answered with id null).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out RpcRequest request, out byte[] errorResponse)
    {
        request = null!;
        errorResponse = [];
        if (utf8.Length > MaxRequestBytes || !System.Text.Unicode.Utf8.IsValid(utf8) || !JsonInput.StringsDecode(utf8))
        {
            errorResponse = Error(null, RpcErrors.ParseError, "Parse error");
            return false;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8.ToArray(), ReadOptions);
        }
        catch (JsonException)
        {
            errorResponse = Error(null, RpcErrors.ParseError, "Parse error");
            return false;
        }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement? id = null;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var idElement))
            {
                if (idElement.ValueKind is JsonValueKind.Number or JsonValueKind.String) id = idElement.Clone();
                else if (idElement.ValueKind != JsonValueKind.Null)
                {
                    errorResponse = Error(null, RpcErrors.InvalidRequest, "Invalid Request: id must be a number or a string");
                    return false;
                }
            }
            string? why = null;
            if (root.ValueKind != JsonValueKind.Object) why = "not an object";
            else if (!root.TryGetProperty("jsonrpc", out var v) || v.ValueKind != JsonValueKind.String || v.GetString() != "2.0") why = "jsonrpc must be \"2.0\"";
            else if (!root.TryGetProperty("method", out var m) || m.ValueKind != JsonValueKind.String || m.GetString() is not { Length: > 0 }) why = "method must be a non-empty string";
            else if (root.TryGetProperty("params", out var p) && p.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array)) why = "params must be an object or an array";
            if (why is not null)
            {
                errorResponse = Error(id, RpcErrors.InvalidRequest, $"Invalid Request: {why}");
                return false;
            }
            JsonElement? parameters = root.TryGetProperty("params", out var pe) ? pe.Clone() : null;
            request = new RpcRequest(root.GetProperty("method").GetString()!, parameters, id);
            return true;
        }
    }

    /// <summary>`{"jsonrpc":"2.0","id":…,"result":…}`.</summary>
    public static byte[] Result(JsonElement? id, Action<Utf8JsonWriter> writeResult) => Write(w =>
    {
        WriteId(w, id);
        w.WritePropertyName("result");
        writeResult(w);
    });

    /// <summary>`{"jsonrpc":"2.0","id":…,"error":{"code":…,"message":…}}`.</summary>
    public static byte[] Error(JsonElement? id, int code, string message) => Write(w =>
    {
        WriteId(w, id);
        w.WriteStartObject("error");
        w.WriteNumber("code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
    });

    private static void WriteId(Utf8JsonWriter w, JsonElement? id)
    {
        w.WritePropertyName("id");
        if (id is { } i) i.WriteTo(w);
        else w.WriteNullValue();
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriteOptions))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc", "2.0");
            body(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
