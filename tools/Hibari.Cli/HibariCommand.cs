using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hibari.Cli;

/// <summary>
/// `hibari`: operators' calls to a node's HTTP API (docs/operations.md, "The hibari command"). Exit codes: 0 success,
/// 1 the API answered an error, 2 usage error, 3 no usable answer (unreachable, timeout, too many redirects).
/// </summary>
internal static class HibariCommand
{
    public const int Ok = 0, ApiError = 1, UsageError = 2, Unreachable = 3;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr,
        HttpMessageHandler? handler = null, Func<string, string?>? environment = null)
    {
        Command? command = null;
        IReadOnlyList<string> words = [];
        try
        {
            var a = CliArgs.Parse(args, environment);
            if (a.Words is ["help", ..])
            {
                a.Words.RemoveAt(0);
                a.Help = true;
            }
            words = a.Words;
            command = Commands.Find(a.Words);
            if (a.Help)
            {
                stdout.Write(command is not null ? CommandUsage(command) : Usage(a.Words));
                return Ok;
            }
            if (a.Words.Count == 0) throw new UsageException("no command given");
            if (command is null) throw new UsageException($"unknown command: {string.Join(' ', a.Words)}");
            var arguments = a.Words.Skip(command.Words.Length).ToList();
            foreach (var name in a.Options.Keys)
                if (!command.Options.Contains(name)) throw new UsageException($"{command.Name} takes no --{name}");
            if (arguments.Count < command.MinArgs || arguments.Count > command.MaxArgs)
                throw new UsageException(arguments.Count < command.MinArgs ? "missing arguments" : $"unexpected argument: {arguments[command.MaxArgs]}");
            var call = command.Build(arguments, a.Options);
            return await CallAsync(a, command, call, stdout, stderr, handler).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            stderr.WriteLine("hibari: " + e.Message);
            stderr.Write(command is not null ? CommandUsage(command) : Usage(words));
            return UsageError;
        }
    }

    private static async Task<int> CallAsync(CliArgs a, Command command, ApiCall call, TextWriter stdout, TextWriter stderr, HttpMessageHandler? handler)
    {
        ApiAnswer answer;
        try
        {
            answer = await new ApiClient(handler).CallAsync(a.Url, call.Target, call.Body, a.Timeout).ConfigureAwait(false);
        }
        catch (UnreachableException e)
        {
            stderr.WriteLine("hibari: " + e.Message);
            return Unreachable;
        }
        JsonNode? json = null;
        var isJson = true;
        var empty = answer.Body.Trim().Length == 0;
        try { json = empty ? null : JsonNode.Parse(answer.Body); }
        catch (JsonException) { isJson = false; }
        if (answer.Status is < 200 or > 299)
        {
            stderr.WriteLine("hibari: " + ErrorLine(answer.Status, isJson ? json : null, answer.Body));
            return ApiError;
        }
        if (!isJson)
        {
            stderr.WriteLine($"hibari: {answer.Url} answered {answer.Status} with something that is not JSON: {Shorten(answer.Body)}");
            return Unreachable;
        }
        if (a.Json)
        {
            if (!empty) stdout.WriteLine(TextTable.Pretty(json));
        }
        else command.Render(json, stdout);
        return Ok;
    }

    /// <summary>`400 InvalidBody: channel_id is required`: the status, the API's `error_type` and `message`.</summary>
    public static string ErrorLine(int status, JsonNode? body, string text)
    {
        var type = (body as JsonObject)?["error_type"] is JsonValue t && t.TryGetValue<string>(out var ts) ? ts : null;
        var message = (body as JsonObject)?["message"] is JsonValue m && m.TryGetValue<string>(out var ms) ? ms : null;
        if (type is null && message is null) return text.Trim().Length == 0 ? $"{status}" : $"{status}: {Shorten(text)}";
        return message is null ? $"{status} {type}" : type is null ? $"{status}: {message}" : $"{status} {type}: {message}";
    }

    private static string Shorten(string text)
    {
        text = text.Trim().ReplaceLineEndings(" ");
        return text.Length <= 200 ? text : text[..200] + "...";
    }

    // --- usage texts ---

    private const string Options = """
        Options:
          --url URL          the node's API (default http://127.0.0.1:3000/, or $HIBARI_API_URL)
          --json             print the API's JSON answer (indented) instead of a table
          --timeout SECONDS  give up after this long (default 60), redirects included
          -h, --help         this text; `hibari COMMAND --help` for one command

        Exit codes: 0 success, 1 the API answered an error, 2 usage error, 3 no answer (unreachable, timeout).
        See docs/operations.md, "The hibari command".

        """;

    /// <summary>The commands (all, or those under <paramref name="prefix"/>, e.g. `cluster`) and the global options.</summary>
    public static string Usage(IReadOnlyList<string> prefix)
    {
        var list = Commands.All.Where(c => c.Words.Take(prefix.Count).SequenceEqual(prefix)).ToList();
        if (list.Count == 0) list = [.. Commands.All];
        var sb = new StringBuilder("Usage: hibari [OPTIONS] COMMAND [ARGUMENTS]\n\nCommands:\n");
        sb.Append(TextTable.KeyValues(list.Select(c => (c.Name + (c.Arguments.Length > 0 ? " " + c.Arguments : ""), c.Summary)), "  "));
        return sb.Append('\n').Append(Options).ToString();
    }

    public static string CommandUsage(Command c) => $"Usage: {c.Usage}\n  {c.Summary}\n\n{Options}";
}
