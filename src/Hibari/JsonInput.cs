using System.Text.Json;

namespace Hibari;

/// <summary>
/// A check for JSON from the network that <see cref="JsonDocument.Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>
/// accepts but that throws later: a string or property name whose escapes decode to broken UTF-16 (`"\ud800"`, a lone
/// surrogate). JsonDocument parses it, and then <c>TryGetProperty</c> on its object or <c>GetString</c> on the value
/// throws <see cref="InvalidOperationException"/> (found by <c>SignalingFuzzTests</c> at 1,000,000 inputs). Every parser
/// of network JSON (signaling, rpc, API bodies, webhook answers, relay frames) refuses such input up front.
/// </summary>
public static class JsonInput
{
    /// <summary>True when every escaped string and property name of <paramref name="utf8"/> decodes (or it is not JSON at all: the parser reports that).</summary>
    public static bool StringsDecode(ReadOnlySpan<byte> utf8, int maxDepth = 64)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                    reader.GetString();
            }
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (JsonException)
        {
            return true; // not JSON: the real parser says so with its own error
        }
    }
}
