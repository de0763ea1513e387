using System.Net;
using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

public sealed class SfuOfferTests
{
    private static SdpDocument Written(OfferSpec spec)
    {
        var text = SfuOffer.Write(spec);
        Assert.True(SdpDocument.TryParse(text, out var doc, out var error), error);
        Assert.Equal(text, doc.Write()); // our own output is already canonical
        return doc;
    }

    [Fact]
    public void Sora_offer_is_ice_lite_bundles_every_live_mid_and_offers_actpass_with_one_host_candidate()
    {
        var doc = Written(SdpFixtures.SoraStyleOffer());
        Assert.True(doc.IceLite());
        Assert.True(doc.ExtmapAllowMixed());
        Assert.Equal(" WMS *", doc.Get("msid-semantic"));
        Assert.Equal(["0", "1", "2", "3"], doc.BundleMids());
        Assert.Equal("4611731400430051336", doc.Origin.SessionId);
        Assert.Equal("3", doc.Origin.SessionVersion);
        foreach (var m in doc.Media.Take(4))
        {
            Assert.Equal(9, m.Port);
            Assert.Equal("UDP/TLS/RTP/SAVPF", m.Proto);
            Assert.Equal("IN IP4 0.0.0.0", m.Connection);
            Assert.Equal(SetupRole.ActPass, m.Setup());
            Assert.Equal("hibari1a", m.IceUfrag());
            Assert.Equal(SdpFixtures.ServerFingerprint, m.Fingerprints().Single().Value);
            Assert.Equal("1 1 udp 2130706431 192.0.2.10 5000 typ host", m.Get("candidate"));
            Assert.True(m.EndOfCandidates());
            Assert.True(m.RtcpMux());
            Assert.True(m.RtcpRsize());
        }
    }

    [Fact]
    public void Publisher_sections_are_recvonly_and_ask_for_simulcast_by_rid()
    {
        var doc = Written(SdpFixtures.SoraStyleOffer());
        var audio = doc.Media[0];
        Assert.Equal(MediaDirection.RecvOnly, audio.Direction());
        Assert.Equal(["111"], audio.Formats);
        Assert.Equal("111 minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1", audio.Get("fmtp"));
        Assert.Equal([1, 4, 5], audio.ExtMaps().Select(e => e.Id));
        var video = doc.Media[1];
        Assert.Equal(["96", "97"], video.Formats);
        Assert.Equal(["r0", "r1", "r2"], video.Rids().Select(r => r.Id));
        Assert.All(video.Rids(), r => Assert.False(r.Send));
        Assert.Equal(["r0", "r1", "r2"], video.Simulcast()!.RecvRids);
        Assert.Equal("97 apt=96", video.Fmtps().Single().Format());
        Assert.Equal(["goog-remb", "nack", "nack pli", "ccm fir"],
            video.RtcpFeedbacks().Select(f => f.Parameter is null ? f.Type : f.Type + " " + f.Parameter));
        Assert.Equal([1, 2, 3, 4], video.ExtMaps().Select(e => e.Id));
        Assert.Empty(video.SsrcAttributes());
    }

    [Fact]
    public void Other_publishers_stream_is_sendonly_with_msid_stream_id_equal_to_its_connection_id_and_fid_group()
    {
        var doc = Written(SdpFixtures.SoraStyleOffer());
        var video = doc.Media[3];
        Assert.Equal(MediaDirection.SendOnly, video.Direction());
        Assert.Equal(new Msid("PUBLISHERCONNECTIONID0000A", "video-P7"), video.Msid());
        Assert.Equal(new SsrcGroup("FID", [2001u, 2002u]), video.SsrcGroups().Single());
        Assert.Equal(
            ["2001 cname:hibari-P7", "2001 msid:PUBLISHERCONNECTIONID0000A video-P7", "2002 cname:hibari-P7", "2002 msid:PUBLISHERCONNECTIONID0000A video-P7"],
            video.SsrcAttributes().Select(a => a.Format()));
        var audio = doc.Media[2];
        Assert.Empty(audio.SsrcGroups());
        Assert.Equal(["1001 cname:hibari-P7", "1001 msid:PUBLISHERCONNECTIONID0000A audio-P7"], audio.SsrcAttributes().Select(a => a.Format()));
    }

    [Fact]
    public void Departed_publishers_sections_keep_their_mid_with_port_0_inactive_credentials_and_no_candidates()
    {
        var doc = Written(SdpFixtures.SoraStyleOffer());
        foreach (var m in doc.Media.Skip(4))
        {
            Assert.Equal(0, m.Port);
            Assert.Equal(MediaDirection.Inactive, m.Direction());
            Assert.NotNull(m.Mid());
            Assert.Equal("hibari1a", m.IceUfrag());
            Assert.Equal(SetupRole.ActPass, m.Setup());
            Assert.Empty(m.Candidates());
            Assert.False(m.EndOfCandidates());
            Assert.Empty(m.ExtMaps());
            Assert.Empty(m.SsrcAttributes());
            Assert.NotEmpty(m.Formats);
        }
    }

    [Fact]
    public void Data_channel_section_is_udp_dtls_sctp_with_sctp_port_and_max_message_size()
    {
        var spec = SdpFixtures.SoraStyleOffer() with
        {
            Sections = [.. SdpFixtures.SoraStyleOffer().Sections, new OfferSection { Mid = "6", Kind = MediaKind.Application }],
        };
        var m = Written(spec).Media[6];
        Assert.Equal("m=application 9 UDP/DTLS/SCTP webrtc-datachannel", $"m={m.Kind} {m.Port} {m.Proto} {string.Join(' ', m.Formats)}");
        Assert.Equal(5000, m.SctpPort());
        Assert.Equal(262144, m.MaxMessageSize());
        Assert.False(m.HasDirection());
        Assert.Empty(m.ExtMaps());
    }

    [Fact]
    public void Every_section_uses_the_same_extmap_id_for_the_same_uri()
    {
        var doc = Written(SdpFixtures.SoraStyleOffer());
        var byUri = doc.Media.SelectMany(m => m.ExtMaps()).GroupBy(e => e.Uri);
        Assert.All(byUri, g => Assert.Single(g.Select(e => e.Id).Distinct()));
        var byId = doc.Media.SelectMany(m => m.ExtMaps()).GroupBy(e => e.Id);
        Assert.All(byId, g => Assert.Single(g.Select(e => e.Uri).Distinct()));
    }

    [Fact]
    public void Invalid_spec_is_reported_by_validate()
    {
        var spec = SdpFixtures.SoraStyleOffer();
        Assert.Null(SfuOffer.Validate(spec));
        Assert.NotNull(SfuOffer.Validate(spec with { Sections = [] }));
        Assert.NotNull(SfuOffer.Validate(spec with { IceUfrag = "has space" }));
        Assert.NotNull(SfuOffer.Validate(spec with { CandidatePort = 0 }));
        Assert.NotNull(SfuOffer.Validate(spec with { Sections = [spec.Sections[0], spec.Sections[0]] }));
        Assert.NotNull(SfuOffer.Validate(spec with { Sections = [spec.Sections[0] with { Codecs = [] }] }));
        Assert.NotNull(SfuOffer.Validate(spec with { Fingerprint = new SdpFingerprint("sha-256", "nothex") }));
        Assert.Throws<ArgumentException>(() => SfuOffer.Write(spec with { Sections = [] }));
        Assert.Equal("offer has no sections", SfuOffer.TryWrite(spec with { Sections = [] }).Error);
        Assert.Equal(SfuOffer.Write(spec), SfuOffer.TryWrite(spec).Value);
    }

    [Fact]
    public void Random_specs_written_and_read_back_give_the_same_spec()
    {
        var rng = new Random(8866);
        for (var i = 0; i < 300; i++)
        {
            var spec = RandomSpec(rng);
            var doc = Written(spec);
            Assert.Equal(Normalize(spec), ReadBack(doc));
        }
    }

    [Fact]
    public void Re_offer_reuses_a_departed_mid_for_a_new_publisher_and_bumps_the_version()
    {
        var first = SdpFixtures.SoraStyleOffer();
        var sections = first.Sections.ToList();
        sections[5] = sections[5] with
        {
            Rejected = false, Direction = MediaDirection.SendOnly,
            Stream = new OfferedStream(3001, 3002, "hibari-Q9", "NEWPUBLISHERCONNECTIONID00", "video-Q9"),
        };
        var second = first.Next(sections);
        var doc = Written(second);
        Assert.Equal("4", doc.Origin.SessionVersion);
        Assert.Equal(first.SessionId.ToString(), doc.Origin.SessionId);
        Assert.Equal(["0", "1", "2", "3", "5"], doc.BundleMids());
        Assert.Equal("5", doc.Media[5].Mid());
        Assert.Equal(9, doc.Media[5].Port);
        Assert.Equal("NEWPUBLISHERCONNECTIONID00", doc.Media[5].Msid()!.StreamId);
    }

    internal static OfferSpec RandomSpec(Random rng)
    {
        var count = rng.Next(1, 41);
        var sections = new List<OfferSection>();
        var hasApplication = false;
        for (var i = 0; i < count; i++)
        {
            var mid = rng.Next(3) == 0 ? $"m{i}" : i.ToString();
            var roll = rng.Next(10);
            if (roll == 0 && !hasApplication)
            {
                hasApplication = true;
                sections.Add(new OfferSection
                {
                    Mid = mid, Kind = MediaKind.Application, Direction = MediaDirection.SendRecv,
                    SctpPort = rng.Next(1, 65536), MaxMessageSize = rng.Next(1, int.MaxValue), Rejected = rng.Next(5) == 0,
                });
                continue;
            }
            var kind = roll < 5 ? MediaKind.Audio : MediaKind.Video;
            var pool = CodecCatalog.All.Where(c => c.Kind == kind).ToList();
            var codecs = new List<RtpCodec> { pool[rng.Next(pool.Count)] };
            if (kind == MediaKind.Video && rng.Next(4) == 0)
            {
                var other = pool[rng.Next(pool.Count)];
                if (!codecs.Contains(other)) codecs.Add(other);
            }
            var direction = (MediaDirection)rng.Next(4);
            var sends = direction is MediaDirection.SendOnly or MediaDirection.SendRecv;
            OfferedStream? stream = sends
                ? new OfferedStream((uint)rng.NextInt64(0, 1L << 32), kind == MediaKind.Video && rng.Next(2) == 0 ? (uint)rng.NextInt64(0, 1L << 32) : null,
                    Token(rng), Token(rng), Token(rng))
                : null;
            IReadOnlyList<string> rids = kind == MediaKind.Video && direction == MediaDirection.RecvOnly && rng.Next(2) == 0
                ? Enumerable.Range(0, rng.Next(1, 4)).Select(n => $"r{n}").ToList()
                : [];
            sections.Add(new OfferSection
            {
                Mid = mid, Kind = kind, Direction = direction, Codecs = codecs, Stream = stream, RecvRids = rids,
                Rejected = rng.Next(5) == 0,
            });
        }
        if (sections.TrueForAll(s => s.Rejected)) sections[0] = sections[0] with { Rejected = false };
        var fp = new byte[32];
        rng.NextBytes(fp);
        var v6 = rng.Next(2) == 0;
        var addr = new byte[v6 ? 16 : 4];
        rng.NextBytes(addr);
        return new OfferSpec
        {
            SessionId = (ulong)rng.NextInt64(0, long.MaxValue), SessionVersion = (ulong)rng.Next(1, 1000),
            IceUfrag = Token(rng), IcePwd = Token(rng) + Token(rng),
            Fingerprint = SdpFingerprint.FromDigest("sha-256", fp),
            CandidateAddress = new IPAddress(addr), CandidatePort = rng.Next(1, 65536),
            Sections = sections,
        };
    }

    private static string Token(Random rng)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        return new string(Enumerable.Range(0, rng.Next(4, 27)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray());
    }

    /// <summary>What the SDP can say about a spec: a rejected section carries no stream, rids or extensions.</summary>
    private static OfferSpec Normalize(OfferSpec spec) => spec with
    {
        Sections = spec.Sections.Select(s => s switch
        {
            { Kind: MediaKind.Application } => s with { Direction = MediaDirection.SendRecv, HeaderExtensions = [] },
            { Rejected: true } => s with { Direction = MediaDirection.Inactive, Stream = null, RecvRids = [], HeaderExtensions = [] },
            _ => s with { HeaderExtensions = s.EffectiveExtensions },
        }).ToList(),
    };

    /// <summary>Rebuilds a spec from an offer using only the typed views.</summary>
    internal static OfferSpec ReadBack(SdpDocument doc)
    {
        var live = doc.Media.First(m => m.Port != 0);
        var candidate = live.Candidates().Single();
        var sections = new List<OfferSection>();
        foreach (var m in doc.Media)
        {
            Assert.True(SdpEnums.TryKind(m.Kind, out var kind));
            var fmtps = m.Fmtps().ToDictionary(f => f.PayloadType);
            var maps = m.RtpMaps().ToList();
            var codecs = new List<RtpCodec>();
            foreach (var map in maps.Where(x => x.EncodingName != "rtx"))
            {
                var rtx = maps.Where(x => x.EncodingName == "rtx")
                    .FirstOrDefault(x => fmtps.TryGetValue(x.PayloadType, out var f) && f.Parameters["apt"] == map.PayloadType.ToString());
                codecs.Add(new RtpCodec(kind, map.EncodingName, map.ClockRate, map.Channels, map.PayloadType,
                    fmtps.TryGetValue(map.PayloadType, out var fm) ? fm.Text : null,
                    m.RtcpFeedbacks().Where(f => f.PayloadType == map.PayloadType).Select(f => f.Parameter is null ? f.Type : $"{f.Type} {f.Parameter}").ToList(),
                    rtx?.PayloadType));
            }
            OfferedStream? stream = null;
            if (m.Msid() is { } msid)
            {
                var attrs = m.SsrcAttributes().ToList();
                var fid = m.SsrcGroups().SingleOrDefault(g => g.Semantics == "FID");
                stream = new OfferedStream(attrs[0].Ssrc, fid?.Ssrcs[1], attrs.First(a => a.Name == "cname").Value!, msid.StreamId, msid.TrackId!);
                Assert.All(attrs.Where(a => a.Name == "msid"), a => Assert.Equal(msid.Format(), a.Value));
            }
            sections.Add(new OfferSection
            {
                Mid = m.Mid()!, Kind = kind, Direction = m.Direction(), Codecs = codecs, Stream = stream,
                RecvRids = m.Rids().Where(r => !r.Send).Select(r => r.Id).ToList(),
                HeaderExtensions = m.ExtMaps().ToList(), Rejected = m.Port == 0,
                SctpPort = m.SctpPort() ?? 5000, MaxMessageSize = m.MaxMessageSize() ?? 262144,
            });
        }
        Assert.True(doc.Origin.TryGetSessionId(out var id));
        Assert.True(doc.Origin.TryGetVersion(out var version));
        Assert.Equal(doc.Media.Where(m => m.Port != 0).Select(m => m.Mid()), doc.BundleMids());
        return new OfferSpec
        {
            SessionId = id, SessionVersion = version, IceUfrag = live.IceUfrag()!, IcePwd = live.IcePwd()!,
            Fingerprint = live.Fingerprints().Single(), CandidateAddress = IPAddress.Parse(candidate.Address),
            CandidatePort = candidate.Port, Sections = sections,
        };
    }
}
