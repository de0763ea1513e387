namespace Hibari.Tests.MultiProcess;

/// <summary>A node with nothing but a listen address: the README's "run one node with the defaults".</summary>
[Collection("processes")]
public sealed class SingleNodeTests : IAsyncLifetime
{
    private NodeProcess? _node;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hibari-bare-" + Guid.NewGuid().ToString("n")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_node is not null) await _node.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Node_with_only_listen_address_serves_the_api_on_default_ports()
    {
        _node = new NodeProcess("bare", "127.0.0.2", _dir, 3000, 5000, [], bare: true);
        _node.Start();
        await _node.WaitForApiAsync(TimeSpan.FromSeconds(60));
        var (status, body, _) = await _node.ApiAsync("Sora_20211215.GetMode");
        Assert.Equal(200, status);
        Assert.Equal("normal", body!["mode"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20211215.ChangeMode", """{"mode":"block_new_session"}""");
        Assert.Equal(200, status);
        (status, body, _) = await _node.ApiAsync("Sora_20211215.GetMode");
        Assert.Equal("block_new_session", body!["mode"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20211215.ListClusterNodes");
        Assert.Equal(400, status);
        Assert.Equal("ClusterDisabled", body!["error_type"]!.GetValue<string>());
        (status, body, _) = await _node.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Equal(200, status);
        Assert.Null(body!["cluster"]);
        // Not a cluster node: signaling is not refused for cluster reasons, but the mode applies: the channel has no session.
        var (code, reason) = await Signaling.ConnectAndWaitForCloseAsync(_node, 5000);
        Assert.Equal(4413, code);
        Assert.Equal("MODE-BLOCK-NEW-SESSION", reason);
    }
}

/// <summary>Two cluster nodes on one IP, started at the same moment, must not race for a cluster port (C-CONF-8).</summary>
[Collection("processes")]
public sealed class SameHostPortTests : IAsyncLifetime
{
    private readonly List<NodeProcess> _nodes = [];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hibari-ports-" + Guid.NewGuid().ToString("n")[..8]);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Two_nodes_on_one_ip_take_distinct_ports_from_the_range_C_CONF_8()
    {
        string[] common = ["cluster=true", $"cluster_secret={ClusterHarness.Secret}", "cluster_listen_min_port=49100", "cluster_listen_max_port=49104"];
        var a = new NodeProcess("pa", "127.0.0.1", Path.Combine(_dir, "pa"), 31400, 29400, common);
        var b = new NodeProcess("pb", "127.0.0.1", Path.Combine(_dir, "pb"), 31401, 29401, common);
        _nodes.AddRange([a, b]);
        a.Start();
        b.Start();
        await a.WaitForApiAsync(TimeSpan.FromSeconds(60));
        await b.WaitForApiAsync(TimeSpan.FromSeconds(60));
        static int[] Ports(NodeProcess n) => File.ReadAllLines(Path.Combine(n.DataDir, "cluster-ports"))
            .Select(l => int.Parse(l.Split('=')[1])).ToArray();
        var all = Ports(a).Concat(Ports(b)).ToArray();
        Assert.Equal(4, all.Distinct().Count());
        Assert.All(all, p => Assert.InRange(p, 49100, 49104));
        // And they can form a cluster with each other (both answer discovery on their own ports).
        var (status, body, _) = await a.ApiAsync("Sora_20221221.InitCluster", """{"node_name_list":["pa@127.0.0.1","pb@127.0.0.1"]}""");
        Assert.True(status == 200, body?.ToJsonString() + a.Log + b.Log);
    }
}
