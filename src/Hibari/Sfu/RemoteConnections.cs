using Hibari.Rtc;
using System.Collections.Concurrent;
using Hibari.Sdp;

namespace Hibari.Sfu;

/// <summary>
/// The relay's side of the SFU (issue 6): a session's connections and tracks on other nodes, as the relay reports
/// them, and the relayed packets of those tracks. Threads (docs/threads.md): remote connections and tracks change under
/// the topology lock (<see cref="SfuContext.Gate"/>); the relayed-track map is written under it and read without it by
/// relay link readers, which post packets and sender reports to the worker that owns the track.
/// </summary>
internal sealed class RemoteConnections(SfuContext ctx, SessionRegistry sessions, Negotiator negotiator, Messaging.MessageRouter messages)
{
    private readonly object _gate = ctx.Gate;
    // Relayed tracks by (session, publisher SSRC): written under the lock, read by relay link readers without it.
    private readonly ConcurrentDictionary<(UInt128, uint), Publication> _relayed = new();
    // Simulcast layers announced (TrackLayers) for a track whose TrackUp follows (D-39); under the lock.
    private readonly Dictionary<(string Session, string Connection, string Track), IReadOnlyList<(string Rid, uint Ssrc)>> _pendingLayers = [];

    /// <summary>The layers of a relayed simulcast track, announced just before its TrackUp (D-39). Under the lock.</summary>
    public void AddRemoteLayers(string sessionId, string connectionId, string trackId, IReadOnlyList<(string Rid, uint Ssrc)> layers)
    {
        lock (_gate)
        {
            // Named again for a group that exists (a layer's SSRC became known): latch the new ones in place.
            if (sessions.ById.GetValueOrDefault(sessionId) is { } session && session.Remote.TryGetValue(connectionId, out var remote)
                && remote.Publications.FirstOrDefault(p => p.TrackId == trackId) is { Layers: { } group } && group.Length == layers.Count)
            {
                for (var i = 1; i < group.Length; i++)
                {
                    var (layer, ssrc) = (group[i], layers[i].Ssrc);
                    if (layer.Ssrc != 0 || ssrc == 0) continue;
                    _relayed[(session.Key, ssrc)] = layer;
                    layer.Worker.Post(() => layer.LatchSsrc(ssrc));
                }
                return;
            }
            if (layers.Count < 2) _pendingLayers.Remove((sessionId, connectionId, trackId));
            else _pendingLayers[(sessionId, connectionId, trackId)] = layers;
        }
    }

    /// <summary>Some relayed simulcast track's layer needs changed (any thread; the relay sends LayerDemand without waiting).</summary>
    public event Action? LayerDemandChanged;

    /// <summary>Per relayed simulcast track of this node: (publisher's node, session, layer 0's SSRC, layers needed here).</summary>
    public List<(string Node, string SessionId, uint Ssrc, byte Mask)> LayerDemands()
    {
        lock (_gate)
            return sessions.ById.Values.SelectMany(s => s.Remote.Values.SelectMany(r => r.Publications
                .Where(p => p.Demand is not null).Select(p => (r.Node, s.SessionId, p.Ssrc, p.Demand!.Mask)))).ToList();
    }

    /// <summary>A connection of the session on <paramref name="node"/> (connection.created for the local ones).</summary>
    public void AddRemoteConnection(string node, string sessionId, ConnectionInfo info)
    {
        List<Connection> notify;
        ChannelCounts counts;
        lock (_gate)
        {
            if (sessions.ById.GetValueOrDefault(sessionId) is not { } session || session.Remote.ContainsKey(info.ConnectionId)) return;
            if (session.Connections.Any(c => c.ConnectionId == info.ConnectionId)) return;
            session.Remote[info.ConnectionId] = new RemoteConnection(info with { SessionId = sessionId }, node);
            session.PendingDestroy?.Cancel();
            session.PendingDestroy = null;
            counts = session.Counts();
            notify = session.Connected.ToList();
        }
        foreach (var c in notify)
            if (c.Info.SignalingNotify) c.Signaling.SendConnectionCreated(info, counts, null, 0);
    }

    /// <summary>A connection of the session on another node left: its tracks go (re-offers), connection.destroyed here.</summary>
    public void RemoveRemoteConnection(string sessionId, string connectionId, int minutes)
    {
        RemoteConnection? gone;
        List<Connection> notify;
        ChannelCounts counts;
        lock (_gate)
        {
            if (sessions.ById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.Remove(connectionId, out gone)) return;
            RemoveRemoteTracks(session, gone, gone.Publications.ToList());
            counts = session.Counts();
            notify = session.Connected.ToList();
            if (session.Connections.Count == 0 && session.Remote.Count == 0 && session.PendingDestroy is null) sessions.ScheduleDestroy(session);
        }
        foreach (var c in notify)
            if (c.Info.SignalingNotify) c.Signaling.SendConnectionDestroyed(gone.Info, counts, minutes);
    }

    /// <summary>Everything relayed from a node that went away (its link died, or it left the session).</summary>
    public void DropRemoteNode(string node, string? sessionId = null)
    {
        List<(string Session, string Connection)> gone;
        lock (_gate)
            gone = sessions.ById.Values.Where(s => sessionId is null || s.SessionId == sessionId)
                .SelectMany(s => s.Remote.Values.Where(r => r.Node == node).Select(r => (s.SessionId, r.Info.ConnectionId))).ToList();
        foreach (var (session, connection) in gone) RemoveRemoteConnection(session, connection, 0);
    }

    /// <summary>A track of a remote connection: local receivers get it by re-offer, like a local publisher's.</summary>
    public void AddRemoteTrack(string sessionId, string connectionId, string trackId, MediaKind kind, uint ssrc, RtpCodec codec, IKeyFrameTarget keyFrames)
    {
        lock (_gate)
        {
            if (sessions.ById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.TryGetValue(connectionId, out var remote)) return;
            _pendingLayers.Remove((sessionId, connectionId, trackId), out var layerInfo);
            if (layerInfo is not null && (kind != MediaKind.Video || layerInfo[0].Ssrc != ssrc)) layerInfo = null;
            var existing = remote.Publications.Where(p => p.TrackId == trackId).ToList();
            if (existing.Count == 1 && existing[0].Ssrc == ssrc && existing[0].Codec == codec
                && (existing[0].Layers?.Length ?? 0) == (layerInfo?.Count ?? 0)) return;
            RemoveRemoteTracks(session, remote, existing);
            // A relayed track lives on a worker like a local publisher's: the one with the fewest connections. A simulcast
            // one (D-39) is a group of layers on that worker, like a local simulcast publisher's, each relayed with its SSRC.
            var worker = ctx.LeastLoadedWorker();
            var demand = layerInfo is null ? null : new LayerDemand(layerInfo.Count, () => LayerDemandChanged?.Invoke());
            var p = new Publication(keyFrames, worker, connectionId, "", kind, codec, trackId, remote.Node, ctx.Workers.Count)
            {
                Rid = layerInfo?[0].Rid, Demand = demand,
            };
            p.LatchSsrc(ssrc);
            if (layerInfo is not null)
            {
                var layers = new Publication[layerInfo.Count];
                layers[0] = p;
                for (var i = 1; i < layers.Length; i++)
                {
                    layers[i] = new Publication(keyFrames, worker, connectionId, "", kind, codec, $"{trackId}-{layerInfo[i].Rid}", remote.Node, ctx.Workers.Count)
                    {
                        Rid = layerInfo[i].Rid, LayerIndex = i, Demand = demand,
                    };
                    if (layerInfo[i].Ssrc == 0) continue; // not sent by the publisher yet: named again once it is
                    layers[i].LatchSsrc(layerInfo[i].Ssrc);
                    _relayed[(session.Key, layerInfo[i].Ssrc)] = layers[i];
                }
                foreach (var layer in layers) layer.Layers = layers;
            }
            remote.Publications.Add(p);
            _relayed[(session.Key, ssrc)] = p;
            foreach (var c in session.Connected)
                if (c.Info.BundleId != remote.Info.BundleId) negotiator.Renegotiate(c);
        }
    }

    public void RemoveRemoteTrack(string sessionId, string connectionId, string trackId)
    {
        lock (_gate)
        {
            if (sessions.ById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.TryGetValue(connectionId, out var remote)) return;
            RemoveRemoteTracks(session, remote, remote.Publications.Where(p => p.TrackId == trackId).ToList());
        }
    }

    // Under the lock.
    private void RemoveRemoteTracks(Session session, RemoteConnection remote, List<Publication> tracks)
    {
        ctx.AssertOwner();
        if (tracks.Count == 0) return;
        foreach (var p in tracks)
        {
            remote.Publications.Remove(p);
            foreach (var layer in p.LayersOrSelf.ToArray())
            {
                _relayed.TryRemove(new KeyValuePair<(UInt128, uint), Publication>((session.Key, layer.Ssrc), layer));
                layer.Worker.Post(layer.Close);
            }
        }
        foreach (var c in session.Connected)
            if (c.Info.BundleId != remote.Info.BundleId) negotiator.Renegotiate(c);
    }

    /// <summary>
    /// A relayed RTP packet (a link reader's thread): copied once into the ring from this link to the worker that owns the
    /// relayed track, which fans it out like a local publisher's packet (no array, no closure per packet). False: unknown
    /// track. A full ring drops the packet (counted in <see cref="ExternalRings.Dropped"/>).
    /// </summary>
    public bool HandRelayedRtp(Rtc.Transport.ExternalRings rings, UInt128 session, uint ssrc, ReadOnlySpan<byte> rtp)
    {
        if (!_relayed.TryGetValue((session, ssrc), out var p) || p.Closed) return false;
        rings.Hand(p.Worker, p, rtp, MediaClock.NowMicros());
        return true;
    }

    /// <summary>A relayed track's sender report (a link reader's thread): its subscribers here get their own sender reports from it.</summary>
    public void PostRelayedSenderReport(UInt128 session, uint ssrc, ulong ntp, uint rtp)
    {
        if (_relayed.TryGetValue((session, ssrc), out var p) && !p.Closed)
            p.Worker.Post(() => { if (!p.Closed) p.OnSenderReport(ntp, rtp, MediaClock.NowMicros()); });
    }

    /// <summary>A subscriber on another node needs a key frame of a local track (rate-limited per publication).</summary>
    public void RequestKeyFrame(string sessionId, uint ssrc)
    {
        Publication? p;
        lock (_gate)
            p = sessions.ById.GetValueOrDefault(sessionId)?.Connections.SelectMany(c => c.Publications)
                .SelectMany(x => x.LayersOrSelf.ToArray()).FirstOrDefault(x => x.Ssrc == ssrc); // a simulcast layer's own SSRC too (D-39)
        p?.RequestKeyFrame(MediaClock.NowMicros()); // thread-safe: posted to the publication's worker
    }

    /// <summary>A messaging message relayed from another node: local receivers get it (media thread).</summary>
    public void DeliverRelayedMessage(Messaging.MessagingMessage m)
    {
        var session = sessions.SessionById(m.SessionId);
        if (session is null) return;
        ctx.Workers[0].Post(() => messages.DeliverLocal(session, m)); // receivers on other workers get it posted there
    }
}
