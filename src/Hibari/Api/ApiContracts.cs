using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Hibari.Api;

/// <summary>One HTTP API operation, e.g. the handler of `Sora_20211215.ListClusterNodes`.</summary>
public delegate ValueTask<ApiResult> ApiOperation(ApiRequest request, CancellationToken cancellationToken);

/// <summary>A parsed API call: the `x-sora-target` and the raw JSON body (empty body = no body).</summary>
public sealed class ApiRequest
{
    public ApiRequest(string target, ReadOnlyMemory<byte> body)
    {
        Target = target;
        Body = body;
    }

    /// <summary>Full target, e.g. `Sora_20211215.ListClusterNodes`.</summary>
    public string Target { get; }

    /// <summary>The request body as received (UTF-8 JSON or empty).</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>
    /// Deserializes the body with source-generated metadata. An empty body yields <paramref name="emptyValue"/>.
    /// Malformed JSON or wrong field types give a 400 <see cref="ApiResult"/> in <paramref name="error"/>; never throws.
    /// </summary>
    public bool TryRead<T>(JsonTypeInfo<T> typeInfo, T emptyValue, out T value, out ApiResult? error)
    {
        error = null;
        value = emptyValue;
        if (IsBodyEmpty)
            return true;
        return TryDeserialize(Body.Span, typeInfo, ref value, out error);
    }

    /// <summary>
    /// Deserializes the body as a request record; an empty body reads as `{}`, so a record with
    /// `required` members answers 400 naming the first missing one. Never throws.
    /// </summary>
    public bool TryRead<T>(JsonTypeInfo<T> typeInfo, out T value, out ApiResult? error)
    {
        value = default!;
        return TryDeserialize(IsBodyEmpty ? "{}"u8 : Body.Span, typeInfo, ref value, out error);
    }

    private bool IsBodyEmpty => Body.IsEmpty || Body.Span.Trim(" \t\r\n"u8).IsEmpty;

    private static bool TryDeserialize<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> typeInfo, ref T value, out ApiResult? error)
    {
        error = null;
        try
        {
            var parsed = JsonSerializer.Deserialize(json, typeInfo);
            if (parsed is null)
            {
                error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, "the body must be a JSON object");
                return false;
            }
            value = parsed;
            return true;
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 0 } p ? $" at {p}" : "";
            error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, $"invalid JSON body{where}: {Trim(e.Message)}");
            return false;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ArgumentException or FormatException)
        {
            error = ApiResult.BadRequest(ApiErrorTypes.InvalidBody, $"invalid JSON body: {Trim(e.Message)}");
            return false;
        }
    }

    // The path is already reported in front; drop the reader position System.Text.Json appends.
    private static string Trim(string m)
    {
        if (m.IndexOf(" Path: ", StringComparison.Ordinal) is var at and > 0)
            m = m[..at];
        return m.Length > 200 ? m[..200] : m;
    }
}

/// <summary>What an operation answers: JSON (200), an error, or a 307 redirect (C-API-1).</summary>
public abstract record ApiResult
{
    public static ApiResult Json<T>(T value, JsonTypeInfo<T> typeInfo) =>
        new JsonResult(JsonSerializer.SerializeToUtf8Bytes(value, typeInfo));

    public static ApiResult Error(int status, string errorType, string message) => new ErrorResult(status, errorType, message);
    public static ApiResult BadRequest(string errorType, string message) => new ErrorResult(400, errorType, message);
    public static ApiResult Unavailable(string errorType, string message) => new ErrorResult(503, errorType, message);
    public static ApiResult Redirect(string location) => new RedirectResult(location);

    public sealed record JsonResult(byte[] Utf8Json) : ApiResult;
    public sealed record ErrorResult(int Status, string ErrorType, string Message) : ApiResult;
    public sealed record RedirectResult(string Location) : ApiResult;
}
