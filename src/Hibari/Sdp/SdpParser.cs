namespace Hibari.Sdp;

/// <summary>
/// Line-based SDP parser for untrusted input: every failure is an error string naming the line, never an exception.
/// Only the structure is checked here (v/o/m shape, limits, characters); attribute values are read by the typed views.
/// </summary>
internal static class SdpParser
{
    public static bool TryParse(string? text, SdpLimits limits, out SdpDocument document, out string error)
    {
        document = new SdpDocument();
        error = "";
        if (string.IsNullOrEmpty(text)) return Fail("SDP is empty", out error);
        if (text.Length > limits.MaxLength) return Fail($"SDP is {text.Length} characters, limit {limits.MaxLength}", out error);

        var doc = new SdpDocument();
        SdpMediaSection? media = null;
        bool sawVersion = false, sawOrigin = false, sawName = false;
        var lineNumber = 0;
        var lines = 0;
        var pos = 0;
        while (pos < text.Length)
        {
            var end = text.IndexOf('\n', pos);
            if (end < 0) end = text.Length;
            var line = text.AsSpan(pos, end - pos);
            pos = end + 1;
            lineNumber++;
            if (line.Length > 0 && line[^1] == '\r') line = line[..^1];
            if (line.IsWhiteSpace()) continue; // tolerate blank lines and a missing or doubled final line end
            if (++lines > limits.MaxLines) return Fail($"line {lineNumber}: more than {limits.MaxLines} lines", out error);
            if (line.Length < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
                return Fail($"line {lineNumber}: not a \"x=value\" SDP line", out error);
            var type = line[0];
            var value = line[2..];
            if (value.Length > limits.MaxValueLength)
                return Fail($"line {lineNumber}: value is {value.Length} characters, limit {limits.MaxValueLength}", out error);
            foreach (var c in value)
                if ((c < 0x20 && c != '\t') || c == 0x7F) return Fail($"line {lineNumber}: control character in value", out error);

            if (!sawVersion)
            {
                if (type != 'v') return Fail($"line {lineNumber}: SDP must start with v=", out error);
                if (!value.SequenceEqual("0")) return Fail($"line {lineNumber}: unsupported SDP version", out error);
                sawVersion = true;
                continue;
            }

            switch (type)
            {
                case 'v':
                    return Fail($"line {lineNumber}: duplicate v=", out error);
                case 'o':
                    if (sawOrigin || media is not null) return Fail($"line {lineNumber}: unexpected o=", out error);
                    if (!TryOrigin(value, out var origin)) return Fail($"line {lineNumber}: o= needs six fields", out error);
                    doc.Origin = origin;
                    sawOrigin = true;
                    break;
                case 's':
                    if (sawName || media is not null) return Fail($"line {lineNumber}: unexpected s=", out error);
                    doc.SessionName = value.ToString();
                    sawName = true;
                    break;
                case 'm':
                    if (!sawOrigin) return Fail($"line {lineNumber}: m= before o=", out error);
                    if (doc.Media.Count >= limits.MaxSections)
                        return Fail($"line {lineNumber}: more than {limits.MaxSections} media sections", out error);
                    if (!TryMediaLine(value, out media)) return Fail($"line {lineNumber}: bad m= line", out error);
                    media!.LineNumber = lineNumber;
                    doc.Media.Add(media);
                    break;
                case 'a':
                    var colon = value.IndexOf(':');
                    var name = colon < 0 ? value : value[..colon];
                    if (name.Length == 0 || name.ContainsAny(' ', '\t'))
                        return Fail($"line {lineNumber}: bad attribute name", out error);
                    var attribute = new SdpAttribute(name.ToString(), colon < 0 ? null : value[(colon + 1)..].ToString()) { LineNumber = lineNumber };
                    (media?.Attributes ?? doc.Attributes).Add(attribute);
                    break;
                default:
                    if (!sawOrigin) return Fail($"line {lineNumber}: {type}= before o=", out error);
                    (media?.Lines ?? doc.Lines).Add(new SdpLine(type, value.ToString()));
                    break;
            }
        }

        if (!sawVersion) return Fail("SDP has no v= line", out error);
        if (!sawOrigin) return Fail("SDP has no o= line", out error);
        // The model is canonical: lines sorted (stably) into RFC 8866 order, a missing t= made explicit.
        Canonicalize(doc.Lines, SdpDocument.SessionRank);
        foreach (var m in doc.Media) Canonicalize(m.Lines, SdpDocument.MediaRank);
        if (!doc.Lines.Exists(l => l.Type == 't'))
            SdpDocument.SetLine(doc.Lines, 't', "0 0", SdpDocument.SessionRank);
        document = doc;
        return true;
    }

    private static bool Fail(string message, out string error)
    {
        error = message;
        return false;
    }

    private static void Canonicalize(List<SdpLine> lines, Func<char, int> rank)
    {
        if (lines.Count < 2) return;
        var sorted = lines.OrderBy(l => rank(l.Type)).ToList(); // OrderBy is stable: keeps t/r and b/b order
        lines.Clear();
        lines.AddRange(sorted);
    }

    private static bool TryOrigin(ReadOnlySpan<char> value, out SdpOrigin origin)
    {
        origin = null!;
        var parts = value.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6) return false;
        origin = new SdpOrigin(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
        return true;
    }

    private static bool TryMediaLine(ReadOnlySpan<char> value, out SdpMediaSection? media)
    {
        media = null;
        var parts = value.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 3) return false;
        var portText = parts[1];
        int? count = null;
        var slash = portText.IndexOf('/');
        if (slash >= 0)
        {
            if (!SdpText.TryInt(portText.AsSpan(slash + 1), 1, 65535, out var n)) return false;
            count = n;
            portText = portText[..slash];
        }
        if (!SdpText.TryInt(portText, 0, 65535, out var port)) return false;
        media = new SdpMediaSection { Kind = parts[0], Port = port, PortCount = count, Proto = parts[2] };
        for (var i = 3; i < parts.Length; i++) media.Formats.Add(parts[i]);
        return true;
    }
}

/// <summary>Small number readers shared by the typed views: digits only, bounded, no exceptions.</summary>
internal static class SdpText
{
    public static bool TryInt(ReadOnlySpan<char> s, int min, int max, out int value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 10) return false;
        long v = 0;
        foreach (var c in s)
        {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        if (v < min || v > max) return false;
        value = (int)v;
        return true;
    }

    public static bool TryUInt(ReadOnlySpan<char> s, out uint value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 10) return false;
        ulong v = 0;
        foreach (var c in s)
        {
            if (c < '0' || c > '9') return false;
            v = v * 10 + (ulong)(c - '0');
        }
        if (v > uint.MaxValue) return false;
        value = (uint)v;
        return true;
    }

    /// <summary>Splits on runs of spaces/tabs.</summary>
    public static string[] Words(string? s) =>
        s is null ? [] : s.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
}
