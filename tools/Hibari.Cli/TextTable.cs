using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hibari.Cli;

/// <summary>Plain-text output: aligned columns, key/value lists, JSON values as cells.</summary>
internal static class TextTable
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };

    /// <summary>Columns left-aligned, two spaces apart, no trailing spaces; the header first.</summary>
    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { headers };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
            for (var c = 0; c < widths.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        var sb = new StringBuilder();
        foreach (var row in all)
        {
            var line = new StringBuilder();
            for (var c = 0; c < widths.Length; c++)
            {
                if (c > 0) line.Append("  ");
                line.Append(c == widths.Length - 1 ? row[c] : row[c].PadRight(widths[c]));
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Two columns without a header, e.g. counters: `name  value`, each line indented by <paramref name="indent"/>.</summary>
    public static string KeyValues(IEnumerable<(string Key, string Value)> pairs, string indent = "")
    {
        var list = pairs.ToList();
        var width = list.Count == 0 ? 0 : list.Max(p => p.Key.Length);
        var sb = new StringBuilder();
        foreach (var (k, v) in list) sb.Append((indent + k.PadRight(width) + "  " + v).TrimEnd()).Append('\n');
        return sb.ToString();
    }

    /// <summary>A JSON value as a cell: strings bare, absent or null as `-`, objects and arrays as compact JSON.</summary>
    public static string Cell(JsonNode? value) => value switch
    {
        null => "-",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => value.ToJsonString(Compact),
    };

    /// <summary>The leaves of an object with dotted names (`video.bit_rate`); arrays are one compact JSON cell.</summary>
    public static IEnumerable<(string Key, string Value)> Flatten(JsonNode? node, string prefix = "")
    {
        if (node is not JsonObject o)
        {
            yield return (prefix.Length == 0 ? "value" : prefix, Cell(node));
            yield break;
        }
        foreach (var (key, child) in o)
        {
            var name = prefix.Length == 0 ? key : prefix + "." + key;
            if (child is JsonObject) foreach (var leaf in Flatten(child, name)) yield return leaf;
            else yield return (name, Cell(child));
        }
    }

    /// <summary>JSON as `--json` prints it: indented, non-ASCII characters as they are.</summary>
    public static string Pretty(JsonNode? node) => node is null ? "null" : node.ToJsonString(Indented);
}
