using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

public sealed class SdpAnswerReaderTests
{
    private static AnswerInfo Read(string sdp, OfferSpec? offer)
    {
        var r = SdpAnswerReader.Read(sdp, offer);
        Assert.True(r.IsOk, r.Error);
        return r.Value!;
    }

    private static string Error(string sdp, OfferSpec? offer = null)
    {
        var r = SdpAnswerReader.Read(sdp, offer ?? SdpFixtures.SoraStyleOffer());
        Assert.False(r.IsOk);
        Assert.Null(r.Value);
        return r.Error!;
    }

    private static string Answer => SdpFixtures.ChromeAnswerToSoraOffer;

    [Fact]
    public void Chrome_answer_gives_transport_credentials_sha256_fingerprint_and_active_setup()
    {
        var info = Read(Answer, SdpFixtures.SoraStyleOffer());
        Assert.Equal("h8Zq", info.IceUfrag);
        Assert.Equal("Wm3nR7tYk2PcXv9LsD4fGj6B", info.IcePwd);
        Assert.Equal("sha-256", info.Fingerprint.Algorithm);
        Assert.StartsWith("7F:26:23", info.Fingerprint.Value);
        Assert.Equal(SetupRole.Active, info.Setup);
        Assert.Equal(["0", "1", "2", "3"], info.BundleMids);
        Assert.Empty(info.Candidates);
    }

    [Fact]
    public void Chrome_answer_gives_mids_kinds_directions_and_rejections_in_offer_order()
    {
        var info = Read(Answer, SdpFixtures.SoraStyleOffer());
        Assert.Equal(["0", "1", "2", "3", "4", "5"], info.Sections.Select(s => s.Mid));
        Assert.Equal(["audio", "video", "audio", "video", "audio", "video"], info.Sections.Select(s => s.Kind));
        Assert.Equal(
            [MediaDirection.SendOnly, MediaDirection.SendOnly, MediaDirection.RecvOnly, MediaDirection.RecvOnly, MediaDirection.Inactive, MediaDirection.Inactive],
            info.Sections.Select(s => s.Direction));
        Assert.Equal([false, false, false, false, true, true], info.Sections.Select(s => s.Rejected));
    }

    [Fact]
    public void Chrome_answer_gives_payload_types_extmaps_ssrcs_msid_and_simulcast_rids()
    {
        var info = Read(Answer, SdpFixtures.SoraStyleOffer());
        var audio = info.Section("0")!;
        Assert.Equal([111], audio.PayloadTypes);
        Assert.Equal([new ClientSsrc(2854039107, null)], audio.Ssrcs);
        Assert.Equal("8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38", audio.Msid!.StreamId);
        Assert.Equal([1, 4, 5], audio.Extensions.Select(e => e.Id));

        var video = info.Section("1")!;
        Assert.Equal([96, 97], video.PayloadTypes);
        Assert.Empty(video.Ssrcs); // simulcast: SSRCs are learned from the rid header extension (docs/protocol-notes.md, "RTP forwarding with Chrome")
        Assert.Equal(["r0", "r1", "r2"], video.Rids.Select(r => r.Id));
        Assert.Equal(["r0", "r1", "r2"], video.SimulcastSend);
        Assert.Equal([1, 2, 3, 4], video.Extensions.Select(e => e.Id));

        Assert.Null(info.Section("3")!.Msid);
        Assert.Empty(info.Section("3")!.Rids);
    }

    [Fact]
    public void Answer_can_be_read_without_the_offer()
    {
        var info = Read(Answer, null);
        Assert.Equal(6, info.Sections.Count);
        Assert.Equal([96, 97], info.Section("1")!.PayloadTypes);
    }

    [Fact]
    public void Payload_types_and_extmaps_the_offer_did_not_contain_are_dropped()
    {
        var answer = Answer
            .Replace("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq", "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq")
            .Replace("a=mid:1\r\n", "a=mid:1\r\na=extmap:7 urn:x:not-offered\r\n");
        var video = Read(answer, SdpFixtures.SoraStyleOffer()).Section("1")!;
        Assert.Equal([96, 97], video.PayloadTypes);
        Assert.DoesNotContain(video.Extensions, e => e.Id == 7);
    }

    [Fact]
    public void Fid_group_pairs_a_client_ssrc_with_its_rtx()
    {
        var answer = Answer.Replace("a=rid:r0 send\r\na=rid:r1 send\r\na=rid:r2 send\r\na=simulcast:send r0;r1;r2\r\n",
            "a=ssrc-group:FID 11 12\r\na=ssrc:11 cname:c\r\na=ssrc:12 cname:c\r\n");
        var video = Read(answer, SdpFixtures.SoraStyleOffer()).Section("1")!;
        Assert.Equal([new ClientSsrc(11, 12)], video.Ssrcs);
        Assert.Empty(video.SimulcastSend);
    }

    [Fact]
    public void Session_level_credentials_and_candidates_are_accepted()
    {
        var answer = Answer.Replace("a=msid-semantic:", "a=ice-ufrag:sess\r\na=ice-pwd:0123456789012345678901\r\na=msid-semantic:")
            .Replace("a=ice-ufrag:h8Zq\r\na=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B\r\n", "")
            .Replace("a=mid:0\r\n", "a=mid:0\r\na=candidate:3423891790 1 udp 2122260223 172.16.80.71 58854 typ host generation 0\r\n");
        var info = Read(answer, SdpFixtures.SoraStyleOffer());
        Assert.Equal("sess", info.IceUfrag);
        Assert.Equal("172.16.80.71", info.Candidates.Single().Address);
        Assert.Equal(58854, info.Section("0")!.Candidates.Single().Port);
    }

    [Fact]
    public void Answer_without_fingerprint_is_refused()
    {
        var answer = string.Join("\r\n", Answer.Split("\r\n").Where(l => !l.StartsWith("a=fingerprint", StringComparison.Ordinal)));
        Assert.Equal("answer has no a=fingerprint", Error(answer));
    }

    [Fact]
    public void Answer_with_only_a_sha1_fingerprint_is_refused_naming_the_line()
    {
        var answer = Answer.Replace("a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98",
            "a=fingerprint:sha-1 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42");
        Assert.Matches(@"^line \d+: no usable sha-256 a=fingerprint$", Error(answer));
    }

    [Fact]
    public void Answer_with_a_short_sha256_digest_is_refused()
    {
        var answer = Answer.Replace("a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98",
            "a=fingerprint:sha-256 7F:26");
        Assert.Contains("no usable sha-256", Error(answer));
    }

    [Theory]
    [InlineData("actpass")]
    [InlineData("holdconn")]
    public void Answer_that_does_not_pick_a_dtls_role_is_refused(string role)
    {
        var error = Error(Answer.Replace("a=setup:active", "a=setup:" + role));
        Assert.Matches($@"^line 15: answer says a=setup:{role}; it must be active or passive$", error);
    }

    [Fact]
    public void Passive_setup_is_accepted()
    {
        Assert.Equal(SetupRole.Passive, Read(Answer.Replace("a=setup:active", "a=setup:passive"), SdpFixtures.SoraStyleOffer()).Setup);
    }

    [Fact]
    public void Answer_without_setup_or_ice_credentials_is_refused()
    {
        Assert.Equal("answer has no a=setup", Error(Answer.Replace("a=setup:active\r\n", "")));
        Assert.Equal("answer has no a=ice-ufrag", Error(Answer.Replace("a=ice-ufrag:h8Zq\r\n", "")));
        Assert.Equal("answer has no a=ice-pwd", Error(Answer.Replace("a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B\r\n", "")));
        Assert.Contains("4–256", Error(Answer.Replace("a=ice-ufrag:h8Zq", "a=ice-ufrag:h8")));
        Assert.Contains("22–256", Error(Answer.Replace("a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B", "a=ice-pwd:short")));
    }

    [Fact]
    public void Answer_that_does_not_match_the_offer_is_refused()
    {
        Assert.Contains("the offer had \"1\"", Error(Answer.Replace("a=mid:1\r\n", "a=mid:9\r\n")));
        Assert.Contains("mid \"0\" repeats", Error(Answer.Replace("a=mid:1\r\n", "a=mid:0\r\n")));
        Assert.Contains("has no a=mid", Error(Answer.Replace("a=mid:1\r\n", "")));
        var fewer = Answer[..Answer.IndexOf("m=video 0", StringComparison.Ordinal)];
        Assert.Equal("answer has 5 m-lines, the offer had 6", Error(fewer));
        Assert.Contains("answers sendrecv to recvonly", Error(Answer.Replace("a=sendonly\r\na=msid:8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38 5d2e", "a=sendrecv\r\na=msid:8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38 5d2e")));
        Assert.Contains("offered with port 0 but accepted", Error(Answer.Replace("m=video 0 UDP", "m=video 9 UDP")));
        Assert.Contains("the offer had audio", Error(Answer.Replace("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq\r\na=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B\r\na=ice-options:trickle\r\na=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98\r\na=setup:active\r\na=mid:0",
            "m=video 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq\r\na=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B\r\na=ice-options:trickle\r\na=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98\r\na=setup:active\r\na=mid:0")));
    }

    [Fact]
    public void Accepted_section_with_no_offered_payload_type_is_refused()
    {
        var answer = Answer.Replace("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq",
            "m=video 9 UDP/TLS/RTP/SAVPF 120\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:h8Zq");
        Assert.Matches(@"^line \d+: mid 1 accepts none of the offered payload types$", Error(answer));
    }

    [Fact]
    public void Rejected_section_without_mid_takes_the_offered_mid()
    {
        var answer = Answer.Replace("a=mid:5\r\n", "");
        Assert.Equal("5", Read(answer, SdpFixtures.SoraStyleOffer()).Sections[5].Mid);
        Assert.Contains("has no a=mid", SdpAnswerReader.Read(answer, null).Error);
    }

    [Fact]
    public void Answer_that_rejects_everything_is_refused()
    {
        var answer = Answer.Replace(" 9 UDP/TLS/RTP/SAVPF", " 0 UDP/TLS/RTP/SAVPF");
        Assert.Equal("answer rejects every m-line", SdpAnswerReader.Read(answer, null).Error);
        Assert.Equal("answer rejects every m-line", Error(answer));
    }

    [Fact]
    public void Unparseable_or_oversized_answer_is_refused_with_the_parser_error()
    {
        Assert.Contains("line 1", Error("hello"));
        Assert.Contains("limit", Error(Answer + new string('x', 300_000)));
        Assert.Contains("empty", Error(""));
    }
}
