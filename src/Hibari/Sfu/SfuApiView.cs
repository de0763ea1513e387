namespace Hibari.Sfu;

/// <summary>
/// The HTTP API's and the cluster's view of the SFU: listing connections, counts per channel, server-side disconnect
/// and push. Holds no state of its own: it reads the <see cref="SessionRegistry"/> under the topology lock
/// (<see cref="SfuContext.Gate"/>) and acts outside it (docs/threads.md).
/// </summary>
internal sealed class SfuApiView(SfuContext ctx, SessionRegistry sessions, Action<string, string> leave)
{
    private readonly object _gate = ctx.Gate;

    /// <summary>Connections per channel on this node (for the cluster's load reports).</summary>
    public Dictionary<string, int> ChannelConnectionCounts()
    {
        lock (_gate)
        {
            var d = new Dictionary<string, int>(sessions.ByChannel.Count, StringComparer.Ordinal);
            foreach (var (channel, session) in sessions.ByChannel) d[channel] = session.Connections.Count;
            return d;
        }
    }

    public ChannelCounts CountsOf(string channelId)
    {
        lock (_gate) return sessions.ByChannel.GetValueOrDefault(channelId)?.Counts() ?? default;
    }

    public IReadOnlyList<ConnectionInfo> ListConnections(string? channelId = null)
    {
        lock (_gate)
            return sessions.Connections.Values.Where(c => c.State == ConnectionState.Connected && (channelId is null || c.Info.ChannelId == channelId))
                .OrderBy(c => c.Info.CreatedAt).Select(c => c.Info).ToList();
    }

    /// <summary>
    /// Recording (issue 16): the connected connections of the channel on this node that publish, each with its local
    /// tracks (every simulcast layer), in the order they connected.
    /// </summary>
    public List<(Connection Connection, List<Publication> Tracks)> Publishers(string channelId, string? connectionId = null)
    {
        lock (_gate)
            return sessions.Connections.Values
                .Where(c => c.State == ConnectionState.Connected && c.Info.ChannelId == channelId && c.Publications.Count > 0
                    && (connectionId is null || c.ConnectionId == connectionId))
                .OrderBy(c => c.Info.CreatedAt)
                .Select(c => (c, c.Publications.SelectMany(p => p.LayersOrSelf.ToArray()).ToList())).ToList();
    }

    /// <summary>Every connected connection of the channel on this node (recording notifies go to them).</summary>
    public List<Connection> ConnectedIn(string channelId)
    {
        lock (_gate) return sessions.Connections.Values.Where(c => c.State == ConnectionState.Connected && c.Info.ChannelId == channelId).ToList();
    }

    /// <summary>The connected connections matching the filter (channel, and optionally connection or client id).</summary>
    private List<Connection> Select(string channelId, string? connectionId, string? clientId, ConnectionRole? role = null)
    {
        lock (_gate)
            return sessions.Connections.Values.Where(c => c.State == ConnectionState.Connected && c.Info.ChannelId == channelId
                && (connectionId is null || c.ConnectionId == connectionId) && (clientId is null || c.Info.ClientId == clientId)
                && (role is null || c.Info.Role == role)).ToList();
    }

    /// <summary>Server-side disconnect (DisconnectChannel/Connection/Client/ChannelByRole); returns how many were closed.</summary>
    public int Disconnect(string channelId, string? connectionId, string? clientId, string reason, ConnectionRole? role = null)
    {
        var targets = Select(channelId, connectionId, clientId, role);
        foreach (var c in targets)
        {
            if (!c.Signaling.Disconnect(reason)) leave(c.ConnectionId, reason);
        }
        return targets.Count;
    }

    /// <summary>
    /// Metadata extension (D-52): replaces the extension value of a connected connection of the channel on this node
    /// with <paramref name="change"/>'s result; returns the new info, or null when the connection is not here.
    /// </summary>
    public ConnectionInfo? ChangeExtMetadata(string channelId, string connectionId, Func<System.Text.Json.JsonElement?, System.Text.Json.JsonElement?> change)
    {
        lock (_gate)
        {
            if (!sessions.Connections.TryGetValue(connectionId, out var c) || c.State != ConnectionState.Connected || c.Info.ChannelId != channelId)
                return null;
            c.Info = c.Info with { ExtMetadata = change(c.Info.ExtMetadata) };
            return c.Info;
        }
    }

    /// <summary>
    /// Metadata extension (D-52): a connection of the channel has a new extension value (changed here, or on the node
    /// that holds it): a relayed connection's copy is brought up to date, and with <paramref name="push"/> every
    /// connection of the channel on this node that takes notifies gets `connection.updated` about it. False when the
    /// connection is unknown here.
    /// </summary>
    public bool ExtMetadataChanged(string channelId, string connectionId, System.Text.Json.JsonElement? metadata, bool push)
    {
        ConnectionInfo who;
        ChannelCounts counts;
        List<Connection> to;
        lock (_gate)
        {
            if (!sessions.ByChannel.TryGetValue(channelId, out var session)) return false;
            if (sessions.Connections.TryGetValue(connectionId, out var local) && local.Info.ChannelId == channelId) who = local.Info;
            else if (session.Remote.TryGetValue(connectionId, out var remote))
            {
                remote.Info = remote.Info with { ExtMetadata = metadata };
                who = remote.Info;
            }
            else return false;
            counts = session.Counts();
            to = push ? session.Connected.Where(c => c.Info.SignalingNotify).ToList() : [];
        }
        var minutes = (int)Math.Max(0, (ctx.Time.GetUtcNow() - who.CreatedAt).TotalMinutes);
        foreach (var c in to) c.Signaling.SendConnectionUpdated(who, counts, minutes);
        return true;
    }

    /// <summary>The latest RTCStats of this node's connected connections (of a channel, or all) that sent any (D-56).</summary>
    public IReadOnlyList<(ConnectionInfo Info, RtcStatsSample Stats)> RtcStats(string? channelId)
    {
        lock (_gate)
            return sessions.Connections.Values
                .Where(c => c.State == ConnectionState.Connected && (channelId is null || c.Info.ChannelId == channelId) && c.RtcStats is not null)
                .OrderBy(c => c.Info.CreatedAt).Select(c => (c.Info, c.RtcStats!)).ToList();
    }

    /// <summary>This node's sessions (of one channel, or all), oldest first (GetSession / ListSessions, D-50).</summary>
    public IReadOnlyList<SessionSnapshot> Sessions(string? channelId = null)
    {
        lock (_gate)
            return sessions.ByChannel.Values.Where(s => channelId is null || s.ChannelId == channelId).OrderBy(s => s.CreatedAt)
                .Select(s => new SessionSnapshot(s.ChannelId, s.SessionId, s.CreatedAt, s.Connected.Count(), s.TotalConnections, s.MaxConnections))
                .ToList();
    }

    /// <summary>
    /// TerminateSession (D-50): closes every connection of the channel's session on this node (when
    /// <paramref name="sessionId"/> is null or names it) and ends the session without the destroy delay; returns the
    /// session's id, or null when this node has no such session.
    /// </summary>
    public string? Terminate(string channelId, string? sessionId, string reason)
    {
        if (sessions.BeginTerminate(channelId, sessionId) is not { } begun) return null;
        var (session, toClose) = begun;
        foreach (var c in toClose)
            if (!c.Signaling.Disconnect(reason)) leave(c.ConnectionId, reason);
        return session.SessionId;
    }

    /// <summary>PushChannel/Connection/Client: `{"type":"push","data":...}` to the matching connections.</summary>
    public int Push(string channelId, string? connectionId, string? clientId, System.Text.Json.JsonElement data, ConnectionRole? role = null)
    {
        var targets = Select(channelId, connectionId, clientId, role);
        foreach (var c in targets) c.Signaling.SendPush(data);
        return targets.Count;
    }

    /// <summary>
    /// RequestSimulcastRid / RequestRtpStream (issue 12): the simulcast layer <paramref name="receiverId"/> gets from
    /// <paramref name="senderId"/> (every sender when null; a null <paramref name="rid"/> resets to the connect's choice).
    /// False when the receiver is not connected here. The subscriptions change on their worker at the next key frame.
    /// </summary>
    public bool RequestSimulcastRid(string channelId, string receiverId, string? senderId, string? rid)
    {
        lock (_gate)
        {
            if (!sessions.Connections.TryGetValue(receiverId, out var c) || c.Info.ChannelId != channelId || c.State != ConnectionState.Connected)
                return false;
            if (senderId is null)
            {
                c.SimulcastRid = rid;
                c.SimulcastRidBySender.Clear();
            }
            else if (rid is null) c.SimulcastRidBySender.Remove(senderId);
            else c.SimulcastRidBySender[senderId] = rid;
            c.ApplyDesiredRids(senderId);
        }
        return true;
    }

    /// <summary>Each connection's downlink estimate in bits/s (those whose receiver sends transport-wide feedback, D-38).</summary>
    public List<(string ConnectionId, long Bps)> DownlinkEstimates()
    {
        lock (_gate)
            return sessions.Connections.Values.Select(c => (c.ConnectionId, c.Transport.DownlinkEstimateBps)).Where(e => e.DownlinkEstimateBps > 0).ToList();
    }

    /// <summary>
    /// The statistics of this node's connected connections (all, a channel's, or one), each taken on its transport's media
    /// worker (D-41); a worker that does not answer within <paramref name="timeout"/> leaves its connections out.
    /// </summary>
    public async Task<List<ConnectionStats>> StatsAsync(string? channelId, string? connectionId, TimeSpan timeout)
    {
        List<Connection> targets;
        lock (_gate)
            targets = sessions.Connections.Values.Where(c => c.State == ConnectionState.Connected
                && (channelId is null || c.Info.ChannelId == channelId) && (connectionId is null || c.ConnectionId == connectionId))
                .OrderBy(c => c.Info.CreatedAt).ToList();
        var pending = targets.Select(c =>
        {
            var done = new TaskCompletionSource<ConnectionStats?>(TaskCreationOptions.RunContinuationsAsynchronously);
            c.Transport.Worker.Post(() => done.TrySetResult(c.Transport.Closed ? null : c.Transport.TakeStats(c.Info)));
            return done.Task;
        }).ToList();
        var all = Task.WhenAll(pending);
        await Task.WhenAny(all, Task.Delay(timeout)).ConfigureAwait(false);
        return pending.Where(t => t.IsCompletedSuccessfully && t.Result is not null).Select(t => t.Result!).ToList();
    }

    /// <summary>
    /// RequestKeyFrame (Sora_20241218): a key-frame request (PLI, at most one per 300 ms per track) to every video track
    /// the connection publishes. False when the connection is not connected here.
    /// </summary>
    public bool RequestKeyFrame(string channelId, string connectionId)
    {
        List<Publication> video;
        lock (_gate)
        {
            if (!sessions.Connections.TryGetValue(connectionId, out var c) || c.Info.ChannelId != channelId || c.State != ConnectionState.Connected)
                return false;
            video = c.Publications.Where(p => p.Kind == Sdp.MediaKind.Video).ToList();
        }
        var now = Rtc.MediaClock.NowMicros();
        foreach (var p in video) p.RequestKeyFrame(now);
        return true;
    }

    /// <summary>Closes every connection (node unavailable or shutting down).</summary>
    public void DisconnectAll(string reason)
    {
        List<Connection> all;
        lock (_gate) all = sessions.Connections.Values.ToList();
        foreach (var c in all)
        {
            c.Signaling.Disconnect(reason);
            leave(c.ConnectionId, reason);
        }
    }
}
