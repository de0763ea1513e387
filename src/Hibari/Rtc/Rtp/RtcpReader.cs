using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1).</summary>
public static class RtcpPacketType
{
    public const byte SenderReport = 200;
    public const byte ReceiverReport = 201;
    public const byte SourceDescription = 202;
    public const byte Goodbye = 203;
    public const byte ApplicationDefined = 204;
    /// <summary>RTPFB: FMT 1 generic NACK, FMT 15 transport-wide congestion control.</summary>
    public const byte TransportFeedback = 205;
    /// <summary>PSFB: FMT 1 PLI, FMT 4 FIR, FMT 15 application layer (REMB).</summary>
    public const byte PayloadFeedback = 206;
    public const byte ExtendedReport = 207;

    public const int NackFormat = 1;
    public const int TransportCcFormat = 15;
    public const int PliFormat = 1;
    public const int FirFormat = 4;
    public const int ApplicationLayerFormat = 15;
}

/// <summary>Outcome of reading the next packet or element; malformed input is a value, never an exception.</summary>
public enum RtcpReadResult
{
    Packet = 0,
    /// <summary>No more bytes.</summary>
    End,
    /// <summary>Bad version, length past the end, or bad padding; reading stops.</summary>
    Malformed,
}

/// <summary>One packet of a compound RTCP datagram (RFC 3550 §6.4): common header fields and its bytes.</summary>
public readonly ref struct RtcpPacket
{
    public const int HeaderLength = 4;

    public RtcpPacket(ReadOnlySpan<byte> raw, byte type, int count, bool padding, ReadOnlySpan<byte> body)
    {
        Raw = raw;
        Type = type;
        Count = count;
        Padding = padding;
        Body = body;
    }

    /// <summary>The whole packet: header, body and padding (its length field + 1 words).</summary>
    public ReadOnlySpan<byte> Raw { get; }
    public byte Type { get; }
    /// <summary>The 5-bit count field: report count, source count, or FMT for feedback messages.</summary>
    public int Count { get; }
    public int Format => Count;
    public bool Padding { get; }
    /// <summary>After the 4-byte common header, padding excluded.</summary>
    public ReadOnlySpan<byte> Body { get; }
}

/// <summary>
/// Iterates the packets of a compound RTCP datagram without allocating. Each packet must be version 2 and fit in the
/// datagram; the first malformed one ends the iteration with <see cref="RtcpReadResult.Malformed"/>.
/// </summary>
public ref struct RtcpReader
{
    private readonly ReadOnlySpan<byte> _datagram;
    private int _position;
    private bool _failed;

    public RtcpReader(ReadOnlySpan<byte> datagram)
    {
        _datagram = datagram;
        _position = 0;
        _failed = false;
    }

    public RtcpReadResult TryReadNext(out RtcpPacket packet)
    {
        packet = default;
        if (_failed) return RtcpReadResult.Malformed;
        var remaining = _datagram[_position..];
        if (remaining.IsEmpty) return RtcpReadResult.End;
        if (remaining.Length < RtcpPacket.HeaderLength || remaining[0] >> 6 != 2) return Fail();
        var length = 4 * (BinaryPrimitives.ReadUInt16BigEndian(remaining[2..]) + 1);
        if (length > remaining.Length) return Fail();
        var raw = remaining[..length];
        var padding = (raw[0] & 0x20) != 0;
        var bodyLength = length - RtcpPacket.HeaderLength;
        if (padding)
        {
            var pad = raw[^1];
            if (pad == 0 || pad > bodyLength) return Fail();
            bodyLength -= pad;
        }
        packet = new RtcpPacket(raw, raw[1], raw[0] & 0x1F, padding, raw.Slice(RtcpPacket.HeaderLength, bodyLength));
        _position += length;
        return RtcpReadResult.Packet;
    }

    private RtcpReadResult Fail()
    {
        _failed = true;
        return RtcpReadResult.Malformed;
    }
}
