using Hibari.Rtc.DataChannels;

namespace Hibari.Tests.Rtc.DataChannels;

public sealed class DcepCodecTests
{
    [Fact]
    public void Open_is_written_in_the_rfc_8832_layout()
    {
        var bytes = Dcep.WriteOpen(new DcepOpen(0x81, 256, 0, "chat", "json"));
        byte[] expected =
        [
            0x03,                   // message type DATA_CHANNEL_OPEN
            0x81,                   // channel type PARTIAL_RELIABLE_REXMIT_UNORDERED
            0x01, 0x00,             // priority 256
            0x00, 0x00, 0x00, 0x00, // reliability parameter
            0x00, 0x04,             // label length
            0x00, 0x04,             // protocol length
            (byte)'c', (byte)'h', (byte)'a', (byte)'t',
            (byte)'j', (byte)'s', (byte)'o', (byte)'n',
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Open_with_a_timed_channel_and_utf8_label_is_byte_exact()
    {
        var bytes = Dcep.WriteOpen(new DcepOpen(Dcep.PartialReliableTimed, 0x0200, 0x01020304, "é", ""));
        Assert.Equal(new byte[] { 0x03, 0x02, 0x02, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x02, 0x00, 0x00, 0xC3, 0xA9 }, bytes);
    }

    [Fact]
    public void Ack_is_one_byte_0x02()
    {
        Assert.Equal(new byte[] { 0x02 }, Dcep.WriteAck());
        Assert.True(Dcep.TryParse(Dcep.WriteAck(), out var open, out var isAck, out var error));
        Assert.True(isAck);
        Assert.Null(open);
        Assert.Null(error);
    }

    public static TheoryData<byte, uint> ChannelTypes => new()
    {
        { 0x00, 0 }, { 0x80, 0 }, { 0x01, 0 }, { 0x01, 7 }, { 0x81, 0 }, { 0x81, uint.MaxValue }, { 0x02, 1500 }, { 0x82, 3 },
    };

    [Theory]
    [MemberData(nameof(ChannelTypes))]
    public void Open_round_trips_every_channel_type(byte type, uint reliability)
    {
        var open = new DcepOpen(type, 512, reliability, "label 🐟", "proto/1");
        Assert.True(Dcep.TryParse(Dcep.WriteOpen(open), out var parsed, out var isAck, out var error), error);
        Assert.False(isAck);
        Assert.Equal(open, parsed);
    }

    public static TheoryData<DataChannelOptions, byte, uint> OptionMappings => new()
    {
        { new DataChannelOptions(), 0x00, 0 },
        { new DataChannelOptions { Ordered = false }, 0x80, 0 },
        { new DataChannelOptions { MaxRetransmits = 5 }, 0x01, 5 },
        { new DataChannelOptions { Ordered = false, MaxRetransmits = 0 }, 0x81, 0 },
        { new DataChannelOptions { MaxPacketLifeTimeMs = 250 }, 0x02, 250 },
        { new DataChannelOptions { Ordered = false, MaxPacketLifeTimeMs = 1000, Protocol = "p", Priority = 128 }, 0x82, 1000 },
    };

    [Theory]
    [MemberData(nameof(OptionMappings))]
    public void Options_map_to_channel_types_and_back(DataChannelOptions options, byte type, uint reliability)
    {
        var open = Dcep.OpenFor("x", options);
        Assert.Equal(type, open.ChannelType);
        Assert.Equal(reliability, open.ReliabilityParameter);
        Assert.Equal(options.Priority, open.Priority);
        Assert.Equal(options.Protocol, open.Protocol);
        Assert.Equal(options, Dcep.OptionsFor(open));
    }

    [Fact]
    public void Reliability_parameter_of_a_reliable_channel_is_ignored_and_large_ones_are_clamped()
    {
        Assert.Equal(new DataChannelOptions(), Dcep.OptionsFor(new DcepOpen(0x00, 256, 99, "", "")));
        Assert.Equal(int.MaxValue, Dcep.OptionsFor(new DcepOpen(0x01, 256, uint.MaxValue, "", "")).MaxRetransmits);
    }

    [Fact]
    public void Both_reliability_limits_or_negative_ones_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Dcep.OpenFor("x", new DataChannelOptions { MaxRetransmits = 1, MaxPacketLifeTimeMs = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dcep.OpenFor("x", new DataChannelOptions { MaxRetransmits = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dcep.OpenFor("x", new DataChannelOptions { MaxPacketLifeTimeMs = -1 }));
    }

    [Fact]
    public void Label_over_65535_bytes_cannot_be_written()
    {
        Assert.Throws<ArgumentException>(() => Dcep.WriteOpen(new DcepOpen(0, 0, 0, new string('a', 65_536), "")));
        var max = Dcep.WriteOpen(new DcepOpen(0, 0, 0, new string('a', 65_535), ""));
        Assert.Equal(12 + 65_535, max.Length);
    }

    public static TheoryData<byte[], string> BadInputs => new()
    {
        { [], "empty" },
        { [0x02, 0x00], "ACK of 2 bytes" },
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00], "truncated" },                 // 11 bytes
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x05, 0x00, 0x00, (byte)'a', (byte)'b'], "exceed" }, // label says 5, has 2
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0xFF, 0xFF, 0x00, 0x00], "exceed" },             // label length 65535, no label
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x02, (byte)'a', (byte)'b'], "exceed" }, // protocol short by one
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x00, (byte)'a', (byte)'b'], "after the protocol" },
        { [0x03, 0x03, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00], "channel type 0x03" },
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x00, 0xFF], "label is not valid UTF-8" },
        { [0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x01, 0xC3], "protocol is not valid UTF-8" },
        { [0x04], "message type 0x04" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Malformed_messages_are_refused_with_an_error(byte[] input, string errorPart)
    {
        Assert.False(Dcep.TryParse(input, out var open, out var isAck, out var error));
        Assert.Null(open);
        Assert.False(isAck);
        Assert.NotNull(error);
        Assert.Contains(errorPart, error);
    }

    [Fact]
    public void Every_truncation_of_a_valid_open_is_refused()
    {
        var bytes = Dcep.WriteOpen(new DcepOpen(0x82, 256, 100, "label", "protocol"));
        for (var n = 0; n < bytes.Length; n++)
            Assert.False(Dcep.TryParse(bytes.AsSpan(0, n), out _, out _, out _), $"prefix of {n} bytes");
        Assert.True(Dcep.TryParse(bytes, out _, out _, out _));
    }
}
