using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Hibari.Cluster.Links;
using Xunit.Abstractions;

namespace Hibari.Tests.Links;

/// <summary>Reaching nodes outside the mesh: one-shot requests by endpoint and port-range discovery.</summary>
public class NodeLinkBootstrapTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_request_by_endpoint_to_a_node_outside_the_mesh_uses_a_one_shot_connection()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var newcomer = TestNode.Start("new@127.0.0.1");
        var clock = Stopwatch.StartNew();

        var answer = await newcomer.Host.RequestAsync(a.EndPoint, "join"u8.ToArray(), RequestTimeout, CancellationToken.None);

        output.WriteLine($"one-shot dial + handshake + request: {clock.Elapsed.TotalMilliseconds:0.0} ms");
        Assert.Equal("echo:join", Encoding.UTF8.GetString(answer));
        Assert.Equal(1, newcomer.Host.Counters.OneShotConnections);
        await LinkTestKit.Until(() => a.Host.Counters.OneShotConnections == 1, "a counted the one-shot");
        Assert.Empty(a.Handler.Transitions); // a one-shot is no mesh link: no OnPeerUp/OnPeerDown
        Assert.Empty(newcomer.Handler.Transitions);
        Assert.False(a.Host.IsConnected(newcomer.Name));
    }

    [Fact]
    public async Task A_request_by_endpoint_to_a_connected_peer_uses_the_mesh_link()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);

        var answer = await a.Host.RequestAsync(b.EndPoint, "via-mesh"u8.ToArray(), RequestTimeout, CancellationToken.None);

        Assert.Equal("echo:via-mesh", Encoding.UTF8.GetString(answer));
        Assert.Equal(0, a.Host.Counters.OneShotConnections);
        Assert.Equal(0, b.Host.Counters.OneShotConnections);
    }

    [Fact]
    public async Task A_one_shot_request_carries_the_remote_handlers_error()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        a.Handler.Respond = (_, _, _) => throw new InvalidOperationException("not the leader");
        await using var newcomer = TestNode.Start("new@127.0.0.1");

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => newcomer.Host.RequestAsync(a.EndPoint, "x"u8.ToArray(), RequestTimeout, CancellationToken.None));

        Assert.Contains("not the leader", error.Message);
    }

    [Fact]
    public async Task A_one_shot_request_fails_with_NodeLinkException_for_a_closed_port_a_silent_port_or_a_wrong_secret()
    {
        await using var newcomer = TestNode.Start("new@127.0.0.1");
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var closedEndPoint = (IPEndPoint)closed.LocalEndpoint;
        closed.Stop();
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using var other = TestNode.Start("other@127.0.0.1", LinkTestKit.Options("other@127.0.0.1", secret: "another-cluster"));
        try
        {
            await Assert.ThrowsAsync<NodeLinkException>(() => newcomer.Host.RequestAsync(closedEndPoint, "x"u8.ToArray(), RequestTimeout, CancellationToken.None));
            var timedOut = await Assert.ThrowsAsync<NodeLinkException>(() => newcomer.Host.RequestAsync((IPEndPoint)silent.LocalEndpoint, "x"u8.ToArray(), TimeSpan.FromMilliseconds(500), CancellationToken.None));
            Assert.Contains("timed out", timedOut.Message);
            await Assert.ThrowsAsync<NodeLinkException>(() => newcomer.Host.RequestAsync(other.EndPoint, "x"u8.ToArray(), RequestTimeout, CancellationToken.None));
            Assert.Equal(0, other.Handler.Calls);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task Discover_finds_the_named_node_among_a_silent_listener_a_free_port_and_another_node()
    {
        var ports = LinkTestKit.ReserveConsecutivePorts(IPAddress.Loopback, 4);
        var silent = ports[0];                  // accepts and never speaks, like a Raft listener
        ports[1].Stop();                        // nothing listens here
        await using var other = TestNode.Start("other@127.0.0.1", listener: ports[2]);
        await using var target = TestNode.Start("target@127.0.0.1", listener: ports[3]);
        await using var seeker = TestNode.Start("seeker@127.0.0.1");
        int min = ((IPEndPoint)silent.LocalEndpoint).Port;
        try
        {
            var clock = Stopwatch.StartNew();
            var found = await seeker.Host.DiscoverAsync("127.0.0.1", target.Name, min, min + 3, CancellationToken.None);
            output.WriteLine($"found in {clock.Elapsed.TotalMilliseconds:0.0} ms");

            Assert.Equal((target.Name, target.EndPoint), found);
            Assert.Equal(0, target.Handler.Calls); // a probe is no mesh link
            Assert.Equal(0, other.Host.Counters.OneShotConnections); // wrong name: the probe stopped at the Challenge
            Assert.Equal(0, other.Host.Counters.AuthFailures);

            clock.Restart();
            var missing = await seeker.Host.DiscoverAsync("127.0.0.1", "absent@127.0.0.1", min, min + 3, CancellationToken.None);
            output.WriteLine($"absent node: null after {clock.Elapsed.TotalMilliseconds:0.0} ms (the silent port costs the probe timeout)");
            Assert.Null(missing);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        }
        finally
        {
            silent.Stop();
        }
    }

    [Fact]
    public async Task Discover_does_not_accept_a_node_of_the_same_name_with_another_secret()
    {
        var ports = LinkTestKit.ReserveConsecutivePorts(IPAddress.Loopback, 1);
        await using var impostor = TestNode.Start("target@127.0.0.1", LinkTestKit.Options("target@127.0.0.1", secret: "another-cluster"), listener: ports[0]);
        await using var seeker = TestNode.Start("seeker@127.0.0.1");
        int port = impostor.EndPoint.Port;

        var found = await seeker.Host.DiscoverAsync("127.0.0.1", "target@127.0.0.1", port, port, CancellationToken.None);

        Assert.Null(found);
        Assert.Equal(1, seeker.Host.Counters.AuthFailures);
    }
}
