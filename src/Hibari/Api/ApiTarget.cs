namespace Hibari.Api;

/// <summary>The `x-sora-target` grammar (docs/protocol-notes.md, "API conventions"): `Sora_` + 8 digits (YYYYMMDD) + `.` + operation name.</summary>
public static class ApiTarget
{
    private const string Prefix = "Sora_";

    /// <summary>True for e.g. `Sora_20211215.ListClusterNodes`; the name is an ASCII letter then letters or digits.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> target)
    {
        if (!target.StartsWith(Prefix, StringComparison.Ordinal))
            return false;
        var rest = target[Prefix.Length..];
        if (rest.Length < 10 || rest[8] != '.')
            return false;
        foreach (var c in rest[..8])
            if (!char.IsAsciiDigit(c))
                return false;
        var name = rest[9..];
        if (!char.IsAsciiLetter(name[0]))
            return false;
        foreach (var c in name)
            if (!char.IsAsciiLetterOrDigit(c))
                return false;
        return true;
    }
}
