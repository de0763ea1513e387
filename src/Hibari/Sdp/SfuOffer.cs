using System.Globalization;
using System.Net;

namespace Hibari.Sdp;

/// <summary>
/// A stream the SFU sends on a sendonly section: another publisher's track. Sora: <see cref="StreamId"/> is the
/// publisher's connection_id (docs/protocol-notes.md, "Connect sequence" 11). <see cref="RtxSsrc"/> goes into a=ssrc-group:FID.
/// </summary>
public sealed record OfferedStream(uint Ssrc, uint? RtxSsrc, string Cname, string StreamId, string TrackId);

/// <summary>
/// One m-line of the server's offer. <see cref="Direction"/> is the server's view: recvonly for what the client
/// publishes, sendonly for another publisher's stream. A <see cref="Rejected"/> section (a departed publisher) keeps
/// its mid with port 0 and a=inactive so it can be reused later (docs/protocol-notes.md, "Other messages and re-offers").
/// </summary>
public sealed record OfferSection
{
    public required string Mid { get; init; }
    public required MediaKind Kind { get; init; }
    public MediaDirection Direction { get; init; } = MediaDirection.RecvOnly;
    /// <summary>Usually one codec (Sora offers only the chosen one); its RTX follows it. Empty for application.</summary>
    public IReadOnlyList<RtpCodec> Codecs { get; init; } = [];
    /// <summary>What the SFU sends here (sendonly/sendrecv sections), else null.</summary>
    public OfferedStream? Stream { get; init; }
    /// <summary>Simulcast layers the SFU wants from the client on a recvonly video section (a=rid:x recv).</summary>
    public IReadOnlyList<string> RecvRids { get; init; } = [];
    /// <summary>Of <see cref="RecvRids"/>, those offered paused ("~rid" in a=simulcast, RFC 8853 §5.1): inactive encodings.</summary>
    public IReadOnlyList<string> PausedRids { get; init; } = [];
    /// <summary>Null: <see cref="CodecCatalog.ExtensionsFor"/> the kind.</summary>
    public IReadOnlyList<ExtMap>? HeaderExtensions { get; init; }
    public bool Rejected { get; init; }
    /// <summary>The client's send limit on its own publishing section: b=AS in kbps (video_bit_rate, D-34), else none.</summary>
    public int? MaxBitrateKbps { get; init; }
    /// <summary>a=ptime in ms on the client's own audio section (opus_params.ptime, D-34), else none.</summary>
    public int? Ptime { get; init; }
    public int SctpPort { get; init; } = 5000;
    public long MaxMessageSize { get; init; } = 262144;

    public IReadOnlyList<ExtMap> EffectiveExtensions => HeaderExtensions ?? CodecCatalog.ExtensionsFor(Kind);

    public bool Equals(OfferSection? o) =>
        o is not null && Mid == o.Mid && Kind == o.Kind && Direction == o.Direction && Codecs.SequenceEqual(o.Codecs) &&
        Stream == o.Stream && RecvRids.SequenceEqual(o.RecvRids) && PausedRids.SequenceEqual(o.PausedRids) && EffectiveExtensions.SequenceEqual(o.EffectiveExtensions) &&
        Rejected == o.Rejected && MaxBitrateKbps == o.MaxBitrateKbps && Ptime == o.Ptime && SctpPort == o.SctpPort && MaxMessageSize == o.MaxMessageSize;

    public override int GetHashCode() => HashCode.Combine(Mid, Kind, Direction, Rejected);
}

/// <summary>Everything the server's offer says. <see cref="SessionVersion"/> goes up by one on each re-offer.</summary>
public sealed record OfferSpec
{
    public required ulong SessionId { get; init; }
    public ulong SessionVersion { get; init; } = 1;
    public required string IceUfrag { get; init; }
    public required string IcePwd { get; init; }
    /// <summary>Our DTLS certificate's digest, sha-256 upper-case colon hex.</summary>
    public required SdpFingerprint Fingerprint { get; init; }
    public required IPAddress CandidateAddress { get; init; }
    public required int CandidatePort { get; init; }
    public IReadOnlyList<OfferSection> Sections { get; init; } = [];

    public OfferSection? Section(string mid) => Sections.FirstOrDefault(s => s.Mid == mid);

    /// <summary>The re-offer: same session id, version + 1 (RFC 8866 §5.2), the new section list.</summary>
    public OfferSpec Next(IReadOnlyList<OfferSection> sections) => this with { SessionVersion = SessionVersion + 1, Sections = sections };

    public bool Equals(OfferSpec? o) =>
        o is not null && SessionId == o.SessionId && SessionVersion == o.SessionVersion && IceUfrag == o.IceUfrag &&
        IcePwd == o.IcePwd && Fingerprint == o.Fingerprint && CandidateAddress.Equals(o.CandidateAddress) &&
        CandidatePort == o.CandidatePort && Sections.SequenceEqual(o.Sections);

    public override int GetHashCode() => HashCode.Combine(SessionId, SessionVersion, Sections.Count);
}

/// <summary>
/// Writes the SFU's offer (Sora: the server always offers). ICE-lite, one host candidate, BUNDLE over every section
/// that is not rejected, rtcp-mux, DTLS actpass (Chrome answers active, so the SFU is the DTLS server: docs/protocol-notes.md, "Chrome interop checklist" 1).
/// </summary>
public static class SfuOffer
{
    public const string MediaProto = "UDP/TLS/RTP/SAVPF";
    public const string DataProto = "UDP/DTLS/SCTP";
    /// <summary>The host candidate's priority: type preference 126, local preference 65535, component 1 (RFC 8445 §5.1.2).</summary>
    public const uint HostPriority = 2130706431;

    /// <summary>Null when the spec cannot be written (reported, not thrown).</summary>
    public static string? Validate(OfferSpec spec)
    {
        if (spec.Sections.Count == 0) return "offer has no sections";
        if (spec.CandidatePort is < 1 or > 65535) return "candidate port out of range";
        if (!IsToken(spec.IceUfrag) || !IsToken(spec.IcePwd)) return "ice-ufrag/ice-pwd must be non-empty tokens";
        if (!SdpFingerprint.TryParse(spec.Fingerprint.Format(), out _)) return "fingerprint is not colon hex";
        var mids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in spec.Sections)
        {
            if (!IsToken(s.Mid) || !mids.Add(s.Mid)) return $"mid \"{s.Mid}\" is empty, has spaces or repeats";
            if (s.Kind != MediaKind.Application && s.Codecs.Count == 0) return $"section {s.Mid} has no codec";
            if (s.Stream is { } st && (!IsToken(st.Cname) || !IsToken(st.StreamId) || !IsToken(st.TrackId)))
                return $"section {s.Mid}: cname, stream id and track id must be tokens";
            foreach (var rid in s.RecvRids) if (!Rid.IsRidId(rid)) return $"section {s.Mid}: bad rid \"{rid}\"";
            if (s.MaxBitrateKbps is <= 0 || s.Ptime is <= 0) return $"section {s.Mid}: b=AS and ptime must be positive";
        }
        return null;
    }

    /// <summary>The SDP text; throws only on a spec <see cref="Validate"/> refuses (a programming error, not input).</summary>
    public static string Write(OfferSpec spec) => Build(spec).Write();

    /// <summary>The SDP text, or the <see cref="Validate"/> error as a value.</summary>
    public static SdpResult<string> TryWrite(OfferSpec spec) =>
        Validate(spec) is { } problem ? SdpResult<string>.Fail(problem) : SdpResult<string>.Ok(Build(spec).Write());

    public static SdpDocument Build(OfferSpec spec)
    {
        if (Validate(spec) is { } problem) throw new ArgumentException(problem, nameof(spec));
        var doc = new SdpDocument
        {
            Origin = new SdpOrigin("-", spec.SessionId.ToString(CultureInfo.InvariantCulture),
                spec.SessionVersion.ToString(CultureInfo.InvariantCulture), "IN", "IP4", "127.0.0.1"),
            SessionName = "-",
        };
        doc.Lines.Add(new SdpLine('t', "0 0"));
        doc.Add("ice-lite");
        var bundle = spec.Sections.Where(s => !s.Rejected).Select(s => s.Mid).ToList();
        doc.Add("group", new SdpGroup("BUNDLE", bundle).Format());
        doc.Add("extmap-allow-mixed");
        doc.Add("msid-semantic", " WMS *");

        var candidate = new IceCandidate("1", 1, "udp", HostPriority, spec.CandidateAddress.ToString(), spec.CandidatePort, "host").Format();
        foreach (var s in spec.Sections) doc.Media.Add(Section(spec, s, candidate));
        return doc;
    }

    private static SdpMediaSection Section(OfferSpec spec, OfferSection s, string candidate)
    {
        var m = new SdpMediaSection
        {
            Kind = s.Kind.Name(),
            Port = s.Rejected ? 0 : 9, // 9 = discard, as JSEP writes it; the candidate carries the real address
            Proto = s.Kind == MediaKind.Application ? DataProto : MediaProto,
        };
        if (s.Kind == MediaKind.Application) m.Formats.Add("webrtc-datachannel");
        else
            foreach (var c in s.Codecs)
            {
                m.Formats.Add(c.PayloadType.ToString(CultureInfo.InvariantCulture));
                if (c.RtxPayloadType is { } rtx) m.Formats.Add(rtx.ToString(CultureInfo.InvariantCulture));
            }
        m.Connection = "IN IP4 0.0.0.0";
        if (!s.Rejected && s.MaxBitrateKbps is { } kbps)
            SdpDocument.SetLine(m.Lines, 'b', "AS:" + kbps.ToString(CultureInfo.InvariantCulture), SdpDocument.MediaRank);

        // Transport attributes in every section, rejected ones too: libwebrtc checks ufrag/pwd per non-bundled
        // m-section, and a port-0 section is outside the BUNDLE group. Candidates only where media can flow.
        m.Add("ice-ufrag", spec.IceUfrag);
        m.Add("ice-pwd", spec.IcePwd);
        m.Add("fingerprint", spec.Fingerprint.Format());
        m.Add("setup", "actpass");
        m.Add("mid", s.Mid);
        if (!s.Rejected)
        {
            m.Add("candidate", candidate);
            m.Add("end-of-candidates");
        }

        if (s.Kind == MediaKind.Application)
        {
            m.Add("sctp-port", s.SctpPort.ToString(CultureInfo.InvariantCulture));
            m.Add("max-message-size", s.MaxMessageSize.ToString(CultureInfo.InvariantCulture));
            return m;
        }

        if (!s.Rejected) foreach (var e in s.EffectiveExtensions) m.Add("extmap", e.Format());
        m.Add(s.Rejected ? "inactive" : s.Direction.Name());
        if (!s.Rejected && s.Stream is { } st) m.Add("msid", $"{st.StreamId} {st.TrackId}");
        m.Add("rtcp-mux");
        m.Add("rtcp-rsize");
        foreach (var c in s.Codecs)
        {
            m.Add("rtpmap", new RtpMap(c.PayloadType, c.Name, c.ClockRate, c.Channels).Format());
            foreach (var fb in c.Feedback) m.Add("rtcp-fb", $"{c.PayloadType} {fb}");
            if (c.Parameters is { Length: > 0 } p) m.Add("fmtp", $"{c.PayloadType} {p}");
            if (c.RtxPayloadType is { } rtx)
            {
                m.Add("rtpmap", new RtpMap(rtx, "rtx", c.ClockRate, null).Format());
                m.Add("fmtp", $"{rtx} apt={c.PayloadType}");
            }
        }
        if (s.Rejected) return m;
        if (s.Ptime is { } ptime) m.Add("ptime", ptime.ToString(CultureInfo.InvariantCulture));

        if (s.RecvRids.Count > 0)
        {
            foreach (var rid in s.RecvRids) m.Add("rid", $"{rid} recv");
            m.Add("simulcast", "recv " + string.Join(';', s.RecvRids.Select(r => s.PausedRids.Contains(r) ? "~" + r : r)));
        }
        if (s.Stream is { } stream)
        {
            if (stream.RtxSsrc is { } rtxSsrc) m.Add("ssrc-group", $"FID {stream.Ssrc} {rtxSsrc}");
            foreach (var ssrc in stream.RtxSsrc is { } r ? new[] { stream.Ssrc, r } : new[] { stream.Ssrc })
            {
                m.Add("ssrc", $"{ssrc} cname:{stream.Cname}");
                m.Add("ssrc", $"{ssrc} msid:{stream.StreamId} {stream.TrackId}");
            }
        }
        return m;
    }

    private static bool IsToken(string? s)
    {
        if (string.IsNullOrEmpty(s) || s.Length > 256) return false;
        foreach (var c in s) if (c <= ' ' || c == 0x7F) return false;
        return true;
    }
}
