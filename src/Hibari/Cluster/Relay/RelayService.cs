using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Hibari.Cluster;
using Hibari.Sdp;
using Hibari.Sfu;
using Hibari.Sfu.Messaging;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Relay;

/// <summary>
/// The relay (docs/requirements.md, section 6): a session that has clients on several nodes is shared between them over the node
/// links. Each node sends only what is its own — its connections (ConnectionUp/Down), its tracks (TrackUp, then every
/// RTP packet, decrypted once and sent once per other node), its clients' messages — to every other node of the
/// session ("joined" peers); each node fans what it receives out to its own clients, answers their NACKs from its own
/// caches and forwards their key-frame requests to the publisher's node.
/// <list type="bullet">
/// <item>C-RELAY-1: a node joins a session's relay (SessionJoin) only while it has clients of it, and only with the
/// session's other owners in the replicated state: a session on one node sends nothing.</item>
/// <item>C-RELAY-3: the join lasts until this node's part of the session ends; that part outlives its last local client
/// while other nodes still have clients (SfuEngine keeps a session with remote connections).</item>
/// <item>A dead link drops everything relayed from that node (its clients' notifies and tracks go, re-offers follow).</item>
/// </list>
/// Frames: docs/relay-frames.md; versions are negotiated per link by Hello. Threads (docs/threads.md): frames arrive on
/// node-link reader threads, which only decode: a Hello sets the link's version there, relayed RTP goes through a ring to
/// the worker that owns the track, every other frame is applied on the SFU's control context in arrival order (a dead
/// link's clean-up is queued behind them). With UDP on both sides (docs/decisions.md D-31, <see cref="Udp.RelayUdp"/>)
/// relayed RTP leaves from the publication's worker in datagrams and arrives on media worker 0, which hands it on the
/// same way; the link then carries only control frames. The reconcile loop runs on the pool, local packets and messages come from
/// media workers; the service's own state is concurrent maps and atomics.
/// </summary>
internal sealed class RelayService : IMessageRelay, IAsyncDisposable
{
    private static readonly TimeSpan ReconcileInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan JoinRetry = TimeSpan.FromSeconds(1);
    private const RelayCapabilities BaseCapabilities = RelayCapabilities.Media | RelayCapabilities.Messages | RelayCapabilities.Signaling
        | RelayCapabilities.SenderReports | RelayCapabilities.Spotlight;

    private readonly ClusterService _cluster;
    private readonly SessionDirectory _directory;
    private readonly SfuEngine _sfu;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, RelayPeer> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RelayedSession> _sessions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Udp.RelayUdp _udp;
    private Task? _loop;

    public RelayService(ClusterService cluster, SessionDirectory directory, SfuEngine sfu, ILogger log, Config.HibariOptions? options = null)
    {
        _cluster = cluster;
        _directory = directory;
        _sfu = sfu;
        _log = log;
        options ??= new Config.HibariOptions();
        // Relayed RTP over UDP between media workers (D-31): announced with worker 0's address, or node_name's host when
        // the workers listen on a wildcard address.
        _udp = new Udp.RelayUdp(this, sfu, cluster.NodeName, options.ClusterSecret ?? "", options.ClusterRelayUdp,
            System.Net.IPAddress.TryParse(options.NodeHost, out var host) ? host : null, log);
        Capabilities = BaseCapabilities | (_udp.Enabled ? RelayCapabilities.UdpMedia : 0)
            | (options.ClusterRelaySimulcast ? RelayCapabilities.SimulcastLayers : 0);
        cluster.RelayFrame += OnFrame;
        cluster.PeerUp += OnPeerUp;
        cluster.PeerDown += OnPeerDown;
        sfu.SessionOpened += (channel, session) => _sessions.TryAdd(session, new RelayedSession(this, channel, session));
        sfu.SessionClosed += OnSessionClosed;
        sfu.ConnectionCreated += OnLocalConnectionCreated;
        sfu.ConnectionDestroyed += OnLocalConnectionDestroyed;
        sfu.MessageRelay = this;
        // A receiver's layer needs changed (a worker): LayerDemand goes out from the pool now, not at the next tick.
        sfu.LayerDemandChanged += () =>
        {
            if (Interlocked.Exchange(ref _demandQueued, 1) == 0)
                ThreadPool.QueueUserWorkItem(_ =>
                {
                    Volatile.Write(ref _demandQueued, 0);
                    try { SendLayerDemands(); }
                    catch (Exception e) { _log.LogWarning(e, "Relay: sending layer demands failed"); }
                });
        };
    }

    private int _demandQueued;

    /// <summary>After the SFU started (its media workers run): the reconcile loop, and worker 0 takes relay datagrams.</summary>
    public void Start()
    {
        _udp.Start(_sfu.Workers);
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    /// <summary>This node's name (the spotlight decider is the smallest, D-40).</summary>
    internal string NodeName => _cluster.NodeName;

    /// <summary>What this node offers in its Hellos.</summary>
    private RelayCapabilities Capabilities { get; }

    /// <summary>Relayed RTP over UDP (D-31): the announced endpoint and the receiver's node-wide counters.</summary>
    internal Udp.RelayUdp Udp => _udp;

    /// <summary>Per peer node: the negotiated version and the counters GetStatsReport and /metrics show.</summary>
    public IReadOnlyCollection<RelayPeer> Peers => _peers.Values.ToList();

    internal RelayPeer Peer(string name) => _peers.GetOrAdd(name, n => new RelayPeer(n));

    // ------------------------------------------------------------------ links

    private void OnPeerUp(string peer)
    {
        var p = Peer(peer);
        p.Version = null;
        SendHello(p);
    }

    private void OnPeerDown(string peer)
    {
        var p = Peer(peer);
        p.Version = null;
        p.HelloSent = false;
        _udp.OnPeerDown(p);
        // Behind whatever this peer's frames already queued on the control context, so none of them re-adds what goes here.
        _sfu.PostControl(() =>
        {
            foreach (var s in _sessions.Values) s.Unjoin(peer);
            _sfu.DropRemoteNode(peer);
        });
    }

    private void SendHello(RelayPeer p)
    {
        var hello = RelayProtocol.LocalHello(_cluster.NodeName, Capabilities);
        // The Hello layout is frozen: every version reads it (docs/relay-frames.md).
        if (Send(p, RelayFrames.Encode(hello, RelayProtocol.MinVersion), isRtp: false)) p.HelloSent = true;
    }

    private bool Send(RelayPeer p, byte[] frame, bool isRtp) => Send(p, frame.AsMemory(), isRtp);

    /// <summary>Stamps, encodes in the link's negotiated version and sends a control frame; false before the Hellos.</summary>
    internal bool SendFrame(RelayPeer p, RelayFrame frame) =>
        p.Version is { } v && Send(p, RelayFrames.Encode(frame with { SentAtMicros = RelayProtocol.NowMicros() }, v), isRtp: false);

    internal bool Send(RelayPeer p, ReadOnlyMemory<byte> frame, bool isRtp)
    {
        if (!_cluster.SendRelay(p.Name, frame))
        {
            Interlocked.Increment(ref p.SendFailures);
            return false;
        }
        Interlocked.Increment(ref p.FramesSent);
        Interlocked.Add(ref p.BytesSent, frame.Length);
        if (isRtp) Interlocked.Increment(ref p.RtpSent);
        return true;
    }

    /// <summary>
    /// One relayed RTP packet to <paramref name="p"/> on <paramref name="worker"/>'s thread (the publication's): in a
    /// datagram into the worker's send batch when the peer's UDP route is confirmed (D-31), otherwise as a relay frame
    /// written once, straight into the link's pooled send buffer — no array, no closure per packet either way
    /// (docs/relay-frames.md, "Rtp" and "Relay RTP datagrams").
    /// </summary>
    internal bool SendRtp(RelayPeer p, Rtc.Transport.MediaWorker? worker, ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros,
        ReadOnlySpan<byte> rtp, byte version)
    {
        if (rtp.Length < RelayFrames.MinRtpBytes || rtp[0] >> 6 != 2 || rtp.Length > RelayFrames.MaxRtpBytes) return false;
        if (worker is not null && p.UdpSend is { Confirmed: true } udp)
        {
            var sent = udp.TrySendRtp(worker, sessionId16, ssrc, sentAtMicros, rtp);
            if (sent > 0)
            {
                Interlocked.Increment(ref p.FramesSent);
                Interlocked.Add(ref p.BytesSent, sent);
                Interlocked.Increment(ref p.RtpSent);
                Interlocked.Increment(ref p.UdpRtpSent);
                return true;
            }
        }
        var state = new RtpWrite(sessionId16, ssrc, sentAtMicros, rtp, version);
        var length = RelayFrames.RtpOverhead + rtp.Length;
        if (!_cluster.SendRelay(p.Name, length, ref state, static (Span<byte> body, scoped ref RtpWrite w) =>
                RelayFrames.WriteRtp(body, w.SessionId16, w.Ssrc, w.SentAtMicros, w.Rtp, w.Version)))
        {
            Interlocked.Increment(ref p.SendFailures);
            return false;
        }
        Interlocked.Increment(ref p.FramesSent);
        Interlocked.Add(ref p.BytesSent, length);
        Interlocked.Increment(ref p.RtpSent);
        return true;
    }

    private ref struct RtpWrite(ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros, ReadOnlySpan<byte> rtp, byte version)
    {
        public ReadOnlySpan<byte> SessionId16 = sessionId16;
        public uint Ssrc = ssrc;
        public long SentAtMicros = sentAtMicros;
        public ReadOnlySpan<byte> Rtp = rtp;
        public byte Version = version;
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ReconcileInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try { Reconcile(); }
                catch (Exception e) { _log.LogWarning(e, "Relay: reconcile failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Hellos to new links; SessionJoin to the other owners of each session that has clients here.</summary>
    private void Reconcile()
    {
        foreach (var peer in _cluster.LinkedPeers)
        {
            var p = Peer(peer);
            if (!p.HelloSent) SendHello(p);
        }
        foreach (var p in _peers.Values) _udp.Reconcile(p);
        foreach (var s in _sessions.Values) JoinOwners(s);
        SendLayerDemands();
    }

    private static readonly TimeSpan DemandRefresh = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<(string Node, string Session, uint Ssrc), (byte Mask, DateTime At)> _demandSent = new();

    /// <summary>
    /// Tells each publisher's node which layers of its simulcast tracks this node's receivers need (D-39): on a change
    /// (within one reconcile tick, 250 ms), and every 2 s again (a lost link or a restarted peer relearns it).
    /// </summary>
    private void SendLayerDemands()
    {
        var now = DateTime.UtcNow;
        var current = new HashSet<(string, string, uint)>();
        foreach (var (node, session, ssrc, mask) in _sfu.RelayedLayerDemands())
        {
            var key = (node, session, ssrc);
            current.Add(key);
            if (!_peers.TryGetValue(node, out var p) || (p.Shared & RelayCapabilities.SimulcastLayers) == 0) continue;
            if (_demandSent.TryGetValue(key, out var last) && last.Mask == mask && now - last.At < DemandRefresh) continue;
            if (SendFrame(p, new RelayLayerDemand(session, ssrc, mask))) _demandSent[key] = (mask, now);
        }
        foreach (var key in _demandSent.Keys)
            if (!current.Contains(key)) _demandSent.TryRemove(key, out _);
    }

    /// <summary>SessionJoin to the session's other owners that have not answered yet (at most once a second each).</summary>
    private void JoinOwners(RelayedSession s)
    {
        if (_sfu.LocalConnections(s.SessionId).Count == 0) return; // C-RELAY-1: only a node with clients asks
        if (_directory.Find(s.ChannelId) is not { } record || record.SessionId != s.SessionId) return;
        var now = DateTime.UtcNow;
        foreach (var owner in record.Owners)
        {
            if (owner == _cluster.NodeName || s.IsJoined(owner)) continue;
            if (!_peers.TryGetValue(owner, out var p) || p.Version is null) continue;
            if (s.LastJoinSent.TryGetValue(owner, out var last) && now - last < JoinRetry) continue;
            s.LastJoinSent[owner] = now;
            SendFrame(p, new RelaySessionJoin(s.ChannelId, s.SessionId));
        }
    }

    // ------------------------------------------------------------------ local events

    private void OnLocalConnectionCreated(ConnectionInfo info)
    {
        if (!_sessions.TryGetValue(info.SessionId, out var s)) return;
        foreach (var peer in s.JoinedPeers) SendConnectionUp(s, Peer(peer), info);
        JoinOwners(s); // the first client of a session held elsewhere: join at once rather than on the next tick
    }

    private void OnLocalConnectionDestroyed(ConnectionInfo info, string reason, bool failed)
    {
        if (failed || !_sessions.TryGetValue(info.SessionId, out var s)) return;
        var minutes = (int)(DateTimeOffset.UtcNow - info.CreatedAt).TotalMinutes;
        foreach (var peer in s.JoinedPeers)
        {
            var p = Peer(peer);
            s.ForgetConnection(peer, info.ConnectionId);
            SendFrame(p, new RelayConnectionDown(s.SessionId, info.ConnectionId, reason, minutes));
        }
    }

    private void OnSessionClosed(string channel, string sessionId)
    {
        if (!_sessions.TryRemove(sessionId, out var s)) return;
        foreach (var peer in s.JoinedPeers)
            SendFrame(Peer(peer), new RelaySessionLeave(channel, sessionId));
    }

    private void SendConnectionUp(RelayedSession s, RelayPeer p, ConnectionInfo info)
    {
        if (p.Version is null) return;
        var metadata = info.NotifyMetadata is { } m ? Encoding.UTF8.GetBytes(m.GetRawText()) : null;
        var connection = new RelayConnection(info.ConnectionId, info.ClientId, info.BundleId, info.ChannelId, (byte)info.Role, info.Audio, info.Video,
            info.CreatedAt.ToUnixTimeMilliseconds(), metadata);
        if (SendFrame(p, new RelayConnectionUp(s.SessionId, connection)))
            s.ConnectionAnnounced(p.Name, info.ConnectionId);
    }

    /// <summary>Media thread: a messaging message of a local client goes to every joined node of its session.</summary>
    public void Relay(MessagingMessage m)
    {
        if (!_sessions.TryGetValue(m.SessionId, out var s)) return;
        byte[]? frame = null;
        foreach (var peer in s.JoinedPeers)
        {
            var p = Peer(peer);
            if (p.Version is not { } v) continue;
            frame ??= RelayFrames.Encode(new RelayMessage(m.SessionId, m.SenderConnectionId, m.SenderBundleId, m.Label, m.Binary, m.Payload)
                { SentAtMicros = RelayProtocol.NowMicros() }, v); // encoded once: every link speaks version 1 in this build
            if (Send(p, frame, isRtp: false)) Interlocked.Increment(ref p.MessagesSent);
        }
    }

    // ------------------------------------------------------------------ frames from peers

    private void OnFrame(string peer, ReadOnlyMemory<byte> payload)
    {
        var p = Peer(peer);
        Interlocked.Increment(ref p.FramesReceived);
        Interlocked.Add(ref p.BytesReceived, payload.Length);
        try
        {
            Handle(p, payload.Span);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref p.Refused);
            _log.LogWarning(e, "Relay: a frame from {Peer} could not be handled", peer);
        }
    }

    private void Handle(RelayPeer p, ReadOnlySpan<byte> payload)
    {
        if (!RelayFrames.TryPeek(payload, out _, out var type)) { Refuse(p, "bad header"); return; }
        if (type == RelayFrameType.Rtp)
        {
            if (!RelayFrames.TryReadRtp(payload, out var view, out var error)) { Refuse(p, error); return; }
            Interlocked.Increment(ref p.RtpReceived);
            p.Latency.Add(RelayProtocol.NowMicros() - view.SentAtMicros);
            var key = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(view.SessionId16);
            if (!_sfu.HandRelayedRtp(p.Rings, key, view.Ssrc, view.Rtp)) Interlocked.Increment(ref p.RtpUnknownTrack);
            return;
        }
        if (!RelayFrames.TryDecode(payload, out var frame, out var why)) { Refuse(p, why); return; }
        if (frame is not RelayHello && p.Version is null) { Refuse(p, "frame before the Hello"); return; }
        if (frame!.SentAtMicros > 0) p.Latency.Add(RelayProtocol.NowMicros() - frame.SentAtMicros);
        if (frame is RelayHello hello) { OnHello(p, hello); return; }
        // UDP routes are relay state, not SFU topology: set here, in link order (D-31).
        if (frame is RelayUdpEndpoint endpoint) { _udp.OnEndpoint(p, endpoint); return; }
        if (frame is RelayUdpConfirm confirm) { _udp.OnConfirm(p, confirm); return; }
        // The link reader only decodes: what the frame changes happens on the SFU's control context, in arrival order
        // (docs/threads.md), so a slow negotiation never holds up the relayed RTP behind it on this link.
        _sfu.PostControl(() =>
        {
            try { Apply(p, frame); }
            catch (Exception e)
            {
                Interlocked.Increment(ref p.Refused);
                _log.LogWarning(e, "Relay: a {Type} frame from {Peer} could not be applied", frame.GetType().Name, p.Name);
            }
        });
    }

    /// <summary>Link reader: the peer's Hello fixes the link's version before any later frame of it is decoded.</summary>
    private void OnHello(RelayPeer p, RelayHello hello)
    {
        var local = RelayProtocol.LocalHello(_cluster.NodeName, Capabilities);
        p.Shared = RelayProtocol.Shared(local, hello);
        p.Version = RelayProtocol.Negotiate(local, hello);
        if (p.Version is null)
            _log.LogError("Relay: {Peer} speaks relay versions {Min}..{Max}, this node {OurMin}..{OurMax}: no relay with it",
                p.Name, hello.MinVersion, hello.MaxVersion, RelayProtocol.MinVersion, RelayProtocol.MaxVersion);
        else
            _log.LogInformation("Relay with {Peer}: version {Version}", p.Name, p.Version);
        if (!p.HelloSent) SendHello(p);
        if (p.Version is not null) _udp.OnHello(p); // after our Hello: the peer reads the UdpEndpoint with the link's version
    }

    /// <summary>Control context: a decoded control frame of a peer changes the SFU's topology.</summary>
    private void Apply(RelayPeer p, RelayFrame frame)
    {
        _sfu.Control.AssertCurrent();
        switch (frame)
        {
            case RelaySessionJoin join:
                OnJoin(p, join);
                break;
            case RelaySessionLeave leave:
                if (_sessions.TryGetValue(leave.SessionId, out var left)) left.Unjoin(p.Name);
                _sfu.DropRemoteNode(p.Name, leave.SessionId);
                break;
            case RelayConnectionUp up:
                _sfu.AddRemoteConnection(p.Name, up.SessionId, InfoOf(up));
                break;
            case RelayConnectionDown down:
                _sfu.RemoveRemoteConnection(down.SessionId, down.ConnectionId, down.Minutes);
                break;
            case RelayTrackUp track:
                _sfu.AddRemoteTrack(track.SessionId, track.ConnectionId, track.TrackId, track.Kind == 0 ? MediaKind.Audio : MediaKind.Video,
                    track.Ssrc, CodecOf(track), new RemoteKeyFrames(this, p, track.SessionId));
                break;
            case RelayTrackLayers layers when (p.Shared & RelayCapabilities.SimulcastLayers) != 0:
                _sfu.AddRemoteLayers(layers.SessionId, layers.ConnectionId, layers.TrackId, layers.Layers.Select(l => (l.Rid, l.Ssrc)).ToList());
                break;
            case RelayLayerDemand demand when (p.Shared & RelayCapabilities.SimulcastLayers) != 0:
                if (_sessions.TryGetValue(demand.SessionId, out var demanded)) demanded.SetDemand(p.Name, demand.Ssrc, demand.Mask);
                break;
            case RelaySpotlightFocus focus when (p.Shared & RelayCapabilities.Spotlight) != 0:
                _sfu.ApplyRemoteSpotlight(focus.SessionId, focus.Number, focus.Focused.Select(f => (f.ConnectionId, f.Fixed)).ToList());
                break;
            case RelayTrackDown gone:
                _sfu.RemoveRemoteTrack(gone.SessionId, gone.ConnectionId, gone.TrackId);
                break;
            case RelayKeyFrameRequest pli:
                _sfu.RequestKeyFrame(pli.SessionId, pli.Ssrc);
                break;
            case RelaySenderReport sr:
                if (_sfu.SessionById(sr.SessionId) is null) break; // not (or no longer) a session of this node
                var srKey = Sfu.Session.KeyOf(sr.SessionId);
                _sfu.PostRelayedSenderReport(srKey, sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp);
                break;
            case RelayMessage m:
                Interlocked.Increment(ref p.MessagesReceived);
                _sfu.DeliverRelayedMessage(new MessagingMessage("", m.SessionId, m.SenderConnectionId, m.SenderBundleId, m.Label, m.Payload, m.Binary));
                break;
        }
    }

    private void Refuse(RelayPeer p, string? why)
    {
        if (Interlocked.Increment(ref p.Refused) is var n && (n & (n - 1)) == 0)
            _log.LogWarning("Relay: refused a frame from {Peer}: {Why} ({Count} so far)", p.Name, why, n);
    }

    /// <summary>A peer relays a session to us: if we have a part of it, relay ours back (once per join).</summary>
    private void OnJoin(RelayPeer p, RelaySessionJoin join)
    {
        if (!_sessions.TryGetValue(join.SessionId, out var s) || _sfu.SessionById(join.SessionId) is null) return; // C-RELAY-1
        if (!s.Join(p.Name)) return;
        _log.LogInformation("Relay: session {Session} of {Channel} now relayed with {Peer}", join.SessionId, join.ChannelId, p.Name);
        SendFrame(p, new RelaySessionJoin(s.ChannelId, s.SessionId));
        foreach (var info in _sfu.LocalConnections(s.SessionId)) SendConnectionUp(s, p, info);
        _sfu.SetRelay(s.SessionId, s);
    }

    private static ConnectionInfo InfoOf(RelayConnectionUp up)
    {
        var c = up.Connection;
        JsonElement? metadata = null;
        if (c.NotifyMetadataJson is { } json)
        {
            using var doc = JsonDocument.Parse(json);
            metadata = doc.RootElement.Clone();
        }
        return new ConnectionInfo
        {
            ConnectionId = c.ConnectionId, ClientId = c.ClientId, BundleId = c.BundleId, ChannelId = c.ChannelId, SessionId = up.SessionId,
            Role = c.Role switch { 1 => ConnectionRole.SendOnly, 2 => ConnectionRole.RecvOnly, _ => ConnectionRole.SendRecv },
            Audio = c.Audio, Video = c.Video, NotifyMetadata = metadata,
            // Any value may arrive: one outside DateTimeOffset's range reads as now.
            CreatedAt = c.CreatedAtUnixMs is >= 0 and <= 253_402_300_799_999 ? DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedAtUnixMs) : DateTimeOffset.UtcNow,
        };
    }

    internal static RtpCodec CodecOf(RelayTrackUp t)
    {
        var c = t.Codec;
        // The publisher's codec exactly, its own fmtp included (opus_params, level: D-34); the catalog's instance when equal.
        if (CodecCatalog.ByPayloadType(c.PayloadType, c.Name) is { } known && known.Parameters == c.Fmtp
            && known.Feedback.SequenceEqual(c.Feedback) && (known.RtxPayloadType ?? 0) == c.RtxPayloadType) return known;
        return new RtpCodec(t.Kind == 0 ? MediaKind.Audio : MediaKind.Video, c.Name, (int)c.ClockRate, c.Channels == 0 ? null : c.Channels,
            c.PayloadType, c.Fmtp, c.Feedback, c.RtxPayloadType == 0 ? null : c.RtxPayloadType);
    }

    internal static RelayTrackCodec FrameCodec(RtpCodec c) =>
        new(c.Name, (byte)c.PayloadType, (uint)c.ClockRate, (byte)(c.Channels ?? 0), c.Parameters, (byte)(c.RtxPayloadType ?? 0), c.Feedback);

    /// <summary>Key-frame requests of this node's subscribers for a relayed track go to the publisher's node.</summary>
    private sealed class RemoteKeyFrames(RelayService relay, RelayPeer peer, string sessionId) : IKeyFrameTarget
    {
        public void SendPli(uint mediaSsrc) => relay.SendFrame(peer, new RelayKeyFrameRequest(sessionId, mediaSsrc));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null) { try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { } }
    }
}
