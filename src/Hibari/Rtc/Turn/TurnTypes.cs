using System.Net;
using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>How a client reaches the TURN server (RFC 8656 §3.1); the relayed side is always UDP.</summary>
public enum TurnTransport : byte { Udp, Tcp, Tls }

/// <summary>One client transport: UDP → the client's address (ConnectionId 0); TCP/TLS → the connection's id given by the host.</summary>
public readonly record struct TurnClientKey(TurnTransport Transport, EndpointKey Remote, long ConnectionId)
{
    /// <summary>TCP and TLS carry frames in a byte stream (ChannelData padded to 4 bytes, RFC 8656 §12.5).</summary>
    public bool IsStream => Transport != TurnTransport.Udp;
}

/// <summary>Long-term credentials the host issues per WebRTC connection (valid only while that connection lives).</summary>
public interface ITurnCredentials
{
    /// <summary>The password of a username the host issued and has not revoked; false otherwise.</summary>
    bool TryGetPassword(string username, out string password);
}

/// <summary>Configuration of a <see cref="TurnServerCore"/>; checked once by its constructor.</summary>
public sealed class TurnServerOptions
{
    public required string Realm { get; init; }
    /// <summary>The address relayed transport addresses are given on (XOR-RELAYED-ADDRESS); ports come from RelayPortMin..RelayPortMax.
    /// Its family is the one family relayed (an IPv4-mapped IPv6 address counts as IPv4).</summary>
    public required IPAddress RelayAddress { get; init; }
    public int RelayPortMin { get; init; } = 49152;
    public int RelayPortMax { get; init; } = 65535;
    /// <summary>Peers an allocation may reach: the node's own media addresses. Anything else → 403 (CreatePermission,
    /// ChannelBind; Send indications dropped and counted).</summary>
    public required Func<EndpointKey, bool> IsAllowedPeer { get; init; }
    public int MaxAllocationsPerUser { get; init; } = 4;
    public int MaxAllocations { get; init; } = 10_000;
    /// <summary>Token bucket per allocation for data in both directions (burst: one second's worth); over it, packets are dropped and counted.</summary>
    public long MaxBytesPerSecondPerAllocation { get; init; } = 4_000_000;
    public long NonceLifetimeMicros { get; init; } = 600_000_000;
    /// <summary>Allocation lifetime when the client asks for less or nothing (RFC 8656 §7.2: 600 s).</summary>
    public long DefaultLifetimeMicros { get; init; } = 600_000_000;
    /// <summary>The longest lifetime granted (RFC 8656 §7.2: 3600 s recommended).</summary>
    public long MaxLifetimeMicros { get; init; } = 3_600_000_000;
    /// <summary>Permissions and channel bindings an allocation may hold; more → 508.</summary>
    public int MaxPermissionsPerAllocation { get; init; } = 32;
    public int MaxChannelsPerAllocation { get; init; } = 64;
    /// <summary>Secret for stateless nonces (HMAC over expiry time + client key); random per node, at least 16 bytes.</summary>
    public required byte[] NonceKey { get; init; }
    public string? Software { get; init; }
}

public enum TurnActionKind : byte { None, Respond, ForwardToPeer, RespondAndClose }

/// <summary>
/// What the host does after a client message. Respond: send responseBuffer[..ResponseLength] back to the client.
/// ForwardToPeer: deliver input[PayloadOffset..PayloadOffset+PayloadLength] to Peer as if it came from Relayed (UDP semantics).
/// RespondAndClose (TCP/TLS only): send responseBuffer[..ResponseLength] (possibly nothing), then close the connection.
/// </summary>
public readonly record struct TurnAction(TurnActionKind Kind, int ResponseLength, EndpointKey Relayed, EndpointKey Peer, int PayloadOffset, int PayloadLength)
{
    public static TurnAction None => default;
    public static TurnAction Respond(int length) => new(TurnActionKind.Respond, length, default, default, 0, 0);
    public static TurnAction Close(int length) => new(TurnActionKind.RespondAndClose, length, default, default, 0, 0);
    public static TurnAction Forward(EndpointKey relayed, EndpointKey peer, int offset, int length) =>
        new(TurnActionKind.ForwardToPeer, 0, relayed, peer, offset, length);
}

/// <summary>An allocation as the host sees it: who holds it, the relayed address it routes by, whose credentials.</summary>
public readonly record struct TurnAllocationInfo(TurnClientKey Client, EndpointKey Relayed, string Username);

/// <summary>Counters of one core. Written only by the core's (serialised) caller; 64-bit reads from other threads are whole.</summary>
public sealed class TurnCounters
{
    public long AllocationsCreated { get; internal set; }
    /// <summary>Lifetime ran out (Expire, or found expired on use).</summary>
    public long AllocationsExpired { get; internal set; }
    /// <summary>Refresh with LIFETIME 0.</summary>
    public long AllocationsDeleted { get; internal set; }
    /// <summary>RevokeUser or CloseClient.</summary>
    public long AllocationsRevoked { get; internal set; }
    /// <summary>STUN requests handled (Binding included).</summary>
    public long Requests { get; internal set; }
    public long BindingRequests { get; internal set; }
    /// <summary>401 to a request without MESSAGE-INTEGRITY: the normal first round trip.</summary>
    public long Challenges { get; internal set; }
    /// <summary>401 to a request with credentials: unknown or revoked username, wrong realm, failed integrity.</summary>
    public long Unauthorized { get; internal set; }
    public long IntegrityFailures { get; internal set; }
    public long StaleNonces { get; internal set; }
    /// <summary>403 to CreatePermission/ChannelBind, and Send indications to a peer that is not allowed.</summary>
    public long ForbiddenPeers { get; internal set; }
    public long QuotaReached { get; internal set; }
    public long InsufficientCapacity { get; internal set; }
    public long AllocationMismatches { get; internal set; }
    /// <summary>Other error responses: 400, 420, 440, 441, 442, 443.</summary>
    public long OtherErrors { get; internal set; }
    public long ClientToPeerPackets { get; internal set; }
    public long ClientToPeerBytes { get; internal set; }
    public long PeerToClientPackets { get; internal set; }
    public long PeerToClientBytes { get; internal set; }
    public long DroppedOverBudget { get; internal set; }
    /// <summary>Data in either direction without a live permission (or channel) for the peer.</summary>
    public long DroppedNoPermission { get; internal set; }
    /// <summary>Data for a client or relayed address without a live allocation.</summary>
    public long DroppedNoAllocation { get; internal set; }
    /// <summary>Data from a peer that did not fit the output buffer or a Data indication.</summary>
    public long DroppedOversize { get; internal set; }
    /// <summary>Not STUN, not ChannelData, or a broken message (bad length, FINGERPRINT, attribute).</summary>
    public long Malformed { get; internal set; }
}
