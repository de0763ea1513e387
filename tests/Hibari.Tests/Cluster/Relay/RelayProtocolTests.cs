using Hibari.Cluster.Relay;

namespace Hibari.Tests.Cluster.Relay;

public sealed class RelayProtocolTests
{
    private static RelayHello Hello(byte min, byte max, RelayCapabilities caps = RelayCapabilities.Media) => new(min, max, caps, "n");

    [Fact]
    public void The_same_range_negotiates_its_highest_version()
    {
        Assert.Equal((byte)1, RelayProtocol.Negotiate(Hello(1, 1), Hello(1, 1)));
        Assert.Equal((byte)3, RelayProtocol.Negotiate(Hello(1, 3), Hello(1, 3)));
    }

    [Fact]
    public void Overlapping_ranges_negotiate_the_highest_common_version_whichever_side_asks()
    {
        Assert.Equal((byte)3, RelayProtocol.Negotiate(Hello(1, 3), Hello(2, 5)));
        Assert.Equal((byte)3, RelayProtocol.Negotiate(Hello(2, 5), Hello(1, 3)));
        Assert.Equal((byte)2, RelayProtocol.Negotiate(Hello(2, 2), Hello(1, 4)));
        Assert.Equal((byte)4, RelayProtocol.Negotiate(Hello(4, 9), Hello(1, 4)));
    }

    [Fact]
    public void Disjoint_or_empty_ranges_negotiate_nothing()
    {
        Assert.Null(RelayProtocol.Negotiate(Hello(1, 1), Hello(2, 2)));
        Assert.Null(RelayProtocol.Negotiate(Hello(3, 4), Hello(1, 2)));
        Assert.Null(RelayProtocol.Negotiate(Hello(2, 1), Hello(1, 2))); // an empty range
        Assert.Null(RelayProtocol.Negotiate(Hello(0, 0), Hello(0, 1)));
    }

    [Fact]
    public void A_version_2_node_and_a_version_1_node_speak_version_1()
    {
        var v1 = RelayProtocol.LocalHello("old@10.0.0.1", RelayCapabilities.Media | RelayCapabilities.Messages);
        // The newer node's Hello, as it arrives on the wire: still readable by this (version 1) build.
        var v2 = new RelayHello(1, 2, RelayCapabilities.Media | RelayCapabilities.Signaling | (RelayCapabilities)(1UL << 8), "new@10.0.0.2");
        Assert.True(RelayFrames.TryDecode(RelayFrames.Encode(v2), out var decoded, out var error), error);
        var remote = Assert.IsType<RelayHello>(decoded);
        Assert.Equal((byte)1, RelayProtocol.Negotiate(v1, remote));
        Assert.Equal((byte)1, RelayProtocol.Negotiate(remote, v1));
        // Unknown capability bits survive decoding and are ignored by the link.
        Assert.Equal(1UL << 8, (ulong)remote.Capabilities & (1UL << 8));
        Assert.Equal(RelayCapabilities.Media, RelayProtocol.Shared(v1, remote));
    }

    [Fact]
    public void A_future_node_that_dropped_version_1_is_still_understood_and_refused()
    {
        var future = new RelayHello(2, 4, (RelayCapabilities)ulong.MaxValue, "future");
        var bytes = RelayFrames.Encode(future);
        Assert.True(RelayFrames.TryPeek(bytes, out var version, out var type));
        Assert.Equal(RelayProtocol.HelloVersion, version);
        Assert.Equal(RelayFrameType.Hello, type);
        Assert.True(RelayFrames.TryDecode(bytes, out var decoded, out _));
        Assert.Null(RelayProtocol.Negotiate(RelayProtocol.LocalHello("me", RelayCapabilities.Media), (RelayHello)decoded!));
        Assert.Equal(RelayProtocol.KnownCapabilities, RelayProtocol.Shared(future, future));
    }

    [Fact]
    public void The_local_hello_carries_this_builds_range_and_the_current_time()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        var hello = RelayProtocol.LocalHello("node-1", RelayCapabilities.Messages);
        var after = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1) * 1000;
        Assert.Equal(RelayProtocol.MinVersion, hello.MinVersion);
        Assert.Equal(RelayProtocol.MaxVersion, hello.MaxVersion);
        Assert.Equal(RelayCapabilities.Messages, hello.Capabilities);
        Assert.Equal("node-1", hello.NodeName);
        Assert.InRange(hello.SentAtMicros, before, after);
        Assert.Equal((byte)RelayProtocol.MaxVersion, RelayProtocol.Negotiate(hello, hello));
    }

    [Fact]
    public void This_build_speaks_exactly_its_range_and_the_frame_limit_holds_a_full_message()
    {
        Assert.False(RelayProtocol.Speaks(0));
        Assert.True(RelayProtocol.Speaks(RelayProtocol.MinVersion));
        Assert.True(RelayProtocol.Speaks(RelayProtocol.MaxVersion));
        Assert.False(RelayProtocol.Speaks(RelayProtocol.MaxVersion + 1));
        Assert.Equal(300 * 1024, RelayProtocol.MaxFrameBytes);
        var largest = new RelayMessage(RelaySamples.Session, RelaySamples.Conn, RelaySamples.Utf8Of(255), RelaySamples.Utf8Of(255), true,
            new byte[RelayFrames.MaxMessagePayloadBytes]);
        Assert.Equal(262_703, RelayFrames.Encode(largest).Length); // docs/relay-frames.md
        Assert.True(RelayFrames.Encode(largest).Length <= RelayProtocol.MaxFrameBytes);
    }
}
