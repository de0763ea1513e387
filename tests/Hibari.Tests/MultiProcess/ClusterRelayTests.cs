using System.Net;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.MultiProcess;

/// <summary>
/// Relay between real node processes on 127.0.0.1–3 with the load tool's clients (affinity off, so clients stay where
/// they connect): media decrypted at subscribers on other nodes, each packet sent once per remote node, relay only for
/// sessions that span nodes, and relay that lasts after one node's clients left. Asserted from GetStatsReport
/// `cluster_relay` counters.
/// </summary>
[Collection("processes")]
public sealed class ClusterRelayTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private readonly ClusterHarness _h = new();
    private readonly List<SyntheticClient> _clients = [];
    private NodeProcess _n1 = null!, _n2 = null!, _n3 = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _h.DisposeAsync();
    }

    private async Task StartAsync(params string[] settings) =>
        (_n1, _n2, _n3) = await _h.StartServingClusterAsync(["default_cluster_affinity=false", "session_destroy_delay_ms=500", .. settings]);

    private async Task<SyntheticClient> ConnectAsync(NodeProcess node, string channel, string role)
    {
        var c = new SyntheticClient(new Uri($"ws://{node.Ip}:{node.SignalingPort}/signaling"), channel,
            new SyntheticClientOptions { Role = role, Certificate = Certificate });
        _clients.Add(c);
        await c.ConnectAsync();
        Assert.Null(c.RedirectedTo); // affinity off: served where it connected (C-REL-1)
        return c;
    }

    /// <summary>GetStatsReport `cluster_relay` of <paramref name="on"/> for <paramref name="peer"/> (null: no entry yet).</summary>
    private static async Task<JsonNode?> RelayStatsAsync(NodeProcess on, NodeProcess peer)
    {
        var (status, body, _) = await on.ApiAsync("Sora_20171010.GetStatsReport");
        Assert.Equal(200, status);
        return body!["cluster_relay"]!.AsArray().FirstOrDefault(e => (string?)e!["node_name"] == peer.NodeName);
    }

    private static long Long(JsonNode? n, string name) => n?[name]?.GetValue<long>() ?? 0;

    [Fact]
    public async Task A_publisher_on_one_node_reaches_subscribers_on_two_others_once_per_node_over_the_cluster_ports_C_RELAY_2_C_RELAY_4_C_RELAY_5()
    {
        await StartAsync();
        const string ch = "relay-fanout";
        var pub = await ConnectAsync(_n1, ch, "sendonly");
        var sub2a = await ConnectAsync(_n2, ch, "recvonly");
        var sub2b = await ConnectAsync(_n2, ch, "recvonly");
        var sub3 = await ConnectAsync(_n3, ch, "recvonly");
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await _h.EventuallyAsync("every subscriber on n2 and n3 receives relayed packets",
            () => Task.FromResult(new[] { sub2a, sub2b, sub3 }.All(s => s.PacketsReceived > 200)), TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        foreach (var s in new[] { sub2a, sub2b, sub3 }) Assert.Equal(0, s.DecryptFailures);

        // Quiet now: what n1 sent each node equals what that node received, and is one copy per packet, not per subscriber.
        long sentTo2 = 0, sentTo3 = 0;
        await _h.EventuallyAsync("relay counters settle", async () =>
        {
            var to2 = await RelayStatsAsync(_n1, _n2);
            var to3 = await RelayStatsAsync(_n1, _n3);
            var at2 = await RelayStatsAsync(_n2, _n1);
            var at3 = await RelayStatsAsync(_n3, _n1);
            sentTo2 = Long(to2, "total_sent_rtp");
            sentTo3 = Long(to3, "total_sent_rtp");
            return sentTo2 > 0 && sentTo2 == Long(at2, "total_received_rtp") && sentTo3 > 0 && sentTo3 == Long(at3, "total_received_rtp");
        }, TimeSpan.FromSeconds(20));
        output.WriteLine($"publisher sent {pub.PacketsSent}; n1 relayed {sentTo2} to n2 (2 subscribers: {sub2a.PacketsReceived}, {sub2b.PacketsReceived}) and {sentTo3} to n3 ({sub3.PacketsReceived})");
        Assert.True(sentTo2 <= pub.PacketsSent, $"n1 sent {sentTo2} packets to n2 for {pub.PacketsSent} published: more than one copy per packet");
        Assert.True(sentTo3 <= pub.PacketsSent);
        // What n1 took from the publisher went to each node once, no more, and none was lost on the way: the relay's
        // counts match at both ends (above), and no subscriber has a gap in what it received. Only the first packets can
        // miss a node: those n1 received before that node's subscription reached it over the link (a subscriber's connect
        // returns before its node has told n1): 1 of 208 on a quiet machine, 8 of 234 with the load average at 20.
        var (_, stats, _) = await _n1.ApiAsync("Sora_20170529.GetStatsConnection", $$"""{"channel_id":"{{ch}}","connection_id":"{{pub.ConnectionId}}"}""");
        var receivedAtN1 = stats!["hibari"]!["published"]!.AsObject().Sum(t => t.Value!["total_received_rtp"]!.GetValue<long>());
        output.WriteLine($"n1 received {receivedAtN1} of the publisher's {pub.PacketsSent} packets; subscribers' gaps: {sub2a.PacketsLost}, {sub2b.PacketsLost}, {sub3.PacketsLost}");
        foreach (var s in new[] { sub2a, sub2b, sub3 }) Assert.Equal(0, s.PacketsLost);
        foreach (var sent in new[] { sentTo2, sentTo3 })
            Assert.InRange(sent, receivedAtN1 - 62, receivedAtN1); // the start-up miss stays under a second of packets (62/s)
        Assert.True(sub2a.PacketsReceived + sub2b.PacketsReceived > sentTo2, "n2 fanned one relayed copy out to both of its subscribers");
        Assert.Equal(0, Long(await RelayStatsAsync(_n1, _n2), "total_send_failures"));
        // C-RELAY-5, D-31: by default (cluster_relay_udp = false) the RTP rode the node links, none went in datagrams.
        foreach (var peer in new[] { _n2, _n3 })
        {
            var sent = await RelayStatsAsync(_n1, peer);
            Assert.Equal("tcp", (string?)sent?["rtp_transport"]);
            Assert.Equal(0, Long(sent, "total_sent_rtp_udp"));
            Assert.Equal(0, Long(await RelayStatsAsync(peer, _n1), "total_received_rtp_udp"));
        }
        // n1's publisher got key-frame requests from the remote subscribers (PLI relayed back).
        Assert.True(pub.PliReceived > 0);
        AssertNodeTrafficStaysInTheClusterPortRange();
    }

    /// <summary>
    /// C-RELAY-5: between the nodes' addresses, every established TCP connection other than clients' API/signaling
    /// connections (this test's own) uses a port of the cluster range (49010–49020: node links, which carry the relay,
    /// and Raft), and at least one exists. Read from /proc/net/tcp.
    /// </summary>
    private void AssertNodeTrafficStaysInTheClusterPortRange()
    {
        var nodes = new[] { _n1, _n2, _n3 };
        var ips = nodes.Select(n => IPAddress.Parse(n.Ip)).ToHashSet();
        var clientPorts = nodes.SelectMany(n => new[] { n.ApiPort, n.SignalingPort }).ToHashSet();
        var between = new List<(IPEndPoint Local, IPEndPoint Remote)>();
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4 || f[3] != "01") continue; // ESTABLISHED
            var local = Parse(f[1]);
            var remote = Parse(f[2]);
            if (!ips.Contains(local.Address) || !ips.Contains(remote.Address) || local.Address.Equals(remote.Address)) continue;
            if (clientPorts.Contains(local.Port) || clientPorts.Contains(remote.Port)) continue;
            between.Add((local, remote));
        }
        output.WriteLine("node-to-node TCP: " + string.Join(", ", between.Select(b => $"{b.Local} → {b.Remote}")));
        Assert.NotEmpty(between);
        Assert.All(between, b => Assert.True(b.Local.Port is >= 49010 and <= 49020 || b.Remote.Port is >= 49010 and <= 49020,
            $"{b.Local} → {b.Remote} is outside the cluster port range"));

        static IPEndPoint Parse(string hex)
        {
            var parts = hex.Split(':');
            var ip = new IPAddress(BitConverter.GetBytes(Convert.ToUInt32(parts[0], 16)));
            return new IPEndPoint(ip, Convert.ToInt32(parts[1], 16));
        }
    }

    /// <summary>
    /// D-31: nodes with <c>cluster_relay_udp = true</c> carry relayed RTP between them in datagrams (every datagram arrives,
    /// none refused); a node without it (the default) offers no UDP in its Hellos, so its links carry RTP as before (over
    /// TCP, both ways); every packet arrives either way.
    /// </summary>
    [Fact]
    public async Task With_cluster_relay_udp_on_two_nodes_their_relayed_media_goes_in_datagrams_and_a_node_without_it_stays_on_the_node_link()
    {
        string[] common = ["default_cluster_affinity=false", "session_destroy_delay_ms=500"];
        _n1 = _h.Add("n1", 1, settings: [.. common, "cluster_relay_udp=true"]);
        _n2 = _h.Add("n2", 2, settings: common);
        _n3 = _h.Add("n3", 3, settings: [.. common, "cluster_relay_udp=true"]);
        await _h.StartAllAsync(_n1, _n2, _n3);
        await ClusterHarness.InitClusterAsync(_n1, _n1, _n2, _n3);
        foreach (var n in new[] { _n1, _n2, _n3 })
            await _h.EventuallyAsync($"{n.Name} serves", async () =>
                (await Signaling.ConnectAndWaitForCloseAsync(n, n.SignalingPort)).Reason == Signaling.Served, TimeSpan.FromSeconds(30));
        const string ch = "relay-udp-off";
        var pub = await ConnectAsync(_n1, ch, "sendonly");
        var sub2 = await ConnectAsync(_n2, ch, "recvonly");
        var sub3 = await ConnectAsync(_n3, ch, "recvonly");
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await _h.EventuallyAsync("both subscribers receive relayed packets",
            () => Task.FromResult(sub2.PacketsReceived > 200 && sub3.PacketsReceived > 200), TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        await _h.EventuallyAsync("relay counters settle", async () =>
        {
            var to2 = await RelayStatsAsync(_n1, _n2);
            var to3 = await RelayStatsAsync(_n1, _n3);
            return Long(to2, "total_sent_rtp") > 0 && Long(to2, "total_sent_rtp") == Long(await RelayStatsAsync(_n2, _n1), "total_received_rtp")
                && Long(to3, "total_sent_rtp") > 0 && Long(to3, "total_sent_rtp") == Long(await RelayStatsAsync(_n3, _n1), "total_received_rtp");
        }, TimeSpan.FromSeconds(20));
        var toTcp = await RelayStatsAsync(_n1, _n2);
        var toUdp = await RelayStatsAsync(_n1, _n3);
        output.WriteLine($"n1 → n2: {toTcp?.ToJsonString()}\nn1 → n3: {toUdp?.ToJsonString()}");
        Assert.Equal("tcp", (string?)toTcp?["rtp_transport"]);
        Assert.Equal(0, Long(toTcp, "total_sent_rtp_udp"));
        Assert.Equal(0, Long(await RelayStatsAsync(_n2, _n1), "total_received_rtp_udp"));
        Assert.Equal("tcp", (string?)(await RelayStatsAsync(_n2, _n1))?["rtp_transport"]);
        Assert.Equal("udp", (string?)toUdp?["rtp_transport"]);
        // The first packets may take the link while the route is being confirmed; then datagrams, all of them arriving.
        Assert.True(Long(toUdp, "total_sent_rtp_udp") > Long(toUdp, "total_sent_rtp") / 2,
            $"only {Long(toUdp, "total_sent_rtp_udp")} of {Long(toUdp, "total_sent_rtp")} went over UDP");
        var atUdp = await RelayStatsAsync(_n3, _n1);
        Assert.Equal(Long(toUdp, "total_sent_rtp_udp"), Long(atUdp, "total_received_rtp_udp"));
        Assert.Equal(0, Long(atUdp, "total_refused_udp") + Long(atUdp, "total_replayed_udp") + Long(atUdp, "total_refused"));
        Assert.True(Long(toTcp, "total_sent_rtp") >= pub.PacketsSent / 2, $"n1 relayed only {Long(toTcp, "total_sent_rtp")} of {pub.PacketsSent} packets to n2");
        foreach (var s in new[] { sub2, sub3 }) Assert.Equal(0, s.DecryptFailures);
    }

    [Fact]
    public async Task A_session_on_one_node_sends_nothing_over_the_relay_C_RELAY_1()
    {
        await StartAsync();
        const string ch = "relay-local";
        var pub = await ConnectAsync(_n1, ch, "sendonly");
        var sub = await ConnectAsync(_n1, ch, "recvonly");
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await _h.EventuallyAsync("the local subscriber receives", () => Task.FromResult(sub.PacketsReceived > 200), TimeSpan.FromSeconds(20));
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        foreach (var peer in new[] { _n2, _n3 })
        {
            var s = await RelayStatsAsync(_n1, peer);
            output.WriteLine($"n1 → {peer.Name}: {s?.ToJsonString()}");
            Assert.Equal(0, Long(s, "total_sent_rtp"));
            Assert.Equal(0, Long(s, "total_sent_messages"));
            // Link set-up only: the Hello, the UdpEndpoint and the UdpConfirm answering the peer's probe(s) (one a second until answered).
            Assert.True(Long(s, "total_sent") <= 5, $"n1 sent {Long(s, "total_sent")} relay frames to {peer.Name}: only link set-up frames were expected");
        }
    }

    [Fact]
    public async Task Relay_goes_on_after_one_nodes_clients_all_left_until_the_session_ends_C_RELAY_3()
    {
        await StartAsync();
        const string ch = "relay-lasts";
        var pub = await ConnectAsync(_n1, ch, "sendonly");
        var sub = await ConnectAsync(_n2, ch, "recvonly");
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await _h.EventuallyAsync("the subscriber on n2 receives", () => Task.FromResult(sub.PacketsReceived > 100), TimeSpan.FromSeconds(20));
        await sub.DisconnectAsync();
        await _h.EventuallyAsync("n2 has no connections", async () =>
            (await _n2.ApiAsync("Sora_20171010.GetStatsReport")).Body?["total_ongoing_connections"]?.GetValue<long>() == 0);
        // Well past session_destroy_delay_ms (500 ms): n2's part of the session and the relay to it remain.
        await Task.Delay(2000);
        var before = Long(await RelayStatsAsync(_n1, _n2), "total_sent_rtp");
        await _h.EventuallyAsync("n1 still relays to n2", async () => Long(await RelayStatsAsync(_n1, _n2), "total_sent_rtp") > before + 50,
            TimeSpan.FromSeconds(10));
        // The session ends when its last client anywhere leaves: then the relay stops.
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        await pub.DisconnectAsync();
        await _h.EventuallyAsync("the channel is gone from the cluster", async () =>
        {
            var (_, body, _) = await _n3.ApiAsync("Sora_20211215.ListClusterChannels");
            return body!.AsArray().All(c => (string?)c!["channel_id"] != ch);
        }, TimeSpan.FromSeconds(20));
    }
}
