using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hibari.Cli;

namespace Hibari.Tests.Cli;

/// <summary>The `hibari` command without a server: arguments, tables, errors, redirects (a fake HTTP handler).</summary>
public sealed class CliUnitTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    private sealed class FakeApi(Func<HttpRequestMessage, string, HttpResponseMessage> answer) : HttpMessageHandler
    {
        public List<(Uri Url, string Target, string Body)> Calls { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var body = await request.Content!.ReadAsStringAsync(ct);
            Calls.Add((request.RequestUri!, request.Headers.GetValues("x-sora-target").Single(), body));
            return answer(request, body);
        }
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static async Task<(int Exit, string Out, string Err)> RunAsync(HttpMessageHandler? handler, params string[] args)
    {
        var (o, e) = (new StringWriter(), new StringWriter());
        var exit = await HibariCommand.RunAsync(args, o, e, handler, NoEnvironment);
        return (exit, o.ToString(), e.ToString());
    }

    [Fact]
    public void Parse_takes_global_and_command_options_anywhere_in_both_forms()
    {
        var a = CliArgs.Parse(["disconnect", "--url=http://10.0.0.1:3000/", "ch", "--client", "c1", "--json", "--timeout", "2.5"], NoEnvironment);
        Assert.Equal(["disconnect", "ch"], a.Words);
        Assert.Equal(new Uri("http://10.0.0.1:3000/"), a.Url);
        Assert.True(a.Json);
        Assert.Equal(TimeSpan.FromSeconds(2.5), a.Timeout);
        Assert.Equal("c1", a.Options["client"]);
    }

    [Fact]
    public void Parse_reads_the_url_from_the_environment_unless_given()
    {
        Assert.Equal(new Uri(CliArgs.DefaultUrl), CliArgs.Parse(["stats"], NoEnvironment).Url);
        Assert.Equal(new Uri("http://h:1/"), CliArgs.Parse(["stats"], n => n == CliArgs.UrlVariable ? "http://h:1/" : null).Url);
        Assert.Equal(new Uri("http://g:2/"), CliArgs.Parse(["stats", "--url", "http://g:2/"], _ => "http://h:1/").Url);
    }

    [Fact]
    public void Parse_keeps_words_after_a_double_dash()
    {
        var a = CliArgs.Parse(["push", "ch", "--", "-1"], NoEnvironment);
        Assert.Equal(["push", "ch", "-1"], a.Words);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-x")]
    [InlineData("--url")]
    [InlineData("--url", "ftp://h/")]
    [InlineData("--url", "localhost:3000")]
    [InlineData("--timeout", "0")]
    [InlineData("--timeout", "soon")]
    [InlineData("--json=yes")]
    [InlineData("--json", "--json")]
    [InlineData("--connection", "")]
    public void Parse_refuses_bad_options(params string[] args) =>
        Assert.Throws<UsageException>(() => CliArgs.Parse(["stats", .. args], NoEnvironment));

    [Theory]
    [InlineData]
    [InlineData("nonsense")]
    [InlineData("cluster")]
    [InlineData("cluster", "init")]
    [InlineData("cluster", "purge", "a", "b")]
    [InlineData("mode", "set", "sleepy")]
    [InlineData("stats", "extra")]
    [InlineData("disconnect", "ch", "--connection", "a", "--client", "b")]
    [InlineData("disconnect", "ch", "--sender", "a")]
    [InlineData("push", "ch", "{not json")]
    [InlineData("api", "NoDot")]
    [InlineData("api", "Sora_20171010.GetStatsReport", "{")]
    [InlineData("stats", "--timeout", "-1")]
    public async Task Usage_errors_exit_2_with_the_usage_and_call_nothing(params string[] args)
    {
        var api = new FakeApi((_, _) => Json(HttpStatusCode.OK, "{}"));
        var (exit, stdout, stderr) = await RunAsync(api, args);
        Assert.Equal(HibariCommand.UsageError, exit);
        Assert.StartsWith("hibari: ", stderr);
        Assert.Contains("Usage: hibari", stderr);
        Assert.Equal("", stdout);
        Assert.Empty(api.Calls);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("-h", "cluster")]
    [InlineData("cluster", "nodes", "--help")]
    [InlineData("help", "push")]
    public async Task Help_prints_the_usage_on_stdout_and_exits_0(params string[] args)
    {
        var (exit, stdout, stderr) = await RunAsync(null, args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage: hibari", stdout);
        Assert.Equal("", stderr);
    }

    [Fact]
    public async Task Help_of_one_command_shows_that_command_and_the_global_options()
    {
        var (_, stdout, _) = await RunAsync(null, "push", "--help");
        Assert.Contains("hibari [OPTIONS] push CHANNEL JSON [--connection ID | --client ID]", stdout);
        Assert.Contains("--timeout SECONDS", stdout);
        Assert.DoesNotContain("cluster init", stdout);
    }

    [Theory]
    [InlineData(new[] { "cluster", "init", "a@h", "b@h" }, "Sora_20221221.InitCluster", """{"node_name_list":["a@h","b@h"]}""")]
    [InlineData(new[] { "cluster", "register", "a@h" }, "Sora_20211215.RegisterClusterNode", """{"contact_node_name":"a@h"}""")]
    [InlineData(new[] { "cluster", "purge", "a@h" }, "Sora_20220629.PurgeClusterNode", """{"target_node_name":"a@h"}""")]
    [InlineData(new[] { "cluster", "nodes" }, "Sora_20211215.ListClusterNodes", "{}")]
    [InlineData(new[] { "cluster", "channels" }, "Sora_20211215.ListClusterChannels", "{}")]
    [InlineData(new[] { "mode", "get" }, "Sora_20211215.GetMode", "{}")]
    [InlineData(new[] { "mode", "set", "block_new_connection" }, "Sora_20211215.ChangeMode", """{"mode":"block_new_connection"}""")]
    [InlineData(new[] { "stats" }, "Sora_20171010.GetStatsReport", "{}")]
    [InlineData(new[] { "stats", "connection", "ch", "c1" }, "Sora_20170529.GetStatsConnection", """{"channel_id":"ch","connection_id":"c1"}""")]
    [InlineData(new[] { "connections" }, "Sora_20201013.ListConnections", "{}")]
    [InlineData(new[] { "connections", "ch" }, "Sora_20201013.ListChannelConnections", """{"channel_id":"ch"}""")]
    [InlineData(new[] { "sessions" }, "Sora_20231220.ListSessions", "{}")]
    [InlineData(new[] { "disconnect", "ch" }, "Sora_20151104.DisconnectChannel", """{"channel_id":"ch"}""")]
    [InlineData(new[] { "disconnect", "ch", "--connection", "c1" }, "Sora_20151104.DisconnectConnection", """{"channel_id":"ch","connection_id":"c1"}""")]
    [InlineData(new[] { "disconnect", "--client", "k", "ch" }, "Sora_20151104.DisconnectClient", """{"channel_id":"ch","client_id":"k"}""")]
    [InlineData(new[] { "push", "ch", """{"a":[1]}""" }, "Sora_20160711.PushChannel", """{"channel_id":"ch","data":{"a":[1]}}""")]
    [InlineData(new[] { "push", "ch", "\"hi\"", "--connection", "c1" }, "Sora_20160711.PushConnection", """{"channel_id":"ch","connection_id":"c1","data":"hi"}""")]
    [InlineData(new[] { "push", "ch", "1", "--client", "k" }, "Sora_20160711.PushClient", """{"channel_id":"ch","client_id":"k","data":1}""")]
    [InlineData(new[] { "request-rid", "ch", "rx", "r1" }, "Sora_20251217.RequestSimulcastRid", """{"channel_id":"ch","receiver_connection_id":"rx","rid":"r1"}""")]
    [InlineData(new[] { "request-rid", "ch", "rx", "none", "--sender", "tx" }, "Sora_20251217.RequestSimulcastRid",
        """{"channel_id":"ch","receiver_connection_id":"rx","sender_connection_id":"tx","rid":"none"}""")]
    [InlineData(new[] { "license" }, "Sora_20171218.GetLicense", "{}")]
    [InlineData(new[] { "api", "Sora_20231220.GetSession", """{"channel_id":"ch"}""" }, "Sora_20231220.GetSession", """{"channel_id":"ch"}""")]
    [InlineData(new[] { "api", "Sora_20171218.GetLicense" }, "Sora_20171218.GetLicense", "{}")]
    public async Task Each_command_posts_its_target_and_body(string[] args, string target, string body)
    {
        var api = new FakeApi((_, _) => Json(HttpStatusCode.OK, "{}"));
        var (exit, _, stderr) = await RunAsync(api, args);
        Assert.True(exit == 0, stderr);
        var call = Assert.Single(api.Calls);
        Assert.Equal(target, call.Target);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), JsonNode.Parse(call.Body)), call.Body);
        Assert.Equal(new Uri(CliArgs.DefaultUrl), call.Url);
    }

    [Fact]
    public async Task An_API_error_exits_1_with_its_type_and_message_on_stderr()
    {
        var api = new FakeApi((_, _) => Json(HttpStatusCode.BadRequest, """{"error_type":"InvalidBody","message":"channel_id is required"}"""));
        var (exit, stdout, stderr) = await RunAsync(api, "disconnect", "ch");
        Assert.Equal(HibariCommand.ApiError, exit);
        Assert.Equal("hibari: 400 InvalidBody: channel_id is required\n", stderr.ReplaceLineEndings("\n"));
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData(500, "", "500")]
    [InlineData(503, "busy", "503: busy")]
    [InlineData(404, """{"error_type":"SessionNotFound"}""", "404 SessionNotFound")]
    [InlineData(400, """{"message":"bad"}""", "400: bad")]
    public void Error_lines_use_what_the_answer_has(int status, string body, string expected)
    {
        JsonNode? json = null;
        try { json = JsonNode.Parse(body); } catch (System.Text.Json.JsonException) { }
        Assert.Equal(expected, HibariCommand.ErrorLine(status, json, body));
    }

    [Fact]
    public async Task A_307_is_followed_with_the_same_target_and_body()
    {
        var api = new FakeApi((req, _) => req.RequestUri!.Host == "n1"
            ? new HttpResponseMessage(HttpStatusCode.TemporaryRedirect) { Headers = { Location = new Uri("http://n2:3000/") } }
            : Json(HttpStatusCode.OK, """[{"channel_id":"ch","connection_id":"C1","role":"recvonly"}]"""));
        var (exit, stdout, _) = await RunAsync(api, "--url", "http://n1:3000/", "connections", "ch");
        Assert.Equal(0, exit);
        Assert.Equal(2, api.Calls.Count);
        Assert.Equal(new Uri("http://n2:3000/"), api.Calls[1].Url);
        Assert.Equal(api.Calls[0].Target, api.Calls[1].Target);
        Assert.Equal(api.Calls[0].Body, api.Calls[1].Body);
        Assert.Contains("C1", stdout);
    }

    [Fact]
    public async Task Redirects_in_a_loop_end_with_exit_3()
    {
        var api = new FakeApi((_, _) => new HttpResponseMessage(HttpStatusCode.TemporaryRedirect) { Headers = { Location = new Uri("/", UriKind.Relative) } });
        var (exit, _, stderr) = await RunAsync(api, "connections", "ch");
        Assert.Equal(HibariCommand.Unreachable, exit);
        Assert.Contains("redirects", stderr);
        Assert.Equal(ApiClient.MaxRedirects + 1, api.Calls.Count);
    }

    [Fact]
    public async Task A_node_that_cannot_be_reached_exits_3_with_a_clear_message()
    {
        // A port nothing listens on: bound, then closed.
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var (exit, _, stderr) = await RunAsync(null, "--url", $"http://127.0.0.1:{port}/", "--timeout", "5", "stats");
        Assert.Equal(HibariCommand.Unreachable, exit);
        Assert.StartsWith($"hibari: cannot reach http://127.0.0.1:{port}/", stderr);
    }

    [Fact]
    public async Task Json_prints_the_answer_as_it_is_indented()
    {
        const string answer = """{"mode":"normal","extra":{"x":"チャンネル"}}""";
        var (exit, stdout, _) = await RunAsync(new FakeApi((_, _) => Json(HttpStatusCode.OK, answer)), "mode", "get", "--json");
        Assert.Equal(0, exit);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(answer), JsonNode.Parse(stdout)));
        Assert.Contains("チャンネル", stdout);
        Assert.Contains("\n  ", stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_table_aligns_columns_two_spaces_apart_without_trailing_spaces()
    {
        var text = TextTable.Format(["name", "n", "last"], [["a", "123", "x"], ["long-name", "1", ""]]);
        Assert.Equal("name       n    last\na          123  x\nlong-name  1\n", text);
    }

    [Fact]
    public void Cells_show_json_values_plainly()
    {
        Assert.Equal("-", TextTable.Cell(null));
        Assert.Equal("abc", TextTable.Cell(JsonValue.Create("abc")));
        Assert.Equal("true", TextTable.Cell(JsonValue.Create(true)));
        Assert.Equal("42", TextTable.Cell(JsonValue.Create(42)));
        Assert.Equal("""["a",1]""", TextTable.Cell(JsonNode.Parse("""["a",1]""")));
    }

    [Fact]
    public void Flatten_names_nested_leaves_with_dots()
    {
        var leaves = TextTable.Flatten(JsonNode.Parse("""{"a":1,"b":{"c":"x","d":{"e":null}},"f":[1,2]}""")).ToList();
        Assert.Equal([("a", "1"), ("b.c", "x"), ("b.d.e", "-"), ("f", "[1,2]")], leaves);
    }

    [Fact]
    public void Cluster_nodes_table_has_the_operator_columns_and_a_leader_column_only_when_known()
    {
        var nodes = JsonNode.Parse("""
            [{"node_name":"n1@h","connected":true,"mode":"normal","temporary_node":false,"connections":3,"capacity":100,"external_api_url":"http://h:3000/"},
             {"node_name":"t4@h","connected":false}]
            """);
        var o = new StringWriter();
        Commands.ClusterNodes(nodes, o);
        var lines = o.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["node_name", "connected", "mode", "temporary", "connections", "capacity", "load_report_age_ms", "api_url"],
            lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["n1@h", "true", "normal", "false", "3", "100", "-", "http://h:3000/"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["t4@h", "false", "-", "-", "-", "-", "-", "-"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));

        nodes![0]!["leader"] = true;
        o = new StringWriter();
        Commands.ClusterNodes(nodes, o);
        Assert.Contains("leader", o.ToString().Split('\n')[0]);
    }

    [Fact]
    public void Stats_shows_the_main_counters_the_cluster_block_and_the_relay_peers()
    {
        var report = JsonNode.Parse("""
            {"version":"1.0","total_ongoing_connections":2,"total_sent_srtp":5,"simulcast":{"r0":{}},
             "cluster":{"raft_state":"leader","raft_term":3,"raft_commit_index":17},
             "cluster_relay":[{"node_name":"n2@h","total_sent":9,"total_received":8,"latency_us_p50":100}]}
            """);
        var o = new StringWriter();
        Commands.StatsReport(report, o);
        var text = o.ToString();
        Assert.Contains("total_ongoing_connections  2\n", text);
        Assert.Contains("\ncluster\n  raft_state         leader\n  raft_term          3\n  raft_commit_index  17\n", text);
        Assert.Contains("cluster_relay\nnode_name", text);
        Assert.Contains("n2@h", text);
        Assert.DoesNotContain("simulcast", text);
    }
}
