using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>
/// The `encodings` of a simulcast publisher's offer (issue 12, docs/decisions.md D-35): sora-js-sdk applies them with
/// RTCRtpSender.setParameters. Sora's default is three layers, r0 a quarter of the resolution, r1 half, r2 full (r0 is
/// the lowest quality); the auth webhook's `simulcast_encodings` replace them as given.
/// </summary>
public static class SimulcastEncodings
{
    public static readonly IReadOnlyList<string> Rids = ["r0", "r1", "r2"];

    public static JsonElement Default { get; } = JsonDocument.Parse("""
        [{"rid":"r0","active":true,"scaleResolutionDownBy":4.0},
         {"rid":"r1","active":true,"scaleResolutionDownBy":2.0},
         {"rid":"r2","active":true,"scaleResolutionDownBy":1.0}]
        """).RootElement.Clone();

    /// <summary>
    /// 1..3 objects with distinct `rid`s r0, r1, r2 in that order (the SDP's a=simulcast list follows them), the
    /// RTCRtpEncodingParameters members typed as the W3C says; other members pass (the browser ignores what it does not know).
    /// </summary>
    public static bool Valid(JsonElement e, out string why)
    {
        why = "";
        if (e.ValueKind != JsonValueKind.Array) { why = "must be an array"; return false; }
        var n = e.GetArrayLength();
        if (n is < 1 or > 3) { why = "must have 1 to 3 entries"; return false; }
        var i = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object) { why = $"[{i}] must be an object"; return false; }
            if (!item.TryGetProperty("rid", out var rid) || rid.ValueKind != JsonValueKind.String || rid.GetString() != Rids[i])
            {
                why = $"[{i}].rid must be \"{Rids[i]}\" (r0, r1, r2 in order)";
                return false;
            }
            foreach (var p in item.EnumerateObject())
            {
                var ok = p.Name switch
                {
                    "rid" => true,
                    "active" or "adaptivePtime" => p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                    "scaleResolutionDownBy" => p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() >= 1,
                    "maxBitrate" or "minBitrate" => p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt64(out var b) && b > 0,
                    "maxFramerate" => p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() > 0,
                    "scalabilityMode" or "priority" or "networkPriority" => p.Value.ValueKind == JsonValueKind.String,
                    "scaleResolutionDownTo" => p.Value.ValueKind == JsonValueKind.Object,
                    _ => true,
                };
                if (!ok) { why = $"[{i}].{p.Name} has the wrong type or range"; return false; }
            }
            i++;
        }
        return true;
    }

    /// <summary>The rids of the encodings and whether each is active (absent `active` = true).</summary>
    public static IReadOnlyList<(string Rid, bool Active)> Layers(JsonElement encodings)
    {
        var list = new List<(string, bool)>();
        foreach (var item in encodings.EnumerateArray())
        {
            var active = !item.TryGetProperty("active", out var a) || a.ValueKind != JsonValueKind.False;
            list.Add((item.GetProperty("rid").GetString()!, active));
        }
        return list;
    }
}
