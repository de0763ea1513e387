namespace Hibari.Api;

/// <summary>The cluster dashboard page (D-53): one self-contained HTML file embedded in the assembly.</summary>
internal static class DashboardPage
{
    /// <summary>The page's bytes (UTF-8).</summary>
    public static readonly byte[] Html = Load();

    private static byte[] Load()
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream("Hibari.Dashboard.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the assembly (Hibari.Dashboard.html)");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
