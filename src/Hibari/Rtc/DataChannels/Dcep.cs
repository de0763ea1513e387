using System.Buffers.Binary;
using System.Text;

namespace Hibari.Rtc.DataChannels;

/// <summary>A DATA_CHANNEL_OPEN message (RFC 8832 §5.1). Label and protocol are UTF-8 on the wire.</summary>
public readonly record struct DcepOpen(byte ChannelType, ushort Priority, uint ReliabilityParameter, string Label, string Protocol);

/// <summary>
/// The Data Channel Establishment Protocol codec (RFC 8832 §5). OPEN: type 0x03 (1), channel type (1), priority (2),
/// reliability parameter (4), label length (2), protocol length (2), label, protocol — all big-endian, no padding.
/// ACK: the single byte 0x02.
/// </summary>
public static class Dcep
{
    public const byte MessageAck = 0x02, MessageOpen = 0x03;
    public const int OpenHeaderLength = 12;

    /// <summary>Channel types (RFC 8832 §5.1): the high bit means unordered.</summary>
    public const byte Reliable = 0x00, ReliableUnordered = 0x80,
        PartialReliableRexmit = 0x01, PartialReliableRexmitUnordered = 0x81,
        PartialReliableTimed = 0x02, PartialReliableTimedUnordered = 0x82;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static bool IsKnownChannelType(byte type) => type is Reliable or ReliableUnordered or PartialReliableRexmit
        or PartialReliableRexmitUnordered or PartialReliableTimed or PartialReliableTimedUnordered;

    /// <summary>
    /// Parses one DCEP message (the whole SCTP message of PPID 50). Exactly one of <paramref name="open"/> / <paramref name="isAck"/>
    /// is set on success; on failure both are unset and <paramref name="error"/> says why. Never throws.
    /// Strict: an ACK is exactly one byte, an OPEN is exactly 12 + label length + protocol length bytes with a known
    /// channel type and valid UTF-8.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out DcepOpen? open, out bool isAck, out string? error)
    {
        open = null;
        isAck = false;
        error = null;
        if (data.IsEmpty) { error = "empty DCEP message"; return false; }
        switch (data[0])
        {
            case MessageAck:
                if (data.Length != 1) { error = $"DATA_CHANNEL_ACK of {data.Length} bytes (expected 1)"; return false; }
                isAck = true;
                return true;
            case MessageOpen:
                if (data.Length < OpenHeaderLength) { error = $"truncated DATA_CHANNEL_OPEN ({data.Length} bytes)"; return false; }
                var type = data[1];
                if (!IsKnownChannelType(type)) { error = $"unknown channel type 0x{type:X2}"; return false; }
                var priority = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
                var reliability = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                int labelLength = BinaryPrimitives.ReadUInt16BigEndian(data[8..]);
                int protocolLength = BinaryPrimitives.ReadUInt16BigEndian(data[10..]);
                var expected = OpenHeaderLength + labelLength + protocolLength;
                if (expected > data.Length) { error = $"label ({labelLength}) and protocol ({protocolLength}) lengths exceed the {data.Length}-byte message"; return false; }
                if (expected < data.Length) { error = $"{data.Length - expected} bytes after the protocol"; return false; }
                if (!TryDecode(data.Slice(OpenHeaderLength, labelLength), out var label)) { error = "label is not valid UTF-8"; return false; }
                if (!TryDecode(data.Slice(OpenHeaderLength + labelLength, protocolLength), out var protocol)) { error = "protocol is not valid UTF-8"; return false; }
                open = new DcepOpen(type, priority, reliability, label, protocol);
                return true;
            default:
                error = $"unknown DCEP message type 0x{data[0]:X2}";
                return false;
        }
    }

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        try { text = StrictUtf8.GetString(bytes); return true; }
        catch (DecoderFallbackException) { text = ""; return false; }
    }

    /// <summary>Writes an OPEN; <see cref="ArgumentException"/> when the label or protocol exceeds 65,535 UTF-8 bytes.</summary>
    public static byte[] WriteOpen(in DcepOpen open)
    {
        var label = Encoding.UTF8.GetBytes(open.Label ?? "");
        var protocol = Encoding.UTF8.GetBytes(open.Protocol ?? "");
        if (label.Length > ushort.MaxValue) throw new ArgumentException($"label is {label.Length} UTF-8 bytes (at most 65,535)", nameof(open));
        if (protocol.Length > ushort.MaxValue) throw new ArgumentException($"protocol is {protocol.Length} UTF-8 bytes (at most 65,535)", nameof(open));
        var bytes = new byte[OpenHeaderLength + label.Length + protocol.Length];
        bytes[0] = MessageOpen;
        bytes[1] = open.ChannelType;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), open.Priority);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), open.ReliabilityParameter);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(8), (ushort)label.Length);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(10), (ushort)protocol.Length);
        label.CopyTo(bytes.AsSpan(OpenHeaderLength));
        protocol.CopyTo(bytes.AsSpan(OpenHeaderLength + label.Length));
        return bytes;
    }

    public static byte[] WriteAck() => [MessageAck];

    /// <summary>The OPEN announcing a channel with these options (reliability parameter 0 for reliable channels).</summary>
    public static DcepOpen OpenFor(string label, DataChannelOptions options)
    {
        options.Validate();
        byte type;
        uint reliability;
        if (options.MaxRetransmits is { } r) { type = PartialReliableRexmit; reliability = (uint)r; }
        else if (options.MaxPacketLifeTimeMs is { } t) { type = PartialReliableTimed; reliability = (uint)t; }
        else { type = Reliable; reliability = 0; }
        if (!options.Ordered) type |= 0x80;
        return new DcepOpen(type, options.Priority, reliability, label, options.Protocol);
    }

    /// <summary>
    /// The options an OPEN announces. The reliability parameter is ignored for reliable types (RFC 8832 §5.1) and
    /// clamped to <see cref="int.MaxValue"/> for the others. An unknown type throws <see cref="ArgumentException"/>
    /// (<see cref="TryParse"/> never yields one).
    /// </summary>
    public static DataChannelOptions OptionsFor(in DcepOpen open)
    {
        if (!IsKnownChannelType(open.ChannelType)) throw new ArgumentException($"unknown channel type 0x{open.ChannelType:X2}", nameof(open));
        var limit = (int)Math.Min(open.ReliabilityParameter, int.MaxValue);
        return new DataChannelOptions
        {
            Ordered = (open.ChannelType & 0x80) == 0,
            MaxRetransmits = (open.ChannelType & 0x7F) == PartialReliableRexmit ? limit : null,
            MaxPacketLifeTimeMs = (open.ChannelType & 0x7F) == PartialReliableTimed ? limit : null,
            Protocol = open.Protocol ?? "",
            Priority = open.Priority,
        };
    }
}
