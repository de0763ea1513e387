using Hibari.Cluster.State;

namespace Hibari.Cluster;

/// <summary>The result of claiming a channel: its session, and whether this claim created it.</summary>
public readonly record struct SessionClaim(string ChannelId, string SessionId, bool Created, string? OwnedBy = null);

/// <summary>
/// The narrow interface the SFU uses for channel → session → owner nodes in the replicated state. Every call is one
/// Raft write on connect, disconnect or session create/destroy, never per packet. A node that is not in the majority
/// refuses new sessions (C-MAJ-2).
/// </summary>
public sealed class SessionDirectory(ClusterService cluster, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Set-if-absent: two nodes racing for a new channel agree on one session; this node becomes an owner.</summary>
    public async Task<SessionClaim> ClaimAsync(string channelId, CancellationToken ct = default) =>
        await ClaimAsync(channelId, Guid.NewGuid().ToString("n"), exclusive: false, ct).ConfigureAwait(false);

    /// <summary>
    /// Claims the channel's session with <paramref name="proposedSessionId"/> as the id if it is new. With
    /// <paramref name="exclusive"/> (relay off) the claim fails when another node owns the session:
    /// <see cref="SessionClaim.OwnedBy"/> names it (C-NOREL-2, C-MAJ-4).
    /// </summary>
    public async Task<SessionClaim> ClaimAsync(string channelId, string proposedSessionId, bool exclusive, CancellationToken ct = default)
    {
        RequireAvailable();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        ClusterCommand command = exclusive
            ? new ClusterCommand.ClaimExclusive(channelId, proposedSessionId, cluster.NodeName, now)
            : new ClusterCommand.ClaimSession(channelId, proposedSessionId, cluster.NodeName, now);
        var r = await cluster.ExecuteAsync(command, ct).ConfigureAwait(false);
        if (exclusive && !r.Ok && r.Value is { } owner) return new SessionClaim(channelId, "", false, owner);
        if (!r.Ok || r.Value is null) throw new ClusterOperationException("ClaimRefused", r.Error ?? "claim refused");
        return new SessionClaim(channelId, r.Value, r.Created);
    }

    /// <summary>This node's last connection left the session: stop owning it; true when that destroyed the session.</summary>
    public async Task<bool> LeaveAsync(string channelId, string sessionId, CancellationToken ct = default) =>
        (await cluster.ExecuteAsync(new ClusterCommand.ReleaseSession(channelId, sessionId, cluster.NodeName), ct).ConfigureAwait(false)).Value == "destroyed";

    /// <summary>This node stops owning the session (its last connection of it left); the session itself stays.</summary>
    public async Task ReleaseAsync(string channelId, string sessionId, CancellationToken ct = default) =>
        await cluster.ExecuteAsync(new ClusterCommand.RemoveOwner(channelId, sessionId, cluster.NodeName), ct).ConfigureAwait(false);

    /// <summary>Destroys the session if it is still the channel's current one (after the session-destroy delay).</summary>
    public async Task<bool> DestroyAsync(string channelId, string sessionId, CancellationToken ct = default) =>
        (await cluster.ExecuteAsync(new ClusterCommand.DestroySession(channelId, sessionId), ct).ConfigureAwait(false)).Ok;

    /// <summary>The channel's session and owners as this node currently sees them (a local, possibly stale read).</summary>
    public ChannelRecord? Find(string channelId) => cluster.State.View.Channels.GetValueOrDefault(channelId);

    private void RequireAvailable()
    {
        if (!cluster.Guard.Available)
            throw new ClusterOperationException("ClusterUnavailable", "this node is not in the majority of regular nodes: no new sessions (C-MAJ-2)", 503);
    }
}
