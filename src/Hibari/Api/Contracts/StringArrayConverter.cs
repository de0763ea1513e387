using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hibari.Api.Contracts;

/// <summary>
/// `string[]` members hold strings only: the default converter would let `[null]` through, and
/// nullable annotations do not reach array elements. Registered for the whole <see cref="ApiJsonContext"/>.
/// </summary>
internal sealed class StringArrayConverter : JsonConverter<string[]>
{
    public override string[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected an array of strings");
        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException("expected an array of strings");
            items.Add(reader.GetString()!);
        }
        return items.ToArray();
    }

    public override void Write(Utf8JsonWriter writer, string[] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
            writer.WriteStringValue(item);
        writer.WriteEndArray();
    }
}
