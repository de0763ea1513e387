namespace Hibari.Config;

/// <summary>
/// The outcome of loading the configuration: exactly one of <see cref="Options"/> (valid, complete options)
/// and <see cref="Error"/> (one line naming the key, the value and what is allowed) is non-null.
/// </summary>
public sealed record ConfigResult(HibariOptions? Options, string? Error)
{
    /// <summary>
    /// One-line warnings to log at start when <see cref="Options"/> is set: today at most one, naming the sora.conf keys
    /// Hibari does not implement and ignored (docs/decisions.md D-48). Empty when there is nothing to say.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    internal static ConfigResult Ok(HibariOptions options, IReadOnlyList<string> warnings) => new(options, null) { Warnings = warnings };

    internal static ConfigResult Fail(string error) => new(null, error);
}
