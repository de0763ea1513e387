using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Hibari.Cluster.Relay;
using Hibari.Cluster.Relay.Udp;
using Hibari.Rtc.Transport;
using static Hibari.Tests.Cluster.Relay.RelaySamples;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>
/// The receiving side of relay datagrams (D-31): routes, replay windows per sending worker, refusals counted per peer
/// or node-wide, and nothing thrown or allocated per datagram. Driven directly (as worker 0 would call it), then over
/// real sockets between two sets of media workers.
/// </summary>
public sealed class RelayUdpReceiverTests
{
    private const string Secret = "relay-test-secret";
    private const string Self = "n2@127.0.0.2";

    private sealed class Target : IRelayUdpTarget
    {
        public int Handed, Probes;
        public UInt128 LastSession;
        public uint LastSsrc;
        public byte[] LastRtp = [];
        public bool Known = true;
        public bool Copy = true;

        public bool HandRtp(ExternalRings rings, UInt128 session, uint ssrc, ReadOnlySpan<byte> rtp)
        {
            Interlocked.Increment(ref Handed);
            LastSession = session;
            LastSsrc = ssrc;
            if (Copy) LastRtp = rtp.ToArray();
            return Known;
        }

        public void OnProbe(RelayUdpReceiveRoute route) => Interlocked.Increment(ref Probes);
    }

    private static byte[] Rtp(ushort seq, int payload = 200)
    {
        var p = new byte[12 + payload];
        p[0] = 0x80;
        p[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
        return p;
    }

    /// <summary>What peer <paramref name="peer"/> sends on <paramref name="route"/> (the key it derives from the announcement).</summary>
    private static byte[] From(RelayUdpReceiveRoute route, string peer, ulong sequence, byte lane = 0, byte[]? rtp = null, string secret = Secret)
    {
        using var auth = new RelayDatagramAuth(RelayDatagramKeys.Derive(secret, route.Salt, peer, Self));
        var buffer = new byte[RelayDatagram.MaxDatagramBytes];
        var n = RelayDatagram.WriteRtp(buffer, auth, route.Id, lane, sequence, Session16, 0xAABBCCDD, RelayProtocol.NowMicros(), rtp ?? Rtp((ushort)sequence));
        return buffer[..n];
    }

    private static readonly SocketAddress Nowhere = new IPEndPoint(IPAddress.Loopback, 9).Serialize();

    [Fact]
    public void An_authenticated_datagram_is_handed_on_and_counted_once()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target();
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        Assert.NotEqual(0u, route.Id);

        var rtp = Rtp(1);
        var d = From(route, peer.Name, 1, rtp: rtp);
        receiver.OnDatagram(d, Nowhere);
        Assert.Equal(1, target.Handed);
        Assert.Equal(BinaryPrimitives.ReadUInt128BigEndian(Session16), target.LastSession);
        Assert.Equal(0xAABBCCDDu, target.LastSsrc);
        Assert.Equal(rtp, target.LastRtp);
        Assert.Equal((1, 1, 1, 1L, (long)d.Length), (peer.RtpReceived, peer.UdpRtpReceived, peer.FramesReceived, peer.Latency.Count, peer.BytesReceived));

        // The very same datagram again: a replay, refused before it costs a tag check, and not handed on.
        receiver.OnDatagram(d, Nowhere);
        Assert.Equal(1, target.Handed);
        Assert.Equal(1, peer.UdpReplayed);

        // Unknown track (TrackUp not applied yet): counted as before.
        target.Known = false;
        receiver.OnDatagram(From(route, peer.Name, 2), Nowhere);
        Assert.Equal(1, peer.RtpUnknownTrack);
    }

    [Fact]
    public void Replays_too_old_sequences_and_forgeries_are_refused_per_lane_and_forgeries_never_move_the_window()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target();
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        void Feed(byte[] d) => receiver.OnDatagram(d, Nowhere);

        Feed(From(route, peer.Name, 100));
        Feed(From(route, peer.Name, 98)); // late but inside the 64-packet window: accepted once
        Feed(From(route, peer.Name, 98));
        Assert.Equal((2, 1L), (target.Handed, peer.UdpReplayed));
        Feed(From(route, peer.Name, 100 - 64)); // too old
        Assert.Equal((2, 2L), (target.Handed, peer.UdpReplayed));
        // Another lane (another worker of the sender) has its own sequence space.
        Feed(From(route, peer.Name, 1, lane: 1));
        Feed(From(route, peer.Name, 2, lane: 1));
        Assert.Equal(4, target.Handed);

        // A forged datagram far ahead (bad tag) is refused and does not move the window: 101 still arrives.
        var forged = From(route, peer.Name, 1_000_000);
        forged[^1] ^= 1;
        Feed(forged);
        Assert.Equal(1, peer.UdpRefused);
        Feed(From(route, peer.Name, 101));
        Assert.Equal(5, target.Handed);

        // Sent with another secret, or by a third node that learned the route id: refused as bad tags.
        Feed(From(route, peer.Name, 102, secret: "another-secret"));
        Feed(From(route, "n3@127.0.0.3", 103));
        Assert.Equal((5, 3L), (target.Handed, peer.UdpRefused));
        Assert.Equal(0, receiver.Failed);
    }

    [Fact]
    public void Unknown_and_closed_routes_and_malformed_datagrams_are_counted_node_wide()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target();
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var a = receiver.Open(peer, Secret, Self);
        var b = receiver.Open(peer, Secret, Self);
        Assert.NotEqual(a.Id, b.Id);
        Assert.NotEqual(a.Salt, b.Salt);
        Assert.Equal(2, receiver.RouteCount);

        var onA = From(a, peer.Name, 1);
        receiver.Close(a);
        Assert.Equal(1, receiver.RouteCount);
        receiver.OnDatagram(onA, Nowhere);
        Assert.Equal(1, receiver.UnknownRoute);
        // A datagram keyed for route a but addressed to route b: the salts differ, so the key does too.
        BinaryPrimitives.WriteUInt32BigEndian(onA.AsSpan(4), b.Id);
        receiver.OnDatagram(onA, Nowhere);
        Assert.Equal(1, peer.UdpRefused);
        receiver.OnDatagram([RelayDatagram.Marker, 1, 2], Nowhere);
        receiver.OnDatagram(new byte[3000], Nowhere);
        Assert.Equal(2, receiver.Malformed);
        Assert.Equal(0, target.Handed);
    }

    [Fact]
    public void A_probe_is_reported_once_per_datagram_and_not_handed_on()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target();
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        using var auth = new RelayDatagramAuth(RelayDatagramKeys.Derive(Secret, route.Salt, peer.Name, Self));
        var buffer = new byte[100];
        var n = RelayDatagram.WriteProbe(buffer, auth, route.Id, 0, 1, 0);
        receiver.OnDatagram(buffer.AsSpan(0, n), Nowhere);
        receiver.OnDatagram(buffer.AsSpan(0, n), Nowhere); // replayed probe
        Assert.Equal((1, 0, 1L), (target.Probes, target.Handed, peer.UdpReplayed));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Random_datagrams_never_throw_out_of_the_receiver_and_are_all_refused()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target();
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        var rng = new Random(5);
        var seed = From(route, peer.Name, 1);
        for (var i = 0; i < 20_000; i++)
        {
            byte[] d;
            if (i % 2 == 0)
            {
                d = new byte[rng.Next(0, 2100)];
                rng.NextBytes(d);
                if (d.Length > 8) { d[0] = RelayDatagram.Marker; d[1] = 1; d[2] = (byte)rng.Next(64); d[3] = 0; }
                if (d.Length > 8 && rng.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), route.Id);
                if (d.Length > 44) d[44] = 0x80;
            }
            else
            {
                d = (byte[])seed.Clone();
                d[rng.Next(d.Length)] ^= (byte)(1 << rng.Next(8));
            }
            receiver.OnDatagram(d, Nowhere);
        }
        Assert.Equal(0, target.Handed);
        Assert.Equal(0, receiver.Failed);
        Assert.True(peer.UdpRefused + peer.UdpReplayed > 5_000, $"{peer.UdpRefused} bad tags, {peer.UdpReplayed} replays");
    }

    [Fact]
    public void Receiving_allocates_nothing_per_datagram()
    {
        using var worker = new MediaWorker(IPAddress.Loopback, 0);
        var target = new Target { Copy = false };
        var receiver = new RelayUdpReceiver(target, worker);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        var datagrams = Enumerable.Range(1, 4 * 1000).Select(i => From(route, peer.Name, (ulong)i, rtp: Rtp((ushort)i, 1000))).ToArray();
        var next = 0;
        void Run()
        {
            for (var i = 0; i < 1000; i++) receiver.OnDatagram(datagrams[next++], Nowhere);
        }
        Run(); // warm-up
        Assert.Equal(0, Allocations.Min(Run));
        Assert.Equal(next, target.Handed);
    }

    /// <summary>
    /// Two "nodes" in one process, each its own media workers on loopback: a send route on n1's worker 1 writes datagrams
    /// into its batch, n2's worker 0 (the demux hook) authenticates them and hands them on — every one arrives, the sending
    /// worker allocates nothing per packet, and n2's worker counts none as garbage.
    /// </summary>
    [Fact]
    public async Task Datagrams_flow_between_real_media_workers_every_one_arrives_and_sending_allocates_nothing()
    {
        using var n1 = new MediaWorkers(IPAddress.Loopback, 0, 2);
        using var n2 = new MediaWorkers(IPAddress.Loopback, 0, 1);
        n1.Start();
        n2.Start();
        var target = new Target { Copy = false };
        var receiver = new RelayUdpReceiver(target, n2[0]);
        n2[0].SetDatagramHandler(RelayDatagram.Marker, receiver);
        var peer = new RelayPeer("n1@127.0.0.1");
        var route = receiver.Open(peer, Secret, Self);
        var send = new RelayUdpSendRoute(n2[0].LocalEndPoint, route.Id, route.Salt, RelayDatagramKeys.Derive(Secret, route.Salt, peer.Name, Self));
        var w = n1[1];
        var packets = Enumerable.Range(0, 64).Select(i => Rtp((ushort)i, 1000)).ToArray();
        long SendRound()
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var p in packets) Assert.True(send.TrySendRtp(w, Session16, 0xAABBCCDD, RelayProtocol.NowMicros(), p) > 0);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        async Task<long> Rounds(int rounds)
        {
            var least = long.MaxValue;
            for (var r = 0; r < rounds; r++)
            {
                var expected = target.Handed + packets.Length;
                least = Math.Min(least, await On(w, SendRound));
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (Volatile.Read(ref target.Handed) < expected)
                {
                    if (DateTime.UtcNow > deadline) Assert.Fail($"{target.Handed} of {expected} datagrams arrived (refused {peer.UdpRefused}, replayed {peer.UdpReplayed}, malformed {receiver.Malformed})");
                    await Task.Delay(1);
                }
            }
            return least;
        }
        await Rounds(10); // warm-up: the lane, JIT
        Assert.Equal(0, await Rounds(50));
        Assert.Equal(60 * 64, target.Handed);
        Assert.Equal(60 * 64, peer.UdpRtpReceived);
        Assert.Equal(0, peer.UdpRefused + peer.UdpReplayed + receiver.Malformed + receiver.UnknownRoute + receiver.Failed);
        Assert.Equal(0, n2[0].Garbage);
        Assert.True(w.DatagramsSent > w.SendSystemCalls, "the datagrams went out in batches");

        // Retired: the route carries nothing more (the caller falls back to the node link).
        send.Retire(n1);
        Assert.Equal(0, await On(w, () => (long)send.TrySendRtp(w, Session16, 1, 0, packets[0])));
    }

    private static Task<T> On<T>(MediaWorker worker, Func<T> run)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Post(() =>
        {
            try { done.SetResult(run()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
