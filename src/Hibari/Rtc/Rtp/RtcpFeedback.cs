using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Generic NACK (RFC 4585 §6.2.1, RTPFB FMT 1): FCI items of PID + 16-bit BLP, each naming PID and PID+i+1 for every
/// set bit i. The sequence numbers are enumerated without allocation.
/// </summary>
public readonly ref struct GenericNack
{
    public const int HeaderLength = 8;
    private readonly ReadOnlySpan<byte> _items;

    private GenericNack(uint sender, uint media, ReadOnlySpan<byte> items)
    {
        SenderSsrc = sender;
        MediaSsrc = media;
        _items = items;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; }
    public int ItemCount => _items.Length / 4;

    public static bool TryParse(in RtcpPacket packet, out GenericNack nack)
    {
        nack = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.TransportFeedback || packet.Format != RtcpPacketType.NackFormat
            || body.Length < HeaderLength + 4 || (body.Length & 3) != 0) return false;
        nack = new GenericNack(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            body[HeaderLength..]);
        return true;
    }

    /// <summary>Copies the NACKed sequence numbers into <paramref name="destination"/>; how many were written (it stops when full).</summary>
    public int CopySequenceNumbers(Span<ushort> destination)
    {
        var n = 0;
        foreach (var seq in this)
        {
            if (n == destination.Length) break;
            destination[n++] = seq;
        }
        return n;
    }

    public Enumerator GetEnumerator() => new(_items);

    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _items;
        private int _item;
        private int _bit; // -1: the PID itself, 0..15: BLP bits
        private ushort _current;

        public Enumerator(ReadOnlySpan<byte> items)
        {
            _items = items;
            _item = 0;
            _bit = -1;
            _current = 0;
        }

        public readonly ushort Current => _current;

        public bool MoveNext()
        {
            while (_item * 4 + 4 <= _items.Length)
            {
                var pid = BinaryPrimitives.ReadUInt16BigEndian(_items[(_item * 4)..]);
                var blp = BinaryPrimitives.ReadUInt16BigEndian(_items[(_item * 4 + 2)..]);
                if (_bit == -1)
                {
                    _bit = 0;
                    _current = pid;
                    return true;
                }
                while (_bit < 16)
                {
                    var bit = _bit++;
                    if ((blp & (1 << bit)) == 0) continue;
                    _current = (ushort)(pid + bit + 1);
                    return true;
                }
                _item++;
                _bit = -1;
            }
            return false;
        }
    }
}

/// <summary>Picture loss indication (RFC 4585 §6.3.1, PSFB FMT 1): sender and media SSRC, no FCI.</summary>
public static class PictureLossIndication
{
    public static bool TryParse(in RtcpPacket packet, out uint senderSsrc, out uint mediaSsrc)
    {
        senderSsrc = mediaSsrc = 0;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.PayloadFeedback || packet.Format != RtcpPacketType.PliFormat || body.Length < 8)
            return false;
        senderSsrc = BinaryPrimitives.ReadUInt32BigEndian(body);
        mediaSsrc = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        return true;
    }
}

/// <summary>One FIR entry (RFC 5104 §4.3.1.1): the SSRC asked for a decoder refresh and the request sequence number.</summary>
public readonly record struct FirEntry(uint Ssrc, byte SequenceNumber);

/// <summary>Full intra request (RFC 5104 §4.3.1, PSFB FMT 4). The header's media SSRC is unused (0); entries name the targets.</summary>
public readonly ref struct FullIntraRequest
{
    private readonly ReadOnlySpan<byte> _entries;

    private FullIntraRequest(uint sender, ReadOnlySpan<byte> entries)
    {
        SenderSsrc = sender;
        _entries = entries;
    }

    public uint SenderSsrc { get; }
    public int EntryCount => _entries.Length / 8;

    public FirEntry this[int index] => (uint)index < (uint)EntryCount
        ? new FirEntry(BinaryPrimitives.ReadUInt32BigEndian(_entries[(8 * index)..]), _entries[8 * index + 4])
        : default;

    public static bool TryParse(in RtcpPacket packet, out FullIntraRequest fir)
    {
        fir = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.PayloadFeedback || packet.Format != RtcpPacketType.FirFormat
            || body.Length < 16 || (body.Length & 7) != 0) return false;
        fir = new FullIntraRequest(BinaryPrimitives.ReadUInt32BigEndian(body), body[8..]);
        return true;
    }
}

/// <summary>
/// Receiver estimated maximum bitrate (draft-alvestrand-rmcat-remb-03 §2.2, PSFB FMT 15 with "REMB"): bitrate as an
/// 18-bit mantissa shifted by a 6-bit exponent, and the SSRCs it applies to.
/// </summary>
public readonly ref struct Remb
{
    public const uint Identifier = 0x52454D42; // "REMB"
    public const int MaxMantissa = (1 << 18) - 1;
    private readonly ReadOnlySpan<byte> _ssrcs;

    private Remb(uint sender, ulong bitrate, ReadOnlySpan<byte> ssrcs)
    {
        SenderSsrc = sender;
        Bitrate = bitrate;
        _ssrcs = ssrcs;
    }

    public uint SenderSsrc { get; }
    /// <summary>Bits per second; saturates at <see cref="ulong.MaxValue"/> for exponents that overflow 64 bits.</summary>
    public ulong Bitrate { get; }
    public int SsrcCount => _ssrcs.Length / 4;

    public uint GetSsrc(int index) =>
        (uint)index < (uint)SsrcCount ? BinaryPrimitives.ReadUInt32BigEndian(_ssrcs[(4 * index)..]) : 0;

    public static bool TryParse(in RtcpPacket packet, out Remb remb)
    {
        remb = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.PayloadFeedback || packet.Format != RtcpPacketType.ApplicationLayerFormat
            || body.Length < 16 || BinaryPrimitives.ReadUInt32BigEndian(body[8..]) != Identifier) return false;
        var count = body[12];
        if (body.Length < 16 + 4 * count) return false;
        var exponent = body[13] >> 2;
        var mantissa = ((ulong)(body[13] & 3) << 16) | ((ulong)body[14] << 8) | body[15];
        remb = new Remb(BinaryPrimitives.ReadUInt32BigEndian(body), Decode(exponent, mantissa), body.Slice(16, 4 * count));
        return true;
    }

    /// <summary>mantissa · 2^exponent, saturated.</summary>
    public static ulong Decode(int exponent, ulong mantissa) =>
        mantissa == 0 ? 0 : exponent > 63 - 18 && mantissa > ulong.MaxValue >> exponent ? ulong.MaxValue : mantissa << exponent;

    /// <summary>The smallest exponent whose 18-bit mantissa holds the bitrate; the mantissa is rounded down, so the sent value never exceeds the estimate.</summary>
    public static (int Exponent, int Mantissa) Encode(ulong bitrate)
    {
        var exponent = 0;
        while (bitrate >> exponent > MaxMantissa) exponent++;
        return (exponent, (int)(bitrate >> exponent));
    }
}
