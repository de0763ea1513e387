namespace Hibari.Api.Contracts;

/// <summary>`GetLicense` answer (Appendix B.6); `max_nodes` is absent for a licence without it.</summary>
public sealed record LicenseBody
{
    /// <summary>`YYYY-MM`.</summary>
    public required string ExpiredAt { get; init; }
    public required int MaxConnections { get; init; }
    public int? MaxNodes { get; init; }
    public required string ProductName { get; init; }
    public required string SerialCode { get; init; }
    public required string Type { get; init; }
}
