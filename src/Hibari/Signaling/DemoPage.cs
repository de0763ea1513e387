using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hibari.Signaling;

/// <summary>
/// The demo page on the signaling port (http://HOST:signaling_port/): the files of `demo_dir` (web/ in the
/// repository) and `/sora.js` from that folder's npm install of sora-js-sdk. Only plain files directly in the folder
/// are served, by name, with a fixed content type per extension: no directory listing, no path traversal.
/// </summary>
internal static class DemoPage
{
    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".mjs"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".ico"] = "image/x-icon",
    };

    public static void Map(WebApplication app, string demoDir, ILogger log)
    {
        var root = Path.GetFullPath(demoDir);
        if (!File.Exists(Path.Combine(root, "index.html")))
        {
            log.LogInformation("No demo page: {Dir} has no index.html", root);
            return;
        }
        var soraJs = Path.Combine(root, "node_modules", "sora-js-sdk", "dist", "sora.js");
        if (!File.Exists(soraJs))
            log.LogWarning("Demo page: {File} is missing; run `npm ci --prefix {Dir}` (scripts/run-node.sh does)", soraJs, demoDir);
        log.LogInformation("Demo page from {Dir}", root);
        app.MapGet("/", context => ServeAsync(context, Path.Combine(root, "index.html")));
        app.MapGet("/sora.js", context => ServeAsync(context, soraJs));
        app.MapGet("/{name}", context =>
        {
            var name = (string)context.Request.RouteValues["name"]!;
            if (name.Contains('/') || name.Contains('\\') || name.StartsWith('.') || name.Contains("..", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return Task.CompletedTask;
            }
            return ServeAsync(context, Path.Combine(root, name));
        });
    }

    private static async Task ServeAsync(HttpContext context, string path)
    {
        if (!ContentTypes.TryGetValue(Path.GetExtension(path), out var type) || !File.Exists(path))
        {
            context.Response.StatusCode = 404;
            return;
        }
        context.Response.ContentType = type;
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.SendFileAsync(path).ConfigureAwait(false);
    }
}
