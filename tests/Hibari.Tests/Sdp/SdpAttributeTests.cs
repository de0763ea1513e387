using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

public sealed class SdpAttributeTests
{
    private static SdpMediaSection ChromeVideo()
    {
        Assert.True(SdpDocument.TryParse(SdpFixtures.ChromeVideoAndDataOffer, out var doc, out var error), error);
        return doc.Media[0];
    }

    [Fact]
    public void Rtpmap_fmtp_and_rtcp_fb_are_read_per_payload_type_from_a_chrome_offer()
    {
        var video = ChromeVideo();
        var maps = video.RtpMaps().ToDictionary(m => m.PayloadType);
        Assert.Equal(23, maps.Count);
        Assert.Equal(new RtpMap(109, "H264", 90000, null), maps[109]);
        Assert.Equal("AV1", maps[45].EncodingName);
        var fmtp = video.Fmtps().Single(f => f.PayloadType == 109);
        Assert.Equal("42e01f", fmtp.Parameters["profile-level-id"]);
        Assert.Equal("1", fmtp.Parameters["packetization-mode"]);
        Assert.Equal("96", video.Fmtps().Single(f => f.PayloadType == 97).Parameters["apt"]);
        Assert.Equal(["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"],
            video.RtcpFeedbacks().Where(f => f.PayloadType == 96).Select(f => f.Parameter is null ? f.Type : f.Type + " " + f.Parameter));
    }

    [Fact]
    public void Ssrc_lines_and_fid_group_msid_and_transport_attributes_are_read()
    {
        var video = ChromeVideo();
        var group = video.SsrcGroups().Single();
        Assert.Equal("FID", group.Semantics);
        Assert.Equal([3735928559u, 1122334455u], group.Ssrcs);
        var cname = video.SsrcAttributes().First();
        Assert.Equal(new SsrcAttribute(3735928559, "cname", "kR9vT2xQm4LpZs8W"), cname);
        Assert.Equal(new Msid("6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10", "0c8e3a52-7d41-4f96-b2e8-5a19c6d4f3e7"), video.Msid());
        Assert.Equal("0", video.Mid());
        Assert.Equal(MediaDirection.SendOnly, video.Direction());
        Assert.Equal(SetupRole.ActPass, video.Setup());
        Assert.Equal("Qk7d", video.IceUfrag());
        Assert.Equal("3vXJm9pLwR2sYb8TnE4cHq1K", video.IcePwd());
        Assert.Equal(["trickle"], video.IceOptions());
        Assert.True(video.RtcpMux());
        Assert.True(video.RtcpRsize());
        var fp = video.Fingerprints().Single();
        Assert.Equal("sha-256", fp.Algorithm);
        Assert.True(fp.TryGetBytes(out var digest));
        Assert.Equal(32, digest.Length);
        Assert.Equal(0xF9, digest[0]);
    }

    [Fact]
    public void Data_channel_section_reads_sctp_port_and_max_message_size()
    {
        Assert.True(SdpDocument.TryParse(SdpFixtures.ChromeVideoAndDataOffer, out var doc, out _));
        Assert.Equal(5000, doc.Media[1].SctpPort());
        Assert.Equal(262144, doc.Media[1].MaxMessageSize());
        Assert.Equal(["0", "1"], doc.BundleMids());
        Assert.True(doc.ExtmapAllowMixed());
        Assert.False(doc.IceLite());
    }

    [Fact]
    public void Direction_defaults_to_sendrecv_when_absent()
    {
        var m = new SdpMediaSection();
        Assert.Equal(MediaDirection.SendRecv, m.Direction());
        Assert.False(m.HasDirection());
    }

    [Theory]
    [InlineData("1 urn:ietf:params:rtp-hdrext:sdes:mid", 1, null, null)]
    [InlineData("3/recvonly http://example.com/x attr1 attr2", 3, MediaDirection.RecvOnly, "attr1 attr2")]
    [InlineData("200 urn:two-byte", 200, null, null)]
    public void Extmap_reads_id_direction_uri_and_attributes(string value, int id, MediaDirection? dir, string? attrs)
    {
        Assert.True(ExtMap.TryParse(value, out var e));
        Assert.Equal(id, e.Id);
        Assert.Equal(dir, e.Direction);
        Assert.Equal(attrs, e.ExtensionAttributes);
        Assert.Equal(value, e.Format());
    }

    [Theory]
    [InlineData("0 urn:x")]
    [InlineData("256 urn:x")]
    [InlineData("1/sideways urn:x")]
    [InlineData("1")]
    public void Extmap_with_bad_id_or_direction_is_refused(string value) => Assert.False(ExtMap.TryParse(value, out _));

    [Fact]
    public void Rid_and_simulcast_read_restrictions_pauses_and_alternatives()
    {
        Assert.True(Rid.TryParse("r1 send pt=96,97;max-width=640", out var rid));
        Assert.True(rid.Send);
        Assert.Equal([96, 97], rid.PayloadTypes);
        Assert.False(Rid.TryParse("r1 both", out _));
        Assert.False(Rid.TryParse("r!1 send", out _));

        Assert.True(Simulcast.TryParse("send r0;r1;r2", out var sc));
        Assert.Equal(["r0", "r1", "r2"], sc.SendRids);
        Assert.Empty(sc.Recv);
        Assert.True(Simulcast.TryParse("recv a,b;~c send x", out var both));
        Assert.Equal(["a", "c"], both.RecvRids);
        Assert.Equal(new SimulcastRid("b", false), both.Recv[0][1]);
        Assert.True(both.Recv[1][0].Paused);
        Assert.Equal("send x recv a,b;~c", both.Format());
        Assert.False(Simulcast.TryParse("send a send b", out _));
        Assert.False(Simulcast.TryParse("send", out _));
        Assert.False(Simulcast.TryParse("send a;;b", out _));
    }

    [Fact]
    public void Host_candidate_parses_from_the_attribute_and_the_trickled_string()
    {
        const string value = "1 1 udp 2130706431 192.0.2.10 5000 typ host";
        Assert.True(IceCandidate.TryParse(value, out var a));
        Assert.True(IceCandidate.TryParse("candidate:" + value, out var b));
        Assert.True(IceCandidate.TryParse("a=candidate:" + value, out var c));
        Assert.Equal(a, b);
        Assert.Equal(a, c);
        Assert.Equal(new IceCandidate("1", 1, "udp", 2130706431, "192.0.2.10", 5000, "host", Extensions: []), a);
        Assert.Equal(value, a.Format());
    }

    [Fact]
    public void Chrome_trickled_candidates_keep_related_address_tcptype_and_extensions()
    {
        Assert.True(IceCandidate.TryParse(
            "candidate:842163049 1 udp 1677729535 186.50.9.10 52200 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag gydc network-cost 999", out var srflx));
        Assert.Equal("srflx", srflx.Type);
        Assert.Equal("0.0.0.0", srflx.RelatedAddress);
        Assert.Equal(0, srflx.RelatedPort);
        Assert.Equal([new("generation", "0"), new("ufrag", "gydc"), new KeyValuePair<string, string>("network-cost", "999")], srflx.Extensions!);

        Assert.True(IceCandidate.TryParse(
            "candidate:195632406 1 tcp 1518280447 192.168.92.78 9 typ host tcptype active generation 0 network-id 1", out var tcp));
        Assert.Equal("tcp", tcp.Transport);
        Assert.Equal("active", tcp.TcpType);

        Assert.True(IceCandidate.TryParse("candidate:1 1 udp 2113937151 2cf0b2c0-0842-4fe3-aaa0-4556a2dfbadc.local 33192 typ host", out var mdns));
        Assert.EndsWith(".local", mdns.Address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 host")]
    [InlineData("candidate:1 0 udp 1 1.2.3.4 5 typ host")]
    [InlineData("candidate:1 1 udp -1 1.2.3.4 5 typ host")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 99999 typ host")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ host generation")]
    [InlineData("candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport x")]
    public void Malformed_candidate_is_refused(string text) => Assert.False(IceCandidate.TryParse(text, out _));

    [Theory]
    [InlineData("sha-256 AB:CD")]
    [InlineData("SHA-256 ab:cd")]
    public void Fingerprint_algorithm_is_lower_cased_and_hex_is_case_insensitive(string value)
    {
        Assert.True(SdpFingerprint.TryParse(value, out var fp));
        Assert.Equal("sha-256", fp.Algorithm);
        Assert.True(fp.TryGetBytes(out var b));
        Assert.Equal([0xAB, 0xCD], b);
    }

    [Theory]
    [InlineData("sha-256")]
    [InlineData("sha-256 ABCD")]
    [InlineData("sha-256 AB:C")]
    [InlineData("sha-256 AB:GG")]
    public void Malformed_fingerprint_is_refused(string value) => Assert.False(SdpFingerprint.TryParse(value, out _));

    [Fact]
    public void Fingerprint_from_digest_is_upper_case_colon_hex()
    {
        Assert.Equal("sha-256 00:0A:FF", SdpFingerprint.FromDigest("sha-256", [0x00, 0x0A, 0xFF]).Format());
    }

    [Fact]
    public void Rtpmap_fmtp_rtcp_fb_ssrc_and_group_reject_malformed_values()
    {
        Assert.False(RtpMap.TryParse("128 VP8/90000", out _));
        Assert.False(RtpMap.TryParse("96 VP8", out _));
        Assert.False(RtpMap.TryParse("96 /90000", out _));
        Assert.True(RtpMap.TryParse("111 opus/48000/2", out var opus));
        Assert.Equal(2, opus.Channels);
        Assert.False(Fmtp.TryParse("x apt=96", out _));
        Assert.True(RtcpFeedback.TryParse("* nack", out var any));
        Assert.Equal(-1, any.PayloadType);
        Assert.Equal("* nack", any.Format());
        Assert.False(RtcpFeedback.TryParse("96", out _));
        Assert.False(SsrcAttribute.TryParse("4294967296 cname:x", out _));
        Assert.False(SsrcAttribute.TryParse("1", out _));
        Assert.False(SsrcGroup.TryParse("FID 1 x", out _));
        Assert.True(SdpGroup.TryParse("BUNDLE", out var empty));
        Assert.Empty(empty.Mids);
        Assert.False(Msid.TryParse("a b c", out _));
    }

    [Theory]
    [InlineData(MediaDirection.RecvOnly, MediaDirection.SendOnly, true)]
    [InlineData(MediaDirection.RecvOnly, MediaDirection.Inactive, true)]
    [InlineData(MediaDirection.RecvOnly, MediaDirection.SendRecv, false)]
    [InlineData(MediaDirection.SendOnly, MediaDirection.RecvOnly, true)]
    [InlineData(MediaDirection.SendOnly, MediaDirection.SendOnly, false)]
    [InlineData(MediaDirection.SendRecv, MediaDirection.SendRecv, true)]
    [InlineData(MediaDirection.Inactive, MediaDirection.RecvOnly, false)]
    public void Answer_direction_follows_rfc_3264(MediaDirection offer, MediaDirection answer, bool valid) =>
        Assert.Equal(valid, answer.IsValidAnswerTo(offer));
}
