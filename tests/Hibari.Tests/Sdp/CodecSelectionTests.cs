using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

public sealed class CodecSelectionTests
{
    private static ClientCapabilities Caps(string sdp)
    {
        var r = ClientOfferReader.Read(sdp);
        Assert.True(r.IsOk, r.Error);
        return r.Value!;
    }

    [Fact]
    public void Chrome_offer_shows_its_h264_profiles_vp9_profiles_and_header_extensions()
    {
        var caps = Caps(SdpFixtures.ChromeVideoAndDataOffer);
        Assert.Equal(["42001f", "42e01f", "4d001f"], caps.H264ProfileLevelIds);
        Assert.Equal(["0", "2"], caps.Vp9ProfileIds);
        Assert.Equal(23, caps.VideoCodecs.Count);
        Assert.Empty(caps.AudioCodecs);
        Assert.Contains(CodecCatalog.MidUri, caps.VideoExtensions);
        Assert.Contains(CodecCatalog.RepairedRidUri, caps.VideoExtensions);
        Assert.True(caps.SupportsExtension(MediaKind.Video, CodecCatalog.AbsSendTimeUri));
        Assert.False(caps.SupportsExtension(MediaKind.Audio, CodecCatalog.AudioLevelUri));
    }

    [Theory]
    [InlineData("VP8")]
    [InlineData("VP9")]
    [InlineData("AV1")]
    [InlineData("H264")]
    public void Chrome_supports_every_video_codec_hibari_offers(string codecType)
    {
        var caps = Caps(SdpFixtures.ChromeVideoAndDataOffer);
        Assert.True(caps.Supports(codecType));
        var selected = CodecCatalog.Select(codecType, caps);
        Assert.True(selected.IsOk, selected.Error);
        Assert.Equal(codecType, selected.Value!.CodecType);
        Assert.NotNull(selected.Value.RtxPayloadType);
    }

    [Fact]
    public void Chromium_without_h264_is_refused_h264_but_gets_vp9_and_opus()
    {
        var caps = Caps(SdpFixtures.ChromiumNoH264AudioVideoOffer);
        Assert.Empty(caps.H264ProfileLevelIds);
        Assert.False(caps.Supports("H264"));
        var h264 = CodecCatalog.Select("H264", caps);
        Assert.False(h264.IsOk);
        Assert.Equal("the client does not support H264", h264.Error);
        Assert.Equal(CodecCatalog.Vp9, CodecCatalog.Select("VP9", caps).Value);
        Assert.Equal(CodecCatalog.Opus, CodecCatalog.Select("OPUS", caps).Value);
        Assert.Contains(CodecCatalog.AudioLevelUri, caps.AudioExtensions);
        Assert.Equal(["opus", "red", "G722", "PCMU", "PCMA", "CN", "telephone-event", "telephone-event"], caps.AudioCodecs.Select(c => c.Name));
    }

    [Fact]
    public void Vp9_profile_2_is_chosen_when_the_client_only_has_profile_2()
    {
        var sdp = SdpFixtures.ChromiumNoH264AudioVideoOffer.Replace("a=fmtp:98 profile-id=0", "a=fmtp:98 profile-id=2");
        Assert.Equal(CodecCatalog.Vp9Profile2, CodecCatalog.Select("VP9", Caps(sdp)).Value);
    }

    [Fact]
    public void H264_main_is_chosen_when_the_client_lacks_constrained_baseline()
    {
        var sdp = SdpFixtures.ChromeVideoAndDataOffer.Replace("profile-level-id=42e01f", "profile-level-id=640c1f");
        Assert.Equal(CodecCatalog.H264Main, CodecCatalog.Select("H264", Caps(sdp)).Value);
    }

    [Fact]
    public void Constrained_baseline_matches_at_any_level_but_not_plain_baseline()
    {
        Assert.True(ClientCapabilities.SameH264Profile("42e01f", "42e034"));
        Assert.True(ClientCapabilities.SameH264Profile("42c01f", "42e01f"));
        Assert.False(ClientCapabilities.SameH264Profile("42001f", "42e01f"));
        Assert.False(ClientCapabilities.SameH264Profile("4d001f", "42e01f"));
        Assert.False(ClientCapabilities.SameH264Profile("zz", "42e01f"));
    }

    [Theory]
    [InlineData("vp8", "VP8")]
    [InlineData(" opus ", "OPUS")]
    public void Codec_type_is_case_and_space_insensitive(string given, string expected) =>
        Assert.Equal(expected, CodecCatalog.Select(given).Value!.CodecType);

    [Theory]
    [InlineData("H266")]
    [InlineData("")]
    [InlineData(null)]
    public void Unknown_codec_type_is_an_error(string? codecType)
    {
        var r = CodecCatalog.Select(codecType);
        Assert.False(r.IsOk);
        Assert.StartsWith("unknown codec_type", r.Error);
    }

    [Fact]
    public void Catalog_payload_types_and_extmap_ids_are_unique()
    {
        var pts = CodecCatalog.All.SelectMany(c => c.RtxPayloadType is { } r ? new[] { c.PayloadType, r } : [c.PayloadType]).ToList();
        Assert.Equal(pts.Count, pts.Distinct().Count());
        var ext = CodecCatalog.AudioExtensions.Concat(CodecCatalog.VideoExtensions).DistinctBy(e => (e.Id, e.Uri)).ToList();
        Assert.Equal(ext.Count, ext.Select(e => e.Id).Distinct().Count());
        Assert.Equal("minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1", CodecCatalog.Opus.Parameters);
        Assert.Equal("1", CodecCatalog.H264.ParameterMap["level-asymmetry-allowed"]);
    }

    [Fact]
    public void Unparseable_client_offer_is_an_error()
    {
        Assert.False(ClientOfferReader.Read("garbage").IsOk);
        Assert.False(ClientOfferReader.Read(null).IsOk);
    }
}
