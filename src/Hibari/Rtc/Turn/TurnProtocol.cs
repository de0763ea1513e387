using Hibari.Rtc.Ice;

namespace Hibari.Rtc.Turn;

/// <summary>TURN methods (RFC 8656 §17). Binding (0x001) is STUN's.</summary>
public static class TurnMethod
{
    public const ushort Binding = 0x001;
    public const ushort Allocate = 0x003;
    public const ushort Refresh = 0x004;
    public const ushort Send = 0x006;
    public const ushort Data = 0x007;
    public const ushort CreatePermission = 0x008;
    public const ushort ChannelBind = 0x009;
}

/// <summary>TURN attribute types (RFC 8656 §18); the STUN ones are in <see cref="StunAttributeType"/>.</summary>
public static class TurnAttributeType
{
    public const ushort ChannelNumber = 0x000C;
    public const ushort Lifetime = 0x000D;
    public const ushort XorPeerAddress = 0x0012;
    public const ushort Data = 0x0013;
    public const ushort XorRelayedAddress = 0x0016;
    public const ushort RequestedAddressFamily = 0x0017;
    public const ushort EvenPort = 0x0018;
    public const ushort RequestedTransport = 0x0019;
    public const ushort DontFragment = 0x001A;
    public const ushort ReservationToken = 0x0022;
    public const ushort PasswordAlgorithms = 0x8002;
    public const ushort AdditionalAddressFamily = 0x8000;
    public const ushort AddressErrorCode = 0x8001;
    public const ushort Icmp = 0x8004;

    /// <summary>Comprehension-required types this server understands (RFC 8489 §14, RFC 8656 §18); others → 420.</summary>
    public static bool IsKnown(ushort type) => StunAttributeType.IsKnown(type) || type is ChannelNumber or Lifetime or XorPeerAddress
        or Data or XorRelayedAddress or RequestedAddressFamily or EvenPort or RequestedTransport or DontFragment or ReservationToken;
}

/// <summary>Error codes with the reason phrases of RFC 8489 §14.8 and RFC 8656 §19.</summary>
public static class TurnError
{
    public const int BadRequest = 400;
    public const int Unauthenticated = 401;
    public const int Forbidden = 403;
    public const int UnknownAttribute = 420;
    public const int AllocationMismatch = 437;
    public const int StaleNonce = 438;
    public const int AddressFamilyNotSupported = 440;
    public const int WrongCredentials = 441;
    public const int UnsupportedTransportProtocol = 442;
    public const int PeerAddressFamilyMismatch = 443;
    public const int AllocationQuotaReached = 486;
    public const int ServerError = 500;
    public const int InsufficientCapacity = 508;

    public static string Reason(int code) => code switch
    {
        BadRequest => "Bad Request",
        Unauthenticated => "Unauthenticated",
        Forbidden => "Forbidden",
        UnknownAttribute => "Unknown Attribute",
        AllocationMismatch => "Allocation Mismatch",
        StaleNonce => "Stale Nonce",
        AddressFamilyNotSupported => "Address Family not Supported",
        WrongCredentials => "Wrong Credentials",
        UnsupportedTransportProtocol => "Unsupported Transport Protocol",
        PeerAddressFamilyMismatch => "Peer Address Family Mismatch",
        AllocationQuotaReached => "Allocation Quota Reached",
        InsufficientCapacity => "Insufficient Capacity",
        _ => "Server Error",
    };
}

/// <summary>Fixed protocol numbers (RFC 8656).</summary>
public static class TurnConstants
{
    /// <summary>REQUESTED-TRANSPORT value for UDP (IANA protocol number).</summary>
    public const byte ProtocolUdp = 17;
    public const byte FamilyIPv4 = 0x01;
    public const byte FamilyIPv6 = 0x02;
    public const ushort MinChannel = 0x4000;
    public const ushort MaxChannel = 0x4FFF;
    public const long PermissionLifetimeMicros = 300_000_000;
    public const long ChannelLifetimeMicros = 600_000_000;
    /// <summary>RFC 8489 §14.3 and §14.9: longest USERNAME, REALM, NONCE values (bytes).</summary>
    public const int MaxUsernameBytes = 513;
    public const int MaxRealmBytes = 763;
    public const int MaxNonceBytes = 763;
}
