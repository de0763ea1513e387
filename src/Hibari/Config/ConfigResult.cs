namespace Hibari.Config;

/// <summary>
/// The outcome of loading the configuration: exactly one of <see cref="Options"/> (valid, complete options)
/// and <see cref="Error"/> (one line naming the key, the value and what is allowed) is non-null.
/// </summary>
public sealed record ConfigResult(HibariOptions? Options, string? Error)
{
    internal static ConfigResult Ok(HibariOptions options) => new(options, null);

    internal static ConfigResult Fail(string error) => new(null, error);
}
