using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// RTX retransmission format (RFC 4588 §4): the original header (CSRCs and extensions kept) under the RTX SSRC,
/// sequence number and payload type, with the original sequence number (OSN) as the first two payload bytes.
/// Padding of the original is dropped. Source and destination may be the same buffer (copies are overlap-safe).
/// </summary>
public static class RtxPacket
{
    public const int OsnLength = 2;

    /// <summary>Writes the RTX form of <paramref name="original"/> into <paramref name="destination"/>.</summary>
    public static bool TryWrap(ReadOnlySpan<byte> original, in RtpHeader header, Span<byte> destination, uint rtxSsrc,
        ushort rtxSequenceNumber, byte rtxPayloadType, out int written)
    {
        written = 0;
        if (header.PacketLength > original.Length || rtxPayloadType > 127) return false;
        var length = header.HeaderLength + OsnLength + header.PayloadLength;
        if (length > destination.Length) return false;
        // Payload first: when wrapping in place it moves right and would be overwritten by nothing else.
        original.Slice(header.PayloadOffset, header.PayloadLength).CopyTo(destination[(header.HeaderLength + OsnLength)..]);
        original[..header.HeaderLength].CopyTo(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[header.HeaderLength..], header.SequenceNumber);
        destination[0] &= 0xDF; // no padding
        RtpHeader.SetPayloadType(destination, rtxPayloadType);
        RtpHeader.SetSequenceNumber(destination, rtxSequenceNumber);
        RtpHeader.SetSsrc(destination, rtxSsrc);
        written = length;
        return true;
    }

    /// <summary>Restores the original packet from an RTX packet: OSN back into the header, the given SSRC and PT.</summary>
    public static bool TryUnwrap(ReadOnlySpan<byte> rtx, in RtpHeader header, Span<byte> destination, uint originalSsrc,
        byte originalPayloadType, out int written)
    {
        written = 0;
        if (header.PacketLength > rtx.Length || header.PayloadLength < OsnLength || originalPayloadType > 127) return false;
        var length = header.HeaderLength + header.PayloadLength - OsnLength;
        if (length > destination.Length) return false;
        var osn = BinaryPrimitives.ReadUInt16BigEndian(rtx[header.PayloadOffset..]);
        rtx[..header.HeaderLength].CopyTo(destination);
        rtx.Slice(header.PayloadOffset + OsnLength, header.PayloadLength - OsnLength).CopyTo(destination[header.HeaderLength..]);
        destination[0] &= 0xDF;
        RtpHeader.SetPayloadType(destination, originalPayloadType);
        RtpHeader.SetSequenceNumber(destination, osn);
        RtpHeader.SetSsrc(destination, originalSsrc);
        written = length;
        return true;
    }
}
