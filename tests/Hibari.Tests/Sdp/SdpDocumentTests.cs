using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

public sealed class SdpDocumentTests
{
    private static SdpDocument Parse(string text)
    {
        Assert.True(SdpDocument.TryParse(text, out var doc, out var error), error);
        return doc;
    }

    private static string ParseError(string text, SdpLimits? limits = null)
    {
        Assert.False(SdpDocument.TryParse(text, limits ?? SdpLimits.Default, out _, out var error));
        return error;
    }

    [Fact]
    public void Chrome_offer_parses_into_two_sections_with_23_video_payload_types_and_11_extmaps()
    {
        var text = SdpFixtures.ChromeVideoAndDataOffer;
        Assert.Equal(140, text.Split("\r\n").Length);
        var doc = Parse(text);
        Assert.Equal(2, doc.Media.Count);
        var video = doc.Media[0];
        Assert.Equal("video", video.Kind);
        Assert.Equal(9, video.Port);
        Assert.Equal("UDP/TLS/RTP/SAVPF", video.Proto);
        Assert.Equal(23, video.Formats.Count);
        Assert.Equal("IN IP4 0.0.0.0", video.Connection);
        Assert.Equal(Enumerable.Range(1, 11), video.ExtMaps().Select(e => e.Id));
        Assert.Equal("urn:ietf:params:rtp-hdrext:sdes:mid", video.ExtMaps().Single(e => e.Id == 9).Uri);
        Assert.Equal("application", doc.Media[1].Kind);
        Assert.Equal("UDP/DTLS/SCTP", doc.Media[1].Proto);
        Assert.Equal(["webrtc-datachannel"], doc.Media[1].Formats);
        Assert.Equal(" WMS 6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10", doc.Get("msid-semantic"));
    }

    public static TheoryData<string> Fixtures => new()
    {
        SdpFixtures.ChromeVideoAndDataOffer, SdpFixtures.ChromiumNoH264AudioVideoOffer, SdpFixtures.ChromeAnswerToSoraOffer,
    };

    [Theory, MemberData(nameof(Fixtures))]
    public void Chrome_sdp_written_back_is_byte_identical_and_reparses_to_the_same_model(string text)
    {
        var doc = Parse(text);
        var written = doc.Write();
        Assert.Equal(text, written);
        Assert.Equal(doc, Parse(written));
    }

    [Theory, MemberData(nameof(Fixtures))]
    public void Lf_line_ends_parse_to_the_same_model_as_crlf(string text)
    {
        Assert.Equal(Parse(text), Parse(text.Replace("\r\n", "\n")));
    }

    [Fact]
    public void Writer_puts_lines_in_canonical_order_and_parse_write_parse_is_identity()
    {
        // Out of RFC 8866 order on purpose: b before c, k before t, an unknown letter; and no final line end.
        var text = "v=0\no=alice 1 2 IN IP4 192.0.2.1\ns=talk\nb=AS:64\nc=IN IP4 192.0.2.1\nk=clear:x\nt=0 0\nr=7d 1h 0 25h\nx=unknown\n" +
                   "a=tool:x\nm=audio 49170/2 RTP/AVP 0\nb=AS:32\na=sendrecv\ni=title\na=x-custom:with:colons\na=flag";
        var doc = Parse(text);
        Assert.Equal(['c', 'b', 't', 'r', 'k', 'x'], doc.Lines.Select(l => l.Type));
        Assert.Equal(['i', 'b'], doc.Media[0].Lines.Select(l => l.Type));
        Assert.Equal(2, doc.Media[0].PortCount);
        Assert.Equal("with:colons", doc.Media[0].Get("x-custom"));
        Assert.Null(doc.Media[0].Get("flag"));
        Assert.True(doc.Media[0].Has("flag"));
        var written = doc.Write();
        Assert.EndsWith("\r\n", written);
        Assert.DoesNotContain("\n", written.Replace("\r\n", ""));
        Assert.Equal(doc, Parse(written));
        Assert.Equal(written, Parse(written).Write());
    }

    [Fact]
    public void Empty_attribute_value_and_flag_attribute_stay_distinct()
    {
        var doc = Parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x:\r\na=y\r\n");
        Assert.Equal("", doc.Get("x"));
        Assert.Null(doc.Get("y"));
        Assert.Contains("a=x:\r\na=y\r\n", doc.Write());
    }

    [Fact]
    public void Missing_s_and_t_lines_are_made_explicit_in_the_model()
    {
        var doc = Parse("v=0\no=- 1 1 IN IP4 0.0.0.0\nm=audio 9 RTP/AVP 0\n");
        Assert.Equal("-", doc.SessionName);
        Assert.Equal("0 0", doc.Lines.Single(l => l.Type == 't').Value);
        Assert.Equal(doc, Parse(doc.Write()));
    }

    [Fact]
    public void Blank_lines_are_skipped_and_line_numbers_count_them()
    {
        var doc = Parse("v=0\r\n\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n\r\na=mid:0\r\n\r\n");
        Assert.Equal(8, doc.Media[0].Attributes[0].LineNumber);
        Assert.Equal(6, doc.Media[0].LineNumber);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("o=- 1 1 IN IP4 0.0.0.0\r\n", "line 1: SDP must start with v=")]
    [InlineData("v=1\r\n", "line 1: unsupported SDP version")]
    [InlineData("v=0\r\ns=-\r\n", "SDP has no o= line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4\r\n", "line 2: o= needs six fields")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio\r\n", "line 4: bad m= line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n", "line 4: bad m= line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio x RTP/AVP 0\r\n", "line 4: bad m= line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nhello\r\n", "line 4: not a \"x=value\" SDP line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nA=x\r\n", "line 4: not a \"x=value\" SDP line")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=\r\n", "line 4: bad attribute name")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=a b:c\r\n", "line 4: bad attribute name")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=mid:\0\r\n", "line 4: control character in value")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\na=mid:0\r\r\n", "line 4: control character in value")]
    [InlineData("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\ns=again\r\n", "line 4: unexpected s=")]
    [InlineData("v=0\r\nv=0\r\n", "line 2: duplicate v=")]
    [InlineData("v=0\r\nc=IN IP4 0.0.0.0\r\n", "line 2: c= before o=")]
    public void Bad_input_is_an_error_that_names_the_line(string text, string expected)
    {
        Assert.Contains(expected, ParseError(text));
    }

    [Fact]
    public void Null_input_is_an_error()
    {
        Assert.False(SdpDocument.TryParse(null, out _, out var error));
        Assert.Contains("empty", error);
    }

    [Fact]
    public void Oversized_sdp_is_refused_before_parsing()
    {
        var text = SdpFixtures.ChromeVideoAndDataOffer + new string('a', 300 * 1024);
        Assert.Contains("limit 262144", ParseError(text));
    }

    [Fact]
    public void Too_many_sections_lines_or_a_too_long_value_are_refused_with_the_line()
    {
        var head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
        var sections = head + string.Concat(Enumerable.Repeat("m=audio 9 RTP/AVP 0\r\n", 513));
        Assert.Equal("line 517: more than 512 media sections", ParseError(sections));

        var lines = head + string.Concat(Enumerable.Repeat("a=x\r\n", 100));
        Assert.Equal("line 51: more than 50 lines", ParseError(lines, new SdpLimits { MaxLines = 50 }));

        var longValue = head + "a=x:" + new string('y', 5000) + "\r\n";
        Assert.Equal("line 5: value is 5002 characters, limit 4096", ParseError(longValue));
    }

    [Fact]
    public void Connection_setter_inserts_in_canonical_place()
    {
        var doc = Parse("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nb=AS:1\r\nt=0 0\r\n");
        doc.Connection = "IN IP4 192.0.2.1";
        Assert.Equal(['c', 'b', 't'], doc.Lines.Select(l => l.Type));
        doc.Connection = null;
        Assert.Null(doc.Connection);
    }
}
