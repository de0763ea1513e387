using Hibari.Cluster.State;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// The SFU's sessions on this node, by channel and by id, and its connections by id: admission, joining a channel's
/// session in the store, and ending a session session_destroy_delay_ms after its last connection left. Owned by the
/// topology lock (<see cref="SfuContext.Gate"/>, docs/threads.md): the dictionaries are read and written only under it.
/// </summary>
/// <param name="capacity">How many connections this node may hold now: its licence alone, or in a cluster the licence
/// with takeover of failed regular nodes' capacity (C-TAKE-1..3), the same figure placement uses.</param>
internal sealed class SessionRegistry(SfuContext ctx, ISessionStore store, Func<string> mode, Func<int> capacity)
{
    private readonly object _gate = ctx.Gate;

    /// <summary>Sessions by channel id (under the lock).</summary>
    public Dictionary<string, Session> ByChannel { get; } = new(StringComparer.Ordinal);
    /// <summary>Sessions by session id (under the lock).</summary>
    public Dictionary<string, Session> ById { get; } = new(StringComparer.Ordinal);
    /// <summary>Connections on this node, set up or connected, by connection id (under the lock).</summary>
    public Dictionary<string, Connection> Connections { get; } = new(StringComparer.Ordinal);

    /// <inheritdoc cref="SfuEngine.SessionCreated"/>
    public event Action<SessionEvent>? SessionCreated;
    /// <inheritdoc cref="SfuEngine.SessionDestroyed"/>
    public event Action<SessionEvent>? SessionDestroyed;
    /// <inheritdoc cref="SfuEngine.SessionOpened"/>
    public event Action<string, string>? SessionOpened;
    /// <inheritdoc cref="SfuEngine.SessionClosed"/>
    public event Action<string, string>? SessionClosed;

    public int ConnectionCount { get { lock (_gate) return Connections.Count; } }
    public int SessionCount { get { lock (_gate) return ByChannel.Count; } }

    /// <summary>Mode and licence checks before anything else happens (C-PLACE-0, C-MODE).</summary>
    public AdmissionRefusal Admit(string channelId)
    {
        var m = mode();
        if (m == NodeModes.BlockNewConnection) return AdmissionRefusal.BlockNewConnection;
        var max = capacity();
        lock (_gate)
        {
            if (m == NodeModes.BlockNewSession && !ByChannel.ContainsKey(channelId)) return AdmissionRefusal.BlockNewSession;
            if (Connections.Count >= max) return AdmissionRefusal.MaxConnections;
        }
        return AdmissionRefusal.None;
    }

    /// <summary>The channel's current session id on this node, if any (for the auth webhook).</summary>
    public string? SessionIdOf(string channelId)
    {
        lock (_gate) return ByChannel.GetValueOrDefault(channelId)?.SessionId;
    }

    /// <inheritdoc cref="SfuEngine.EnsureSessionAsync"/>
    public async Task<SessionJoin> EnsureSessionAsync(string channelId, CancellationToken ct)
    {
        // A session being terminated (D-50) is waited out (its connections are closing; it ends at once after the last),
        // so the connect starts the next session; past the bound it joins whatever is there, as before.
        for (var waited = 0; ; waited++)
        {
            lock (_gate)
            {
                if (!ByChannel.TryGetValue(channelId, out var local)) break;
                if (!local.Terminating || waited >= TerminateWaitRounds)
                {
                    local.PendingDestroy?.Cancel();
                    local.PendingDestroy = null;
                    return new SessionJoin(local.SessionId, false, null);
                }
            }
            await Task.Delay(TerminateWaitStep, ctx.Time, ct).ConfigureAwait(false);
        }
        var join = await store.JoinAsync(channelId, Signaling.Messages.SoraId.New(), ct).ConfigureAwait(false);
        if (join.SessionId is not { } id) return join;
        lock (_gate)
        {
            // Two connects of this node may race here; the store gave both the same id.
            if (ByChannel.TryGetValue(channelId, out var local)) return new SessionJoin(local.SessionId, false, null);
            var opened = new Session(channelId, id, ctx.Time.GetUtcNow());
            ByChannel[channelId] = opened;
            ById[id] = opened;
        }
        SessionOpened?.Invoke(channelId, id);
        if (join.Created) SessionCreated?.Invoke(new SessionEvent(channelId, id, ctx.Time.GetUtcNow(), null, 0, 0));
        return join;
    }

    /// <summary>The local session with this id (null: this node has no part of it).</summary>
    public Session? SessionById(string sessionId)
    {
        lock (_gate) return ById.GetValueOrDefault(sessionId);
    }

    /// <summary>The connected local connections of a session (what a newly relayed node must hear about).</summary>
    public IReadOnlyList<ConnectionInfo> LocalConnections(string sessionId)
    {
        lock (_gate) return ById.GetValueOrDefault(sessionId)?.Connected.Select(c => c.Info).ToList() ?? [];
    }

    /// <summary>Sets where a session's local tracks are relayed (null: nowhere).</summary>
    public void SetRelay(string sessionId, IRelayFanout? relay)
    {
        lock (_gate)
            if (ById.GetValueOrDefault(sessionId) is { } s) s.Relay = relay;
    }

    private static readonly TimeSpan TerminateWaitStep = TimeSpan.FromMilliseconds(50);
    private const int TerminateWaitRounds = 200; // 10 s
    /// <summary>How often a terminated session that still has connections on other nodes checks again.</summary>
    private static readonly TimeSpan TerminateRecheck = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Ends the session after the destroy delay unless a connection comes back; a terminated one (D-50) at once, or as
    /// soon as its connections on other nodes are gone. Under the lock.
    /// </summary>
    public void ScheduleDestroy(Session session)
    {
        ctx.AssertOwner();
        var cts = new CancellationTokenSource();
        session.PendingDestroy = cts;
        var delay = !session.Terminating ? TimeSpan.FromMilliseconds(ctx.Options.SessionDestroyDelayMs)
            : session.Remote.Count > 0 ? TerminateRecheck : TimeSpan.Zero;
        _ = DestroyLaterAsync(session, delay, cts.Token);
    }

    /// <summary>
    /// TerminateSession (D-50): marks the channel's session (when <paramref name="sessionId"/> is null or names it) as
    /// terminating and returns it with the local connections to close; null when this node has no such session. A
    /// session with no connections left here ends at once.
    /// </summary>
    public (Session Session, List<Connection> ToClose)? BeginTerminate(string channelId, string? sessionId)
    {
        lock (_gate)
        {
            if (!ByChannel.TryGetValue(channelId, out var session) || (sessionId is not null && session.SessionId != sessionId)) return null;
            session.Terminating = true;
            if (session.Connections.Count == 0)
            {
                session.PendingDestroy?.Cancel();
                ScheduleDestroy(session);
            }
            return (session, session.Connections.ToList());
        }
    }

    private async Task DestroyLaterAsync(Session session, TimeSpan delay, CancellationToken ct)
    {
        try
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, ctx.Time, ct).ConfigureAwait(false);
            else await Task.Yield(); // never run the end of a session inside the caller's lock
        }
        catch (OperationCanceledException)
        {
            return;
        }
        SessionEvent e;
        lock (_gate)
        {
            if (ct.IsCancellationRequested || session.Connections.Count > 0) return;
            if (ByChannel.GetValueOrDefault(session.ChannelId) != session) return;
            // C-RELAY-3: a relayed session lives on here while it has connections on other nodes.
            if (session.Remote.Count > 0) { ScheduleDestroy(session); return; }
            ByChannel.Remove(session.ChannelId);
            ById.Remove(session.SessionId);
            e = new SessionEvent(session.ChannelId, session.SessionId, session.CreatedAt, ctx.Time.GetUtcNow(), session.TotalConnections, session.MaxConnections);
        }
        SessionClosed?.Invoke(session.ChannelId, session.SessionId); // this node's part is gone, whatever the store says
        bool ended;
        try
        {
            ended = await store.LeaveAsync(session.ChannelId, session.SessionId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The leader will not see this node's release now; the ownership goes when the node leaves or restarts.
            ctx.Log.LogWarning("Session {Session} of {Channel}: could not release it in the cluster: {Error}", session.SessionId, session.ChannelId, ex.Message);
            return;
        }
        if (ended) SessionDestroyed?.Invoke(e);
    }
}
