using System.Diagnostics;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Tests.MultiProcess;
using Xunit.Abstractions;

namespace Hibari.Tests.Cli;

/// <summary>
/// The built `hibari` executable against a real three-node cluster on 127.0.3.1–3 (apart from the other multi-process
/// tests' 127.0.0.x, which may run on the machine at the same time).
/// </summary>
[Collection("processes")]
public sealed class CliClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Network = "127.0.3";
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private readonly ClusterHarness _h = new(Network);
    private readonly List<SyntheticClient> _clients = [];
    private NodeProcess _n1 = null!, _n2 = null!, _n3 = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _h.DisposeAsync();
    }

    /// <summary>The apphost of tools/Hibari.Cli in the Release (else Debug) build of this repository.</summary>
    private static string Executable()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Hibari.slnx"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException("cannot find the repository root (Hibari.slnx) from " + AppContext.BaseDirectory);
        var name = OperatingSystem.IsWindows() ? "hibari.exe" : "hibari";
        foreach (var cfg in new[] { "Release", "Debug" })
        {
            var p = Path.Combine(dir.FullName, "tools", "Hibari.Cli", "bin", cfg, "net10.0", name);
            if (File.Exists(p)) return p;
        }
        throw new InvalidOperationException("tools/Hibari.Cli is not built: run dotnet build -c Release first");
    }

    private static string Url(NodeProcess n) => $"http://{n.Ip}:{n.ApiPort}/";

    private async Task<(int Exit, string Out, string Err)> HibariAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(Executable()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("HIBARI_API_URL");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await p.WaitForExitAsync(cts.Token);
        var result = (p.ExitCode, (await stdout).ReplaceLineEndings("\n"), (await stderr).ReplaceLineEndings("\n"));
        output.WriteLine($"$ hibari {string.Join(' ', args)}\n-> {result.ExitCode}\n{result.Item2}{result.Item3}");
        return result;
    }

    /// <summary>Three fresh nodes made one cluster with `hibari cluster init`, each serving signaling.</summary>
    private async Task StartClusterWithTheCliAsync()
    {
        _n1 = _h.Add("n1", 1);
        _n2 = _h.Add("n2", 2);
        _n3 = _h.Add("n3", 3);
        await _h.StartAllAsync(_n1, _n2, _n3);
        var (exit, stdout, stderr) = await HibariAsync("--url", Url(_n1), "cluster", "init", _n1.NodeName, _n2.NodeName, _n3.NodeName);
        Assert.True(exit == 0, stderr + _h.Logs());
        foreach (var n in new[] { _n1, _n2, _n3 }) Assert.Contains(n.NodeName, stdout);
        foreach (var n in new[] { _n1, _n2, _n3 })
            await _h.EventuallyAsync($"{n.Name} serves", async () =>
                (await MultiProcess.Signaling.ConnectAndWaitForCloseAsync(n, n.SignalingPort)).Reason == MultiProcess.Signaling.Served, TimeSpan.FromSeconds(30));
    }

    /// <summary>The table's rows (header dropped) split into cells.</summary>
    private static List<string[]> TableRows(string table) =>
        table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

    private static JsonNode WithoutAges(JsonNode nodes)
    {
        var copy = nodes.DeepClone();
        foreach (var n in copy.AsArray()) n!.AsObject().Remove("load_report_age_ms");
        return copy;
    }

    [Fact]
    public async Task Cluster_init_nodes_mode_stats_and_errors_through_the_hibari_command()
    {
        await StartClusterWithTheCliAsync();
        var url = Url(_n1);

        // cluster nodes: three nodes, each connected (links come up after the init).
        await _h.EventuallyAsync("cluster nodes shows three connected nodes", async () =>
        {
            var (exit, stdout, _) = await HibariAsync("--url", url, "cluster", "nodes");
            var rows = TableRows(stdout);
            return exit == 0 && rows.Count == 3 && rows.All(r => r[1] == "true" && r[2] == "normal");
        });
        var (code, table, _) = await HibariAsync("cluster", "nodes", "--url", url);
        Assert.Equal(0, code);
        Assert.StartsWith("node_name", table);
        Assert.Contains("load_report_age_ms", table.Split('\n')[0]);
        Assert.Equal(new[] { _n1, _n2, _n3 }.Select(n => n.NodeName), TableRows(table).Select(r => r[0]));

        // --json: the API's answer as it is (but for the load reports' ages, which move between two calls).
        var (jsonExit, json, _) = await HibariAsync("--url", url, "--json", "cluster", "nodes");
        Assert.Equal(0, jsonExit);
        var api = await ClusterHarness.ListNodesAsync(_n1);
        Assert.True(JsonNode.DeepEquals(WithoutAges(api), WithoutAges(JsonNode.Parse(json)!)), json);

        // mode set / mode get, seen by the API too.
        var (setExit, set, _) = await HibariAsync("--url", url, "mode", "set", "block_new_session");
        Assert.Equal((0, "block_new_session\n"), (setExit, set));
        // The mode is replicated (C-MODE-1): ChangeMode answers once it is committed, n1 may apply it a moment later.
        await _h.EventuallyAsync("mode get says block_new_session", async () =>
            await HibariAsync("--url", url, "mode", "get") == (0, "block_new_session\n", ""));
        Assert.Equal("block_new_session", (string?)(await _n1.ApiAsync("Sora_20211215.GetMode")).Body!["mode"]);
        Assert.Equal(0, (await HibariAsync("--url", url, "mode", "set", "normal")).Exit);

        // stats: the counters and the cluster block.
        var (statsExit, stats, _) = await HibariAsync("--url", url, "stats");
        Assert.Equal(0, statsExit);
        Assert.Contains("total_ongoing_connections", stats);
        Assert.Contains("\ncluster\n  raft_state ", stats);
        Assert.Contains("  raft_term ", stats);

        // cluster channels: a table (the "serves" probes' channels may still be there, each with its owner).
        var (chExit, channels, _) = await HibariAsync("--url", url, "cluster", "channels");
        Assert.Equal(0, chExit);
        Assert.Equal(["channel_id", "owners"], channels.Split('\n')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.All(TableRows(channels), r => Assert.Contains(r[1], new[] { _n1, _n2, _n3 }.Select(n => n.NodeName)));

        // API errors: non-zero, the API's error_type and message on stderr.
        var (purgeExit, purgeOut, purgeErr) = await HibariAsync("--url", url, "cluster", "purge", $"nobody@{Network}.9");
        Assert.Equal(1, purgeExit);
        Assert.Equal("", purgeOut);
        Assert.Equal($"hibari: 400 UnknownNode: nobody@{Network}.9 is not a member of this cluster\n", purgeErr);
        var (discExit, _, discErr) = await HibariAsync("--url", url, "disconnect", "no-such-channel", "--connection", "NOSUCHCONNECTION");
        Assert.Equal(1, discExit);
        Assert.Equal("hibari: 404 ConnectionNotFound: no such connection in the channel\n", discErr);

        // Usage errors: exit 2 with the usage, nothing called.
        foreach (var args in new[] { new[] { "cluster" }, ["mode", "set", "asleep"], ["disconnect", "ch", "--sender", "x"], ["--frobnicate", "stats"] })
        {
            var (usageExit, usageOut, usageErr) = await HibariAsync(["--url", url, .. args]);
            Assert.Equal(2, usageExit);
            Assert.Equal("", usageOut);
            Assert.Contains("Usage: hibari", usageErr);
        }
        var (helpExit, help, _) = await HibariAsync("--help");
        Assert.Equal(0, helpExit);
        Assert.Contains("request-rid", help);

        // A node that is not there: a clear message, exit 3.
        var (downExit, _, downErr) = await HibariAsync("--url", $"http://{Network}.9:{_n1.ApiPort}/", "--timeout", "10", "stats");
        Assert.Equal(3, downExit);
        Assert.StartsWith($"hibari: cannot reach http://{Network}.9:{_n1.ApiPort}/", downErr);
    }

    [Fact]
    public async Task A_channel_call_at_a_node_without_the_channel_follows_the_307_to_its_holder()
    {
        await StartClusterWithTheCliAsync();
        const string channel = "cli-307";
        var client = new SyntheticClient(new Uri($"ws://{_n2.Ip}:{_n2.SignalingPort}/signaling"), channel,
            new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(client);
        await client.ConnectAsync();
        Assert.NotNull(client.ConnectionId);

        // Placement may have sent the client on from n2: ask the cluster who holds the channel, then call another node.
        string[] owners = [];
        await _h.EventuallyAsync("n1 sees the channel's owner", async () =>
        {
            var (_, body, _) = await _n1.ApiAsync("Sora_20211215.ListClusterChannels");
            owners = body!.AsArray().Where(c => (string?)c!["channel_id"] == channel)
                .SelectMany(c => c!["owners"]!.AsArray().Select(o => (string)o!["node_name"]!)).ToArray();
            return owners.Length > 0;
        });
        var other = new[] { _n1, _n2, _n3 }.First(n => !owners.Contains(n.NodeName));
        var direct = await other.ApiAsync("Sora_20201013.ListChannelConnections", $$"""{"channel_id":"{{channel}}"}""");
        Assert.Equal(307, direct.Status); // the node itself answers with a redirect

        var (exit, stdout, stderr) = await HibariAsync("--url", Url(other), "connections", channel);
        Assert.True(exit == 0, stderr);
        var row = Assert.Single(TableRows(stdout));
        Assert.Equal([channel, client.ConnectionId!], row[..2]);
        Assert.Contains(owners.Single(), row);

        var (jsonExit, json, _) = await HibariAsync("--url", Url(other), "--json", "connections", channel);
        Assert.Equal(0, jsonExit);
        Assert.Equal(client.ConnectionId, (string?)Assert.Single(JsonNode.Parse(json)!.AsArray())!["connection_id"]);

        var (statsExit, stats, statsErr) = await HibariAsync("--url", Url(other), "stats", "connection", channel, client.ConnectionId!);
        Assert.True(statsExit == 0, statsErr);
        Assert.Contains(client.ConnectionId!, stats);

        var (sessionsExit, sessions, _) = await HibariAsync("--url", Url(other), "sessions");
        Assert.Equal(0, sessionsExit);
        Assert.Contains(channel, sessions);

        var (discExit, disc, discErr) = await HibariAsync("--url", Url(other), "disconnect", channel, "--connection", client.ConnectionId!);
        Assert.True(discExit == 0, discErr);
        Assert.Equal("ok\n", disc);
        await _h.EventuallyAsync("the connection is gone", async () =>
        {
            var (_, after, _) = await HibariAsync("--url", Url(other), "--json", "connections", channel);
            return JsonNode.Parse(after)!.AsArray().Count == 0;
        });
    }
}
