using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class RtcpTests
{
    // pion/rtcp receiver_report_test.go, "valid": one report block.
    private static readonly byte[] PionReceiverReport =
    [
        0x81, 0xc9, 0x00, 0x07,
        0x90, 0x2f, 0x9e, 0x2e,
        0xbc, 0x5e, 0x9a, 0x40,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x46, 0xe1,
        0x00, 0x00, 0x01, 0x11,
        0x09, 0xf3, 0x64, 0x32,
        0x00, 0x02, 0x4a, 0x79,
    ];

    // pion/rtcp receiver_estimated_maximum_bitrate_test.go: "real data sent by Chrome", 8,927,168 bit/s for one SSRC.
    private static readonly byte[] PionRemb = [143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, 26, 32, 223, 72, 116, 237, 22];

    internal static RtcpPacket Single(ReadOnlySpan<byte> bytes)
    {
        var reader = new RtcpReader(bytes);
        Assert.Equal(RtcpReadResult.Packet, reader.TryReadNext(out var packet));
        Assert.Equal(RtcpReadResult.End, reader.TryReadNext(out _));
        return packet;
    }

    [Fact]
    public void Receiver_report_parses_the_pion_vector()
    {
        var packet = Single(PionReceiverReport);
        Assert.Equal(RtcpPacketType.ReceiverReport, packet.Type);
        Assert.True(ReceiverReport.TryParse(packet, out var rr));
        Assert.Equal(0x902f9e2eu, rr.Ssrc);
        Assert.Equal(1, rr.ReportBlocks.Count);
        Assert.Equal(new ReportBlock(0xbc5e9a40, 0, 0, 0x46e1, 273, 0x9f36432, 150137), rr.ReportBlocks[0]);
    }

    [Fact]
    public void Receiver_report_writer_reproduces_the_pion_vector()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteReceiverReport(buffer, 0x902f9e2e, [new ReportBlock(0xbc5e9a40, 0, 0, 0x46e1, 273, 0x9f36432, 150137)]);
        Assert.Equal(PionReceiverReport, buffer.AsSpan(0, n).ToArray());
    }

    [Fact]
    public void Report_block_cumulative_lost_is_24_bit_signed_and_clamped()
    {
        var buffer = new byte[64];
        ReportBlock[] blocks = [new(1, 255, -5, 2, 3, 4, 5), new(6, 1, 50_000_000, 7, 8, 9, 10)];
        var n = RtcpWriter.WriteReceiverReport(buffer, 42, blocks);
        Assert.True(ReceiverReport.TryParse(Single(buffer.AsSpan(0, n)), out var rr));
        Assert.Equal(blocks[0], rr.ReportBlocks[0]);
        Assert.Equal(blocks[1] with { CumulativeLost = ReportBlock.MaxCumulativeLost }, rr.ReportBlocks[1]);
        Assert.Equal(default, rr.ReportBlocks[2]);
    }

    [Fact]
    public void Sender_report_round_trips_with_report_blocks()
    {
        var buffer = new byte[128];
        var block = new ReportBlock(7, 12, 34, 0x1_0005, 99, 0x11223344, 65536);
        var n = RtcpWriter.WriteSenderReport(buffer, 0xAABBCCDD, 0xE1234567_89ABCDEF, 3000, 10, 12000, [block]);
        Assert.Equal(52, n);
        Assert.Equal(new byte[] { 0x81, 200, 0, 12, 0xAA, 0xBB, 0xCC, 0xDD, 0xE1, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF }, buffer.AsSpan(0, 16).ToArray());
        Assert.True(SenderReport.TryParse(Single(buffer.AsSpan(0, n)), out var sr));
        Assert.Equal((0xAABBCCDDu, 0xE1234567_89ABCDEFul, 3000u, 10u, 12000u), (sr.Ssrc, sr.NtpTimestamp, sr.RtpTimestamp, sr.PacketCount, sr.OctetCount));
        Assert.Equal(0x456789ABu, sr.CompactNtp);
        Assert.Equal(block, sr.ReportBlocks[0]);
    }

    [Fact]
    public void Sdes_cname_round_trips_and_is_padded_to_32_bits()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteSourceDescriptionCname(buffer, 0x01020304, "abcd"u8);
        // header 4, ssrc 4, type+len+4 text+null = 7 → 8
        Assert.Equal(16, n);
        Assert.Equal(new byte[] { 0x81, 202, 0, 3, 1, 2, 3, 4, 1, 4, (byte)'a', (byte)'b', (byte)'c', (byte)'d', 0, 0 }, buffer.AsSpan(0, n).ToArray());
        var reader = new SdesChunkReader(Single(buffer.AsSpan(0, n)));
        Assert.Equal(RtcpReadResult.Packet, reader.TryReadNext(out var ssrc, out var cname));
        Assert.Equal(0x01020304u, ssrc);
        Assert.Equal("abcd"u8.ToArray(), cname.ToArray());
        Assert.Equal(RtcpReadResult.End, reader.TryReadNext(out _, out _));
    }

    [Fact]
    public void Sdes_reader_walks_several_chunks_and_finds_cname_after_other_items()
    {
        // Two chunks: (1: NAME "x", CNAME "ab", end) and (2: CNAME "c", end) — RFC 3550 §6.5.
        byte[] p =
        [
            0x82, 202, 0, 5,
            0, 0, 0, 1, 2, 1, (byte)'x', 1, 2, (byte)'a', (byte)'b', 0,
            0, 0, 0, 2, 1, 1, (byte)'c', 0,
        ];
        var reader = new SdesChunkReader(Single(p));
        Assert.Equal(RtcpReadResult.Packet, reader.TryReadNext(out var s1, out var c1));
        Assert.Equal((1u, "ab"), (s1, System.Text.Encoding.ASCII.GetString(c1)));
        Assert.Equal(RtcpReadResult.Packet, reader.TryReadNext(out var s2, out var c2));
        Assert.Equal((2u, "c"), (s2, System.Text.Encoding.ASCII.GetString(c2)));
        Assert.Equal(RtcpReadResult.End, reader.TryReadNext(out _, out _));
    }

    [Fact]
    public void Sdes_item_past_the_end_is_malformed()
    {
        byte[] p = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, (byte)'a', 0];
        var reader = new SdesChunkReader(Single(p));
        Assert.Equal(RtcpReadResult.Malformed, reader.TryReadNext(out _, out _));
    }

    [Fact]
    public void Bye_round_trips_with_reason()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteGoodbye(buffer, [5u, 6u], "bye"u8);
        Assert.Equal(16, n);
        Assert.True(Goodbye.TryParse(Single(buffer.AsSpan(0, n)), out var bye));
        Assert.Equal(2, bye.SsrcCount);
        Assert.Equal((5u, 6u), (bye.GetSsrc(0), bye.GetSsrc(1)));
        Assert.Equal("bye"u8.ToArray(), bye.Reason.ToArray());
        Assert.Equal(0u, bye.GetSsrc(2));
    }

    [Fact]
    public void Pli_is_12_bytes_psfb_fmt_1_RFC_4585_6_3_1()
    {
        var buffer = new byte[12];
        Assert.Equal(12, RtcpWriter.WritePictureLossIndication(buffer, 0x11111111, 0x22222222));
        Assert.Equal(new byte[] { 0x81, 206, 0, 2, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22 }, buffer);
        Assert.True(PictureLossIndication.TryParse(Single(buffer), out var sender, out var media));
        Assert.Equal((0x11111111u, 0x22222222u), (sender, media));
        Assert.Equal(0, RtcpWriter.WritePictureLossIndication(new byte[11], 1, 2));
    }

    [Fact]
    public void Fir_round_trips_entries_RFC_5104_4_3_1()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteFullIntraRequest(buffer, 9, [new FirEntry(0xA, 1), new FirEntry(0xB, 255)]);
        Assert.Equal(28, n);
        Assert.Equal(0x84, buffer[0]);
        Assert.True(FullIntraRequest.TryParse(Single(buffer.AsSpan(0, n)), out var fir));
        Assert.Equal(9u, fir.SenderSsrc);
        Assert.Equal(2, fir.EntryCount);
        Assert.Equal(new FirEntry(0xA, 1), fir[0]);
        Assert.Equal(new FirEntry(0xB, 255), fir[1]);
        Assert.False(PictureLossIndication.TryParse(Single(buffer.AsSpan(0, n)), out _, out _));
    }

    [Fact]
    public void Remb_parses_chromes_packet_from_the_pion_vector()
    {
        Assert.True(Remb.TryParse(Single(PionRemb), out var remb));
        Assert.Equal(1u, remb.SenderSsrc);
        Assert.Equal(8_927_168ul, remb.Bitrate);
        Assert.Equal(1, remb.SsrcCount);
        Assert.Equal(1215622422u, remb.GetSsrc(0));
    }

    [Fact]
    public void Remb_writer_reproduces_the_pion_vector()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WriteRemb(buffer, 1, 8_927_168, [1215622422u]);
        Assert.Equal(PionRemb, buffer.AsSpan(0, n).ToArray());
    }

    [Theory]
    [InlineData(0ul, 0, 0)]
    [InlineData(262_143ul, 0, 262_143)]      // largest mantissa at exponent 0
    [InlineData(262_144ul, 1, 131_072)]      // one more needs exponent 1
    [InlineData(8_927_167ul, 6, 139_486)]    // rounds down (pion's truncate case)
    [InlineData(ulong.MaxValue, 46, 262_143)]
    public void Remb_encoding_uses_the_smallest_exponent_and_rounds_down(ulong bitrate, int exponent, int mantissa)
    {
        Assert.Equal((exponent, mantissa), Remb.Encode(bitrate));
        Assert.True(Remb.Decode(exponent, (ulong)mantissa) <= bitrate);
    }

    [Fact]
    public void Remb_exponent_beyond_64_bits_saturates()
    {
        // pion's overflow vector: exponent 63, mantissa 0x3FFFF.
        byte[] p = [143, 206, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 82, 69, 77, 66, 0, 255, 255, 255];
        Assert.True(Remb.TryParse(Single(p), out var remb));
        Assert.Equal(ulong.MaxValue, remb.Bitrate);
        Assert.Equal(0, remb.SsrcCount);
    }

    [Fact]
    public void Remb_with_more_ssrcs_than_bytes_is_rejected()
    {
        var p = (byte[])PionRemb.Clone();
        p[16] = 2;
        Assert.False(Remb.TryParse(Single(p), out _));
    }

    [Fact]
    public void Compound_packet_is_read_in_order()
    {
        var buffer = new byte[256];
        var n = RtcpWriter.WriteReceiverReport(buffer, 1, []);
        n += RtcpWriter.WriteSourceDescriptionCname(buffer.AsSpan(n), 1, "cname"u8);
        n += RtcpWriter.WriteRemb(buffer.AsSpan(n), 1, 5_000_000, [2u, 3u]);
        n += RtcpWriter.WritePictureLossIndication(buffer.AsSpan(n), 1, 2);
        var reader = new RtcpReader(buffer.AsSpan(0, n));
        var types = new List<(byte, int)>();
        while (reader.TryReadNext(out var packet) == RtcpReadResult.Packet) types.Add((packet.Type, packet.Count));
        Assert.Equal(new (byte, int)[] { (RtcpPacketType.ReceiverReport, 0), (RtcpPacketType.SourceDescription, 1), (RtcpPacketType.PayloadFeedback, 15), (RtcpPacketType.PayloadFeedback, 1) }, types);
    }

    [Theory]
    [InlineData(new byte[] { 0x81, 0xc9, 0x00, 0x07, 0, 0, 0, 0 })]     // length beyond the datagram
    [InlineData(new byte[] { 0x41, 0xc9, 0x00, 0x00 })]                 // version 1
    [InlineData(new byte[] { 0xA0, 0xc9, 0x00, 0x01, 1, 2, 3, 0 })]     // padding count 0
    [InlineData(new byte[] { 0xA0, 0xc9, 0x00, 0x01, 1, 2, 3, 5 })]     // padding larger than the body
    [InlineData(new byte[] { 0x80, 0xc9 })]                             // shorter than a header
    public void Malformed_packets_stop_the_reader_with_a_failure(byte[] bytes)
    {
        var reader = new RtcpReader(bytes);
        Assert.Equal(RtcpReadResult.Malformed, reader.TryReadNext(out _));
        Assert.Equal(RtcpReadResult.Malformed, reader.TryReadNext(out _));
    }

    [Fact]
    public void Good_packets_before_trailing_garbage_are_still_read()
    {
        var buffer = new byte[64];
        var n = RtcpWriter.WritePictureLossIndication(buffer, 1, 2);
        buffer[n] = 0x80; // a second header cut short
        var reader = new RtcpReader(buffer.AsSpan(0, n + 3));
        Assert.Equal(RtcpReadResult.Packet, reader.TryReadNext(out _));
        Assert.Equal(RtcpReadResult.Malformed, reader.TryReadNext(out _));
    }

    [Fact]
    public void Padding_is_excluded_from_the_body()
    {
        // PLI with 4 bytes of padding (P bit, last byte 4).
        byte[] p = [0xA1, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4];
        var packet = Single(p);
        Assert.True(packet.Padding);
        Assert.Equal(8, packet.Body.Length);
        Assert.True(PictureLossIndication.TryParse(packet, out _, out var media));
        Assert.Equal(2u, media);
    }

    [Fact]
    public void Parsers_reject_packets_of_another_type_or_too_short()
    {
        var rr = Single(PionReceiverReport);
        Assert.False(SenderReport.TryParse(rr, out _));
        Assert.False(Goodbye.TryParse(rr, out _));
        Assert.False(GenericNack.TryParse(rr, out _));
        Assert.False(Remb.TryParse(rr, out _));
        Assert.False(TransportCcFeedback.TryParse(rr, out _));
        byte[] shortRr = [0x82, 0xc9, 0x00, 0x07, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        Assert.False(ReceiverReport.TryParse(Single(shortRr), out _)); // count 2 but room for one block
    }

    [Fact]
    public void Writers_return_zero_when_the_buffer_is_too_small()
    {
        Assert.Equal(0, RtcpWriter.WriteReceiverReport(new byte[31], 1, [default]));
        Assert.Equal(0, RtcpWriter.WriteSenderReport(new byte[27], 1, 0, 0, 0, 0, []));
        Assert.Equal(0, RtcpWriter.WriteSourceDescriptionCname(new byte[15], 1, "abcd"u8));
        Assert.Equal(0, RtcpWriter.WriteRemb(new byte[23], 1, 1, [1u]));
        Assert.Equal(0, RtcpWriter.WriteNack(new byte[15], 1, 2, [1]));
        Assert.Equal(0, RtcpWriter.WriteReceiverReport(new byte[2000], 1, new ReportBlock[32]));
    }
}
