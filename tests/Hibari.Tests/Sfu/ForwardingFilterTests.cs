using System.Text;
using System.Text.Json;
using Hibari.Sfu;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Sfu;

/// <summary>Forwarding filters (docs/decisions.md D-54): parsing, rule evaluation, block / allow, several filters.</summary>
public sealed class ForwardingFilterTests
{
    private static ForwardingFilter Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.True(ForwardingFilters.TryParse(doc.RootElement, out var f, out var why), why);
        return f;
    }

    private static string Refusal(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.False(ForwardingFilters.TryParse(doc.RootElement, out _, out var why));
        Assert.False(string.IsNullOrEmpty(why));
        return why;
    }

    [Fact]
    public void A_filter_parses_with_sora_defaults()
    {
        var f = Parse("""{"rules":[[{"field":"connection_id","operator":"is_in","values":["A"]}]]}""");
        Assert.False(f.Allow);
        Assert.Equal("default", f.Name);
        Assert.Equal(32767, f.Priority);
        var g = Parse("""{"action":"allow","name":"n","priority":3,"version":"v1","metadata":{"k":1},"rules":[[{"field":"kind","operator":"is_not_in","values":["audio"]}],[{"field":"client_id","operator":"is_in","values":["c"]}]]}""");
        Assert.True(g.Allow);
        Assert.Equal(("n", 3, "v1"), (g.Name, g.Priority, g.Version));
        Assert.Equal(2, g.Rules.Count);
        // The API's form round-trips.
        using var doc = JsonDocument.Parse(g.ToJson().ToJsonString());
        Assert.True(ForwardingFilters.TryParse(doc.RootElement, out var again, out _));
        Assert.Equal(g.ToJson().ToJsonString(), again.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("""[]""")]
    [InlineData("""{"rules":[]}""")]
    [InlineData("""{"rules":[[]]}""")]
    [InlineData("""{"action":"drop","rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}""")]
    [InlineData("""{"rules":[[{"field":"track_id","operator":"is_in","values":["x"]}]]}""")]
    [InlineData("""{"rules":[[{"field":"kind","operator":"contains","values":["audio"]}]]}""")]
    [InlineData("""{"rules":[[{"field":"kind","operator":"is_in","values":["screen"]}]]}""")]
    [InlineData("""{"rules":[[{"field":"kind","operator":"is_in","values":[]}]]}""")]
    [InlineData("""{"rules":[[{"field":"client_id","operator":"is_in","values":[1]}]]}""")]
    [InlineData("""{"name":"x","rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}""")]
    [InlineData("""{"name":"x","priority":40000,"rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}""")]
    [InlineData("""{"version":3,"rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}""")]
    public void Invalid_filters_are_refused_with_a_reason(string json) => Refusal(json);

    [Fact]
    public void Limits_are_enforced()
    {
        var rule = """{"field":"kind","operator":"is_in","values":["audio"]}""";
        Refusal($$"""{"rules":[{{string.Join(",", Enumerable.Repeat($"[{rule}]", ForwardingFilters.MaxGroups + 1))}}]}""");
        Refusal($$"""{"rules":[[{{string.Join(",", Enumerable.Repeat(rule, ForwardingFilters.MaxRulesPerGroup + 1))}}]]}""");
        var values = string.Join(",", Enumerable.Range(0, ForwardingFilters.MaxValues + 1).Select(i => $"\"c{i}\""));
        Refusal($$"""{"rules":[[{"field":"client_id","operator":"is_in","values":[{{values}}]}]]}""");
        Refusal($$"""{"rules":[[{"field":"client_id","operator":"is_in","values":["{{new string('x', 256)}}"]}]]}""");
    }

    [Fact]
    public void The_connect_reads_forwarding_filters_over_forwarding_filter_and_refuses_invalid_ones()
    {
        var ok = """{"type":"connect","role":"recvonly","channel_id":"c","forwarding_filter":{"rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]},"forwarding_filters":[{"action":"allow","rules":[[{"field":"client_id","operator":"is_in","values":["x"]}]]}]}""";
        Assert.True(ConnectParser.TryParse(Encoding.UTF8.GetBytes(ok), out var request, out _));
        var f = Assert.Single(request.ForwardingFilters!);
        Assert.True(f.Allow);
        var legacy = """{"type":"connect","role":"recvonly","channel_id":"c","forwarding_filter":{"rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]}}""";
        Assert.True(ConnectParser.TryParse(Encoding.UTF8.GetBytes(legacy), out request, out _));
        Assert.False(Assert.Single(request.ForwardingFilters!).Allow);
        var none = """{"type":"connect","role":"recvonly","channel_id":"c"}""";
        Assert.True(ConnectParser.TryParse(Encoding.UTF8.GetBytes(none), out request, out _));
        Assert.Null(request.ForwardingFilters);
        var bad = """{"type":"connect","role":"recvonly","channel_id":"c","forwarding_filters":[{"rules":[[{"field":"kind","operator":"is_in","values":["text"]}]]}]}""";
        Assert.False(ConnectParser.TryParse(Encoding.UTF8.GetBytes(bad), out _, out var close));
        Assert.Equal(4425, close.Code);
        Assert.StartsWith("INVALID-FORWARDING-FILTER: ", close.Reason);
        var twice = """{"type":"connect","role":"recvonly","channel_id":"c","forwarding_filters":[{"rules":[[{"field":"kind","operator":"is_in","values":["audio"]}]]},{"rules":[[{"field":"kind","operator":"is_in","values":["video"]}]]}]}""";
        Assert.False(ConnectParser.TryParse(Encoding.UTF8.GetBytes(twice), out _, out close));
        Assert.Equal(4425, close.Code);
    }

    [Fact]
    public void Rules_are_an_or_of_ands_with_is_in_and_is_not_in()
    {
        // (connection A and video) or (client c2 and not audio)
        var f = Parse("""{"rules":[[{"field":"connection_id","operator":"is_in","values":["A"]},{"field":"kind","operator":"is_in","values":["video"]}],[{"field":"client_id","operator":"is_in","values":["c2"]},{"field":"kind","operator":"is_not_in","values":["audio"]}]]}""");
        Assert.True(f.Matches("A", "c1", "video"));
        Assert.False(f.Matches("A", "c1", "audio"));
        Assert.True(f.Matches("B", "c2", "video"));
        Assert.False(f.Matches("B", "c2", "audio"));
        Assert.False(f.Matches("B", "c1", "video"));
    }

    [Fact]
    public void Block_stops_what_matches_allow_forwards_only_what_matches_and_every_filter_must_pass()
    {
        var blockA = Parse("""{"rules":[[{"field":"connection_id","operator":"is_in","values":["A"]}]]}""");
        var allowVideo = Parse("""{"action":"allow","name":"v","priority":1,"rules":[[{"field":"kind","operator":"is_in","values":["video"]}]]}""");
        Assert.False(ForwardingFilters.Forwards([blockA], "A", "a", "video"));
        Assert.True(ForwardingFilters.Forwards([blockA], "B", "b", "audio"));
        Assert.True(ForwardingFilters.Forwards([allowVideo], "A", "a", "video"));
        Assert.False(ForwardingFilters.Forwards([allowVideo], "A", "a", "audio"));
        Assert.True(ForwardingFilters.Forwards([], "A", "a", "audio"));
        Assert.False(ForwardingFilters.Forwards([blockA, allowVideo], "A", "a", "video"));
        Assert.True(ForwardingFilters.Forwards([blockA, allowVideo], "B", "b", "video"));
        Assert.False(ForwardingFilters.Forwards([blockA, allowVideo], "B", "b", "audio"));
    }

    // --- property: random filters and senders against a reference written here ---

    private static readonly string[] Ids = ["A", "B", "C", "D"];
    private static readonly string[] Kinds = ["audio", "video"];

    [Fact]
    public void Evaluation_agrees_with_a_reference_for_random_filters_and_senders()
    {
        var random = new Random(54);
        for (var i = 0; i < 3000; i++)
        {
            var filters = Enumerable.Range(0, random.Next(0, 4)).Select(k => RandomFilter(random, k)).ToList();
            var json = JsonSerializer.Serialize(filters.Select(f => f.Json).ToList());
            using var doc = JsonDocument.Parse(json);
            Assert.True(ForwardingFilters.TryParseList(doc.RootElement, out var parsed, out var why), why + " " + json);
            foreach (var conn in Ids)
                foreach (var client in Ids)
                    foreach (var kind in Kinds)
                        Assert.True(Reference(filters, conn, "c" + client, kind) == ForwardingFilters.Forwards(parsed, conn, "c" + client, kind), json);
        }
    }

    private sealed record RefRule(string Field, bool IsIn, string[] Values);
    private sealed record RefFilter(bool Allow, RefRule[][] Rules, object Json);

    private static RefFilter RandomFilter(Random random, int index)
    {
        var allow = random.Next(2) == 0;
        var groups = Enumerable.Range(0, random.Next(1, 4)).Select(_ => Enumerable.Range(0, random.Next(1, 4)).Select(_ =>
        {
            var field = new[] { "connection_id", "client_id", "kind" }[random.Next(3)];
            var pool = field == "kind" ? Kinds : field == "client_id" ? Ids.Select(x => "c" + x).ToArray() : Ids;
            var values = pool.Where(_ => random.Next(2) == 0).DefaultIfEmpty(pool[0]).ToArray();
            return new RefRule(field, random.Next(2) == 0, values);
        }).ToArray()).ToArray();
        var json = new Dictionary<string, object>
        {
            ["action"] = allow ? "allow" : "block",
            ["name"] = $"f{index}",
            ["priority"] = random.Next(0, 100),
            ["rules"] = groups.Select(g => g.Select(r => new Dictionary<string, object>
            {
                ["field"] = r.Field, ["operator"] = r.IsIn ? "is_in" : "is_not_in", ["values"] = r.Values,
            }).ToArray()).ToArray(),
        };
        return new RefFilter(allow, groups, json);
    }

    /// <summary>The rule of D-54 written plainly: forwarded when no filter refuses; a filter refuses when its match differs from its action.</summary>
    private static bool Reference(List<RefFilter> filters, string conn, string client, string kind)
    {
        foreach (var f in filters)
        {
            var matched = false;
            foreach (var group in f.Rules)
            {
                var all = true;
                foreach (var r in group)
                {
                    var value = r.Field == "connection_id" ? conn : r.Field == "client_id" ? client : kind;
                    if (r.Values.Contains(value) != r.IsIn) all = false;
                }
                if (all) matched = true;
            }
            if (f.Allow && !matched) return false;
            if (!f.Allow && matched) return false;
        }
        return true;
    }
}

/// <summary>The filter parser never throws and accepts only what evaluates (HIBARI_FUZZ_ITERATIONS, default 5,000).</summary>
public sealed class ForwardingFilterFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static readonly string[] Seeds =
    [
        """[{"action":"block","rules":[[{"field":"connection_id","operator":"is_in","values":["A","B"]}]]}]""",
        """[{"action":"allow","name":"x","priority":0,"version":"1","metadata":{"a":[1]},"rules":[[{"field":"kind","operator":"is_not_in","values":["audio"]},{"field":"client_id","operator":"is_in","values":["c"]}],[{"field":"kind","operator":"is_in","values":["video"]}]]}]""",
    ];

    private const string Alphabet = "[]{},:\"\\ 0123456789-.eEtrufalsnbockidxvy_\u00e9\u3042\ud800";

    [Fact]
    public void Random_and_mutated_filters_never_throw()
    {
        var random = new Random(540);
        for (var i = 0; i < Iterations; i++)
        {
            var text = Seeds[random.Next(Seeds.Length)];
            var chars = text.ToCharArray().ToList();
            for (var m = random.Next(1, 6); m > 0; m--)
            {
                var at = random.Next(chars.Count + 1);
                switch (random.Next(3))
                {
                    case 0 when chars.Count > 0 && at < chars.Count: chars.RemoveAt(at); break;
                    case 1: chars.Insert(at, Alphabet[random.Next(Alphabet.Length)]); break;
                    default: if (at < chars.Count) chars[at] = Alphabet[random.Next(Alphabet.Length)]; break;
                }
            }
            var mutated = new string(chars.ToArray());
            JsonDocument doc;
            try { doc = JsonDocument.Parse(Encoding.UTF8.GetBytes(mutated)); }
            catch (JsonException) { continue; }
            catch (ArgumentException) { continue; }
            using (doc)
            {
                if (ForwardingFilters.TryParseList(doc.RootElement, out var filters, out var why))
                {
                    Assert.Equal("", why);
                    foreach (var kind in new[] { "audio", "video" }) ForwardingFilters.Forwards(filters, "A", "c", kind);
                    foreach (var f in filters) Assert.NotNull(f.ToJson().ToJsonString());
                }
                else Assert.False(string.IsNullOrEmpty(why));
                var connect = Encoding.UTF8.GetBytes($$"""{"type":"connect","role":"recvonly","channel_id":"c","forwarding_filters":{{mutated}}}""");
                if (!ConnectParser.TryParse(connect, out _, out var close))
                    Assert.InRange(close.Code, 4400, 4499);
            }
        }
    }
}
