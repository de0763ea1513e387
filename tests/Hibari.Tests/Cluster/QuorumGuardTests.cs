using Hibari.Cluster;

namespace Hibari.Tests.Cluster;

public class QuorumGuardTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
        public void Advance(int ms) => Now = Now.AddMilliseconds(ms);
    }

    private static QuorumInputs Regular(bool raft, int total, int reachable) => new(true, true, false, raft, total, reachable, null);

    [Fact]
    public void Cluster_off_is_always_available()
    {
        var g = new QuorumGuard(new Clock());
        Assert.Equal(Unavailability.None, g.Update(new QuorumInputs(false, false, false, false, 0, 0, null)));
    }

    [Fact]
    public void Cluster_node_not_initialised_refuses_C_CONF_1()
    {
        var g = new QuorumGuard(new Clock());
        Assert.Equal(Unavailability.NotInitialized, g.Update(new QuorumInputs(true, false, false, false, 0, 0, null)));
    }

    [Fact]
    public void Joined_node_serves_only_after_quorum_is_seen()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        Assert.NotEqual(Unavailability.None, g.Update(Regular(raft: false, 3, 3)));
        c.Advance(100);
        Assert.Equal(Unavailability.None, g.Update(Regular(raft: true, 3, 3)));
    }

    [Fact]
    public void Minority_by_links_becomes_unavailable_after_link_grace_C_MAJ_2()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        g.Update(Regular(true, 3, 3));
        c.Advance(100);
        Assert.Equal(Unavailability.None, g.Update(Regular(true, 3, 1)));
        c.Advance((int)g.LinkGrace.TotalMilliseconds);
        Assert.Equal(Unavailability.MajorityLost, g.Update(Regular(true, 3, 1)));
    }

    [Fact]
    public void Half_of_regular_nodes_is_not_a_majority_C_MAJ_1()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        g.Update(Regular(true, 4, 4));
        g.Update(Regular(true, 4, 2));
        c.Advance(5000);
        Assert.Equal(Unavailability.MajorityLost, g.Update(Regular(true, 4, 2)));
    }

    [Fact]
    public void Re_election_shorter_than_raft_grace_keeps_serving()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        g.Update(Regular(true, 3, 3));
        for (var t = 0; t < g.RaftGrace.TotalMilliseconds - 100; t += 50)
        {
            Assert.Equal(Unavailability.None, g.Update(Regular(false, 3, 2)));
            c.Advance(50);
        }
        Assert.Equal(Unavailability.None, g.Update(Regular(true, 3, 2)));
    }

    [Fact]
    public void Leaderless_longer_than_raft_grace_is_unavailable_then_recovers_C_MAJ_3()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        var changes = new List<Unavailability>();
        g.Changed += changes.Add;
        g.Update(Regular(true, 3, 3));
        g.Update(Regular(false, 3, 3));
        c.Advance((int)g.RaftGrace.TotalMilliseconds + 1);
        Assert.Equal(Unavailability.MajorityLost, g.Update(Regular(false, 3, 3)));
        c.Advance(50);
        Assert.Equal(Unavailability.None, g.Update(Regular(true, 3, 3)));
        Assert.Equal([Unavailability.None, Unavailability.MajorityLost, Unavailability.None], changes);
    }

    [Fact]
    public void Temporary_node_follows_confirmations_from_regular_nodes_C_MAJ_1()
    {
        var c = new Clock();
        var g = new QuorumGuard(c);
        var confirmed = c.Now;
        Assert.Equal(Unavailability.None, g.Update(new QuorumInputs(true, true, true, false, 1, 0, confirmed)));
        c.Advance((int)g.TemporaryConfirmationWindow.TotalMilliseconds + 1);
        Assert.Equal(Unavailability.MajorityLost, g.Update(new QuorumInputs(true, true, true, false, 1, 0, confirmed)));
    }
}
