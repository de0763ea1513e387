using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class RtxPacketTests
{
    [Fact]
    public void Wrap_prepends_the_original_sequence_number_under_the_rtx_ssrc_seq_and_pt_RFC_4588_4()
    {
        var original = RtpHeaderTests.Sample;
        Assert.True(RtpHeader.TryParse(original, out var h));
        var rtx = new byte[100];
        Assert.True(RtxPacket.TryWrap(original, h, rtx, 0x55667788, 999, 97, out var n));
        Assert.Equal(original.Length + 2, n);
        Assert.True(RtpHeader.TryParse(rtx.AsSpan(0, n), out var r));
        Assert.Equal((0x55667788u, (ushort)999, (byte)97), (r.Ssrc, r.SequenceNumber, r.PayloadType));
        Assert.Equal(h.Timestamp, r.Timestamp);
        Assert.True(r.Marker);
        Assert.Equal(new byte[] { 0x12, 0x34, 1, 2, 3 }, r.GetPayload(rtx.AsSpan(0, n)).ToArray());
        Assert.True(RtpHeaderExtensions.TryFind(rtx.AsSpan(0, n), r, 1, out var mid));
        Assert.Equal("A"u8.ToArray(), mid.ToArray());
    }

    [Fact]
    public void Unwrap_restores_the_original_packet_exactly()
    {
        var original = RtpHeaderTests.Sample;
        Assert.True(RtpHeader.TryParse(original, out var h));
        var rtx = new byte[100];
        Assert.True(RtxPacket.TryWrap(original, h, rtx, 0x55667788, 999, 97, out var n));
        Assert.True(RtpHeader.TryParse(rtx.AsSpan(0, n), out var r));
        var restored = new byte[100];
        Assert.True(RtxPacket.TryUnwrap(rtx.AsSpan(0, n), r, restored, h.Ssrc, h.PayloadType, out var m));
        Assert.Equal(original, restored.AsSpan(0, m).ToArray());
    }

    [Fact]
    public void Wrap_and_unwrap_work_in_place_and_drop_padding()
    {
        var buffer = new byte[64];
        var w = new RtpPacketWriter(buffer, 96, 10, 20, 30);
        Assert.True(w.TryFinish([9, 8, 7], out var n, paddingLength: 5));
        Assert.True(RtpHeader.TryParse(buffer.AsSpan(0, n), out var h));
        Assert.True(RtxPacket.TryWrap(buffer.AsSpan(0, n), h, buffer, 40, 50, 97, out var wrapped));
        Assert.Equal(12 + 2 + 3, wrapped);
        Assert.True(RtpHeader.TryParse(buffer.AsSpan(0, wrapped), out var r));
        Assert.False(r.Padding);
        Assert.True(RtxPacket.TryUnwrap(buffer.AsSpan(0, wrapped), r, buffer, 30, 96, out var unwrapped));
        Assert.Equal(new byte[] { 0x80, 96, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 9, 8, 7 }, buffer.AsSpan(0, unwrapped).ToArray());
    }

    [Fact]
    public void Unwrap_rejects_a_payload_without_room_for_the_osn_and_wrap_a_small_destination()
    {
        byte[] p = [0x80, 97, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x12];
        Assert.True(RtpHeader.TryParse(p, out var h));
        Assert.False(RtxPacket.TryUnwrap(p, h, new byte[64], 1, 96, out _));
        Assert.False(RtxPacket.TryWrap(p, h, new byte[14], 1, 1, 97, out _));
    }
}
