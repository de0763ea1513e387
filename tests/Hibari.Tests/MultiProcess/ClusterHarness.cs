using System.Text.Json.Nodes;

namespace Hibari.Tests.MultiProcess;

/// <summary>Multi-process tests share loopback IPs and ports: they run one at a time.</summary>
[CollectionDefinition("processes", DisableParallelization = true)]
public sealed class ProcessCollection;

/// <summary>
/// Several real nodes on 127.0.0.1–127.0.0.4 (one IP each, the same ports), each with its own data_dir in a fresh
/// temporary folder; with another <c>network</c> (e.g. "127.0.3"), on NETWORK.1–4 instead, so tests that run at the same
/// time as the suite's cluster tests never share an address with them. Polls with generous deadlines: nothing here sleeps for a fixed time to wait for an effect.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    public const string Secret = "test-cluster-secret";
    private static int _slot;
    private readonly string _root;
    private readonly int _apiPort;
    private readonly int _signalingPort;

    /// <param name="network">The first three octets of the nodes' loopback addresses (node k on NETWORK.k).</param>
    public ClusterHarness(string network = "127.0.0")
    {
        Network = network;
        _root = Path.Combine(Path.GetTempPath(), "hibari-test-" + Guid.NewGuid().ToString("n")[..10]);
        Directory.CreateDirectory(_root);
        // Each harness gets its own API/signaling ports, so a socket of a previous test in TIME_WAIT never matters; both
        // below Linux's ephemeral range (32768–60999), where an outgoing connection of anything on the host could hold
        // the port (a signaling port of 33018 once was: "address already in use").
        var slot = Interlocked.Increment(ref _slot) % 200;
        _apiPort = 31000 + slot;
        _signalingPort = 29000 + slot;
    }

    public string Network { get; }

    public List<NodeProcess> Nodes { get; } = [];

    public NodeProcess Add(string name, int ipLastOctet, bool temporary = false, params string[] settings)
    {
        var ip = $"{Network}.{ipLastOctet}";
        var all = new List<string> { "cluster=true", $"cluster_secret={Secret}", "log_level=info" };
        if (temporary) all.Add("cluster_temporary_node=true");
        all.AddRange(settings);
        var node = new NodeProcess(name, ip, Path.Combine(_root, name), _apiPort, _signalingPort, all);
        Nodes.Add(node);
        return node;
    }

    public async Task StartAllAsync(params NodeProcess[] nodes)
    {
        foreach (var n in nodes) n.Start();
        foreach (var n in nodes) await n.WaitForApiAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Regular nodes n1..n3 on NETWORK.1–3 with <paramref name="settings"/>, one cluster (InitCluster on n1), each serving signaling.</summary>
    public async Task<(NodeProcess N1, NodeProcess N2, NodeProcess N3)> StartServingClusterAsync(params string[] settings)
    {
        var n1 = Add("n1", 1, settings: settings);
        var n2 = Add("n2", 2, settings: settings);
        var n3 = Add("n3", 3, settings: settings);
        await StartAllAsync(n1, n2, n3);
        await InitClusterAsync(n1, n1, n2, n3);
        foreach (var n in new[] { n1, n2, n3 })
            await EventuallyAsync($"{n.Name} serves", async () =>
                (await Signaling.ConnectAndWaitForCloseAsync(n, n.SignalingPort)).Reason == Signaling.Served, TimeSpan.FromSeconds(30));
        return (n1, n2, n3);
    }

    /// <summary>InitCluster on <paramref name="on"/>; asserts C-MEM-1's answer: 200 with the same node_name_list.</summary>
    public static async Task InitClusterAsync(NodeProcess on, params NodeProcess[] members)
    {
        var list = new JsonArray(members.Select(m => (JsonNode)JsonValue.Create(m.NodeName)!).ToArray());
        var (status, body, _) = await on.ApiAsync("Sora_20221221.InitCluster", new JsonObject { ["node_name_list"] = list }.ToJsonString());
        Assert.True(status == 200, $"InitCluster: {status} {body?.ToJsonString()}\n{on.Log}");
        Assert.Equal(members.Select(m => m.NodeName).Order(StringComparer.Ordinal),
            body!["node_name_list"]!.AsArray().Select(n => n!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    public static async Task<JsonArray> ListNodesAsync(NodeProcess on)
    {
        var (status, body, _) = await on.ApiAsync("Sora_20211215.ListClusterNodes");
        Assert.True(status == 200, $"ListClusterNodes on {on.Name}: {status} {body?.ToJsonString()}");
        return body!.AsArray();
    }

    /// <summary>Polls <paramref name="condition"/> until true; fails with <paramref name="what"/> and the nodes' logs.</summary>
    public async Task<TimeSpan> EventuallyAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        var start = DateTime.UtcNow;
        var deadline = start + (timeout ?? TimeSpan.FromSeconds(30));
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition()) return DateTime.UtcNow - start;
                last = null;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or NullReferenceException)
            {
                last = e;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"not true within {timeout ?? TimeSpan.FromSeconds(30)}: {what} (last error: {last?.Message})\n{Logs()}");
    }

    public string Logs() => string.Join("\n", Nodes.Select(n => $"----- {n.Name} -----\n{Tail(n.Log, 4000)}"));

    private static string Tail(string s, int n) => s.Length <= n ? s : s[^n..];

    public async ValueTask DisposeAsync()
    {
        foreach (var n in Nodes) await n.DisposeAsync();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
