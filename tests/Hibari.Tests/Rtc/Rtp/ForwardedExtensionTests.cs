using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>
/// The forwarded packet's rebuilt extension block (D-38): the publisher's MID/RID dropped, the rest kept, the
/// receiver's transport-wide sequence number added; RTX copies get a fresh number in place; duplicates are filtered.
/// </summary>
public sealed class ForwardedExtensionTests
{
    private static readonly byte[] Map = [0, 0, 0, 0, 4, 5, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    private static byte[] Packet(bool twoByte, bool extensions, int padding = 0)
    {
        var buffer = new byte[1500];
        var w = new RtpPacketWriter(buffer, 96, 1000, 90000, 0x11223344, marker: true, twoByteExtensions: twoByte);
        if (extensions)
        {
            Assert.True(w.AddString(1, "0"));
            Assert.True(w.AddString(2, "r2"));
            Assert.True(w.AddExtension(4, [1, 2, 3]));
            Assert.True(w.AddExtension(6, [9, 9])); // a publisher's own transport-wide number: replaced
        }
        Assert.True(w.TryFinish([0xAA, 0xBB, 0xCC, 0xDD, 0xEE], out var length, padding));
        return buffer[..length];
    }

    [Theory]
    [InlineData(false, true, 0)]
    [InlineData(true, true, 0)]
    [InlineData(false, false, 0)]
    [InlineData(false, true, 4)]
    public void Mid_and_rid_go_the_rest_stays_and_the_transport_number_is_added(bool twoByte, bool extensions, int padding)
    {
        var input = Packet(twoByte, extensions, padding);
        Assert.True(RtpHeader.TryParse(input, out var h));
        var output = new byte[1600];
        var length = RtpHeaderExtensions.CopyForwarded(input, h, Map, 6, 0xBEEF, output, out var headerLength);
        Assert.True(length > 0);
        Assert.True(RtpHeader.TryParse(output.AsSpan(0, length), out var o));
        Assert.Equal(headerLength, o.HeaderLength);
        Assert.Equal(h.GetPayload(input).ToArray(), o.GetPayload(output.AsSpan(0, length)).ToArray());
        Assert.Equal(h.PaddingLength, o.PaddingLength);
        Assert.Equal((h.SequenceNumber, h.Timestamp, h.Ssrc, h.Marker), (o.SequenceNumber, o.Timestamp, o.Ssrc, o.Marker));
        var packet = output.AsSpan(0, length);
        Assert.False(RtpHeaderExtensions.TryFind(packet, o, 1, out _));
        Assert.False(RtpHeaderExtensions.TryFind(packet, o, 2, out _));
        Assert.True(RtpHeaderExtensions.TryFind(packet, o, 6, out var tcc));
        Assert.Equal([0xBE, 0xEF], tcc.ToArray());
        if (extensions)
        {
            Assert.True(RtpHeaderExtensions.TryFind(packet, o, 4, out var abs));
            Assert.Equal([1, 2, 3], abs.ToArray());
        }
        // RTX and probes carry a new number: written in place.
        Assert.True(RtpHeaderExtensions.TrySetUInt16(output.AsSpan(0, length), o, 6, 7));
        Assert.True(RtpHeaderExtensions.TryFind(output.AsSpan(0, length), o, 6, out var again));
        Assert.Equal([0, 7], again.ToArray());
    }

    [Fact]
    public void Without_a_number_and_without_elements_left_the_packet_has_no_extension()
    {
        var buffer = new byte[100];
        var w = new RtpPacketWriter(buffer, 96, 1, 2, 3);
        Assert.True(w.AddString(1, "0"));
        Assert.True(w.TryFinish([1, 2, 3], out var n));
        Assert.True(RtpHeader.TryParse(buffer.AsSpan(0, n), out var h));
        var output = new byte[100];
        var length = RtpHeaderExtensions.CopyForwarded(buffer.AsSpan(0, n), h, Map, 0, 0, output, out var headerLength);
        Assert.Equal(RtpHeader.FixedLength + 3, length);
        Assert.Equal(RtpHeader.FixedLength, headerLength);
        Assert.True(RtpHeader.TryParse(output.AsSpan(0, length), out var o));
        Assert.False(o.HasExtension);
    }

    [Fact]
    public void A_destination_too_small_is_refused()
    {
        var input = Packet(false, true);
        Assert.True(RtpHeader.TryParse(input, out var h));
        Assert.Equal(0, RtpHeaderExtensions.CopyForwarded(input, h, Map, 6, 1, new byte[input.Length], out _));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Random_packets_never_throw_and_what_comes_out_parses()
    {
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var it) && it > 0 ? it : 5000;
        var random = new Random(38);
        var output = new byte[1600];
        for (var i = 0; i < iterations; i++)
        {
            var input = Packet(random.Next(2) == 0, true);
            for (var k = random.Next(1, 4); k > 0; k--) input[random.Next(12, Math.Min(input.Length, 40))] = (byte)random.Next(256);
            if (!RtpHeader.TryParse(input, out var h)) continue;
            var length = RtpHeaderExtensions.CopyForwarded(input, h, Map, 6, (ushort)i, output, out _);
            if (length > 0) Assert.True(RtpHeader.TryParse(output.AsSpan(0, length), out _));
        }
    }

    [Fact]
    public void Duplicates_within_the_window_are_found_across_the_wrap()
    {
        var f = new Hibari.Sfu.DuplicateFilter();
        for (var s = 65000; s < 65536 + 500; s++) Assert.False(f.IsDuplicate((ushort)s));
        Assert.True(f.IsDuplicate(65500));
        Assert.True(f.IsDuplicate(10));
        Assert.False(f.IsDuplicate(600));
        Assert.True(f.IsDuplicate(600));
    }
}
