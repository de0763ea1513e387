using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Hibari.Config;

/// <summary>
/// The value syntaxes of hibari.conf. Each parser takes the trimmed, unquoted text and returns the value or
/// what is allowed (the part of the error after the colon). None throws.
/// </summary>
internal static class ConfigValues
{
    public static Parsed<bool> Boolean(string text) =>
        text.Equals("true", StringComparison.OrdinalIgnoreCase) ? Parsed<bool>.Ok(true)
        : text.Equals("false", StringComparison.OrdinalIgnoreCase) ? Parsed<bool>.Ok(false)
        : Parsed<bool>.Fail("expected true or false");

    /// <summary>A decimal integer in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static Func<string, Parsed<int>> Integer(int min, int max = int.MaxValue)
    {
        var expected = max == int.MaxValue
            ? $"expected an integer >= {min.ToString(CultureInfo.InvariantCulture)}"
            : $"expected an integer {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}";
        return text => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? Parsed<int>.Ok(v)
            : Parsed<int>.Fail(expected);
    }

    public static readonly Func<string, Parsed<int>> Port = Integer(1, 65535);
    /// <summary>A port to listen on, 0 meaning any free one.</summary>
    public static readonly Func<string, Parsed<int>> PortOrAny = Integer(0, 65535);

    /// <summary>A DNS host name (letters, digits, '-', '.'; no trailing dot) or an IP address, as URLs carry it.</summary>
    public static Parsed<string> HostName(string text) =>
        text.Length is > 0 and <= 253 && !text.EndsWith('.') && !text.StartsWith('.') && !text.Contains("..")
        && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ':')
            ? Parsed<string>.Ok(text)
            : Parsed<string>.Fail("expected a host name such as turn.example.com (no trailing dot) or an IP address");

    /// <summary>
    /// A number of bytes in <paramref name="min"/>..<paramref name="max"/>: a plain integer. sora.conf has no size
    /// units (its parser, kvconf, has no size type), so neither has Hibari (docs/decisions.md D-48).
    /// </summary>
    public static Func<string, Parsed<int>> Bytes(int min, int max)
    {
        var integer = Integer(min, max);
        var expected = $"expected a number of bytes {N(min)}..{N(max)}, an integer without a unit";
        return text => integer(text) is { Problem: null } ok ? ok : Parsed<int>.Fail(expected);
    }

    /// <summary>
    /// A duration in milliseconds for a Hibari `*_ms` key: a plain integer is milliseconds (as before), and Sora's
    /// duration syntax is taken too (`5 s`, `500 ms`, <see cref="SoraDuration"/>), so a value written the Sora way
    /// works (docs/decisions.md D-48).
    /// </summary>
    public static Func<string, Parsed<int>> Milliseconds(int min, int max)
    {
        var expected = $"expected a duration {N(min)}..{N(max)} ms: an integer of milliseconds, or a number and a unit "
            + "(ms, s, min, h) with a space between (e.g. 5 s)";
        return text =>
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var plain)
                ? plain >= min && plain <= max ? Parsed<int>.Ok(plain) : Parsed<int>.Fail(expected)
                : SoraDuration(text) is { } ms && ms >= min && ms <= max ? Parsed<int>.Ok((int)ms) : Parsed<int>.Fail(expected);
    }

    /// <summary>
    /// A duration the Sora way only, as Sora's own keys take it (`webhook_response_timeout = 30 s`): the unit is
    /// required, as in sora.conf. The result is in milliseconds (docs/decisions.md D-48).
    /// </summary>
    public static Func<string, Parsed<int>> SoraMilliseconds(int min, int max)
    {
        var expected = $"expected a duration {N(min)}..{N(max)} ms: a number and a unit (ms, s, min, h) with a space between (e.g. 30 s)";
        return text => SoraDuration(text) is { } ms && ms >= min && ms <= max ? Parsed<int>.Ok((int)ms) : Parsed<int>.Fail(expected);
    }

    /// <summary>
    /// Sora's duration (its kvconf "interval", docs/research/sora-conf.md): an integer, whitespace, and one of the
    /// units `ms`, `s`, `min`, `h` (lower case); `_` may group digits (`1_000 ms`). The value in milliseconds, or null
    /// when the text is not one (a unit glued to the number, `30s`, is not: sora.conf requires the space). Never throws.
    /// </summary>
    public static long? SoraDuration(string text)
    {
        var parts = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
            return null;
        var factor = parts[1] switch { "ms" => 1L, "s" => 1_000L, "min" => 60_000L, "h" => 3_600_000L, _ => 0L };
        var digits = parts[0].Replace("_", "", StringComparison.Ordinal);
        // At most 12 digits keeps every unit's product far inside a long; longer numbers are out of any range anyway.
        if (factor == 0 || digits.Length is 0 or > 12 || !digits.All(char.IsAsciiDigit))
            return null;
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * factor;
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>One of a fixed set of words (case-insensitive).</summary>
    public static Func<string, Parsed<T>> OneOf<T>(params (string Word, T Value)[] choices)
    {
        var expected = "expected one of " + string.Join(", ", choices.Select(c => c.Word));
        return text =>
        {
            foreach (var (word, value) in choices)
                if (text.Equals(word, StringComparison.OrdinalIgnoreCase))
                    return Parsed<T>.Ok(value);
            return Parsed<T>.Fail(expected);
        };
    }

    public static Parsed<IPAddress> IpAddress(string text) =>
        TryParseIp(text, out var ip)
            ? Parsed<IPAddress>.Ok(ip)
            : Parsed<IPAddress>.Fail("expected an IP address: IPv4 like 192.0.2.10 or IPv6 like 2001:db8::10");

    /// <summary>
    /// Strict IP syntax: dotted-quad IPv4 without leading zeros (IPAddress.Parse alone would take "1" or "010.0.0.1"
    /// as legacy inet_aton forms), or IPv6 without brackets or zone index.
    /// </summary>
    public static bool TryParseIp(string text, [NotNullWhen(true)] out IPAddress? ip)
    {
        ip = null;
        if (text.Contains(':'))
        {
            foreach (var c in text)
                if (!(char.IsAsciiHexDigit(c) || c is ':' or '.'))
                    return false;
            if (!IPAddress.TryParse(text, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            ip = v6;
            return true;
        }
        var parts = text.Split('.');
        if (parts.Length != 4)
            return false;
        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var p = parts[i];
            if (p.Length is 0 or > 3 || (p.Length > 1 && p[0] == '0') || !p.All(char.IsAsciiDigit))
                return false;
            var n = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
            if (n > 255)
                return false;
            bytes[i] = (byte)n;
        }
        ip = new IPAddress(bytes);
        return true;
    }

    private const string BareHost = "HOST must be an FQDN or IP address (contain a '.' or be an IP); a bare host name is rejected";

    /// <summary>
    /// C-CONF-2: `[0-9A-Za-z_-]+@HOST`, HOST an IP address or an FQDN. A bare host name is rejected because the
    /// other nodes must reach this node by its name, and a name without a domain resolves differently per machine.
    /// </summary>
    public static Parsed<string> NodeName(string text)
    {
        if (text.Length > 255)
            return Parsed<string>.Fail("expected at most 255 characters");
        var at = text.IndexOf('@');
        if (at <= 0 || text.AsSpan(0, at).ContainsAnyExcept(NameChars))
            return Parsed<string>.Fail("expected NAME@HOST with NAME of letters, digits, '_' or '-' (e.g. node-01@192.0.2.5)");
        var host = text[(at + 1)..];
        if (host.Length == 0)
            return Parsed<string>.Fail("expected NAME@HOST: HOST is missing");
        if (TryParseIp(host, out _))
            return Parsed<string>.Ok(text);
        if (host.Contains(':'))
            return Parsed<string>.Fail("HOST contains ':' but is not a valid IPv6 address");
        if (!host.Contains('.'))
            return Parsed<string>.Fail(BareHost);
        var labels = host.Split('.');
        if (host.Length > 253 || !labels.All(IsHostLabel))
            return Parsed<string>.Fail("HOST must be an FQDN of '.'-separated labels of letters, digits and '-' (1..63 characters, no '-' at either end), or an IP address");
        if (labels[^1].All(char.IsAsciiDigit))
            return Parsed<string>.Fail("HOST looks like an IPv4 address but is not a valid one");
        return Parsed<string>.Ok(text);
    }

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-");

    private static bool IsHostLabel(string label) =>
        label.Length is >= 1 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static readonly Func<string, Parsed<string>> WebSocketUrl =
        AbsoluteUrl("expected an absolute ws:// or wss:// URL (e.g. wss://node-01.example.com/signaling)", "ws", "wss");

    public static readonly Func<string, Parsed<string>> HttpUrl =
        AbsoluteUrl("expected an absolute http:// or https:// URL (e.g. https://node-01.example.com:3000)", "http", "https");

    private static Func<string, Parsed<string>> AbsoluteUrl(string expected, params string[] schemes) =>
        text => TryParseUrl(text, schemes, out _) ? Parsed<string>.Ok(text) : Parsed<string>.Fail(expected);

    private static bool TryParseUrl(string text, string[] schemes, [NotNullWhen(true)] out Uri? uri)
    {
        uri = null;
        // Require "scheme://" literally: Uri would also take "ws:host" or, on Unix, "/path" as file://.
        var sep = text.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0 || !schemes.Contains(text[..sep], StringComparer.OrdinalIgnoreCase)
            || text.Any(c => char.IsWhiteSpace(c) || ConfigErrors.IsLineBreakOrControl(c)))
            return false;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
            return false;
        uri = parsed;
        return true;
    }

    /// <summary>`*` or a browser origin (scheme, host, optional port; nothing else), as sent in Access-Control-Allow-Origin.</summary>
    public static Parsed<string> CorsOrigin(string text)
    {
        if (text == "*")
            return Parsed<string>.Ok(text);
        return TryParseUrl(text, ["http", "https"], out var uri) && !text.EndsWith('/') && uri.AbsolutePath == "/"
               && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? Parsed<string>.Ok(text)
            : Parsed<string>.Fail("expected \"*\" or an origin: http:// or https://, a host and an optional port, nothing after (e.g. https://app.example.com)");
    }

    /// <summary>Free text: non-empty and on one line.</summary>
    public static Func<string, Parsed<string>> Text(string what)
    {
        var expected = $"expected {what}: non-empty, without control characters";
        return text => text.Length > 0 && !text.Any(ConfigErrors.IsLineBreakOrControl) ? Parsed<string>.Ok(text) : Parsed<string>.Fail(expected);
    }

    public static Func<string, Parsed<string>> Secret(int minLength) => text =>
        text.Any(ConfigErrors.IsLineBreakOrControl) ? Parsed<string>.Fail("expected text without control characters")
        : text.Length < minLength ? Parsed<string>.Fail($"expected at least {minLength.ToString(CultureInfo.InvariantCulture)} characters")
        : Parsed<string>.Ok(text);

    public static Parsed<string> YearMonth(string text) =>
        text.Length == 7 && text[4] == '-' && !text.AsSpan(0, 4).ContainsAnyExcept(Digits) && !text.AsSpan(5).ContainsAnyExcept(Digits)
        && int.Parse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture) is >= 1 and <= 12
            ? Parsed<string>.Ok(text)
            : Parsed<string>.Fail("expected YYYY-MM with month 01..12 (e.g. 2099-12)");

    /// <summary>An H.264 profile-level-id (RFC 6184 §8.1): six hex digits, kept lower-case.</summary>
    public static Parsed<string> ProfileLevelId(string text) =>
        Hibari.Sdp.VideoCodecParams.IsProfileLevelId(text)
            ? Parsed<string>.Ok(text.ToLowerInvariant())
            : Parsed<string>.Fail("expected six hex digits (e.g. 42e01f)");

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");
}
