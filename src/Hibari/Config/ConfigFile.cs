namespace Hibari.Config;

/// <summary>
/// The syntax of hibari.conf: `key = value` lines; `#` starts a comment at the start of a line or after
/// whitespace; blank lines are ignored; key and value are trimmed; a value in double quotes is taken
/// literally (a `#` inside is not a comment). Knows nothing about which keys exist.
/// </summary>
internal static class ConfigFile
{
    /// <summary>The settings of the file in line order, or the first syntax error.</summary>
    public static (List<ConfigEntry> Entries, string? Error) Read(string text)
    {
        var entries = new List<ConfigEntry>();
        var firstLineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var lines = text.TrimStart('\uFEFF').Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var number = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var eq = line.IndexOf('=');
            if (eq < 0)
                return (entries, ConfigErrors.NotKeyValue(line, number));
            var key = line[..eq].TrimEnd();
            if (key.Length == 0)
                return (entries, ConfigErrors.MissingKey(line, number));
            var (value, error) = ReadValue(key, line[(eq + 1)..].TrimStart(), number);
            if (error is not null)
                return (entries, error);
            // A key set twice in one file is a mistake waiting to happen; overrides are what --set is for.
            if (!firstLineOf.TryAdd(key, number))
                return (entries, ConfigErrors.DuplicateKey(key, number, firstLineOf[key]));
            entries.Add(new ConfigEntry(key, value!, number));
        }
        return (entries, null);
    }

    private static (string? Value, string? Error) ReadValue(string key, string rest, int line)
    {
        if (rest.StartsWith('"'))
        {
            var close = rest.IndexOf('"', 1);
            if (close < 0)
                return (null, ConfigErrors.UnterminatedQuote(key, line));
            var after = rest[(close + 1)..].Trim();
            if (after.Length > 0 && after[0] != '#')
                return (null, ConfigErrors.TextAfterQuote(key, after, line));
            return (rest[1..close], null);
        }
        for (var i = 0; i < rest.Length; i++)
            if (rest[i] == '#' && (i == 0 || char.IsWhiteSpace(rest[i - 1])))
                return (rest[..i].TrimEnd(), null);
        return (rest, null);
    }

    /// <summary>
    /// The value of a `--set key=value` override: trimmed and, when wrapped in double quotes, unquoted, so a value
    /// means the same on the command line as in the file. There are no comments on the command line.
    /// </summary>
    public static string OverrideValue(string text)
    {
        var value = text.Trim();
        return value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
    }
}
