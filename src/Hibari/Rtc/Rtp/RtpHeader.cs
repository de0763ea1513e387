using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// The fixed header, CSRC list and header extension of one RTP packet (RFC 3550 §5.1, RFC 8285 §4), as offsets into
/// the packet it was parsed from. Parsing never throws and never allocates; a malformed packet is <c>false</c>.
/// </summary>
public readonly struct RtpHeader
{
    public const int FixedLength = 12;
    /// <summary>RFC 8285 §4.2: one-byte element form.</summary>
    public const ushort OneByteProfile = 0xBEDE;
    /// <summary>RFC 8285 §4.3: two-byte element form is 0x100 followed by 4 application bits (0x1000–0x100F).</summary>
    public const ushort TwoByteProfileMask = 0xFFF0;
    public const ushort TwoByteProfile = 0x1000;

    private RtpHeader(bool padding, bool hasExtension, int csrcCount, bool marker, byte payloadType, ushort sequenceNumber,
        uint timestamp, uint ssrc, ushort extensionProfile, int extensionOffset, int extensionLength, int headerLength,
        int payloadLength, int paddingLength)
    {
        Padding = padding;
        HasExtension = hasExtension;
        CsrcCount = csrcCount;
        Marker = marker;
        PayloadType = payloadType;
        SequenceNumber = sequenceNumber;
        Timestamp = timestamp;
        Ssrc = ssrc;
        ExtensionProfile = extensionProfile;
        ExtensionOffset = extensionOffset;
        ExtensionLength = extensionLength;
        HeaderLength = headerLength;
        PayloadLength = payloadLength;
        PaddingLength = paddingLength;
    }

    public bool Padding { get; }
    public bool HasExtension { get; }
    public int CsrcCount { get; }
    public bool Marker { get; }
    public byte PayloadType { get; }
    public ushort SequenceNumber { get; }
    public uint Timestamp { get; }
    public uint Ssrc { get; }
    /// <summary>The 16-bit "defined by profile" field of the extension header; 0 when there is no extension.</summary>
    public ushort ExtensionProfile { get; }
    /// <summary>Offset of the extension elements (after the 4-byte extension header); 0 when there is no extension.</summary>
    public int ExtensionOffset { get; }
    /// <summary>Length in bytes of the extension elements (a multiple of 4).</summary>
    public int ExtensionLength { get; }
    /// <summary>Fixed header + CSRCs + extension; also the payload offset.</summary>
    public int HeaderLength { get; }
    public int PayloadOffset => HeaderLength;
    /// <summary>Payload bytes, padding excluded.</summary>
    public int PayloadLength { get; }
    /// <summary>Padding bytes at the end, including the count byte; 0 without the P bit.</summary>
    public int PaddingLength { get; }

    public bool IsOneByteExtension => HasExtension && ExtensionProfile == OneByteProfile;
    public bool IsTwoByteExtension => HasExtension && (ExtensionProfile & TwoByteProfileMask) == TwoByteProfile;

    /// <summary>Packet length the header describes (header + payload + padding).</summary>
    public int PacketLength => HeaderLength + PayloadLength + PaddingLength;

    /// <summary>Parses <paramref name="packet"/> (the whole datagram, already decrypted). False on anything that is not a valid RTP packet.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out RtpHeader header)
    {
        header = default;
        if (packet.Length < FixedLength) return false;
        var b0 = packet[0];
        if (b0 >> 6 != 2) return false;
        var padding = (b0 & 0x20) != 0;
        var hasExtension = (b0 & 0x10) != 0;
        var csrcCount = b0 & 0x0F;
        var b1 = packet[1];
        var offset = FixedLength + 4 * csrcCount;
        if (offset > packet.Length) return false;

        ushort profile = 0;
        var extensionOffset = 0;
        var extensionLength = 0;
        if (hasExtension)
        {
            if (offset + 4 > packet.Length) return false;
            profile = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            extensionLength = 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            extensionOffset = offset + 4;
            if (extensionLength > packet.Length - extensionOffset) return false;
            offset = extensionOffset + extensionLength;
        }

        var paddingLength = 0;
        if (padding)
        {
            // RFC 3550 §5.1: the last octet counts the padding, itself included; zero or more than the payload is invalid.
            if (offset >= packet.Length) return false;
            paddingLength = packet[^1];
            if (paddingLength == 0 || paddingLength > packet.Length - offset) return false;
        }

        header = new RtpHeader(padding, hasExtension, csrcCount, (b1 & 0x80) != 0, (byte)(b1 & 0x7F),
            BinaryPrimitives.ReadUInt16BigEndian(packet[2..]), BinaryPrimitives.ReadUInt32BigEndian(packet[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[8..]), profile, extensionOffset, extensionLength, offset,
            packet.Length - offset - paddingLength, paddingLength);
        return true;
    }

    /// <summary>The CSRC at <paramref name="index"/>, or 0 when out of range.</summary>
    public uint GetCsrc(ReadOnlySpan<byte> packet, int index)
    {
        if ((uint)index >= (uint)CsrcCount || packet.Length < FixedLength + 4 * CsrcCount) return 0;
        return BinaryPrimitives.ReadUInt32BigEndian(packet[(FixedLength + 4 * index)..]);
    }

    /// <summary>The payload of <paramref name="packet"/> (padding excluded), or empty if the header does not fit it.</summary>
    public ReadOnlySpan<byte> GetPayload(ReadOnlySpan<byte> packet) =>
        PacketLength <= packet.Length ? packet.Slice(PayloadOffset, PayloadLength) : default;

    // In-place rewrites for forwarding. Each returns false (and leaves the bytes alone) when the span is shorter than
    // the fixed header; packets reaching them have been through TryParse.

    public static bool SetSsrc(Span<byte> packet, uint ssrc)
    {
        if (packet.Length < FixedLength) return false;
        BinaryPrimitives.WriteUInt32BigEndian(packet[8..], ssrc);
        return true;
    }

    public static bool SetSequenceNumber(Span<byte> packet, ushort sequenceNumber)
    {
        if (packet.Length < FixedLength) return false;
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], sequenceNumber);
        return true;
    }

    public static bool SetTimestamp(Span<byte> packet, uint timestamp)
    {
        if (packet.Length < FixedLength) return false;
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], timestamp);
        return true;
    }

    public static bool SetPayloadType(Span<byte> packet, byte payloadType)
    {
        if (packet.Length < FixedLength || payloadType > 127) return false;
        packet[1] = (byte)((packet[1] & 0x80) | payloadType);
        return true;
    }

    public static bool SetMarker(Span<byte> packet, bool marker)
    {
        if (packet.Length < FixedLength) return false;
        packet[1] = (byte)(marker ? packet[1] | 0x80 : packet[1] & 0x7F);
        return true;
    }
}
