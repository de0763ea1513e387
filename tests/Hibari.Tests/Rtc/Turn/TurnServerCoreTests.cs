using System.Buffers.Binary;
using System.Net;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>The allocation state machine (RFC 8656 §7–§12) with an injected clock.</summary>
public class TurnServerCoreTests
{
    private const long Second = 1_000_000;

    private static (TurnFixture F, TurnTestClient Client, IPEndPoint Relayed) Allocated(TurnClientKey? key = null, TurnFixture? fixture = null)
    {
        var f = fixture ?? new TurnFixture();
        var client = f.Client(key);
        var response = client.Allocate();
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        return (f, client, TurnTestClient.Relayed(response));
    }

    [Fact]
    public void Allocate_gives_a_relayed_address_in_range_the_default_lifetime_and_the_mapped_address()
    {
        var f = new TurnFixture();
        var client = f.Client(TurnFixture.Udp("192.0.2.10", 40000));
        var response = client.Allocate();
        var relayed = TurnTestClient.Relayed(response);
        Assert.Equal(IPAddress.Parse("203.0.113.5"), relayed.Address);
        Assert.InRange(relayed.Port, 50000, 50099);
        Assert.Equal(600u, TurnTestClient.Lifetime(response));
        Assert.True(response.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), mapped);
        var created = Assert.Single(f.Created);
        Assert.Equal(new TurnAllocationInfo(client.Key, EndpointKey.From(relayed), "alice"), created);
        Assert.True(f.Core.TryGetAllocation(client.Key, client.Now, out var info));
        Assert.Equal(created, info);
    }

    [Theory]
    [InlineData(0u, 600u)]
    [InlineData(60u, 600u)]
    [InlineData(1200u, 1200u)]
    [InlineData(3600u, 3600u)]
    [InlineData(100_000u, 3600u)]
    [InlineData(uint.MaxValue, 3600u)]
    public void Requested_lifetime_is_clamped_between_default_and_maximum(uint requested, uint granted)
    {
        var f = new TurnFixture();
        var client = f.Client();
        Assert.Equal(granted, TurnTestClient.Lifetime(client.Allocate(requested)));
        Assert.Equal(granted, TurnTestClient.Lifetime(client.Refresh(requested == 0 ? 1 : requested)));
    }

    [Fact]
    public void Refresh_extends_the_allocation_and_lifetime_zero_deletes_it()
    {
        var (f, client, _) = Allocated();
        client.Now += 500 * Second;
        Assert.Equal(600u, TurnTestClient.Lifetime(client.Refresh()));
        client.Now += 500 * Second; // 1000 s after allocating: alive only thanks to the refresh
        f.Core.Expire(client.Now);
        Assert.Equal(1, f.Core.AllocationCount);

        var delete = client.Refresh(0);
        Assert.Equal(StunClass.SuccessResponse, delete.Class);
        Assert.Equal(0u, TurnTestClient.Lifetime(delete));
        client.AssertSigned(delete);
        Assert.Equal(0, f.Core.AllocationCount);
        Assert.Single(f.Removed);
        Assert.Equal(1, f.Counters().AllocationsDeleted);
        Assert.Equal(437, TurnTestClient.ErrorCode(client.Refresh())); // nothing left to refresh
    }

    [Fact]
    public void Requests_without_an_allocation_on_this_5_tuple_get_437()
    {
        var (f, _, _) = Allocated();
        var other = f.Client(TurnFixture.Udp(port: 41000));
        Assert.Equal(437, TurnTestClient.ErrorCode(other.Refresh()));
        Assert.Equal(437, TurnTestClient.ErrorCode(other.CreatePermission(TurnFixture.Media0)));
        Assert.Equal(437, TurnTestClient.ErrorCode(other.ChannelBind(0x4000, TurnFixture.Media0)));
        Assert.Equal(3, f.Counters().AllocationMismatches);
    }

    [Fact]
    public void Second_allocate_on_the_same_5_tuple_is_437_but_a_retransmission_gets_the_same_success()
    {
        var f = new TurnFixture();
        var client = f.Client();
        client.Allocate(); // challenge round trip done; now a signed allocate with a known transaction id
        client.Refresh(0);
        var tx = TurnTestClient.NewTransactionId();
        var request = client.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0]), transactionId: tx);
        var first = client.Send(request).Response!;
        Assert.Equal(StunClass.SuccessResponse, first.Class);
        client.Now += 2 * Second;
        var again = client.Send(request).Response!;
        Assert.Equal(StunClass.SuccessResponse, again.Class);
        client.AssertSigned(again);
        Assert.Equal(TurnTestClient.Relayed(first), TurnTestClient.Relayed(again));
        Assert.Equal(598u, TurnTestClient.Lifetime(again)); // what is left, not a new lifetime
        Assert.Equal(1, f.Core.AllocationCount);

        var fresh = client.Allocate();
        Assert.Equal(437, TurnTestClient.ErrorCode(fresh));
        client.AssertSigned(fresh);
        Assert.Equal(2, f.Counters().AllocationsCreated);
    }

    [Fact]
    public void Tcp_connections_from_the_same_address_are_different_5_tuples_and_closing_one_removes_its_allocation()
    {
        var f = new TurnFixture();
        var one = f.Client(TurnFixture.Tcp(1));
        var two = f.Client(TurnFixture.Tcp(2));
        var r1 = TurnTestClient.Relayed(one.Allocate());
        var r2 = TurnTestClient.Relayed(two.Allocate());
        Assert.NotEqual(r1, r2);
        f.Core.CloseClient(one.Key);
        Assert.Equal(1, f.Core.AllocationCount);
        Assert.Equal(one.Key, Assert.Single(f.Removed).Client);
        f.Core.CloseClient(one.Key); // twice: nothing more
        Assert.Single(f.Removed);
    }

    [Fact]
    public void Requested_transport_other_than_udp_is_442_and_missing_is_400()
    {
        var f = new TurnFixture();
        var client = f.Client();
        var tcp = client.Request(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [6, 0, 0, 0]));
        Assert.Equal(442, TurnTestClient.ErrorCode(tcp));
        client.AssertSigned(tcp);
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Request(TurnMethod.Allocate)));
        Assert.Equal(0, f.Core.AllocationCount);
    }

    [Fact]
    public void Address_families_ipv6_requested_is_440_additional_ipv6_gets_ipv4_with_address_error_code_both_is_400()
    {
        var f = new TurnFixture();
        var client = f.Client();
        Assert.Equal(440, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.RequestedAddressFamily, [2, 0, 0, 0]))));
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w
            .Add(TurnAttributeType.RequestedAddressFamily, [1, 0, 0, 0]).Add(TurnAttributeType.AdditionalAddressFamily, [2, 0, 0, 0]))));
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.AdditionalAddressFamily, [1, 0, 0, 0]))));

        var dual = client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.AdditionalAddressFamily, [2, 0, 0, 0]));
        Assert.Equal(StunClass.SuccessResponse, dual.Class);
        Assert.Equal(System.Net.Sockets.AddressFamily.InterNetwork, TurnTestClient.Relayed(dual).AddressFamily);
        Assert.True(dual.TryGetAttribute(TurnAttributeType.AddressErrorCode, out var error));
        Assert.Equal(new byte[] { 2, 0, 4, 40 }, error[..4].ToArray());

        // An IPv4 allocation refuses IPv6 peers with 443; IPv4 requested explicitly is fine.
        Assert.Equal(443, TurnTestClient.ErrorCode(client.CreatePermission(TurnFixture.MediaV6)));
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 40100))
            .Allocate(extra: (w, _) => w.Add(TurnAttributeType.RequestedAddressFamily, [1, 0, 0, 0])).Class);
    }

    [Fact]
    public void An_ipv6_relay_address_serves_clients_that_ask_for_ipv6_only()
    {
        var f = new TurnFixture(relayAddress: "2001:db8::5");
        var client = f.Client();
        Assert.Equal(440, TurnTestClient.ErrorCode(client.Allocate()));
        var response = client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.RequestedAddressFamily, [2, 0, 0, 0]));
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Equal(IPAddress.Parse("2001:db8::5"), TurnTestClient.Relayed(response).Address);
        Assert.Equal(StunClass.SuccessResponse, client.CreatePermission(TurnFixture.MediaV6).Class);
        Assert.Equal(443, TurnTestClient.ErrorCode(client.CreatePermission(TurnFixture.Media0)));
    }

    [Fact]
    public void Even_port_without_reservation_gives_an_even_port_and_reservations_are_refused_with_508()
    {
        var f = new TurnFixture(portMin: 50001, portMax: 50010);
        var client = f.Client();
        Assert.Equal(508, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.EvenPort, [0x80]))));
        Assert.Equal(508, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.ReservationToken, new byte[8]))));
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.ReservationToken, new byte[8]).Add(TurnAttributeType.EvenPort, [0]))));
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.EvenPort, [0x80]).Add(TurnAttributeType.AdditionalAddressFamily, [2, 0, 0, 0]))));
        var even = client.Allocate(extra: (w, _) => w.Add(TurnAttributeType.EvenPort, [0]));
        Assert.Equal(0, TurnTestClient.Relayed(even).Port % 2);
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 40100)).Allocate(extra: (w, _) => w.Add(TurnAttributeType.DontFragment, [])).Class);
    }

    [Fact]
    public void Per_user_quota_is_486_and_total_capacity_is_508()
    {
        var f = new TurnFixture(maxPerUser: 2, maxAllocations: 3);
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 1)).Allocate().Class);
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 2)).Allocate().Class);
        var third = f.Client(TurnFixture.Udp(port: 3)).Allocate();
        Assert.Equal(486, TurnTestClient.ErrorCode(third));
        Assert.Equal(1, f.Counters().QuotaReached);
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 4), "bob").Allocate().Class);
        Assert.Equal(508, TurnTestClient.ErrorCode(f.Client(TurnFixture.Udp(port: 5), "bob").Allocate()));
        Assert.Equal(1, f.Counters().InsufficientCapacity);

        // Freeing one makes room again.
        f.Core.CloseClient(TurnFixture.Udp(port: 1));
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 3)).Allocate().Class);
    }

    [Fact]
    public void No_free_relay_port_is_508()
    {
        var f = new TurnFixture(portMin: 60000, portMax: 60001);
        f.Passwords["carol"] = "c";
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 1)).Allocate().Class);
        Assert.Equal(StunClass.SuccessResponse, f.Client(TurnFixture.Udp(port: 2), "bob").Allocate().Class);
        Assert.Equal(508, TurnTestClient.ErrorCode(f.Client(TurnFixture.Udp(port: 3), "carol").Allocate()));
    }

    [Fact]
    public void Relayed_ports_stay_unique_among_live_allocations_through_churn()
    {
        var f = new TurnFixture(portMin: 50000, portMax: 50019, maxPerUser: 100);
        var rng = new Random(5);
        var live = new Dictionary<int, TurnClientKey>();
        var nextPort = 1;
        var now = 1_000_000L;
        for (var step = 0; step < 400; step++)
        {
            now += 1000;
            if (live.Count > 0 && (rng.Next(3) == 0 || live.Count == 20))
            {
                var victim = live.ElementAt(rng.Next(live.Count));
                f.Core.CloseClient(victim.Value);
                live.Remove(victim.Key);
                continue;
            }
            var client = f.Client(TurnFixture.Udp(port: nextPort++));
            client.Now = now;
            var response = client.Allocate();
            Assert.Equal(StunClass.SuccessResponse, response.Class);
            var port = TurnTestClient.Relayed(response).Port;
            Assert.InRange(port, 50000, 50019);
            Assert.True(live.TryAdd(port, client.Key), $"port {port} handed out twice");
            Assert.Equal(live.Count, f.Core.AllocationCount);
        }
    }

    [Fact]
    public void Create_permission_for_allowed_peers_lets_send_through_and_expires_after_300_s()
    {
        var (f, client, relayed) = Allocated();
        Assert.Equal(StunClass.SuccessResponse, client.CreatePermission(TurnFixture.Media0).Class);
        var payload = new byte[] { 1, 2, 3, 4, 5, 6, 7 };
        var send = client.SendIndication(TurnFixture.Media0, payload);

        var (action, _, _) = client.Send(send);
        Assert.Equal(TurnActionKind.ForwardToPeer, action.Kind);
        Assert.Equal(EndpointKey.From(relayed), action.Relayed);
        Assert.Equal(EndpointKey.From(TurnFixture.Media0), action.Peer);
        Assert.Equal(payload, send[action.PayloadOffset..(action.PayloadOffset + action.PayloadLength)]);
        // The permission is per IP address: the node's other media port is reachable too.
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(client.SendIndication(TurnFixture.Media1, payload)).Action.Kind);

        client.Now += 299 * Second;
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(send).Action.Kind);
        client.Now += 2 * Second;
        Assert.Equal(TurnActionKind.None, client.Send(send).Action.Kind);
        Assert.Equal(1, f.Counters().DroppedNoPermission);
        Assert.Equal(3, f.Counters().ClientToPeerPackets);
        Assert.Equal(21, f.Counters().ClientToPeerBytes);

        // Refreshing the permission brings it back.
        Assert.Equal(StunClass.SuccessResponse, client.CreatePermission(TurnFixture.Media0).Class);
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(send).Action.Kind);
    }

    [Fact]
    public void Create_permission_with_any_forbidden_peer_is_403_and_installs_none()
    {
        var (f, client, _) = Allocated();
        var response = client.CreatePermission(TurnFixture.Media0, TurnFixture.Outsider);
        Assert.Equal(403, TurnTestClient.ErrorCode(response));
        client.AssertSigned(response);
        Assert.Equal(1, f.Counters().ForbiddenPeers);
        Assert.Equal(TurnActionKind.None, client.Send(client.SendIndication(TurnFixture.Media0, [1])).Action.Kind);
        Assert.Equal(400, TurnTestClient.ErrorCode(client.CreatePermission())); // no XOR-PEER-ADDRESS at all
    }

    [Fact]
    public void Send_to_a_forbidden_port_on_a_permitted_address_is_dropped_and_counted()
    {
        var (f, client, _) = Allocated();
        client.CreatePermission(TurnFixture.Media0);
        Assert.Equal(TurnActionKind.None, client.Send(client.SendIndication(TurnFixture.SameHostOtherPort, [1, 2])).Action.Kind);
        Assert.Equal(1, f.Counters().ForbiddenPeers);
        Assert.Equal(TurnActionKind.None, client.Send(client.SendIndication(TurnFixture.Outsider, [1, 2])).Action.Kind);
        Assert.Equal(1, f.Counters().DroppedNoPermission);
        Assert.Equal(0, f.Counters().ClientToPeerPackets);
    }

    [Fact]
    public void Send_without_an_allocation_is_dropped_silently()
    {
        var f = new TurnFixture();
        var client = f.Client();
        Assert.Equal(TurnActionKind.None, client.Send(client.SendIndication(TurnFixture.Media0, [1])).Action.Kind);
        Assert.Equal(1, f.Counters().DroppedNoAllocation);
    }

    [Fact]
    public void Channel_bind_installs_permission_and_channel_data_forwards_the_payload_after_the_header()
    {
        var (f, client, relayed) = Allocated();
        var bind = client.ChannelBind(0x4000, TurnFixture.Media1);
        Assert.Equal(StunClass.SuccessResponse, bind.Class);
        client.AssertSigned(bind);
        var payload = Enumerable.Range(0, 101).Select(i => (byte)i).ToArray();
        foreach (var pad in new[] { false, true })
        {
            var data = TurnTestClient.ChannelData(0x4000, payload, pad);
            var (action, _, _) = client.Send(data);
            Assert.Equal(TurnActionKind.ForwardToPeer, action.Kind);
            Assert.Equal(4, action.PayloadOffset);
            Assert.Equal(101, action.PayloadLength);
            Assert.Equal(EndpointKey.From(TurnFixture.Media1), action.Peer);
            Assert.Equal(EndpointKey.From(relayed), action.Relayed);
        }
        // The binding installed a permission for the address: Send indications work too.
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(client.SendIndication(TurnFixture.Media0, [9])).Action.Kind);
        // An unbound channel is dropped.
        Assert.Equal(TurnActionKind.None, client.Send(TurnTestClient.ChannelData(0x4001, payload, false)).Action.Kind);
        Assert.Equal(1, f.Counters().DroppedNoPermission);
    }

    [Fact]
    public void Channel_bind_rules_range_rebinding_and_forbidden_peers()
    {
        var (f, client, _) = Allocated();
        Assert.Equal(400, TurnTestClient.ErrorCode(client.ChannelBind(0x3FFF, TurnFixture.Media0)));
        Assert.Equal(400, TurnTestClient.ErrorCode(client.ChannelBind(0x5000, TurnFixture.Media0)));
        Assert.Equal(403, TurnTestClient.ErrorCode(client.ChannelBind(0x4000, TurnFixture.Outsider)));
        Assert.Equal(403, TurnTestClient.ErrorCode(client.ChannelBind(0x4000, TurnFixture.SameHostOtherPort)));
        Assert.Equal(StunClass.SuccessResponse, client.ChannelBind(0x4000, TurnFixture.Media0).Class);
        Assert.Equal(StunClass.SuccessResponse, client.ChannelBind(0x4000, TurnFixture.Media0).Class); // refresh
        Assert.Equal(400, TurnTestClient.ErrorCode(client.ChannelBind(0x4000, TurnFixture.Media1))); // channel taken by another peer
        Assert.Equal(400, TurnTestClient.ErrorCode(client.ChannelBind(0x4001, TurnFixture.Media0))); // peer has another channel
        Assert.Equal(StunClass.SuccessResponse, client.ChannelBind(0x4FFF, TurnFixture.Media1).Class);
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Request(TurnMethod.ChannelBind,
            (w, _) => w.Add(TurnAttributeType.ChannelNumber, TurnTestClient.UInt32(0x4002u << 16))))); // no peer
        Assert.Equal(2, f.Counters().ForbiddenPeers);
    }

    [Fact]
    public void Channel_binding_lasts_600_s_and_its_number_is_free_again_after_expiry()
    {
        var (f, client, _) = Allocated();
        client.Refresh(3600);
        client.ChannelBind(0x4000, TurnFixture.Media0);
        client.Now += 290 * Second;
        client.CreatePermission(TurnFixture.Media0); // keep the permission alive on its own
        client.Now += 290 * Second;
        client.CreatePermission(TurnFixture.Media0);
        client.Now += 19 * Second; // 599 s
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(TurnTestClient.ChannelData(0x4000, [1], false)).Action.Kind);
        client.Now += 2 * Second; // 601 s: channel gone, permission still alive
        Assert.Equal(TurnActionKind.None, client.Send(TurnTestClient.ChannelData(0x4000, [1], false)).Action.Kind);
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(client.SendIndication(TurnFixture.Media0, [1])).Action.Kind);
        f.Core.Expire(client.Now);
        Assert.Equal(StunClass.SuccessResponse, client.ChannelBind(0x4000, TurnFixture.Media1).Class);
    }

    [Fact]
    public void Channel_data_from_the_client_needs_only_the_binding_but_data_from_the_peer_needs_the_permission()
    {
        var (f, client, relayed) = Allocated();
        client.ChannelBind(0x4000, TurnFixture.Media0);
        client.Now += 400 * Second; // permission (300 s) gone, channel (600 s) alive
        Assert.Equal(TurnActionKind.ForwardToPeer, client.Send(TurnTestClient.ChannelData(0x4000, [1], false)).Action.Kind); // §12.6
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1], new byte[80], client.Now, out _, out _)); // §11.3
        Assert.Equal(1, f.Counters().DroppedNoPermission);
        client.ChannelBind(0x4000, TurnFixture.Media0); // the refresh reinstalls the permission
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1], new byte[80], client.Now, out _, out _));
    }

    [Fact]
    public void Another_users_credentials_on_an_allocation_get_441()
    {
        var (f, alice, _) = Allocated();
        var bob = new TurnTestClient(f.Core, alice.Key, "bob", "bob-secret-22") { Realm = alice.Realm, Nonce = alice.Nonce, Now = alice.Now };
        var response = bob.Refresh();
        Assert.Equal(441, TurnTestClient.ErrorCode(response));
        bob.AssertSigned(response);
        Assert.Equal(441, TurnTestClient.ErrorCode(bob.CreatePermission(TurnFixture.Media0)));
    }

    [Fact]
    public void Wrap_from_peer_without_a_channel_is_a_data_indication_the_client_can_read()
    {
        var (f, client, relayed) = Allocated();
        client.CreatePermission(TurnFixture.Media0);
        var payload = new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 0x01 };
        var output = new byte[payload.Length + 64];
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), payload, output, client.Now, out var to, out var length));
        Assert.Equal(client.Key, to);
        var data = StunMessage.Parse(output.AsSpan(0, length)).Message!;
        Assert.Equal(TurnMethod.Data, data.Method);
        Assert.Equal(StunClass.Indication, data.Class);
        Assert.True(data.TryGetAttribute(TurnAttributeType.XorPeerAddress, out var peer));
        Assert.Equal(TurnFixture.Media0, TurnTestClient.ReadXorAddress(peer, data.TransactionId));
        Assert.True(data.TryGetAttribute(TurnAttributeType.Data, out var got));
        Assert.Equal(payload, got.ToArray());
        Assert.Equal(1, f.Counters().PeerToClientPackets);
        Assert.Equal(5, f.Counters().PeerToClientBytes);
    }

    [Theory]
    [InlineData(false, 4 + 5)]
    [InlineData(true, 4 + 8)]
    public void Wrap_from_peer_with_a_channel_is_channel_data_padded_only_on_streams(bool tcp, int expected)
    {
        var (f, client, relayed) = Allocated(tcp ? TurnFixture.Tcp(9) : TurnFixture.Udp());
        client.ChannelBind(0x4123, TurnFixture.Media0);
        var output = new byte[100];
        output.AsSpan().Fill(0xEE);
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1, 2, 3, 4, 5], output, client.Now, out var to, out var length));
        Assert.Equal(client.Key, to);
        Assert.Equal(expected, length);
        Assert.Equal(TurnTestClient.ChannelData(0x4123, [1, 2, 3, 4, 5], tcp), output[..length]);
        if (tcp) Assert.Equal(length, TurnFraming.FrameLength(output.AsSpan(0, length)));
        // Another port of the same host has a permission but no channel: a Data indication.
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media1), [1], output, client.Now, out _, out length));
        Assert.Equal(TurnMethod.Data, StunMessage.Parse(output.AsSpan(0, length)).Message!.Method);
    }

    [Fact]
    public void Wrap_from_peer_refuses_unknown_relayed_addresses_missing_permissions_and_small_buffers()
    {
        var (f, client, relayed) = Allocated();
        var output = new byte[200];
        var peer = EndpointKey.From(TurnFixture.Media0);
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), peer, [1], output, client.Now, out _, out _));
        Assert.Equal(1, f.Counters().DroppedNoPermission);
        client.CreatePermission(TurnFixture.Media0);
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(new IPEndPoint(relayed.Address, relayed.Port + 1)), peer, [1], output, client.Now, out _, out _));
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(new IPEndPoint(IPAddress.Parse("203.0.113.6"), relayed.Port)), peer, [1], output, client.Now, out _, out _));
        Assert.Equal(2, f.Counters().DroppedNoAllocation);
        // IPv4 Data indication: header 20 + XOR-PEER-ADDRESS 12 + DATA header 4 + data padded to 4.
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), peer, new byte[165], output, client.Now, out _, out _));
        Assert.Equal(1, f.Counters().DroppedOversize);
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), peer, new byte[164], output, client.Now, out _, out var length));
        Assert.Equal(200, length);
    }

    [Fact]
    public void Bandwidth_over_the_budget_is_dropped_and_counted_in_both_directions_and_refills_with_time()
    {
        var f = new TurnFixture(bytesPerSecond: 10_000);
        var (_, client, relayed) = Allocated(fixture: f);
        client.ChannelBind(0x4000, TurnFixture.Media0);
        var packet = TurnTestClient.ChannelData(0x4000, new byte[1000], false);
        var forwarded = 0;
        for (var i = 0; i < 8; i++)
            if (client.Send(packet).Action.Kind == TurnActionKind.ForwardToPeer) forwarded++;
        Assert.Equal(8, forwarded);
        var output = new byte[1100];
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), new byte[1000], output, client.Now, out _, out _));
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), new byte[1000], output, client.Now, out _, out _));
        // 10 000 bytes spent in the same instant: the next is dropped, either way.
        Assert.Equal(TurnActionKind.None, client.Send(packet).Action.Kind);
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), new byte[1000], output, client.Now, out _, out _));
        Assert.Equal(2, f.Counters().DroppedOverBudget);

        client.Now += Second / 2; // 5 000 bytes back
        forwarded = 0;
        for (var i = 0; i < 8; i++)
            if (client.Send(packet).Action.Kind == TurnActionKind.ForwardToPeer) forwarded++;
        Assert.Equal(5, forwarded);
        client.Now += 60 * Second; // never more than one second's worth
        forwarded = 0;
        for (var i = 0; i < 20; i++)
            if (client.Send(packet).Action.Kind == TurnActionKind.ForwardToPeer) forwarded++;
        Assert.Equal(10, forwarded);
    }

    [Fact]
    public void Expire_removes_allocations_whose_lifetime_ran_out_and_raises_removed()
    {
        var f = new TurnFixture();
        var early = f.Client(TurnFixture.Udp(port: 1));
        var late = f.Client(TurnFixture.Udp(port: 2));
        early.Allocate();
        late.Now += 100 * Second;
        late.Allocate();
        f.Core.Expire(early.Now + 599 * Second);
        Assert.Equal(2, f.Core.AllocationCount);
        f.Core.Expire(early.Now + 600 * Second);
        Assert.Equal(1, f.Core.AllocationCount);
        Assert.Equal(early.Key, Assert.Single(f.Removed).Client);
        Assert.Equal(1, f.Counters().AllocationsExpired);
        f.Core.Expire(late.Now + 600 * Second);
        Assert.Equal(0, f.Core.AllocationCount);
        Assert.Equal(2, f.Removed.Count);
    }

    [Fact]
    public void Removed_handlers_may_call_back_into_the_core_during_expire()
    {
        var f = new TurnFixture();
        var alice = f.Client(TurnFixture.Udp(port: 1));
        var bob = f.Client(TurnFixture.Udp(port: 2), "bob");
        alice.Allocate();
        bob.Allocate();
        f.Core.AllocationRemoved += _ => f.Core.RevokeUser("bob");
        f.Core.Expire(alice.Now + 600 * Second);
        Assert.Equal(0, f.Core.AllocationCount);
        Assert.Equal(2, f.Removed.Count);
        Assert.Equal(1, f.Counters().AllocationsExpired);
        Assert.Equal(1, f.Counters().AllocationsRevoked);
    }

    [Fact]
    public void An_expired_allocation_is_gone_for_data_and_requests_even_before_expire_runs()
    {
        var (f, client, relayed) = Allocated();
        client.ChannelBind(0x4000, TurnFixture.Media0);
        client.Now += 600 * Second;
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1], new byte[80], client.Now, out _, out _));
        Assert.Equal(TurnActionKind.None, client.Send(TurnTestClient.ChannelData(0x4000, [1], false)).Action.Kind);
        Assert.Single(f.Removed); // noticed on use
        Assert.Equal(StunClass.SuccessResponse, client.Allocate().Class); // the 5-tuple is free again
    }

    [Fact]
    public void Expire_prunes_permissions_so_data_from_the_peer_stops()
    {
        var (f, client, relayed) = Allocated();
        client.CreatePermission(TurnFixture.Media0);
        var output = new byte[100];
        Assert.True(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1], output, client.Now + 299 * Second, out _, out _));
        f.Core.Expire(client.Now + 300 * Second);
        Assert.False(f.Core.WrapFromPeer(EndpointKey.From(relayed), EndpointKey.From(TurnFixture.Media0), [1], output, client.Now + 300 * Second, out _, out _));
        Assert.Equal(1, f.Core.AllocationCount);
    }

    [Fact]
    public void Garbage_is_dropped_on_udp_and_closes_a_stream()
    {
        var f = new TurnFixture();
        var udp = f.Client();
        var tcp = f.Client(TurnFixture.Tcp(4));
        byte[][] garbage = [[], [0x80, 1, 2, 3], [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x43, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0x40, 0x00, 0x00, 0x09, 1]];
        foreach (var g in garbage)
        {
            Assert.Equal(TurnActionKind.None, udp.Send(g).Action.Kind);
            var action = tcp.Send(g).Action;
            Assert.Equal(TurnActionKind.RespondAndClose, action.Kind);
            Assert.Equal(0, action.ResponseLength);
        }
        Assert.Equal(2 * garbage.Length, f.Counters().Malformed);
    }

    [Fact]
    public void Bad_fingerprint_is_malformed_and_unanswered()
    {
        var f = new TurnFixture();
        var client = f.Client();
        var request = client.Build(TurnMethod.Binding);
        request[^1] ^= 1;
        Assert.Equal(TurnActionKind.None, client.Send(request).Action.Kind);
        Assert.Equal(1, f.Counters().Malformed);
    }

    [Fact]
    public void Responses_other_indications_and_unknown_methods()
    {
        var f = new TurnFixture();
        var client = f.Client();
        Assert.Equal(TurnActionKind.None, client.Send(client.Build(TurnMethod.Allocate, cls: StunClass.SuccessResponse)).Action.Kind);
        Assert.Equal(TurnActionKind.None, client.Send(client.Build(TurnMethod.Data, cls: StunClass.Indication)).Action.Kind);
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Send(client.Build(TurnMethod.Send)).Response!)); // Send as a request
        Assert.Equal(400, TurnTestClient.ErrorCode(client.Send(client.Build(0x00A)).Response!)); // Connect (RFC 6062): not offered
    }

    [Fact]
    public void The_data_path_does_not_allocate()
    {
        var (f, client, relayed) = Allocated();
        client.ChannelBind(0x4000, TurnFixture.Media0);
        client.CreatePermission(TurnFixture.Media1);
        var channelData = TurnTestClient.ChannelData(0x4000, new byte[1200], false);
        var send = client.SendIndication(TurnFixture.Media1, new byte[1200]);
        var sendWithFingerprint = TurnTestClient.AppendFingerprint(send); // as libwebrtc sends them
        var response = new byte[1500];
        var output = new byte[1300];
        var r = EndpointKey.From(relayed);
        var m0 = EndpointKey.From(TurnFixture.Media0);
        var m1 = EndpointKey.From(TurnFixture.Media1);
        var key = client.Key;
        var now = client.Now;
        void Run()
        {
            for (var i = 0; i < 100; i++)
            {
                now += 10_000;
                f.Core.HandleFromClient(key, channelData, response, now);
                f.Core.HandleFromClient(key, send, response, now);
                f.Core.HandleFromClient(key, sendWithFingerprint, response, now);
                f.Core.WrapFromPeer(r, m0, channelData.AsSpan(4), output, now, out _, out _);
                f.Core.WrapFromPeer(r, m1, channelData.AsSpan(4), output, now, out _, out _);
            }
        }
        Run();
        Assert.Equal(0, Allocations.Min(Run));
        Assert.True(f.Counters().ClientToPeerPackets >= 300);
        Assert.Equal(0, f.Counters().Malformed);
        Assert.True(f.Counters().PeerToClientPackets >= 200);
    }
}
