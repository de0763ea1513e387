using Hibari.Cluster.Placement;
using static Hibari.Tests.Cluster.Placement.PlacementFixture;

namespace Hibari.Tests.Cluster.Placement;

/// <summary>
/// The four tables of 接続時の挙動 (original specification), one row per case. The cluster: contact node a, and b, c,
/// capacity 100 each. b is the most spare node (10 connections); an existing session lives on c (30 connections),
/// so "the session's node" and "the most spare node" are different answers. The contact has 50 connections, or 100
/// when "full".
/// </summary>
public class ConnectTableTests
{
    public enum Table { RelayAffinity, RelayNoAffinity, NoRelay, NoCluster }

    public static TheoryData<string, Table, bool, bool, string, bool> Rows => new()
    {
        // row name,                                                table,                  existing, full,  after auth,                 decided before auth
        { "リレーあり/アフィニティあり 新規セッション",                Table.RelayAffinity,   false, false, "redirect:b",               false }, // C-AFF-1
        { "リレーあり/アフィニティあり 既存セッション",                Table.RelayAffinity,   true,  false, "redirect:c",               false }, // C-AFF-2
        { "リレーあり/アフィニティあり 新規セッション 接続ノード上限",   Table.RelayAffinity,   false, true,  "redirect:b",               true },  // C-REL-2
        { "リレーあり/アフィニティあり 既存セッション 接続ノード上限",   Table.RelayAffinity,   true,  true,  "redirect:b",               true },  // table: 一番空いてるノード
        { "リレーあり/アフィニティなし 新規セッション",                Table.RelayNoAffinity, false, false, "serve",                    true },  // C-REL-1
        { "リレーあり/アフィニティなし 既存セッション",                Table.RelayNoAffinity, true,  false, "serve",                    true },  // C-REL-1
        { "リレーあり/アフィニティなし 新規セッション 接続ノード上限",   Table.RelayNoAffinity, false, true,  "redirect:b",               true },  // C-REL-2
        { "リレーあり/アフィニティなし 既存セッション 接続ノード上限",   Table.RelayNoAffinity, true,  true,  "redirect:b",               true },  // C-REL-2
        { "リレーなし 新規セッション",                                Table.NoRelay,         false, false, "redirect:b",               true },  // C-NOREL-1
        { "リレーなし 既存セッション",                                Table.NoRelay,         true,  false, "redirect:c",               true },  // C-NOREL-2
        { "リレーなし 新規セッション 接続ノード上限",                   Table.NoRelay,         false, true,  "redirect:b",               true },  // C-NOREL-3
        { "リレーなし 既存セッション 接続ノード上限",                   Table.NoRelay,         true,  true,  "redirect:c",               true },  // C-NOREL-3
        { "クラスターなし 新規セッション",                             Table.NoCluster,       false, false, "serve",                    true },  // C-PLACE-0
        { "クラスターなし 既存セッション",                             Table.NoCluster,       true,  false, "serve",                    true },  // C-PLACE-0
        { "クラスターなし 新規セッション 接続ノード上限",                Table.NoCluster,       false, true,  "refuse:LICENSE-MAX-CONNECTIONS-REACHED",         true },  // C-PLACE-0
        { "クラスターなし 既存セッション 接続ノード上限",                Table.NoCluster,       true,  true,  "refuse:LICENSE-MAX-CONNECTIONS-REACHED",         true },  // C-PLACE-0
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Every_row_of_the_connect_tables_C_AFF_1_C_REL_1_C_NOREL_1_C_PLACE_0(
        string row, Table table, bool existing, bool contactFull, string expected, bool decidedBeforeAuth)
    {
        var (view, config) = Scenario(table, existing, contactFull);

        // The row name is part of both sides so that a failure names its row.
        Assert.Equal($"{row}: {expected}", $"{row}: {Show(After(view, config))}");
        Assert.Equal($"{row} (before auth): {(decidedBeforeAuth ? expected : "serve")}", $"{row} (before auth): {Show(Before(view, config))}");
    }

    [Fact]
    public void No_relay_existing_session_whose_node_is_full_fails_C_NOREL_2()
    {
        var view = View([N("a", 50), N("b", 10), N("c", 100, ofChannel: 5)], "c");
        Assert.Equal("refuse:SESSION-NODE-FULL", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void No_relay_existing_session_whose_node_is_full_fails_even_when_the_contact_is_full_C_NOREL_3()
    {
        var view = View([N("a", 100), N("b", 10), N("c", 100, ofChannel: 5)], "c");
        Assert.Equal("refuse:SESSION-NODE-FULL", Show(Before(view, Cfg(relay: false))));
    }

    [Fact]
    public void No_relay_existing_session_on_the_contact_itself_is_served_and_fails_when_full_C_NOREL_2()
    {
        var room = View([N("a", 50, ofChannel: 5), N("b", 10)], "a");
        var full = View([N("a", 100, ofChannel: 5), N("b", 10)], "a");
        Assert.Equal("serve", Show(Before(room, Cfg(relay: false))));
        Assert.Equal("refuse:SESSION-NODE-FULL", Show(Before(full, Cfg(relay: false))));
    }

    internal static (PlacementView, PlacementConfig) Scenario(Table table, bool existing, bool contactFull)
    {
        var a = contactFull ? 100 : 50;
        if (table == Table.NoCluster)
        {
            var single = View([N("a", a, ofChannel: existing ? 5 : 0)], existing ? ["a"] : []);
            return (single, Cfg(cluster: false, self: "a"));
        }
        var view = View([N("a", a), N("b", 10), N("c", 30, ofChannel: existing ? 5 : 0)], existing ? ["c"] : []);
        var config = table switch
        {
            Table.RelayAffinity => Cfg(relay: true, affinity: true),
            Table.RelayNoAffinity => Cfg(relay: true, affinity: false),
            _ => Cfg(relay: false),
        };
        return (view, config);
    }
}
