using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class RtpHeaderTests
{
    // Hand-built per RFC 3550 §5.1 and RFC 8285 §4.2: V=2 X=1 CC=1, M=1 PT=96, seq 0x1234, ts 0xDEADBEEF,
    // SSRC 0x11223344, CSRC 0xCAFEBABE, 0xBEDE length 2: mid (id 1) "A", abs-send-time (id 2) 00 01 02, 2 padding bytes.
    internal static readonly byte[] Sample =
    [
        0x91, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x11, 0x22, 0x33, 0x44,
        0xCA, 0xFE, 0xBA, 0xBE,
        0xBE, 0xDE, 0x00, 0x02,
        0x10, 0x41, 0x22, 0x00, 0x01, 0x02, 0x00, 0x00,
        0x01, 0x02, 0x03,
    ];

    [Fact]
    public void Parses_every_field_of_a_hand_built_packet()
    {
        Assert.True(RtpHeader.TryParse(Sample, out var h));
        Assert.True(h.Marker);
        Assert.Equal(96, h.PayloadType);
        Assert.Equal(0x1234, h.SequenceNumber);
        Assert.Equal(0xDEADBEEFu, h.Timestamp);
        Assert.Equal(0x11223344u, h.Ssrc);
        Assert.Equal(1, h.CsrcCount);
        Assert.Equal(0xCAFEBABEu, h.GetCsrc(Sample, 0));
        Assert.True(h.IsOneByteExtension);
        Assert.Equal(20, h.ExtensionOffset);
        Assert.Equal(8, h.ExtensionLength);
        Assert.Equal(28, h.HeaderLength);
        Assert.Equal(3, h.PayloadLength);
        Assert.Equal(new byte[] { 1, 2, 3 }, h.GetPayload(Sample).ToArray());
    }

    [Fact]
    public void One_byte_extension_lookup_finds_values_and_skips_padding()
    {
        Assert.True(RtpHeader.TryParse(Sample, out var h));
        Assert.True(RtpHeaderExtensions.TryFind(Sample, h, 1, out var mid));
        Assert.Equal("A"u8.ToArray(), mid.ToArray());
        Assert.True(RtpHeaderExtensions.TryFind(Sample, h, 2, out var abs));
        Assert.Equal(new byte[] { 0, 1, 2 }, abs.ToArray());
        Assert.False(RtpHeaderExtensions.TryFind(Sample, h, 3, out _));
        Assert.False(RtpHeaderExtensions.TryFind(Sample, h, 0, out _));
    }

    [Fact]
    public void Two_byte_extension_lookup_reads_ids_above_14_and_empty_values()
    {
        // RFC 8285 §4.3: profile 0x1000, elements id 20 len 0, padding 0, id 1 len 3 "abc", pad to 8 bytes.
        byte[] p =
        [
            0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,
            0x10, 0x00, 0x00, 0x02,
            20, 0, 0, 1, 3, (byte)'a', (byte)'b', (byte)'c',
            0xFF,
        ];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.True(h.IsTwoByteExtension);
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 20, out var empty));
        Assert.True(empty.IsEmpty);
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 1, out var abc));
        Assert.Equal("abc"u8.ToArray(), abc.ToArray());
        Assert.Equal(1, h.PayloadLength);
    }

    [Fact]
    public void One_byte_id_15_ends_the_element_list()
    {
        byte[] p = [0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 1, 0xF0, 0x10, 0x41, 0x00];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.False(RtpHeaderExtensions.TryFind(p, h, 1, out _));
    }

    [Fact]
    public void One_byte_id_0_is_a_single_padding_byte_whatever_its_length_nibble()
    {
        byte[] p = [0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 1, 0x05, 0x10, 0x41, 0x00];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 1, out var v));
        Assert.Equal("A"u8.ToArray(), v.ToArray());
    }

    [Fact]
    public void Element_running_past_the_extension_block_is_not_found()
    {
        byte[] p = [0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 1, 0x00, 0x00, 0x13, 0x41];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.False(RtpHeaderExtensions.TryFind(p, h, 1, out _));
        // Forwarded, the malformed list is dropped, never copied: no extension, the payload intact.
        var copy = new byte[64];
        var n = RtpHeaderExtensions.CopyForwarded(p, h, new byte[16], 0, 0, copy, out _);
        Assert.True(RtpHeader.TryParse(copy.AsSpan(0, n), out var forwarded));
        Assert.False(forwarded.HasExtension);
        Assert.Equal(h.GetPayload(p).ToArray(), forwarded.GetPayload(copy.AsSpan(0, n)).ToArray());
    }

    [Fact]
    public void Padding_is_excluded_from_the_payload()
    {
        byte[] p = [0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 9, 0, 0, 3];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.Equal(2, h.PayloadLength);
        Assert.Equal(3, h.PaddingLength);
    }

    [Theory]
    [InlineData(new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 0 })]          // padding count 0
    [InlineData(new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 9, 3 })]          // more padding than payload
    [InlineData(new byte[] { 0xA0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2 })]                // padding bit, nothing after header
    [InlineData(new byte[] { 0x40, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2 })]                // version 1
    [InlineData(new byte[] { 0x81, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0 })]          // CSRC cut short
    [InlineData(new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE })]    // extension header cut short
    [InlineData(new byte[] { 0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0xBE, 0xDE, 0, 2, 0, 0, 0, 0 })] // extension longer than packet
    [InlineData(new byte[] { 0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0 })]                   // shorter than 12
    public void Malformed_headers_are_rejected(byte[] packet)
    {
        Assert.False(RtpHeader.TryParse(packet, out _));
    }

    [Fact]
    public void Rewrites_change_only_their_field()
    {
        var p = (byte[])Sample.Clone();
        Assert.True(RtpHeader.SetSsrc(p, 0xA1B2C3D4));
        Assert.True(RtpHeader.SetSequenceNumber(p, 65535));
        Assert.True(RtpHeader.SetTimestamp(p, 7));
        Assert.True(RtpHeader.SetPayloadType(p, 111));
        Assert.True(RtpHeader.SetMarker(p, false));
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.Equal(0xA1B2C3D4u, h.Ssrc);
        Assert.Equal(65535, h.SequenceNumber);
        Assert.Equal(7u, h.Timestamp);
        Assert.Equal(111, h.PayloadType);
        Assert.False(h.Marker);
        Assert.Equal(Sample.AsSpan(12).ToArray(), p.AsSpan(12).ToArray());
        Assert.True(RtpHeader.SetMarker(p, true));
        Assert.Equal(0x80 | 111, p[1]);
        Assert.False(RtpHeader.SetPayloadType(p, 128));
        Assert.False(RtpHeader.SetSsrc(new byte[11], 1));
    }

    [Fact]
    public void Forwarding_rewrites_one_byte_ids_and_drops_unmapped_elements()
    {
        var input = (byte[])Sample.Clone();
        Assert.True(RtpHeader.TryParse(input, out var h));
        var map = new byte[16];
        map[1] = 9; // mid 1 → 9; abs-send-time (2) unmapped → dropped
        var p = new byte[64];
        var n = RtpHeaderExtensions.CopyForwarded(input, h, map, 0, 0, p, out _);
        Assert.Equal(new byte[] { 0xBE, 0xDE, 0, 1, 0x90, 0x41, 0, 0 }, p.AsSpan(16, 8).ToArray()); // after the one CSRC
        Assert.True(RtpHeader.TryParse(p.AsSpan(0, n), out var after));
        Assert.True(RtpHeaderExtensions.TryFind(p, after, 9, out var mid));
        Assert.Equal("A"u8.ToArray(), mid.ToArray());
        Assert.False(RtpHeaderExtensions.TryFind(p, after, 2, out _));
        Assert.False(RtpHeaderExtensions.TryFind(p, after, 1, out _));
    }

    [Fact]
    public void Forwarding_drops_an_id_the_one_byte_form_cannot_carry()
    {
        var input = (byte[])Sample.Clone();
        Assert.True(RtpHeader.TryParse(input, out var before));
        var map = new byte[256];
        map[1] = 15;
        map[2] = 2;
        var p = new byte[64];
        var n = RtpHeaderExtensions.CopyForwarded(input, before, map, 0, 0, p, out _);
        Assert.True(RtpHeader.TryParse(p.AsSpan(0, n), out var h));
        Assert.False(RtpHeaderExtensions.TryFind(p, h, 15, out _));
        Assert.False(RtpHeaderExtensions.TryFind(p, h, 1, out _));
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 2, out _));
    }

    [Fact]
    public void Forwarding_rewrites_two_byte_ids()
    {
        var buffer = new byte[64];
        var w = new RtpPacketWriter(buffer, 96, 1, 2, 3, twoByteExtensions: true);
        Assert.True(w.AddExtension(200, "xyz"u8));
        Assert.True(w.AddExtension(3, "q"u8));
        Assert.True(w.TryFinish([7], out var n));
        var input = buffer.AsSpan(0, n).ToArray();
        Assert.True(RtpHeader.TryParse(input, out var before));
        var map = new byte[256];
        map[200] = 17;
        var p = new byte[64];
        var m = RtpHeaderExtensions.CopyForwarded(input, before, map, 0, 0, p, out _);
        Assert.True(RtpHeader.TryParse(p.AsSpan(0, m), out var h));
        Assert.True(h.IsTwoByteExtension);
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 17, out var v));
        Assert.Equal("xyz"u8.ToArray(), v.ToArray());
        Assert.False(RtpHeaderExtensions.TryFind(p, h, 3, out _));
        Assert.Equal(new byte[] { 7 }, h.GetPayload(p).ToArray());
    }

    [Fact]
    public void Writer_builds_packets_with_mid_rid_abs_send_time_and_transport_sequence()
    {
        var buffer = new byte[200];
        var w = new RtpPacketWriter(buffer, 96, 65000, 90000, 0xABCDEF01, marker: true);
        Assert.True(w.AddString(1, "0"));
        Assert.True(w.AddString(2, "r1"));
        Assert.True(w.AddAbsSendTime(3, 0x123456));
        Assert.True(w.AddTransportSequenceNumber(4, 0xBEEF));
        Assert.True(w.TryFinish([1, 2, 3, 4, 5], out var n, paddingLength: 4));
        var p = buffer.AsSpan(0, n);
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.Equal(n, h.PacketLength);
        Assert.Equal(((byte)96, (ushort)65000, 90000u, 0xABCDEF01u, true), (h.PayloadType, h.SequenceNumber, h.Timestamp, h.Ssrc, h.Marker));
        Assert.Equal(0, h.ExtensionLength % 4);
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 1, out var mid));
        Assert.Equal("0"u8.ToArray(), mid.ToArray());
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 2, out var rid));
        Assert.Equal("r1"u8.ToArray(), rid.ToArray());
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 3, out var abs));
        Assert.Equal(new byte[] { 0x12, 0x34, 0x56 }, abs.ToArray());
        Assert.True(RtpHeaderExtensions.TryFind(p, h, 4, out var tcc));
        Assert.Equal(new byte[] { 0xBE, 0xEF }, tcc.ToArray());
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, h.GetPayload(p).ToArray());
        Assert.Equal(4, h.PaddingLength);
    }

    [Fact]
    public void Writer_without_extensions_writes_the_12_byte_header()
    {
        var buffer = new byte[20];
        var w = new RtpPacketWriter(buffer, 0, 1, 2, 3);
        Assert.True(w.TryFinish([0xAA], out var n));
        Assert.Equal(new byte[] { 0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xAA }, buffer.AsSpan(0, n).ToArray());
    }

    [Fact]
    public void Writer_fails_instead_of_overflowing_or_encoding_invalid_elements()
    {
        var small = new byte[16];
        var w = new RtpPacketWriter(small, 96, 1, 2, 3);
        Assert.False(w.AddExtension(15, "x"u8)); // id 15 reserved in the one-byte form
        Assert.False(w.TryFinish([], out _));

        var w2 = new RtpPacketWriter(small, 96, 1, 2, 3);
        Assert.False(w2.AddExtension(1, new byte[17]));
        var w3 = new RtpPacketWriter(small, 96, 1, 2, 3);
        Assert.True(w3.TryFinish(new byte[4], out var n));
        Assert.Equal(16, n);
        var w4 = new RtpPacketWriter(small, 96, 1, 2, 3);
        Assert.False(w4.TryFinish(new byte[5], out _));
    }
}
