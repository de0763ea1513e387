using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Hibari.Api.Contracts;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 14: the GetStatsReport fields sora_exporter reads beyond the counters (D-51): durations, setup time, the
/// `sora_client` buckets and the `error` counters, from real connections.
/// </summary>
[Collection("sfu")]
public sealed class StatsReportFieldsTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Theory]
    [InlineData("Sora JavaScript SDK 2025.2.0", "sora_js_sdk")]
    [InlineData("Sora C++ SDK 2025.1.0 (Ubuntu 24.04 x86_64)", "sora_cpp_sdk")]
    [InlineData("Sora C SDK 2025.1.0", "sora_c_sdk")]
    [InlineData("sora android sdk 2024.3.1", "sora_android_sdk")]
    [InlineData("Sora iOS SDK 2025.1.0", "sora_ios_sdk")]
    [InlineData("Sora Python SDK 2025.1.0", "sora_python_sdk")]
    [InlineData("WebRTC Native Client Momo 2024.1.0", "webrtc_native_client_momo")]
    [InlineData("WebRTC Load Testing Tool Zakuro 2024.1.0", "webrtc_load_testing_tool_zakuro")]
    [InlineData("Hibari Load", "unknown")]
    [InlineData(null, "unknown")]
    public void Client_software_falls_in_sora_exporter_buckets(string? soraClient, string bucket) =>
        Assert.Equal(bucket, SoraClientType.Keys[SoraClientType.Of(soraClient)]);

    [Fact]
    public async Task Durations_setup_time_client_buckets_and_error_counters_follow_real_connections()
    {
        await using var node = await InProcessNode.StartAsync();
        var js = new SyntheticClient(node.SignalingUrl, "report", new SyntheticClientOptions
        {
            Certificate = Certificate,
            ConnectExtra = new JsonObject { ["sora_client"] = "Sora JavaScript SDK 2025.2.0" },
        });
        await using var other = new SyntheticClient(node.SignalingUrl, "report", new SyntheticClientOptions { Certificate = Certificate });
        await js.ConnectAsync();
        await other.ConnectAsync();
        await Task.Delay(1100); // a measurement window: the connection lives at least a second
        await js.DisposeAsync();
        await InProcessNode.EventuallyAsync("one connection left", () => node.Node.Sfu.ConnectionCount == 1);

        // Refused connects: a codec that cannot be offered, and an invalid role.
        Assert.Equal(4407, await CloseCodeAsync(node, """{"type":"connect","role":"sendrecv","channel_id":"report","video":{"codec_type":"VP7"}}"""));
        Assert.Equal(4404, await CloseCodeAsync(node, """{"type":"connect","role":"watch","channel_id":"report"}"""));

        JsonNode? report = null;
        await InProcessNode.EventuallyAsync("the ended connection counted", () =>
        {
            report = node.ApiAsync("Sora_20171010.GetStatsReport").GetAwaiter().GetResult().Body;
            return (long?)report?["total_connection_destroyed"] == 1;
        });
        var r = report!;
        Assert.Equal(2, (long)r["total_successful_connections"]!);
        Assert.InRange((long)r["total_duration_sec"]!, 1, 60);
        Assert.Equal((long)r["total_duration_sec"]!, (long)r["average_duration_sec"]!); // one ended connection
        Assert.InRange((long)r["average_setup_time_msec"]!, 1, 10_000);
        var ok = r["sora_client"]!["total_successful_sora_client_type"]!;
        Assert.Equal(1, (long)ok["sora_js_sdk"]!);
        Assert.Equal(1, (long)ok["unknown"]!);
        Assert.Equal(SoraClientType.Keys.Order(), ok.AsObject().Select(kv => kv.Key).Order());
        Assert.All(r["sora_client"]!["total_failed_sora_client_type"]!.AsObject(), kv => Assert.Equal(0, (long)kv.Value!));
        Assert.Equal(1, (long)r["error"]!["sdp_generation_error"]!);
        Assert.Equal(1, (long)r["error"]!["signaling_error"]!);
    }

    private static async Task<int?> CloseCodeAsync(InProcessNode node, string connect)
    {
        using var ws = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await ws.ConnectAsync(node.SignalingUrl, timeout.Token);
        await ws.SendAsync(Encoding.UTF8.GetBytes(connect), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[4096];
        while (true)
        {
            var got = await ws.ReceiveAsync(buffer, timeout.Token);
            if (got.MessageType == WebSocketMessageType.Close) return (int?)ws.CloseStatus;
        }
    }
}
