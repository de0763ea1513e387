using System.Net;
using System.Net.Sockets;
using Hibari.Cluster.Links;
using Hibari.Cluster.Relay;
using Hibari.Cluster.Relay.Udp;
using Hibari.Config;
using Hibari.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>
/// Setting up relayed RTP over UDP with a peer (D-31), on a real node whose SFU runs (media workers on ephemeral ports)
/// and whose node link is driven directly as its reader would: the peer's UdpEndpoint, here before the workers run, is
/// applied once they do; the node probes the announced endpoint with a datagram authenticated by the key both sides
/// derive; only the matching UdpConfirm turns the route on. A node with <c>cluster_relay_udp = false</c> offers nothing
/// and ignores announcements.
/// </summary>
public sealed class RelayUdpSetupTests : IAsyncLifetime
{
    private const string Secret = "relay-test-secret";
    private const string Self = "n1@127.0.0.1";
    private const string Peer = "n2@127.0.0.2";
    private readonly List<HibariNode> _nodes = [];

    private HibariNode Node(bool udp)
    {
        var dir = Path.Combine(Path.GetTempPath(), "hibari-relay-udp-" + Guid.NewGuid().ToString("n")[..8]);
        var node = new HibariNode(new HibariOptions
        {
            Cluster = true, NodeName = Self, ClusterSecret = Secret, ListenAddress = IPAddress.Loopback, RtcUdpPort = 0, MediaWorkers = 2, TurnUdpPort = 0, TurnTcpListenPort = 0,
            ClusterRelayUdp = udp, DataDir = Path.Combine(dir, "data"), LogDir = Path.Combine(dir, "log"),
        }, NullLoggerFactory.Instance);
        _nodes.Add(node);
        return node;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes) await n.DisposeAsync();
    }

    private static void Feed(HibariNode node, RelayFrame frame) => ((INodeLinkHandler)node.Cluster).OnMessage(Peer, 2, RelayFrames.Encode(frame));

    private static async Task Eventually(string what, Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not within 20 s: {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task An_endpoint_announced_before_the_workers_run_is_probed_once_they_do_and_confirmed_only_for_its_route()
    {
        var node = Node(udp: true);
        // The peer's side: a socket standing in for its media worker 0.
        using var peerSocket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        peerSocket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var peerPort = (ushort)((IPEndPoint)peerSocket.LocalEndPoint!).Port;
        var salt = new UInt128(0x1111, 0x2222);
        const uint route = 0x0BADF00D;

        Feed(node, new RelayHello(1, 1, RelayCapabilities.Media | RelayCapabilities.UdpMedia, Peer));
        var p = node.Relay!.Peers.Single(x => x.Name == Peer);
        Assert.True((p.Shared & RelayCapabilities.UdpMedia) != 0);
        Feed(node, new RelayUdpEndpoint(IPAddress.Loopback, peerPort, route, salt));
        Assert.Null(p.UdpSend); // no media workers yet: kept for later
        Assert.Equal("tcp", p.RtpTransport);

        node.Sfu.Start();
        node.Relay.Start();
        await Eventually("the send route is built", () => p.UdpSend is not null);
        Assert.Equal("udp-probing", p.RtpTransport);

        // The probe arrives from the node's worker 0 and verifies with the key of n1 → n2 under the announced salt.
        var buffer = new byte[2048];
        peerSocket.ReceiveTimeout = 20_000;
        var n = peerSocket.Receive(buffer);
        Assert.True(RelayDatagram.TryParse(buffer.AsSpan(0, n), out var view, out var error), error.ToString());
        Assert.Equal(RelayDatagramKind.Probe, view.Kind);
        Assert.Equal(route, view.RouteId);
        using (var auth = new RelayDatagramAuth(RelayDatagramKeys.Derive(Secret, salt, Self, Peer)))
            Assert.True(RelayDatagram.Verify(auth, view));
        using (var reversed = new RelayDatagramAuth(RelayDatagramKeys.Derive(Secret, salt, Peer, Self)))
            Assert.False(RelayDatagram.Verify(reversed, view));

        Feed(node, new RelayUdpConfirm(route + 1)); // another route's confirm: nothing changes
        Assert.Equal("udp-probing", p.RtpTransport);
        Feed(node, new RelayUdpConfirm(route));
        Assert.Equal("udp", p.RtpTransport);

        // The same announcement again keeps the route (and its sequences: same key, nonces must not repeat).
        var same = p.UdpSend;
        Feed(node, new RelayUdpEndpoint(IPAddress.Loopback, peerPort, route, salt));
        Assert.Same(same, p.UdpSend);
        // A new one (another salt) replaces it and starts unconfirmed.
        Feed(node, new RelayUdpEndpoint(IPAddress.Loopback, peerPort, route, salt + 1));
        Assert.NotSame(same, p.UdpSend);
        Assert.True(same!.Retired);
        Assert.Equal("udp-probing", p.RtpTransport);

        // The link dies: back to TCP.
        ((INodeLinkHandler)node.Cluster).OnPeerDown(Peer);
        Assert.Equal("tcp", p.RtpTransport);
        Assert.NotNull(node.Relay.Udp.Announced);
        Assert.Equal(node.Sfu.Workers[0].LocalEndPoint, node.Relay.Udp.Announced);
    }

    [Fact]
    public void With_cluster_relay_udp_off_the_node_offers_no_udp_and_ignores_an_announcement()
    {
        var node = Node(udp: false);
        node.Sfu.Start();
        node.Relay!.Start();
        Feed(node, new RelayHello(1, 1, RelayCapabilities.Media | RelayCapabilities.UdpMedia, Peer));
        var p = node.Relay.Peers.Single(x => x.Name == Peer);
        Assert.Equal(0ul, (ulong)(p.Shared & RelayCapabilities.UdpMedia));
        Feed(node, new RelayUdpEndpoint(IPAddress.Loopback, 9, 1, 1));
        Assert.Null(p.UdpSend);
        Assert.Equal(0, p.Refused); // a frame of a feature this node does not use is ignored, not refused
        Assert.False(node.Relay.Udp.Enabled);
        Assert.Null(node.Relay.Udp.Receiver);
    }
}
