using System.Net;
using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

/// <summary>
/// Reads a server offer (as <see cref="SfuOffer"/> writes it) back into the <see cref="OfferSpec"/> it was written from,
/// so that a captured answer can be checked against exactly the offer it answered. Test-only: it trusts its input.
/// </summary>
internal static class CapturedOfferSpec
{
    public static OfferSpec FromSdp(string sdp)
    {
        Assert.True(SdpDocument.TryParse(sdp, out var doc, out var error), error);
        Assert.True(doc.Origin.TryGetSessionId(out var sessionId));
        Assert.True(doc.Origin.TryGetVersion(out var version));
        var first = doc.Media[0];
        var candidate = doc.Media.SelectMany(m => m.Candidates()).First();
        return new OfferSpec
        {
            SessionId = sessionId,
            SessionVersion = version,
            IceUfrag = first.IceUfrag()!,
            IcePwd = first.IcePwd()!,
            Fingerprint = first.Fingerprints().Single(),
            CandidateAddress = IPAddress.Parse(candidate.Address),
            CandidatePort = candidate.Port,
            Sections = doc.Media.Select(Section).ToList(),
        };
    }

    private static OfferSection Section(SdpMediaSection m)
    {
        Assert.True(SdpEnums.TryKind(m.Kind, out var kind), m.Kind);
        var rejected = m.Port == 0;
        if (kind == MediaKind.Application)
            return new OfferSection
            {
                Mid = m.Mid()!, Kind = kind, Direction = m.Direction(), Rejected = rejected,
                SctpPort = m.SctpPort() ?? 5000, MaxMessageSize = m.MaxMessageSize() ?? 262144,
            };
        return new OfferSection
        {
            Mid = m.Mid()!,
            Kind = kind,
            Direction = m.Direction(),
            Rejected = rejected,
            Codecs = Codecs(m, kind),
            Stream = Stream(m),
            HeaderExtensions = rejected ? null : m.ExtMaps().ToList(),
        };
    }

    private static List<RtpCodec> Codecs(SdpMediaSection m, MediaKind kind)
    {
        var fmtps = m.Fmtps().ToDictionary(f => f.PayloadType, f => f.Text);
        var maps = m.RtpMaps().ToList();
        var rtxOf = maps.Where(r => r.EncodingName == "rtx")
            .ToDictionary(r => int.Parse(Fmtp.ParseParameters(fmtps[r.PayloadType])["apt"]), r => r.PayloadType);
        return maps.Where(r => r.EncodingName != "rtx").Select(r => new RtpCodec(
            kind, r.EncodingName, r.ClockRate, r.Channels, r.PayloadType, fmtps.GetValueOrDefault(r.PayloadType),
            m.RtcpFeedbacks().Where(f => f.PayloadType == r.PayloadType).Select(f => f.Parameter is null ? f.Type : $"{f.Type} {f.Parameter}").ToList(),
            rtxOf.TryGetValue(r.PayloadType, out var rtx) ? rtx : null)).ToList();
    }

    private static OfferedStream? Stream(SdpMediaSection m)
    {
        var ssrcs = m.SsrcAttributes().ToList();
        if (ssrcs.Count == 0) return null;
        var fid = m.SsrcGroups().SingleOrDefault(g => g.Semantics == "FID");
        var media = fid?.Ssrcs[0] ?? ssrcs[0].Ssrc;
        var cname = ssrcs.Single(a => a.Ssrc == media && a.Name == "cname").Value!;
        var msid = ssrcs.Single(a => a.Ssrc == media && a.Name == "msid").Value!.Split(' ');
        return new OfferedStream(media, fid?.Ssrcs[1], cname, msid[0], msid[1]);
    }
}
