using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hibari.Sfu;

/// <summary>The signaling-notify metadata extension's values (D-52): how the API and the `rpc` methods change them and show them.</summary>
public static class ExtMetadata
{
    public static JsonElement WithItem(JsonElement? old, string key, JsonElement? value)
    {
        var o = old is { ValueKind: JsonValueKind.Object } current ? (JsonObject)JsonNode.Parse(current.GetRawText())! : new JsonObject();
        o[key] = value is { } v ? JsonNode.Parse(v.GetRawText()) : null;
        return ToElement(o);
    }

    public static JsonElement? WithoutItem(JsonElement? old, string key)
    {
        if (old is not { ValueKind: JsonValueKind.Object } current) return old;
        var o = (JsonObject)JsonNode.Parse(current.GetRawText())!;
        o.Remove(key);
        return ToElement(o);
    }

    public static JsonElement ToElement(JsonNode node) => JsonDocument.Parse(node.ToJsonString()).RootElement.Clone();

    /// <summary>One connection as the List answer shows it (Sora's documented keys).</summary>
    public static JsonObject Row(ConnectionInfo c) => new()
    {
        ["client_id"] = c.ClientId,
        ["bundle_id"] = c.BundleId,
        ["connection_id"] = c.ConnectionId,
        ["metadata"] = c.ExtMetadata is { } m ? JsonNode.Parse(m.GetRawText()) : null,
    };
}
