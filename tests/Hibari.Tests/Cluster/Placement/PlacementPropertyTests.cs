using Hibari.Cluster.Placement;
using Hibari.Cluster.State;
using static Hibari.Tests.Cluster.Placement.PlacementFixture;

namespace Hibari.Tests.Cluster.Placement;

/// <summary>Invariants of placement over random cluster views (seeded, so a failure reproduces).</summary>
public class PlacementPropertyTests
{
    private static readonly string[] Modes = [NodeModes.Normal, NodeModes.Normal, NodeModes.Normal, NodeModes.BlockNewSession, NodeModes.BlockNewConnection];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_views_never_redirect_badly_nor_split_a_relay_off_session(int seed)
    {
        var rng = new Random(seed);
        for (var i = 0; i < 3000; i++)
        {
            var (view, config, connect, stage, auth) = RandomCase(rng);
            var d = Hibari.Cluster.Placement.Placement.Decide(view, config, connect, stage, auth);
            var context = $"seed {seed} case {i}: {Show(d)} {config} {connect} {stage} auth={auth}";
            var self = view.Find(config.Self)!;

            if (d is Decision.Redirect r)
            {
                var target = view.Find(r.NodeName);
                Assert.True(target is not null && target.Name != self.Name, context);
                Assert.True(target!.Alive && !target.Full && target.Mode != NodeModes.BlockNewConnection, context);
                Assert.True(target.Mode != NodeModes.BlockNewSession || Holds(view, target), context);
                Assert.Equal(target.ExternalSignalingUrl, r.SignalingUrl);
                Assert.False(connect.Redirected, "a redirected connect is redirected again: " + context);
                Assert.True(config.Cluster, "redirect with the cluster off: " + context);
            }

            var holders = view.Nodes.Where(n => Holds(view, n)).ToList();
            var ownersNamed = view.ChannelOwners.TryGetValue(Channel, out var o) && o.Count > 0;
            if (config.Cluster && !config.EffectiveRelay && (holders.Count > 0 || ownersNamed))
            {
                // C-NOREL-2, C-MAJ-4: with relay off a session never gains a second node.
                if (d is Decision.Serve) Assert.True(Holds(view, self), "second owner (serve): " + context);
                if (d is Decision.Redirect rr) Assert.True(Holds(view, view.Find(rr.NodeName)!), "second owner (redirect): " + context);
            }

            if (d is Decision.Serve && stage == PlacementStage.AfterAuth)
            {
                Assert.True(!self.Full && self.Mode != NodeModes.BlockNewConnection, context);
                Assert.True(self.Mode != NodeModes.BlockNewSession || Holds(view, self), context);
                Assert.True(!config.Cluster || self.Alive, context);
            }

            if (stage == PlacementStage.BeforeAuth && d is not Decision.Serve)
                foreach (var a in new bool?[] { null, true, false }) // decided before auth only what auth cannot change
                    Assert.Equal(d, Hibari.Cluster.Placement.Placement.Decide(view, config, connect, PlacementStage.AfterAuth, a));

            var shuffled = view with { Nodes = view.Nodes.OrderBy(_ => rng.Next()).ToList() };
            Assert.Equal(d, Hibari.Cluster.Placement.Placement.Decide(shuffled, config, connect, stage, auth));
        }
    }

    private static bool Holds(PlacementView view, PlacementNode n) =>
        n.ConnectionsOf(Channel) > 0 || (view.ChannelOwners.TryGetValue(Channel, out var o) && o.Contains(n.Name));

    private static (PlacementView, PlacementConfig, PlacementRequest, PlacementStage, bool?) RandomCase(Random rng)
    {
        var cluster = rng.Next(5) > 0;
        var relay = rng.Next(2) == 0;
        var maxNodes = rng.Next(4) > 0;
        var config = new PlacementConfig("n0", cluster, relay, rng.Next(2) == 0, rng.Next(4), maxNodes);
        var count = cluster ? rng.Next(1, 6) : 1;
        var relayOn = config.EffectiveRelay;
        var sessionNode = rng.Next(-1, count); // relay off: at most one node holds the session
        var nodes = new List<PlacementNode>();
        var owners = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = "n" + i;
            var capacity = rng.Next(1, 8);
            var connections = rng.Next(0, capacity + 2);
            var holds = relayOn ? rng.Next(3) == 0 : i == sessionNode;
            var ofChannel = holds ? rng.Next(0, connections + 1) : 0;
            if (holds && rng.Next(3) > 0) owners.Add(name);
            var url = rng.Next(20) == 0 ? null : $"wss://{name}/signaling";
            nodes.Add(new PlacementNode(name, url, $"https://{name}/", rng.Next(6) > 0, rng.Next(4) == 0, Modes[rng.Next(Modes.Length)],
                capacity, connections, ofChannel > 0 ? new Dictionary<string, int> { [Channel] = ofChannel } : new Dictionary<string, int>()));
        }
        if (!relayOn && sessionNode < 0 && rng.Next(10) == 0) owners.Add("gone"); // a session on a node no longer known
        var map = new Dictionary<string, IReadOnlyList<string>>();
        if (owners.Count > 0) map[Channel] = owners;
        bool?[] auths = [null, true, false];
        return (new PlacementView(nodes, map), config, new PlacementRequest(Channel, rng.Next(4) == 0),
            rng.Next(2) == 0 ? PlacementStage.BeforeAuth : PlacementStage.AfterAuth, auths[rng.Next(3)]);
    }
}
