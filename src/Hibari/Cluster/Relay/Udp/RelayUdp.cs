using System.Net;
using Hibari.Rtc.Transport;
using Hibari.Sfu;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Relay.Udp;

/// <summary>
/// Relayed RTP over UDP between the nodes' media workers (docs/decisions.md D-31; layouts in docs/relay-frames.md):
/// <list type="number">
/// <item>Both Hellos offer <see cref="RelayCapabilities.UdpMedia"/> (<c>cluster_relay_udp = true</c> on both nodes).</item>
/// <item>Each node opens a way in for the peer — a route id, a fresh salt, the key HKDF(cluster_secret, salt, peer → self)
/// on its worker 0's receiver — and announces it with its worker 0's endpoint (UdpEndpoint, on the link).</item>
/// <item>The peer builds its send route from that, and probes it from its worker 0 (once a second until answered); the
/// receiver answers an authenticated probe with UdpConfirm on the link. Until then RTP stays on the link, so a
/// firewall that drops the datagrams costs nothing but the warning.</item>
/// <item>Confirmed: each media worker writes its relayed packets as datagrams into its own send batch
/// (<see cref="RelayUdpSendRoute.TrySendRtp"/>); control frames stay on the link.</item>
/// </list>
/// A new Hello (a new link) opens a new route with a new salt, so a restarted node never meets its old sequences; a dead
/// link retires both directions (RTP falls back to the link when it comes back, until the new route is confirmed).
/// Threads: announcements and confirms on link readers and the reconcile loop (per-peer <see cref="RelayPeer.UdpGate"/>),
/// datagrams on media workers.
/// </summary>
internal sealed class RelayUdp : IRelayUdpTarget
{
    private const long ProbeIntervalMs = 1000;
    private const long WarnAfterMs = 5000;

    private readonly RelayService _relay;
    private readonly SfuEngine _sfu;
    private readonly string _self;
    private readonly string _secret;
    private readonly IPAddress? _hostAddress;
    private readonly ILogger _log;
    private MediaWorkers? _workers;
    private RelayUdpReceiver? _receiver;
    private IPEndPoint? _announced;
    private int _loggedNoAddress;

    /// <param name="hostAddress">The address to announce when the media workers listen on a wildcard address (node_name's host, when it is an IP).</param>
    public RelayUdp(RelayService relay, SfuEngine sfu, string self, string secret, bool enabled, IPAddress? hostAddress, ILogger log)
    {
        _relay = relay;
        _sfu = sfu;
        _self = self;
        _secret = secret;
        _hostAddress = hostAddress;
        _log = log;
        Enabled = enabled && secret.Length > 0;
    }

    /// <summary><c>cluster_relay_udp</c>: this node offers UdpMedia in its Hellos.</summary>
    public bool Enabled { get; }
    public RelayUdpReceiver? Receiver => Volatile.Read(ref _receiver);
    /// <summary>The endpoint this node announces (worker 0), once the workers run.</summary>
    public IPEndPoint? Announced => Volatile.Read(ref _announced);

    /// <summary>After the SFU started: worker 0 takes the relay's datagrams; owed announcements go out on the next reconcile.</summary>
    public void Start(MediaWorkers workers)
    {
        if (!Enabled) return;
        var worker = workers[0];
        var local = worker.LocalEndPoint;
        var address = local.Address;
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) address = _hostAddress ?? address;
        var receiver = new RelayUdpReceiver(this, worker);
        worker.SetDatagramHandler(RelayDatagram.Marker, receiver);
        Volatile.Write(ref _workers, workers);
        Volatile.Write(ref _receiver, receiver);
        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            if (Interlocked.Exchange(ref _loggedNoAddress, 1) == 0)
                _log.LogWarning("Relay over UDP: media workers listen on {Address} and node_name's host is not an IP: relayed RTP stays on the node links",
                    address);
            return;
        }
        Volatile.Write(ref _announced, new IPEndPoint(address, local.Port));
    }

    // ------------------------------------------------------------------ our way in

    /// <summary>Link reader: the peer's Hello; when both offer UDP, a (new) way in is owed to it.</summary>
    public void OnHello(RelayPeer p)
    {
        if (!Enabled) return;
        p.UdpPendingEndpoint = null; // a new link: its own UdpEndpoint follows this Hello
        if ((p.Shared & RelayCapabilities.UdpMedia) == 0)
        {
            lock (p.UdpGate)
            {
                p.UdpAnnounceWanted = false;
                CloseReceive(p);
                RetireSend(p); // an older build on a new link: back to TCP
            }
            return;
        }
        p.UdpAnnounceWanted = true;
        TryAnnounce(p);
    }

    /// <summary>Opens a new route for <paramref name="p"/> (closing its previous one) and announces it; false while that cannot be done yet.</summary>
    private bool TryAnnounce(RelayPeer p)
    {
        lock (p.UdpGate)
        {
            if (!p.UdpAnnounceWanted) return true;
            if (Receiver is not { } receiver || Announced is not { } endPoint || p.Version is null) return false;
            CloseReceive(p);
            var route = receiver.Open(p, _secret, _self);
            p.UdpReceive = route;
            if (!_relay.SendFrame(p, new RelayUdpEndpoint(endPoint.Address, (ushort)endPoint.Port, route.Id, route.Salt)))
            {
                CloseReceive(p); // the link is gone: retried when it is back
                return false;
            }
            p.UdpAnnounceWanted = false;
            _log.LogInformation("Relay over UDP: {Peer} may send RTP to {EndPoint} (route {Route:x8})", p.Name, endPoint, route.Id);
            return true;
        }
    }

    private void CloseReceive(RelayPeer p)
    {
        if (p.UdpReceive is { } old)
        {
            p.UdpReceive = null;
            Receiver?.Close(old);
        }
    }

    /// <summary>Worker 0: an authenticated probe from the peer: its datagrams arrive, say so on the link.</summary>
    void IRelayUdpTarget.OnProbe(RelayUdpReceiveRoute route)
    {
        if (route.Peer.UdpReceive == route) _relay.SendFrame(route.Peer, new RelayUdpConfirm(route.Id));
    }

    /// <summary>Worker 0: an authenticated RTP datagram, handed to the owning worker like a link reader would.</summary>
    bool IRelayUdpTarget.HandRtp(ExternalRings rings, UInt128 session, uint ssrc, ReadOnlySpan<byte> rtp) =>
        _sfu.HandRelayedRtp(rings, session, ssrc, rtp);

    // ------------------------------------------------------------------ our way out

    /// <summary>Link reader: the peer's way in. Builds the send route and probes it; RTP uses it once confirmed.</summary>
    public void OnEndpoint(RelayPeer p, RelayUdpEndpoint e)
    {
        if (!Enabled || (p.Shared & RelayCapabilities.UdpMedia) == 0) return; // not offered by us: ignored
        if (Volatile.Read(ref _workers) is not { } workers)
        {
            p.UdpPendingEndpoint = e; // links come up before the media workers: applied once they run (Reconcile)
            return;
        }
        var local = workers[0].LocalEndPoint.AddressFamily;
        if (e.Address.AddressFamily != local)
        {
            _log.LogWarning("Relay over UDP: {Peer} announced {Address}, not reachable from this node's {Family} media sockets: RTP stays on the link",
                p.Name, e.Address, local);
            return;
        }
        lock (p.UdpGate)
        {
            if (p.UdpSend is { } current && current.RouteId == e.RouteId && current.Salt == e.Salt) return; // the same announcement again: same key, keep its sequences
            RetireSend(p);
            var route = new RelayUdpSendRoute(new IPEndPoint(e.Address, e.Port), e.RouteId, e.Salt, RelayDatagramKeys.Derive(_secret, e.Salt, _self, p.Name));
            p.UdpSend = route;
            Probe(route, workers);
        }
    }

    /// <summary>Link reader: the peer received our probe on <paramref name="c"/>'s route.</summary>
    public void OnConfirm(RelayPeer p, RelayUdpConfirm c)
    {
        if (p.UdpSend is not { } route || route.RouteId != c.RouteId || route.Confirmed) return;
        route.Confirmed = true;
        _log.LogInformation("Relay over UDP: RTP to {Peer} now goes to {EndPoint}", p.Name, route.EndPoint);
    }

    private static void Probe(RelayUdpSendRoute route, MediaWorkers workers)
    {
        if (!route.ProbeDue(ProbeIntervalMs)) return;
        var w0 = workers[0];
        w0.Post(() => route.SendProbe(w0));
    }

    private void RetireSend(RelayPeer p)
    {
        if (p.UdpSend is { } old)
        {
            p.UdpSend = null;
            old.Retire(_workers);
        }
    }

    // ------------------------------------------------------------------ life

    /// <summary>Reconcile loop (every 250 ms): owed announcements; probes of routes not yet confirmed (once a second).</summary>
    public void Reconcile(RelayPeer p)
    {
        if (!Enabled) return;
        if (p.UdpAnnounceWanted) TryAnnounce(p);
        if (p.UdpPendingEndpoint is { } pending && Volatile.Read(ref _workers) is not null)
        {
            p.UdpPendingEndpoint = null;
            OnEndpoint(p, pending);
        }
        if (p.UdpSend is { Confirmed: false, Retired: false } route && _workers is { } workers)
        {
            Probe(route, workers);
            if (!route.Warned && Environment.TickCount64 - route.Created > WarnAfterMs)
            {
                route.Warned = true;
                _log.LogWarning("Relay over UDP: {Peer}'s media port {EndPoint} does not answer ({Probes} probes): RTP stays on the node link; "
                    + "open UDP between the nodes' rtc_udp_port (docs/operations.md) or set cluster_relay_udp = false", p.Name, route.EndPoint, route.ProbesSent);
            }
        }
    }

    /// <summary>The link died: both directions go; a new link starts over from its Hellos.</summary>
    public void OnPeerDown(RelayPeer p)
    {
        lock (p.UdpGate)
        {
            p.UdpAnnounceWanted = false;
            p.UdpPendingEndpoint = null;
            CloseReceive(p);
            RetireSend(p);
        }
    }
}
