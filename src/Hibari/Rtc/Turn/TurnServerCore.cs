using System.Net;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>
/// The TURN server's protocol state (RFC 8656 server side, long-term credentials of RFC 8489 §9.2): allocations,
/// permissions, channels, authentication and the data path in both directions. Pure and single-threaded: no sockets,
/// no clock (µs passed in), no locks; the host serialises every call. Network input never makes it throw.
/// </summary>
public sealed class TurnServerCore
{
    private const int MaxUnknown = 16;

    private readonly TurnServerOptions _options;
    private readonly ITurnCredentials _credentials;
    private readonly byte[] _realm;
    private readonly byte[]? _software;
    private readonly byte _relayFamily;
    private readonly EndpointKey _relayBase;
    private readonly Dictionary<TurnClientKey, TurnAllocation> _byClient = [];
    private readonly Dictionary<ushort, TurnAllocation> _byPort = [];
    private readonly Dictionary<string, List<TurnAllocation>> _byUser = new(StringComparer.Ordinal);
    private int _nextPort;

    public TurnServerCore(TurnServerOptions options, ITurnCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(credentials);
        if (string.IsNullOrEmpty(options.Realm) || Encoding.UTF8.GetByteCount(options.Realm) > TurnConstants.MaxRealmBytes)
            throw new ArgumentException("realm must be 1 to 763 bytes", nameof(options));
        if (options.RelayPortMin is < 1 or > 65535 || options.RelayPortMax is < 1 or > 65535 || options.RelayPortMin > options.RelayPortMax)
            throw new ArgumentException("relay port range must lie in 1..65535", nameof(options));
        if (options.NonceKey is not { Length: >= 16 }) throw new ArgumentException("nonce key must be at least 16 bytes", nameof(options));
        if (options.MaxAllocations < 1 || options.MaxAllocationsPerUser < 1 || options.MaxBytesPerSecondPerAllocation < 1
            || options.NonceLifetimeMicros < 1 || options.DefaultLifetimeMicros < 1 || options.MaxLifetimeMicros < options.DefaultLifetimeMicros
            || options.MaxPermissionsPerAllocation < 1 || options.MaxChannelsPerAllocation < 1)
            throw new ArgumentException("limits and lifetimes must be positive (max lifetime ≥ default)", nameof(options));
        _options = options;
        _credentials = credentials;
        _realm = Encoding.UTF8.GetBytes(options.Realm);
        _software = options.Software is { Length: > 0 } s ? Encoding.UTF8.GetBytes(s) : null;
        _relayFamily = TurnAddress.FamilyOf(options.RelayAddress);
        _relayBase = EndpointKey.From(new IPEndPoint(options.RelayAddress, 0));
        _nextPort = options.RelayPortMin;
    }

    /// <summary>Raised synchronously on the caller's thread after an allocation is created (inside HandleFromClient).</summary>
    public event Action<TurnAllocationInfo>? AllocationCreated;
    /// <summary>Raised after an allocation is removed, for any reason: inside Expire, RevokeUser, CloseClient, or
    /// HandleFromClient (Refresh with LIFETIME 0, or an expired allocation found on use).</summary>
    public event Action<TurnAllocationInfo>? AllocationRemoved;
    public int AllocationCount => _byClient.Count;
    public TurnCounters Counters { get; } = new();

    /// <summary>The allocation of a client transport, if one is live.</summary>
    public bool TryGetAllocation(TurnClientKey client, long nowMicros, out TurnAllocationInfo info)
    {
        var found = _byClient.TryGetValue(client, out var a) && a.IsLive(nowMicros);
        info = found ? a!.Info : default;
        return found;
    }

    /// <summary>
    /// A STUN/TURN message or ChannelData message from a client (one datagram, or one frame cut by <see cref="TurnFraming"/>).
    /// responseBuffer should hold 1500 bytes. Malformed input → None (on TCP/TLS: RespondAndClose with nothing to send)
    /// or an error response, never an exception.
    /// </summary>
    public TurnAction HandleFromClient(TurnClientKey client, ReadOnlySpan<byte> input, Span<byte> responseBuffer, long nowMicros)
    {
        if (input.IsEmpty) return Malformed(client);
        switch (input[0] >> 6)
        {
            case 0: break;
            case 1: return HandleChannelData(client, input, nowMicros);
            default: return Malformed(client);
        }
        if (TurnMessageReader.TryParse(input, out var message) != StunParseError.None) return Malformed(client);
        if (message.HasFingerprint && !message.VerifyFingerprint()) return Malformed(client);
        switch (message.Class)
        {
            case StunClass.Request:
                Counters.Requests++;
                return Reply(HandleRequest(client, message, responseBuffer, nowMicros));
            case StunClass.Indication when message.Method == TurnMethod.Send:
                return HandleSend(client, message, nowMicros);
            default:
                return TurnAction.None; // other indications, and responses: a server sends no requests
        }
    }

    /// <summary>
    /// Data from a peer (the node's media worker) to the allocation whose relayed address is <paramref name="relayed"/>:
    /// writes a ChannelData message (when a channel is bound to that peer; padded to 4 bytes when the client is on
    /// TCP/TLS) or a Data indication into <paramref name="output"/> (at least payload.Length + 64 bytes). False when there
    /// is no such allocation, no permission for the peer, the bandwidth budget is spent, or it does not fit (each counted).
    /// </summary>
    public bool WrapFromPeer(EndpointKey relayed, EndpointKey peer, ReadOnlySpan<byte> payload, Span<byte> output, long nowMicros,
        out TurnClientKey client, out int length)
    {
        client = default;
        length = 0;
        if (!_byPort.TryGetValue(relayed.Port, out var a) || a.Relayed != relayed || !a.IsLive(nowMicros))
        {
            Counters.DroppedNoAllocation++;
            return false;
        }
        if (!a.HasPermission(peer, nowMicros))
        {
            Counters.DroppedNoPermission++;
            return false;
        }
        var c = a.ChannelIndex(peer);
        var channel = c >= 0 && a.Channels[c].ExpiresAt > nowMicros ? a.Channels[c].Number : (ushort)0;
        var needed = channel != 0
            ? TurnChannelData.MessageLength(payload.Length, a.Client.IsStream)
            : StunMessage.HeaderLength + 4 + TurnAddress.ValueLength(peer) + 4 + ((payload.Length + 3) & ~3);
        if (payload.Length > ushort.MaxValue - 64 || output.Length < needed)
        {
            Counters.DroppedOversize++;
            return false;
        }
        if (!a.TrySpend(payload.Length, _options.MaxBytesPerSecondPerAllocation, nowMicros))
        {
            Counters.DroppedOverBudget++;
            return false;
        }
        if (channel != 0) length = TurnChannelData.Write(output, channel, payload, a.Client.IsStream);
        else
        {
            // RFC 8656 §11.3: a Data indication with XOR-PEER-ADDRESS and DATA, a fresh transaction id, no integrity.
            Span<byte> tx = stackalloc byte[StunMessage.TransactionIdLength];
            Random.Shared.NextBytes(tx);
            var w = new TurnMessageWriter(output, TurnMethod.Data, StunClass.Indication, tx);
            w.AddXorAddress(TurnAttributeType.XorPeerAddress, peer);
            w.Add(TurnAttributeType.Data, payload);
            length = w.Length;
        }
        client = a.Client;
        Counters.PeerToClientPackets++;
        Counters.PeerToClientBytes += payload.Length;
        return true;
    }

    /// <summary>Removes expired allocations, permissions and channel bindings (the host calls this about once a second).</summary>
    public void Expire(long nowMicros)
    {
        List<TurnAllocation>? expired = null; // a list of its own: AllocationRemoved handlers may call back in
        foreach (var a in _byClient.Values)
        {
            if (a.IsLive(nowMicros)) a.Prune(nowMicros);
            else (expired ??= []).Add(a);
        }
        if (expired is null) return;
        foreach (var a in expired) Remove(a, RemoveReason.Expired);
    }

    /// <summary>The connection these credentials belonged to ended: its allocations go at once.</summary>
    public void RevokeUser(string username)
    {
        if (!_byUser.TryGetValue(username, out var list)) return;
        foreach (var a in list.ToArray()) Remove(a, RemoveReason.Revoked);
    }

    /// <summary>A TCP/TLS client connection closed: its allocation goes (RFC 8656 §3.1: an allocation is bound to its 5-tuple).</summary>
    public void CloseClient(TurnClientKey client)
    {
        if (_byClient.TryGetValue(client, out var a)) Remove(a, RemoveReason.Revoked);
    }

    // ---- requests -------------------------------------------------------------------------------------------------

    private int HandleRequest(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now)
    {
        Span<ushort> unknownBuffer = stackalloc ushort[MaxUnknown];
        var unknown = unknownBuffer[..request.CollectUnknown(unknownBuffer)];
        var method = request.Method;
        if (method == TurnMethod.Binding)
        {
            // A STUN server's Binding (RFC 8489 §6.3.1): no authentication, the client's address reflected.
            Counters.BindingRequests++;
            if (!unknown.IsEmpty) return Error(response, request, TurnError.UnknownAttribute, default, false, unknown);
            var w = Start(response, request, StunClass.SuccessResponse);
            w.AddXorAddress(StunAttributeType.XorMappedAddress, client.Remote);
            return Finish(ref w, request, default, false);
        }
        if (method is not (TurnMethod.Allocate or TurnMethod.Refresh or TurnMethod.CreatePermission or TurnMethod.ChannelBind))
            return Error(response, request, TurnError.BadRequest, default, false);

        Span<byte> key = stackalloc byte[TurnAuth.KeyLength];
        var auth = Authenticate(client, request, response, now, key, out var username);
        if (auth >= 0) return auth;
        var sha256 = request.HasIntegritySha256;
        // RFC 8489 §6.3.1: unknown comprehension-required attributes are refused once the request is authenticated.
        if (!unknown.IsEmpty) return Error(response, request, TurnError.UnknownAttribute, key, sha256, unknown);

        return method switch
        {
            TurnMethod.Allocate => Allocate(client, request, response, now, key, username),
            TurnMethod.Refresh => Refresh(client, request, response, now, key, username),
            TurnMethod.CreatePermission => CreatePermission(client, request, response, now, key, username),
            _ => ChannelBind(client, request, response, now, key, username),
        };
    }

    /// <summary>RFC 8489 §9.2.4. -1 when authenticated (key and username set), else the length of the error response written.</summary>
    private int Authenticate(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now, Span<byte> key, out string username)
    {
        username = "";
        if (!request.HasIntegrity && !request.HasIntegritySha256)
        {
            Counters.Challenges++;
            return Challenge(response, request, TurnError.Unauthenticated, client, now);
        }
        if (!request.TryGet(StunAttributeType.Username, out ReadOnlySpan<byte> user) || user.Length > TurnConstants.MaxUsernameBytes
            || !request.TryGet(StunAttributeType.Realm, out ReadOnlySpan<byte> realm) || realm.Length > TurnConstants.MaxRealmBytes
            || !request.TryGet(StunAttributeType.Nonce, out ReadOnlySpan<byte> nonce) || nonce.Length > TurnConstants.MaxNonceBytes)
            return Error(response, request, TurnError.BadRequest, default, false); // USERHASH is not offered (no nonce cookie)
        if (!realm.SequenceEqual(_realm))
        {
            Counters.Unauthorized++;
            return Challenge(response, request, TurnError.Unauthenticated, client, now);
        }
        username = Encoding.UTF8.GetString(user);
        if (!_credentials.TryGetPassword(username, out var password))
        {
            Counters.Unauthorized++;
            return Challenge(response, request, TurnError.Unauthenticated, client, now);
        }
        TurnAuth.LongTermKey(username, _options.Realm, password, key);
        if (!(request.HasIntegritySha256 ? request.VerifyIntegritySha256(key) : request.VerifyIntegrity(key)))
        {
            Counters.IntegrityFailures++;
            Counters.Unauthorized++;
            return Challenge(response, request, TurnError.Unauthenticated, client, now);
        }
        // Checked after the credentials, as §9.2.4 orders it: a nonce that is not ours (another node, a restart, another
        // connection) is treated like an expired one, so the client retries with the new nonce instead of failing.
        if (TurnNonce.Check(_options.NonceKey, nonce, client, now) != TurnNonceCheck.Valid)
        {
            Counters.StaleNonces++;
            return Challenge(response, request, TurnError.StaleNonce, client, now);
        }
        return -1;
    }

    private int Allocate(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now, ReadOnlySpan<byte> key, string username)
    {
        if (TryGetLive(client, now, out var existing))
        {
            // §7.2: the 5-tuple is in use. The request that created it, retransmitted, gets the success response again.
            if (existing.TransactionId.AsSpan().SequenceEqual(request.TransactionId) && existing.Username == username)
                return AllocateSuccess(response, request, existing, client, now, key, addressError: request.Has(TurnAttributeType.AdditionalAddressFamily));
            return Fail(response, request, TurnError.AllocationMismatch, key);
        }
        if (!request.TryGetRequestedTransport(out var protocol)) return Fail(response, request, TurnError.BadRequest, key);
        if (protocol != TurnConstants.ProtocolUdp) return Fail(response, request, TurnError.UnsupportedTransportProtocol, key);

        var hasRequestedFamily = request.Has(TurnAttributeType.RequestedAddressFamily);
        var hasAdditionalFamily = request.Has(TurnAttributeType.AdditionalAddressFamily);
        var hasToken = request.Has(TurnAttributeType.ReservationToken);
        var hasEvenPort = request.TryGet(TurnAttributeType.EvenPort, out ReadOnlySpan<byte> evenPort);
        if (hasToken && (hasEvenPort || hasRequestedFamily || hasAdditionalFamily) || hasRequestedFamily && hasAdditionalFamily)
            return Fail(response, request, TurnError.BadRequest, key);

        // §7.2: without REQUESTED-ADDRESS-FAMILY the relayed address is IPv4; we relay only RelayAddress's family.
        var family = TurnConstants.FamilyIPv4;
        if (hasRequestedFamily && !request.TryGetFamily(TurnAttributeType.RequestedAddressFamily, out family))
            return Fail(response, request, TurnError.BadRequest, key);
        if (family != _relayFamily) return Fail(response, request, TurnError.AddressFamilyNotSupported, key);
        if (hasAdditionalFamily && (!request.TryGetFamily(TurnAttributeType.AdditionalAddressFamily, out var additional) || additional != TurnConstants.FamilyIPv6))
            return Fail(response, request, TurnError.BadRequest, key);

        // We hand out no reservation tokens (a relayed port is virtual: there is no pair to keep for RTCP).
        if (hasToken) return Fail(response, request, TurnError.InsufficientCapacity, key);
        if (hasEvenPort && evenPort.Length < 1) return Fail(response, request, TurnError.BadRequest, key);
        var reserve = hasEvenPort && (evenPort[0] & 0x80) != 0;
        if (reserve && hasAdditionalFamily) return Fail(response, request, TurnError.BadRequest, key);
        if (reserve) return Fail(response, request, TurnError.InsufficientCapacity, key);

        if (_byUser.TryGetValue(username, out var mine) && mine.Count >= _options.MaxAllocationsPerUser)
            return Fail(response, request, TurnError.AllocationQuotaReached, key);
        if (_byClient.Count >= _options.MaxAllocations || !TryPickPort(hasEvenPort, out var port))
            return Fail(response, request, TurnError.InsufficientCapacity, key);

        request.TryGetLifetime(out var seconds);
        var allocation = new TurnAllocation(client, _relayBase with { Port = port }, username, family, request.TransactionId.ToArray(),
            now + Grant(request.Has(TurnAttributeType.Lifetime), seconds), _options.MaxBytesPerSecondPerAllocation, now);
        _byClient[client] = allocation;
        _byPort[port] = allocation;
        if (mine is null) _byUser[username] = mine = [];
        mine.Add(allocation);
        Counters.AllocationsCreated++;
        AllocationCreated?.Invoke(allocation.Info);
        return AllocateSuccess(response, request, allocation, client, now, key, hasAdditionalFamily);
    }

    private int AllocateSuccess(Span<byte> response, scoped in TurnMessageReader request, TurnAllocation allocation, TurnClientKey client,
        long now, ReadOnlySpan<byte> key, bool addressError)
    {
        var w = Start(response, request, StunClass.SuccessResponse);
        w.AddXorAddress(TurnAttributeType.XorRelayedAddress, allocation.Relayed);
        w.AddLifetime(Seconds(allocation.ExpiresAt - now));
        w.AddXorAddress(StunAttributeType.XorMappedAddress, client.Remote);
        // §7.2: an IPv6 relayed address asked for with ADDITIONAL-ADDRESS-FAMILY could not be given.
        if (addressError) w.AddErrorCode(TurnAttributeType.AddressErrorCode, TurnConstants.FamilyIPv6, TurnError.AddressFamilyNotSupported);
        return Finish(ref w, request, key, request.HasIntegritySha256);
    }

    private int Refresh(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now, ReadOnlySpan<byte> key, string username)
    {
        if (!TryGetLive(client, now, out var a)) return Fail(response, request, TurnError.AllocationMismatch, key);
        if (a.Username != username) return Fail(response, request, TurnError.WrongCredentials, key);
        if (request.Has(TurnAttributeType.RequestedAddressFamily)
            && (!request.TryGetFamily(TurnAttributeType.RequestedAddressFamily, out var family) || family != a.Family))
            return Fail(response, request, TurnError.PeerAddressFamilyMismatch, key);
        var hasLifetime = request.TryGetLifetime(out var seconds);
        uint granted = 0;
        if (hasLifetime && seconds == 0) Remove(a, RemoveReason.Deleted);
        else
        {
            a.ExpiresAt = now + Grant(hasLifetime, seconds);
            granted = Seconds(a.ExpiresAt - now);
        }
        var w = Start(response, request, StunClass.SuccessResponse);
        w.AddLifetime(granted);
        return Finish(ref w, request, key, request.HasIntegritySha256);
    }

    private int CreatePermission(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now, ReadOnlySpan<byte> key, string username)
    {
        if (!TryGetLive(client, now, out var a)) return Fail(response, request, TurnError.AllocationMismatch, key);
        if (a.Username != username) return Fail(response, request, TurnError.WrongCredentials, key);
        // §9.2: every XOR-PEER-ADDRESS is checked before any permission is installed.
        int peers = 0, added = 0;
        foreach (var attribute in request)
        {
            if (attribute.Type != TurnAttributeType.XorPeerAddress) continue;
            peers++;
            if (!TurnAddress.TryReadXor(request.ValueOf(attribute), request.TransactionId, out var peer, out var family))
                return Fail(response, request, TurnError.BadRequest, key);
            if (family != a.Family) return Fail(response, request, TurnError.PeerAddressFamilyMismatch, key);
            if (!_options.IsAllowedPeer(peer)) return Forbidden(response, request, key);
            if (a.PermissionIndex(peer) < 0) added++; // a repeated new address counts twice: harmless, only the cap is at stake
        }
        if (peers == 0) return Fail(response, request, TurnError.BadRequest, key);
        a.Prune(now);
        if (a.Permissions.Count + added > _options.MaxPermissionsPerAllocation) return Fail(response, request, TurnError.InsufficientCapacity, key);
        foreach (var attribute in request)
            if (attribute.Type == TurnAttributeType.XorPeerAddress && TurnAddress.TryReadXor(request.ValueOf(attribute), request.TransactionId, out var peer, out _))
                a.InstallPermission(peer, now + TurnConstants.PermissionLifetimeMicros);
        var w = Start(response, request, StunClass.SuccessResponse);
        return Finish(ref w, request, key, request.HasIntegritySha256);
    }

    private int ChannelBind(TurnClientKey client, scoped in TurnMessageReader request, Span<byte> response, long now, ReadOnlySpan<byte> key, string username)
    {
        if (!TryGetLive(client, now, out var a)) return Fail(response, request, TurnError.AllocationMismatch, key);
        if (a.Username != username) return Fail(response, request, TurnError.WrongCredentials, key);
        if (!request.TryGetChannelNumber(out var number) || !request.TryGetXorAddress(TurnAttributeType.XorPeerAddress, out var peer, out var family)
            || !TurnChannelData.IsValidChannel(number))
            return Fail(response, request, TurnError.BadRequest, key);
        if (family != a.Family) return Fail(response, request, TurnError.PeerAddressFamilyMismatch, key);
        if (!_options.IsAllowedPeer(peer)) return Forbidden(response, request, key);
        a.Prune(now);
        // §11.2: a channel bound to another peer, or this peer bound to another channel, is refused.
        var byNumber = a.ChannelIndex(number);
        var byPeer = a.ChannelIndex(peer);
        if (byNumber >= 0 && a.Channels[byNumber].Peer != peer || byPeer >= 0 && a.Channels[byPeer].Number != number)
            return Fail(response, request, TurnError.BadRequest, key);
        if (byNumber < 0 && a.Channels.Count >= _options.MaxChannelsPerAllocation
            || a.PermissionIndex(peer) < 0 && a.Permissions.Count >= _options.MaxPermissionsPerAllocation)
            return Fail(response, request, TurnError.InsufficientCapacity, key);
        var binding = new TurnAllocation.Channel(number, peer, now + TurnConstants.ChannelLifetimeMicros);
        if (byNumber >= 0) a.Channels[byNumber] = binding;
        else a.Channels.Add(binding);
        a.InstallPermission(peer, now + TurnConstants.PermissionLifetimeMicros); // §11.2: binding also refreshes the permission
        var w = Start(response, request, StunClass.SuccessResponse);
        return Finish(ref w, request, key, request.HasIntegritySha256);
    }

    // ---- data from the client --------------------------------------------------------------------------------------

    private TurnAction HandleSend(TurnClientKey client, scoped in TurnMessageReader message, long now)
    {
        // §11.2 (Send): no authentication; anything wrong drops the indication silently.
        if (!TryGetLive(client, now, out var a))
        {
            Counters.DroppedNoAllocation++;
            return TurnAction.None;
        }
        if (!message.TryGetXorAddress(TurnAttributeType.XorPeerAddress, out var peer, out var family) || !message.TryGetData(out var offset, out var length))
        {
            Counters.Malformed++;
            return TurnAction.None;
        }
        if (family != a.Family || !a.HasPermission(peer, now))
        {
            Counters.DroppedNoPermission++;
            return TurnAction.None;
        }
        // The permission is per IP address; the port must be one of the node's media ports too.
        if (!_options.IsAllowedPeer(peer))
        {
            Counters.ForbiddenPeers++;
            return TurnAction.None;
        }
        return Forward(a, peer, offset, length, now);
    }

    private TurnAction HandleChannelData(TurnClientKey client, ReadOnlySpan<byte> input, long now)
    {
        if (!TurnChannelData.TryRead(input, out var number, out var length)) return Malformed(client);
        if (!TryGetLive(client, now, out var a))
        {
            Counters.DroppedNoAllocation++;
            return TurnAction.None;
        }
        // §12.6: a bound channel is all it takes (its peer was checked when it was bound); no permission check here.
        var c = a.ChannelIndex(number);
        if (c < 0 || a.Channels[c].ExpiresAt <= now)
        {
            Counters.DroppedNoPermission++;
            return TurnAction.None;
        }
        return Forward(a, a.Channels[c].Peer, TurnChannelData.HeaderLength, length, now);
    }

    private TurnAction Forward(TurnAllocation a, EndpointKey peer, int offset, int length, long now)
    {
        if (!a.TrySpend(length, _options.MaxBytesPerSecondPerAllocation, now))
        {
            Counters.DroppedOverBudget++;
            return TurnAction.None;
        }
        Counters.ClientToPeerPackets++;
        Counters.ClientToPeerBytes += length;
        return TurnAction.Forward(a.Relayed, peer, offset, length);
    }

    // ---- state -----------------------------------------------------------------------------------------------------

    private enum RemoveReason { Expired, Deleted, Revoked }

    /// <summary>The client's allocation if live; an expired one found here is removed now rather than at the next Expire.</summary>
    private bool TryGetLive(TurnClientKey client, long now, out TurnAllocation allocation)
    {
        if (!_byClient.TryGetValue(client, out allocation!)) return false;
        if (allocation.IsLive(now)) return true;
        Remove(allocation, RemoveReason.Expired);
        return false;
    }

    private void Remove(TurnAllocation a, RemoveReason reason)
    {
        if (!_byClient.Remove(a.Client)) return;
        _byPort.Remove(a.Relayed.Port);
        if (_byUser.TryGetValue(a.Username, out var list))
        {
            list.Remove(a);
            if (list.Count == 0) _byUser.Remove(a.Username);
        }
        switch (reason)
        {
            case RemoveReason.Expired: Counters.AllocationsExpired++; break;
            case RemoveReason.Deleted: Counters.AllocationsDeleted++; break;
            default: Counters.AllocationsRevoked++; break;
        }
        AllocationRemoved?.Invoke(a.Info);
    }

    /// <summary>A free relay port, going round the range so a port just freed is not handed out again at once.</summary>
    private bool TryPickPort(bool even, out ushort port)
    {
        int min = _options.RelayPortMin, max = _options.RelayPortMax;
        for (var i = max - min; i >= 0; i--)
        {
            var candidate = _nextPort;
            _nextPort = candidate >= max ? min : candidate + 1;
            if (even && (candidate & 1) != 0 || _byPort.ContainsKey((ushort)candidate)) continue;
            port = (ushort)candidate;
            return true;
        }
        port = 0;
        return false;
    }

    /// <summary>§7.2/§8.2: min(requested, maximum), but never below the default; no LIFETIME → the default.</summary>
    private long Grant(bool hasLifetime, uint requestedSeconds)
    {
        if (!hasLifetime) return _options.DefaultLifetimeMicros;
        var requested = Math.Min(requestedSeconds * 1_000_000L, _options.MaxLifetimeMicros);
        return Math.Max(requested, _options.DefaultLifetimeMicros);
    }

    private static uint Seconds(long micros) => (uint)Math.Clamp((micros + 999_999) / 1_000_000, 0, uint.MaxValue);

    // ---- responses -------------------------------------------------------------------------------------------------

    private TurnAction Malformed(TurnClientKey client)
    {
        Counters.Malformed++;
        // A stream that carried a broken frame has nothing more worth reading.
        return client.IsStream ? TurnAction.Close(0) : TurnAction.None;
    }

    private static TurnAction Reply(int length) => length > 0 ? TurnAction.Respond(length) : TurnAction.None;

    private static TurnMessageWriter Start(Span<byte> response, scoped in TurnMessageReader request, StunClass cls) =>
        new(response, request.Method, cls, request.TransactionId);

    /// <summary>
    /// SOFTWARE; when authenticated, MESSAGE-INTEGRITY (RFC 8489 §9.2.4: no password algorithm was negotiated, so the
    /// request counts as MD5) and, for a request that used MESSAGE-INTEGRITY-SHA256, that too after it (§14.6 order),
    /// so clients of either kind can check the response; then FINGERPRINT if the request had one.
    /// </summary>
    private int Finish(ref TurnMessageWriter w, scoped in TurnMessageReader request, ReadOnlySpan<byte> key, bool sha256)
    {
        if (_software is not null) w.Add(StunAttributeType.Software, _software);
        if (!key.IsEmpty)
        {
            w.AddMessageIntegrity(key);
            if (sha256) w.AddMessageIntegritySha256(key);
        }
        if (request.HasFingerprint) w.AddFingerprint();
        return w.Length;
    }

    private int Error(Span<byte> response, scoped in TurnMessageReader request, int code, ReadOnlySpan<byte> key, bool sha256,
        ReadOnlySpan<ushort> unknown = default)
    {
        if (code == TurnError.UnknownAttribute || code == TurnError.BadRequest) Counters.OtherErrors++;
        var w = Start(response, request, StunClass.ErrorResponse);
        w.AddErrorCode(code);
        if (!unknown.IsEmpty) w.AddUnknownAttributes(unknown);
        return Finish(ref w, request, key, sha256);
    }

    /// <summary>An error to an authenticated request: carries MESSAGE-INTEGRITY(-SHA256) with the request's key (RFC 8489 §9.2.4).</summary>
    private int Fail(Span<byte> response, scoped in TurnMessageReader request, int code, ReadOnlySpan<byte> key)
    {
        switch (code)
        {
            case TurnError.AllocationMismatch: Counters.AllocationMismatches++; break;
            case TurnError.AllocationQuotaReached: Counters.QuotaReached++; break;
            case TurnError.InsufficientCapacity: Counters.InsufficientCapacity++; break;
            case TurnError.Forbidden: Counters.ForbiddenPeers++; break;
            default: Counters.OtherErrors++; break;
        }
        var w = Start(response, request, StunClass.ErrorResponse);
        w.AddErrorCode(code);
        return Finish(ref w, request, key, request.HasIntegritySha256);
    }

    private int Forbidden(Span<byte> response, scoped in TurnMessageReader request, ReadOnlySpan<byte> key) =>
        Fail(response, request, TurnError.Forbidden, key);

    /// <summary>401 or 438 with REALM and a fresh NONCE, without integrity (RFC 8489 §9.2.4).</summary>
    private int Challenge(Span<byte> response, scoped in TurnMessageReader request, int code, TurnClientKey client, long now)
    {
        var w = Start(response, request, StunClass.ErrorResponse);
        w.AddErrorCode(code);
        w.Add(StunAttributeType.Realm, _realm);
        if (w.TryReserve(StunAttributeType.Nonce, TurnNonce.Length, out var nonce))
            TurnNonce.Write(_options.NonceKey, now + _options.NonceLifetimeMicros, client, nonce);
        return Finish(ref w, request, default, false);
    }
}
