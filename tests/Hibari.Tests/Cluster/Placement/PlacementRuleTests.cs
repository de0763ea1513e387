using Hibari.Cluster;
using Hibari.Cluster.Placement;
using Hibari.Cluster.State;
using Hibari.Config;
using static Hibari.Tests.Cluster.Placement.PlacementFixture;

namespace Hibari.Tests.Cluster.Placement;

public class PlacementRuleTests
{
    // --- affinity ---

    [Fact]
    public void New_session_goes_to_the_most_spare_node_C_AFF_1()
    {
        var view = View([N("a", 50), N("b", 40), N("c", 20)]);
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
    }

    [Fact]
    public void Existing_session_is_served_where_it_is_when_the_contact_owns_it_C_AFF_2()
    {
        var view = View([N("a", 90, ofChannel: 3), N("b", 0)], "a");
        Assert.Equal("serve", Show(After(view, Cfg())));
    }

    [Fact]
    public void Existing_session_spread_by_relay_goes_to_an_owner_even_one_with_no_connections_left_C_AFF_2()
    {
        // c kept the relay with 0 connections of the session (C-RELAY-3); b is the most spare but not an owner.
        var view = View([N("a", 10), N("b", 0), N("c", 60, ofChannel: 0), N("d", 50, ofChannel: 25)], "c", "d");
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
    }

    [Fact]
    public void Owner_over_the_threshold_sends_the_connection_to_another_owner_C_AFF_3()
    {
        var view = View([N("a", 10), N("b", 0), N("c", 30, ofChannel: 21), N("d", 50, ofChannel: 4)], "c", "d");
        Assert.Equal("redirect:d", Show(After(view, Cfg(threshold: 20))));
    }

    [Fact]
    public void Owner_at_the_threshold_still_takes_the_connection_exceeding_means_above_C_AFF_3()
    {
        var view = View([N("a", 10), N("b", 0), N("c", 30, ofChannel: 20)], "c");
        Assert.Equal("redirect:c", Show(After(view, Cfg(threshold: 20))));
    }

    [Fact]
    public void Only_owner_over_the_threshold_sends_the_connection_to_the_most_spare_other_node_C_AFF_3()
    {
        var view = View([N("a", 40), N("b", 20), N("c", 30, ofChannel: 21)], "c");
        Assert.Equal("redirect:b", Show(After(view, Cfg(threshold: 20))));
    }

    [Fact]
    public void Every_node_over_the_threshold_sends_the_connection_to_the_most_spare_node_C_AFF_3()
    {
        var view = View([N("a", 60, ofChannel: 25), N("b", 40, ofChannel: 30), N("c", 50, ofChannel: 21)], "a", "b", "c");
        Assert.Equal("redirect:b", Show(After(view, Cfg(threshold: 20))));
    }

    [Fact]
    public void Chosen_owner_at_capacity_sends_the_connection_to_the_most_spare_node_C_AFF_4()
    {
        var view = View([N("a", 50), N("b", 20), N("c", 100, ofChannel: 5)], "c");
        Assert.Equal("redirect:b", Show(After(view, Cfg())));
    }

    [Fact]
    public void Affinity_waits_for_the_auth_answer_the_contact_authenticates_first_C_AFF_5()
    {
        var view = View([N("a", 10), N("b", 50, ofChannel: 5)], "b");
        Assert.Equal("serve", Show(Before(view, Cfg())));
        Assert.Equal("redirect:b", Show(After(view, Cfg())));
    }

    [Fact]
    public void Auth_cluster_affinity_false_overrides_the_default_and_serves_on_the_contact_C_AFF_6()
    {
        var view = View([N("a", 10), N("b", 50, ofChannel: 5)], "b");
        Assert.Equal("serve", Show(After(view, Cfg(affinity: true), authAffinity: false)));
    }

    [Fact]
    public void Auth_cluster_affinity_true_overrides_a_false_default_C_AFF_6()
    {
        var view = View([N("a", 10), N("b", 50, ofChannel: 5)], "b");
        Assert.Equal("serve", Show(After(view, Cfg(affinity: false))));
        Assert.Equal("redirect:b", Show(After(view, Cfg(affinity: false), authAffinity: true)));
    }

    [Fact]
    public void Auth_cluster_affinity_false_on_a_full_contact_still_redirects_to_the_most_spare_node_C_AFF_6_C_REL_2()
    {
        var view = View([N("a", 100), N("b", 50), N("c", 20)]);
        Assert.Equal("redirect:c", Show(After(view, Cfg(), authAffinity: false)));
    }

    // --- load balancing ---

    [Fact]
    public void All_nodes_equally_spare_the_contact_serves_the_new_session_C_LB_1()
    {
        var view = View([N("b", 30), N("a", 30), N("c", 30)]);
        Assert.Equal("serve", Show(After(view, Cfg())));
        Assert.Equal("serve", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Contact_tied_for_most_spare_wins_the_tie_C_LB_1()
    {
        var view = View([N("b", 30), N("c", 60), N("a", 30)]);
        Assert.Equal("serve", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Most_spare_means_most_free_capacity_not_fewest_connections_C_LB_1()
    {
        // b has more connections but a bigger capacity: 200 - 100 = 100 free against c's 100 - 20 = 80.
        var view = View([N("a", 90), N("b", 100, capacity: 200), N("c", 20)]);
        Assert.Equal("redirect:b", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Tie_between_other_nodes_goes_to_the_smaller_name_C_LB_1()
    {
        var view = View([N("a", 90), N("c", 10), N("b", 10)]);
        Assert.Equal("redirect:b", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Decision_does_not_depend_on_the_order_of_nodes_in_the_view()
    {
        var nodes = new[] { N("a", 90), N("d", 10), N("c", 10), N("b", 10, ofChannel: 0) };
        var first = Show(Before(View(nodes), Cfg(relay: false)));
        Assert.Equal("redirect:b", first);
        Assert.Equal(first, Show(Before(View(nodes.Reverse()), Cfg(relay: false))));
        Assert.Equal(first, Show(Before(View(nodes.OrderBy(n => n.Connections)), Cfg(relay: false))));
    }

    // --- modes ---

    [Fact]
    public void Candidate_in_block_new_session_never_gets_a_new_session_C_MODE_1()
    {
        var view = View([N("a", 50), N("b", 0, mode: NodeModes.BlockNewSession), N("c", 20)]);
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
        Assert.Equal("redirect:c", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Candidate_in_block_new_connection_never_gets_a_new_session_C_MODE_1()
    {
        var view = View([N("a", 50), N("b", 0, mode: NodeModes.BlockNewConnection), N("c", 20)]);
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
        Assert.Equal("redirect:c", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Owner_in_block_new_session_keeps_growing_its_session_C_MODE_1()
    {
        var view = View([N("a", 10), N("b", 50, mode: NodeModes.BlockNewSession, ofChannel: 5)], "b");
        Assert.Equal("redirect:b", Show(After(view, Cfg())));
        Assert.Equal("redirect:b", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Owner_in_block_new_connection_gets_no_connection_C_MODE_1()
    {
        var view = View([N("a", 10), N("b", 50, mode: NodeModes.BlockNewConnection, ofChannel: 5), N("c", 30)], "b");
        Assert.Equal("serve", Show(After(view, Cfg()))); // affinity: the owner is blocked, the most spare is a
        Assert.Equal("refuse:SESSION-NODE-BLOCKED", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Contact_in_block_new_session_redirects_a_new_session_before_auth_C_MODE_1()
    {
        var view = View([N("a", 0, mode: NodeModes.BlockNewSession), N("b", 50), N("c", 20)]);
        Assert.Equal("redirect:c", Show(Before(view, Cfg())));
        Assert.Equal("redirect:c", Show(After(view, Cfg(), authAffinity: false)));
        Assert.Equal("redirect:c", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Contact_in_block_new_session_serves_its_own_session_C_MODE_1()
    {
        var view = View([N("a", 50, mode: NodeModes.BlockNewSession, ofChannel: 3), N("b", 0)], "a");
        Assert.Equal("serve", Show(After(view, Cfg())));
        Assert.Equal("serve", Show(After(view, Cfg(), authAffinity: false)));
        Assert.Equal("serve", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Contact_in_block_new_session_with_relay_and_no_affinity_sends_a_session_it_does_not_own_elsewhere_C_MODE_1()
    {
        var view = View([N("a", 0, mode: NodeModes.BlockNewSession), N("b", 50, ofChannel: 5), N("c", 20)], "b");
        Assert.Equal("serve", Show(Before(view, Cfg()))); // depends on the auth answer
        Assert.Equal("redirect:c", Show(After(view, Cfg(), authAffinity: false)));
        Assert.Equal("redirect:b", Show(After(view, Cfg(), authAffinity: true)));
    }

    [Fact]
    public void Contact_in_block_new_connection_redirects_everything_before_auth_C_MODE_1()
    {
        var own = View([N("a", 10, mode: NodeModes.BlockNewConnection, ofChannel: 3), N("b", 50), N("c", 20)], "a");
        Assert.Equal("redirect:c", Show(Before(own, Cfg())));
        Assert.Equal("refuse:MODE-BLOCK-NEW-CONNECTION", Show(Before(own, Cfg(relay: false))));
        var fresh = View([N("a", 10, mode: NodeModes.BlockNewConnection), N("b", 50), N("c", 20)]);
        Assert.Equal("redirect:c", Show(Before(fresh, Cfg(relay: false))));
    }

    [Theory]
    [InlineData(NodeModes.BlockNewConnection, false, "refuse:MODE-BLOCK-NEW-CONNECTION")]
    [InlineData(NodeModes.BlockNewConnection, true, "refuse:MODE-BLOCK-NEW-CONNECTION")]
    [InlineData(NodeModes.BlockNewSession, false, "refuse:MODE-BLOCK-NEW-SESSION")]
    [InlineData(NodeModes.BlockNewSession, true, "serve")]
    public void Standalone_node_honours_its_own_mode_C_MODE_1_C_PLACE_0(string mode, bool existing, string expected)
    {
        var view = View([N("a", 10, mode: mode, ofChannel: existing ? 2 : 0)]);
        Assert.Equal(expected, Show(After(view, Cfg(cluster: false))));
    }

    // --- capacity and takeover ---

    [Fact]
    public void Node_whose_capacity_was_raised_by_takeover_accepts_more_than_its_licence_C_TAKE_1()
    {
        var members = new[]
        {
            new CapacityNode("a", false, 100, true), new CapacityNode("b", false, 100, true),
            new CapacityNode("c", false, 100, false), new CapacityNode("t", true, 100, true),
        };
        int Cap(string n) => Capacity.Of(n, members, maxNodesLicence: true); // 134 each
        var view = View([N("a", 100, Cap("a")), N("b", 120, Cap("b")), N("c", 0, alive: false), N("t", 110, Cap("t"))]);

        Assert.Equal(134, Cap("a"));
        Assert.Equal("serve", Show(Before(view, Cfg(relay: false)))); // a: 34 free, the most
        var aFull = View([N("a", 134, Cap("a")), N("b", 120, Cap("b")), N("c", 0, alive: false), N("t", 110, Cap("t"))]);
        Assert.Equal("redirect:t", Show(Before(aFull, Cfg(relay: false))));
    }

    [Fact]
    public void Node_back_below_its_connections_after_takeover_ends_is_full_C_TAKE_2()
    {
        var view = View([N("a", 120, capacity: 100), N("b", 130, capacity: 100)]);
        Assert.Equal("refuse:NO-NODE-AVAILABLE", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Every_node_full_refuses_the_connect()
    {
        var view = View([N("a", 100), N("b", 100)]);
        Assert.Equal("refuse:NO-NODE-AVAILABLE", Show(After(view, Cfg())));
        Assert.Equal("refuse:NO-NODE-AVAILABLE", Show(Before(view, Cfg(relay: false))));
    }

    // --- licence and configuration ---

    [Fact]
    public void Standard_licence_turns_relay_and_affinity_off_C_CONF_5_C_CONF_6()
    {
        var config = Cfg(relay: true, affinity: true, maxNodes: false);
        Assert.False(config.EffectiveRelay);
        Assert.False(config.EffectiveAffinity(true));

        // Relay off: an existing session elsewhere is redirected to before auth, whatever auth says.
        var view = View([N("a", 10), N("b", 50, ofChannel: 5)], "b");
        Assert.Equal("redirect:b", Show(Before(view, config)));
        Assert.Equal("redirect:b", Show(After(view, config, authAffinity: false)));
    }

    [Fact]
    public void Cluster_relay_false_turns_affinity_off_C_CONF_6()
    {
        var config = Cfg(relay: false, affinity: true);
        Assert.False(config.EffectiveAffinity(null));
        Assert.False(config.EffectiveAffinity(true));
    }

    [Fact]
    public void Config_from_options_uses_the_licence_type_C_CONF_5()
    {
        var o = new HibariOptions { Cluster = true, NodeName = "n1@10.0.0.1", LicenseType = LicenseType.Standard, ClusterAffinityThreshold = 7 };
        var c = PlacementConfig.From(o);
        Assert.Equal(("n1@10.0.0.1", false, 7), (c.Self, c.EffectiveRelay, c.ClusterAffinityThreshold));
        Assert.True(PlacementConfig.From(o with { LicenseType = LicenseType.MaxNodes }).EffectiveAffinity(null));
        Assert.False(PlacementConfig.From(o with { LicenseType = LicenseType.MaxNodes, Cluster = false }).EffectiveRelay);
    }

    // --- liveness ---

    [Fact]
    public void Dead_node_is_never_chosen_even_when_it_is_the_most_spare()
    {
        var view = View([N("a", 50), N("b", 0, alive: false), N("c", 20)]);
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
        Assert.Equal("redirect:c", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void Dead_owner_with_relay_is_ignored_and_the_session_goes_to_the_most_spare_node()
    {
        var view = View([N("a", 50), N("b", 0, alive: false, ofChannel: 5), N("c", 20)], "b");
        Assert.Equal("redirect:c", Show(After(view, Cfg())));
    }

    [Fact]
    public void Dead_owner_without_relay_refuses_rather_than_make_a_second_session_node_C_MAJ_4()
    {
        var view = View([N("a", 50), N("b", 0, alive: false, ofChannel: 5), N("c", 20)], "b");
        Assert.Equal("refuse:SESSION-NODE-UNAVAILABLE", Show(Before(view, Cfg(relay: false))));
        var unknownOwner = View([N("a", 50), N("c", 20)], "gone");
        Assert.Equal("refuse:SESSION-NODE-UNAVAILABLE", Show(Before(unknownOwner, Cfg(relay: false))));
    }

    [Fact]
    public void Contact_outside_the_majority_refuses_C_MAJ_2()
    {
        var view = View([N("a", 0, alive: false), N("b", 0)]);
        Assert.Equal("refuse:CLUSTER-UNAVAILABLE", Show(Before(view, Cfg())));
        Assert.Equal("refuse:CLUSTER-UNAVAILABLE", Show(Before(View([N("b", 0)]), Cfg(relay: false))));
    }

    // --- redirected connects ---

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Redirected_connect_is_served_here_even_if_another_node_is_more_spare(bool relay, bool affinity)
    {
        var view = View([N("a", 50), N("b", 0, ofChannel: relay ? 5 : 0), N("c", 0)], relay ? ["b"] : []);
        Assert.Equal("serve", Show(After(view, Cfg(relay: relay, affinity: affinity), redirected: true)));
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, false)]
    public void Redirected_connect_to_a_full_node_is_refused_never_redirected_again(bool relay, bool affinity)
    {
        var view = View([N("a", 100), N("b", 0)]);
        var config = Cfg(relay: relay, affinity: affinity);
        Assert.Equal("refuse:LICENSE-MAX-CONNECTIONS-REACHED", Show(Before(view, config, redirected: true)));
        Assert.Equal("refuse:LICENSE-MAX-CONNECTIONS-REACHED", Show(After(view, config, redirected: true)));
    }

    [Fact]
    public void Redirected_connect_without_relay_for_a_session_on_another_node_is_refused()
    {
        var view = View([N("a", 10), N("b", 50, ofChannel: 5)], "b");
        Assert.Equal("refuse:SESSION-ON-ANOTHER-NODE", Show(Before(view, Cfg(relay: false), redirected: true)));
    }

    [Fact]
    public void Redirected_connect_to_a_blocked_node_is_refused_with_its_mode_C_MODE_1()
    {
        var view = View([N("a", 10, mode: NodeModes.BlockNewSession), N("b", 0)]);
        Assert.Equal("refuse:MODE-BLOCK-NEW-SESSION", Show(After(view, Cfg(), redirected: true)));
    }

    // --- HTTP API ---

    [Fact]
    public void Api_call_for_a_channel_this_node_owns_is_handled_here_C_API_1()
    {
        var view = View([N("a", 10, ofChannel: 1), N("b", 0, ofChannel: 3)], "a", "b");
        Assert.IsType<ApiRoute.Here>(Hibari.Cluster.Placement.Placement.ApiOwner(view, "a", Channel));
    }

    [Fact]
    public void Api_call_for_a_channel_owned_elsewhere_is_redirected_to_the_owners_api_url_C_API_1()
    {
        var view = View([N("a", 10), N("c", 0, ofChannel: 3), N("b", 0, alive: false, ofChannel: 1)], "c", "b");
        var route = Assert.IsType<ApiRoute.Redirect>(Hibari.Cluster.Placement.Placement.ApiOwner(view, "a", Channel));
        Assert.Equal(("c", "https://c.example.com/"), (route.NodeName, route.ApiUrl));
    }

    [Fact]
    public void Api_call_for_an_unknown_channel_or_one_on_a_dead_node_is_unknown_C_API_1()
    {
        var view = View([N("a", 10), N("b", 0, alive: false, ofChannel: 1)], "b");
        Assert.IsType<ApiRoute.Unknown>(Hibari.Cluster.Placement.Placement.ApiOwner(view, "a", Channel));
        Assert.IsType<ApiRoute.Unknown>(Hibari.Cluster.Placement.Placement.ApiOwner(view, "a", "other"));
    }
}
