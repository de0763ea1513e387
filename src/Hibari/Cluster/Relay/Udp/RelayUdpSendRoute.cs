using System.Net;
using System.Net.Sockets;
using Hibari.Rtc.Transport;

namespace Hibari.Cluster.Relay.Udp;

/// <summary>
/// How this node sends relayed RTP to one peer over UDP (docs/decisions.md D-31): the peer's media worker 0, the route
/// id and key of the peer's UdpEndpoint announcement, and one lane per local media worker — its own sequence, key
/// object and scratch buffer, touched only by that worker. Built on a link reader, published on <see cref="RelayPeer.UdpSend"/>,
/// used by the workers once <see cref="Confirmed"/>; a newer announcement or a dead link retires it.
/// </summary>
internal sealed class RelayUdpSendRoute
{
    /// <summary>Relay datagrams a worker's batch holds at most before it is flushed early.</summary>
    internal const int FlushEvery = 8;
    private readonly byte[] _key;
    private readonly Lane?[] _lanes = new Lane?[RelayDatagram.MaxLanes];
    private volatile bool _retired;
    private long _lastProbeTicks;

    public RelayUdpSendRoute(IPEndPoint endPoint, uint routeId, UInt128 salt, byte[] key)
    {
        EndPoint = endPoint;
        Address = endPoint.Serialize();
        RouteId = routeId;
        Salt = salt;
        _key = key;
        Created = Environment.TickCount64;
    }

    public IPEndPoint EndPoint { get; }
    /// <summary>The destination as the send batch takes it (copied into each slot: never changed after construction).</summary>
    public SocketAddress Address { get; }
    public uint RouteId { get; }
    public UInt128 Salt { get; }
    /// <summary>When the route was built (Environment.TickCount64).</summary>
    public long Created { get; }
    /// <summary>The peer answered a probe (UdpConfirm): datagrams reach it, RTP may go this way.</summary>
    public volatile bool Confirmed;
    /// <summary>The "no answer" warning was logged (once per route).</summary>
    public volatile bool Warned;
    public long ProbesSent => Interlocked.Read(ref _probes);
    private long _probes;

    /// <summary>
    /// Worker thread (<paramref name="worker"/>'s own): one relayed RTP packet into the worker's send batch, sent with
    /// the others at the end of its loop iteration. Returns the datagram's length, or 0 when this route does not carry it
    /// (retired, or a packet too large for a datagram: the caller sends it over the node link). Allocates nothing once the
    /// worker's lane exists.
    /// </summary>
    public int TrySendRtp(MediaWorker worker, ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros, ReadOnlySpan<byte> rtp)
    {
        if (_retired || rtp.Length < 12 || rtp.Length > RelayDatagram.MaxRtpBytes || rtp[0] >> 6 != 2) return 0;
        var lane = LaneOf(worker);
        var n = RelayDatagram.WriteRtp(lane.Buffer, lane.Auth, RouteId, (byte)worker.Index, ++lane.Sequence, sessionId16, ssrc, sentAtMicros, rtp);
        if (n == 0) return 0;
        worker.Send(lane.Buffer.AsSpan(0, n), Address);
        // The batch goes out at the end of the worker's loop iteration, which under a burst (a video frame: ~100 packets)
        // is a millisecond or more away: flush once FlushEvery relay datagrams wait in it (docs/benchmarks.md, D-31).
        var calls = worker.SendSystemCalls;
        if (calls != lane.FlushMark) { lane.FlushMark = calls; lane.Pending = 0; } // the worker flushed meanwhile
        if (++lane.Pending >= FlushEvery)
        {
            worker.FlushSends();
            lane.Pending = 0;
            lane.FlushMark = worker.SendSystemCalls;
        }
        return n;
    }

    /// <summary>Worker thread: a probe from <paramref name="worker"/>'s socket (the path RTP takes).</summary>
    public void SendProbe(MediaWorker worker)
    {
        if (_retired) return;
        var lane = LaneOf(worker);
        var n = RelayDatagram.WriteProbe(lane.Buffer, lane.Auth, RouteId, (byte)worker.Index, ++lane.Sequence, RelayProtocol.NowMicros());
        worker.Send(lane.Buffer.AsSpan(0, n), Address);
        Interlocked.Increment(ref _probes);
    }

    /// <summary>Any thread: true (and the time noted) when the last probe is older than <paramref name="intervalMs"/>.</summary>
    public bool ProbeDue(long intervalMs)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastProbeTicks);
        return now - last >= intervalMs && Interlocked.CompareExchange(ref _lastProbeTicks, now, last) == last;
    }

    private Lane LaneOf(MediaWorker worker)
    {
        worker.AssertOwner();
        return _lanes[worker.Index] ??= new Lane(_key); // once per worker and route, on that worker
    }

    /// <summary>
    /// Any thread: no more datagrams on this route; each lane's key object is disposed on its worker, after whatever that
    /// worker is doing with it now.
    /// </summary>
    public void Retire(MediaWorkers? workers)
    {
        _retired = true;
        Confirmed = false;
        if (workers is null)
        {
            foreach (var lane in _lanes) lane?.Auth.Dispose();
            return;
        }
        for (var k = 0; k < workers.Count; k++)
        {
            var index = k;
            workers[k].Post(() => _lanes[index]?.Auth.Dispose());
        }
    }

    public bool Retired => _retired;

    private sealed class Lane(byte[] key)
    {
        public readonly RelayDatagramAuth Auth = new(key);
        public readonly byte[] Buffer = new byte[RelayDatagram.MaxDatagramBytes];
        public ulong Sequence;
        public int Pending;
        public long FlushMark;
    }
}
