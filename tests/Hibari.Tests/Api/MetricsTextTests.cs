using System.Globalization;
using System.Text.RegularExpressions;
using Hibari.Rtc.Dtls;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Api;

/// <summary>
/// `GET /metrics` in Prometheus's text exposition format (issue 14): read back by a strict parser of that format —
/// every sample belongs to one declared family, counters are `_total`, histograms are cumulative with `+Inf` equal to
/// `_count`.
/// </summary>
[Collection("sfu")]
public sealed partial class MetricsTextTests
{
    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*")*)\})? (\S+)$""")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:\\.|[^""\\])*)""")]
    private static partial Regex Label();

    private sealed record Family(string Type, List<(string Name, Dictionary<string, string> Labels, double Value)> Samples);

    /// <summary>Parses the exposition text; fails on any line that is not a comment, a blank, or a well-formed sample.</summary>
    private static Dictionary<string, Family> Parse(string text)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        var helped = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) { Assert.True(helped.Add(line.Split(' ')[2]), "HELP twice: " + line); continue; }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var f = line.Split(' ');
                Assert.Equal(4, f.Length);
                Assert.Contains(f[3], new[] { "counter", "gauge", "histogram" });
                Assert.True(families.TryAdd(f[2], new Family(f[3], [])), "TYPE twice: " + line);
                continue;
            }
            Assert.False(line.StartsWith('#'), "unknown comment: " + line);
            var m = Sample().Match(line);
            Assert.True(m.Success, "not a sample: " + line);
            var name = m.Groups[1].Value;
            var labels = Label().Matches(m.Groups[2].Value).ToDictionary(l => l.Groups[1].Value, l => l.Groups[2].Value);
            var raw = m.Groups[3].Value;
            var value = raw switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, _ => double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture) };
            var family = families.GetValueOrDefault(name);
            var baseName = Regex.Replace(name, "_(bucket|sum|count)$", "");
            if (baseName != name && families.GetValueOrDefault(baseName) is { Type: "histogram" } histogram) family = histogram;
            Assert.True(family is not null, "sample of an undeclared metric: " + line);
            Assert.True(family!.Type != "histogram" || baseName != name, "a histogram sample without suffix: " + line);
            family.Samples.Add((name, labels, value));
        }
        Assert.True(helped.SetEquals(families.Keys), "every family has HELP and TYPE");
        return families;
    }

    [Fact]
    public async Task Metrics_parse_as_prometheus_text_with_counters_gauges_and_consistent_histograms()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var call = await node.StartCallAsync("metrics", DtlsCertificate.Generate()); // per-worker and per-rid series present
        using var http = new HttpClient();
        var families = Parse(await http.GetStringAsync($"http://127.0.0.1:{node.Options.ApiPort}/metrics"));

        foreach (var (name, f) in families)
        {
            var expected = name.EndsWith("_total", StringComparison.Ordinal) ? "counter" : name.EndsWith("_seconds", StringComparison.Ordinal) ? "histogram" : "gauge";
            Assert.True(expected == f.Type, $"{name} is a {f.Type}");
            if (f.Type == "counter") Assert.All(f.Samples, s => Assert.True(s.Value >= 0, $"{name} {s.Value}"));
            if (f.Type != "histogram") continue;
            // Per series (labels without le): cumulative buckets ending in +Inf, equal to _count; a _sum.
            foreach (var series in f.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => l.Key + "=" + l.Value))))
            {
                var buckets = series.Where(s => s.Name == name + "_bucket").ToList();
                Assert.NotEmpty(buckets);
                Assert.Equal("+Inf", buckets[^1].Labels["le"]);
                for (var i = 1; i < buckets.Count; i++)
                {
                    Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{name} buckets not cumulative");
                    Assert.True(i == buckets.Count - 1 || double.Parse(buckets[i].Labels["le"], CultureInfo.InvariantCulture) > double.Parse(buckets[i - 1].Labels["le"], CultureInfo.InvariantCulture));
                }
                Assert.Equal(buckets[^1].Value, series.Single(s => s.Name == name + "_count").Value);
                Assert.Single(series, s => s.Name == name + "_sum");
            }
        }
        Assert.Contains(families.Values, f => f.Type == "counter");
        Assert.Contains(families.Values, f => f.Type == "gauge");
        // The call's two connects were timed from connect to offer.
        var offers = families["hibari_signaling_connect_to_offer_seconds"].Samples.Single(s => s.Name.EndsWith("_count", StringComparison.Ordinal));
        Assert.True(offers.Value >= 2, $"connect → offer count {offers.Value}");
        Assert.Equal(3, families["hibari_webhook_duration_seconds"].Samples.Count(s => s.Name.EndsWith("_count", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_parser_refuses_what_prometheus_would()
    {
        foreach (var bad in new[]
        {
            "x 1\n", // undeclared
            "# TYPE x gauge\n# HELP x h\nx{a=b} 1\n", // unquoted label
            "# TYPE x gauge\n# HELP x h\nx one\n", // not a number
            "# TYPE x summary\n# HELP x h\nx 1\n", // a type Hibari does not write
            "# TYPE x gauge\n# TYPE x gauge\n# HELP x h\n", // declared twice
        })
            Assert.ThrowsAny<Exception>(() => Parse(bad));
        Assert.Single(Parse("# HELP x_seconds h\n# TYPE x_seconds histogram\nx_seconds_bucket{le=\"+Inf\"} 1\nx_seconds_sum 0.5\nx_seconds_count 1\n"));
    }

    [Fact]
    public async Task Every_metric_the_grafana_dashboard_queries_is_one_the_node_exposes()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Hibari.slnx"))) root = root.Parent;
        Assert.NotNull(root);
        using var doc = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root!.FullName, "docs", "grafana", "hibari-dashboard.json")));
        var exprs = doc.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(exprs);
        var used = exprs.SelectMany(e => Regex.Matches(e, "hibari_[a-z0-9_]+").Select(m => Regex.Replace(m.Value, "_bucket$", ""))).ToHashSet();

        await using var node = await InProcessNode.StartAsync();
        using var http = new HttpClient();
        var families = Parse(await http.GetStringAsync($"http://127.0.0.1:{node.Options.ApiPort}/metrics"));
        // Cluster families exist only on a node in a cluster (relay ones once a peer is linked): checked in the source that writes them.
        var source = await File.ReadAllTextAsync(Path.Combine(root.FullName, "src", "Hibari", "Node", "HibariNode.cs"));
        foreach (var name in used)
            Assert.True(families.ContainsKey(name) || (name.StartsWith("hibari_cluster_", StringComparison.Ordinal) && source.Contains('"' + name + '"')),
                $"the dashboard queries {name}, which the node does not expose");
    }
}

