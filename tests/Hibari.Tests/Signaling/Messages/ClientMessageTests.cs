using System.Text;
using System.Text.Json;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

public sealed class ClientMessageTests
{
    private static ClientMessage Accept(string json)
    {
        Assert.True(ClientMessage.TryParse(Encoding.UTF8.GetBytes(json), out var m, out var error), $"refused with {error}");
        return m;
    }

    private static SignalingClose Refuse(string json)
    {
        Assert.False(ClientMessage.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        return error;
    }

    [Fact]
    public void Answer_carries_its_sdp()
    {
        Assert.Equal(new ClientMessage.Answer("v=0\r\n"), Accept("""{"sdp":"v=0\r\n","type":"answer"}"""));
    }

    [Fact]
    public void Re_answer_carries_its_sdp_and_legacy_update_is_a_re_answer()
    {
        Assert.Equal(new ClientMessage.ReAnswer("v=0", false), Accept("""{"type":"re-answer","sdp":"v=0"}"""));
        Assert.Equal(new ClientMessage.ReAnswer("v=0", true), Accept("""{"type":"update","sdp":"v=0"}"""));
    }

    [Theory]
    [InlineData("""{"type":"answer"}""")]
    [InlineData("""{"type":"answer","sdp":""}""")]
    [InlineData("""{"type":"answer","sdp":null}""")]
    [InlineData("""{"type":"re-answer","sdp":5}""")]
    [InlineData("""{"type":"update"}""")]
    public void Answer_without_an_sdp_is_an_invalid_answer(string json)
    {
        Assert.Equal(SignalingCloses.InvalidAnswer, Refuse(json));
    }

    [Fact]
    public void Native_sdk_candidate_is_a_bare_candidate_line()
    {
        var c = Assert.IsType<ClientMessage.Candidate>(Accept("""{"type":"candidate","candidate":"candidate:1 1 udp 2122194687 192.0.2.2 35540 typ host"}"""));
        Assert.Equal("candidate:1 1 udp 2122194687 192.0.2.2 35540 typ host", c.Line);
        Assert.Null(c.SdpMid);
        Assert.Null(c.SdpMLineIndex);
        Assert.Null(c.UsernameFragment);
    }

    [Fact]
    public void Js_sdk_candidate_carries_mid_index_and_ufrag()
    {
        // the candidate sora-js-sdk trickles: docs/protocol-notes.md, "What an SFU must answer"
        var c = Assert.IsType<ClientMessage.Candidate>(Accept("""{"candidate":"candidate:3172596439 1 udp 2122194687 192.0.2.2 35540 typ host generation 0 ufrag ppvc network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"ppvc","type":"candidate"}"""));
        Assert.StartsWith("candidate:3172596439", c.Line);
        Assert.Equal("0", c.SdpMid);
        Assert.Equal(0, c.SdpMLineIndex);
        Assert.Equal("ppvc", c.UsernameFragment);
    }

    [Fact]
    public void Candidate_with_an_a_equals_prefix_is_normalised_and_empty_means_end_of_candidates()
    {
        Assert.Equal("candidate:1 1 udp 1 10.0.0.1 9 typ host", Assert.IsType<ClientMessage.Candidate>(Accept("""{"type":"candidate","candidate":"a=candidate:1 1 udp 1 10.0.0.1 9 typ host"}""")).Line);
        Assert.Equal("", Assert.IsType<ClientMessage.Candidate>(Accept("""{"type":"candidate","candidate":"","sdpMid":null,"sdpMLineIndex":null}""")).Line);
    }

    [Fact]
    public void Candidate_without_a_candidate_string_is_invalid()
    {
        Assert.Equal(SignalingCloses.InvalidMessage, Refuse("""{"type":"candidate"}"""));
        Assert.Equal(SignalingCloses.InvalidMessage, Refuse("""{"type":"candidate","candidate":{"candidate":"x"}}"""));
    }

    [Fact]
    public void Pong_with_and_without_stats()
    {
        Assert.Equal(new ClientMessage.Pong(), Accept("""{"type":"pong"}"""));
        var p = Assert.IsType<ClientMessage.Pong>(Accept("""{"type":"pong","stats":[{"type":"inbound-rtp","id":"x"}]}"""));
        Assert.Equal(JsonValueKind.Array, p.Stats!.Value.ValueKind);
    }

    [Fact]
    public void Stats_on_the_stats_channel_carries_reports()
    {
        var s = Assert.IsType<ClientMessage.StatsReport>(Accept("""{"type":"stats","reports":[]}"""));
        Assert.Equal(JsonValueKind.Array, s.Reports!.Value.ValueKind);
    }

    [Fact]
    public void Disconnect_with_and_without_reason()
    {
        Assert.Equal(new ClientMessage.Disconnect("NO-ERROR"), Accept("""{"reason":"NO-ERROR","type":"disconnect"}"""));
        Assert.Equal(new ClientMessage.Disconnect(), Accept("""{"type":"disconnect"}"""));
        Assert.Equal(new ClientMessage.Disconnect(), Accept("""{"type":"disconnect","reason":42}"""));
    }

    [Theory]
    [InlineData("req-stats")]
    [InlineData("offer")]
    [InlineData("notify")]
    [InlineData("connect")]
    [InlineData("something-new")]
    public void Unknown_or_server_side_types_are_ignored(string type)
    {
        Assert.Equal(new ClientMessage.Ignored(type), Accept($$"""{"type":"{{type}}","sdp":1}"""));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"type":null}""")]
    public void Not_an_object_with_a_string_type_is_invalid(string json)
    {
        Assert.Equal(SignalingCloses.InvalidMessage, Refuse(json));
    }
}
