namespace Hibari.Api.Contracts;

/// <summary>`ChangeMode` request and answer, `GetMode` answer (Appendix B.4): `normal`, `block_new_session`, `block_new_connection`.</summary>
public sealed record ModeBody
{
    public required string Mode { get; init; }
}
