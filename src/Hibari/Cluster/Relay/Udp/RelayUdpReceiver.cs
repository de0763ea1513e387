using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using Hibari.Rtc.Srtp;
using Hibari.Rtc.Transport;

namespace Hibari.Cluster.Relay.Udp;

/// <summary>What the receiver does with an authenticated datagram (the relay service; tests put their own).</summary>
internal interface IRelayUdpTarget
{
    /// <summary>Worker 0: a relayed RTP packet of the peer's track; false: no such track here (yet).</summary>
    bool HandRtp(Rtc.Transport.ExternalRings rings, UInt128 session, uint ssrc, ReadOnlySpan<byte> rtp);
    /// <summary>Worker 0: an authenticated probe on <paramref name="route"/>: tell the peer its datagrams arrive.</summary>
    void OnProbe(RelayUdpReceiveRoute route);
}

/// <summary>
/// One peer's way in (docs/decisions.md D-31): the route id and key this node announced to it, and a replay window per
/// sending worker of the peer. Created by <see cref="RelayUdpReceiver.Open"/> on any thread; after that the key object
/// and the windows belong to the receiving worker.
/// </summary>
internal sealed class RelayUdpReceiveRoute
{
    internal RelayUdpReceiveRoute(RelayPeer peer, uint id, UInt128 salt, byte[] key)
    {
        Peer = peer;
        Id = id;
        Salt = salt;
        Auth = new RelayDatagramAuth(key);
    }

    public RelayPeer Peer { get; }
    public uint Id { get; }
    public UInt128 Salt { get; }
    internal RelayDatagramAuth Auth { get; }
    // One 64-index window per lane (the sender's media worker): each lane's sequence rises on its own.
    internal readonly ReplayWindow[] Windows = new ReplayWindow[RelayDatagram.MaxLanes];
}

/// <summary>
/// Relay datagrams into this node (docs/decisions.md D-31, docs/threads.md): media worker 0 gives every datagram whose
/// first byte is <see cref="RelayDatagram.Marker"/> to <see cref="OnDatagram"/>, on its own thread. It checks the layout,
/// finds the route, refuses replays (before the tag: cheap) and bad tags, moves the window only after the tag verified,
/// then hands the RTP packet to the worker that owns the relayed track through a ring, exactly as a link reader does
/// (<see cref="IRelayUdpTarget.HandRtp"/>). Nothing here throws out of the worker's loop or allocates per datagram.
/// </summary>
internal sealed class RelayUdpReceiver : IWorkerDatagramHandler
{
    private readonly IRelayUdpTarget _target;
    private readonly Lock _gate = new();
    private RelayUdpReceiveRoute[] _routes = [];
    private long _malformed, _unknownRoute, _failed;

    public RelayUdpReceiver(IRelayUdpTarget target, MediaWorker worker)
    {
        _target = target;
        Worker = worker;
    }

    /// <summary>The worker whose socket receives the datagrams (worker 0) and that owns the routes' windows and keys.</summary>
    public MediaWorker Worker { get; }
    /// <summary>Relayed packets on their way from the receiving worker to the workers that own the tracks (it is their one producer).</summary>
    public ExternalRings Rings { get; } = new();
    /// <summary>Datagrams refused before a route was known: malformed, or a route id this node never gave (or took back).</summary>
    public long Malformed => Interlocked.Read(ref _malformed);
    public long UnknownRoute => Interlocked.Read(ref _unknownRoute);
    /// <summary>Datagrams whose handling failed unexpectedly (a bug: counted, the worker goes on).</summary>
    public long Failed => Interlocked.Read(ref _failed);
    public int RouteCount => Volatile.Read(ref _routes).Length;

    /// <summary>
    /// Any thread: a new way in for <paramref name="peer"/>: a fresh route id (non-zero, unused here) and salt, and the key
    /// of the peer's datagrams to <paramref name="self"/> under them. Announce both to the peer (UdpEndpoint).
    /// </summary>
    public RelayUdpReceiveRoute Open(RelayPeer peer, string secret, string self)
    {
        Span<byte> random = stackalloc byte[20];
        lock (_gate)
        {
            uint id;
            do
            {
                RandomNumberGenerator.Fill(random);
                id = BinaryPrimitives.ReadUInt32BigEndian(random);
            } while (id == 0 || Array.Exists(_routes, r => r.Id == id));
            var salt = BinaryPrimitives.ReadUInt128BigEndian(random[4..]);
            var route = new RelayUdpReceiveRoute(peer, id, salt, RelayDatagramKeys.Derive(secret, salt, peer.Name, self));
            Volatile.Write(ref _routes, [.. _routes, route]);
            return route;
        }
    }

    /// <summary>Any thread: the route takes no more datagrams; its key object is disposed on the worker afterwards.</summary>
    public void Close(RelayUdpReceiveRoute route)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_routes, route) < 0) return;
            Volatile.Write(ref _routes, _routes.Where(r => r != route).ToArray());
        }
        Worker.Post(route.Auth.Dispose);
    }

    /// <summary>Worker 0's thread: one datagram with the relay's first byte.</summary>
    public void OnDatagram(Span<byte> datagram, SocketAddress from)
    {
        try
        {
            Receive(datagram);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failed); // never out of the worker's loop (it would drop the rest of its batch)
        }
    }

    private void Receive(ReadOnlySpan<byte> datagram)
    {
        if (!RelayDatagram.TryParse(datagram, out var view, out _))
        {
            Interlocked.Increment(ref _malformed);
            return;
        }
        var route = Find(view.RouteId);
        if (route is null)
        {
            Interlocked.Increment(ref _unknownRoute);
            return;
        }
        var peer = route.Peer;
        ref var window = ref route.Windows[view.Lane];
        if (window.Check(view.Sequence) != SrtpResult.Ok)
        {
            Interlocked.Increment(ref peer.UdpReplayed);
            return;
        }
        if (!RelayDatagram.Verify(route.Auth, view))
        {
            Interlocked.Increment(ref peer.UdpRefused);
            return;
        }
        window.Accept(view.Sequence);
        Interlocked.Increment(ref peer.FramesReceived);
        Interlocked.Add(ref peer.BytesReceived, datagram.Length);
        if (view.Kind == RelayDatagramKind.Probe)
        {
            _target.OnProbe(route);
            return;
        }
        Interlocked.Increment(ref peer.RtpReceived);
        Interlocked.Increment(ref peer.UdpRtpReceived);
        peer.Latency.Add(RelayProtocol.NowMicros() - view.SentAtMicros);
        var session = BinaryPrimitives.ReadUInt128BigEndian(view.SessionId16);
        if (!_target.HandRtp(Rings, session, view.Ssrc, view.Rtp)) Interlocked.Increment(ref peer.RtpUnknownTrack);
    }

    private RelayUdpReceiveRoute? Find(uint id)
    {
        foreach (var r in Volatile.Read(ref _routes))
            if (r.Id == id) return r;
        return null;
    }
}
