namespace Hibari.Config;

/// <summary>
/// The configuration arguments of the process: `--config FILE` (at most once) and repeatable `--set key=value`,
/// each also as `--config=FILE` and `--set=key=value`. Any other argument is an error.
/// </summary>
internal sealed record ConfigCommandLine(string? ConfigPath, IReadOnlyList<KeyValuePair<string, string>> Overrides)
{
    private const string Config = "--config";
    private const string Set = "--set";

    public static (ConfigCommandLine? CommandLine, string? Error) Parse(IReadOnlyList<string?> args)
    {
        string? path = null;
        var overrides = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i] ?? "";
            string? value;
            if (arg is Config or Set)
            {
                // A following option means the value was forgotten, not that it is the value.
                value = i + 1 < args.Count && args[i + 1] is { } next && !next.StartsWith("--", StringComparison.Ordinal) ? next : null;
                if (value is null)
                    return (null, ConfigErrors.MissingArgumentValue(arg, arg == Config ? "a file name" : "key=value"));
                i++;
            }
            else if (arg.StartsWith(Config + "=", StringComparison.Ordinal))
                value = arg[(Config.Length + 1)..];
            else if (arg.StartsWith(Set + "=", StringComparison.Ordinal))
                value = arg[(Set.Length + 1)..];
            else
                return (null, ConfigErrors.UnknownArgument(arg));

            if (arg.StartsWith(Config, StringComparison.Ordinal))
            {
                if (value.Length == 0)
                    return (null, ConfigErrors.MissingArgumentValue(Config, "a file name"));
                if (path is not null)
                    return (null, ConfigErrors.ConfigGivenTwice(path, value));
                path = value;
                continue;
            }
            var eq = value.IndexOf('=');
            if (eq <= 0 || value[..eq].Trim().Length == 0)
                return (null, ConfigErrors.InvalidSet(value));
            overrides.Add(new(value[..eq], value[(eq + 1)..]));
        }
        return (new ConfigCommandLine(path, overrides), null);
    }
}
