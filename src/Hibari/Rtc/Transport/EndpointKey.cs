using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Hibari.Rtc.Transport;

/// <summary>
/// A remote UDP address as a value: the key by which the media socket finds the peer a datagram belongs to, without
/// allocating an <see cref="IPEndPoint"/> per packet. IPv4 addresses are stored as IPv4-mapped IPv6.
/// </summary>
public readonly record struct EndpointKey(ulong High, ulong Low, ushort Port)
{
    /// <summary>Reads the key from a raw socket address (AF_INET or AF_INET6); false for other families.</summary>
    public static bool TryFrom(SocketAddress address, out EndpointKey key)
    {
        var buffer = address.Buffer.Span;
        switch (address.Family)
        {
            case AddressFamily.InterNetwork when address.Size >= 8:
            {
                var port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
                var ip = BinaryPrimitives.ReadUInt32BigEndian(buffer[4..]);
                key = new EndpointKey(0, 0xFFFF_0000_0000UL | ip, port);
                return true;
            }
            case AddressFamily.InterNetworkV6 when address.Size >= 24:
            {
                var port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
                key = new EndpointKey(BinaryPrimitives.ReadUInt64BigEndian(buffer[8..]), BinaryPrimitives.ReadUInt64BigEndian(buffer[16..]), port);
                return true;
            }
            default:
                key = default;
                return false;
        }
    }

    public static EndpointKey From(IPEndPoint endpoint)
    {
        Span<byte> bytes = stackalloc byte[16];
        var ip = endpoint.Address.IsIPv4MappedToIPv6 || endpoint.AddressFamily == AddressFamily.InterNetworkV6
            ? endpoint.Address : endpoint.Address.MapToIPv6();
        ip.TryWriteBytes(bytes, out _);
        return new EndpointKey(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), (ushort)endpoint.Port);
    }

    public IPEndPoint ToEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, High);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Low);
        var ip = new IPAddress(bytes);
        return new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, Port);
    }

    public override string ToString() => ToEndPoint().ToString();
}
