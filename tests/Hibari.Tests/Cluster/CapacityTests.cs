using Hibari.Cluster;

namespace Hibari.Tests.Cluster;

public class CapacityTests
{
    private static CapacityNode R(string n, bool alive = true, int cap = 100) => new(n, false, cap, alive);
    private static CapacityNode T(string n, bool alive = true, int cap = 100) => new(n, true, cap, alive);

    [Fact]
    public void Healthy_cluster_gives_each_node_its_own_capacity_C_TAKE_1()
    {
        var nodes = new[] { R("a"), R("b"), R("c") };
        Assert.All(nodes, n => Assert.Equal(100, Capacity.Of(n.Name, nodes, maxNodesLicence: true)));
    }

    [Fact]
    public void Three_regular_one_failed_gives_150_each_C_TAKE_1()
    {
        var nodes = new[] { R("a"), R("b"), R("c", alive: false) };
        Assert.Equal(150, Capacity.Of("a", nodes, true));
        Assert.Equal(150, Capacity.Of("b", nodes, true));
    }

    [Fact]
    public void Three_regular_plus_temporary_one_regular_failed_gives_134_each_C_TAKE_1()
    {
        var nodes = new[] { R("a"), R("b"), R("c", alive: false), T("t") };
        Assert.Equal(134, Capacity.Of("a", nodes, true));
        Assert.Equal(134, Capacity.Of("b", nodes, true));
        Assert.Equal(134, Capacity.Of("t", nodes, true));
    }

    [Fact]
    public void Failed_temporary_node_capacity_is_not_taken_over_C_TAKE_3()
    {
        var nodes = new[] { R("a"), R("b"), R("c"), T("t", alive: false) };
        Assert.Equal(100, Capacity.Of("a", nodes, true));
    }

    [Fact]
    public void Recovered_node_brings_capacities_back_C_TAKE_2()
    {
        var failed = new[] { R("a"), R("b"), R("c", alive: false) };
        var recovered = new[] { R("a"), R("b"), R("c") };
        Assert.Equal(150, Capacity.Of("a", failed, true));
        Assert.Equal(100, Capacity.Of("a", recovered, true));
        Assert.Equal(100, Capacity.Of("c", recovered, true));
    }

    [Fact]
    public void Standard_licence_has_no_takeover()
    {
        var nodes = new[] { R("a"), R("b"), R("c", alive: false) };
        Assert.Equal(100, Capacity.Of("a", nodes, maxNodesLicence: false));
    }

    [Fact]
    public void Unequal_capacities_round_up()
    {
        var nodes = new[] { R("a", cap: 10), R("b", cap: 20), R("c", alive: false, cap: 7) };
        Assert.Equal(14, Capacity.Of("a", nodes, true)); // ceil(7/2) = 4
        Assert.Equal(24, Capacity.Of("b", nodes, true));
    }

    [Fact]
    public void Unknown_node_has_no_capacity() =>
        Assert.Equal(0, Capacity.Of("x", new[] { R("a") }, true));
}
