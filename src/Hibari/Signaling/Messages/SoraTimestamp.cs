using System.Globalization;

namespace Hibari.Signaling.Messages;

/// <summary>Sora's timestamps: RFC 3339, UTC, microseconds, `Z` (e.g. 2023-12-31T23:59:59.999999Z, Appendix B.2).</summary>
public static class SoraTimestamp
{
    public static string Format(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
