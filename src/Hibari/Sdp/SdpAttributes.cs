using System.Globalization;

namespace Hibari.Sdp;

public enum MediaKind { Audio, Video, Application }

/// <summary>RFC 8866 §6.7; <see cref="Inactive"/> is also what a rejected section says.</summary>
public enum MediaDirection { SendRecv, SendOnly, RecvOnly, Inactive }

/// <summary>RFC 4145 / RFC 8842 a=setup.</summary>
public enum SetupRole { ActPass, Active, Passive, HoldConn }

public static class SdpEnums
{
    public static string Name(this MediaKind kind) => kind switch
    {
        MediaKind.Audio => "audio", MediaKind.Video => "video", _ => "application",
    };

    public static bool TryKind(string? s, out MediaKind kind)
    {
        switch (s)
        {
            case "audio": kind = MediaKind.Audio; return true;
            case "video": kind = MediaKind.Video; return true;
            case "application": kind = MediaKind.Application; return true;
            default: kind = default; return false;
        }
    }

    public static string Name(this MediaDirection d) => d switch
    {
        MediaDirection.SendRecv => "sendrecv", MediaDirection.SendOnly => "sendonly",
        MediaDirection.RecvOnly => "recvonly", _ => "inactive",
    };

    public static bool TryDirection(string? s, out MediaDirection d)
    {
        switch (s)
        {
            case "sendrecv": d = MediaDirection.SendRecv; return true;
            case "sendonly": d = MediaDirection.SendOnly; return true;
            case "recvonly": d = MediaDirection.RecvOnly; return true;
            case "inactive": d = MediaDirection.Inactive; return true;
            default: d = default; return false;
        }
    }

    /// <summary>What the other side's answer may say to an offered direction (RFC 3264 §6.1).</summary>
    public static bool IsValidAnswerTo(this MediaDirection answer, MediaDirection offer) => offer switch
    {
        MediaDirection.SendRecv => true,
        MediaDirection.SendOnly => answer is MediaDirection.RecvOnly or MediaDirection.Inactive,
        MediaDirection.RecvOnly => answer is MediaDirection.SendOnly or MediaDirection.Inactive,
        _ => answer == MediaDirection.Inactive,
    };

    public static string Name(this SetupRole r) => r switch
    {
        SetupRole.ActPass => "actpass", SetupRole.Active => "active", SetupRole.Passive => "passive", _ => "holdconn",
    };

    public static bool TrySetup(string? s, out SetupRole r)
    {
        switch (s?.Trim())
        {
            case "actpass": r = SetupRole.ActPass; return true;
            case "active": r = SetupRole.Active; return true;
            case "passive": r = SetupRole.Passive; return true;
            case "holdconn": r = SetupRole.HoldConn; return true;
            default: r = default; return false;
        }
    }
}

/// <summary>a=rtpmap:&lt;pt&gt; &lt;name&gt;/&lt;clock&gt;[/&lt;channels&gt;]</summary>
public sealed record RtpMap(int PayloadType, string EncodingName, int ClockRate, int? Channels)
{
    public static bool TryParse(string? value, out RtpMap map)
    {
        map = null!;
        var w = SdpText.Words(value);
        if (w.Length != 2 || !SdpText.TryInt(w[0], 0, 127, out var pt)) return false;
        var p = w[1].Split('/');
        if (p.Length is < 2 or > 3 || p[0].Length == 0 || !SdpText.TryInt(p[1], 1, 10_000_000, out var clock)) return false;
        int? channels = null;
        if (p.Length == 3)
        {
            if (!SdpText.TryInt(p[2], 1, 255, out var ch)) return false;
            channels = ch;
        }
        map = new RtpMap(pt, p[0], clock, channels);
        return true;
    }

    public string Format() => Channels is { } c ? $"{PayloadType} {EncodingName}/{ClockRate}/{c}" : $"{PayloadType} {EncodingName}/{ClockRate}";
}

/// <summary>a=fmtp:&lt;pt&gt; &lt;parameters&gt;; <see cref="Parameters"/> reads the usual "k=v;k=v" form.</summary>
public sealed record Fmtp(int PayloadType, string Text)
{
    public static bool TryParse(string? value, out Fmtp fmtp)
    {
        fmtp = null!;
        if (value is null) return false;
        var v = value.TrimStart();
        var space = v.IndexOf(' ');
        if (space <= 0 || !SdpText.TryInt(v.AsSpan(0, space), 0, 127, out var pt)) return false;
        fmtp = new Fmtp(pt, v[(space + 1)..].Trim());
        return true;
    }

    /// <summary>Keys lower-cased (RFC 6184 parameters are case-insensitive); a key without '=' maps to "".</summary>
    public IReadOnlyDictionary<string, string> Parameters => ParseParameters(Text);

    public static Dictionary<string, string> ParseParameters(string text)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            var key = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            if (key.Length > 0) d.TryAdd(key, eq < 0 ? "" : part[(eq + 1)..].Trim());
        }
        return d;
    }

    public string Format() => $"{PayloadType} {Text}";

    /// <summary>
    /// "k=v;…" with <paramref name="key"/> set to <paramref name="value"/>: replaced in place when present (key compared
    /// case-insensitively), appended otherwise; the other parameters keep their order and text.
    /// </summary>
    public static string Set(string? text, string key, string value)
    {
        var parts = (text ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var at = parts.FindIndex(p => string.Equals((p.IndexOf('=') is var eq and >= 0 ? p[..eq] : p).Trim(), key, StringComparison.OrdinalIgnoreCase));
        if (at >= 0) parts[at] = $"{key}={value}";
        else parts.Add($"{key}={value}");
        return string.Join(';', parts);
    }
}

/// <summary>a=rtcp-fb:&lt;pt|*&gt; &lt;type&gt; [&lt;parameter&gt;]; <see cref="PayloadType"/> is -1 for "*".</summary>
public sealed record RtcpFeedback(int PayloadType, string Type, string? Parameter)
{
    public static bool TryParse(string? value, out RtcpFeedback fb)
    {
        fb = null!;
        var w = SdpText.Words(value);
        if (w.Length < 2) return false;
        int pt;
        if (w[0] == "*") pt = -1;
        else if (!SdpText.TryInt(w[0], 0, 127, out pt)) return false;
        fb = new RtcpFeedback(pt, w[1], w.Length > 2 ? string.Join(' ', w, 2, w.Length - 2) : null);
        return true;
    }

    public string Format() => $"{(PayloadType < 0 ? "*" : PayloadType.ToString(CultureInfo.InvariantCulture))} {Type}{(Parameter is null ? "" : " " + Parameter)}";
}

/// <summary>a=extmap:&lt;id&gt;[/&lt;direction&gt;] &lt;uri&gt; [&lt;attributes&gt;] (RFC 8285). Ids 1–14 one-byte, up to 255 two-byte.</summary>
public sealed record ExtMap(int Id, string Uri, MediaDirection? Direction = null, string? ExtensionAttributes = null)
{
    public static bool TryParse(string? value, out ExtMap map)
    {
        map = null!;
        var w = SdpText.Words(value);
        if (w.Length < 2) return false;
        var idText = w[0];
        MediaDirection? dir = null;
        var slash = idText.IndexOf('/');
        if (slash >= 0)
        {
            if (!SdpEnums.TryDirection(idText[(slash + 1)..], out var d)) return false;
            dir = d;
            idText = idText[..slash];
        }
        if (!SdpText.TryInt(idText, 1, 255, out var id)) return false;
        map = new ExtMap(id, w[1], dir, w.Length > 2 ? string.Join(' ', w, 2, w.Length - 2) : null);
        return true;
    }

    public string Format() =>
        $"{Id}{(Direction is { } d ? "/" + d.Name() : "")} {Uri}{(ExtensionAttributes is null ? "" : " " + ExtensionAttributes)}";
}

/// <summary>a=ssrc:&lt;ssrc&gt; &lt;name&gt;[:&lt;value&gt;] (RFC 5576).</summary>
public sealed record SsrcAttribute(uint Ssrc, string Name, string? Value)
{
    public static bool TryParse(string? value, out SsrcAttribute a)
    {
        a = null!;
        if (value is null) return false;
        var v = value.Trim();
        var space = v.IndexOf(' ');
        if (space <= 0 || !SdpText.TryUInt(v.AsSpan(0, space), out var ssrc)) return false;
        var rest = v[(space + 1)..].TrimStart();
        if (rest.Length == 0) return false;
        var colon = rest.IndexOf(':');
        a = colon < 0 ? new SsrcAttribute(ssrc, rest, null) : new SsrcAttribute(ssrc, rest[..colon], rest[(colon + 1)..]);
        return a.Name.Length > 0;
    }

    public string Format() => Value is null ? $"{Ssrc} {Name}" : $"{Ssrc} {Name}:{Value}";
}

/// <summary>a=ssrc-group:&lt;semantics&gt; &lt;ssrc&gt;... ("FID media rtx", "SIM a b c").</summary>
public sealed record SsrcGroup(string Semantics, IReadOnlyList<uint> Ssrcs)
{
    public static bool TryParse(string? value, out SsrcGroup g)
    {
        g = null!;
        var w = SdpText.Words(value);
        if (w.Length < 2) return false;
        var ssrcs = new uint[w.Length - 1];
        for (var i = 1; i < w.Length; i++) if (!SdpText.TryUInt(w[i], out ssrcs[i - 1])) return false;
        g = new SsrcGroup(w[0], ssrcs);
        return true;
    }

    public string Format() => $"{Semantics} {string.Join(' ', Ssrcs)}";
    public bool Equals(SsrcGroup? o) => o is not null && Semantics == o.Semantics && Ssrcs.SequenceEqual(o.Ssrcs);
    public override int GetHashCode() => HashCode.Combine(Semantics, Ssrcs.Count);
}

/// <summary>a=msid:&lt;stream id&gt; [&lt;track id&gt;] (RFC 8830). Sora: stream id = the publisher's connection_id.</summary>
public sealed record Msid(string StreamId, string? TrackId)
{
    public static bool TryParse(string? value, out Msid msid)
    {
        msid = null!;
        var w = SdpText.Words(value);
        if (w.Length is < 1 or > 2) return false;
        msid = new Msid(w[0], w.Length == 2 ? w[1] : null);
        return true;
    }

    public string Format() => TrackId is null ? StreamId : $"{StreamId} {TrackId}";
}

/// <summary>a=rid:&lt;id&gt; send|recv [restrictions] (RFC 8851); <see cref="PayloadTypes"/> from "pt=".</summary>
public sealed record Rid(string Id, bool Send, string? Restrictions = null)
{
    public static bool TryParse(string? value, out Rid rid)
    {
        rid = null!;
        var w = SdpText.Words(value);
        if (w.Length < 2 || w[1] is not ("send" or "recv") || !IsRidId(w[0])) return false;
        rid = new Rid(w[0], w[1] == "send", w.Length > 2 ? string.Join(' ', w, 2, w.Length - 2) : null);
        return true;
    }

    /// <summary>RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_"), bounded here at 255 characters.</summary>
    public static bool IsRidId(string s)
    {
        if (s.Length is 0 or > 255) return false;
        foreach (var c in s) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')) return false;
        return true;
    }

    public IReadOnlyList<int> PayloadTypes
    {
        get
        {
            var list = new List<int>();
            if (Restrictions is null) return list;
            foreach (var part in Restrictions.Split(';', StringSplitOptions.TrimEntries))
                if (part.StartsWith("pt=", StringComparison.Ordinal))
                    foreach (var p in part[3..].Split(','))
                        if (SdpText.TryInt(p, 0, 127, out var pt)) list.Add(pt);
            return list;
        }
    }

    public string Format() => $"{Id} {(Send ? "send" : "recv")}{(Restrictions is null ? "" : " " + Restrictions)}";
}

/// <summary>One rid in a=simulcast; "~" marks it paused (RFC 8853 §5.1).</summary>
public readonly record struct SimulcastRid(string Id, bool Paused);

/// <summary>
/// a=simulcast:[send &lt;alts&gt;] [recv &lt;alts&gt;] (RFC 8853): each stream is a ';' list of ',' alternatives.
/// Chrome writes "send r0;r1;r2" in its answer to a "recv r0;r1;r2" offer (docs/protocol-notes.md, "RTP forwarding with Chrome").
/// </summary>
public sealed record Simulcast(IReadOnlyList<IReadOnlyList<SimulcastRid>> Send, IReadOnlyList<IReadOnlyList<SimulcastRid>> Recv)
{
    public static bool TryParse(string? value, out Simulcast simulcast)
    {
        simulcast = null!;
        var w = SdpText.Words(value);
        if (w.Length is not (2 or 4)) return false;
        List<IReadOnlyList<SimulcastRid>>? send = null, recv = null;
        for (var i = 0; i < w.Length; i += 2)
        {
            var list = ParseStreams(w[i + 1]);
            if (list is null) return false;
            if (w[i] == "send" && send is null) send = list;
            else if (w[i] == "recv" && recv is null) recv = list;
            else return false;
        }
        simulcast = new Simulcast(send ?? [], recv ?? []);
        return true;
    }

    private static List<IReadOnlyList<SimulcastRid>>? ParseStreams(string text)
    {
        var streams = new List<IReadOnlyList<SimulcastRid>>();
        foreach (var stream in text.Split(';'))
        {
            var alts = new List<SimulcastRid>();
            foreach (var alt in stream.Split(','))
            {
                var paused = alt.StartsWith('~');
                var id = paused ? alt[1..] : alt;
                if (!Rid.IsRidId(id)) return null;
                alts.Add(new SimulcastRid(id, paused));
            }
            streams.Add(alts);
        }
        return streams;
    }

    /// <summary>First alternative of each send stream, in order.</summary>
    public IReadOnlyList<string> SendRids => Send.Select(s => s[0].Id).ToList();
    public IReadOnlyList<string> RecvRids => Recv.Select(s => s[0].Id).ToList();

    public string Format()
    {
        static string F(IReadOnlyList<IReadOnlyList<SimulcastRid>> l) =>
            string.Join(';', l.Select(s => string.Join(',', s.Select(r => (r.Paused ? "~" : "") + r.Id))));
        var parts = new List<string>();
        if (Send.Count > 0) parts.Add("send " + F(Send));
        if (Recv.Count > 0) parts.Add("recv " + F(Recv));
        return string.Join(' ', parts);
    }
}

/// <summary>a=fingerprint:&lt;hash&gt; &lt;hex:hex:...&gt; (RFC 8122). Algorithm is lower-cased; value kept as sent.</summary>
public sealed record SdpFingerprint(string Algorithm, string Value)
{
    public static bool TryParse(string? value, out SdpFingerprint fp)
    {
        fp = null!;
        var w = SdpText.Words(value);
        if (w.Length != 2 || w[0].Length > 32) return false;
        if (!TryDecode(w[1], out _)) return false;
        fp = new SdpFingerprint(w[0].ToLowerInvariant(), w[1]);
        return true;
    }

    /// <summary>Upper-case colon hex of a digest (docs/protocol-notes.md, "Chrome interop checklist" 2).</summary>
    public static SdpFingerprint FromDigest(string algorithm, ReadOnlySpan<byte> digest) =>
        new(algorithm, string.Join(':', digest.ToArray().Select(b => b.ToString("X2", CultureInfo.InvariantCulture))));

    public bool TryGetBytes(out byte[] bytes) => TryDecode(Value, out bytes);

    private static bool TryDecode(string hex, out byte[] bytes)
    {
        bytes = [];
        var parts = hex.Split(':');
        if (parts.Length is < 1 or > 64) return false;
        var result = new byte[parts.Length];
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].Length != 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out result[i])) return false;
        bytes = result;
        return true;
    }

    /// <summary>Digest length the algorithm implies, 0 if unknown.</summary>
    public int ExpectedLength => Algorithm switch { "sha-1" => 20, "sha-224" => 28, "sha-256" => 32, "sha-384" => 48, "sha-512" => 64, _ => 0 };

    public string Format() => $"{Algorithm} {Value}";
}

/// <summary>a=group:&lt;semantics&gt; &lt;mid&gt;... ("BUNDLE 0 1 2", RFC 8843).</summary>
public sealed record SdpGroup(string Semantics, IReadOnlyList<string> Mids)
{
    public static bool TryParse(string? value, out SdpGroup g)
    {
        g = null!;
        var w = SdpText.Words(value);
        if (w.Length < 1) return false;
        g = new SdpGroup(w[0], w[1..]);
        return true;
    }

    public string Format() => Mids.Count == 0 ? Semantics : $"{Semantics} {string.Join(' ', Mids)}";
    public bool Equals(SdpGroup? o) => o is not null && Semantics == o.Semantics && Mids.SequenceEqual(o.Mids);
    public override int GetHashCode() => HashCode.Combine(Semantics, Mids.Count);
}

/// <summary>
/// An ICE candidate (RFC 8839 §5.1): the value of "a=candidate:" or the trickled string "candidate:..." — both parse.
/// Extension pairs after the standard fields ("generation 0", "network-id 1", "ufrag x") are kept in order.
/// </summary>
public sealed record IceCandidate(
    string Foundation, int Component, string Transport, uint Priority, string Address, int Port, string Type,
    string? RelatedAddress = null, int? RelatedPort = null, string? TcpType = null,
    IReadOnlyList<KeyValuePair<string, string>>? Extensions = null)
{
    public static bool TryParse(string? text, out IceCandidate candidate)
    {
        candidate = null!;
        if (text is null || text.Length > 1024) return false;
        var t = text.Trim();
        if (t.StartsWith("a=", StringComparison.Ordinal)) t = t[2..];
        if (t.StartsWith("candidate:", StringComparison.OrdinalIgnoreCase)) t = t[10..];
        var w = SdpText.Words(t);
        if (w.Length < 8 || w[6] != "typ") return false;
        if (w[0].Length is 0 or > 32) return false;
        if (!SdpText.TryInt(w[1], 1, 256, out var component)) return false;
        if (!SdpText.TryUInt(w[3], out var priority)) return false;
        if (!SdpText.TryInt(w[5], 0, 65535, out var port)) return false;
        string? raddr = null, tcptype = null;
        int? rport = null;
        var ext = new List<KeyValuePair<string, string>>();
        for (var i = 8; i < w.Length; i += 2)
        {
            if (i + 1 >= w.Length) return false; // extension-att-name and value come in pairs
            switch (w[i])
            {
                case "raddr": raddr = w[i + 1]; break;
                case "rport":
                    if (!SdpText.TryInt(w[i + 1], 0, 65535, out var rp)) return false;
                    rport = rp;
                    break;
                case "tcptype": tcptype = w[i + 1]; break;
                default: ext.Add(new(w[i], w[i + 1])); break;
            }
        }
        candidate = new IceCandidate(w[0], component, w[2], priority, w[4], port, w[7], raddr, rport, tcptype, ext);
        return true;
    }

    /// <summary>The attribute value ("1 1 udp ... typ host"); prefix "candidate:" for the trickle form.</summary>
    public string Format()
    {
        var s = $"{Foundation} {Component} {Transport} {Priority} {Address} {Port} typ {Type}";
        if (RelatedAddress is not null) s += $" raddr {RelatedAddress}";
        if (RelatedPort is { } rp) s += $" rport {rp}";
        if (TcpType is not null) s += $" tcptype {TcpType}";
        if (Extensions is not null) foreach (var kv in Extensions) s += $" {kv.Key} {kv.Value}";
        return s;
    }

    public bool Equals(IceCandidate? o) => o is not null && Format() == o.Format();
    public override int GetHashCode() => Format().GetHashCode();
}

/// <summary>Typed reads of the attributes WebRTC uses; malformed values are skipped (enumerations) or null.</summary>
public static class SdpAttributeViews
{
    public static string? Mid(this SdpMediaSection m) => m.Get("mid")?.Trim();

    /// <summary>The direction attribute; sendrecv when absent (RFC 8866 §6.7).</summary>
    public static MediaDirection Direction(this SdpAttributeHolder h)
    {
        foreach (var a in h.Attributes)
            if (a.Value is null && SdpEnums.TryDirection(a.Name, out var d)) return d;
        return MediaDirection.SendRecv;
    }

    public static bool HasDirection(this SdpAttributeHolder h) =>
        h.Attributes.Exists(a => a.Value is null && SdpEnums.TryDirection(a.Name, out _));

    public static IEnumerable<RtpMap> RtpMaps(this SdpMediaSection m) => Typed<RtpMap>(m, "rtpmap", RtpMap.TryParse);
    public static IEnumerable<Fmtp> Fmtps(this SdpMediaSection m) => Typed<Fmtp>(m, "fmtp", Fmtp.TryParse);
    public static IEnumerable<RtcpFeedback> RtcpFeedbacks(this SdpMediaSection m) => Typed<RtcpFeedback>(m, "rtcp-fb", RtcpFeedback.TryParse);
    public static IEnumerable<ExtMap> ExtMaps(this SdpAttributeHolder h) => Typed<ExtMap>(h, "extmap", ExtMap.TryParse);
    public static IEnumerable<SsrcAttribute> SsrcAttributes(this SdpMediaSection m) => Typed<SsrcAttribute>(m, "ssrc", SsrcAttribute.TryParse);
    public static IEnumerable<SsrcGroup> SsrcGroups(this SdpMediaSection m) => Typed<SsrcGroup>(m, "ssrc-group", SsrcGroup.TryParse);
    public static IEnumerable<Rid> Rids(this SdpMediaSection m) => Typed<Rid>(m, "rid", Rid.TryParse);
    public static IEnumerable<IceCandidate> Candidates(this SdpAttributeHolder h) => Typed<IceCandidate>(h, "candidate", IceCandidate.TryParse);
    public static IEnumerable<SdpFingerprint> Fingerprints(this SdpAttributeHolder h) => Typed<SdpFingerprint>(h, "fingerprint", SdpFingerprint.TryParse);
    public static IEnumerable<SdpGroup> Groups(this SdpDocument d) => Typed<SdpGroup>(d, "group", SdpGroup.TryParse);

    public static Msid? Msid(this SdpMediaSection m) => Msid_(m.Get("msid"));
    private static Msid? Msid_(string? v) => Hibari.Sdp.Msid.TryParse(v, out var x) ? x : null;

    public static Simulcast? Simulcast(this SdpMediaSection m) =>
        Hibari.Sdp.Simulcast.TryParse(m.Get("simulcast"), out var s) ? s : null;

    public static SetupRole? Setup(this SdpAttributeHolder h) => SdpEnums.TrySetup(h.Get("setup"), out var r) ? r : null;
    public static string? IceUfrag(this SdpAttributeHolder h) => h.Get("ice-ufrag")?.Trim();
    public static string? IcePwd(this SdpAttributeHolder h) => h.Get("ice-pwd")?.Trim();
    public static IReadOnlyList<string> IceOptions(this SdpAttributeHolder h) => SdpText.Words(h.Get("ice-options"));
    public static bool IceLite(this SdpDocument d) => d.Has("ice-lite");
    public static bool RtcpMux(this SdpMediaSection m) => m.Has("rtcp-mux");
    public static bool RtcpRsize(this SdpMediaSection m) => m.Has("rtcp-rsize");
    public static bool EndOfCandidates(this SdpAttributeHolder h) => h.Has("end-of-candidates");
    public static bool ExtmapAllowMixed(this SdpAttributeHolder h) => h.Has("extmap-allow-mixed");

    public static int? SctpPort(this SdpMediaSection m) => SdpText.TryInt(m.Get("sctp-port")?.Trim(), 0, 65535, out var p) ? p : null;
    public static long? MaxMessageSize(this SdpMediaSection m) =>
        long.TryParse(m.Get("max-message-size")?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>The BUNDLE group's mids, empty if none.</summary>
    public static IReadOnlyList<string> BundleMids(this SdpDocument d) =>
        d.Groups().FirstOrDefault(g => g.Semantics == "BUNDLE")?.Mids ?? [];

    /// <summary>Payload types of the m= line that are numbers (RTP formats).</summary>
    public static IEnumerable<int> PayloadTypes(this SdpMediaSection m)
    {
        foreach (var f in m.Formats) if (SdpText.TryInt(f, 0, 127, out var pt)) yield return pt;
    }

    private delegate bool Parser<T>(string? value, out T result);

    private static IEnumerable<T> Typed<T>(SdpAttributeHolder h, string name, Parser<T> parse)
    {
        foreach (var a in h.Attributes)
            if (a.Name == name && parse(a.Value, out var v)) yield return v;
    }
}
