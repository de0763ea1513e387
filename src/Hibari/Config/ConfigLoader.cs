namespace Hibari.Config;

/// <summary>
/// Builds <see cref="HibariOptions"/> from hibari.conf and `--set` overrides, validating every key and the rules
/// between keys (docs/requirements.md, section 2). Never throws: bad input gives <see cref="ConfigResult.Error"/>, one line that
/// names the key, the value and what is allowed.
/// </summary>
public static class ConfigLoader
{
    /// <summary>
    /// Loads the configuration named by the process command line: `--config FILE` (optional, at most once; also
    /// `--config=FILE`) and repeatable `--set key=value` (also `--set=key=value`), applied after the file in order.
    /// </summary>
    /// <param name="args">The process arguments; any other argument is an error.</param>
    /// <param name="readFile">Reads a file's text, null when it does not exist; defaults to <see cref="File.ReadAllText(string)"/>.</param>
    public static ConfigResult FromCommandLine(IReadOnlyList<string> args, Func<string, string?>? readFile = null)
    {
        var (commandLine, error) = ConfigCommandLine.Parse(args ?? []);
        if (commandLine is null)
            return ConfigResult.Fail(error!);
        string? text = null;
        if (commandLine.ConfigPath is { } path)
        {
            try
            {
                text = (readFile ?? File.ReadAllText)(path);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                text = null;
            }
            catch (Exception e)
            {
                // Whatever reading fails with (permissions, I/O, a bad path), start-up gets a message, not a crash.
                return ConfigResult.Fail(ConfigErrors.ConfigFileUnreadable(path, e.Message));
            }
            if (text is null)
                return ConfigResult.Fail(ConfigErrors.ConfigFileNotFound(path));
        }
        return Parse(text, commandLine.Overrides);
    }

    /// <summary>C-CONF-2 check of a node name given at run time (API bodies); null when valid, else the problem.</summary>
    public static string? ValidateNodeName(string name) =>
        ConfigValues.NodeName(name).Problem is { } problem ? $"invalid node name \"{(name.Length > 80 ? name[..80] + "…" : name)}\": {problem}" : null;

    /// <summary>
    /// Parses hibari.conf or sora.conf text (null: no file), then applies <paramref name="overrides"/> in order (later
    /// wins), then checks the rules between keys. Override keys and values are trimmed, and a value in double quotes is
    /// unquoted, as in the file. Sora's documented keys that Hibari does not implement are named in one warning of
    /// <see cref="ConfigResult.Warnings"/> (docs/decisions.md D-48).
    /// </summary>
    public static ConfigResult Parse(string? fileText, IReadOnlyList<KeyValuePair<string, string>> overrides)
    {
        var (entries, error) = ConfigFile.Read(fileText ?? "");
        if (error is not null)
            return ConfigResult.Fail(error);
        foreach (var (key, value) in overrides ?? [])
            entries.Add(new ConfigEntry((key ?? "").Trim(), ConfigFile.OverrideValue(value ?? ""), Line: null));

        var options = new HibariOptions();
        var ignored = new List<string>();
        foreach (var entry in entries)
        {
            if (ConfigKeys.Find(entry.Key) is not { } key)
            {
                // A sora.conf starts Hibari unchanged: Sora's keys that Hibari lacks are set aside, not refused (D-48).
                if (SoraKeys.Documented.Contains(entry.Key))
                {
                    if (!ignored.Contains(entry.Key))
                        ignored.Add(entry.Key);
                    continue;
                }
                return ConfigResult.Fail(ConfigErrors.UnknownKey(entry.Key, entry.Line, ConfigKeys.Suggest(entry.Key)));
            }
            var applied = key.Apply(options, entry.Value);
            if (applied.Problem is not null)
                return ConfigResult.Fail(ConfigErrors.InvalidValue(key, entry.Value, applied.Problem, entry.Line));
            options = applied.Value;
        }
        if (ConfigRules.Check(options) is { } broken)
            return ConfigResult.Fail(broken);
        return ConfigResult.Ok(options, ignored.Count == 0 ? [] : [ConfigErrors.NotSupportedIgnored(ignored)]);
    }
}
