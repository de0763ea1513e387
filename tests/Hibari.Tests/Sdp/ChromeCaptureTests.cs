using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

/// <summary>
/// The SDP layer against what Chromium 156 + sora-js-sdk 2026.1.0 really sent to (and got from) a Hibari node
/// (<see cref="ChromeCaptures"/>), rather than reconstructed examples.
/// </summary>
public sealed class ChromeCaptureTests
{
    private static string Sdp(string name) => ChromeCaptures.All.Single(c => c.Name == name).Sdp;

    private static SdpDocument Parse(string text)
    {
        Assert.True(SdpDocument.TryParse(text, out var doc, out var error), error);
        return doc;
    }

    public static TheoryData<string> Captures => new(ChromeCaptures.All.Select(c => c.Name));

    /// <summary>Browser-written answers and re-answers.</summary>
    public static TheoryData<string> ChromeAnswers => new(ChromeCaptures.All.Select(c => c.Name).Where(n => n.Contains("Answer")));

    /// <summary>Server-written SDPs (offers and re-offers).</summary>
    public static TheoryData<string> ServerWritten => new(ChromeCaptures.All.Select(c => c.Name).Where(n => n.Contains("Offer")));

    /// <summary>Each server offer with the browser's answer to it.</summary>
    public static TheoryData<string, string> Exchanges => new()
    {
        { nameof(ChromeCaptures.AOffer), nameof(ChromeCaptures.AAnswer) },
        { nameof(ChromeCaptures.AReOfferBJoined), nameof(ChromeCaptures.AReAnswerBJoined) },
        { nameof(ChromeCaptures.AReOfferBLeft), nameof(ChromeCaptures.AReAnswerBLeft) },
        { nameof(ChromeCaptures.BOffer), nameof(ChromeCaptures.BAnswer) },
        { nameof(ChromeCaptures.BReOffer), nameof(ChromeCaptures.BReAnswer) },
        { nameof(ChromeCaptures.ROffer), nameof(ChromeCaptures.RAnswer) },
        { nameof(ChromeCaptures.RReOfferALeft), nameof(ChromeCaptures.RReAnswerALeft) },
        { nameof(ChromeCaptures.HOffer), nameof(ChromeCaptures.HAnswer) },
        { nameof(ChromeCaptures.VOffer), nameof(ChromeCaptures.VAnswer) },
    };

    // ------------------------------------------------------------------------------------------ parse and round trip

    [Fact]
    public void Every_capture_is_listed_once_and_ends_every_line_with_crlf()
    {
        Assert.Equal(19, ChromeCaptures.All.Count);
        Assert.Equal(ChromeCaptures.All.Count, ChromeCaptures.All.Select(c => c.Name).Distinct().Count());
        foreach (var (name, sdp) in ChromeCaptures.All)
        {
            Assert.True(sdp.StartsWith("v=0\r\n", StringComparison.Ordinal) && sdp.EndsWith("\r\n", StringComparison.Ordinal), name);
            Assert.DoesNotContain("\n", sdp.Replace("\r\n", ""));
            Assert.DoesNotContain("\r", sdp.Replace("\r\n", ""));
        }
    }

    [Theory, MemberData(nameof(Captures))]
    public void Captured_sdp_parses_and_parse_write_parse_is_the_same_model(string name)
    {
        var doc = Parse(Sdp(name));
        Assert.NotEmpty(doc.Media);
        Assert.Equal(doc, Parse(doc.Write()));
    }

    [Theory, MemberData(nameof(Captures))]
    public void Captured_sdp_is_written_back_byte_for_byte(string name)
    {
        var text = Sdp(name);
        Assert.Equal(text, Parse(text).Write());
    }

    [Theory, MemberData(nameof(Captures))]
    public void Captured_sdp_with_lf_line_ends_parses_to_the_same_model(string name)
    {
        Assert.Equal(Parse(Sdp(name)), Parse(Sdp(name).Replace("\r\n", "\n")));
    }

    [Theory, MemberData(nameof(Captures))]
    public void Captured_sdp_keeps_every_line_in_the_model_with_its_line_number(string name)
    {
        var text = Sdp(name);
        var doc = Parse(text);
        var lines = text.Split("\r\n");
        var attributes = doc.Attributes.Concat(doc.Media.SelectMany(m => m.Attributes)).ToList();
        // v, o, s + session lines + one m= per section + section lines + every attribute = every line of the text.
        Assert.Equal(lines.Length - 1, 3 + doc.Lines.Count + doc.Media.Count + doc.Media.Sum(m => m.Lines.Count) + attributes.Count);
        foreach (var a in attributes) Assert.Equal(lines[a.LineNumber - 1], a.ToString());
        foreach (var m in doc.Media) Assert.StartsWith($"m={m.Kind} {m.Port} ", lines[m.LineNumber - 1]);
    }

    // ------------------------------------------------------------------------------------------ server offers

    [Theory, MemberData(nameof(ServerWritten))]
    public void Server_offer_is_exactly_what_SfuOffer_writes_for_the_spec_read_back_from_it(string name)
    {
        var text = Sdp(name);
        var spec = CapturedOfferSpec.FromSdp(text);
        Assert.Null(SfuOffer.Validate(spec));
        Assert.Equal(text, SfuOffer.Write(spec));
    }

    [Theory, MemberData(nameof(ServerWritten))]
    public void Server_offer_is_ice_lite_with_one_host_candidate_and_bundles_every_live_section(string name)
    {
        var doc = Parse(Sdp(name));
        Assert.True(doc.IceLite());
        Assert.Equal(doc.Media.Where(m => m.Port != 0).Select(m => m.Mid()!), doc.BundleMids());
        foreach (var m in doc.Media)
        {
            Assert.Equal(SetupRole.ActPass, m.Setup());
            Assert.Equal("sha-256", m.Fingerprints().Single().Algorithm);
            if (m.Port == 0) { Assert.Empty(m.Candidates()); Assert.Equal(MediaDirection.Inactive, m.Direction()); continue; }
            var c = m.Candidates().Single();
            Assert.Equal(("udp", "host", "127.0.0.1", SfuOffer.HostPriority), (c.Transport, c.Type, c.Address, c.Priority));
            Assert.True(m.EndOfCandidates());
        }
    }

    [Fact]
    public void Re_offers_keep_the_session_id_and_raise_the_version()
    {
        foreach (var chain in new[]
                 {
                     new[] { ChromeCaptures.AOffer, ChromeCaptures.AReOfferBJoined, ChromeCaptures.AReOfferBLeft },
                     [ChromeCaptures.BOffer, ChromeCaptures.BReOffer], [ChromeCaptures.ROffer, ChromeCaptures.RReOfferALeft],
                 })
        {
            var origins = chain.Select(s => Parse(s).Origin).ToList();
            Assert.Single(origins.Select(o => o.SessionId).Distinct());
            var versions = origins.Select(o => { Assert.True(o.TryGetVersion(out var v)); return v; }).ToList();
            Assert.Equal(versions.Order(), versions);
            Assert.Equal(versions.Count, versions.Distinct().Count());
        }
    }

    [Fact]
    public void Re_offer_after_a_departure_keeps_the_departed_mids_at_port_0_inactive_without_candidates()
    {
        var before = Parse(ChromeCaptures.AReOfferBJoined);
        var after = Parse(ChromeCaptures.AReOfferBLeft);
        Assert.Equal(before.Media.Select(m => m.Mid()), after.Media.Select(m => m.Mid()));
        Assert.Equal(["0", "1", "2", "3", "4"], after.Media.Select(m => m.Mid()!));
        Assert.Equal([9, 9, 9, 0, 0], after.Media.Select(m => m.Port));
        Assert.Equal(["0", "1", "2"], after.BundleMids());
        Assert.All(after.Media.Skip(3), m => Assert.False(m.Has("msid") || m.SsrcAttributes().Any() || m.ExtMaps().Any()));
    }

    // ------------------------------------------------------------------------------------------ the throw-away offer

    private static ClientCapabilities Capabilities()
    {
        var r = ClientOfferReader.Read(ChromeCaptures.AConnect);
        Assert.True(r.IsOk, r.Error);
        return r.Value!;
    }

    [Fact]
    public void Connect_offer_lists_opus_first_and_the_other_audio_codecs_chrome_offers()
    {
        var caps = Capabilities();
        Assert.Equal(["opus", "red", "G722", "PCMU", "PCMA", "CN", "telephone-event", "telephone-event"], caps.AudioCodecs.Select(c => c.Name));
        var opus = caps.AudioCodecs[0];
        Assert.Equal((111, 48000, (int?)2), (opus.PayloadType, opus.ClockRate, opus.Channels));
        Assert.Equal("1", opus.Parameter("useinbandfec"));
        Assert.True(caps.Supports("OPUS"));
    }

    [Fact]
    public void Connect_offer_lists_vp8_vp9_av1_and_h264_with_their_profiles()
    {
        var caps = Capabilities();
        var video = caps.VideoCodecs.Where(c => c.Name != "rtx").Select(c => c.Name).Distinct();
        Assert.Equal(["VP8", "VP9", "H264", "AV1", "red", "ulpfec", "flexfec-03"], video);
        Assert.Equal(["0", "2", "1", "3"], caps.Vp9ProfileIds);
        Assert.Equal(["42001f", "42e01f", "4d001f", "f4001f"], caps.H264ProfileLevelIds);
        Assert.Equal(["0", "1"], caps.VideoCodecs.Where(c => c.Name == "AV1").Select(c => c.Parameter("profile")));
        Assert.Equal(34, caps.VideoCodecs.Count);
        foreach (var type in new[] { "VP8", "VP9", "AV1", "H264" }) Assert.True(caps.Supports(type), type);
        // What this Chrome cannot do of the catalog: AV1 profile 2, H.264 (constrained) high, H.265 (D-34: refused at connect).
        Assert.Equal(
            [CodecCatalog.Av1Profile2, CodecCatalog.H264ConstrainedHigh, CodecCatalog.H264High, CodecCatalog.H265, CodecCatalog.H265Main10],
            CodecCatalog.All.Where(c => !caps.Supports(c)));
    }

    [Fact]
    public void Connect_offer_lists_chromes_header_extensions_per_kind()
    {
        var caps = Capabilities();
        Assert.Equal(
            new HashSet<string>
            {
                CodecCatalog.AudioLevelUri, CodecCatalog.AbsSendTimeUri, CodecCatalog.MidUri,
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
            },
            caps.AudioExtensions.ToHashSet());
        Assert.Equal(11, caps.VideoExtensions.Count);
        foreach (var uri in new[] { CodecCatalog.MidUri, CodecCatalog.RidUri, CodecCatalog.RepairedRidUri, CodecCatalog.AbsSendTimeUri,
                     "urn:ietf:params:rtp-hdrext:toffset", "urn:3gpp:video-orientation", "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" })
            Assert.True(caps.SupportsExtension(MediaKind.Video, uri), uri);
        Assert.All(CodecCatalog.AudioExtensions, e => Assert.True(caps.SupportsExtension(MediaKind.Audio, e.Uri), e.Uri));
        Assert.All(CodecCatalog.VideoExtensions, e => Assert.True(caps.SupportsExtension(MediaKind.Video, e.Uri), e.Uri));
    }

    [Fact]
    public void Connect_offer_ids_differ_from_the_catalogs_but_uris_match()
    {
        // Chrome numbers audio-level 1 and mid 4; Hibari as offerer picks its own ids (mid 1, audio-level 5).
        var audio = Parse(ChromeCaptures.AConnect).Media[0].ExtMaps().ToList();
        Assert.Equal(1, audio.Single(e => e.Uri == CodecCatalog.AudioLevelUri).Id);
        Assert.Equal(4, audio.Single(e => e.Uri == CodecCatalog.MidUri).Id);
    }

    [Theory]
    [InlineData("VP9", nameof(ChromeCaptures.AOffer))]
    [InlineData("H264", nameof(ChromeCaptures.HOffer))]
    [InlineData("AV1", nameof(ChromeCaptures.VOffer))]
    public void Codec_offered_to_the_client_is_the_catalog_selection_for_its_connect_offer(string codecType, string offer)
    {
        var chosen = CodecCatalog.Select(codecType, Capabilities());
        Assert.True(chosen.IsOk, chosen.Error);
        var spec = CapturedOfferSpec.FromSdp(Sdp(offer));
        var video = spec.Sections.Single(s => s.Kind == MediaKind.Video);
        Assert.Equal([chosen.Value!], video.Codecs);
        // Captured before D-34 added stereo=1;sprop-stereo=1 to the default Opus fmtp.
        Assert.Equal([CodecCatalog.Opus with { Parameters = "minptime=10;useinbandfec=1" }], spec.Sections.Single(s => s.Kind == MediaKind.Audio).Codecs);
    }

    [Fact]
    public void Connect_offer_is_one_recvonly_audio_and_one_recvonly_video_line_offering_actpass()
    {
        var doc = Parse(ChromeCaptures.AConnect);
        Assert.Equal(["audio", "video"], doc.Media.Select(m => m.Kind));
        Assert.All(doc.Media, m => Assert.Equal(MediaDirection.RecvOnly, m.Direction()));
        Assert.Equal(SetupRole.ActPass, doc.Media[0].Setup());
    }

    // ------------------------------------------------------------------------------------------ answers

    private static (OfferSpec Spec, AnswerInfo Info, SdpDocument Answer) Exchange(string offer, string answer)
    {
        var spec = CapturedOfferSpec.FromSdp(Sdp(offer));
        var r = SdpAnswerReader.Read(Sdp(answer), spec);
        Assert.True(r.IsOk, $"{answer}: {r.Error}");
        return (spec, r.Value!, Parse(Sdp(answer)));
    }

    [Theory, MemberData(nameof(ChromeAnswers))]
    public void Chrome_answer_is_accepted_without_the_offer(string name)
    {
        var r = SdpAnswerReader.Read(Sdp(name), null);
        Assert.True(r.IsOk, r.Error);
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_answer_is_accepted_against_its_offer_with_setup_active_and_its_sha256_fingerprint(string offer, string answer)
    {
        var (spec, info, doc) = Exchange(offer, answer);
        Assert.Equal(SetupRole.Active, info.Setup);
        Assert.Equal("sha-256", info.Fingerprint.Algorithm);
        Assert.True(info.Fingerprint.TryGetBytes(out var bytes));
        Assert.Equal(32, bytes.Length);
        var live = doc.Media.First(m => m.Port != 0);
        Assert.Equal(live.Fingerprints().Single(), info.Fingerprint);
        Assert.Equal(live.IceUfrag(), info.IceUfrag);
        Assert.Equal(live.IcePwd(), info.IcePwd);
        Assert.Equal(doc.BundleMids(), info.BundleMids);
        Assert.Equal(spec.Sections.Where(s => !s.Rejected).Select(s => s.Mid), info.BundleMids);
        Assert.Equal(spec.Sections.Select(s => s.Mid), info.Sections.Select(s => s.Mid));
        Assert.Equal(spec.Sections.Select(s => s.Kind.Name()), info.Sections.Select(s => s.Kind));
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_sends_on_the_offered_recvonly_lines_with_ssrcs_msid_and_an_fid_rtx_pair_on_video(string offer, string answer)
    {
        var (spec, info, doc) = Exchange(offer, answer);
        foreach (var s in spec.Sections.Where(s => !s.Rejected && s.Kind != MediaKind.Application && s.Direction == MediaDirection.RecvOnly))
        {
            var a = info.Section(s.Mid)!;
            Assert.Equal(MediaDirection.SendOnly, a.Direction);
            Assert.NotNull(a.Msid);
            var m = doc.Media[a.Index];
            var ssrc = Assert.Single(a.Ssrcs);
            if (s.Kind == MediaKind.Video)
            {
                var fid = Assert.Single(m.SsrcGroups(), g => g.Semantics == "FID");
                Assert.Equal(new ClientSsrc(fid.Ssrcs[0], fid.Ssrcs[1]), ssrc);
            }
            else Assert.Null(ssrc.Rtx);
            Assert.Contains(m.SsrcAttributes(), x => x.Ssrc == ssrc.Media && x.Name == "cname");
        }
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_receives_on_the_offered_sendonly_lines_without_ssrcs(string offer, string answer)
    {
        var (spec, info, _) = Exchange(offer, answer);
        foreach (var s in spec.Sections.Where(s => !s.Rejected && s.Direction == MediaDirection.SendOnly))
        {
            var a = info.Section(s.Mid)!;
            Assert.Equal(MediaDirection.RecvOnly, a.Direction);
            Assert.Empty(a.Ssrcs);
            Assert.Null(a.Msid);
        }
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_keeps_the_offered_payload_types_and_header_extensions(string offer, string answer)
    {
        var (spec, info, doc) = Exchange(offer, answer);
        foreach (var s in spec.Sections.Where(s => s.Kind != MediaKind.Application))
        {
            var a = info.Section(s.Mid)!;
            Assert.Equal(s.Codecs.SelectMany(c => c.RtxPayloadType is { } r ? new[] { c.PayloadType, r } : [c.PayloadType]), a.PayloadTypes);
            Assert.Equal(doc.Media[a.Index].PayloadTypes(), a.PayloadTypes);
            if (s.Rejected) { Assert.Empty(a.Extensions); continue; }
            // Chrome reorders the extmap lines but keeps every offered id/URI pair.
            Assert.Equal(s.EffectiveExtensions.OrderBy(e => e.Id), a.Extensions.OrderBy(e => e.Id));
        }
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_accepts_the_data_channel_on_sctp_port_5000(string offer, string answer)
    {
        var (spec, info, _) = Exchange(offer, answer);
        var app = info.Section(spec.Sections.Single(s => s.Kind == MediaKind.Application).Mid)!;
        Assert.False(app.Rejected);
        Assert.Equal(5000, app.SctpPort);
        Assert.Equal(262144, app.MaxMessageSize);
    }

    [Theory, MemberData(nameof(Exchanges))]
    public void Chrome_rejects_exactly_the_lines_offered_with_port_0(string offer, string answer)
    {
        var (spec, info, _) = Exchange(offer, answer);
        Assert.Equal(spec.Sections.Select(s => s.Rejected), info.Sections.Select(s => s.Rejected));
        Assert.All(info.Sections.Where(s => s.Rejected), s => Assert.Equal((0, MediaDirection.Inactive), (s.Port, s.Direction)));
    }

    [Fact]
    public void Re_answer_after_a_departure_marks_the_departed_lines_rejected()
    {
        var (_, a, _) = Exchange(nameof(ChromeCaptures.AReOfferBLeft), nameof(ChromeCaptures.AReAnswerBLeft));
        Assert.Equal([false, false, false, true, true], a.Sections.Select(s => s.Rejected));
        Assert.Equal([MediaDirection.SendOnly, MediaDirection.SendOnly, MediaDirection.Inactive, MediaDirection.Inactive],
            a.Sections.Where(s => s.Kind != "application").Select(s => s.Direction));
        Assert.Equal(["0", "1", "2"], a.BundleMids);

        var (_, r, _) = Exchange(nameof(ChromeCaptures.RReOfferALeft), nameof(ChromeCaptures.RReAnswerALeft));
        Assert.Equal([false, true, true], r.Sections.Select(s => s.Rejected));
        Assert.Equal(["0"], r.BundleMids);
    }

    [Fact]
    public void Re_answers_carry_chromes_gathered_loopback_candidates()
    {
        var (_, info, _) = Exchange(nameof(ChromeCaptures.AReOfferBJoined), nameof(ChromeCaptures.AReAnswerBJoined));
        Assert.Contains(info.Candidates, c => c is { Transport: "udp", Type: "host", Address: "127.0.0.1", Component: 1 });
        Assert.All(info.Candidates, c => Assert.Equal("127.0.0.1", c.Address));
    }

    [Fact]
    public void Recvonly_client_answers_every_media_line_recvonly_and_sends_nothing()
    {
        var (_, info, _) = Exchange(nameof(ChromeCaptures.ROffer), nameof(ChromeCaptures.RAnswer));
        Assert.Equal(["application", "audio", "video"], info.Sections.Select(s => s.Kind));
        Assert.All(info.Sections.Skip(1), s => Assert.Equal(MediaDirection.RecvOnly, s.Direction));
        Assert.All(info.Sections, s => Assert.Empty(s.Ssrcs));
    }
}
