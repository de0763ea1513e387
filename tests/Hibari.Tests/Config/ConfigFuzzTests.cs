using Hibari.Config;

namespace Hibari.Tests.Config;

/// <summary>
/// Property tests: for thousands of random and mutated inputs the loader returns exactly one of options and a
/// one-line error, never throws, and every options it accepts obey every rule. Seeded, so a failure reproduces.
/// </summary>
public class ConfigFuzzTests
{
    private const int Iterations = 4000;

    private static readonly string[] KeyNames = ConfigKeys.All.Select(k => k.Name).ToArray();

    private static readonly string[] Keys = [.. KeyNames, "foo", "", "api_prot", "API_PORT", "cluster ", "node_name#", "=", "\"cluster\""];

    private static readonly string[] Values =
    [
        "", "true", "false", "TRUE", "yes", "0", "1", "2", "-1", "20", "3000", "5000", "49010", "49011", "49020", "65535", "65536",
        "2147483647", "2147483648", "127.0.0.2", "::1", "0.0.0.0", "256.1.1.1", "localhost", "node-01@192.0.2.5", "n@a.b",
        "node1@localhost", "n@fe80::1", "wss://a.example.com/signaling", "ws://192.0.2.5:5000", "https://a.example.com",
        "http://192.0.2.5:3000/", "*", "https://app.example.com", "2099-12", "2030-13", "info", "warning", "verbose",
        "max_nodes", "standard", "12345678", "short", "\"quoted # value\"", "\"", "\"\"", "a#b", "a #b", "x=y", "\\", "\u2028",
    ];

    private static readonly Dictionary<string, string> ValidValues =
        ConfigLoaderTests.NonDefaultValues.ToDictionary(row => (string)row[0], row => (string)row[1]);

    private const string Alphabet = "=#\" \t\r\n\\@.:-_/[]%*+abcdefxyzAPI_0123456789\0\u0007\u0085\u2028\u2029\uFEFF\u00e9\u3042\ud83d\ude00\ud800";

    private static readonly string FullConf = ConfigLoaderTests.ClusterConf + """

        # every other key, quoted and commented in the ways the syntax allows
        cluster_relay = false
        default_cluster_affinity = true # trailing comment
        cluster_affinity_threshold = 5
        cluster_listen_min_port = 49010
        cluster_listen_max_port = 49020
        cluster_temporary_node = false
        listen_address = 127.0.0.2
        api_port = 3000
        signaling_port = 5000
        rtc_udp_port = 50000
        data_dir = "/var/lib/hibari # data"
        api_cors_origin = https://app.example.com
        log_level = debug
        license_max_connections = 1000
        license_max_nodes = 10
        license_type = max_nodes
        license_serial_code = HIBARI#1
        license_expired_at = 2099-12
        """;

    [Fact]
    public void Random_text_never_throws_and_gives_exactly_one_of_options_or_error()
    {
        var rng = new Random(1);
        for (var i = 0; i < Iterations; i++)
        {
            // Mostly short inputs, now and then a large one to catch super-linear work.
            var text = RandomText(rng, i % 500 == 0 ? 50_000 : rng.Next(0, 200));
            var overrides = RandomOverrides(rng, valueSource: () => RandomText(rng, rng.Next(0, 20)));
            Check(ConfigLoader.Parse(text, overrides), text);
        }
    }

    [Fact]
    public void Random_key_value_configs_never_throw_and_what_is_accepted_obeys_every_rule()
    {
        var rng = new Random(2);
        var (accepted, rejected) = (0, 0);
        for (var i = 0; i < Iterations; i++)
        {
            // Half the time a complete cluster node underneath, so that random values meet the cluster rules too.
            var lines = new Dictionary<string, string>();
            if (rng.Next(2) == 0)
                foreach (var line in ConfigLoaderTests.ClusterConf.Split('\n'))
                    lines[line[..line.IndexOf('=')].Trim()] = line;
            for (var n = rng.Next(0, 6); n > 0; n--)
            {
                // Mostly known keys, so that many configs get past the syntax to the value and rule checks.
                var key = rng.Next(10) == 0 ? Pick(rng, Keys) : Pick(rng, KeyNames);
                var value = rng.Next(2) == 0 && ValidValues.TryGetValue(key, out var valid) ? valid : Pick(rng, Values);
                lines[key] = Pick(rng, ["", " ", "\t"]) + key + Pick(rng, ["=", " = ", "  =\t"]) + value
                    + Pick(rng, ["", " # comment", "#x", "\r"]);
            }
            var text = string.Join('\n', lines.Values);
            var result = ConfigLoader.Parse(text, RandomOverrides(rng, valueSource: () => Pick(rng, Values)));
            Check(result, text);
            if (result.Options is null) rejected++; else accepted++;
        }
        // Both outcomes must be common, or the property above says little.
        Assert.True(accepted > Iterations / 20, $"only {accepted} accepted");
        Assert.True(rejected > Iterations / 20, $"only {rejected} rejected");
    }

    [Fact]
    public void Mutated_valid_configs_never_throw_and_what_is_accepted_obeys_every_rule()
    {
        Assert.NotNull(ConfigLoader.Parse(FullConf, []).Options);
        var rng = new Random(3);
        var (accepted, rejected) = (0, 0);
        for (var i = 0; i < Iterations; i++)
        {
            var text = Mutate(rng, FullConf);
            var result = ConfigLoader.Parse(text, []);
            Check(result, text);
            if (result.Options is null) rejected++; else accepted++;
        }
        Assert.True(accepted > Iterations / 20, $"only {accepted} accepted");
        Assert.True(rejected > Iterations / 20, $"only {rejected} rejected");
    }

    [Fact]
    public void Random_command_lines_never_throw_and_give_exactly_one_of_options_or_error()
    {
        var rng = new Random(4);
        string[] pieces = ["--config", "--set", "--config=a.conf", "--config=", "--set=", "--set=api_port=3100", "api_port=3100",
            "log_level = debug", "=", "a.conf", "--", "-c", "--sett", "listen_address=127.0.0.2", "cluster=true"];
        for (var i = 0; i < Iterations; i++)
        {
            var args = new List<string>();
            for (var n = rng.Next(0, 6); n > 0; n--)
                args.Add(rng.Next(4) == 0 ? RandomText(rng, rng.Next(0, 12)) : Pick(rng, pieces));
            var file = Mutate(rng, FullConf);
            var mode = rng.Next(4);
            Func<string, string?> readFile = _ => mode switch
            {
                0 => null,
                1 => throw new IOException("disk on fire\nreally"),
                _ => file,
            };
            Check(ConfigLoader.FromCommandLine(args, readFile), string.Join(" | ", args));
        }
    }

    private static void Check(ConfigResult result, string input)
    {
        Assert.True((result.Options is null) != (result.Error is null), $"exactly one of options and error for: {input}");
        if (result.Error is { } error)
        {
            Assert.NotEmpty(error);
            Assert.True(!error.Any(ConfigErrors.IsLineBreakOrControl) && !error.Contains('\u0085'), $"multi-line error: {error}");
            Assert.True(error.Length < 600, $"overlong error: {error}");
        }
        else
            AssertObeysEveryRule(result.Options!);
    }

    /// <summary>The rules of docs/requirements.md section 2 restated independently of the loader.</summary>
    private static void AssertObeysEveryRule(HibariOptions o)
    {
        foreach (var port in new[] { o.ApiPort, o.SignalingPort, o.RtcUdpPort, o.ClusterListenMinPort, o.ClusterListenMaxPort })
            Assert.InRange(port, 1, 65535);
        Assert.True(o.ClusterListenMaxPort - o.ClusterListenMinPort >= 1); // C-CONF-8
        Assert.NotEqual(o.ApiPort, o.SignalingPort);
        Assert.False(o.ApiPort >= o.ClusterListenMinPort && o.ApiPort <= o.ClusterListenMaxPort);
        Assert.False(o.SignalingPort >= o.ClusterListenMinPort && o.SignalingPort <= o.ClusterListenMaxPort);
        Assert.True(o.ClusterAffinityThreshold >= 1);
        Assert.True(o.LicenseMaxConnections >= 0);
        Assert.True(o.LicenseMaxNodes >= 1);
        Assert.Contains(o.LogLevel, new[] { "trace", "debug", "info", "warning", "error" });
        Assert.Matches(@"^[0-9]{4}-(0[1-9]|1[0-2])$", o.LicenseExpiredAt);
        Assert.NotNull(o.ListenAddress);
        if (o.Cluster)
        {
            Assert.NotNull(o.NodeName); // C-CONF-2
            Assert.NotNull(o.ExternalSignalingUrl); // C-CONF-3
            Assert.NotNull(o.ExternalApiUrl); // C-CONF-4
            Assert.NotNull(o.ClusterSecret);
        }
        if (o.NodeName is not null)
        {
            Assert.Matches(@"^[0-9A-Za-z_\-]+@[^@]+$", o.NodeName);
            Assert.True(o.NodeHost!.Contains('.') || o.NodeHost.Contains(':'), o.NodeName); // C-CONF-2
        }
        if (o.ExternalSignalingUrl is not null)
            Assert.Matches("^wss?://", o.ExternalSignalingUrl.ToLowerInvariant());
        if (o.ExternalApiUrl is not null)
            Assert.Matches("^https?://", o.ExternalApiUrl.ToLowerInvariant());
        if (o.ClusterSecret is not null)
            Assert.True(o.ClusterSecret.Length >= 8);
        foreach (var text in new[] { o.NodeName, o.ExternalSignalingUrl, o.ExternalApiUrl, o.ClusterSecret, o.DataDir, o.ApiCorsOrigin, o.LicenseSerialCode })
            Assert.True(text is null || (text.Length > 0 && !text.Any(ConfigErrors.IsLineBreakOrControl)), text);
    }

    private static KeyValuePair<string, string>[] RandomOverrides(Random rng, Func<string> valueSource)
    {
        var overrides = new KeyValuePair<string, string>[rng.Next(0, 4)];
        for (var i = 0; i < overrides.Length; i++)
            overrides[i] = KeyValuePair.Create(rng.Next(8) == 0 ? Pick(rng, Keys) : Pick(rng, KeyNames), valueSource());
        return overrides;
    }

    private static string RandomText(Random rng, int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
            chars[i] = Alphabet[rng.Next(Alphabet.Length)];
        return new string(chars);
    }

    /// <summary>One to four edits: character inserts, deletes and replacements, and line deletes, copies and swaps.</summary>
    private static string Mutate(Random rng, string text)
    {
        for (var edits = rng.Next(1, 5); edits > 0; edits--)
        {
            var lines = text.Split('\n').ToList();
            var at = rng.Next(text.Length + 1);
            text = rng.Next(7) switch
            {
                0 => text.Insert(at, Alphabet[rng.Next(Alphabet.Length)].ToString()),
                1 when at < text.Length => text.Remove(at, 1),
                2 when at < text.Length => text.Remove(at, 1).Insert(at, Alphabet[rng.Next(Alphabet.Length)].ToString()),
                3 => string.Join('\n', lines.Where((_, i) => i != at % lines.Count)),
                4 => string.Join('\n', lines.Append(lines[rng.Next(lines.Count)])),
                5 => SwapValues(rng, lines),
                _ => text[..at],
            };
        }
        return text;
    }

    /// <summary>Moves one line's value to another line's key, the realistic "wrong value for the key" mistake.</summary>
    private static string SwapValues(Random rng, List<string> lines)
    {
        int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
        var (ea, eb) = (lines[a].IndexOf('='), lines[b].IndexOf('='));
        if (ea >= 0 && eb >= 0)
            (lines[a], lines[b]) = (lines[a][..ea] + lines[b][eb..], lines[b][..eb] + lines[a][ea..]);
        return string.Join('\n', lines);
    }

    private static T Pick<T>(Random rng, IReadOnlyList<T> items) => items[rng.Next(items.Count)];
}
