using System.Net;
using System.Text;
using System.Text.Json;
using Hibari.Api;

namespace Hibari.Tests.Api;

/// <summary>Bad input never reaches a 500: every mutated body gets a 200 or a JSON 4xx error.</summary>
public sealed class ApiFuzzTests : IAsyncLifetime
{
    private const int Seed = 20211215;
    private const int Cases = 400;
    private ApiTestHost _host = null!;

    public async Task InitializeAsync() => _host = await ApiTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly string[] Seeds =
    [
        """{"node_name_list": ["n1@127.0.0.1", "n2@127.0.0.2", "n3@127.0.0.3"]}""",
        """{"node_name_list": [], "extra": {"nested": [1, 2.5, -3e10, true, null]}}""",
        """{"mode": "block_new_session"}""",
        """{}""",
        """[]""",
        """ "just a string" """,
    ];

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", "\"", ",", ":", "null", "true", "false", "0", "-0", "1e999", "-1.5e-400",
        "18446744073709551616", "\"\\ud800\"", "\"\\u0000\"", "\\", "\"node_name_list\"", "\"mode\"",
        "NaN", "Infinity", "/*c*/", "//", "\t", "\u00e9", "\ud83d\ude00",
    ];

    [Fact]
    public async Task Mutated_bodies_never_cause_a_500()
    {
        var random = new Random(Seed);
        var targets = new[] { ApiTestHost.InitCluster, ApiTestHost.ChangeMode };
        var statuses = new Dictionary<HttpStatusCode, int>();
        for (var i = 0; i < Cases; i++)
        {
            var body = Mutate(random);
            var target = targets[i % targets.Length];
            using var response = await _host.PostAsync(target, body);
            var text = await response.Content.ReadAsStringAsync();
            var context = $"case {i} ({target}): {Convert.ToBase64String(body)} -> {(int)response.StatusCode} {text}";

            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, context);
            using var document = JsonDocument.Parse(text);
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                Assert.Equal(ApiErrorTypes.InvalidBody, document.RootElement.GetProperty("error_type").GetString());
                Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("message").GetString()), context);
            }
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
        }

        // The corpus must exercise both outcomes, or it proves little.
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 10, $"only {statuses.GetValueOrDefault(HttpStatusCode.OK)} accepted");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 100);

        using var after = await _host.PostAsync(ApiTestHost.GetMode, "{}");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private static byte[] Mutate(Random random)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(Seeds[random.Next(Seeds.Length)]));
        switch (random.Next(8))
        {
            case 0: // unchanged: the seeds themselves
                break;
            case 1: // random bytes
                bytes.Clear();
                for (var n = random.Next(1, 64); n > 0; n--)
                    bytes.Add((byte)random.Next(256));
                break;
            case 2: // deep nesting
                var depth = random.Next(50, 300);
                bytes.Clear();
                bytes.AddRange(Encoding.UTF8.GetBytes("{\"node_name_list\":" + new string('[', depth) + new string(']', depth) + "}"));
                break;
            default: // a few point mutations
                for (var n = random.Next(1, 4); n > 0; n--)
                    MutateOnce(random, bytes);
                break;
        }
        return bytes.ToArray();
    }

    private static void MutateOnce(Random random, List<byte> bytes)
    {
        var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
        switch (random.Next(5))
        {
            case 0 when bytes.Count > 0:
                bytes[at] = (byte)random.Next(256);
                break;
            case 1 when bytes.Count > 0:
                bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                break;
            case 2:
                bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
                break;
            case 3 when bytes.Count > 0:
                bytes.RemoveRange(at, bytes.Count - at); // truncate
                break;
            default:
                bytes.Insert(at, (byte)random.Next(0x80, 0x100)); // stray non-ASCII / invalid UTF-8
                break;
        }
    }
}
