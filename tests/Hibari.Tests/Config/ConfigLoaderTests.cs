using System.Net;
using System.Reflection;
using System.Text;
using Hibari.Config;

namespace Hibari.Tests.Config;

public class ConfigLoaderTests
{
    /// <summary>A complete, valid cluster node.</summary>
    internal const string ClusterConf = """
        cluster = true
        node_name = node-01@192.0.2.5
        external_signaling_url = wss://node-01.example.com/signaling
        external_api_url = https://node-01.example.com:3000
        cluster_secret = correct-horse-battery
        """;

    private static KeyValuePair<string, string>[] Sets(params (string Key, string Value)[] sets) =>
        sets.Select(s => KeyValuePair.Create(s.Key, s.Value)).ToArray();

    private static HibariOptions Load(string? file, params (string Key, string Value)[] sets)
    {
        var result = ConfigLoader.Parse(file, Sets(sets));
        Assert.True(result.Options is not null, result.Error);
        Assert.Null(result.Error);
        return result.Options;
    }

    private static string Fails(string? file, params (string Key, string Value)[] sets)
    {
        var result = ConfigLoader.Parse(file, Sets(sets));
        Assert.Null(result.Options);
        Assert.NotNull(result.Error);
        Assert.DoesNotContain('\n', result.Error);
        Assert.DoesNotContain('\r', result.Error);
        return result.Error;
    }

    /// <summary>An error about one key's value: names the key and the value.</summary>
    private static string InvalidValue(string key, string value)
    {
        var error = Fails(null, (key, value));
        Assert.StartsWith($"invalid value \"{value}\" for key \"{key}\": expected", error);
        return error;
    }

    [Fact]
    public void Codec_param_switches_and_the_default_h264_profile_level_id_are_read_D_34()
    {
        var d = Load(null);
        Assert.True(d.SignalingVp9Params && d.SignalingAv1Params && d.SignalingH264Params && d.SignalingH265Params);
        Assert.False(d.H264BFrame || d.H265BFrame);
        Assert.Null(d.DefaultH264ProfileLevelId);
        var o = Load("signaling_vp9_params = false\nsignaling_h265_params = false\nh264_b_frame = true\ndefault_h264_profile_level_id = 4D001F\ndefault_video_codec_type = H265\n");
        Assert.False(o.SignalingVp9Params);
        Assert.True(o.SignalingAv1Params);
        Assert.False(o.SignalingH265Params);
        Assert.True(o.H264BFrame);
        Assert.Equal("4d001f", o.DefaultH264ProfileLevelId);
        Assert.Equal("H265", o.DefaultVideoCodecType);
        Assert.Contains("expected six hex digits", InvalidValue("default_h264_profile_level_id", "42e0"));
    }

    // --- defaults ---

    [Fact]
    public void No_file_and_no_overrides_give_the_documented_defaults()
    {
        var o = Load(null);
        Assert.Equal(new HibariOptions(), o);
        Assert.False(o.Cluster);
        Assert.Null(o.NodeName);
        Assert.True(o.ClusterRelay);
        Assert.False(o.ClusterRelayUdp);
        Assert.True(o.DefaultClusterAffinity);
        Assert.Equal(20, o.ClusterAffinityThreshold);
        Assert.Equal((49010, 49020), (o.ClusterListenMinPort, o.ClusterListenMaxPort));
        Assert.Equal(IPAddress.Loopback, o.ListenAddress);
        Assert.Equal((3000, 5000, 50000), (o.ApiPort, o.SignalingPort, o.RtcUdpPort));
        Assert.Equal("data", o.DataDir);
        Assert.Equal("info", o.LogLevel);
        Assert.Equal(LicenseType.MaxNodes, o.LicenseType);
        Assert.Equal("2099-12", o.LicenseExpiredAt);
    }

    [Fact]
    public void Cluster_relay_udp_defaults_to_false_and_true_turns_it_on_in_a_file_or_an_override()
    {
        Assert.False(Load(ClusterConfWithout("cluster_relay_udp")).ClusterRelayUdp);
        Assert.True(Load(ClusterConfWithout("cluster_relay_udp") + "\ncluster_relay_udp = true\n").ClusterRelayUdp);
        Assert.False(Load(ClusterConfWithout("cluster_relay_udp") + "\ncluster_relay_udp = false\n").ClusterRelayUdp);
        Assert.True(Load(ClusterConfWithout("cluster_relay_udp"), ("cluster_relay_udp", "TRUE")).ClusterRelayUdp);
        Assert.False(Load(null, ("cluster_relay_udp", "false")).ClusterRelayUdp);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n   \n\t\n")]
    [InlineData("# only a comment\n   # indented comment\n")]
    public void Empty_or_comment_only_file_gives_the_defaults(string file) =>
        Assert.Equal(new HibariOptions(), Load(file));

    [Fact]
    public void Node_started_with_only_a_listen_address_override_is_valid()
    {
        var result = ConfigLoader.FromCommandLine(["--set", "listen_address=127.0.0.2"]);
        Assert.Null(result.Error);
        Assert.Equal(new HibariOptions { ListenAddress = IPAddress.Parse("127.0.0.2") }, result.Options);
    }

    [Fact]
    public void Complete_cluster_config_is_accepted_C_CONF_1()
    {
        var o = Load(ClusterConf);
        Assert.True(o.Cluster);
        Assert.Equal("node-01@192.0.2.5", o.NodeName);
        Assert.Equal("192.0.2.5", o.NodeHost);
        Assert.Equal("wss://node-01.example.com/signaling", o.ExternalSignalingUrl);
        Assert.Equal("https://node-01.example.com:3000", o.ExternalApiUrl);
        Assert.Equal("correct-horse-battery", o.ClusterSecret);
    }

    // --- the key table ---

    private static string SnakeCase(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    private static readonly PropertyInfo[] SettableOptions =
        typeof(HibariOptions).GetProperties().Where(p => p.SetMethod is not null).ToArray();

    [Fact]
    public void Every_option_has_exactly_one_key_named_after_it()
    {
        var keys = ConfigKeys.All.Select(k => k.Name).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        Assert.Equal(SettableOptions.Select(p => SnakeCase(p.Name)).Order(), keys.Order());
    }

    /// <summary>A valid non-default value for every key, so a setter wired to the wrong option is caught.</summary>
    public static TheoryData<string, string> NonDefaultValues => new()
    {
        { "cluster", "TRUE" }, { "node_name", "n_1@node.example.com" }, { "external_signaling_url", "ws://192.0.2.5:5000/signaling" },
        { "external_api_url", "http://192.0.2.5:3000/" }, { "cluster_relay", "false" }, { "cluster_relay_udp", "true" }, { "default_cluster_affinity", "False" },
        { "cluster_affinity_threshold", "1" }, { "cluster_listen_min_port", "40000" }, { "cluster_listen_max_port", "60000" },
        { "cluster_temporary_node", "true" }, { "cluster_secret", "12345678" }, { "listen_address", "::1" },
        { "api_port", "3001" }, { "signaling_port", "5001" }, { "rtc_udp_port", "3000" }, { "data_dir", "/var/lib/hibari" },
        { "api_cors_origin", "https://app.example.com:8443" }, { "log_level", "WARNING" }, { "debug_api", "true" }, { "license_max_connections", "0" },
        { "license_max_nodes", "1" }, { "license_type", "standard" }, { "license_serial_code", "ABC-123 #7" },
        { "license_expired_at", "2030-01" },
        { "rtc_public_address", "192.0.2.9" }, { "auth_webhook_url", "http://127.0.0.1:8080/auth" },
        { "session_webhook_url", "http://127.0.0.1:8080/session" }, { "event_webhook_url", "http://127.0.0.1:8080/event" },
        { "connection_updated_webhook_interval", "30 s" }, { "auth_webhook_timeout_ms", "100" }, { "webhook_timeout_ms", "60000" }, { "log_dir", "/var/log/hibari" },
        { "session_destroy_delay_ms", "0" }, { "signaling_bundle_id", "true" }, { "signaling_notify", "false" },
        { "default_video_codec_type", "vp8" }, { "default_video_bit_rate", "2500" }, { "signaling_ping_interval_ms", "1000" },
        { "demo_dir", "/srv/demo" },
        { "signaling_max_pending", "0" }, { "signaling_max_pending_per_address", "5" }, { "api_max_requests_per_second", "0" },
        { "api_max_body_size", "4096" }, { "api_loopback_address_only", "true" },
        { "archive_dir", "/srv/archive" }, { "recording_dual_output", "true" }, { "recording_max_expire_time", "3600" },
        { "recording_max_split_duration", "600" }, { "recording_min_free_disk_space_mb", "0" }, { "recording_max_file_size_mb", "2048" },
    };

    [Theory]
    [MemberData(nameof(NonDefaultValues))]
    public void Every_key_sets_its_own_option_and_only_that(string key, string value)
    {
        // The cluster keys are set in the base (with cluster off), so that setting `cluster` alone is valid too.
        var file = ClusterConfWithout("cluster");
        var before = Load(file);
        var after = Load(file, (key, value));
        var property = SettableOptions.Single(p => SnakeCase(p.Name) == key);
        Assert.NotEqual(property.GetValue(before), property.GetValue(after));
        foreach (var other in SettableOptions.Where(p => p != property))
            Assert.Equal(other.GetValue(before), other.GetValue(after));
    }

    [Fact]
    public void Keywords_are_stored_in_canonical_form()
    {
        var o = Load(ClusterConfWithout("cluster"), ("log_level", "DeBuG"), ("license_type", "MAX_NODES"), ("cluster", "True"));
        Assert.Equal("debug", o.LogLevel);
        Assert.Equal(LicenseType.MaxNodes, o.LicenseType);
        Assert.True(o.Cluster);
    }

    // --- file syntax ---

    [Fact]
    public void Comments_blank_lines_and_whitespace_around_key_and_value_are_ignored()
    {
        var o = Load("""

            # the API
               api_port   =   3100    # trailing comment
            	signaling_port=5100
            # log_level = error

            data_dir = /srv/hibari data   # spaces inside a value stay
            """);
        Assert.Equal(3100, o.ApiPort);
        Assert.Equal(5100, o.SignalingPort);
        Assert.Equal("info", o.LogLevel);
        Assert.Equal("/srv/hibari data", o.DataDir);
    }

    [Fact]
    public void Hash_not_preceded_by_whitespace_is_part_of_the_value()
    {
        Assert.Equal("ABC#1", Load("license_serial_code = ABC#1").LicenseSerialCode);
        Assert.Equal("ABC#1", Load("license_serial_code = ABC#1 # a comment").LicenseSerialCode);
    }

    [Fact]
    public void Quoted_value_keeps_hash_and_surrounding_spaces_literally()
    {
        Assert.Equal(" ABC # 1 ", Load("license_serial_code = \" ABC # 1 \"").LicenseSerialCode);
        Assert.Equal("x # y", Load("license_serial_code = \"x # y\"   # comment after the quotes").LicenseSerialCode);
        Assert.Equal("x", Load("license_serial_code = \"x\"#comment").LicenseSerialCode);
    }

    [Fact]
    public void Value_may_contain_equals_signs()
    {
        Assert.Equal("A=B=C", Load("license_serial_code = A=B=C").LicenseSerialCode);
        Assert.Equal("A=B", Load(null, ("license_serial_code", "A=B")).LicenseSerialCode);
    }

    [Fact]
    public void Crlf_line_endings_and_a_byte_order_mark_are_accepted()
    {
        var o = Load("\uFEFFapi_port = 3100\r\n# comment\r\nsignaling_port = 5100\r\n");
        Assert.Equal((3100, 5100), (o.ApiPort, o.SignalingPort));
    }

    // --- overrides ---

    [Fact]
    public void Overrides_apply_after_the_file_in_order_and_the_last_wins()
    {
        var o = Load("api_port = 3100\nlog_level = debug",
            ("api_port", "3200"), ("log_level", "error"), ("api_port", "3300"));
        Assert.Equal(3300, o.ApiPort);
        Assert.Equal("error", o.LogLevel);
    }

    [Fact]
    public void Override_can_repair_an_invalid_combination_in_the_file()
    {
        // Rules between keys are checked once, after every override is applied.
        var o = Load("api_port = 49015", ("cluster_listen_min_port", "40000"), ("cluster_listen_max_port", "40010"));
        Assert.Equal(49015, o.ApiPort);
    }

    [Fact]
    public void Override_key_and_value_are_trimmed_and_unquoted_like_in_the_file()
    {
        var o = Load(null, ("  data_dir ", "  \" my data \"  "), ("license_serial_code", " # not a comment "));
        Assert.Equal(" my data ", o.DataDir);
        Assert.Equal("# not a comment", o.LicenseSerialCode);
    }

    [Fact]
    public void Command_line_reads_the_config_file_then_applies_both_spellings_of_set()
    {
        var read = new List<string>();
        var result = ConfigLoader.FromCommandLine(
            ["--set", "api_port=3200", "--config", "/etc/hibari.conf", "--set=log_level=debug", "--set", "signaling_port = 5300"],
            path => { read.Add(path); return "api_port = 3100\nsignaling_port = 5100\nlog_level = error"; });
        Assert.Null(result.Error);
        Assert.Equal(["/etc/hibari.conf"], read);
        Assert.Equal((3200, 5300, "debug"), (result.Options!.ApiPort, result.Options.SignalingPort, result.Options.LogLevel));
    }

    [Fact]
    public void Command_line_accepts_config_with_equals_sign()
    {
        var result = ConfigLoader.FromCommandLine(["--config=hibari.conf"], path => path == "hibari.conf" ? ClusterConf : null);
        Assert.Null(result.Error);
        Assert.True(result.Options!.Cluster);
    }

    [Fact]
    public void Command_line_without_config_reads_no_file()
    {
        var result = ConfigLoader.FromCommandLine([], _ => throw new InvalidOperationException("no file should be read"));
        Assert.Equal(new HibariOptions(), result.Options);
    }

    // --- command-line errors ---

    [Fact]
    public void Config_given_twice_is_rejected()
    {
        var result = ConfigLoader.FromCommandLine(["--config", "a.conf", "--config=b.conf"], _ => "");
        Assert.Equal("--config given twice (\"a.conf\" and \"b.conf\"): at most one config file", result.Error);
        Assert.Null(result.Options);
    }

    [Theory]
    [InlineData("--config")]
    [InlineData("--config=")]
    [InlineData("--config", "--set", "api_port=1")]
    public void Config_without_a_file_name_is_rejected(params string[] args)
    {
        var result = ConfigLoader.FromCommandLine(args, _ => "");
        Assert.Equal("missing value after \"--config\": expected a file name", result.Error);
    }

    [Fact]
    public void Set_without_a_value_is_rejected() =>
        Assert.Equal("missing value after \"--set\": expected key=value", ConfigLoader.FromCommandLine(["--set"]).Error);

    [Theory]
    [InlineData("--set", "api_port")]
    [InlineData("--set=api_port")]
    [InlineData("--set", "=3000")]
    public void Set_without_key_equals_value_is_rejected(params string[] args)
    {
        var error = ConfigLoader.FromCommandLine(args).Error;
        Assert.NotNull(error);
        Assert.StartsWith("invalid override \"", error);
        Assert.EndsWith("\": expected --set key=value", error);
    }

    [Fact]
    public void Unknown_argument_is_rejected() =>
        Assert.Equal("unknown argument \"--sett\": expected --config FILE or --set key=value",
            ConfigLoader.FromCommandLine(["--sett", "api_port=1"]).Error);

    [Fact]
    public void Missing_config_file_is_an_error()
    {
        Assert.Equal("config file \"nope.conf\" not found", ConfigLoader.FromCommandLine(["--config", "nope.conf"], _ => null).Error);
        var path = Path.Combine(Path.GetTempPath(), $"hibari-missing-{Guid.NewGuid():N}", "hibari.conf");
        Assert.Equal($"config file \"{path}\" not found", ConfigLoader.FromCommandLine(["--config", path]).Error);
    }

    [Fact]
    public void Default_reader_reads_the_file_from_disk()
    {
        var path = Path.Combine(Path.GetTempPath(), $"hibari-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, "api_port = 3456\n");
        try
        {
            Assert.Equal(3456, ConfigLoader.FromCommandLine(["--config", path]).Options?.ApiPort);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unreadable_config_file_is_an_error_not_an_exception()
    {
        var result = ConfigLoader.FromCommandLine(["--config", "x.conf"], _ => throw new UnauthorizedAccessException("Access to the path\nis denied."));
        Assert.Equal("cannot read config file \"x.conf\": Access to the path is denied.", result.Error);
    }

    // --- file syntax errors ---

    [Fact]
    public void Line_without_equals_sign_is_rejected_with_its_line_number() =>
        Assert.Equal("invalid line \"api_port 3000\" (line 2): expected \"key = value\", a \"# comment\" or a blank line",
            Fails("# first\napi_port 3000"));

    [Fact]
    public void Line_without_a_key_is_rejected() =>
        Assert.Equal("invalid line \"= 3000\" (line 1): the key before \"=\" is missing", Fails("= 3000"));

    [Fact]
    public void Unterminated_quote_is_rejected() =>
        Assert.Equal("invalid value for key \"data_dir\" (line 1): the quoted value has no closing '\"'", Fails("data_dir = \"/srv # x"));

    [Fact]
    public void Text_after_a_closing_quote_is_rejected() =>
        Assert.Equal("invalid value for key \"data_dir\" (line 1): unexpected text \"b\" after the closing '\"' (only a # comment may follow)",
            Fails("data_dir = \"a\" b"));

    [Fact]
    public void Key_set_twice_in_the_file_is_rejected()
    {
        Assert.Equal("duplicate key \"api_port\" (line 3; first set on line 1): set a key once in the file, override it with --set",
            Fails("api_port = 3100\nsignaling_port = 5100\napi_port = 3200"));
    }

    [Fact]
    public void Unknown_key_in_the_file_is_rejected_with_its_line() =>
        Assert.Equal("unknown key \"foo\" (line 3)", Fails("api_port = 3100\n\nfoo = 1"));

    [Fact]
    public void Unknown_key_close_to_a_real_one_suggests_it() =>
        Assert.Equal("unknown key \"api_prot\" (line 1); did you mean \"api_port\"?", Fails("api_prot = 3100"));

    [Fact]
    public void Keys_are_case_sensitive() =>
        Assert.Equal("unknown key \"API_PORT\" (--set); did you mean \"api_port\"?", Fails(null, ("API_PORT", "3100")));

    [Fact]
    public void Unknown_key_in_an_override_is_rejected() =>
        Assert.Equal("unknown key \"foo\" (--set)", Fails(null, ("foo", "1")));

    // --- value errors, one per kind ---

    [Fact]
    public void Invalid_value_in_the_file_names_key_value_allowed_values_and_line() =>
        Assert.Equal("invalid value \"abc\" for key \"api_port\": expected an integer 1..65535 (line 2)", Fails("\napi_port = abc"));

    [Fact]
    public void Invalid_value_in_an_override_says_it_came_from_set() =>
        Assert.Equal("invalid value \"abc\" for key \"api_port\": expected an integer 1..65535 (--set)", Fails(null, ("api_port", "abc")));

    [Theory]
    [InlineData("cluster", "yes")]
    [InlineData("cluster_relay", "1")]
    [InlineData("cluster_relay_udp", "off")]
    [InlineData("default_cluster_affinity", "")]
    [InlineData("cluster_temporary_node", "truee")]
    public void Boolean_other_than_true_or_false_is_rejected(string key, string value) =>
        Assert.EndsWith("expected true or false (--set)", InvalidValue(key, value));

    [Theory]
    [InlineData("api_port", "0")]
    [InlineData("signaling_port", "65536")]
    [InlineData("rtc_udp_port", "-1")]
    [InlineData("cluster_listen_min_port", "3.5")]
    [InlineData("cluster_listen_max_port", "99999999999")]
    [InlineData("api_port", "0x50")]
    public void Port_outside_1_to_65535_is_rejected(string key, string value) =>
        Assert.Contains("expected an integer 1..65535", InvalidValue(key, value));

    [Fact]
    public void Port_bounds_are_accepted()
    {
        Assert.Equal(1, Load(null, ("rtc_udp_port", "1")).RtcUdpPort);
        Assert.Equal(65535, Load(null, ("rtc_udp_port", "65535"), ("media_workers", "1")).RtcUdpPort);
    }

    [Fact]
    public void Media_workers_default_to_the_cores_and_take_1_to_64()
    {
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 64), Load(null).MediaWorkers);
        Assert.Equal(1, Load(null, ("media_workers", "1")).MediaWorkers);
        Assert.Equal(64, Load(null, ("media_workers", "64")).MediaWorkers);
        Assert.Contains("expected an integer 1..64", InvalidValue("media_workers", "0"));
        Assert.Contains("expected an integer 1..64", InvalidValue("media_workers", "65"));
    }

    [Fact]
    public void Media_worker_ports_must_all_exist()
    {
        Assert.Equal(65532, Load(null, ("rtc_udp_port", "65532"), ("media_workers", "4")).RtcUdpPort);
        Assert.Equal("port conflict: media_workers = 4 need UDP ports rtc_udp_port..rtc_udp_port + 3 = 65533..65536, beyond 65535; lower rtc_udp_port or media_workers",
            Fails(null, ("rtc_udp_port", "65533"), ("media_workers", "4")));
    }

    [Fact]
    public void Affinity_threshold_below_1_is_rejected_C_CONF_7() =>
        Assert.Contains("expected an integer >= 1", InvalidValue("cluster_affinity_threshold", "0"));

    [Fact]
    public void Negative_license_max_connections_is_rejected()
    {
        Assert.Contains("expected an integer >= 0", InvalidValue("license_max_connections", "-1"));
        Assert.Equal(0, Load(null, ("license_max_connections", "0")).LicenseMaxConnections);
    }

    [Fact]
    public void License_max_nodes_below_1_is_rejected_C_MEM_8() =>
        Assert.Contains("expected an integer >= 1", InvalidValue("license_max_nodes", "0"));

    [Theory]
    [InlineData("localhost")]
    [InlineData("1")]
    [InlineData("127.1")]
    [InlineData("256.0.0.1")]
    [InlineData("010.0.0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("[::1]")]
    [InlineData("fe80::1%eth0")]
    [InlineData("::g")]
    [InlineData("1.2.3.4:80")]
    public void Listen_address_that_is_not_an_ip_address_is_rejected(string value) =>
        Assert.Contains("expected an IP address: IPv4 like 192.0.2.10 or IPv6 like 2001:db8::10", InvalidValue("listen_address", value));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("127.0.0.3")]
    [InlineData("::")]
    [InlineData("2001:db8::10")]
    [InlineData("::ffff:192.0.2.1")]
    public void Listen_address_accepts_ipv4_and_ipv6(string value) =>
        Assert.Equal(IPAddress.Parse(value), Load(null, ("listen_address", value)).ListenAddress);

    [Theory]
    [InlineData("verbose")]
    [InlineData("warn")]
    public void Unknown_log_level_is_rejected(string value) =>
        Assert.EndsWith("expected one of trace, debug, info, warning, error (--set)", InvalidValue("log_level", value));

    [Fact]
    public void Unknown_license_type_is_rejected() =>
        Assert.EndsWith("expected one of max_nodes, standard (--set)", InvalidValue("license_type", "max-nodes"));

    [Theory]
    [InlineData("2099-13")]
    [InlineData("2099-00")]
    [InlineData("99-12")]
    [InlineData("2099/12")]
    [InlineData("2099-12-31")]
    [InlineData("２０９９-12")]
    public void License_expired_at_not_in_yyyy_mm_is_rejected(string value) =>
        Assert.Contains("expected YYYY-MM with month 01..12 (e.g. 2099-12)", InvalidValue("license_expired_at", value));

    [Theory]
    [InlineData("http://node-01.example.com/signaling")]
    [InlineData("node-01.example.com/signaling")]
    [InlineData("/signaling")]
    [InlineData("wss://")]
    [InlineData("wss:node-01.example.com")]
    [InlineData("wss://node 01.example.com")]
    public void External_signaling_url_must_be_absolute_ws_or_wss_C_CONF_3(string value) =>
        Assert.Contains("expected an absolute ws:// or wss:// URL", InvalidValue("external_signaling_url", value));

    [Theory]
    [InlineData("ws://node-01.example.com:3000")]
    [InlineData("ftp://node-01.example.com")]
    [InlineData("https//node-01.example.com")]
    public void External_api_url_must_be_absolute_http_or_https_C_CONF_4(string value) =>
        Assert.Contains("expected an absolute http:// or https:// URL", InvalidValue("external_api_url", value));

    [Theory]
    [InlineData("https://app.example.com/")]
    [InlineData("https://app.example.com/path")]
    [InlineData("https://app.example.com?x=1")]
    [InlineData("app.example.com")]
    [InlineData("ws://app.example.com")]
    public void Cors_origin_must_be_star_or_an_origin(string value) =>
        Assert.Contains("expected \"*\" or an origin", InvalidValue("api_cors_origin", value));

    [Theory]
    [InlineData("*")]
    [InlineData("http://localhost:8080")]
    public void Cors_origin_accepts_star_and_origins(string value) =>
        Assert.Equal(value, Load(null, ("api_cors_origin", value)).ApiCorsOrigin);

    [Theory]
    [InlineData("data_dir", "a directory path")]
    [InlineData("license_serial_code", "a serial code")]
    public void Empty_text_value_is_rejected(string key, string what) =>
        Assert.Equal($"invalid value \"\" for key \"{key}\": expected {what}: non-empty, without control characters (line 1)",
            Fails($"{key} =    # nothing"));

    [Fact]
    public void Control_characters_in_a_value_are_rejected_and_escaped_in_the_message() =>
        Assert.Equal("invalid value \"a\\nb\\u0007\" for key \"data_dir\": expected a directory path: non-empty, without control characters (--set)",
            Fails(null, ("data_dir", "a\nb\u0007")));

    [Fact]
    public void Long_values_are_shortened_in_the_message()
    {
        var error = Fails(null, ("api_port", new string('9', 5000)));
        Assert.Contains("... (5000 characters) for key \"api_port\"", error);
        Assert.True(error.Length < 300, error);
    }

    [Fact]
    public void Cluster_secret_shorter_than_8_characters_is_rejected_without_echoing_it()
    {
        var error = Fails(null, ("cluster_secret", "s3cr3t!"));
        Assert.Equal("invalid value (hidden, 7 characters) for key \"cluster_secret\": expected at least 8 characters (--set)", error);
        Assert.DoesNotContain("s3cr3t!", error);
    }

    // --- node_name, C-CONF-2 ---

    [Fact]
    public void Node_name_without_dot_in_host_is_rejected_C_CONF_2() =>
        Assert.Equal("invalid value \"node1@localhost\" for key \"node_name\": HOST must be an FQDN or IP address (contain a '.' or be an IP); a bare host name is rejected (--set)",
            Fails(null, ("node_name", "node1@localhost")));

    [Theory]
    [InlineData("node1")]
    [InlineData("@192.0.2.5")]
    [InlineData("node.1@192.0.2.5")]
    [InlineData("node 1@192.0.2.5")]
    [InlineData("nöde@192.0.2.5")]
    public void Node_name_with_an_invalid_name_part_is_rejected_C_CONF_2(string value) =>
        Assert.Contains("expected NAME@HOST with NAME of letters, digits, '_' or '-'", InvalidValue("node_name", value));

    [Fact]
    public void Node_name_without_host_is_rejected_C_CONF_2() =>
        Assert.Contains(": expected NAME@HOST: HOST is missing", Fails(null, ("node_name", "node1@")));

    [Theory]
    [InlineData("node1@-bad.example.com")]
    [InlineData("node1@bad-.example.com")]
    [InlineData("node1@a..example.com")]
    [InlineData("node1@example.com.")]
    [InlineData("node1@exa_mple.com")]
    [InlineData("node1@node@example.com")]
    public void Node_name_with_an_invalid_fqdn_is_rejected_C_CONF_2(string value) =>
        Assert.Contains($"invalid value \"{value}\" for key \"node_name\": HOST must be an FQDN of '.'-separated labels", Fails(null, ("node_name", value)));

    [Theory]
    [InlineData("node1@256.0.0.1")]
    [InlineData("node1@192.0.2")]
    public void Node_name_with_an_invalid_ipv4_host_is_rejected_C_CONF_2(string value) =>
        Assert.Contains($"invalid value \"{value}\" for key \"node_name\": HOST looks like an IPv4 address but is not a valid one", Fails(null, ("node_name", value)));

    [Fact]
    public void Node_name_with_an_invalid_ipv6_host_is_rejected_C_CONF_2() =>
        Assert.Contains("HOST contains ':' but is not a valid IPv6 address", Fails(null, ("node_name", "node1@fe80::1::2")));

    [Fact]
    public void Node_name_longer_than_255_characters_is_rejected_C_CONF_2() =>
        Assert.Contains("for key \"node_name\": expected at most 255 characters", Fails(null, ("node_name", "n@" + string.Join('.', Enumerable.Repeat("abcdefgh", 30)))));

    [Theory]
    [InlineData("node-01@192.0.2.5")]
    [InlineData("Node_01@node-01.example.com")]
    [InlineData("n@2001:db8::5")]
    [InlineData("n@a.b")]
    public void Node_name_with_ip_or_fqdn_host_is_accepted_C_CONF_2(string value) =>
        Assert.Equal(value, Load(null, ("node_name", value)).NodeName);

    [Fact]
    public void Node_name_is_validated_even_when_cluster_is_off_C_CONF_2() =>
        Assert.Contains("a bare host name is rejected", Fails("cluster = false\nnode_name = node1@localhost"));

    // --- rules with cluster = true ---

    private static string ClusterConfWithout(string key) =>
        string.Join('\n', ClusterConf.Split('\n').Where(l => !l.StartsWith(key + " ", StringComparison.Ordinal)));

    [Fact]
    public void Node_name_is_required_with_cluster_C_CONF_2() =>
        Assert.Equal("missing key \"node_name\": required when cluster = true (NAME@HOST, e.g. node-01@192.0.2.5)",
            Fails(ClusterConfWithout("node_name")));

    [Fact]
    public void External_signaling_url_is_required_with_cluster_C_CONF_3() =>
        Assert.StartsWith("missing key \"external_signaling_url\": required when cluster = true", Fails(ClusterConfWithout("external_signaling_url")));

    [Fact]
    public void External_api_url_is_required_with_cluster_C_CONF_4() =>
        Assert.StartsWith("missing key \"external_api_url\": required when cluster = true", Fails(ClusterConfWithout("external_api_url")));

    [Fact]
    public void Cluster_secret_is_required_with_cluster() =>
        Assert.StartsWith("missing key \"cluster_secret\": required when cluster = true", Fails(ClusterConfWithout("cluster_secret")));

    [Fact]
    public void Cluster_keys_are_optional_without_cluster() =>
        Assert.Equal("node-01@192.0.2.5", Load(ClusterConf, ("cluster", "false"), ("cluster_listen_min_port", "49010")).NodeName);

    // --- port rules ---

    [Fact]
    public void Cluster_port_range_with_min_above_max_is_rejected_C_CONF_8() =>
        Assert.Equal("invalid cluster port range: cluster_listen_min_port = 49020 is greater than cluster_listen_max_port = 49010",
            Fails(null, ("cluster_listen_min_port", "49020"), ("cluster_listen_max_port", "49010")));

    [Fact]
    public void Cluster_port_range_of_one_port_is_rejected_C_CONF_8() =>
        Assert.Equal("invalid cluster port range: cluster_listen_min_port = 49010 and cluster_listen_max_port = 49010 hold 1 port; at least 2 are needed (one for Raft, one for node links)",
            Fails(null, ("cluster_listen_max_port", "49010")));

    [Fact]
    public void Cluster_port_range_of_two_ports_is_accepted_C_CONF_8() =>
        Assert.Equal(49011, Load(null, ("cluster_listen_max_port", "49011")).ClusterListenMaxPort);

    [Fact]
    public void Api_and_signaling_ports_must_differ() =>
        Assert.Equal("port conflict: api_port = 4000 and signaling_port = 4000 must differ",
            Fails(null, ("api_port", "4000"), ("signaling_port", "4000")));

    [Theory]
    [InlineData("api_port", "49010")]
    [InlineData("api_port", "49020")]
    [InlineData("signaling_port", "49015")]
    public void Api_or_signaling_port_inside_the_cluster_port_range_is_rejected_C_CONF_8(string key, string port) =>
        Assert.Equal($"port conflict: {key} = {port} lies in the cluster port range 49010..49020 (cluster_listen_min_port..cluster_listen_max_port); choose a port outside it",
            Fails(null, (key, port)));

    [Theory]
    [InlineData("49009")]
    [InlineData("49021")]
    public void Api_port_just_outside_the_cluster_port_range_is_accepted_C_CONF_8(string port) =>
        Assert.Equal(int.Parse(port), Load(null, ("api_port", port)).ApiPort);

    [Fact]
    public void Rtc_udp_port_may_share_a_number_with_a_tcp_port()
    {
        // UDP and TCP port spaces are separate; only the TCP listeners can collide.
        var o = Load(null, ("rtc_udp_port", "49015"));
        Assert.Equal(49015, o.RtcUdpPort);
    }
}
