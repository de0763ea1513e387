using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Hibari.Rtc.Ice;

/// <summary>What the SFU told the remote peer in its SDP: our password, and the ufrag the peer gave us.</summary>
public readonly record struct IceCredentials(string LocalPassword, string RemoteUfrag);

/// <summary>Finds the credentials of a registered peer by our (local) ufrag; false if none is registered.</summary>
public delegate bool IceCredentialLookup(string localUfrag, out IceCredentials credentials);

public enum IceBindingOutcome
{
    /// <summary>An authenticated Binding request, answered with a success response.</summary>
    Accepted,
    /// <summary>A Binding request refused with an error response (400, 401, 420 or 487).</summary>
    Rejected,
    /// <summary>Not answered: not STUN, not a Binding request, or a bad/missing FINGERPRINT.</summary>
    Dropped,
}

/// <summary>Why a datagram was dropped or refused, for counters and logs.</summary>
public enum IceRejectReason
{
    None = 0,
    Malformed,          // not a parseable STUN message
    NotBindingRequest,  // indications (keepalives), responses, other methods: silently ignored
    BadFingerprint,     // RFC 8445 §7.3: checks carry FINGERPRINT; a bad one means "not STUN"
    MissingCredentials, // 400: no USERNAME or no MESSAGE-INTEGRITY (RFC 8489 §9.1.3)
    UnknownUsername,    // 401: USERNAME not "ourUfrag:theirUfrag" of a registered peer
    BadIntegrity,       // 401: MESSAGE-INTEGRITY does not verify with our password
    UnknownAttribute,   // 420: a comprehension-required attribute we do not know
    RoleConflict,       // 487: the peer claims the controlled role, which is ours (RFC 8445 §6.1.1, §7.3.1.1)
}

/// <summary>
/// Result of one datagram. <see cref="Response"/> is the datagram to send back to <see cref="Remote"/> (null when
/// dropped). For accepted requests <see cref="Selected"/> is the address media should now go to for this peer.
/// </summary>
public readonly record struct IceBindingResult(
    IceBindingOutcome Outcome,
    IceRejectReason Reason,
    byte[]? Response,
    IPEndPoint Remote,
    string? LocalUfrag = null,
    bool UseCandidate = false,
    uint Priority = 0,
    IPEndPoint? Selected = null,
    bool SelectedChanged = false);

/// <summary>
/// The ICE-lite side of connectivity checks (RFC 8445 §2.5, §7.3): answers the peer's Binding requests, never sends its
/// own. An ICE-lite agent is always controlled, so nomination is the peer's USE-CANDIDATE. The remote address is latched
/// from the first authenticated request and re-latched by a later one carrying USE-CANDIDATE (docs/protocol-notes.md, "ICE-lite").
/// Pure logic: no sockets, no clock; consent freshness (RFC 7675) is the caller's, timed from accepted results.
/// </summary>
public sealed class IceLiteResponder
{
    private readonly IceCredentialLookup _lookup;
    private readonly ConcurrentDictionary<string, IPEndPoint> _selected = new(StringComparer.Ordinal);
    private long _accepted, _rejected, _dropped;

    public IceLiteResponder(IceCredentialLookup lookup) => _lookup = lookup;

    public long Accepted => Interlocked.Read(ref _accepted);
    public long Rejected => Interlocked.Read(ref _rejected);
    /// <summary>Datagrams dropped without an answer: garbage, non-requests, bad fingerprints.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The address latched for a peer, if any authenticated request has arrived.</summary>
    public IPEndPoint? SelectedFor(string localUfrag) => _selected.TryGetValue(localUfrag, out var e) ? e : null;

    /// <summary>Forgets the latched address when the peer's session ends.</summary>
    public void Forget(string localUfrag) => _selected.TryRemove(localUfrag, out _);

    public IceBindingResult Handle(ReadOnlySpan<byte> datagram, IPEndPoint remote)
    {
        var parsed = StunMessage.Parse(datagram);
        if (parsed.Message is not { } request) return Drop(remote, IceRejectReason.Malformed);
        if (!request.IsBindingRequest) return Drop(remote, IceRejectReason.NotBindingRequest);
        if (!request.VerifyFingerprint()) return Drop(remote, IceRejectReason.BadFingerprint);

        var txId = request.TransactionId;
        if (!request.TryGetUsername(out var username) || !request.HasIntegrity)
            return Reject(remote, IceRejectReason.MissingCredentials, StunMessageWriter.BindingError(txId, 400, "Bad Request"));

        // RFC 8445 §7.3: USERNAME of a check to us is "<our ufrag>:<their ufrag>".
        var colon = username.IndexOf(':');
        IceCredentials credentials = default;
        if (colon <= 0 || !_lookup(username[..colon], out credentials) || !string.Equals(username[(colon + 1)..], credentials.RemoteUfrag, StringComparison.Ordinal))
            return Reject(remote, IceRejectReason.UnknownUsername, StunMessageWriter.BindingError(txId, 401, "Unauthorized"));

        var localUfrag = username[..colon];
        var key = Encoding.UTF8.GetBytes(credentials.LocalPassword);
        if (!request.VerifyIntegrity(key))
            return Reject(remote, IceRejectReason.BadIntegrity, StunMessageWriter.BindingError(txId, 401, "Unauthorized"));

        // RFC 8489 §6.3.1.1: after authentication, refuse unknown comprehension-required attributes with 420.
        List<ushort>? unknown = null;
        foreach (var a in request.Attributes)
            if (StunAttributeType.IsComprehensionRequired(a.Type) && !StunAttributeType.IsKnown(a.Type) && !(unknown ??= []).Contains(a.Type))
                unknown.Add(a.Type);
        if (unknown is not null)
            return Reject(remote, IceRejectReason.UnknownAttribute, StunMessageWriter.BindingError(txId, 420, "Unknown Attribute", key, unknown));

        // RFC 8445 §6.1.1: facing a lite agent, the full agent must control. A lite agent cannot take the controlling role,
        // so it always wins the tie-break of §7.3.1.1 and answers 487; the peer then switches to controlling (§7.2.5.1).
        if (request.Has(StunAttributeType.IceControlled) && !request.Has(StunAttributeType.IceControlling))
            return Reject(remote, IceRejectReason.RoleConflict, StunMessageWriter.BindingError(txId, 487, "Role Conflict", key));

        var useCandidate = request.HasUseCandidate;
        request.TryGetPriority(out var priority);
        var changed = false;
        var selected = _selected.AddOrUpdate(localUfrag,
            _ => { changed = true; return remote; },
            (_, current) =>
            {
                if (!useCandidate || current.Equals(remote)) return current;
                changed = true;
                return remote;
            });
        Interlocked.Increment(ref _accepted);
        return new IceBindingResult(IceBindingOutcome.Accepted, IceRejectReason.None, StunMessageWriter.BindingSuccess(txId, remote, key),
            remote, localUfrag, useCandidate, priority, selected, changed);
    }

    private IceBindingResult Drop(IPEndPoint remote, IceRejectReason reason)
    {
        Interlocked.Increment(ref _dropped);
        return new IceBindingResult(IceBindingOutcome.Dropped, reason, null, remote);
    }

    private IceBindingResult Reject(IPEndPoint remote, IceRejectReason reason, byte[] response)
    {
        Interlocked.Increment(ref _rejected);
        return new IceBindingResult(IceBindingOutcome.Rejected, reason, response, remote);
    }
}
