using System.Text.Json;
using Hibari.Rtc.Rtp;
using Hibari.Sdp;
using Hibari.Sfu;

namespace Hibari.Tests.Sdp;

/// <summary>Codec parameters as the offer applies them (issue 17, docs/decisions.md D-34).</summary>
public sealed class CodecParamsTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static OpusParams Opus(string json)
    {
        Assert.True(OpusParams.TryParse(Json(json), out var p, out var error), error);
        return p;
    }

    private static ClientCapabilities Chrome()
    {
        var r = ClientOfferReader.Read(SdpFixtures.ChromeVideoAndDataOffer);
        Assert.True(r.IsOk, r.Error);
        return r.Value!;
    }

    // --- opus_params → Opus fmtp of the publisher's offer ---

    public static TheoryData<string, int?, string> OpusFmtps => new()
    {
        // No parameters: the default (stereo allowed, so a stereo source is sent in stereo), no DTX (Sora's test_signaling).
        { "{}", null, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1" },
        // sora-python-sdk test_opus.py: 16 kHz mono.
        { """{"maxplaybackrate":16000,"stereo":false,"sprop_stereo":false}""", null,
            "minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0;maxplaybackrate=16000" },
        { """{"usedtx":true}""", null, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;usedtx=1" },
        { """{"usedtx":false,"useinbandfec":false,"minptime":20}""", null, "minptime=20;useinbandfec=0;stereo=1;sprop-stereo=1;usedtx=0" },
        { """{"channels":1}""", null, "minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0" },
        { """{"channels":1,"stereo":true}""", null, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=0" },
        // audio.bit_rate (kbps) → maxaveragebitrate (bit/s): the encoder's target (sora-js-sdk sendonly_audio e2e).
        { "{}", 32, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;maxaveragebitrate=32000" },
        { "{}", 384, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;maxaveragebitrate=384000" },
        { """{"stereo":true,"maxplaybackrate":48000}""", 128, "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1;maxplaybackrate=48000;maxaveragebitrate=128000" },
    };

    [Theory]
    [MemberData(nameof(OpusFmtps))]
    public void Opus_params_and_the_audio_bit_rate_become_the_offers_opus_fmtp(string json, int? bitRate, string fmtp)
    {
        Assert.Equal(fmtp, CodecParamsFmtp.Opus(Opus(json), bitRate));
        var selected = CodecCatalog.SelectAudio("OPUS", Opus(json), bitRate);
        Assert.True(selected.IsOk, selected.Error);
        Assert.Equal((111, "opus", fmtp), (selected.Value!.PayloadType, selected.Value.Name, selected.Value.Parameters));
    }

    [Theory]
    [InlineData("""{"stereo":1}""", "stereo must be a boolean")]
    [InlineData("""{"channels":3}""", "channels must be an integer in 1..2")]
    [InlineData("""{"maxplaybackrate":4000}""", "maxplaybackrate must be an integer in 8000..48000")]
    [InlineData("""{"ptime":0}""", "ptime must be an integer in 3..120")]
    [InlineData("""{"minptime":2.5}""", "minptime must be an integer in 3..120")]
    [InlineData("""{"clock_rate":48000}""", "opus_params: unknown key \"clock_rate\"")]
    [InlineData("""[]""", "opus_params must be an object")]
    public void Invalid_opus_params_are_refused_whole_with_the_reason(string json, string reason)
    {
        Assert.False(OpusParams.TryParse(Json(json), out _, out var error));
        Assert.StartsWith(reason, error);
    }

    // --- video *_params → codec entry (profile) and fmtp (level, tier) ---

    [Fact]
    public void Vp9_profile_id_selects_the_entry_of_that_profile_or_refuses_what_the_client_cannot_do()
    {
        var p2 = CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 2 }, Chrome());
        Assert.Equal((100, "profile-id=2"), (p2.Value!.PayloadType, p2.Value.Parameters));
        var p0 = CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 0 }, Chrome());
        Assert.Equal(98, p0.Value!.PayloadType);
        // This Chrome offer lists VP9 profiles 0 and 2 only.
        var p1 = CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 1 }, Chrome());
        Assert.Equal("the client does not support VP9 profile-id=1", p1.Error);
        Assert.Equal(106, CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 1 }).Value!.PayloadType);
    }

    [Fact]
    public void Av1_profile_picks_the_entry_and_level_idx_and_tier_go_into_the_fmtp()
    {
        var c = CodecCatalog.SelectVideo("AV1", new VideoCodecParams { Av1Profile = 0, Av1LevelIdx = 8, Av1Tier = 1 }, Chrome());
        Assert.True(c.IsOk, c.Error);
        Assert.Equal((45, "level-idx=8;profile=0;tier=1"), (c.Value!.PayloadType, c.Value.Parameters));
        Assert.Equal("the client does not support AV1 profile=2",
            CodecCatalog.SelectVideo("AV1", new VideoCodecParams { Av1Profile = 2 }, Chrome()).Error);
    }

    [Theory]
    [InlineData("42e01f", 102)]
    [InlineData("42e034", 102)] // constrained baseline, level 5.2: the same entry, the level in the fmtp
    [InlineData("4d0032", 104)]
    [InlineData("42001f", 112)]
    public void H264_profile_level_id_picks_the_entry_of_its_profile_and_keeps_the_level(string pli, int pt)
    {
        var c = CodecCatalog.SelectVideo("H264", new VideoCodecParams { H264ProfileLevelId = pli }, Chrome());
        Assert.True(c.IsOk, c.Error);
        Assert.Equal(pt, c.Value!.PayloadType);
        Assert.Equal(pli, c.Value.ParameterMap["profile-level-id"]);
        Assert.Equal("1", c.Value.ParameterMap["packetization-mode"]);
    }

    [Fact]
    public void H264_high_is_refused_for_a_client_that_cannot_encode_it_and_the_default_profile_applies_without_params()
    {
        Assert.Equal("the client does not support H264 profile-level-id=640c1f",
            CodecCatalog.SelectVideo("H264", new VideoCodecParams { H264ProfileLevelId = "640c1f" }, Chrome()).Error);
        Assert.Equal(102, CodecCatalog.SelectVideo("H264", null, Chrome()).Value!.PayloadType);
        var main = CodecCatalog.SelectVideo("H264", null, Chrome(), defaultH264ProfileLevelId: "4d001f");
        Assert.Equal(104, main.Value!.PayloadType);
    }

    [Fact]
    public void H265_is_offered_with_its_params_and_refused_when_the_client_lists_no_h265()
    {
        Assert.Equal("the client does not support H265", CodecCatalog.SelectVideo("H265", null, Chrome()).Error);
        var c = CodecCatalog.SelectVideo("H265", new VideoCodecParams { H265LevelId = 120, H265TierFlag = 1, H265TxMode = "SRST" });
        Assert.True(c.IsOk, c.Error);
        Assert.Equal(("H265", 49, 50), (c.Value!.Name, c.Value.PayloadType, c.Value.RtxPayloadType));
        Assert.Equal("level-id=120;profile-id=1;tier-flag=1;tx-mode=SRST", c.Value.Parameters);
        Assert.Equal(51, CodecCatalog.SelectVideo("H265", new VideoCodecParams { H265ProfileId = 2 }).Value!.PayloadType);
        // A client offering H.265 main: supported.
        var caps = ClientOfferReader.Read(SdpFixtures.ChromeVideoAndDataOffer.Replace("a=rtpmap:96 VP8/90000",
            "a=rtpmap:96 H265/90000\r\na=fmtp:96 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST")).Value!;
        Assert.True(CodecCatalog.SelectVideo("H265", null, caps).IsOk);
        Assert.False(CodecCatalog.SelectVideo("H265", new VideoCodecParams { H265ProfileId = 2 }, caps).IsOk);
    }

    [Theory]
    [InlineData("vp9", """{"profile_id":4}""", "profile_id must be an integer in 0..3")]
    [InlineData("av1", """{"profile":3}""", "profile must be an integer in 0..2")]
    [InlineData("av1", """{"level":1}""", "av1_params: unknown key \"level\"")]
    [InlineData("h264", """{"profile_level_id":"42e01"}""", "h264_params.profile_level_id must be six hex digits")]
    [InlineData("h264", """{"profile_level_id":4325407}""", "h264_params.profile_level_id must be six hex digits")]
    [InlineData("h265", """{"level_id":256}""", "level_id must be an integer in 0..255")]
    [InlineData("h265", """{"tx_mode":"ABC"}""", "h265_params.tx_mode must be")]
    [InlineData("h265", """{"b_frame":"yes"}""", "b_frame must be a boolean")]
    public void Invalid_video_params_are_refused_with_the_reason(string codec, string json, string reason)
    {
        var e = Json(json);
        string error;
        var ok = codec switch
        {
            "vp9" => VideoCodecParams.TryParseVp9(e, new(), out _, out error),
            "av1" => VideoCodecParams.TryParseAv1(e, new(), out _, out error),
            "h264" => VideoCodecParams.TryParseH264(e, new(), out _, out error),
            _ => VideoCodecParams.TryParseH265(e, new(), out _, out error),
        };
        Assert.False(ok);
        Assert.StartsWith(reason, error);
    }

    // --- the offer: b=AS, a=ptime, one fmtp per payload type within a BUNDLE ---

    [Fact]
    public void Video_bit_rate_is_b_as_and_ptime_is_a_ptime_on_the_publishers_own_sections_only()
    {
        var spec = SdpFixtures.SoraStyleOffer();
        var sections = spec.Sections.ToList();
        sections[0] = sections[0] with { Ptime = 40 };
        sections[1] = sections[1] with { MaxBitrateKbps = 500 };
        var doc = SfuOffer.Build(spec with { Sections = sections });
        Assert.Contains(new SdpLine('b', "AS:500"), doc.Media[1].Lines);
        Assert.Equal("40", doc.Media[0].Get("ptime"));
        Assert.DoesNotContain(doc.Media[0].Lines, l => l.Type == 'b');
        Assert.DoesNotContain(doc.Media[3].Lines, l => l.Type == 'b');
        Assert.Null(doc.Media[2].Get("ptime"));
        // Parsed back, the lines are where libwebrtc reads them.
        Assert.True(SdpDocument.TryParse(doc.Write(), out var again, out var error), error);
        Assert.Equal(doc, again);
        Assert.Contains("\r\nb=AS:500\r\n", doc.Write());
    }

    [Fact]
    public void A_forwarded_codec_takes_the_fmtp_its_payload_type_has_in_the_receivers_own_bundle()
    {
        var ownStereoOff = CodecCatalog.SelectAudio("OPUS", new OpusParams { Stereo = false }, 64).Value!;
        var publishersOpus = CodecCatalog.SelectAudio("OPUS", new OpusParams { UseDtx = true }, 256).Value!;
        // The receiver publishes Opus with its own fmtp: every Opus section of its BUNDLE carries that same fmtp.
        Assert.Equal(ownStereoOff.Parameters, Negotiator.InBundle(ownStereoOff, null, publishersOpus).Parameters);
        // A receiver that publishes no audio: the catalog's fmtp for that payload type.
        Assert.Equal(CodecCatalog.Opus, Negotiator.InBundle(null, CodecCatalog.Vp8, publishersOpus));
        // Video: the level of one publisher's H.264 does not reach a receiver of another entry or level.
        var high = CodecCatalog.SelectVideo("H264", new VideoCodecParams { H264ProfileLevelId = "42e034" }).Value!;
        Assert.Equal(CodecCatalog.H264, Negotiator.InBundle(null, null, high));
        var ownVp9 = CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 2 }).Value!;
        Assert.Equal(CodecCatalog.H264, Negotiator.InBundle(null, ownVp9, high));
        // A relayed codec unknown to this node's catalog passes as it came.
        var unknown = new RtpCodec(MediaKind.Video, "X-NEW", 90000, null, 127, "a=1", CodecCatalog.VideoFeedback, null);
        Assert.Equal(unknown, Negotiator.InBundle(null, null, unknown));
    }

    [Fact]
    public void Every_catalog_entry_has_its_own_payload_types_so_profiles_never_collide_in_a_bundle()
    {
        var pts = CodecCatalog.All.SelectMany(c => c.RtxPayloadType is { } r ? new[] { c.PayloadType, r } : [c.PayloadType]).ToList();
        Assert.Equal(pts.Count, pts.Distinct().Count());
        Assert.All(pts, pt => Assert.InRange(pt, 35, 127));
        foreach (var c in CodecCatalog.All) Assert.Same(c, CodecCatalog.ByPayloadType(c.PayloadType, c.Name.ToLowerInvariant()));
    }

    // --- H.265 key frames (RFC 7798) ---

    [Theory]
    [InlineData(new byte[] { 19 << 1, 1, 0xAA }, true)]            // IDR_W_RADL single NAL
    [InlineData(new byte[] { 21 << 1, 1, 0xAA }, true)]            // CRA
    [InlineData(new byte[] { 32 << 1, 1, 0xAA }, true)]            // VPS
    [InlineData(new byte[] { 1 << 1, 1, 0xAA }, false)]            // TRAIL_R
    [InlineData(new byte[] { 49 << 1, 1, 0x80 | 19, 0xAA }, true)] // FU start of an IDR
    [InlineData(new byte[] { 49 << 1, 1, 19, 0xAA }, false)]       // FU continuation
    [InlineData(new byte[] { 49 << 1, 1, 0x80 | 1, 0xAA }, false)] // FU start of a trailing picture
    [InlineData(new byte[] { 48 << 1, 1, 0, 3, 1 << 1, 1, 0xAA, 0, 3, 33 << 1, 1, 0xBB }, true)] // AP: TRAIL, SPS
    [InlineData(new byte[] { 48 << 1, 1, 0, 3, 1 << 1, 1, 0xAA }, false)]
    [InlineData(new byte[] { 48 << 1, 1, 0, 9, 19 << 1 }, false)]  // AP with a size beyond the payload
    [InlineData(new byte[] { 19 << 1 }, false)]                    // truncated NAL header
    [InlineData(new byte[] { }, false)]
    public void H265_key_frames_are_irap_or_parameter_sets_alone_aggregated_or_starting_a_fragment(byte[] payload, bool key) =>
        Assert.Equal(key, KeyFrameDetector.IsKeyFrame(VideoCodecKind.H265, payload));

    [Fact]
    public void H265_key_frame_detection_never_throws_on_random_payloads()
    {
        var random = new Random(17);
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) ? n : 20000;
        var keys = 0;
        for (var i = 0; i < iterations; i++)
        {
            var b = new byte[random.Next(0, 40)];
            random.NextBytes(b);
            if (KeyFrameDetector.IsH265KeyFrame(b)) keys++;
        }
        // About 10/64 of random NAL types are IRAP or VPS/SPS; aggregation and fragments add a little.
        Assert.InRange(keys, iterations / 20, iterations / 3);
    }
}
