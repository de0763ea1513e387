using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>One reception report block of an SR or RR (RFC 3550 §6.4.1), 24 bytes on the wire.</summary>
public readonly record struct ReportBlock(
    uint Ssrc,
    byte FractionLost,
    int CumulativeLost, // 24-bit signed on the wire; clamped to [-2^23, 2^23 - 1] when written

    uint ExtendedHighestSequenceNumber,
    uint Jitter,
    uint LastSenderReport,
    uint DelaySinceLastSenderReport) // units of 1/65536 s
{
    public const int Length = 24;
    public const int MaxCumulativeLost = 0x7FFFFF;
    public const int MinCumulativeLost = -0x800000;

    public static ReportBlock Read(ReadOnlySpan<byte> bytes)
    {
        var lost = (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes[4..]) & 0xFFFFFF);
        if ((lost & 0x800000) != 0) lost -= 0x1000000;
        return new ReportBlock(
            BinaryPrimitives.ReadUInt32BigEndian(bytes),
            bytes[4],
            lost,
            BinaryPrimitives.ReadUInt32BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[20..]));
    }

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(bytes, Ssrc);
        var lost = Math.Clamp(CumulativeLost, MinCumulativeLost, MaxCumulativeLost);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[4..], ((uint)FractionLost << 24) | ((uint)lost & 0xFFFFFF));
        BinaryPrimitives.WriteUInt32BigEndian(bytes[8..], ExtendedHighestSequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[12..], Jitter);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[16..], LastSenderReport);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[20..], DelaySinceLastSenderReport);
    }
}

/// <summary>The report blocks of an SR or RR, read on demand from the packet bytes.</summary>
public readonly ref struct ReportBlockList
{
    private readonly ReadOnlySpan<byte> _bytes;

    public ReportBlockList(ReadOnlySpan<byte> bytes, int count)
    {
        _bytes = bytes;
        Count = count;
    }

    public int Count { get; }

    public ReportBlock this[int index] => (uint)index < (uint)Count
        ? ReportBlock.Read(_bytes.Slice(index * ReportBlock.Length, ReportBlock.Length))
        : default;
}

/// <summary>Sender report (RFC 3550 §6.4.1): sender info and report blocks; profile extensions are ignored.</summary>
public readonly ref struct SenderReport
{
    public const int SenderInfoLength = 20; // NTP 8, RTP timestamp 4, packet count 4, octet count 4

    private SenderReport(uint ssrc, ulong ntp, uint rtp, uint packets, uint octets, ReportBlockList blocks)
    {
        Ssrc = ssrc;
        NtpTimestamp = ntp;
        RtpTimestamp = rtp;
        PacketCount = packets;
        OctetCount = octets;
        ReportBlocks = blocks;
    }

    public uint Ssrc { get; }
    /// <summary>64-bit NTP timestamp (32.32 fixed point seconds since 1900).</summary>
    public ulong NtpTimestamp { get; }
    /// <summary>The middle 32 bits of the NTP timestamp: the LSR a receiver echoes (RFC 3550 §6.4.1).</summary>
    public uint CompactNtp => (uint)(NtpTimestamp >> 16);
    public uint RtpTimestamp { get; }
    public uint PacketCount { get; }
    public uint OctetCount { get; }
    public ReportBlockList ReportBlocks { get; }

    public static bool TryParse(in RtcpPacket packet, out SenderReport report)
    {
        report = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.SenderReport || body.Length < 4 + SenderInfoLength + packet.Count * ReportBlock.Length)
            return false;
        report = new SenderReport(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt64BigEndian(body[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[12..]), BinaryPrimitives.ReadUInt32BigEndian(body[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[20..]),
            new ReportBlockList(body[(4 + SenderInfoLength)..], packet.Count));
        return true;
    }
}

/// <summary>Receiver report (RFC 3550 §6.4.2).</summary>
public readonly ref struct ReceiverReport
{
    private ReceiverReport(uint ssrc, ReportBlockList blocks)
    {
        Ssrc = ssrc;
        ReportBlocks = blocks;
    }

    public uint Ssrc { get; }
    public ReportBlockList ReportBlocks { get; }

    public static bool TryParse(in RtcpPacket packet, out ReceiverReport report)
    {
        report = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.ReceiverReport || body.Length < 4 + packet.Count * ReportBlock.Length) return false;
        report = new ReceiverReport(BinaryPrimitives.ReadUInt32BigEndian(body), new ReportBlockList(body[4..], packet.Count));
        return true;
    }
}

/// <summary>
/// The chunks of an SDES packet (RFC 3550 §6.5): each an SSRC and its items; yields the CNAME (item type 1) of each
/// chunk, empty when a chunk has none.
/// </summary>
public ref struct SdesChunkReader
{
    public const byte CnameItem = 1;
    private readonly ReadOnlySpan<byte> _body;
    private readonly int _count;
    private int _position;
    private int _read;

    public SdesChunkReader(in RtcpPacket packet)
    {
        _body = packet.Type == RtcpPacketType.SourceDescription ? packet.Body : default;
        _count = packet.Type == RtcpPacketType.SourceDescription ? packet.Count : 0;
        _position = 0;
        _read = 0;
    }

    public RtcpReadResult TryReadNext(out uint ssrc, out ReadOnlySpan<byte> cname)
    {
        ssrc = 0;
        cname = default;
        if (_read >= _count) return RtcpReadResult.End;
        if (_position + 4 > _body.Length) return Fail();
        ssrc = BinaryPrimitives.ReadUInt32BigEndian(_body[_position..]);
        var p = _position + 4;
        while (true)
        {
            if (p >= _body.Length) return Fail();
            var type = _body[p];
            if (type == 0)
            {
                // End of items: null octet(s) up to the next 32-bit boundary (relative to the body, which is aligned).
                p = (p + 4) & ~3;
                break;
            }
            if (p + 2 > _body.Length) return Fail();
            var length = _body[p + 1];
            if (p + 2 + length > _body.Length) return Fail();
            if (type == CnameItem && cname.IsEmpty) cname = _body.Slice(p + 2, length);
            p += 2 + length;
        }
        if (p > _body.Length) return Fail();
        _position = p;
        _read++;
        return RtcpReadResult.Packet;
    }

    private RtcpReadResult Fail()
    {
        _read = _count;
        return RtcpReadResult.Malformed;
    }
}

/// <summary>BYE (RFC 3550 §6.6): the leaving SSRCs and an optional reason.</summary>
public readonly ref struct Goodbye
{
    private readonly ReadOnlySpan<byte> _ssrcs;

    private Goodbye(ReadOnlySpan<byte> ssrcs, int count, ReadOnlySpan<byte> reason)
    {
        _ssrcs = ssrcs;
        SsrcCount = count;
        Reason = reason;
    }

    public int SsrcCount { get; }
    public ReadOnlySpan<byte> Reason { get; }

    public uint GetSsrc(int index) =>
        (uint)index < (uint)SsrcCount ? BinaryPrimitives.ReadUInt32BigEndian(_ssrcs[(4 * index)..]) : 0;

    public static bool TryParse(in RtcpPacket packet, out Goodbye bye)
    {
        bye = default;
        var body = packet.Body;
        var listLength = 4 * packet.Count;
        if (packet.Type != RtcpPacketType.Goodbye || body.Length < listLength) return false;
        ReadOnlySpan<byte> reason = default;
        if (body.Length > listLength)
        {
            var length = body[listLength];
            if (listLength + 1 + length > body.Length) return false;
            reason = body.Slice(listLength + 1, length);
        }
        bye = new Goodbye(body[..listLength], packet.Count, reason);
        return true;
    }
}
