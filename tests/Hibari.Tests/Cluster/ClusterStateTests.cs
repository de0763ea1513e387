using Hibari.Cluster.State;

namespace Hibari.Tests.Cluster;

public class ClusterStateTests
{
    private static MemberRecord Member(string name, bool temp = false) => new()
    {
        Name = name, Temporary = temp, RaftEndPoint = temp ? null : "127.0.0.1:49011", LinkEndPoint = "127.0.0.1:49010",
        ExternalSignalingUrl = "ws://127.0.0.1:5000/signaling", ExternalApiUrl = "http://127.0.0.1:3000/",
        LicenseMaxConnections = 100, LicenseMaxNodes = 10, LicenseSerialCode = "S", LicenseType = "max_nodes", Version = "0.1.0",
    };

    [Fact]
    public void Every_command_round_trips_through_its_encoding()
    {
        ClusterCommand[] commands =
        [
            new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10),
            new ClusterCommand.RemoveMember("a@127.0.0.1", true),
            new ClusterCommand.SetMode("a@127.0.0.1", NodeModes.BlockNewSession),
            new ClusterCommand.ClaimSession("ch", "S1", "a@127.0.0.1", 42),
            new ClusterCommand.AddOwner("ch", "S1", "b@127.0.0.2"),
            new ClusterCommand.RemoveOwner("ch", "S1", "b@127.0.0.2"),
            new ClusterCommand.DestroySession("ch", "S1"),
            new ClusterCommand.Barrier(7),
            new ClusterCommand.ClaimExclusive("ch", "S1", "a@127.0.0.1", 43),
            new ClusterCommand.ReleaseSession("ch", "S1", "a@127.0.0.1"),
        ];
        foreach (var c in commands) Assert.Equal(c, ClusterCommand.TryDecode(c.Encode()));
    }

    [Fact]
    public void Claim_is_set_if_absent_first_claim_wins()
    {
        var s = new ClusterState();
        var first = s.Apply(new ClusterCommand.ClaimSession("ch", "S1", "a", 1));
        var second = s.Apply(new ClusterCommand.ClaimSession("ch", "S2", "b", 2));
        Assert.True(first.Created);
        Assert.Equal("S1", first.Value);
        Assert.False(second.Created);
        Assert.Equal("S1", second.Value);
        Assert.Equal(["a", "b"], s.View.Channels["ch"].Owners);
    }

    [Fact]
    public void Exclusive_claim_of_a_session_owned_elsewhere_fails_naming_the_owner_C_NOREL_2_C_MAJ_4()
    {
        var s = new ClusterState();
        Assert.True(s.Apply(new ClusterCommand.ClaimExclusive("ch", "S1", "a", 1)).Created);
        var other = s.Apply(new ClusterCommand.ClaimExclusive("ch", "S2", "b", 2));
        Assert.False(other.Ok);
        Assert.Equal("a", other.Value);
        Assert.Equal(["a"], s.View.Channels["ch"].Owners); // relay off: never two owners
        var again = s.Apply(new ClusterCommand.ClaimExclusive("ch", "S3", "a", 3));
        Assert.True(again.Ok);
        Assert.Equal("S1", again.Value);
    }

    [Fact]
    public void Release_by_the_last_owner_destroys_the_session_and_only_then()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.ClaimSession("ch", "S1", "a", 1));
        s.Apply(new ClusterCommand.ClaimSession("ch", "S9", "b", 2));
        Assert.Null(s.Apply(new ClusterCommand.ReleaseSession("ch", "S1", "a")).Value);
        Assert.Equal(["b"], s.View.Channels["ch"].Owners);
        Assert.True(s.Apply(new ClusterCommand.ReleaseSession("ch", "OLD", "b")).Ok); // another session's release: no-op
        Assert.True(s.View.Channels.ContainsKey("ch"));
        Assert.Equal("destroyed", s.Apply(new ClusterCommand.ReleaseSession("ch", "S1", "b")).Value);
        Assert.False(s.View.Channels.ContainsKey("ch"));
        // The channel's next claim starts a new session.
        Assert.True(s.Apply(new ClusterCommand.ClaimSession("ch", "S2", "a", 3)).Created);
    }

    [Fact]
    public void Three_concurrent_claims_agree_on_one_winner_on_every_replica()
    {
        // The log orders concurrent claims; replicas applying the same order agree (the multi-process test covers Raft).
        var claims = new[] { "a", "b", "c" }.Select((n, i) => new ClusterCommand.ClaimSession("room", "S-" + n, n, i)).ToArray();
        var replicas = Enumerable.Range(0, 3).Select(_ => new ClusterState()).ToArray();
        var results = replicas.Select(r => claims.Select(c => r.Apply(c)).ToArray()).ToArray();
        var winners = results.SelectMany(r => r.Select(x => x.Value)).Distinct().ToArray();
        Assert.Single(winners);
        Assert.All(results, r => Assert.Single(r, x => x.Created));
    }

    [Fact]
    public void Purged_name_cannot_be_added_again_C_MEM_4()
    {
        var s = new ClusterState();
        Assert.True(s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10)).Ok);
        Assert.True(s.Apply(new ClusterCommand.RemoveMember("a@127.0.0.1", Purge: true)).Ok);
        var again = s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10));
        Assert.False(again.Ok);
        Assert.Contains("purged", again.Error);
        Assert.DoesNotContain("a@127.0.0.1", s.View.Members.Keys);
    }

    [Fact]
    public void Member_count_is_bounded_by_license_max_nodes_C_MEM_8()
    {
        var s = new ClusterState();
        Assert.True(s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 2)).Ok);
        Assert.True(s.Apply(new ClusterCommand.AddMember(Member("b@127.0.0.2"), 2)).Ok);
        var third = s.Apply(new ClusterCommand.AddMember(Member("c@127.0.0.3"), 2));
        Assert.False(third.Ok);
        Assert.Contains("license_max_nodes", third.Error);
        // Re-registering an existing member is not a new member.
        Assert.True(s.Apply(new ClusterCommand.AddMember(Member("b@127.0.0.2"), 2)).Ok);
    }

    [Fact]
    public void Removing_a_member_drops_its_ownerships_and_orphaned_sessions()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.AddMember(Member("t@127.0.0.4", temp: true), 10));
        s.Apply(new ClusterCommand.ClaimSession("only-t", "S1", "t@127.0.0.4", 1));
        s.Apply(new ClusterCommand.ClaimSession("shared", "S2", "a", 1));
        s.Apply(new ClusterCommand.AddOwner("shared", "S2", "t@127.0.0.4"));
        s.Apply(new ClusterCommand.RemoveMember("t@127.0.0.4", Purge: false));
        Assert.False(s.View.Channels.ContainsKey("only-t"));
        Assert.Equal(["a"], s.View.Channels["shared"].Owners);
    }

    [Fact]
    public void Mode_is_replicated_per_member_and_validated_C_MODE_1()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10));
        Assert.True(s.Apply(new ClusterCommand.SetMode("a@127.0.0.1", NodeModes.BlockNewConnection)).Ok);
        Assert.Equal(NodeModes.BlockNewConnection, s.View.Members["a@127.0.0.1"].Mode);
        Assert.False(s.Apply(new ClusterCommand.SetMode("a@127.0.0.1", "maintenance")).Ok);
        Assert.False(s.Apply(new ClusterCommand.SetMode("nobody@127.0.0.9", NodeModes.Normal)).Ok);
    }

    [Fact]
    public void Destroy_and_release_only_touch_the_named_session()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.ClaimSession("ch", "S1", "a", 1));
        Assert.False(s.Apply(new ClusterCommand.DestroySession("ch", "OLD")).Ok);
        Assert.True(s.Apply(new ClusterCommand.RemoveOwner("ch", "S1", "a")).Ok);
        Assert.Empty(s.View.Channels["ch"].Owners);
        Assert.True(s.Apply(new ClusterCommand.DestroySession("ch", "S1")).Ok);
        Assert.Empty(s.View.Channels);
        Assert.False(s.Apply(new ClusterCommand.AddOwner("ch", "S1", "b")).Ok);
    }

    [Fact]
    public void Snapshot_round_trips_the_whole_state()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10));
        s.Apply(new ClusterCommand.AddMember(Member("t@127.0.0.4", true), 10));
        s.Apply(new ClusterCommand.RemoveMember("z@127.0.0.9", true));
        s.Apply(new ClusterCommand.ClaimSession("ch", "S1", "a@127.0.0.1", 5));
        var copy = new ClusterState();
        copy.Load(ClusterState.TryDecodeView(s.EncodeSnapshot())!);
        Assert.Equal(s.View.Members, copy.View.Members);
        Assert.Equal(s.View.Purged, copy.View.Purged);
        Assert.Equal(s.View.Channels["ch"].Owners, copy.View.Channels["ch"].Owners);
        Assert.Equal(s.View.Version, copy.View.Version);
    }

    [Fact]
    public void Unknown_or_corrupt_entries_are_skipped_and_counted_never_thrown()
    {
        var s = new ClusterState();
        var good = new ClusterCommand.ClaimSession("ch", "S1", "a", 1).Encode();
        var rng = new Random(1234);
        var skippedBefore = s.SkippedEntries;
        var inputs = 0;
        for (var i = 0; i < 50_000; i++)
        {
            byte[] data;
            switch (i % 4)
            {
                case 0: data = new byte[rng.Next(0, 64)]; rng.NextBytes(data); break;
                case 1: data = good[..rng.Next(0, good.Length)]; break; // truncation
                case 2:
                    data = (byte[])good.Clone();
                    data[rng.Next(data.Length)] ^= (byte)(1 << rng.Next(8));
                    break;
                default:
                    data = (byte[])good.Clone();
                    // a huge string length
                    data[4] = 0x7f;
                    break;
            }
            s.ApplyRaw(data); // must not throw
            inputs++;
        }
        Assert.Equal(50_000, inputs);
        Assert.True(s.SkippedEntries > skippedBefore);
        // A DotNext membership entry (first byte = member count) is skipped, not applied.
        Assert.Null(s.ApplyRaw(new byte[] { 0x04, 0, 0, 0, 1 }));
    }

    [Fact]
    public void Corrupt_snapshots_are_rejected_as_values()
    {
        var s = new ClusterState();
        s.Apply(new ClusterCommand.AddMember(Member("a@127.0.0.1"), 10));
        var snap = s.EncodeSnapshot();
        var rng = new Random(99);
        for (var i = 0; i < 20_000; i++)
        {
            var d = (byte[])snap.Clone();
            if (i % 2 == 0) d = d[..rng.Next(d.Length)];
            else d[rng.Next(d.Length)] = (byte)rng.Next(256);
            _ = ClusterState.TryDecodeView(d); // null or a view, never an exception
        }
        Assert.Null(ClusterState.TryDecodeView(snap[..^1]));
    }
}
