using System.Globalization;

namespace Hibari.Cli;

/// <summary>A usage error: exit 2, the message and the usage text on stderr.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>
/// The command line split strictly into words (the subcommand and its arguments) and options, global or the
/// subcommand's. `--name value` and `--name=value` both work, anywhere on the line; `--` ends the options (for an
/// argument that starts with `-`). Anything else that starts with `-` is an error.
/// </summary>
internal sealed record CliArgs
{
    public const string DefaultUrl = "http://127.0.0.1:3000/";
    public const string UrlVariable = "HIBARI_API_URL";

    /// <summary>Options of some subcommand (which ones a subcommand takes is in <see cref="Command.Options"/>).</summary>
    public static readonly string[] CommandOptions = ["connection", "client", "sender"];

    public List<string> Words { get; } = [];
    public Dictionary<string, string> Options { get; } = new(StringComparer.Ordinal);
    public Uri Url { get; private set; } = new(DefaultUrl);
    public bool Json { get; private set; }
    public bool Help { get; set; }
    public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(60);

    public static CliArgs Parse(IReadOnlyList<string> args, Func<string, string?>? environment = null)
    {
        var a = new CliArgs();
        string? url = (environment ?? Environment.GetEnvironmentVariable)(UrlVariable) is { Length: > 0 } fromEnv ? fromEnv : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var optionsEnded = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (optionsEnded || arg.Length < 2 || arg[0] != '-') { a.Words.Add(arg); continue; }
            if (arg == "--") { optionsEnded = true; continue; }
            if (arg is "-h" or "--help") { a.Help = true; continue; }
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unknown option {arg}");
            var name = arg[2..];
            string? value = null;
            if (name.IndexOf('=') is var eq and >= 0) (name, value) = (name[..eq], name[(eq + 1)..]);
            if (!seen.Add(name)) throw new UsageException($"--{name} is given twice");
            if (name == "json")
            {
                if (value is not null) throw new UsageException("--json takes no value");
                a.Json = true;
                continue;
            }
            if (name != "url" && name != "timeout" && !CommandOptions.Contains(name)) throw new UsageException($"unknown option --{name}");
            if (value is null)
            {
                if (i + 1 >= args.Count) throw new UsageException($"--{name} needs a value");
                value = args[++i];
            }
            switch (name)
            {
                case "url": url = value; break;
                case "timeout":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds > 0) || seconds > 86_400)
                        throw new UsageException("--timeout must be a number of seconds greater than 0");
                    a.Timeout = TimeSpan.FromSeconds(seconds);
                    break;
                default:
                    if (value.Length == 0) throw new UsageException($"--{name} needs a value");
                    a.Options[name] = value;
                    break;
            }
        }
        if (url is not null) a.Url = ParseUrl(url);
        return a;
    }

    /// <summary>The node's API URL: absolute http(s), as a node's `external_api_url` is written.</summary>
    public static Uri ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
            throw new UsageException($"the API URL must look like http://HOST:3000/ (got {text})");
        return uri;
    }
}
