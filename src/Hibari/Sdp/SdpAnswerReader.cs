namespace Hibari.Sdp;

/// <summary>A client SSRC and the RTX SSRC paired with it by a=ssrc-group:FID (null when none).</summary>
public readonly record struct ClientSsrc(uint Media, uint? Rtx);

/// <summary>One m-line of the client's answer.</summary>
public sealed record AnsweredSection
{
    public required int Index { get; init; }
    public required string Mid { get; init; }
    /// <summary>"audio", "video", "application" or whatever the m-line says.</summary>
    public required string Kind { get; init; }
    public required int Port { get; init; }
    public bool Rejected => Port == 0;
    public required MediaDirection Direction { get; init; }
    /// <summary>Payload types of the m-line, restricted to those offered when the offer is known, in answer order.</summary>
    public IReadOnlyList<int> PayloadTypes { get; init; } = [];
    /// <summary>extmap lines the answer kept (only ids offered with the same URI, when the offer is known).</summary>
    public IReadOnlyList<ExtMap> Extensions { get; init; } = [];
    public IReadOnlyList<ClientSsrc> Ssrcs { get; init; } = [];
    public Msid? Msid { get; init; }
    public IReadOnlyList<Rid> Rids { get; init; } = [];
    /// <summary>The rids of a=simulcast "send" (first alternative of each stream), empty without simulcast.</summary>
    public IReadOnlyList<string> SimulcastSend { get; init; } = [];
    public IReadOnlyList<IceCandidate> Candidates { get; init; } = [];
    public int? SctpPort { get; init; }
    public long? MaxMessageSize { get; init; }
}

/// <summary>The transport and per-mid facts of a client's answer that the SFU acts on.</summary>
public sealed record AnswerInfo
{
    public required string IceUfrag { get; init; }
    public required string IcePwd { get; init; }
    public required SdpFingerprint Fingerprint { get; init; }
    /// <summary>Active (Chrome, to our actpass) or passive; never actpass in an answer.</summary>
    public required SetupRole Setup { get; init; }
    public IReadOnlyList<string> BundleMids { get; init; } = [];
    public IReadOnlyList<AnsweredSection> Sections { get; init; } = [];
    public IReadOnlyList<IceCandidate> Candidates { get; init; } = [];

    public AnsweredSection? Section(string mid) => Sections.FirstOrDefault(s => s.Mid == mid);
}

/// <summary>
/// Reads a client's answer to our offer. Untrusted input: every problem is an error value naming the line.
/// With the offer at hand it also checks that the answer matches it (same m-lines in order, mids, kinds, RFC 3264
/// directions) and intersects payload types and extmaps with what was offered.
/// </summary>
public static class SdpAnswerReader
{
    public static SdpResult<AnswerInfo> Read(string? sdp, OfferSpec? offered, SdpLimits? limits = null)
    {
        if (!SdpDocument.TryParse(sdp, limits ?? SdpLimits.Default, out var doc, out var parseError))
            return Fail(parseError);

        if (offered is not null && doc.Media.Count != offered.Sections.Count)
            return Fail($"answer has {doc.Media.Count} m-lines, the offer had {offered.Sections.Count}");

        var sections = new List<AnsweredSection>(doc.Media.Count);
        var allCandidates = new List<IceCandidate>();
        string? ufrag = doc.IceUfrag(), pwd = doc.IcePwd();
        var fingerprint = PickFingerprint(doc, out var fpLine);
        var setupAttr = doc.Find("setup");
        var mids = new HashSet<string>(StringComparer.Ordinal);

        for (var i = 0; i < doc.Media.Count; i++)
        {
            var m = doc.Media[i];
            var where = $"line {m.LineNumber}";
            var mid = m.Mid();
            // A rejected section may drop its a=mid; the offer still names it by position.
            if (string.IsNullOrEmpty(mid) && m.Port == 0 && offered is not null) mid = offered.Sections[i].Mid;
            if (string.IsNullOrEmpty(mid)) return Fail($"{where}: m-line {i} has no a=mid");
            if (!mids.Add(mid)) return Fail($"{where}: mid \"{mid}\" repeats");
            var offer = offered?.Sections[i];
            if (offer is not null)
            {
                if (offer.Mid != mid) return Fail($"{where}: m-line {i} has mid \"{mid}\", the offer had \"{offer.Mid}\"");
                if (offer.Kind.Name() != m.Kind) return Fail($"{where}: mid {mid} is {m.Kind}, the offer had {offer.Kind.Name()}");
            }

            var direction = m.Direction();
            if (m.Port != 0)
            {
                if (offer is { Rejected: true }) return Fail($"{where}: mid {mid} was offered with port 0 but accepted");
                if (offer is not null && offer.Kind != MediaKind.Application && !direction.IsValidAnswerTo(offer.Direction))
                    return Fail($"{where}: mid {mid} answers {direction.Name()} to {offer.Direction.Name()}");
                ufrag ??= m.IceUfrag();
                pwd ??= m.IcePwd();
                if (fingerprint is null) fingerprint = PickFingerprint(m, out fpLine);
                setupAttr ??= m.Find("setup");
            }

            var offeredPts = offer is null ? null : OfferedPayloadTypes(offer);
            var pts = m.PayloadTypes().Where(pt => offeredPts is null || offeredPts.Contains(pt)).Distinct().ToList();
            if (m.Port != 0 && offer is not null && offer.Kind != MediaKind.Application && pts.Count == 0)
                return Fail($"{where}: mid {mid} accepts none of the offered payload types");
            var offeredExt = offer?.EffectiveExtensions;
            var ext = m.ExtMaps().Where(e => offeredExt is null || offeredExt.Any(o => o.Id == e.Id && o.Uri == e.Uri)).ToList();

            var candidates = m.Candidates().ToList();
            allCandidates.AddRange(candidates);
            var simulcast = m.Simulcast();
            sections.Add(new AnsweredSection
            {
                Index = i, Mid = mid, Kind = m.Kind, Port = m.Port,
                Direction = m.Port == 0 ? MediaDirection.Inactive : direction,
                PayloadTypes = pts, Extensions = ext, Ssrcs = Ssrcs(m), Msid = m.Msid(),
                Rids = m.Rids().Where(r => r.Send).ToList(),
                SimulcastSend = simulcast?.SendRids ?? [],
                Candidates = candidates, SctpPort = m.SctpPort(), MaxMessageSize = m.MaxMessageSize(),
            });
        }
        allCandidates.AddRange(doc.Candidates());

        if (!sections.Exists(s => !s.Rejected)) return Fail("answer rejects every m-line");
        if (string.IsNullOrEmpty(ufrag)) return Fail("answer has no a=ice-ufrag");
        if (string.IsNullOrEmpty(pwd)) return Fail("answer has no a=ice-pwd");
        // RFC 8839 §5.4: ufrag 4–256 characters, pwd 22–256.
        if (ufrag.Length is < 4 or > 256) return Fail("a=ice-ufrag must be 4–256 characters");
        if (pwd.Length is < 22 or > 256) return Fail("a=ice-pwd must be 22–256 characters");
        if (fingerprint is null)
            return Fail(fpLine > 0 ? $"line {fpLine}: no usable sha-256 a=fingerprint" : "answer has no a=fingerprint");
        if (setupAttr is null) return Fail("answer has no a=setup");
        if (!SdpEnums.TrySetup(setupAttr.Value, out var setup))
            return Fail($"line {setupAttr.LineNumber}: bad a=setup value");
        if (setup is SetupRole.ActPass or SetupRole.HoldConn)
            return Fail($"line {setupAttr.LineNumber}: answer says a=setup:{setup.Name()}; it must be active or passive");

        return SdpResult<AnswerInfo>.Ok(new AnswerInfo
        {
            IceUfrag = ufrag, IcePwd = pwd, Fingerprint = fingerprint, Setup = setup,
            BundleMids = doc.BundleMids(), Sections = sections, Candidates = allCandidates,
        });
    }

    private static SdpResult<AnswerInfo> Fail(string error) => SdpResult<AnswerInfo>.Fail(error);

    /// <summary>The sha-256 fingerprint (the only one we verify against: docs/protocol-notes.md, "Chrome interop checklist" 2).</summary>
    private static SdpFingerprint? PickFingerprint(SdpAttributeHolder h, out int line)
    {
        line = 0;
        foreach (var a in h.All("fingerprint"))
        {
            line = a.LineNumber;
            if (SdpFingerprint.TryParse(a.Value, out var fp) && fp.Algorithm == "sha-256" &&
                fp.TryGetBytes(out var bytes) && bytes.Length == 32)
                return fp;
        }
        return null;
    }

    private static HashSet<int> OfferedPayloadTypes(OfferSection s)
    {
        var set = new HashSet<int>();
        foreach (var c in s.Codecs)
        {
            set.Add(c.PayloadType);
            if (c.RtxPayloadType is { } r) set.Add(r);
        }
        return set;
    }

    /// <summary>Media SSRCs in order of first a=ssrc, each with its FID partner; the RTX SSRCs are not listed alone.</summary>
    private static List<ClientSsrc> Ssrcs(SdpMediaSection m)
    {
        var rtxOf = new Dictionary<uint, uint>();
        var repairs = new HashSet<uint>();
        foreach (var g in m.SsrcGroups())
            if (g.Semantics == "FID" && g.Ssrcs.Count == 2 && rtxOf.TryAdd(g.Ssrcs[0], g.Ssrcs[1])) repairs.Add(g.Ssrcs[1]);
        var seen = new HashSet<uint>();
        var list = new List<ClientSsrc>();
        foreach (var a in m.SsrcAttributes())
        {
            if (!seen.Add(a.Ssrc) || repairs.Contains(a.Ssrc)) continue;
            list.Add(new ClientSsrc(a.Ssrc, rtxOf.TryGetValue(a.Ssrc, out var r) ? r : null));
        }
        return list;
    }
}
