using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hibari.Cli;

/// <summary>The API call a subcommand makes: the `x-sora-target` and the JSON body.</summary>
internal sealed record ApiCall(string Target, string Body)
{
    public ApiCall(string target, JsonObject body) : this(target, body.ToJsonString()) { }
}

/// <summary>
/// A subcommand: its words (`cluster nodes`), arguments, options, the call it makes and how its answer is shown.
/// Targets and bodies are those of docs/protocol-notes.md, "HTTP API".
/// </summary>
internal sealed record Command(
    string Name,
    string Arguments,
    string Summary,
    int MinArgs,
    int MaxArgs,
    Func<IReadOnlyList<string>, IReadOnlyDictionary<string, string>, ApiCall> Build,
    Action<JsonNode?, TextWriter> Render,
    params string[] Options)
{
    public string[] Words { get; } = Name.Split(' ');

    public string Usage => $"hibari [OPTIONS] {Name}{(Arguments.Length > 0 ? " " + Arguments : "")}";
}

internal static class Commands
{
    public static readonly string[] Modes = ["normal", "block_new_session", "block_new_connection"];

    public static readonly IReadOnlyList<Command> All =
    [
        new("cluster init", "NODE_NAME...", "make a new cluster of these regular nodes (on one of them)", 1, int.MaxValue,
            (a, _) => new("Sora_20221221.InitCluster", new JsonObject { ["node_name_list"] = Strings(a) }), NodeNameList),
        new("cluster register", "CONTACT_NODE_NAME", "join the cluster of a member (on the joining node)", 1, 1,
            (a, _) => new("Sora_20211215.RegisterClusterNode", new JsonObject { ["contact_node_name"] = a[0] }), NodeNameList),
        new("cluster purge", "NODE_NAME", "remove a failed regular node (stopped first) from the cluster", 1, 1,
            (a, _) => new("Sora_20220629.PurgeClusterNode", new JsonObject { ["target_node_name"] = a[0] }), NodeNameList),
        new("cluster nodes", "", "the cluster's nodes as this node sees them", 0, 0,
            (_, _) => new("Sora_20211215.ListClusterNodes", new JsonObject()), ClusterNodes),
        new("cluster channels", "", "the channels of the cluster and the nodes serving each", 0, 0,
            (_, _) => new("Sora_20211215.ListClusterChannels", new JsonObject()), ClusterChannels),
        new("mode get", "", "this node's mode", 0, 0, (_, _) => new("Sora_20211215.GetMode", new JsonObject()), Mode),
        new("mode set", "normal|block_new_session|block_new_connection", "change this node's mode", 1, 1, (a, _) =>
        {
            if (!Modes.Contains(a[0])) throw new UsageException($"the mode must be {string.Join(", ", Modes)} (got {a[0]})");
            return new("Sora_20211215.ChangeMode", new JsonObject { ["mode"] = a[0] });
        }, Mode),
        new("stats", "", "this node's main counters and its cluster state", 0, 0,
            (_, _) => new("Sora_20171010.GetStatsReport", new JsonObject()), StatsReport),
        new("stats connection", "CHANNEL CONNECTION_ID", "one connection's statistics", 2, 2,
            (a, _) => new("Sora_20170529.GetStatsConnection", new JsonObject { ["channel_id"] = a[0], ["connection_id"] = a[1] }), KeyValues),
        new("connections", "[CHANNEL]", "this node's connections, or every connection of a channel", 0, 1,
            (a, _) => a.Count == 0 ? new("Sora_20201013.ListConnections", new JsonObject())
                : new("Sora_20201013.ListChannelConnections", new JsonObject { ["channel_id"] = a[0] }), Connections),
        new("sessions", "", "the sessions of every node", 0, 0, (_, _) => new("Sora_20231220.ListSessions", new JsonObject()), Sessions),
        new("disconnect", "CHANNEL [--connection ID | --client ID]", "disconnect a channel, one connection or a client's connections", 1, 1,
            (a, o) => Targeted("Sora_20151104.Disconnect", a[0], o), Ok, "connection", "client"),
        new("push", "CHANNEL JSON [--connection ID | --client ID]", "push JSON to a channel, one connection or a client's connections", 2, 2,
            (a, o) => Targeted("Sora_20160711.Push", a[0], o, ("data", ParseJson(a[1]))), Ok, "connection", "client"),
        new("request-rid", "CHANNEL RECEIVER_CONNECTION_ID RID [--sender ID]", "ask for a receiver's simulcast layer (none, r0, r1, r2, auto)", 3, 3,
            (a, o) =>
            {
                var body = new JsonObject { ["channel_id"] = a[0], ["receiver_connection_id"] = a[1] };
                if (o.TryGetValue("sender", out var sender)) body["sender_connection_id"] = sender;
                body["rid"] = a[2];
                return new("Sora_20251217.RequestSimulcastRid", body);
            }, KeyValues, "sender"),
        new("license", "", "this node's licence", 0, 0, (_, _) => new("Sora_20171218.GetLicense", new JsonObject()), KeyValues),
        new("api", "TARGET [JSON]", "any call: a target and its JSON body (default {}); prints the answer", 1, 2,
            (a, _) =>
            {
                if (a[0].Split('.') is not [{ Length: > 0 }, { Length: > 0 }]) throw new UsageException($"the target must look like Sora_YYYYMMDD.Name (got {a[0]})");
                if (a.Count > 1) ParseJson(a[1]); // sent as given, once known to be JSON
                return new(a[0], a.Count > 1 ? a[1] : "{}");
            }, (answer, o) =>
            {
                if (answer is not null) o.WriteLine(TextTable.Pretty(answer));
            }),
    ];

    /// <summary>The command named by the first words of <paramref name="words"/>, the longest match first; null if none.</summary>
    public static Command? Find(IReadOnlyList<string> words) =>
        All.Where(c => c.Words.Length <= words.Count && c.Words.SequenceEqual(words.Take(c.Words.Length), StringComparer.Ordinal))
            .MaxBy(c => c.Words.Length);

    private static JsonArray Strings(IEnumerable<string> items) => new(items.Select(s => (JsonNode)JsonValue.Create(s)).ToArray());

    private static JsonNode? ParseJson(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (JsonException e) { throw new UsageException($"not JSON: {text} ({e.Message})"); }
    }

    /// <summary>Channel, Connection or Client form of a call (`DisconnectChannel`, `PushConnection`, ...) by the option given.</summary>
    private static ApiCall Targeted(string prefix, string channel, IReadOnlyDictionary<string, string> o, params (string Key, JsonNode? Value)[] more)
    {
        if (o.ContainsKey("connection") && o.ContainsKey("client")) throw new UsageException("give --connection or --client, not both");
        var body = new JsonObject { ["channel_id"] = channel };
        var kind = "Channel";
        if (o.TryGetValue("connection", out var connection)) (body["connection_id"], kind) = (connection, "Connection");
        if (o.TryGetValue("client", out var client)) (body["client_id"], kind) = (client, "Client");
        foreach (var (key, value) in more) body[key] = value;
        return new(prefix + kind, body);
    }

    // --- how answers are shown ---

    private static void Ok(JsonNode? answer, TextWriter o) => o.WriteLine("ok");

    private static void Mode(JsonNode? answer, TextWriter o) => o.WriteLine(TextTable.Cell(answer?["mode"]));

    private static void KeyValues(JsonNode? answer, TextWriter o) => o.Write(TextTable.KeyValues(TextTable.Flatten(answer)));

    private static void NodeNameList(JsonNode? answer, TextWriter o)
    {
        o.WriteLine("cluster members:");
        foreach (var n in answer?["node_name_list"]?.AsArray() ?? []) o.WriteLine("  " + TextTable.Cell(n));
    }

    private static IEnumerable<JsonNode?> Rows(JsonNode? answer) => answer as JsonArray ?? [];

    /// <summary>`leader` is shown when the nodes' objects carry it (ListClusterNodes does not say today).</summary>
    public static void ClusterNodes(JsonNode? answer, TextWriter o)
    {
        var rows = Rows(answer).ToList();
        var leader = rows.Any(r => r?["leader"] is not null);
        string[] headers = ["node_name", "connected", "mode", "temporary", .. leader ? ["leader"] : Array.Empty<string>(),
            "connections", "capacity", "load_report_age_ms", "api_url"];
        o.Write(TextTable.Format(headers, rows.Select(r => (IReadOnlyList<string>)
        [
            TextTable.Cell(r?["node_name"]), TextTable.Cell(r?["connected"]), TextTable.Cell(r?["mode"]), TextTable.Cell(r?["temporary_node"]),
            .. leader ? [TextTable.Cell(r?["leader"])] : Array.Empty<string>(),
            TextTable.Cell(r?["connections"]), TextTable.Cell(r?["capacity"]), TextTable.Cell(r?["load_report_age_ms"]), TextTable.Cell(r?["external_api_url"]),
        ])));
    }

    private static void ClusterChannels(JsonNode? answer, TextWriter o) =>
        o.Write(TextTable.Format(["channel_id", "owners"], Rows(answer).Select(r => (IReadOnlyList<string>)
        [
            TextTable.Cell(r?["channel_id"]),
            string.Join(", ", (r?["owners"] as JsonArray ?? []).Select(w =>
                TextTable.Cell(w?["node_name"]) + ((bool?)w?["connected"] == false ? " (not connected)" : ""))),
        ])));

    private static void Connections(JsonNode? answer, TextWriter o) =>
        o.Write(TextTable.Format(["channel_id", "connection_id", "client_id", "role", "simulcast", "node_name", "created_timestamp"],
            Rows(answer).Select(r => (IReadOnlyList<string>)
            [
                TextTable.Cell(r?["channel_id"]), TextTable.Cell(r?["connection_id"]), TextTable.Cell(r?["client_id"]), TextTable.Cell(r?["role"]),
                TextTable.Cell(r?["simulcast"]), TextTable.Cell(r?["node_name"]), TextTable.Cell(r?["created_timestamp"]),
            ])));

    private static void Sessions(JsonNode? answer, TextWriter o) =>
        o.Write(TextTable.Format(["channel_id", "session_id", "connections", "total_connections", "max_connections", "nodes", "created_timestamp"],
            Rows(answer).Select(r => (IReadOnlyList<string>)
            [
                TextTable.Cell(r?["channel_id"]), TextTable.Cell(r?["session_id"]), TextTable.Cell(r?["connections"]),
                TextTable.Cell(r?["total_connections"]), TextTable.Cell(r?["max_connections"]),
                string.Join(",", (r?["nodes"] as JsonArray ?? []).Select(n => TextTable.Cell(n?["node_name"]))),
                TextTable.Cell(r?["created_timestamp"]),
            ])));

    /// <summary>The counters an operator looks at first (docs/protocol-notes.md, "GetStatsReport and exporter counters").</summary>
    public static readonly string[] MainCounters =
    [
        "version", "total_ongoing_connections", "total_connection_created", "total_connection_destroyed", "total_failed_connections",
        "total_session_created", "total_session_destroyed", "total_received_srtp", "total_sent_srtp", "total_srtp_unprotect_failures",
        "total_dropped_media_datagrams", "total_received_messages", "total_sent_messages", "total_dropped_messages",
    ];

    public static void StatsReport(JsonNode? answer, TextWriter o)
    {
        o.Write(TextTable.KeyValues(MainCounters.Where(k => answer?[k] is not null).Select(k => (k, TextTable.Cell(answer![k])))));
        if (answer?["cluster"] is JsonObject cluster)
        {
            o.WriteLine();
            o.WriteLine("cluster");
            o.Write(TextTable.KeyValues(TextTable.Flatten(cluster), "  "));
        }
        if (answer?["cluster_relay"] is JsonArray { Count: > 0 } relay)
        {
            o.WriteLine();
            o.WriteLine("cluster_relay");
            string[] keys = ["node_name", "total_sent", "total_received", "total_sent_byte_size", "total_received_byte_size", "latency_us_p50", "latency_us_p99"];
            o.Write(TextTable.Format(keys, relay.Select(r => (IReadOnlyList<string>)keys.Select(k => TextTable.Cell(r?[k])).ToList())));
        }
    }
}
