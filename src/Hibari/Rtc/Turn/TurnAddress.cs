using System.Buffers.Binary;
using System.Net;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>XOR-encoded transport addresses (RFC 8489 §14.2) as <see cref="EndpointKey"/> values, without allocating.</summary>
public static class TurnAddress
{
    private const ulong MappedPrefix = 0xFFFF_0000_0000UL;

    /// <summary>True for an IPv4 address (stored IPv4-mapped in an EndpointKey).</summary>
    public static bool IsIPv4(EndpointKey key) => key.High == 0 && (key.Low >> 32) == 0xFFFF;

    public static byte FamilyOf(EndpointKey key) => IsIPv4(key) ? TurnConstants.FamilyIPv4 : TurnConstants.FamilyIPv6;

    /// <summary>The family an address is relayed as: IPv4 for IPv4 and IPv4-mapped IPv6 addresses.</summary>
    public static byte FamilyOf(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6
            ? TurnConstants.FamilyIPv4 : TurnConstants.FamilyIPv6;

    /// <summary>Same IP address, any port: what a permission is keyed by (RFC 8656 §9).</summary>
    public static bool SameAddress(EndpointKey a, EndpointKey b) => a.High == b.High && a.Low == b.Low;

    /// <summary>Value length of an XOR address attribute for this key: 8 (IPv4) or 20 (IPv6).</summary>
    public static int ValueLength(EndpointKey key) => IsIPv4(key) ? 8 : 20;

    /// <summary>Decodes an XOR-*-ADDRESS value. False on a bad family or length.</summary>
    public static bool TryReadXor(ReadOnlySpan<byte> value, ReadOnlySpan<byte> transactionId, out EndpointKey address, out byte family)
    {
        address = default;
        family = 0;
        if (value.Length < 4 || transactionId.Length != StunMessage.TransactionIdLength) return false;
        var port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (StunMessage.MagicCookie >> 16));
        switch (value[1])
        {
            case TurnConstants.FamilyIPv4 when value.Length == 8:
                address = new EndpointKey(0, MappedPrefix | (BinaryPrimitives.ReadUInt32BigEndian(value[4..]) ^ StunMessage.MagicCookie), port);
                family = TurnConstants.FamilyIPv4;
                return true;
            case TurnConstants.FamilyIPv6 when value.Length == 20:
            {
                Span<byte> mask = stackalloc byte[16];
                StunMessage.WriteXorMask(mask, transactionId);
                var high = BinaryPrimitives.ReadUInt64BigEndian(value[4..]) ^ BinaryPrimitives.ReadUInt64BigEndian(mask);
                var low = BinaryPrimitives.ReadUInt64BigEndian(value[12..]) ^ BinaryPrimitives.ReadUInt64BigEndian(mask[8..]);
                address = new EndpointKey(high, low, port);
                family = TurnConstants.FamilyIPv6;
                return true;
            }
            default:
                return false;
        }
    }

    /// <summary>Encodes an XOR-*-ADDRESS value into <paramref name="value"/> (exactly <see cref="ValueLength"/> bytes).</summary>
    public static void WriteXor(Span<byte> value, EndpointKey address, ReadOnlySpan<byte> transactionId)
    {
        value[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(value[2..], (ushort)(address.Port ^ (StunMessage.MagicCookie >> 16)));
        if (IsIPv4(address))
        {
            value[1] = TurnConstants.FamilyIPv4;
            BinaryPrimitives.WriteUInt32BigEndian(value[4..], (uint)address.Low ^ StunMessage.MagicCookie);
            return;
        }
        value[1] = TurnConstants.FamilyIPv6;
        Span<byte> mask = stackalloc byte[16];
        StunMessage.WriteXorMask(mask, transactionId);
        BinaryPrimitives.WriteUInt64BigEndian(value[4..], address.High ^ BinaryPrimitives.ReadUInt64BigEndian(mask));
        BinaryPrimitives.WriteUInt64BigEndian(value[12..], address.Low ^ BinaryPrimitives.ReadUInt64BigEndian(mask[8..]));
    }
}
