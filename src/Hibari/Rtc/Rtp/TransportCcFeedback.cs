using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1, RTPFB FMT 15):
/// base sequence number, packet status count, 24-bit signed reference time in 64 ms units, feedback packet count,
/// then packet status chunks (run length, 1-bit or 2-bit status vector) and receive deltas in 250 µs units
/// (1 byte unsigned for "small delta", 2 bytes signed for "large delta").
/// </summary>
public readonly ref struct TransportCcFeedback
{
    public const int FixedLength = 16; // after the common header: sender, media, base, count, reference time, fb count
    public const long NotReceived = long.MinValue;
    public const int ReferenceTimeUnitMicros = 64_000;
    public const int DeltaUnitMicros = 250;
    /// <summary>Statuses one packet carries at most (keeps the writer's scratch on the stack).</summary>
    public const int MaxStatusesPerPacket = 4096;

    private const int SymbolNotReceived = 0;
    private const int SymbolSmallDelta = 1;
    private const int SymbolLargeDelta = 2;
    private const int MaxRunLength = 0x1FFF;
    private const int OneBitCapacity = 14;
    private const int TwoBitCapacity = 7;

    private readonly ReadOnlySpan<byte> _chunksAndDeltas;

    private TransportCcFeedback(uint sender, uint media, ushort baseSeq, ushort count, int referenceTime, byte fbCount,
        ReadOnlySpan<byte> rest)
    {
        SenderSsrc = sender;
        MediaSsrc = media;
        BaseSequenceNumber = baseSeq;
        PacketStatusCount = count;
        ReferenceTime = referenceTime;
        FeedbackPacketCount = fbCount;
        _chunksAndDeltas = rest;
    }

    public uint SenderSsrc { get; }
    public uint MediaSsrc { get; }
    public ushort BaseSequenceNumber { get; }
    public ushort PacketStatusCount { get; }
    /// <summary>Signed, in multiples of 64 ms.</summary>
    public int ReferenceTime { get; }
    public byte FeedbackPacketCount { get; }

    public static bool TryParse(in RtcpPacket packet, out TransportCcFeedback feedback)
    {
        feedback = default;
        var body = packet.Body;
        if (packet.Type != RtcpPacketType.TransportFeedback || packet.Format != RtcpPacketType.TransportCcFormat
            || body.Length < FixedLength) return false;
        var reference = (body[12] << 16) | (body[13] << 8) | body[14];
        if ((reference & 0x800000) != 0) reference -= 0x1000000;
        feedback = new TransportCcFeedback(BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(body[8..]), BinaryPrimitives.ReadUInt16BigEndian(body[10..]), reference, body[15],
            body[FixedLength..]);
        return true;
    }

    /// <summary>
    /// Decodes every status: <c>arrivalsMicros[i]</c> is the arrival time of <c>BaseSequenceNumber + i</c> in µs on the
    /// sender of the feedback's clock (reference time · 64 ms + deltas), or <see cref="NotReceived"/>.
    /// False when the chunks or deltas are malformed or the destination is shorter than the status count.
    /// </summary>
    public bool TryDecode(Span<long> arrivalsMicros, out int count)
    {
        count = 0;
        var total = PacketStatusCount;
        if (arrivalsMicros.Length < total) return false;
        var data = _chunksAndDeltas;
        var position = 0;
        var filled = 0;
        while (filled < total)
        {
            if (position + 2 > data.Length) return false;
            var chunk = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            position += 2;
            if ((chunk & 0x8000) == 0)
            {
                var symbol = (chunk >> 13) & 3;
                if (symbol == 3) return false;
                var run = Math.Min(chunk & MaxRunLength, total - filled);
                arrivalsMicros.Slice(filled, run).Fill(symbol);
                filled += run;
            }
            else if ((chunk & 0x4000) == 0)
            {
                for (var i = 0; i < OneBitCapacity && filled < total; i++)
                    arrivalsMicros[filled++] = (chunk >> (13 - i)) & 1;
            }
            else
            {
                for (var i = 0; i < TwoBitCapacity && filled < total; i++)
                {
                    var symbol = (chunk >> (12 - 2 * i)) & 3;
                    if (symbol == 3) return false;
                    arrivalsMicros[filled++] = symbol;
                }
            }
        }

        var time = (long)ReferenceTime * ReferenceTimeUnitMicros;
        for (var i = 0; i < total; i++)
        {
            switch (arrivalsMicros[i])
            {
                case SymbolNotReceived:
                    arrivalsMicros[i] = NotReceived;
                    break;
                case SymbolSmallDelta:
                    if (position + 1 > data.Length) return false;
                    time += data[position++] * DeltaUnitMicros;
                    arrivalsMicros[i] = time;
                    break;
                default:
                    if (position + 2 > data.Length) return false;
                    time += BinaryPrimitives.ReadInt16BigEndian(data[position..]) * DeltaUnitMicros;
                    position += 2;
                    arrivalsMicros[i] = time;
                    break;
            }
        }
        count = total;
        return true;
    }

    /// <summary>
    /// Writes one feedback packet for <paramref name="arrivalsMicros"/> (index i is <paramref name="baseSequenceNumber"/> + i;
    /// <see cref="NotReceived"/> for a gap) into <paramref name="destination"/>, as many statuses as fit in it and in one
    /// packet (a delta beyond ±8.19 s ends the packet too). <paramref name="consumed"/> is how many statuses it covers;
    /// the caller starts the next packet there. Returns bytes written, 0 when not even one status fits.
    /// The reference time is the first received arrival rounded down to 64 ms; deltas are taken between 250 µs ticks so
    /// rounding never accumulates.
    /// </summary>
    public static int Write(Span<byte> destination, uint senderSsrc, uint mediaSsrc, ushort baseSequenceNumber,
        ReadOnlySpan<long> arrivalsMicros, byte feedbackPacketCount, out int consumed)
    {
        consumed = 0;
        const int headerLength = RtcpPacket.HeaderLength + FixedLength;
        if (destination.Length < headerLength + 4 || arrivalsMicros.IsEmpty) return 0;

        var n = Math.Min(arrivalsMicros.Length, Math.Min(MaxStatusesPerPacket, (int)ushort.MaxValue));
        Span<byte> symbols = stackalloc byte[n];
        Span<short> deltas = stackalloc short[n];
        var reference = 0L;
        var first = true;
        var previousTicks = 0L;
        for (var i = 0; i < n; i++)
        {
            var arrival = arrivalsMicros[i];
            if (arrival == NotReceived)
            {
                symbols[i] = SymbolNotReceived;
                continue;
            }
            var ticks = FloorDiv(arrival, DeltaUnitMicros);
            if (first)
            {
                first = false;
                reference = FloorDiv(arrival, ReferenceTimeUnitMicros);
                previousTicks = reference * (ReferenceTimeUnitMicros / DeltaUnitMicros);
            }
            var delta = ticks - previousTicks;
            if (delta is >= 0 and <= byte.MaxValue) symbols[i] = SymbolSmallDelta;
            else if (delta is >= short.MinValue and <= short.MaxValue) symbols[i] = SymbolLargeDelta;
            else
            {
                n = i; // this one starts the next packet, against its own reference time
                break;
            }
            deltas[i] = (short)delta;
            previousTicks = ticks;
        }

        // Chunks are collected first: the deltas follow all of them and their count decides what fits.
        Span<ushort> chunks = stackalloc ushort[n];
        var chunkCount = 0;
        var covered = 0;
        var deltaBytes = 0;
        while (covered < n)
        {
            var remaining = n - covered;
            var run = 1;
            while (run < remaining && run < MaxRunLength && symbols[covered + run] == symbols[covered]) run++;
            int kind; // 0 run length, 1 one-bit vector, 2 two-bit vector
            int take;
            if (run >= OneBitCapacity || run == remaining) { kind = 0; take = run; }
            else
            {
                var m = Math.Min(OneBitCapacity, remaining);
                var oneBit = true;
                for (var i = 0; i < m && oneBit; i++) oneBit = symbols[covered + i] <= SymbolSmallDelta;
                if (oneBit) { kind = 1; take = m; }
                else if (run >= TwoBitCapacity) { kind = 0; take = run; }
                else { kind = 2; take = Math.Min(TwoBitCapacity, remaining); }
            }

            var fixedBytes = headerLength + 2 * (chunkCount + 1) + deltaBytes;
            var bytes = 0;
            for (var i = 0; i < take; i++) bytes += DeltaSize(symbols[covered + i]);
            while (take > 0 && Padded(fixedBytes + bytes) > destination.Length) bytes -= DeltaSize(symbols[covered + --take]);
            if (take == 0) break;

            ushort chunk;
            if (kind == 0) chunk = (ushort)((symbols[covered] << 13) | take);
            else if (kind == 1)
            {
                chunk = 0x8000;
                for (var i = 0; i < take; i++) chunk |= (ushort)(symbols[covered + i] << (13 - i));
            }
            else
            {
                chunk = 0xC000;
                for (var i = 0; i < take; i++) chunk |= (ushort)(symbols[covered + i] << (12 - 2 * i));
            }
            chunks[chunkCount++] = chunk;
            covered += take;
            deltaBytes += bytes;
        }
        if (covered == 0) return 0;

        var unpadded = headerLength + 2 * chunkCount + deltaBytes;
        var length = (unpadded + 3) & ~3;
        var padding = length - unpadded;
        var p = destination[..length];
        p[0] = (byte)(0x80 | (padding > 0 ? 0x20 : 0) | RtcpPacketType.TransportCcFormat);
        p[1] = RtcpPacketType.TransportFeedback;
        BinaryPrimitives.WriteUInt16BigEndian(p[2..], (ushort)(length / 4 - 1));
        BinaryPrimitives.WriteUInt32BigEndian(p[4..], senderSsrc);
        BinaryPrimitives.WriteUInt32BigEndian(p[8..], mediaSsrc);
        BinaryPrimitives.WriteUInt16BigEndian(p[12..], baseSequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(p[14..], (ushort)covered);
        var reference24 = (int)(reference & 0xFFFFFF);
        p[16] = (byte)(reference24 >> 16);
        p[17] = (byte)(reference24 >> 8);
        p[18] = (byte)reference24;
        p[19] = feedbackPacketCount;
        var offset = headerLength;
        for (var i = 0; i < chunkCount; i++, offset += 2) BinaryPrimitives.WriteUInt16BigEndian(p[offset..], chunks[i]);
        for (var i = 0; i < covered; i++)
        {
            if (symbols[i] == SymbolSmallDelta) p[offset++] = (byte)deltas[i];
            else if (symbols[i] == SymbolLargeDelta)
            {
                BinaryPrimitives.WriteInt16BigEndian(p[offset..], deltas[i]);
                offset += 2;
            }
        }
        // RFC 3550 §6.4.1 padding: zero bytes, the last one counting them all.
        if (padding > 0)
        {
            p.Slice(offset, padding).Clear();
            p[^1] = (byte)padding;
        }
        consumed = covered;
        return length;
    }

    private static int DeltaSize(byte symbol) => symbol == SymbolSmallDelta ? 1 : symbol == SymbolLargeDelta ? 2 : 0;

    private static int Padded(int n) => (n + 3) & ~3;

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
