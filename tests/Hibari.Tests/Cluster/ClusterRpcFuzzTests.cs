using Hibari.Cluster;
using Hibari.Cluster.Links;
using Hibari.Cluster.Membership;
using Hibari.Cluster.State;
using Hibari.Config;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Cluster;

/// <summary>Cluster requests from an authenticated peer that are garbage, truncated or unknown give a clean error.</summary>
public class ClusterRpcFuzzTests
{
    private static readonly HibariOptions Options = new()
    {
        Cluster = true, NodeName = "n1@127.0.0.1", ClusterSecret = "fuzz-secret", ExternalApiUrl = "http://127.0.0.1:3000/",
        ExternalSignalingUrl = "ws://127.0.0.1:5000/signaling", DataDir = Path.Combine(Path.GetTempPath(), "hibari-rpc-fuzz"),
    };

    [Fact]
    public async Task Garbage_and_truncated_requests_are_refused_with_clean_errors()
    {
        await using var service = new ClusterService(Options, NullLoggerFactory.Instance);
        INodeLinkHandler handler = service;
        var valid = new List<byte[]>
        {
            ClusterRpc.Request(ClusterRpc.Op.Identify),
            ClusterRpc.Request(ClusterRpc.Op.GetState, w => w.Int64(3).String("inc")),
            ClusterRpc.Request(ClusterRpc.Op.Execute, w => w.Bytes(new ClusterCommand.ClaimSession("c", "s", "n", 1).Encode())),
            ClusterRpc.Request(ClusterRpc.Op.PurgeAtLeader, w => w.String("n2@127.0.0.2")),
            ClusterRpc.Request(ClusterRpc.Op.Bootstrap, w => w.Int32(1)),
            ClusterRpc.Request(ClusterRpc.Op.JoinAtLeader, w => w.String("x")),
        };
        var rng = new Random(2026);
        var refused = 0;
        for (var i = 0; i < 20_000; i++)
        {
            byte[] data;
            var pick = valid[rng.Next(valid.Count)];
            switch (i % 3)
            {
                case 0: data = new byte[rng.Next(0, 48)]; rng.NextBytes(data); break;
                case 1: data = pick[..rng.Next(0, pick.Length + 1)]; break;
                default:
                    data = (byte[])pick.Clone();
                    data[rng.Next(data.Length)] = (byte)rng.Next(256);
                    break;
            }
            try
            {
                await handler.OnRequestAsync("peer@127.0.0.9", data, CancellationToken.None);
            }
            catch (Exception e) when (e is InvalidOperationException or NotLeaderException)
            {
                refused++;
            }
        }
        Assert.True(refused > 10_000, $"only {refused} refused");
    }

    [Fact]
    public async Task A_node_that_is_not_leader_refuses_leader_only_requests()
    {
        await using var service = new ClusterService(Options, NullLoggerFactory.Instance);
        INodeLinkHandler handler = service;
        var execute = ClusterRpc.Request(ClusterRpc.Op.Execute, w => w.Bytes(new ClusterCommand.SetMode("n1@127.0.0.1", "normal").Encode()));
        await Assert.ThrowsAsync<NotLeaderException>(() => handler.OnRequestAsync("p@127.0.0.2", execute, CancellationToken.None).AsTask());
    }
}
