using System.Buffers.Binary;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Writers of single RTCP packets into a caller buffer. Each returns the bytes written, or 0 when the buffer is too
/// small or the arguments cannot be encoded (more than 31 report blocks, a CNAME over 255 bytes, …). Concatenate
/// the results for a compound packet (RFC 3550 §6.1: SR or RR first).
/// </summary>
public static class RtcpWriter
{
    public const int MaxCount = 31;
    public const int PliLength = 12;

    public static int WriteSenderReport(Span<byte> destination, uint ssrc, ulong ntpTimestamp, uint rtpTimestamp,
        uint packetCount, uint octetCount, ReadOnlySpan<ReportBlock> blocks)
    {
        var length = RtcpPacket.HeaderLength + 4 + SenderReport.SenderInfoLength + blocks.Length * ReportBlock.Length;
        if (blocks.Length > MaxCount || destination.Length < length) return 0;
        WriteHeader(destination, blocks.Length, RtcpPacketType.SenderReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], ntpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], rtpTimestamp);
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], packetCount);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], octetCount);
        for (var i = 0; i < blocks.Length; i++) blocks[i].Write(destination[(28 + i * ReportBlock.Length)..]);
        return length;
    }

    public static int WriteReceiverReport(Span<byte> destination, uint ssrc, ReadOnlySpan<ReportBlock> blocks)
    {
        var length = RtcpPacket.HeaderLength + 4 + blocks.Length * ReportBlock.Length;
        if (blocks.Length > MaxCount || destination.Length < length) return 0;
        WriteHeader(destination, blocks.Length, RtcpPacketType.ReceiverReport, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        for (var i = 0; i < blocks.Length; i++) blocks[i].Write(destination[(8 + i * ReportBlock.Length)..]);
        return length;
    }

    /// <summary>SDES with one chunk holding one CNAME item (RFC 3550 §6.5.1), null-terminated and padded to 32 bits.</summary>
    public static int WriteSourceDescriptionCname(Span<byte> destination, uint ssrc, ReadOnlySpan<byte> cname)
    {
        if (cname.Length > 255) return 0;
        var items = 2 + cname.Length + 1; // type, length, text, at least one null octet
        var length = RtcpPacket.HeaderLength + 4 + ((items + 3) & ~3);
        if (destination.Length < length) return 0;
        WriteHeader(destination, 1, RtcpPacketType.SourceDescription, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], ssrc);
        destination[8] = SdesChunkReader.CnameItem;
        destination[9] = (byte)cname.Length;
        cname.CopyTo(destination[10..]);
        destination[(10 + cname.Length)..length].Clear();
        return length;
    }

    public static int WriteGoodbye(Span<byte> destination, ReadOnlySpan<uint> ssrcs, ReadOnlySpan<byte> reason = default)
    {
        if (ssrcs.Length > MaxCount || reason.Length > 255) return 0;
        var reasonBytes = reason.IsEmpty ? 0 : (1 + reason.Length + 3) & ~3;
        var length = RtcpPacket.HeaderLength + 4 * ssrcs.Length + reasonBytes;
        if (destination.Length < length) return 0;
        WriteHeader(destination, ssrcs.Length, RtcpPacketType.Goodbye, length);
        for (var i = 0; i < ssrcs.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(destination[(4 + 4 * i)..], ssrcs[i]);
        if (reasonBytes > 0)
        {
            var offset = 4 + 4 * ssrcs.Length;
            destination[offset..length].Clear();
            destination[offset] = (byte)reason.Length;
            reason.CopyTo(destination[(offset + 1)..]);
        }
        return length;
    }

    public static int WritePictureLossIndication(Span<byte> destination, uint senderSsrc, uint mediaSsrc)
    {
        if (destination.Length < PliLength) return 0;
        WriteFeedbackHeader(destination, RtcpPacketType.PliFormat, RtcpPacketType.PayloadFeedback, PliLength, senderSsrc, mediaSsrc);
        return PliLength;
    }

    /// <summary>FIR (RFC 5104 §4.3.1): media SSRC 0, one 8-byte entry per target.</summary>
    public static int WriteFullIntraRequest(Span<byte> destination, uint senderSsrc, ReadOnlySpan<FirEntry> entries)
    {
        var length = 12 + 8 * entries.Length;
        if (entries.IsEmpty || length > 4 * (ushort.MaxValue + 1) || destination.Length < length) return 0;
        WriteFeedbackHeader(destination, RtcpPacketType.FirFormat, RtcpPacketType.PayloadFeedback, length, senderSsrc, 0);
        for (var i = 0; i < entries.Length; i++)
        {
            var e = destination.Slice(12 + 8 * i, 8);
            BinaryPrimitives.WriteUInt32BigEndian(e, entries[i].Ssrc);
            e[4] = entries[i].SequenceNumber;
            e[5..].Clear();
        }
        return length;
    }

    /// <summary>
    /// Generic NACK for <paramref name="sequenceNumbers"/>: a new PID item whenever a number is not within the 16 that
    /// follow the current PID. In ascending order (modulo 2^16, as <see cref="NackGenerator"/> yields them) that is the
    /// minimal item count; duplicates are folded.
    /// </summary>
    public static int WriteNack(Span<byte> destination, uint senderSsrc, uint mediaSsrc, ReadOnlySpan<ushort> sequenceNumbers)
    {
        if (sequenceNumbers.IsEmpty || destination.Length < 16) return 0;
        var offset = 12;
        var pid = sequenceNumbers[0];
        ushort blp = 0;
        for (var i = 1; i < sequenceNumbers.Length; i++)
        {
            var distance = (ushort)(sequenceNumbers[i] - pid);
            if (distance == 0) continue;
            if (distance <= 16)
            {
                blp |= (ushort)(1 << (distance - 1));
                continue;
            }
            if (!WriteNackItem(destination, ref offset, pid, blp)) return 0;
            pid = sequenceNumbers[i];
            blp = 0;
        }
        if (!WriteNackItem(destination, ref offset, pid, blp)) return 0;
        WriteFeedbackHeader(destination, RtcpPacketType.NackFormat, RtcpPacketType.TransportFeedback, offset, senderSsrc, mediaSsrc);
        return offset;
    }

    /// <summary>REMB (draft-alvestrand-rmcat-remb-03 §2.2); the bitrate is rounded down to what exponent/mantissa can hold.</summary>
    public static int WriteRemb(Span<byte> destination, uint senderSsrc, ulong bitrate, ReadOnlySpan<uint> ssrcs)
    {
        var length = 20 + 4 * ssrcs.Length;
        if (ssrcs.Length > 255 || destination.Length < length) return 0;
        WriteFeedbackHeader(destination, RtcpPacketType.ApplicationLayerFormat, RtcpPacketType.PayloadFeedback, length, senderSsrc, 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[12..], Remb.Identifier);
        var (exponent, mantissa) = Remb.Encode(bitrate);
        destination[16] = (byte)ssrcs.Length;
        destination[17] = (byte)((exponent << 2) | (mantissa >> 16));
        destination[18] = (byte)(mantissa >> 8);
        destination[19] = (byte)mantissa;
        for (var i = 0; i < ssrcs.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(destination[(20 + 4 * i)..], ssrcs[i]);
        return length;
    }

    private static bool WriteNackItem(Span<byte> destination, ref int offset, ushort pid, ushort blp)
    {
        if (offset + 4 > destination.Length || offset + 4 > 4 * (ushort.MaxValue + 1)) return false;
        BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], pid);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(offset + 2)..], blp);
        offset += 4;
        return true;
    }

    private static void WriteFeedbackHeader(Span<byte> destination, int format, byte type, int length, uint sender, uint media)
    {
        WriteHeader(destination, format, type, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], sender);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], media);
    }

    private static void WriteHeader(Span<byte> destination, int count, byte type, int length)
    {
        destination[0] = (byte)(0x80 | count);
        destination[1] = type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(length / 4 - 1));
    }
}
