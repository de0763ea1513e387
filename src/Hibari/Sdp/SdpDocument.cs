using System.Text;

namespace Hibari.Sdp;

/// <summary>Bounds on untrusted SDP: a browser's offer is ~10 KB and 140 lines; a Sora re-offer to a big room is larger.</summary>
public sealed record SdpLimits
{
    public int MaxLength { get; init; } = 256 * 1024;
    public int MaxLines { get; init; } = 32 * 1024;
    public int MaxSections { get; init; } = 512;
    /// <summary>Longest value of one line (after "x="); ssrc-group and candidate lines are well below it.</summary>
    public int MaxValueLength { get; init; } = 4096;
    public static SdpLimits Default { get; } = new();
}

/// <summary>One "x=value" line other than v/o/s/m/a, kept verbatim (i, u, e, p, c, b, t, r, z, k, unknown).</summary>
public readonly record struct SdpLine(char Type, string Value);

/// <summary>
/// One "a=" line: <see cref="Value"/> is null for a flag attribute ("a=rtcp-mux") and the raw text after the first ':'
/// otherwise, leading spaces included, so writing it back is exact. <see cref="LineNumber"/> is where the parser found
/// it (0 when built in code) and is not part of equality.
/// </summary>
public sealed record SdpAttribute(string Name, string? Value)
{
    public int LineNumber { get; init; }

    public bool Equals(SdpAttribute? other) =>
        other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal) && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Name, Value);

    public override string ToString() => Value is null ? $"a={Name}" : $"a={Name}:{Value}";
}

/// <summary>The o= line (RFC 8866 §5.2). Session id and version are kept as text; <see cref="TryGetVersion"/> reads them.</summary>
public sealed record SdpOrigin(string Username, string SessionId, string SessionVersion, string NetType, string AddrType, string Address)
{
    public bool TryGetVersion(out ulong version) => ulong.TryParse(SessionVersion, System.Globalization.NumberStyles.None, null, out version);
    public bool TryGetSessionId(out ulong id) => ulong.TryParse(SessionId, System.Globalization.NumberStyles.None, null, out id);
    public override string ToString() => $"{Username} {SessionId} {SessionVersion} {NetType} {AddrType} {Address}";
}

/// <summary>Attribute list shared by the session and each media section, with lookups by name.</summary>
public abstract class SdpAttributeHolder
{
    public List<SdpAttribute> Attributes { get; } = new();

    /// <summary>Value of the first attribute of that name (null if absent or a flag).</summary>
    public string? Get(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a.Value;
        return null;
    }

    public SdpAttribute? Find(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public IEnumerable<SdpAttribute> All(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) yield return a;
    }

    public bool Has(string name) => Find(name) is not null;

    public void Add(string name, string? value = null) => Attributes.Add(new SdpAttribute(name, value));

    protected static bool SameAttributes(List<SdpAttribute> a, List<SdpAttribute> b) => a.SequenceEqual(b);
}

/// <summary>One m= section: the m= line, its other lines (i, c, b, k) and its attributes in order.</summary>
public sealed class SdpMediaSection : SdpAttributeHolder, IEquatable<SdpMediaSection>
{
    public string Kind { get; set; } = "";
    public int Port { get; set; }
    /// <summary>The "/n" of "port/n", rarely used.</summary>
    public int? PortCount { get; set; }
    public string Proto { get; set; } = "";
    public List<string> Formats { get; } = new();
    /// <summary>i, c, b, k and unknown lines of this section in canonical order.</summary>
    public List<SdpLine> Lines { get; } = new();
    /// <summary>Line number of the m= line (0 when built in code); not part of equality.</summary>
    public int LineNumber { get; set; }

    public string? Connection
    {
        get { foreach (var l in Lines) if (l.Type == 'c') return l.Value; return null; }
        set => SdpDocument.SetLine(Lines, 'c', value, SdpDocument.MediaRank);
    }

    public bool Equals(SdpMediaSection? other) =>
        other is not null && Kind == other.Kind && Port == other.Port && PortCount == other.PortCount && Proto == other.Proto &&
        Formats.SequenceEqual(other.Formats) && Lines.SequenceEqual(other.Lines) && SameAttributes(Attributes, other.Attributes);

    public override bool Equals(object? obj) => Equals(obj as SdpMediaSection);
    public override int GetHashCode() => HashCode.Combine(Kind, Port, Proto, Formats.Count, Attributes.Count);
}

/// <summary>
/// A parsed SDP (RFC 8866): generic, lossless for everything WebRTC uses. Parsing is tolerant of "\n" line ends,
/// blank lines and unknown attributes; writing emits "\r\n" lines in the canonical order of RFC 8866 §5, which the
/// parser also sorts into, so parse → write → parse is the identity on the model.
/// </summary>
public sealed class SdpDocument : SdpAttributeHolder, IEquatable<SdpDocument>
{
    public int Version { get; set; }
    public SdpOrigin Origin { get; set; } = new("-", "0", "0", "IN", "IP4", "127.0.0.1");
    public string SessionName { get; set; } = "-";
    /// <summary>i, u, e, p, c, b, t, r, z, k and unknown session lines in canonical order (t/r keep their interleaving).</summary>
    public List<SdpLine> Lines { get; } = new();
    public List<SdpMediaSection> Media { get; } = new();

    public string? Connection
    {
        get { foreach (var l in Lines) if (l.Type == 'c') return l.Value; return null; }
        set => SetLine(Lines, 'c', value, SessionRank);
    }

    // RFC 8866 §5: v o s i u e p c b {t r} z k a, then m sections (m i c b k a). Unknown letters go just before a=.
    internal static int SessionRank(char type) => type switch
    {
        'i' => 3, 'u' => 4, 'e' => 5, 'p' => 6, 'c' => 7, 'b' => 8, 't' or 'r' => 9, 'z' => 10, 'k' => 11, _ => 12,
    };

    internal static int MediaRank(char type) => type switch { 'i' => 1, 'c' => 2, 'b' => 3, 'k' => 4, _ => 5 };

    internal static void SetLine(List<SdpLine> lines, char type, string? value, Func<char, int> rank)
    {
        var at = lines.FindIndex(l => l.Type == type);
        if (value is null) { if (at >= 0) lines.RemoveAt(at); return; }
        if (at >= 0) { lines[at] = new SdpLine(type, value); return; }
        var r = rank(type);
        var insert = lines.FindIndex(l => rank(l.Type) > r);
        lines.Insert(insert < 0 ? lines.Count : insert, new SdpLine(type, value));
    }

    public static bool TryParse(string? text, out SdpDocument document, out string error) =>
        SdpParser.TryParse(text, SdpLimits.Default, out document, out error);

    public static bool TryParse(string? text, SdpLimits limits, out SdpDocument document, out string error) =>
        SdpParser.TryParse(text, limits, out document, out error);

    /// <summary>Canonical text: "\r\n" after every line.</summary>
    public string Write()
    {
        var sb = new StringBuilder(1024 + Media.Count * 1024);
        sb.Append("v=").Append(Version).Append("\r\n");
        sb.Append("o=").Append(Origin.ToString()).Append("\r\n");
        sb.Append("s=").Append(SessionName).Append("\r\n");
        foreach (var l in Lines) sb.Append(l.Type).Append('=').Append(l.Value).Append("\r\n");
        foreach (var a in Attributes) sb.Append(a.ToString()).Append("\r\n");
        foreach (var m in Media)
        {
            sb.Append("m=").Append(m.Kind).Append(' ').Append(m.Port);
            if (m.PortCount is { } n) sb.Append('/').Append(n);
            sb.Append(' ').Append(m.Proto);
            foreach (var f in m.Formats) sb.Append(' ').Append(f);
            sb.Append("\r\n");
            foreach (var l in m.Lines) sb.Append(l.Type).Append('=').Append(l.Value).Append("\r\n");
            foreach (var a in m.Attributes) sb.Append(a.ToString()).Append("\r\n");
        }
        return sb.ToString();
    }

    public override string ToString() => Write();

    public bool Equals(SdpDocument? other) =>
        other is not null && Version == other.Version && Origin == other.Origin && SessionName == other.SessionName &&
        Lines.SequenceEqual(other.Lines) && SameAttributes(Attributes, other.Attributes) && Media.SequenceEqual(other.Media);

    public override bool Equals(object? obj) => Equals(obj as SdpDocument);
    public override int GetHashCode() => HashCode.Combine(Origin, SessionName, Media.Count, Attributes.Count);
}
