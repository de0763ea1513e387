using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>One allocation (RFC 8656 §2.2): its 5-tuple, relayed address, lifetime, permissions, channels and byte budget.</summary>
internal sealed class TurnAllocation(TurnClientKey client, EndpointKey relayed, string username, byte family, byte[] transactionId,
    long expiresAt, double budget, long now)
{
    public readonly TurnClientKey Client = client;
    public readonly EndpointKey Relayed = relayed;
    public readonly string Username = username;
    public readonly byte Family = family;
    /// <summary>The Allocate request that created it: a retransmission gets the success response again (§7.2).</summary>
    public readonly byte[] TransactionId = transactionId;
    public long ExpiresAt = expiresAt;
    public readonly List<Permission> Permissions = [];
    public readonly List<Channel> Channels = [];
    private double _tokens = budget;
    private long _refilledAt = now;

    public TurnAllocationInfo Info => new(Client, Relayed, Username);

    public bool IsLive(long now) => now < ExpiresAt;

    /// <summary>A live permission for the peer's IP address (ports do not matter, §9).</summary>
    public bool HasPermission(EndpointKey peer, long now)
    {
        foreach (var p in Permissions)
            if (TurnAddress.SameAddress(p.Address, peer)) return now < p.ExpiresAt;
        return false;
    }

    public int PermissionIndex(EndpointKey peer)
    {
        for (var i = 0; i < Permissions.Count; i++)
            if (TurnAddress.SameAddress(Permissions[i].Address, peer)) return i;
        return -1;
    }

    public void InstallPermission(EndpointKey peer, long expiresAt)
    {
        var i = PermissionIndex(peer);
        if (i >= 0) Permissions[i] = new Permission(Permissions[i].Address, expiresAt);
        else Permissions.Add(new Permission(peer, expiresAt));
    }

    public int ChannelIndex(ushort number)
    {
        for (var i = 0; i < Channels.Count; i++)
            if (Channels[i].Number == number) return i;
        return -1;
    }

    public int ChannelIndex(EndpointKey peer)
    {
        for (var i = 0; i < Channels.Count; i++)
            if (Channels[i].Peer == peer) return i;
        return -1;
    }

    /// <summary>Drops expired permissions and channel bindings.</summary>
    public void Prune(long now)
    {
        for (var i = Permissions.Count - 1; i >= 0; i--)
            if (Permissions[i].ExpiresAt <= now) Permissions.RemoveAt(i);
        for (var i = Channels.Count - 1; i >= 0; i--)
            if (Channels[i].ExpiresAt <= now) Channels.RemoveAt(i);
    }

    /// <summary>Token bucket, both directions: refill at <paramref name="rate"/> bytes/s up to one second's worth, then take <paramref name="bytes"/>.</summary>
    public bool TrySpend(int bytes, long rate, long now)
    {
        if (now > _refilledAt)
        {
            _tokens = Math.Min(rate, _tokens + (now - _refilledAt) * (double)rate / 1_000_000);
            _refilledAt = now;
        }
        if (_tokens < bytes) return false;
        _tokens -= bytes;
        return true;
    }

    public readonly record struct Permission(EndpointKey Address, long ExpiresAt);
    public readonly record struct Channel(ushort Number, EndpointKey Peer, long ExpiresAt);
}
