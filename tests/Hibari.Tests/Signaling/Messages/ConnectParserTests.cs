using System.Text;
using System.Text.Json;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

public sealed class ConnectParserTests
{
    private static bool Parse(string json, out ConnectRequest request, out SignalingClose error) =>
        ConnectParser.TryParse(Encoding.UTF8.GetBytes(json), out request, out error);

    private static ConnectRequest Accept(string json)
    {
        Assert.True(Parse(json, out var request, out var error), $"refused with {error}");
        return request;
    }

    private static SignalingClose Refuse(string json)
    {
        Assert.False(Parse(json, out _, out var error));
        return error;
    }

    /// <summary>What sora-js-sdk 2026.1.0 sent (docs/protocol-notes.md, "What sora-js-sdk sends"; SDP shortened).</summary>
    private const string JsConnect =
        """{"audio":true,"channel_id":"sora-test","environment":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36","role":"sendrecv","sdp":"v=0\r\no=- 7344615889136722201 2 IN IP4 127.0.0.1\r\n","sora_client":"Sora JavaScript SDK 2026.1.0","type":"connect","video":true,"metadata":{"token":"abc"}}""";

    /// <summary>Shape of sora-cpp-sdk DoSendConnect: no sdp, libwebrtc present, video as an object.</summary>
    private const string CppConnect =
        """{"type":"connect","role":"sendonly","channel_id":"sora","sora_client":"Sora C++ SDK 2025.1.0","libwebrtc":"Shiguredo-build M132","environment":"[x86_64] Ubuntu 24.04","audio":true,"video":{"codec_type":"H264","bit_rate":2500},"data_channel_signaling":true,"ignore_disconnect_websocket":false}""";

    [Fact]
    public void Js_sdk_connect_from_real_clients_is_accepted_with_its_fields()
    {
        var r = Accept(JsConnect);
        Assert.Equal(Role.SendRecv, r.Role);
        Assert.Equal("sora-test", r.ChannelId);
        Assert.Equal("Sora JavaScript SDK 2026.1.0", r.SoraClient);
        Assert.StartsWith("Mozilla/5.0", r.Environment);
        Assert.StartsWith("v=0", r.Sdp);
        Assert.Equal("abc", r.Metadata!.Value.GetProperty("token").GetString());
        Assert.True(r.Audio.Enabled);
        Assert.True(r.Video.Enabled);
        Assert.False(r.Redirect);
        Assert.Null(r.ClientId);
        Assert.Null(r.DataChannelSignaling);
        Assert.Null(r.Libwebrtc);
    }

    [Fact]
    public void Cpp_sdk_connect_without_sdp_is_accepted()
    {
        var r = Accept(CppConnect);
        Assert.Null(r.Sdp);
        Assert.Equal(Role.SendOnly, r.Role);
        Assert.Equal("Shiguredo-build M132", r.Libwebrtc);
        Assert.Equal(new VideoRequest(true, "H264", 2500), r.Video);
        Assert.True(r.DataChannelSignaling);
        Assert.False(r.IgnoreDisconnectWebsocket);
    }

    [Fact]
    public void Minimal_connect_defaults_audio_and_video_to_enabled_and_metadata_to_absent()
    {
        var r = Accept("""{"type":"connect","role":"recvonly","channel_id":"c"}""");
        Assert.True(r.Audio.Enabled);
        Assert.True(r.Video.Enabled);
        Assert.Null(r.Metadata);
        Assert.Null(r.SignalingNotifyMetadata);
        Assert.False(r.Simulcast);
        Assert.False(r.Spotlight);
    }

    [Fact]
    public void Explicit_null_metadata_is_kept_as_a_json_null()
    {
        var r = Accept("""{"type":"connect","role":"sendrecv","channel_id":"c","metadata":null,"signaling_notify_metadata":{"n":1}}""");
        Assert.Equal(JsonValueKind.Null, r.Metadata!.Value.ValueKind);
        Assert.Equal(1, r.SignalingNotifyMetadata!.Value.GetProperty("n").GetInt32());
    }

    [Fact]
    public void Unknown_fields_are_ignored()
    {
        var r = Accept("""{"type":"connect","role":"sendrecv","channel_id":"c","future_field":{"x":[1,2]},"forwarding_filters":[],"e2ee":false,"audio_streaming_language_code":"ja-JP"}""");
        Assert.Equal("c", r.ChannelId);
    }

    [Fact]
    public void Redirect_true_is_reported()
    {
        Assert.True(Accept("""{"type":"connect","role":"sendrecv","channel_id":"c","redirect":true}""").Redirect);
    }

    [Fact]
    public void Multistream_true_or_absent_is_accepted_and_false_is_refused()
    {
        Accept("""{"type":"connect","role":"sendrecv","channel_id":"c","multistream":true}""");
        Assert.Equal(SignalingCloses.MultistreamRequired, Refuse("""{"type":"connect","role":"sendrecv","channel_id":"c","multistream":false}"""));
    }

    [Fact]
    public void Audio_and_video_objects_carry_codec_bit_rate_and_raw_params()
    {
        var r = Accept("""
            {"type":"connect","role":"sendrecv","channel_id":"c",
             "audio":{"codec_type":"OPUS","bit_rate":64,"opus_params":{"stereo":true}},
             "video":{"codec_type":"VP9","bit_rate":1500,"vp9_params":{"profile_id":0},"av1_params":{"profile":0},
                      "h264_params":{"profile_level_id":"42e01f"},"h265_params":{"level_id":93}}}
            """);
        Assert.Equal("OPUS", r.Audio.CodecType);
        Assert.Equal(64, r.Audio.BitRate);
        Assert.True(r.Audio.OpusParams!.Value.GetProperty("stereo").GetBoolean());
        Assert.Equal("VP9", r.Video.CodecType);
        Assert.Equal(1500, r.Video.BitRate);
        Assert.Equal(0, r.Video.Vp9Params!.Value.GetProperty("profile_id").GetInt32());
        Assert.Equal("42e01f", r.Video.H264Params!.Value.GetProperty("profile_level_id").GetString());
        Assert.NotNull(r.Video.Av1Params);
        Assert.NotNull(r.Video.H265Params);
    }

    [Theory]
    [InlineData("VP8")]
    [InlineData("VP9")]
    [InlineData("AV1")]
    [InlineData("H264")]
    [InlineData("H265")]
    public void Every_sora_video_codec_type_is_accepted(string codec)
    {
        Assert.Equal(codec, Accept($$$"""{"type":"connect","role":"sendrecv","channel_id":"c","video":{"codec_type":"{{{codec}}}"}}""").Video.CodecType);
    }

    [Fact]
    public void Audio_false_and_video_false_mean_disabled()
    {
        var r = Accept("""{"type":"connect","role":"sendonly","channel_id":"c","audio":false,"video":false,"data_channel_signaling":true,"data_channels":[{"label":"#chat","direction":"sendrecv"}]}""");
        Assert.False(r.Audio.Enabled);
        Assert.False(r.Video.Enabled);
        Assert.Equal(JsonValueKind.Array, r.DataChannels!.Value.ValueKind);
    }

    [Fact]
    public void Ids_of_255_bytes_are_accepted_and_256_refused_for_each_id()
    {
        var ok = new string('a', 255);
        var tooLong = new string('a', 256);
        Accept($$"""{"type":"connect","role":"sendrecv","channel_id":"{{ok}}","client_id":"{{ok}}","bundle_id":"{{ok}}"}""");
        Assert.Equal(SignalingCloses.InvalidChannelId, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"{{tooLong}}"}"""));
        Assert.Equal(SignalingCloses.InvalidClientId, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"c","client_id":"{{tooLong}}"}"""));
        Assert.Equal(SignalingCloses.InvalidBundleId, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"c","bundle_id":"{{tooLong}}"}"""));
    }

    [Fact]
    public void Id_limit_counts_utf8_bytes_not_characters()
    {
        var ok = new string('あ', 85);      // 85 × 3 = 255 bytes
        var tooLong = new string('あ', 86); // 258 bytes, only 86 characters
        Assert.Equal(ok, Accept($$"""{"type":"connect","role":"sendrecv","channel_id":"{{ok}}"}""").ChannelId);
        Assert.Equal(SignalingCloses.InvalidChannelId, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"{{tooLong}}"}"""));
        // escaped form counts the decoded bytes too
        var escaped = string.Concat(Enumerable.Repeat("\\u3042", 86));
        Assert.Equal(SignalingCloses.InvalidChannelId, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"{{escaped}}"}"""));
    }

    public static TheoryData<string, string> Refusals => new()
    {
        // shape
        { "", "INVALID-SIGNALING-MESSAGE" },
        { "not json", "INVALID-SIGNALING-MESSAGE" },
        { "[]", "INVALID-SIGNALING-MESSAGE" },
        { "\"connect\"", "INVALID-SIGNALING-MESSAGE" },
        { """{"role":"sendrecv","channel_id":"c"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"offer","role":"sendrecv","channel_id":"c"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":1,"role":"sendrecv","channel_id":"c"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c",}""", "INVALID-SIGNALING-MESSAGE" },
        // role
        { """{"type":"connect","channel_id":"c"}""", "INVALID-ROLE" },
        { """{"type":"connect","role":"upstream","channel_id":"c"}""", "INVALID-ROLE" },
        { """{"type":"connect","role":"SENDRECV","channel_id":"c"}""", "INVALID-ROLE" },
        { """{"type":"connect","role":null,"channel_id":"c"}""", "INVALID-ROLE" },
        // channel_id
        { """{"type":"connect","role":"sendrecv"}""", "INVALID-CHANNEL-ID" },
        { """{"type":"connect","role":"sendrecv","channel_id":""}""", "INVALID-CHANNEL-ID" },
        { """{"type":"connect","role":"sendrecv","channel_id":null}""", "INVALID-CHANNEL-ID" },
        { """{"type":"connect","role":"sendrecv","channel_id":42}""", "INVALID-CHANNEL-ID" },
        // A lone surrogate anywhere is refused before the fields are read (JsonInput, found by the fuzz test).
        { """{"type":"connect","role":"sendrecv","channel_id":"\ud800"}""", "INVALID-SIGNALING-MESSAGE" },
        // client_id / bundle_id
        { """{"type":"connect","role":"sendrecv","channel_id":"c","client_id":1}""", "INVALID-CLIENT-ID" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","bundle_id":["x"]}""", "INVALID-BUNDLE-ID" },
        // audio
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":"yes"}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"bit_rate":"64"}}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"bit_rate":5}}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"bit_rate":511}}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"opus_params":true}}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"codec_type":7}}""", "INVALID-AUDIO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","audio":{"codec_type":"LYRA"}}""", "UNSUPPORTED-CODEC-TYPE" },
        // video
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":1}""", "INVALID-VIDEO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"bit_rate":0}}""", "INVALID-VIDEO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"bit_rate":30001}}""", "INVALID-VIDEO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"bit_rate":1000.5}}""", "INVALID-VIDEO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"vp9_params":[]}}""", "INVALID-VIDEO" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"codec_type":"vp8"}}""", "UNSUPPORTED-CODEC-TYPE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","video":{"codec_type":"H266"}}""", "UNSUPPORTED-CODEC-TYPE" },
        // multistream and other known members of the wrong kind
        { """{"type":"connect","role":"sendrecv","channel_id":"c","multistream":false}""", "MULTISTREAM-REQUIRED" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","multistream":"true"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","simulcast":"yes"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","spotlight":1}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","data_channel_signaling":"true"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","ignore_disconnect_websocket":0}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","redirect":"true"}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","sdp":1}""", "INVALID-SIGNALING-MESSAGE" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","data_channels":{}}""", "INVALID-DATA-CHANNELS: data_channels must be an array" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","data_channels":[{"label":"chat","direction":"sendrecv"}]}""",
            "INVALID-DATA-CHANNELS: data_channels[0]: label chat must start with # (or be a system label)" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","data_channels":[{"label":"#a","direction":"sendrecv"},{"label":"#a","direction":"recvonly"}]}""",
            "INVALID-DATA-CHANNELS: data_channels[1]: label #a appears twice" },
        { """{"type":"connect","role":"sendrecv","channel_id":"c","sora_client":false}""", "INVALID-SIGNALING-MESSAGE" },
    };

    [Theory]
    [InlineData("""{"audio":{"opus_params":{"stereo":"1"}}}""", "INVALID-AUDIO: stereo must be a boolean")]
    [InlineData("""{"audio":{"opus_params":{"clock_rate":16000}}}""", "INVALID-AUDIO: opus_params: unknown key \"clock_rate\"")]
    [InlineData("""{"audio":{"bit_rate":511}}""", "INVALID-AUDIO: bit_rate must be an integer in 6..510")]
    [InlineData("""{"video":{"vp9_params":{"profile_id":4}}}""", "INVALID-VIDEO: profile_id must be an integer in 0..3")]
    [InlineData("""{"video":{"h264_params":{"profile_level_id":"4d00"}}}""", "INVALID-VIDEO: h264_params.profile_level_id must be six hex digits")]
    [InlineData("""{"video":{"h265_params":{"tx_mode":"XYZ"}}}""", "INVALID-VIDEO: h265_params.tx_mode must be")]
    public void Invalid_codec_params_are_refused_with_what_is_wrong(string media, string reason)
    {
        var json = """{"type":"connect","role":"sendrecv","channel_id":"c",""" + media[1..];
        Assert.StartsWith(reason, Refuse(json).Reason);
    }

    [Fact]
    public void Valid_codec_params_are_kept_typed()
    {
        Assert.True(ConnectParser.TryParse(System.Text.Encoding.UTF8.GetBytes("""
            {"type":"connect","role":"sendonly","channel_id":"c","audio":{"bit_rate":384,"opus_params":{"stereo":true,"ptime":40}},
             "video":{"codec_type":"H264","bit_rate":300,"h264_params":{"profile_level_id":"42E01F"},"vp9_params":{"profile_id":2}}}
            """), out var c, out var error), error.Reason);
        Assert.Equal(new Hibari.Sdp.OpusParams { Stereo = true, Ptime = 40 }, c!.Audio.Opus);
        Assert.Equal(384, c.Audio.BitRate);
        Assert.Equal(new Hibari.Sdp.VideoCodecParams { H264ProfileLevelId = "42e01f", Vp9ProfileId = 2 }, c.Video.Params);
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Invalid_connect_is_refused_with_its_close_reason(string json, string reason)
    {
        // A reason with a detail is checked whole; a bare one accepts any ": detail" (ConnectParamsRefusals checks those).
        var error = Refuse(json);
        Assert.True(error.Reason == reason || (!reason.Contains(':') && error.Reason.StartsWith(reason + ": ", StringComparison.Ordinal)),
            $"reason {error.Reason}, want {reason}");
        Assert.InRange(error.Code, 4000, 4999);
    }

    [Fact]
    public void Each_connect_refusal_has_its_own_close_code()
    {
        var closes = new[]
        {
            SignalingCloses.InvalidMessage, SignalingCloses.InvalidRole, SignalingCloses.InvalidChannelId,
            SignalingCloses.InvalidClientId, SignalingCloses.InvalidBundleId, SignalingCloses.InvalidAudio,
            SignalingCloses.InvalidVideo, SignalingCloses.UnsupportedCodecType, SignalingCloses.MultistreamRequired,
            SignalingCloses.MessageTooLarge, SignalingCloses.InvalidDataChannels,
        };
        Assert.Equal(closes.Length, closes.Select(c => c.Code).Distinct().Count());
    }

    [Fact]
    public void Every_close_reason_fits_a_websocket_close_frame_and_is_upper_kebab()
    {
        var all = typeof(SignalingCloses).GetFields().Select(f => (SignalingClose)f.GetValue(null)!).ToList();
        Assert.True(all.Count >= 20);
        Assert.Equal(all.Count, all.Select(c => c.Code).Distinct().Count());
        foreach (var c in all)
        {
            Assert.True(Encoding.UTF8.GetByteCount(c.Reason) <= 123, c.Reason);
            Assert.Matches("^[A-Z0-9]+(-[A-Z0-9]+)*$", c.Reason);
        }
    }

    [Fact]
    public void Message_over_256_KiB_is_refused_as_too_large()
    {
        var big = $$"""{"type":"connect","role":"sendrecv","channel_id":"c","sdp":"{{new string('x', 256 * 1024)}}"}""";
        Assert.Equal(SignalingCloses.MessageTooLarge, Refuse(big));
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_without_an_exception()
    {
        var deep = string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100));
        Assert.Equal(SignalingCloses.InvalidMessage, Refuse($$"""{"type":"connect","role":"sendrecv","channel_id":"c","metadata":{{deep}}}"""));
    }

    [Fact]
    public void Invalid_utf8_is_refused_without_an_exception()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"type":"connect","role":"sendrecv","channel_id":"XX"}""");
        bytes[^3] = 0xFF;
        bytes[^4] = 0xC3;
        Assert.False(ConnectParser.TryParse(bytes, out _, out var error));
        Assert.Equal(SignalingCloses.InvalidMessage, error);
    }

    [Theory]
    [InlineData("""{"\ud800type":"connect","role":"sendrecv","channel_id":"c"}""")] // the fuzz test's find at 1,000,000 inputs
    [InlineData("""{"type":"connect","role":"sendrecv","channel_id":"c","metadata":{"\udc00":1}}""")]
    [InlineData("""{"type":"connect","role":"sendrecv","channel_id":"c\ud83d"}""")]
    public void A_lone_surrogate_escaped_in_a_name_or_string_is_refused_without_an_exception(string json)
    {
        Assert.False(ConnectParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Equal(SignalingCloses.InvalidMessage, error);
        Assert.False(JsonInput.StringsDecode(Encoding.UTF8.GetBytes(json)));
        // A well-formed pair of surrogates is fine.
        Assert.True(JsonInput.StringsDecode("""{"a\ud83d\ude00":"\ud83d\ude00"}"""u8));
    }
}
