namespace Hibari.Api.Contracts;

/// <summary>Body of every non-2xx answer (docs/protocol-notes.md, "API conventions"): `{"error_type": ..., "message": ...}`.</summary>
public sealed record ErrorBody
{
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
}

/// <summary>Body of a 307 answer (C-API-1); the `Location` header carries the same URL.</summary>
public sealed record RedirectBody
{
    public required string Location { get; init; }
}
