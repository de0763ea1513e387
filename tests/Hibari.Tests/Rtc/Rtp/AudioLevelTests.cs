using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

public sealed class AudioLevelTests
{
    [Theory]
    [InlineData(0x9E, 30, true)]
    [InlineData(0x1E, 30, false)]
    [InlineData(0x7F, 127, false)]
    [InlineData(0xFF, 127, true)]
    [InlineData(0x80, 0, true)]
    [InlineData(0x00, 0, false)]
    public void Reads_the_V_bit_and_the_7_bit_level(byte value, int level, bool voice)
    {
        Assert.True(AudioLevel.TryRead([value], out var l, out var v));
        Assert.Equal(level, l);
        Assert.Equal(voice, v);
    }

    [Fact]
    public void Empty_value_is_rejected_as_silence()
    {
        Assert.False(AudioLevel.TryRead([], out var l, out var v));
        Assert.Equal(AudioLevel.Silence, l);
        Assert.False(v);
    }

    [Fact]
    public void Longer_value_is_read_from_its_first_byte() =>
        Assert.True(AudioLevel.TryRead([0x85, 0, 0], out var l, out var v) && l == 5 && v);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_the_value_TryFind_returns_from_a_packet(bool twoByte)
    {
        var buffer = new byte[200];
        var w = new RtpPacketWriter(buffer, 111, 1, 2, 3, twoByteExtensions: twoByte);
        w.AddString(2, "0");
        w.AddExtension(1, [0xAA]);
        Assert.True(w.TryFinish(new byte[20], out var n));
        var packet = buffer.AsSpan(0, n);
        Assert.True(RtpHeader.TryParse(packet, out var header));
        Assert.True(RtpHeaderExtensions.TryFind(packet, header, 1, out var value));
        Assert.True(AudioLevel.TryRead(value, out var level, out var voice));
        Assert.Equal(0x2A, level);
        Assert.True(voice);
    }
}
