using System.Text;
using System.Text.Json;
using Hibari.Sfu;

namespace Hibari.Signaling.Messages;

/// <summary>
/// Reads a `data_channels` array (connect or auth webhook, docs/protocol-notes.md, "Messaging") into <see cref="DataChannelSpec"/>s.
/// Each entry is an object with a `label`: a messaging label (`#` + 1..254 bytes) needs `direction` (sendrecv,
/// sendonly, recvonly) and may set `ordered`, `max_packet_life_time` or `max_retransmits` (not both, 0..65535),
/// `protocol` (≤ 255 bytes), `compress`, `header` ([{"type":"sender_connection_id"}]); a system label (signaling,
/// notify, push, stats) may only set `compress`. Labels are unique. Any other entry is refused with a short
/// reason naming the entry, for the client's close.
/// </summary>
public static class DataChannelsParser
{
    public const int MaxEntries = 64;

    public static bool TryParse(JsonElement array, out List<DataChannelSpec> specs, out string error)
    {
        specs = [];
        error = "";
        if (array.ValueKind != JsonValueKind.Array) return Fail("data_channels must be an array", out error);
        if (array.GetArrayLength() > MaxEntries) return Fail($"at most {MaxEntries} data_channels entries", out error);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var e in array.EnumerateArray())
        {
            if (!TryEntry(e, out var spec, out var why)) return Fail($"data_channels[{i}]: {why}", out error);
            if (!seen.Add(spec.Label)) return Fail($"data_channels[{i}]: label {spec.Label} appears twice", out error);
            specs.Add(spec);
            i++;
        }
        return true;
    }

    private static bool TryEntry(JsonElement e, out DataChannelSpec spec, out string why)
    {
        spec = null!;
        if (e.ValueKind != JsonValueKind.Object) return Fail("not an object", out why);
        if (!e.TryGetProperty("label", out var l) || l.ValueKind != JsonValueKind.String) return Fail("label missing or not a string", out why);
        var label = l.GetString()!;
        if (Encoding.UTF8.GetByteCount(label) > DataChannelLabels.MaxLabelBytes) return Fail("label longer than 255 bytes", out why);
        if (!Bool(e, "compress", out var compress)) return Fail("compress must be a bool", out why);
        if (DataChannelLabels.IsSystem(label))
        {
            foreach (var p in e.EnumerateObject())
                if (p.Name is not ("label" or "compress" or "direction") && p.Value.ValueKind != JsonValueKind.Null)
                    return Fail($"{p.Name} cannot be set for the system label {label}", out why);
            spec = new DataChannelSpec { Label = label, Compress = compress ?? false };
            why = "";
            return true;
        }
        if (!DataChannelLabels.IsMessaging(label)) return Fail($"label {Quote(label)} must start with # (or be a system label)", out why);

        if (!e.TryGetProperty("direction", out var d) || d.ValueKind != JsonValueKind.String) return Fail("direction missing or not a string", out why);
        DataChannelDirection direction;
        switch (d.GetString())
        {
            case "sendrecv": direction = DataChannelDirection.SendRecv; break;
            case "sendonly": direction = DataChannelDirection.SendOnly; break;
            case "recvonly": direction = DataChannelDirection.RecvOnly; break;
            default: return Fail("direction must be sendrecv, sendonly or recvonly", out why);
        }
        if (!Bool(e, "ordered", out var ordered)) return Fail("ordered must be a bool", out why);
        if (!UShort(e, "max_packet_life_time", out var lifetime)) return Fail("max_packet_life_time must be an integer 0..65535", out why);
        if (!UShort(e, "max_retransmits", out var retransmits)) return Fail("max_retransmits must be an integer 0..65535", out why);
        if (lifetime is not null && retransmits is not null) return Fail("max_packet_life_time and max_retransmits cannot both be set", out why);
        string? protocol = null;
        if (e.TryGetProperty("protocol", out var pr) && pr.ValueKind != JsonValueKind.Null)
        {
            if (pr.ValueKind != JsonValueKind.String) return Fail("protocol must be a string", out why);
            protocol = pr.GetString()!;
            if (Encoding.UTF8.GetByteCount(protocol) > 255) return Fail("protocol longer than 255 bytes", out why);
        }
        var header = false;
        if (e.TryGetProperty("header", out var h) && h.ValueKind != JsonValueKind.Null)
        {
            if (h.ValueKind != JsonValueKind.Array) return Fail("header must be an array", out why);
            foreach (var item in h.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var t) || t.ValueKind != JsonValueKind.String
                    || t.GetString() != "sender_connection_id")
                    return Fail("header entries must be {\"type\":\"sender_connection_id\"}", out why);
                if (item.TryGetProperty("length", out var len) && len.ValueKind != JsonValueKind.Null
                    && !(len.ValueKind == JsonValueKind.Number && len.TryGetInt32(out var n) && n == SoraId.Length))
                    return Fail($"header sender_connection_id length must be {SoraId.Length}", out why);
                header = true;
            }
        }
        spec = new DataChannelSpec
        {
            Label = label,
            Direction = direction,
            Ordered = ordered ?? true,
            MaxPacketLifeTime = lifetime,
            MaxRetransmits = retransmits,
            Protocol = protocol,
            Compress = compress ?? false,
            SenderConnectionIdHeader = header,
        };
        why = "";
        return true;
    }

    private static bool Bool(JsonElement e, string name, out bool? value)
    {
        value = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) return false;
        value = p.GetBoolean();
        return true;
    }

    private static bool UShort(JsonElement e, string name, out int? value)
    {
        value = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out var n) || n is < 0 or > 65535) return false;
        value = n;
        return true;
    }

    private static string Quote(string s) => s.Length <= 20 ? s : s[..20] + "…";

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }
}
