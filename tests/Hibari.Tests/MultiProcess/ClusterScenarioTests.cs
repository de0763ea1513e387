using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Hibari.Tests.MultiProcess;

/// <summary>
/// Real Hibari.Server processes, 3 regular + 1 temporary on 127.0.0.1–127.0.0.4, killed with SIGKILL, frozen with
/// SIGSTOP, restarted. Each test names the rules it proves.
/// </summary>
[Collection("processes")]
public sealed class ClusterScenarioTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ClusterHarness _h = new();
    private NodeProcess _n1 = null!, _n2 = null!, _n3 = null!, _t4 = null!;

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _h.DisposeAsync();

    private async Task StartClusterAsync(bool withTemporary = true, params string[] settings)
    {
        _n1 = _h.Add("n1", 1, settings: settings);
        _n2 = _h.Add("n2", 2, settings: settings);
        _n3 = _h.Add("n3", 3, settings: settings);
        if (withTemporary)
        {
            _t4 = _h.Add("t4", 4, temporary: true, settings: settings);
            await _h.StartAllAsync(_n1, _n2, _n3, _t4);
        }
        else await _h.StartAllAsync(_n1, _n2, _n3);
        var sw = Stopwatch.StartNew();
        await ClusterHarness.InitClusterAsync(_n1, _n1, _n2, _n3);
        output.WriteLine($"InitCluster answered after {sw.ElapsedMilliseconds} ms");
        await AllConnectedAsync(_n1, [_n1, _n2, _n3]);
        await AvailableAsync(_n1, _n2, _n3);
        output.WriteLine($"InitCluster -> all available after {sw.ElapsedMilliseconds} ms");
        if (withTemporary)
        {
            var (status, body, _) = await _t4.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""");
            Assert.True(status == 200, $"RegisterClusterNode: {status} {body?.ToJsonString()}\n{_h.Logs()}");
            // C-MEM-2: the answer lists every member, the new one included.
            Assert.Equal(new[] { _n1, _n2, _n3, _t4 }.Select(n => n.NodeName).Order(StringComparer.Ordinal),
                body!["node_name_list"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
            await AllConnectedAsync(_n2, [_n1, _n2, _n3, _t4]);
            await AvailableAsync(_t4);
        }
    }

    private Task AllConnectedAsync(NodeProcess on, NodeProcess[] expected) =>
        _h.EventuallyAsync($"{on.Name} lists {string.Join(",", expected.Select(e => e.Name))} connected", async () =>
        {
            var nodes = await ClusterHarness.ListNodesAsync(on);
            return expected.All(e => nodes.Any(n => n!["node_name"]!.GetValue<string>() == e.NodeName && n["connected"]!.GetValue<bool>()));
        });

    private static Task<bool> IsAvailableAsync(NodeProcess n) => n.IsAvailableAsync();

    private static Task<string> MetricsAsync(NodeProcess n) => n.MetricsAsync();

    private async Task AvailableAsync(params NodeProcess[] nodes)
    {
        foreach (var n in nodes)
            await _h.EventuallyAsync($"{n.Name} available", () => IsAvailableAsync(n), TimeSpan.FromSeconds(30));
    }

    private static async Task<int> ChangeModeAsync(NodeProcess n, string mode)
    {
        var (status, _, _) = await n.ApiAsync("Sora_20211215.ChangeMode", $$"""{"mode":"{{mode}}"}""");
        return status;
    }

    private static async Task<bool> ListedConnectedAsync(NodeProcess on, NodeProcess target, bool connected)
    {
        var nodes = await ClusterHarness.ListNodesAsync(on);
        return nodes.Any(n => n!["node_name"]!.GetValue<string>() == target.NodeName && n["connected"]!.GetValue<bool>() == connected);
    }

    private static async Task<bool> ListedAsync(NodeProcess on, NodeProcess target) =>
        (await ClusterHarness.ListNodesAsync(on)).Any(n => n!["node_name"]!.GetValue<string>() == target.NodeName);

    [Fact]
    public async Task Uninitialised_cluster_node_refuses_signaling_with_a_reason_C_CONF_1()
    {
        var n = _h.Add("solo", 1);
        await _h.StartAllAsync(n);
        var (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(n, n.SignalingPort);
        Assert.Equal(4501, code);
        Assert.Equal("CLUSTER-NOT-INITIALIZED", reason);
        var (status, body, _) = await n.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"normal"}""");
        Assert.Equal(503, status);
        Assert.Equal("ClusterNotInitialized", body!["error_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Init_register_kill_minority_restart_C_MEM_1_C_MEM_2_C_MEM_5_C_MAJ_1_C_MAJ_2_C_MAJ_3_C_MEM_3()
    {
        await StartClusterAsync();
        // C-MEM-5: every node answers ListClusterNodes with every field, temporary_node set for t4.
        foreach (var on in new[] { _n1, _n2, _n3, _t4 })
        {
            await _h.EventuallyAsync($"{on.Name} lists 4 nodes", async () => (await ClusterHarness.ListNodesAsync(on)).Count == 4);
            var nodes = await ClusterHarness.ListNodesAsync(on);
            var t4 = nodes.Single(n => n!["node_name"]!.GetValue<string>() == _t4.NodeName)!;
            Assert.True(t4["temporary_node"]!.GetValue<bool>());
            Assert.Equal("ws://127.0.0.4:" + _t4.SignalingPort + "/signaling", t4["external_signaling_url"]!.GetValue<string>());
            Assert.Equal("normal", t4["mode"]!.GetValue<string>());
            Assert.Equal(1000, t4["license_max_connections"]!.GetValue<int>());
        }
        var (_, stats, _) = await _n1.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Contains(stats!["cluster"]!["raft_state"]!.GetValue<string>(), new[] { "leader", "follower" });
        Assert.True(stats["cluster"]!["raft_commit_index"]!.GetValue<long>() > 0);

        // One regular node dies: writes still commit (ChangeMode is a replicated write), it is listed connected:false.
        _n3.Kill();
        await _h.EventuallyAsync("n3 listed connected:false on n1", () => ListedConnectedAsync(_n1, _n3, false));
        await _h.EventuallyAsync("write accepted with 2 of 3", async () => await ChangeModeAsync(_n2, "block_new_session") == 200);
        await _h.EventuallyAsync("mode replicated to n1's view", async () =>
            (await ClusterHarness.ListNodesAsync(_n1)).Any(n => n!["node_name"]!.GetValue<string>() == _n2.NodeName
                                                              && n["mode"]!.GetValue<string>() == "block_new_session"));
        Assert.True(await IsAvailableAsync(_n1));
        Assert.True(await IsAvailableAsync(_t4));

        // A second one dies: the survivor and the temporary node stop serving within 3 s (C-MAJ-2, C-MAJ-1).
        var killed = Stopwatch.StartNew();
        _n2.Kill();
        var survivor = await _h.EventuallyAsync("n1 unavailable", async () => !await IsAvailableAsync(_n1), TimeSpan.FromSeconds(10));
        var temp = await _h.EventuallyAsync("t4 unavailable", async () => !await IsAvailableAsync(_t4), TimeSpan.FromSeconds(10));
        output.WriteLine($"minority detected: n1 after {survivor.TotalMilliseconds:F0} ms, t4 after {killed.ElapsedMilliseconds} ms");
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(3), $"minority detection took {killed.ElapsedMilliseconds} ms");
        var (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(_n1, _n1.SignalingPort);
        Assert.Equal(4502, code);
        Assert.Equal("CLUSTER-MAJORITY-LOST", reason);
        (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(_t4, _t4.SignalingPort);
        Assert.Equal(4502, code);

        // Both come back: everyone serves again with no API call (C-MEM-3 auto-rejoin, C-MAJ-3 recovery).
        _n2.Start();
        _n3.Start();
        await AvailableAsync(_n1, _n2, _n3, _t4);
        await AllConnectedAsync(_n3, [_n1, _n2, _n3, _t4]);
        var (_, r2) = await Signaling.ConnectAndWaitForCloseAsync(_n1, _n1.SignalingPort);
        Assert.Equal(Signaling.Served, r2);
    }

    [Fact]
    public async Task Temporary_node_removed_after_kill_and_back_after_freeze_C_CONF_9_C_MEM_3_C_MAJ_3_C_MEM_7()
    {
        await StartClusterAsync();
        await AllConnectedAsync(_n1, [_n1, _n2, _n3, _t4]);
        // C-MEM-7: temporary nodes cannot be purged.
        var (status, body, _) = await _n1.ApiAsync("Sora_20220629.PurgeClusterNode", """{"target_node_name":"t4@127.0.0.4"}""");
        Assert.Equal(400, status);
        Assert.Equal("TemporaryNode", body!["error_type"]!.GetValue<string>());

        // Frozen (still running, cut off): expires, then returns by itself after SIGCONT (C-MAJ-3).
        _t4.Freeze();
        await _h.EventuallyAsync("frozen t4 expired", async () => !await ListedAsync(_n1, _t4), TimeSpan.FromSeconds(10));
        _t4.Thaw();
        await _h.EventuallyAsync("t4 back by itself", () => ListedConnectedAsync(_n1, _t4, true), TimeSpan.FromSeconds(15));
        await AvailableAsync(_t4);

        // Killed and started again at once: the old registration expires within 5 s anyway, because the lease is renewed
        // only by the process that registered (the new process has a new incarnation), and the new process is not a
        // member until it is registered again (C-MEM-3).
        foreach (var n in new[] { _n1, _n2, _n3 }) await _h.EventuallyAsync($"{n.Name} lists t4", () => ListedConnectedAsync(n, _t4, true));
        var sw = Stopwatch.StartNew();
        _t4.Kill();
        _t4.Start();
        await _h.EventuallyAsync("killed t4 removed everywhere", async () =>
            !await ListedAsync(_n1, _t4) && !await ListedAsync(_n2, _t4) && !await ListedAsync(_n3, _t4), TimeSpan.FromSeconds(10));
        output.WriteLine($"temporary node removed {sw.ElapsedMilliseconds} ms after SIGKILL");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"removal took {sw.ElapsedMilliseconds} ms");
        await _t4.WaitForApiAsync(TimeSpan.FromSeconds(60));
        var (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(_t4, _t4.SignalingPort);
        Assert.Equal(4501, code);
        Assert.Equal("CLUSTER-NOT-INITIALIZED", reason);
        (status, body, _) = await _t4.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n2@127.0.0.2"}""");
        Assert.True(status == 200, body?.ToJsonString());
        await _h.EventuallyAsync("t4 registered again", () => ListedConnectedAsync(_n1, _t4, true));
    }

    [Fact]
    public async Task Purged_node_is_gone_everywhere_and_cannot_auto_rejoin_C_MEM_4()
    {
        await StartClusterAsync(withTemporary: false);
        // Refused while it still runs, and for the node itself.
        var (status, body, _) = await _n1.ApiAsync("Sora_20220629.PurgeClusterNode", """{"target_node_name":"n3@127.0.0.3"}""");
        Assert.Equal(400, status);
        Assert.Equal("NodeStillRunning", body!["error_type"]!.GetValue<string>());
        _n3.Kill();
        await _h.EventuallyAsync("n3 disconnected", () => ListedConnectedAsync(_n1, _n3, false));
        (status, body, _) = await _n1.ApiAsync("Sora_20220629.PurgeClusterNode", """{"target_node_name":"n3@127.0.0.3"}""");
        Assert.True(status == 200, body?.ToJsonString() + _h.Logs());
        await _h.EventuallyAsync("n3 gone on n1 and n2", async () => !await ListedAsync(_n1, _n3) && !await ListedAsync(_n2, _n3));

        // Restarted with its old data_dir, it must not come back.
        _n3.Start();
        await _n3.WaitForApiAsync(TimeSpan.FromSeconds(60));
        await _h.EventuallyAsync("purged n3 knows it is out", async () =>
        {
            var (c, _) = await Signaling.ConnectAndWaitForCloseAsync(_n3, _n3.SignalingPort);
            return c == 4501;
        }, TimeSpan.FromSeconds(30));
        Assert.False(await ListedAsync(_n1, _n3));
        Assert.False(await ListedAsync(_n2, _n3));
        // The two remaining nodes are a majority of the two remaining regular nodes and keep writing.
        Assert.Equal(200, await ChangeModeAsync(_n1, "normal"));
        // A purged name cannot register again either.
        (status, body, _) = await _n3.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""");
        Assert.Equal(400, status);
        Assert.Contains("purged", body!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Full_cluster_kill_and_restart_keeps_the_replicated_state_releases_stale_sessions_and_claims_agree_C_MAJ_4_C_MEM_6()
    {
        await StartClusterAsync(withTemporary: false, "debug_api=true");
        // Three concurrent claims of one new channel from three nodes: one session, one winner, the same everywhere.
        var claims = await Task.WhenAll(new[] { _n1, _n2, _n3 }.Select(n => n.ApiAsync(
            "Sora_20261202.HibariDebugClaimSession", """{"channel_id":"race"}""")));
        Assert.All(claims, c => Assert.True(c.Status == 200, c.Body?.ToJsonString()));
        Assert.Single(claims.Select(c => c.Body!["session_id"]!.GetValue<string>()).Distinct());
        Assert.Single(claims, c => c.Body!["created"]!.GetValue<bool>());
        Assert.Equal(200, await ChangeModeAsync(_n3, "block_new_connection"));
        await _h.EventuallyAsync("channel listed with three owners on every node", async () =>
        {
            foreach (var n in new[] { _n1, _n2, _n3 })
            {
                var (_, ch, _) = await n.ApiAsync("Sora_20211215.ListClusterChannels");
                var race = ch!.AsArray().SingleOrDefault(c => c!["channel_id"]!.GetValue<string>() == "race");
                if (race is null || race["owners"]!.AsArray().Count != 3) return false;
            }
            return true;
        });

        foreach (var n in new[] { _n1, _n2, _n3 }) n.Kill();
        foreach (var n in new[] { _n1, _n2, _n3 }) n.Start();
        await AvailableAsync(_n1, _n2, _n3);
        // Every write acknowledged before the kill is back on every node (the new leader's barrier commits them): the mode.
        // The sessions are not: no node holds them after the restart, so each owner releases its stale ownership and the
        // last release ends the session (one can only release what was restored).
        foreach (var n in new[] { _n1, _n2, _n3 })
            await _h.EventuallyAsync($"state restored on {n.Name}, stale session released", async () =>
            {
                var nodes = await ClusterHarness.ListNodesAsync(n);
                var (_, ch, _) = await n.ApiAsync("Sora_20211215.ListClusterChannels");
                return nodes.Count == 3
                       && nodes.Single(x => x!["node_name"]!.GetValue<string>() == _n3.NodeName)!["mode"]!.GetValue<string>() == "block_new_connection"
                       && !ch!.AsArray().Any(c => c!["channel_id"]!.GetValue<string>() == "race");
            }, TimeSpan.FromSeconds(20));
        Assert.Contains("Released the stale ownership of session " + claims[0].Body!["session_id"]!.GetValue<string>(), _n1.Log + _n2.Log + _n3.Log);
        // The channel's next claims start one new session, the same from every node.
        var again = await Task.WhenAll(new[] { _n1, _n2, _n3 }.Select(n => n.ApiAsync(
            "Sora_20261202.HibariDebugClaimSession", """{"channel_id":"race"}""")));
        Assert.Single(again.Select(c => c.Body!["session_id"]!.GetValue<string>()).Distinct());
        Assert.NotEqual(claims[0].Body!["session_id"]!.GetValue<string>(), again[0].Body!["session_id"]!.GetValue<string>());
        Assert.Single(again, c => c.Body!["created"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Rebuild_after_permanent_quorum_loss_with_InitCluster_C_MEM_1()
    {
        await StartClusterAsync(withTemporary: false, "debug_api=true");
        _n2.Kill();
        _n3.Kill();
        await _h.EventuallyAsync("n1 unavailable", async () => !await IsAvailableAsync(_n1));
        // C-MAJ-2: a minority node refuses new channel assignments.
        var claim = await _n1.ApiAsync("Sora_20261202.HibariDebugClaimSession", """{"channel_id":"after-loss"}""");
        Assert.Equal(503, claim.Status);
        Assert.Equal("ClusterUnavailable", claim.Body!["error_type"]!.GetValue<string>());
        // n2 and n3 are gone for good; two fresh nodes take their place.
        var f2 = _h.Add("f2", 2);
        var f3 = _h.Add("f3", 3);
        await _h.StartAllAsync(f2, f3);
        await ClusterHarness.InitClusterAsync(_n1, _n1, f2, f3);
        await AvailableAsync(_n1, f2, f3);
        foreach (var n in new[] { _n1, f2, f3 })
            await _h.EventuallyAsync($"{n.Name} lists exactly the new members", async () =>
            {
                var names = (await ClusterHarness.ListNodesAsync(n)).Select(x => x!["node_name"]!.GetValue<string>()).Order().ToArray();
                return names.SequenceEqual(["f2@127.0.0.2", "f3@127.0.0.3", "n1@127.0.0.1"]);
            });
        Assert.Equal(200, await ChangeModeAsync(f3, "normal"));
    }

    [Fact]
    public async Task Wrong_secret_on_the_cluster_port_is_refused_and_the_cluster_is_unaffected()
    {
        await StartClusterAsync(withTemporary: false);
        // A node with another secret cannot be found or join.
        var rogue = _h.Add("rogue", 4, settings: "cluster_secret=another-secret-value");
        await _h.StartAllAsync(rogue);
        var (status, body, _) = await rogue.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""");
        Assert.Equal(400, status);
        // Raw TCP clients speaking garbage to every port of n1's cluster range.
        for (var port = 49010; port <= 49020; port++)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", port);
                var s = tcp.GetStream();
                await s.WriteAsync(new byte[] { 1, 2, 0xff, 0xff, 0xff, 0xff, 9, 9, 9 });
                s.ReadTimeout = 2000;
                var buf = new byte[256];
                try { while (await s.ReadAsync(buf) > 0) { } } catch (IOException) { }
            }
            catch (SocketException) { }
        }
        await _h.EventuallyAsync("auth failures counted", async () =>
        {
            var m = await MetricsAsync(_n1);
            var line = m.Split('\n').FirstOrDefault(l => l.StartsWith("hibari_cluster_link_auth_failures_total "));
            return line is not null && double.Parse(line.Split(' ')[1]) > 0;
        });
        Assert.False(await ListedAsync(_n1, rogue));

        // The Raft port speaks mutual TLS keyed by cluster_secret: a certificate made with another secret is refused,
        // one made with the cluster's secret is accepted (the control that shows this check can fail).
        var raftPort = int.Parse(File.ReadAllLines(Path.Combine(_n1.DataDir, "cluster-ports")).Single(l => l.StartsWith("raft=")).Split('=')[1]);
        // n1 counts each refused handshake: the wrong secret adds one, the right one none (the outcome of the server's
        // check itself, not only a socket that stayed open).
        async Task<double> RefusedAsync() => double.Parse((await MetricsAsync(_n1)).Split('\n')
            .Single(l => l.StartsWith("hibari_cluster_raft_tls_refused_total ", StringComparison.Ordinal)).Split(' ')[1]);
        var refusedBefore = await RefusedAsync();
        Assert.False(await TlsHandshakeAsync(raftPort, "another-secret-value"));
        await _h.EventuallyAsync("n1 counted the refused handshake", async () => await RefusedAsync() == refusedBefore + 1);
        Assert.True(await TlsHandshakeAsync(raftPort, ClusterHarness.Secret));
        Assert.Equal(refusedBefore + 1, await RefusedAsync());
        Assert.Equal(200, await ChangeModeAsync(_n1, "normal"));
        await AllConnectedAsync(_n2, [_n1, _n2, _n3]);
        Assert.True(await IsAvailableAsync(_n1));
    }

    private static async Task<bool> TlsHandshakeAsync(int port, string secret)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port);
        var cert = Hibari.Cluster.Membership.RaftTransportSecurity.MakeCertificate(secret);
        using var ssl = new System.Net.Security.SslStream(tcp.GetStream(), false);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await ssl.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "hibari-raft",
                ClientCertificates = [cert],
                RemoteCertificateValidationCallback = (_, c, _, _) => c is not null,
            }, cts.Token);
            // The server checks the client certificate during the handshake; with TLS 1.3 a refusal can surface on the first read.
            ssl.ReadTimeout = 3000;
            var buf = new byte[1];
            var read = ssl.ReadAsync(buf).AsTask();
            var done = await Task.WhenAny(read, Task.Delay(1500));
            return done != read; // still open (server waits for a Raft request) = accepted
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            return false;
        }
    }

    /// <summary>Issue 13 part 5: a cluster_secret shorter than 16 characters is warned about at start; a long one is not.</summary>
    [Fact]
    public async Task A_short_cluster_secret_is_warned_about_at_start()
    {
        var shortSecret = _h.Add("n1", 1, settings: "cluster_secret=short-secret");
        var longSecret = _h.Add("n2", 2);
        await _h.StartAllAsync(shortSecret, longSecret);
        await _h.EventuallyAsync("n1 warns about its 12-character secret", () => Task.FromResult(
            shortSecret.Log.Contains("cluster_secret is 12 characters: use at least 16", StringComparison.Ordinal)));
        await _h.EventuallyAsync("n2 up", () => Task.FromResult(longSecret.Log.Contains("Hibari ", StringComparison.Ordinal) && longSecret.Log.Contains(" up: ", StringComparison.Ordinal)));
        Assert.DoesNotContain("cluster_secret is", longSecret.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 13, D-42: every node-to-node connection leaves from the node's own address. On loopback the kernel would pick
    /// 127.0.0.1 for all of them; then cutting one node's address (a partition test, a firewall rule) misses its Raft
    /// traffic. Seen from outside with `ss`: each connection to a node's Raft or cluster-link port comes from another
    /// node's address. The Raft leader is moved off n1 (127.0.0.1) first, so that a connection the old transport would
    /// have sent from 127.0.0.1 (the leader's to n1) exists and is checked.
    /// </summary>
    [Fact]
    public async Task Node_to_node_connections_leave_from_each_nodes_own_address()
    {
        await StartClusterAsync(withTemporary: false);
        NodeProcess[] nodes = [_n1, _n2, _n3];
        async Task<NodeProcess?> LeaderAsync(IEnumerable<NodeProcess> among)
        {
            foreach (var n in among)
                if (await n.IsRaftLeaderAsync()) return n;
            return null;
        }
        NodeProcess? leader = null;
        await _h.EventuallyAsync("a Raft leader", async () => (leader = await LeaderAsync(nodes)) is not null);
        if (leader == _n1)
        {
            _n1.Freeze(); // n2 and n3 elect one of them; n1 follows it once thawed
            await _h.EventuallyAsync("a leader other than n1", async () => (leader = await LeaderAsync([_n2, _n3])) is not null);
            _n1.Thaw();
            await AvailableAsync(_n1, _n2, _n3);
        }
        output.WriteLine($"leader: {leader!.Name}");
        var ports = nodes.ToDictionary(n => n, n => File.ReadAllLines(Path.Combine(n.DataDir, "cluster-ports"))
            .Select(l => l.Split('=')).Where(kv => kv.Length == 2 && int.TryParse(kv[1], out _)).ToDictionary(kv => kv[0], kv => int.Parse(kv[1])));
        Assert.All(ports.Values, p => Assert.True(p.ContainsKey("raft"), $"cluster-ports: {string.Join(",", p.Keys)}"));
        List<(string Local, string Peer)> connections = [];
        await _h.EventuallyAsync($"the leader's Raft connection to n1", async () =>
        {
            var ss = Process.Start(new ProcessStartInfo("ss", ["-tnH", "state", "established"]) { RedirectStandardOutput = true })!;
            var text = await ss.StandardOutput.ReadToEndAsync();
            await ss.WaitForExitAsync();
            connections = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 4).Select(f => (f[2], f[3])).ToList();
            return connections.Any(c => c.Peer == $"{_n1.Ip}:{ports[_n1]["raft"]}");
        });
        var checkedRaft = 0;
        foreach (var n in nodes)
            foreach (var (name, port) in ports[n])
            {
                var others = nodes.Where(o => o != n).Select(o => o.Ip).ToHashSet();
                foreach (var (local, _) in connections.Where(c => c.Peer == $"{n.Ip}:{port}"))
                {
                    output.WriteLine($"{name} port of {n.Name} ({n.Ip}:{port}) <- {local}");
                    Assert.Contains(local[..local.LastIndexOf(':')], others);
                    if (name == "raft") checkedRaft++;
                }
            }
        Assert.True(checkedRaft >= 2, $"{checkedRaft} Raft connections seen");
    }

    [Fact]
    public async Task Register_beyond_license_max_nodes_is_refused_and_temporary_nodes_cannot_be_initialised_C_MEM_8_C_MEM_7()
    {
        _n1 = _h.Add("n1", 1, settings: "license_max_nodes=2");
        _n2 = _h.Add("n2", 2, settings: "license_max_nodes=2");
        _n3 = _h.Add("n3", 3, settings: "license_max_nodes=2");
        _t4 = _h.Add("t4", 4, temporary: true, settings: "license_max_nodes=2");
        await _h.StartAllAsync(_n1, _n2, _n3, _t4);
        var list = """{"node_name_list":["n1@127.0.0.1","t4@127.0.0.4"]}""";
        var (status, body, _) = await _n1.ApiAsync("Sora_20221221.InitCluster", list);
        Assert.Equal(400, status);
        Assert.Equal("TemporaryNode", body!["error_type"]!.GetValue<string>());
        (status, body, _) = await _n1.ApiAsync("Sora_20221221.InitCluster", """{"node_name_list":["n1@127.0.0.1","n2@127.0.0.2","n3@127.0.0.3"]}""");
        Assert.Equal(400, status);
        Assert.Equal("LicenseMaxNodesExceeded", body!["error_type"]!.GetValue<string>());
        await ClusterHarness.InitClusterAsync(_n1, _n1, _n2);
        await AvailableAsync(_n1, _n2);
        (status, body, _) = await _n3.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n1@127.0.0.1"}""");
        Assert.Equal(400, status);
        Assert.Contains("license_max_nodes", body!["message"]!.GetValue<string>());
        (status, body, _) = await _t4.ApiAsync("Sora_20211215.RegisterClusterNode", """{"contact_node_name":"n2@127.0.0.2"}""");
        Assert.Equal(400, status);
        Assert.False(await ListedAsync(_n1, _n3));
    }
}
