using Hibari.Rtc.Dtls;
using Hibari.Tests.Sfu;

namespace Hibari.Tests.Api;

/// <summary>`GET /metrics` in Prometheus's text format: counters typed as counters (issue 14: they were all gauges).</summary>
[Collection("sfu")]
public sealed class MetricsTextTests
{
    [Fact]
    public async Task Every_total_is_a_counter_everything_else_a_gauge_and_each_name_is_declared_once()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var call = await node.StartCallAsync("metrics", DtlsCertificate.Generate()); // per-worker and per-rid series present
        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{node.Options.ApiPort}/metrics");
        var types = text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).Select(f => (Name: f[2], Type: f[3])).ToList();
        Assert.Equal(types.Count, types.Select(t => t.Name).Distinct().Count());
        Assert.All(types, t => Assert.Equal(t.Name.EndsWith("_total", StringComparison.Ordinal) ? "counter" : "gauge", t.Type));
        Assert.Contains(types, t => t.Type == "counter");
        Assert.Contains(types, t => t.Type == "gauge");
        // Every sample belongs to a declared metric.
        var declared = types.Select(t => t.Name).ToHashSet();
        foreach (var sample in text.Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
            Assert.Contains(sample.Split('{', ' ')[0], declared);
    }
}
