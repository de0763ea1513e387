namespace Hibari.Sfu;

/// <summary>
/// The result of joining a channel's session: its id and whether this join created it, or — for a session that must
/// live on one node (relay off) — the node that holds it.
/// </summary>
public readonly record struct SessionJoin(string? SessionId, bool Created, string? OwnedBy)
{
    public static SessionJoin Elsewhere(string owner) => new(null, false, owner);
}

/// <summary>
/// Where sessions are recorded: locally on a single node, in the replicated state in a cluster (set-if-absent, so two
/// nodes never create two sessions for one channel). Called when a channel gets its first connection on this node and
/// when its last one left (after the session-destroy delay), never per packet.
/// </summary>
public interface ISessionStore
{
    Task<SessionJoin> JoinAsync(string channelId, string proposedSessionId, CancellationToken ct);
    /// <summary>This node no longer holds the session; true when that ended the session (no node holds it any more).</summary>
    Task<bool> LeaveAsync(string channelId, string sessionId, CancellationToken ct);
}

/// <summary>A node outside a cluster: its sessions are its own.</summary>
public sealed class LocalSessionStore : ISessionStore
{
    public static readonly LocalSessionStore Instance = new();
    public Task<SessionJoin> JoinAsync(string channelId, string proposedSessionId, CancellationToken ct) =>
        Task.FromResult(new SessionJoin(proposedSessionId, true, null));
    public Task<bool> LeaveAsync(string channelId, string sessionId, CancellationToken ct) => Task.FromResult(true);
}
