using System.Globalization;
using System.Text;

namespace Hibari.Config;

/// <summary>
/// Every configuration error message, worded once. A message is one line (it ends up in a start-up log and an
/// exit reason): user text is quoted with control characters escaped, and long values are shortened.
/// </summary>
internal static class ConfigErrors
{
    private const int MaxQuotedLength = 80;

    public static string InvalidValue(ConfigKey key, string value, string problem, int? line) =>
        key.IsSecret
            ? $"invalid value (hidden, {value.Length} characters) for key \"{key.Name}\": {problem}{Where(line)}"
            : $"invalid value {Quote(value)} for key \"{key.Name}\": {problem}{Where(line)}";

    public static string UnknownKey(string key, int? line, string? suggestion) =>
        $"unknown key {Quote(key)}{Where(line)}" + (suggestion is null ? "" : $"; did you mean \"{suggestion}\"?");

    public static string DuplicateKey(string key, int line, int firstLine) =>
        $"duplicate key {Quote(key)} (line {line}; first set on line {firstLine}): set a key once in the file, override it with --set";

    public static string NotKeyValue(string text, int line) =>
        $"invalid line {Quote(text)} (line {line}): expected \"key = value\", a \"# comment\" or a blank line";

    public static string MissingKey(string text, int line) =>
        $"invalid line {Quote(text)} (line {line}): the key before \"=\" is missing";

    public static string UnterminatedQuote(string key, int line) =>
        $"invalid value for key {Quote(key)} (line {line}): the quoted value has no closing '\"'";

    public static string TextAfterQuote(string key, string rest, int line) =>
        $"invalid value for key {Quote(key)} (line {line}): unexpected text {Quote(rest)} after the closing '\"' (only a # comment may follow)";

    public static string Required(string key, string reason) =>
        $"missing key \"{key}\": {reason}";

    public static string ClusterPortRangeReversed(int min, int max) =>
        $"invalid cluster port range: cluster_listen_min_port = {N(min)} is greater than cluster_listen_max_port = {N(max)}";

    public static string ClusterPortRangeTooSmall(int min, int max) =>
        $"invalid cluster port range: cluster_listen_min_port = {N(min)} and cluster_listen_max_port = {N(max)} hold 1 port; at least 2 are needed (one for Raft, one for node links)";

    public static string SamePort(string key, string otherKey, int port) =>
        $"port conflict: {key} = {N(port)} and {otherKey} = {N(port)} must differ";

    public static string PortInClusterRange(string key, int port, int min, int max) =>
        $"port conflict: {key} = {N(port)} lies in the cluster port range {N(min)}..{N(max)} (cluster_listen_min_port..cluster_listen_max_port); choose a port outside it";

    public static string MediaPortsBeyondRange(int first, int workers) =>
        $"port conflict: media_workers = {workers} need UDP ports rtc_udp_port..rtc_udp_port + {workers - 1} = {N(first)}..{N(first + workers - 1)}, beyond 65535; lower rtc_udp_port or media_workers";

    /// <summary>The one start-up warning about sora.conf keys Hibari does not implement (D-48); the names come from <see cref="SoraKeys"/>.</summary>
    public static string NotSupportedIgnored(IEnumerable<string> keys) =>
        $"not supported by Hibari, ignored: {string.Join(", ", keys)}";

    public static string UnknownArgument(string argument) =>
        $"unknown argument {Quote(argument)}: expected --config FILE or --set key=value";

    public static string MissingArgumentValue(string option, string expected) =>
        $"missing value after \"{option}\": expected {expected}";

    public static string InvalidSet(string text) =>
        $"invalid override {Quote(text)}: expected --set key=value";

    public static string ConfigGivenTwice(string first, string second) =>
        $"--config given twice ({Quote(first)} and {Quote(second)}): at most one config file";

    public static string ConfigFileNotFound(string path) =>
        $"config file {Quote(path)} not found";

    public static string ConfigFileUnreadable(string path, string reason) =>
        $"cannot read config file {Quote(path)}: {OneLine(reason)}";

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Where a setting came from: ` (line N)` for the file, ` (--set)` for an override.</summary>
    private static string Where(int? line) => line is { } n ? $" (line {n.ToString(CultureInfo.InvariantCulture)})" : " (--set)";

    /// <summary>Double-quotes user text for a message: escapes quotes, backslashes and line breaks; shortens it.</summary>
    public static string Quote(string text)
    {
        var shortened = text.Length > MaxQuotedLength;
        var length = shortened ? MaxQuotedLength : text.Length;
        if (shortened && char.IsHighSurrogate(text[length - 1]))
            length--; // do not split a surrogate pair
        var sb = new StringBuilder(length + 8).Append('"');
        foreach (var c in text.AsSpan(0, length))
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (IsLineBreakOrControl(c))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
        if (shortened)
            sb.Append("... (").Append(text.Length.ToString(CultureInfo.InvariantCulture)).Append(" characters)");
        return sb.ToString();
    }

    /// <summary>Control characters, and the Unicode line and paragraph separators, which break a log line.</summary>
    public static bool IsLineBreakOrControl(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';

    private static string OneLine(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(IsLineBreakOrControl(c) ? ' ' : c);
        return sb.ToString().Trim();
    }
}
