namespace Hibari.Config;

/// <summary>One `key = value` setting: from the file (with its <see cref="Line"/>) or from `--set` (no line).</summary>
internal readonly record struct ConfigEntry(string Key, string Value, int? Line);
