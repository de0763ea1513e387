// Control-plane benchmark: real Hibari.Server processes on 127.0.0.1-4, timings of the failure reactions and of
// channel claims. Usage: dotnet bench/Hibari.ClusterBench/bin/Release/net10.0/Hibari.ClusterBench.dll [claims=1000]
using System.Diagnostics;
using System.Text.Json.Nodes;
using Hibari.Tests.MultiProcess;

var claimsCount = args.Length > 0 ? int.Parse(args[0]) : 1000;
var root = Path.Combine(Path.GetTempPath(), "hibari-bench-" + Guid.NewGuid().ToString("n")[..8]);
string[] common = ["cluster=true", "cluster_secret=bench-secret-value", "debug_api=true", "log_level=warning", "cluster_affinity_threshold=100"];
NodeProcess Make(string name, int ip, bool temp = false) =>
    new(name, $"127.0.0.{ip}", Path.Combine(root, name), 3000, 5000, temp ? [.. common, "cluster_temporary_node=true"] : common);

var n = new[] { Make("n1", 1), Make("n2", 2), Make("n3", 3) };
var t4 = Make("t4", 4, temp: true);
var all = n.Append(t4).ToArray();
var results = new List<(string What, string Value)>();
try
{
    foreach (var x in all) x.Start();
    foreach (var x in all) await x.WaitForApiAsync(TimeSpan.FromSeconds(60));

    var sw = Stopwatch.StartNew();
    var init = await n[0].ApiAsync("Sora_20221221.InitCluster",
        new JsonObject { ["node_name_list"] = new JsonArray(n.Select(x => (JsonNode)x.NodeName).ToArray()) }.ToJsonString());
    if (init.Status != 200) throw new Exception("InitCluster: " + init.Body?.ToJsonString());
    var initAnswered = sw.Elapsed;
    await Until(async () => (await Task.WhenAll(n.Select(Available))).All(a => a));
    results.Add(("InitCluster answered / all 3 available", $"{initAnswered.TotalMilliseconds:F0} ms / {sw.Elapsed.TotalMilliseconds:F0} ms"));

    sw.Restart();
    var reg = await t4.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""");
    if (reg.Status != 200) throw new Exception("Register: " + reg.Body?.ToJsonString());
    await Until(() => Available(t4));
    results.Add(("RegisterClusterNode (temporary) → available", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));

    var leader = await LeaderAsync(n);
    var follower = n.First(x => x != leader);
    foreach (var (label, on) in new[] { ("leader", leader), ("follower (forwarded)", follower) })
    {
        var lat = new List<double>();
        for (var i = 0; i < claimsCount; i++)
        {
            var s = Stopwatch.StartNew();
            var r = await on.ApiAsync("Sora_20261202.HibariDebugClaimSession", $$"""{"channel_id":"bench-{{label[0]}}-{{i}}"}""");
            if (r.Status != 200) throw new Exception("claim: " + r.Body?.ToJsonString());
            lat.Add(s.Elapsed.TotalMilliseconds);
        }
        lat.Sort();
        results.Add(($"channel claim via HTTP API on the {label}, n={claimsCount}",
            $"p50 {P(lat, 0.50):F2} ms, p99 {P(lat, 0.99):F2} ms, max {lat[^1]:F2} ms"));
    }

    // Placement (issue 4): connect → offer on the node holding the channel, and through one redirect from another node.
    var certificate = Hibari.Rtc.Dtls.DtlsCertificate.Generate();
    var clients = new List<Hibari.Load.SyntheticClient>();
    async Task<Hibari.Load.SyntheticClient> Connect(NodeProcess on, string channel)
    {
        var c = new Hibari.Load.SyntheticClient(new Uri($"ws://{on.Ip}:{on.SignalingPort}/signaling"), channel,
            new Hibari.Load.SyntheticClientOptions { Certificate = certificate });
        clients.Add(c);
        await c.ConnectAsync();
        return c;
    }
    var firstClient = await Connect(n[1], "placement");
    var holder = n.Single(x => firstClient.ConnectedUrl.ToString() == $"ws://{x.Ip}:{x.SignalingPort}/signaling");
    var other = n.First(x => x != holder);
    await Until(async () => (await other.ApiAsync("Sora_20211215.ListClusterChannels")).Body!.AsArray()
        .Any(ch => ch!["channel_id"]!.GetValue<string>() == "placement"));
    foreach (var (label, on, redirected) in new[] { ("on the holder (no redirect)", holder, false), ("through one redirect", other, true) })
    {
        var lat = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            var c = await Connect(on, "placement");
            if ((c.RedirectedTo is not null) != redirected) throw new Exception($"expected redirected={redirected} for {label}");
            lat.Add(c.ConnectToOffer.TotalMilliseconds);
        }
        lat.Sort();
        results.Add(($"connect → offer {label}, n=40", $"p50 {P(lat, 0.50):F1} ms, p99 {P(lat, 0.99):F1} ms"));
    }
    foreach (var c in clients) await c.DisposeAsync();

    // Load-report staleness: the age of n2's report as n1 sees it, sampled 200 times.
    var ages = new List<double>();
    for (var i = 0; i < 200; i++)
    {
        var row = (await n[0].ApiAsync("Sora_20211215.ListClusterNodes")).Body!.AsArray().First(x => x!["node_name"]!.GetValue<string>() == n[1].NodeName)!;
        if (row["load_report_age_ms"] is { } age) ages.Add(age.GetValue<double>());
        await Task.Delay(17);
    }
    ages.Sort();
    results.Add(("load-report age seen by another node, n=200", $"p50 {P(ages, 0.50):F0} ms, p99 {P(ages, 0.99):F0} ms, max {ages[^1]:F0} ms"));

    // Leader SIGKILL → first successful write on a survivor, and the survivor takes over a share of its capacity (C-TAKE-1).
    leader = await LeaderAsync(n);
    var survivor = n.First(x => x != leader);
    async Task<int> CapacityOf(NodeProcess on, NodeProcess of) =>
        (await on.ApiAsync("Sora_20211215.ListClusterNodes")).Body!.AsArray().First(x => x!["node_name"]!.GetValue<string>() == of.NodeName)!["capacity"]!.GetValue<int>();
    var ownCapacity = await CapacityOf(survivor, survivor);
    sw.Restart();
    leader.Kill();
    var takeover = Task.Run(async () =>
    {
        var t = Stopwatch.StartNew();
        await Until(async () => await CapacityOf(survivor, survivor) > ownCapacity);
        return t.Elapsed;
    });
    await Until(async () => (await survivor.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"normal"}""")).Status == 200);
    results.Add(("leader SIGKILL → write committed again", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));
    results.Add(($"leader SIGKILL → a survivor's capacity raised from {ownCapacity} (takeover)", $"{(await takeover).TotalMilliseconds:F0} ms"));
    sw.Restart();
    leader.Start();
    await Until(() => Available(leader));
    results.Add(("killed leader restarted → available again (incl. process start)", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));

    // Temporary node SIGKILL → removed from the cluster.
    sw.Restart();
    t4.Kill();
    await Until(async () => !(await n[0].ApiAsync("Sora_20211215.ListClusterNodes")).Body!.AsArray().Any(x => x!["node_name"]!.GetValue<string>() == t4.NodeName));
    results.Add(("temporary node SIGKILL → removed", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));

    // Two of three regular nodes SIGKILL → the survivor is unavailable.
    sw.Restart();
    n[1].Kill();
    n[2].Kill();
    await Until(async () => !await Available(n[0]));
    results.Add(("2 of 3 regular SIGKILL → survivor unavailable", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));
    sw.Restart();
    n[1].Start();
    n[2].Start();
    await Until(async () => (await Task.WhenAll(n.Select(Available))).All(a => a));
    results.Add(("both restarted → all available (incl. process start)", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));

    // Minority by partition: SIGSTOP two nodes.
    sw.Restart();
    n[1].Freeze();
    n[2].Freeze();
    await Until(async () => !await Available(n[0]));
    results.Add(("2 of 3 regular SIGSTOP → survivor unavailable", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));
    sw.Restart();
    n[1].Thaw();
    n[2].Thaw();
    await Until(async () => (await Task.WhenAll(n.Select(Available))).All(a => a));
    results.Add(("SIGCONT → all available", $"{sw.Elapsed.TotalMilliseconds:F0} ms"));
}
finally
{
    foreach (var x in all) await x.DisposeAsync();
    try { Directory.Delete(root, true); } catch (IOException) { }
}

Console.WriteLine("| measurement | result |\n|---|---|");
foreach (var (what, value) in results) Console.WriteLine($"| {what} | {value} |");
return 0;

static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

static async Task<bool> Available(NodeProcess node)
{
    try
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return (await http.GetStringAsync($"http://{node.Ip}:{node.ApiPort}/metrics")).Contains("hibari_available 1\n");
    }
    catch (HttpRequestException) { return false; }
    catch (TaskCanceledException) { return false; }
}

static async Task<NodeProcess> LeaderAsync(NodeProcess[] nodes)
{
    for (var i = 0; i < 200; i++)
    {
        foreach (var x in nodes.Where(x => x.Running))
        {
            var r = await x.ApiAsync("Sora_20171010.GetStatsReport");
            if (r.Body?["cluster"]?["raft_state"]?.GetValue<string>() == "leader") return x;
        }
        await Task.Delay(50);
    }
    throw new Exception("no leader");
}

static async Task Until(Func<Task<bool>> condition)
{
    var deadline = DateTime.UtcNow.AddSeconds(60);
    while (DateTime.UtcNow < deadline)
    {
        try { if (await condition()) return; } catch (HttpRequestException) { } catch (TaskCanceledException) { }
        await Task.Delay(20);
    }
    throw new TimeoutException("condition not met in 60 s");
}
