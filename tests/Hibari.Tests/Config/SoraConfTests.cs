using System.Net;
using Hibari.Config;

namespace Hibari.Tests.Config;

/// <summary>
/// docs/decisions.md D-48: a sora.conf starts Hibari unchanged. The files under SoraConf/ are transcribed from Sora's
/// documentation (docs/research/sora-conf.md); Sora's value syntax is accepted; Sora's keys Hibari lacks are named in
/// one warning; keys of neither stay errors.
/// </summary>
public class SoraConfTests
{
    private static string SoraConf(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Config", "SoraConf", name));

    private static ConfigResult Parse(string? file, params (string Key, string Value)[] sets) =>
        ConfigLoader.Parse(file, sets.Select(s => KeyValuePair.Create(s.Key, s.Value)).ToArray());

    private static (HibariOptions Options, IReadOnlyList<string> Warnings) Load(string? file, params (string Key, string Value)[] sets)
    {
        var result = Parse(file, sets);
        Assert.True(result.Options is not null, result.Error);
        return (result.Options, result.Warnings);
    }

    private static string Fails(string? file, params (string Key, string Value)[] sets)
    {
        var result = Parse(file, sets);
        Assert.Null(result.Options);
        Assert.Empty(result.Warnings);
        return result.Error!;
    }

    // --- Sora's documented examples ---

    [Fact]
    public void The_reference_examples_are_honoured_and_the_rest_named_in_one_warning()
    {
        var (o, warnings) = Load(SoraConf("reference.conf"));
        Assert.Equal((30000, 30000), (o.AuthWebhookTimeoutMs, o.WebhookTimeoutMs)); // webhook_response_timeout = 30 s
        Assert.Equal("http://127.0.0.1:5000", o.ApiCorsOrigin);
        Assert.True(o.ApiLoopbackAddressOnly);
        Assert.Equal(3000, o.ApiPort);
        Assert.Equal(["not supported by Hibari, ignored: license_file, label, ipv4_address, ipv6"], warnings);
        // Nothing else moved.
        Assert.Equal(new HibariOptions(), o with
        {
            AuthWebhookTimeoutMs = 5000, WebhookTimeoutMs = 5000, ApiCorsOrigin = null, ApiLoopbackAddressOnly = false,
        });
    }

    [Fact]
    public void The_sample_sora_conf_with_every_line_commented_gives_the_defaults_and_no_warning()
    {
        var (o, warnings) = Load(SoraConf("sample.conf"));
        Assert.Equal(new HibariOptions(), o);
        Assert.Empty(warnings);
    }

    [Fact]
    public void The_sample_sora_conf_turned_on_sets_the_webhooks_and_warns_once_in_file_order()
    {
        var (o, warnings) = Load(SoraConf("sample-enabled.conf"));
        Assert.Equal("http://127.0.0.1:8080/sora/auth/webhook", o.AuthWebhookUrl);
        Assert.Equal("http://127.0.0.1:8080/sora/event/webhook", o.EventWebhookUrl);
        Assert.Equal(
            ["not supported by Hibari, ignored: license_file, label, ipv4_address, ipv6, ipv6_address, demo, event_webhook_worker_number"],
            warnings);
    }

    [Fact]
    public void The_turn_example_sets_the_turn_url_host_without_a_warning()
    {
        // Hibari's TURN server (D-57) reads Sora's TURN keys as they are.
        var (o, warnings) = Load(SoraConf("turn.conf"));
        Assert.Empty(warnings);
        Assert.True(o.Turn);
        Assert.Equal("sora-turn.example.com", o.TurnFqdn);
        var all = Load(SoraConf("turn.conf"), ("turn_tcp", "false"), ("turn_tcp_listen_port", "3479"), ("turn_tcp_port", "443"),
            ("turn_tls", "true"), ("turn_tls_fqdn", "sora-turns.example.com"), ("turn_tls_port", "5349"), ("turn_realm", "sora-turn.example.com")).Options;
        Assert.Equal((false, 3479, 443, true, "sora-turns.example.com", 5349, "sora-turn.example.com"),
            (all.TurnTcp, all.TurnTcpListenPort, all.TurnTcpPort, all.TurnTls, all.TurnTlsFqdn, all.TurnTlsPort, all.TurnRealm));
    }

    [Fact]
    public void The_production_recommendations_keep_the_api_on_loopback_and_name_the_rest()
    {
        var (o, warnings) = Load(SoraConf("production.conf"));
        Assert.True(o.ApiLoopbackAddressOnly);
        Assert.Equal(IPAddress.Loopback, o.ApiListenAddress);
        Assert.Equal(
            ["not supported by Hibari, ignored: legacy_log_format, legacy_log_extension, legacy_webhook_audio_video_json_structure, "
             + "ipv4_address, ipv6, signaling_loopback_address_only"],
            warnings);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void The_cluster_tutorial_nodes_start_with_hibaris_own_keys_given_by_set(int n)
    {
        var file = SoraConf($"cluster-tutorial-sora{n}.conf");
        // Hibari needs what Sora's file does not carry: the URLs other nodes redirect to and the secret of the node
        // links. They come from --set, so the file stays as it is (D-48).
        Assert.Equal("missing key \"external_signaling_url\": required when cluster = true (the ws:// or wss:// URL other nodes redirect clients to)",
            Fails(file));
        var (o, warnings) = Load(file,
            ("external_signaling_url", $"wss://sora{n}.example.com/signaling"), ("external_api_url", $"https://sora{n}.example.com/"),
            ("cluster_secret", "correct-horse-battery"));
        Assert.True(o.Cluster);
        Assert.Equal($"sora{n}@192.0.2.10{n}", o.NodeName);
        Assert.Equal($"192.0.2.10{n}", o.NodeHost);
        Assert.Equal((49010, 49020), (o.ClusterListenMinPort, o.ClusterListenMaxPort));
        Assert.Empty(warnings);
    }

    // --- the warning ---

    [Fact]
    public void The_warning_reaches_the_result_of_the_command_line_loader()
    {
        var result = ConfigLoader.FromCommandLine(["--config", "sora.conf", "--set", "demo=true"],
            _ => "ipv6 = true\nlabel = node-1\napi_port = 3100\n");
        Assert.Null(result.Error);
        Assert.Equal(3100, result.Options!.ApiPort);
        Assert.Equal(["not supported by Hibari, ignored: ipv6, label, demo"], result.Warnings);
    }

    [Fact]
    public void A_key_ignored_in_the_file_and_again_by_set_is_named_once() =>
        Assert.Equal(["not supported by Hibari, ignored: label"], Load("label = a\n", ("label", "b")).Warnings);

    [Fact]
    public void A_hibari_conf_gives_no_warning()
    {
        var (_, warnings) = Load(ConfigLoaderTests.ClusterConf + "\nauth_webhook_timeout_ms = 2000\napi_max_body_size = 4096\n");
        Assert.Empty(warnings);
    }

    [Fact]
    public void An_error_elsewhere_still_wins_over_ignored_keys() =>
        Assert.Equal("invalid value \"yes\" for key \"cluster\": expected true or false (line 2)", Fails("turn = true\ncluster = yes\n"));

    [Fact]
    public void A_key_of_neither_sora_nor_hibari_stays_an_error_with_a_suggestion()
    {
        Assert.Equal("unknown key \"api_prot\" (line 1); did you mean \"api_port\"?", Fails("api_prot = 3100"));
        // A misspelt Sora key gets Sora's name suggested (which then is ignored with the warning).
        Assert.Equal("unknown key \"turn_fdqn\" (line 1); did you mean \"turn_fqdn\"?", Fails("turn_fdqn = a.example.com"));
        Assert.Equal("unknown key \"no_such_setting_at_all\" (line 1)", Fails("no_such_setting_at_all = 1"));
    }

    [Fact]
    public void Sora_key_names_are_matched_exactly_as_sora_does() =>
        Assert.StartsWith("unknown key \"TURN\" (line 1)", Fails("TURN = true"));

    [Fact]
    public void Every_hibari_key_that_sora_documents_is_honoured_not_ignored()
    {
        var hibari = ConfigKeys.All.Concat(ConfigKeys.SoraAliases).Select(k => k.Name).ToHashSet();
        string[] shared = ["cluster", "node_name", "api_port", "signaling_port", "api_cors_origin", "api_loopback_address_only",
            "auth_webhook_url", "session_webhook_url", "event_webhook_url", "webhook_response_timeout", "data_channel_rpc",
            "connection_updated_webhook_interval"];
        Assert.All(shared, key => Assert.Contains(key, hibari));
        Assert.All(shared, key => Assert.True(SoraKeys.Documented.Contains(key), key));
    }

    // --- Sora's value syntax on Hibari's keys ---

    [Theory]
    [InlineData("auth_webhook_timeout_ms", "2000", 2000)] // a plain integer is milliseconds, as before
    [InlineData("auth_webhook_timeout_ms", "500 ms", 500)]
    [InlineData("auth_webhook_timeout_ms", "30 s", 30000)]
    [InlineData("auth_webhook_timeout_ms", "1 min", 60000)]
    [InlineData("webhook_timeout_ms", "2  s", 2000)] // kvconf splits on any run of spaces
    [InlineData("webhook_timeout_ms", "1_500 ms", 1500)] // and drops '_' from the number
    [InlineData("session_destroy_delay_ms", "0 s", 0)]
    [InlineData("session_destroy_delay_ms", "1 h", 3600000)]
    [InlineData("signaling_ping_interval_ms", "10 s", 10000)]
    [InlineData("webhook_response_timeout", "5 s", 5000)]
    public void Durations_take_soras_units(string key, string value, int milliseconds)
    {
        var (o, _) = Load(null, (key, value));
        var ms = key switch
        {
            "auth_webhook_timeout_ms" => o.AuthWebhookTimeoutMs,
            "webhook_timeout_ms" => o.WebhookTimeoutMs,
            "session_destroy_delay_ms" => o.SessionDestroyDelayMs,
            "signaling_ping_interval_ms" => o.SignalingPingIntervalMs,
            _ => o.WebhookTimeoutMs,
        };
        Assert.Equal(milliseconds, ms);
    }

    [Fact]
    public void Webhook_response_timeout_sets_both_webhook_timeouts_and_a_later_hibari_key_wins()
    {
        var (o, _) = Load("webhook_response_timeout = 10 s\nauth_webhook_timeout_ms = 3000\n");
        Assert.Equal((3000, 10000), (o.AuthWebhookTimeoutMs, o.WebhookTimeoutMs));
    }

    [Theory]
    [InlineData("auth_webhook_timeout_ms", "30s")] // sora.conf requires the space
    [InlineData("auth_webhook_timeout_ms", "30 S")] // units are lower case, as in sora.conf
    [InlineData("auth_webhook_timeout_ms", "30 sec")]
    [InlineData("auth_webhook_timeout_ms", "2 h")] // beyond 60000 ms
    [InlineData("auth_webhook_timeout_ms", "99 ms")] // below 100 ms
    [InlineData("auth_webhook_timeout_ms", "1.5 s")]
    [InlineData("auth_webhook_timeout_ms", "-1 s")]
    [InlineData("auth_webhook_timeout_ms", "s")]
    [InlineData("auth_webhook_timeout_ms", "1 s 2")]
    [InlineData("session_destroy_delay_ms", "99999999999999999999 h")]
    public void Bad_durations_are_refused_with_what_is_expected(string key, string value)
    {
        var error = Fails(null, (key, value));
        Assert.StartsWith($"invalid value \"{value}\" for key \"{key}\": expected a duration ", error);
        Assert.Contains("a number and a unit (ms, s, min, h) with a space between (e.g. 5 s)", error);
    }

    [Theory]
    [InlineData("30")] // Sora's own duration keys require the unit
    [InlineData("30s")]
    [InlineData("2 min")] // beyond 60000 ms
    public void Webhook_response_timeout_needs_a_unit_and_a_value_in_range(string value) =>
        Assert.Equal($"invalid value \"{value}\" for key \"webhook_response_timeout\": expected a duration 100..60000 ms: a number and a unit (ms, s, min, h) with a space between (e.g. 30 s) (--set)",
            Fails(null, ("webhook_response_timeout", value)));

    [Theory]
    [InlineData("1 min", 60_000)] // Sora's default, written as its page writes it
    [InlineData("500 ms", 500)]
    [InlineData("2 h", 7_200_000)]
    public void Connection_updated_webhook_interval_is_read_the_sora_way(string value, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMinutes(1), new HibariOptions().ConnectionUpdatedWebhookInterval);
        var (o, warnings) = Load($"connection_updated_webhook_interval = {value}\n");
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), o.ConnectionUpdatedWebhookInterval);
        Assert.Empty(warnings); // honoured, so not among the ignored Sora keys
    }

    [Theory]
    [InlineData("60000")] // a Sora duration key: the unit is required
    [InlineData("99 ms")]
    [InlineData("2 d")]
    public void Connection_updated_webhook_interval_needs_a_unit_and_a_value_in_range(string value) =>
        Assert.StartsWith($"invalid value \"{value}\" for key \"connection_updated_webhook_interval\": expected a duration 100..86400000 ms: a number and a unit",
            Fails(null, ("connection_updated_webhook_interval", value)));

    [Theory]
    [InlineData("1 MiB")]
    [InlineData("1MB")]
    [InlineData("1_048_576")]
    public void Sizes_take_no_units_as_sora_conf_has_none(string value) =>
        Assert.Equal($"invalid value \"{value}\" for key \"api_max_body_size\": expected a number of bytes 1024..268435456, an integer without a unit (--set)",
            Fails(null, ("api_max_body_size", value)));

    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("True", true)] // Hibari also takes other cases (D-9); Sora writes lower case
    public void Booleans_as_sora_writes_them(string value, bool expected) =>
        Assert.Equal(expected, Load(null, ("api_loopback_address_only", value)).Options.ApiLoopbackAddressOnly);

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData("on")]
    public void Other_boolean_words_are_refused(string value) =>
        Assert.Equal($"invalid value \"{value}\" for key \"cluster_relay\": expected true or false (--set)", Fails(null, ("cluster_relay", value)));
}
