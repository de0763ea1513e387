using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Sdp;

namespace Hibari.Sfu;

/// <summary>A rule's `field`: what of the sending track it tests (docs/decisions.md D-54).</summary>
public enum ForwardingField { ConnectionId, ClientId, Kind }

/// <summary>One rule: `{field, operator: is_in | is_not_in, values}`.</summary>
public sealed record ForwardingRule(ForwardingField Field, bool IsIn, IReadOnlyList<string> Values)
{
    /// <summary>Whether the rule holds for a sender's track.</summary>
    public bool Matches(string connectionId, string clientId, string kind)
    {
        var value = Field switch { ForwardingField.ConnectionId => connectionId, ForwardingField.ClientId => clientId, _ => kind };
        var contained = false;
        foreach (var v in Values)
            if (string.Equals(v, value, StringComparison.Ordinal)) { contained = true; break; }
        return contained == IsIn;
    }
}

/// <summary>
/// One forwarding filter (Sora's 転送フィルター, docs/decisions.md D-54): `rules` is an OR of AND groups; `block` stops the
/// tracks the rules match, `allow` forwards only those. <see cref="Name"/> and <see cref="Priority"/> come from Sora's
/// multi forwarding filter ("default" and 32767 when absent); <see cref="Version"/> and <see cref="Metadata"/> are kept
/// and shown by ListForwardingFilters.
/// </summary>
public sealed record ForwardingFilter
{
    public const string DefaultName = "default";
    public const int DefaultPriority = 32767;

    public bool Allow { get; init; }
    public required IReadOnlyList<IReadOnlyList<ForwardingRule>> Rules { get; init; }
    public string Name { get; init; } = DefaultName;
    public int Priority { get; init; } = DefaultPriority;
    public string? Version { get; init; }
    public JsonElement? Metadata { get; init; }

    /// <summary>Whether the rules hold for the track: some group whose every rule holds.</summary>
    public bool Matches(string connectionId, string clientId, string kind)
    {
        foreach (var group in Rules)
        {
            var all = true;
            foreach (var rule in group)
                if (!rule.Matches(connectionId, clientId, kind)) { all = false; break; }
            if (all) return true;
        }
        return false;
    }

    /// <summary>Whether this filter lets the track through: block passes what it does not match, allow what it matches.</summary>
    public bool Passes(string connectionId, string clientId, string kind) => Matches(connectionId, clientId, kind) == Allow;

    /// <summary>The filter as the API and the node links write it.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["name"] = Name,
            ["priority"] = Priority,
            ["action"] = Allow ? "allow" : "block",
            ["rules"] = new JsonArray(Rules.Select(g => (JsonNode)new JsonArray(g.Select(r => (JsonNode)new JsonObject
            {
                ["field"] = r.Field switch { ForwardingField.ConnectionId => "connection_id", ForwardingField.ClientId => "client_id", _ => "kind" },
                ["operator"] = r.IsIn ? "is_in" : "is_not_in",
                ["values"] = new JsonArray(r.Values.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
            }).ToArray())).ToArray()),
        };
        if (Version is not null) o["version"] = Version;
        if (Metadata is { } m) o["metadata"] = JsonNode.Parse(m.GetRawText());
        return o;
    }
}

/// <summary>
/// Reading and applying forwarding filters (docs/decisions.md D-54). Limits: ≤ 10 filters per connection or channel,
/// ≤ 10 OR groups, ≤ 10 rules a group, ≤ 100 values a rule, ids and names ≤ 255 bytes, priority 0..32767.
/// </summary>
public static class ForwardingFilters
{
    public const int MaxFilters = 10;
    public const int MaxGroups = 10;
    public const int MaxRulesPerGroup = 10;
    public const int MaxValues = 100;
    public const int MaxStringBytes = 255;

    /// <summary>
    /// Whether a receiver gets a sender's track of <paramref name="kind"/> (audio / video): every filter, highest priority
    /// (lowest number) first, must let it through; no filter = forwarded.
    /// </summary>
    public static bool Forwards(IEnumerable<ForwardingFilter> filters, string connectionId, string clientId, string kind)
    {
        foreach (var f in filters.OrderBy(f => f.Priority))
            if (!f.Passes(connectionId, clientId, kind)) return false;
        return true;
    }

    /// <summary><see cref="Forwards(IEnumerable{ForwardingFilter}, string, string, string)"/> for an RTP media kind.</summary>
    public static bool Forwards(IEnumerable<ForwardingFilter> filters, ConnectionInfo sender, MediaKind kind) =>
        Forwards(filters, sender.ConnectionId, sender.ClientId, kind == MediaKind.Audio ? "audio" : "video");

    /// <summary>
    /// The signaling / auth webhook form: `forwarding_filters` (an array) wins over the legacy `forwarding_filter` (one
    /// filter). Null filters when neither is present (or both are JSON null). False with <paramref name="why"/> when invalid.
    /// </summary>
    public static bool TryReadMember(JsonElement message, out IReadOnlyList<ForwardingFilter>? filters, out string why)
    {
        filters = null;
        why = "";
        if (message.TryGetProperty("forwarding_filters", out var many) && many.ValueKind != JsonValueKind.Null)
        {
            if (!TryParseList(many, out var list, out why)) { why = "forwarding_filters: " + why; return false; }
            filters = list;
            return true;
        }
        if (message.TryGetProperty("forwarding_filter", out var one) && one.ValueKind != JsonValueKind.Null)
        {
            if (!TryParse(one, out var f, out why)) { why = "forwarding_filter: " + why; return false; }
            filters = [f];
        }
        return true;
    }

    /// <summary>An array of filters: ≤ <see cref="MaxFilters"/>, names unique.</summary>
    public static bool TryParseList(JsonElement e, out IReadOnlyList<ForwardingFilter> filters, out string why)
    {
        filters = [];
        if (e.ValueKind != JsonValueKind.Array) { why = "must be an array"; return false; }
        if (e.GetArrayLength() > MaxFilters) { why = $"at most {MaxFilters} filters"; return false; }
        var list = new List<ForwardingFilter>();
        var index = 0;
        foreach (var item in e.EnumerateArray())
        {
            if (!TryParse(item, out var f, out why)) { why = $"[{index}] {why}"; return false; }
            if (list.Any(o => o.Name == f.Name)) { why = $"[{index}] name {f.Name} is used twice"; return false; }
            list.Add(f);
            index++;
        }
        filters = list;
        why = "";
        return true;
    }

    /// <summary>
    /// One filter object. `action` block | allow (absent: block), `rules` a non-empty array of non-empty arrays of rules,
    /// `name` and `priority` both or neither, `version` a string, `metadata` any JSON. Unknown members are ignored
    /// (the API's `channel_id` / `connection_id` live beside them).
    /// </summary>
    public static bool TryParse(JsonElement e, out ForwardingFilter filter, out string why)
    {
        filter = null!;
        if (e.ValueKind != JsonValueKind.Object) { why = "a filter must be a JSON object"; return false; }
        var allow = false;
        if (e.TryGetProperty("action", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            if (!Str(a, out var action) || action is not ("block" or "allow")) { why = "action must be block or allow"; return false; }
            allow = action == "allow";
        }
        if (!e.TryGetProperty("rules", out var rules) || rules.ValueKind != JsonValueKind.Array || rules.GetArrayLength() == 0)
        { why = "rules must be a non-empty array of rule arrays"; return false; }
        if (rules.GetArrayLength() > MaxGroups) { why = $"rules: at most {MaxGroups} groups"; return false; }
        var groups = new List<IReadOnlyList<ForwardingRule>>();
        foreach (var g in rules.EnumerateArray())
        {
            if (g.ValueKind != JsonValueKind.Array || g.GetArrayLength() == 0) { why = "each rules group must be a non-empty array of rules"; return false; }
            if (g.GetArrayLength() > MaxRulesPerGroup) { why = $"rules: at most {MaxRulesPerGroup} rules a group"; return false; }
            var group = new List<ForwardingRule>();
            foreach (var r in g.EnumerateArray())
            {
                if (!TryParseRule(r, out var rule, out why)) return false;
                group.Add(rule);
            }
            groups.Add(group);
        }
        var hasName = e.TryGetProperty("name", out var n) && n.ValueKind != JsonValueKind.Null;
        var hasPriority = e.TryGetProperty("priority", out var p) && p.ValueKind != JsonValueKind.Null;
        if (hasName != hasPriority) { why = "name and priority go together (both or neither)"; return false; }
        var name = ForwardingFilter.DefaultName;
        var priority = ForwardingFilter.DefaultPriority;
        if (hasName)
        {
            if (!Str(n, out var s) || s.Length == 0 || !FitsBytes(s)) { why = "name must be a non-empty string of at most 255 bytes"; return false; }
            name = s;
            if (p.ValueKind != JsonValueKind.Number || !p.TryGetInt32(out priority) || priority is < 0 or > ForwardingFilter.DefaultPriority)
            { why = "priority must be an integer in 0..32767"; return false; }
        }
        string? version = null;
        if (e.TryGetProperty("version", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (!Str(v, out var ver) || !FitsBytes(ver)) { why = "version must be a string of at most 255 bytes"; return false; }
            version = ver;
        }
        JsonElement? metadata = e.TryGetProperty("metadata", out var m) && m.ValueKind != JsonValueKind.Null ? m.Clone() : null;
        filter = new ForwardingFilter { Allow = allow, Rules = groups, Name = name, Priority = priority, Version = version, Metadata = metadata };
        why = "";
        return true;
    }

    private static bool TryParseRule(JsonElement r, out ForwardingRule rule, out string why)
    {
        rule = null!;
        if (r.ValueKind != JsonValueKind.Object) { why = "a rule must be a JSON object"; return false; }
        if (!r.TryGetProperty("field", out var f) || !Str(f, out var fieldName)) { why = "rule field must be connection_id, client_id or kind"; return false; }
        ForwardingField field;
        switch (fieldName)
        {
            case "connection_id": field = ForwardingField.ConnectionId; break;
            case "client_id": field = ForwardingField.ClientId; break;
            case "kind": field = ForwardingField.Kind; break;
            default: why = "rule field must be connection_id, client_id or kind"; return false;
        }
        if (!r.TryGetProperty("operator", out var o) || !Str(o, out var op) || op is not ("is_in" or "is_not_in"))
        { why = "rule operator must be is_in or is_not_in"; return false; }
        if (!r.TryGetProperty("values", out var vs) || vs.ValueKind != JsonValueKind.Array || vs.GetArrayLength() == 0)
        { why = "rule values must be a non-empty array of strings"; return false; }
        if (vs.GetArrayLength() > MaxValues) { why = $"rule values: at most {MaxValues}"; return false; }
        var values = new List<string>();
        foreach (var v in vs.EnumerateArray())
        {
            if (!Str(v, out var s) || !FitsBytes(s)) { why = "rule values must be strings of at most 255 bytes"; return false; }
            if (field == ForwardingField.Kind && s is not ("audio" or "video")) { why = "kind values must be audio or video"; return false; }
            values.Add(s);
        }
        rule = new ForwardingRule(field, op == "is_in", values);
        why = "";
        return true;
    }

    private static bool Str(JsonElement e, out string s) => Hibari.Signaling.Messages.SignalingJson.TryGetString(e, out s);

    private static bool FitsBytes(string s) => System.Text.Encoding.UTF8.GetByteCount(s) <= MaxStringBytes;
}
