using Hibari.Cluster;
using Hibari.Sfu;

namespace Hibari.Node;

/// <summary>
/// Sessions of a cluster node live in the replicated state (SessionDirectory): set-if-absent claims, so nodes racing
/// for a new channel agree on one session; with relay off the claim is exclusive, so a session never has two owners
/// (C-NOREL-2, C-MAJ-4).
/// </summary>
internal sealed class ClusterSessionStore(SessionDirectory directory, bool exclusive) : ISessionStore
{
    public async Task<SessionJoin> JoinAsync(string channelId, string proposedSessionId, CancellationToken ct)
    {
        var claim = await directory.ClaimAsync(channelId, proposedSessionId, exclusive, ct).ConfigureAwait(false);
        return claim.OwnedBy is { } owner ? SessionJoin.Elsewhere(owner) : new SessionJoin(claim.SessionId, claim.Created, null);
    }

    public Task<bool> LeaveAsync(string channelId, string sessionId, CancellationToken ct) => directory.LeaveAsync(channelId, sessionId, ct);
}
