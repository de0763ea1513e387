using System.Diagnostics;
using System.Net;
using System.Text;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.MultiProcess;

/// <summary>The SFU inside a cluster of real processes: sessions in the replicated state, API redirects.</summary>
[Collection("processes")]
public sealed class ClusterSfuTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private readonly ClusterHarness _h = new();
    private readonly List<SyntheticClient> _clients = [];
    private NodeProcess _n1 = null!, _n2 = null!, _n3 = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var c in _clients) await c.DisposeAsync();
        await _h.DisposeAsync();
    }

    private async Task StartAsync(params string[] settings)
    {
        _n1 = _h.Add("n1", 1, settings: settings);
        _n2 = _h.Add("n2", 2, settings: settings);
        _n3 = _h.Add("n3", 3, settings: settings);
        await _h.StartAllAsync(_n1, _n2, _n3);
        await ClusterHarness.InitClusterAsync(_n1, _n1, _n2, _n3);
        foreach (var n in new[] { _n1, _n2, _n3 })
            await _h.EventuallyAsync($"{n.Name} serves", async () =>
                (await Signaling.ConnectAndWaitForCloseAsync(n, n.SignalingPort)).Reason == Signaling.Served, TimeSpan.FromSeconds(30));
    }

    private async Task<SyntheticClient> ConnectAsync(NodeProcess node, string channel, string role = "recvonly")
    {
        var c = new SyntheticClient(new Uri($"ws://{node.Ip}:{node.SignalingPort}/signaling"), channel,
            new SyntheticClientOptions { Role = role, Certificate = Certificate });
        _clients.Add(c);
        await c.ConnectAsync();
        return c;
    }

    private async Task<string[]> OwnersAsync(NodeProcess on, string channel)
    {
        var (_, body, _) = await on.ApiAsync("Sora_20211215.ListClusterChannels");
        var row = body!.AsArray().FirstOrDefault(c => (string?)c!["channel_id"] == channel);
        return row?["owners"]?.AsArray().Select(o => (string)o!["node_name"]!).ToArray() ?? [];
    }

    [Fact]
    public async Task A_channel_call_on_a_node_without_the_session_is_redirected_307_and_curl_follows_it_C_API_1()
    {
        await StartAsync();
        var client = await ConnectAsync(_n2, "api-307");
        await _h.EventuallyAsync("n1 sees n2 holding the session", async () => (await OwnersAsync(_n1, "api-307")).Contains(_n2.NodeName));

        using var noFollow = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{_n1.Ip}:{_n1.ApiPort}/")
        {
            Content = new StringContent("""{"channel_id":"api-307"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-sora-target", "Sora_20201013.ListChannelConnections");
        using var response = await noFollow.SendAsync(request);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal($"http://{_n2.Ip}:{_n2.ApiPort}/", response.Headers.Location?.ToString());

        // curl -L repeats the POST (body and headers) at the Location: the channel is disconnected on n2.
        var curl = Process.Start(new ProcessStartInfo("curl", ["-sS", "-L", "-o", "/dev/null", "-w", "%{http_code} %{num_redirects}",
            "-X", "POST", "-H", "x-sora-target: Sora_20151104.DisconnectChannel", "-H", "content-type: application/json",
            "--data", """{"channel_id":"api-307"}""", $"http://{_n1.Ip}:{_n1.ApiPort}/"]) { RedirectStandardOutput = true })!;
        var result = await curl.StandardOutput.ReadToEndAsync();
        await curl.WaitForExitAsync();
        output.WriteLine("curl: " + result);
        Assert.Equal("200 1", result.Trim());
        await _h.EventuallyAsync("the client on n2 is closed", () => Task.FromResult(client.CloseStatus is not null));
        Assert.Equal(1000, (int)client.CloseStatus!.Value);
    }

    [Fact]
    public async Task With_relay_off_a_session_never_gets_a_second_node_C_NOREL_2_C_MAJ_4()
    {
        await StartAsync("cluster_relay=false");
        await ConnectAsync(_n1, "norel");
        await _h.EventuallyAsync("n2 sees n1 holding the session", async () => (await OwnersAsync(_n2, "norel")).Contains(_n1.NodeName));
        var second = new SyntheticClient(new Uri($"ws://{_n2.Ip}:{_n2.SignalingPort}/signaling"), "norel",
            new SyntheticClientOptions { Certificate = Certificate });
        _clients.Add(second);
        try { await second.ConnectAsync(); } catch (Exception e) { output.WriteLine("second connect: " + e.Message); }
        Assert.Equal([_n1.NodeName], await OwnersAsync(_n1, "norel"));
    }
}
