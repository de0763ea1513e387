using System.Net;
using Hibari.Cluster.Links;
using Hibari.Cluster.Relay;
using Hibari.Config;
using Hibari.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>
/// What a node does with relay frames from a peer, whatever they hold: garbage, truncations, frames before the Hello,
/// frames of an unknown session or track — refused and counted per peer, never an exception out of the link's handler.
/// Drives a real (unstarted) node's link handler directly, as the node link's reader would.
/// </summary>
public sealed class RelayServiceInputTests : IAsyncLifetime
{
    private HibariNode _node = null!;
    private INodeLinkHandler _links = null!;
    private const string Peer = "n2@127.0.0.2";

    public Task InitializeAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "hibari-relay-" + Guid.NewGuid().ToString("n")[..8]);
        var options = new HibariOptions
        {
            Cluster = true, NodeName = "n1@127.0.0.1", ClusterSecret = "relay-test-secret", ListenAddress = IPAddress.Loopback,
            DataDir = Path.Combine(dir, "data"), LogDir = Path.Combine(dir, "log"),
        };
        _node = new HibariNode(options, NullLoggerFactory.Instance);
        _links = _node.Cluster;
        Assert.NotNull(_node.Relay); // relay is on by default with the default (max-nodes) licence
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private RelayPeer PeerStats => _node.Relay!.Peers.Single(p => p.Name == Peer);

    private void Feed(byte[] frame) => _links.OnMessage(Peer, 2, frame); // must not throw

    [Fact]
    public async Task Garbage_truncated_and_out_of_order_frames_are_refused_and_counted()
    {
        var random = new Random(17);
        var valid = RelaySamples.All().Select(s => RelayFrames.Encode(s.Frame)).ToList();
        var fed = 0;
        for (var i = 0; i < 3000; i++)
        {
            byte[] frame;
            switch (i % 3)
            {
                case 0:
                    frame = new byte[random.Next(0, 200)];
                    random.NextBytes(frame);
                    break;
                case 1:
                    var v = valid[random.Next(valid.Count)];
                    frame = v[..random.Next(0, v.Length)]; // truncated
                    break;
                default:
                    frame = (byte[])valid[random.Next(valid.Count)].Clone();
                    frame[random.Next(frame.Length)] ^= (byte)(1 << random.Next(8));
                    break;
            }
            Feed(frame);
            fed++;
        }
        Assert.Equal(fed, PeerStats.FramesReceived);
        Assert.True(PeerStats.Refused > fed / 2, $"only {PeerStats.Refused} of {fed} bad frames were refused");

        // Valid frames before the peer's Hello are refused too; after it, frames of unknown sessions are ignored. (A mutated
        // Hello among the garbage may have been a valid one: a Hello with no common version puts the peer back before it.)
        Feed(RelayFrames.Encode(new RelayHello(5, 9, RelayCapabilities.Media, Peer)));
        Assert.Null(PeerStats.Version);
        var before = PeerStats.Refused;
        Feed(RelayFrames.Encode(new RelaySessionJoin("c", RelaySamples.Session)));
        Assert.Equal(before + 1, PeerStats.Refused);
        Feed(RelayFrames.Encode(new RelayHello(1, 1, RelayCapabilities.Media, Peer)));
        Assert.Equal((byte)1, PeerStats.Version);
        foreach (var (name, frame) in RelaySamples.All().Where(s => s.Frame is not RelayHello))
        {
            var refused = PeerStats.Refused;
            Feed(RelayFrames.Encode(frame));
            await _node.Sfu.Control.DrainedAsync(); // control frames are applied on the SFU's control context
            Assert.True(refused == PeerStats.Refused, $"the valid frame '{name}' was refused");
        }
        Assert.Empty(_node.Sfu.ListConnections()); // nothing of an unknown session became a connection here
    }

    [Fact]
    public void A_hello_with_no_common_version_leaves_the_peer_without_relay()
    {
        Feed(RelayFrames.Encode(new RelayHello(1, 1, RelayCapabilities.Media, Peer)));
        Assert.Equal((byte)1, PeerStats.Version);
        // A Hello is always readable (frozen layout): a peer that speaks only versions 5..9.
        var hello = RelayFrames.Encode(new RelayHello(5, 9, RelayCapabilities.Media, Peer));
        Feed(hello);
        Assert.Null(PeerStats.Version);
        var refused = PeerStats.Refused;
        Feed(RelayFrames.Encode(new RelaySessionJoin("c", RelaySamples.Session)));
        Assert.Equal(refused + 1, PeerStats.Refused);
    }
}
