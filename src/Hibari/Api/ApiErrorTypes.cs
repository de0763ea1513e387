namespace Hibari.Api;

/// <summary>The `error_type` values the API layer itself answers with; operations may add their own.</summary>
public static class ApiErrorTypes
{
    /// <summary>400: no `x-sora-target` header.</summary>
    public const string MissingTarget = "MissingTarget";
    /// <summary>400: `x-sora-target` is not `Sora_YYYYMMDD.Name`.</summary>
    public const string InvalidTarget = "InvalidTarget";
    /// <summary>400: well-formed target that no operation is registered for.</summary>
    public const string UnknownTarget = "UnknownTarget";
    /// <summary>400: body is not valid JSON, has a wrong type, or misses a required field.</summary>
    public const string InvalidBody = "InvalidBody";
    /// <summary>413: body larger than the configured limit.</summary>
    public const string PayloadTooLarge = "PayloadTooLarge";
    /// <summary>429: more requests from this address than `api_max_requests_per_second` (D-44).</summary>
    public const string TooManyRequests = "TooManyRequests";
    /// <summary>404: no such path.</summary>
    public const string NotFound = "NotFound";
    /// <summary>405: the path exists, the method does not.</summary>
    public const string MethodNotAllowed = "MethodNotAllowed";
    /// <summary>400: the HTTP request itself was malformed (reported by Kestrel).</summary>
    public const string BadRequest = "BadRequest";
    /// <summary>500: an operation failed; always a bug, never caused by input.</summary>
    public const string InternalError = "InternalError";
}
