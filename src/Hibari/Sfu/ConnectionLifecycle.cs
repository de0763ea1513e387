using Hibari.Sdp;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// A connection's life in the SFU: it joins its session (placed on the least loaded media worker, first offer),
/// becomes connected (notifies, re-offers, connection.created) and leaves (re-offers, notifies, connection.destroyed).
/// Threads (docs/threads.md): topology changes under the lock (<see cref="SfuContext.Gate"/>); the transport's facts
/// (connected, lost, DTLS closed) arrive from its worker or the DTLS pool and are handled on the control queue.
/// </summary>
internal sealed class ConnectionLifecycle(SfuContext ctx, SessionRegistry sessions, Negotiator negotiator, DataChannelWiring dataChannels,
    Spotlight.SpotlightService spotlight)
{
    private readonly object _gate = ctx.Gate;
    private readonly ILogger _log = ctx.Log;

    /// <inheritdoc cref="SfuEngine.ConnectionCreated"/>
    public event Action<ConnectionInfo>? ConnectionCreated;
    /// <inheritdoc cref="SfuEngine.ConnectionDestroyed"/>
    public event Action<ConnectionInfo, string, bool>? ConnectionDestroyed;

    /// <inheritdoc cref="SfuEngine.Join"/>
    public JoinResult Join(ConnectionInfo requested, IConnectionSignaling signaling)
    {
        // The codec must be one the client's throw-away offer shows it can do (none sent: trust the request).
        var client = requested.ClientSdp is { } clientSdp ? ClientOfferReader.Read(clientSdp).Value : null;
        RtpCodec? audioCodec = null, videoCodec = null;
        if (requested.Publishes && requested.Audio)
        {
            var a = CodecCatalog.SelectAudio(requested.AudioCodecType ?? "OPUS", requested.OpusParams, requested.AudioBitRate, client);
            if (!a.IsOk) return JoinResult.Fail(a.Error!);
            audioCodec = a.Value;
        }
        if (requested.Publishes && requested.Video)
        {
            var v = CodecCatalog.SelectVideo(requested.VideoCodecType ?? ctx.Options.DefaultVideoCodecType, requested.VideoParams, client,
                ctx.Options.DefaultH264ProfileLevelId);
            if (!v.IsOk) return JoinResult.Fail(v.Error!);
            videoCodec = v.Value;
        }
        var now = ctx.Time.GetUtcNow();
        Connection connection;
        string sdp;
        lock (_gate)
        {
            if (!sessions.ByChannel.TryGetValue(requested.ChannelId, out var session))
                return JoinResult.Fail("the channel has no session on this node (call EnsureSessionAsync first)", noSession: true);
            // Terminated between EnsureSessionAsync and here (D-50): ensure again, which waits for the next session.
            if (session.Terminating)
                return JoinResult.Fail("the channel's session is being terminated", noSession: true);
            session.PendingDestroy?.Cancel();
            session.PendingDestroy = null;
            var info = requested with { SessionId = session.SessionId, CreatedAt = now };
            var bitrate = (uint)Math.Max(100, (info.VideoBitRate ?? ctx.Options.DefaultVideoBitRate) + (info.AudioBitRate ?? 64)) * 1000;
            var worker = ctx.LeastLoadedWorker();
            ctx.WorkerLoad[worker.Index]++;
            var transport = new PeerTransport(info.ConnectionId, worker, ctx.Certificate!, ctx.WorkerCounters[worker.Index], _log, SfuIds.Ssrc(), bitrate);
            connection = new Connection(info, session, signaling, transport, audioCodec, videoCodec);
            if (audioCodec is not null) connection.AudioSection = connection.Layout.AddClientSend(MediaKind.Audio);
            if (videoCodec is not null) connection.VideoSection = connection.Layout.AddClientSend(MediaKind.Video);
            connection.Layout.AddApplication();
            spotlight.Joined(connection);
            if (info.Receives) negotiator.SyncLayout(connection);
            session.Connections.Add(connection);
            session.MembersSnapshot = session.Connections.ToArray();
            session.TotalConnections++;
            session.MaxConnections = Math.Max(session.MaxConnections, session.Connections.Count);
            sessions.Connections[info.ConnectionId] = connection;
            sdp = negotiator.WriteOffer(connection);
        }
        // Facts from the worker (or a DTLS pool thread) are handled in the control context, never on the worker.
        connection.Transport.Connected += (t, e) => ctx.Control.Post(() => OnTransportConnected(t, e));
        connection.Transport.Lost += t => ctx.Control.Post(() => Leave(t.ConnectionId, "ICE-CONSENT-EXPIRED"));
        connection.Transport.DtlsClosed += t => ctx.Control.Post(() => Leave(t.ConnectionId, "DTLS-CLOSED"));
        connection.Transport.DataChannelsCreated = dc => dataChannels.AttachDataChannels(connection, dc);
        // Simulcast layer changes are told to the receiver (notify simulcast.switched), from the control context.
        connection.Transport.LayerSwitched += (s, previous, current) =>
        {
            var requested = s.RequestedRid;
            var sender = s.Publication.ConnectionId;
            ctx.Control.Post(() => connection.Signaling.SendSimulcastSwitched(sender, requested, current, previous, byReceiver: requested == current));
        };
        return new JoinResult(connection, sdp, null);
    }

    private void OnTransportConnected(PeerTransport transport, Exception? error)
    {
        Connection? c;
        lock (_gate) c = sessions.Connections.GetValueOrDefault(transport.ConnectionId);
        if (c is null) return;
        if (error is not null)
        {
            _log.LogInformation("Connection {Id}: DTLS failed: {Error}", c.ConnectionId, error.Message);
            Leave(c.ConnectionId, "DTLS-FAILED");
            return;
        }
        List<(Connection To, bool Self)> notify = [];
        ChannelCounts counts;
        List<ConnectionInfo> present;
        lock (_gate)
        {
            if (c.State != ConnectionState.Answered) return;
            c.State = ConnectionState.Connected;
            c.ConnectedAt = ctx.Time.GetUtcNow();
            var session = c.Session;
            counts = session.Counts();
            // Every connection of the channel, those on other nodes too: a relayed connection that arrived while this one
            // was being set up got no connection.created of its own here (it is sent only to connected ones).
            present = session.Connected.Where(o => o != c).Select(o => o.Info).Concat(session.Remote.Values.Select(r => r.Info)).ToList();
            foreach (var other in session.Connected)
            {
                if (other != c && Negotiator.SeesEachOther(c, other)) negotiator.Renegotiate(other);
                notify.Add((other, other == c));
            }
            // Publishers that connected while this one was being set up.
            if (c.Info.Receives) negotiator.Renegotiate(c);
        }
        c.Signaling.Established();
        foreach (var (to, self) in notify)
        {
            if (!to.Info.SignalingNotify) continue;
            to.Signaling.SendConnectionCreated(c.Info, counts, self ? present : null, 0);
        }
        ConnectionCreated?.Invoke(c.Info);
    }

    /// <inheritdoc cref="SfuEngine.Leave"/>
    public void Leave(string connectionId, string reason)
    {
        Connection? c;
        List<Connection> others = [];
        ChannelCounts counts;
        bool wasConnected;
        Session session;
        lock (_gate)
        {
            if (!sessions.Connections.Remove(connectionId, out c)) return;
            negotiator.Forget(c);
            wasConnected = c.State == ConnectionState.Connected;
            c.State = ConnectionState.Closed;
            c.DisconnectReason = reason;
            session = c.Session;
            session.Connections.Remove(c);
            session.MembersSnapshot = session.Connections.ToArray();
            foreach (var p in c.Publications) p.Worker.Post(p.Close);
            ctx.WorkerLoad[c.Transport.Worker.Index]--;
            foreach (var other in session.Connected)
            {
                others.Add(other);
                if (wasConnected && Negotiator.SeesEachOther(c, other)) negotiator.Renegotiate(other);
            }
            counts = session.Counts();
            if (session.Connections.Count == 0) sessions.ScheduleDestroy(session);
        }
        c.Transport.Dispose();
        if (wasConnected)
        {
            foreach (var o in others)
                if (o.Info.SignalingNotify) o.Signaling.SendConnectionDestroyed(c.Info, counts, Minutes(c));
        }
        c.Signaling.Ended(reason);
        ConnectionDestroyed?.Invoke(c.Info, reason, !wasConnected);
    }

    private int Minutes(Connection c) => c.ConnectedAt is { } t ? (int)(ctx.Time.GetUtcNow() - t).TotalMinutes : 0;
}
