using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 13 part 4 (D-44): floods of half-open signaling connections and of API requests against a node with a call
/// running. Each flood is refused beyond its limit with a clear answer (4429 close, HTTP 429), counted in /metrics,
/// and the running call keeps its media flowing; the added latency is printed (docs/reliability.md).
/// </summary>
[Collection("sfu")]
public sealed class AdmissionFloodTests(ITestOutputHelper output)
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static string Latency(SyntheticClient sub)
    {
        var s = sub.Latency.Snapshot();
        Array.Sort(s);
        sub.Latency.Clear();
        return $"{s.Length} packets, p50 {LatencyRecorder.Percentile(s, 50) / 1000:F2} ms, p99 {LatencyRecorder.Percentile(s, 99) / 1000:F2} ms";
    }

    private static async Task<string> MetricsAsync(InProcessNode node)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync($"http://127.0.0.1:{node.Options.ApiPort}/metrics");
    }

    private static long Metric(string metrics, string name) =>
        long.Parse(metrics.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..]);

    [Fact]
    public async Task Half_open_signaling_beyond_the_per_address_limit_is_closed_with_4429_and_counted_while_a_call_keeps_flowing()
    {
        const int Limit = 16, Flood = 200;
        await using var node = await InProcessNode.StartAsync(o => o with { SignalingMaxPendingPerAddress = Limit });
        await using var call = await node.StartCallAsync("flood", Certificate, bitrateKbps: 1000);
        var sub = call.Subscriber;
        sub.Latency.Clear();
        await Task.Delay(1000); // a second of the call undisturbed, for comparison (a measurement window, not a wait for an effect)
        var before = Latency(sub);

        // 200 WebSockets from the same address that never send `connect`: the first 16 are held (the connect timeout
        // would close them after 10 s), every later one is closed at once with 4429.
        var sockets = new List<ClientWebSocket>();
        var refused = 0;
        var sw = Stopwatch.StartNew();
        var received = sub.PacketsReceived;
        try
        {
            await Parallel.ForAsync(0, Flood, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
            {
                var ws = new ClientWebSocket();
                lock (sockets) sockets.Add(ws);
                await ws.ConnectAsync(node.SignalingUrl, ct);
            });
            // Counted by the node as it refused them; the held ones still count as being set up.
            await InProcessNode.EventuallyAsync("every refusal counted", () => node.Node.SignalingRefusedPerAddress == Flood - Limit);
            var metrics = await MetricsAsync(node);
            Assert.Equal(Flood - Limit, Metric(metrics, "hibari_signaling_refused_pending_per_address_total"));
            Assert.Contains($"hibari_signaling_closes_total{{code=\"4429\"}} {Flood - Limit}\n", metrics);
            Assert.Equal(Limit, Metric(metrics, "hibari_signaling_pending"));
            // What each client saw (a receive that times out aborts its socket: that is how the held ones end here).
            var closes = await Task.WhenAll(sockets.Select(async ws =>
            {
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                try
                {
                    var r = await ws.ReceiveAsync(new byte[256], wait.Token);
                    return r.MessageType == WebSocketMessageType.Close ? (int?)ws.CloseStatus : -1;
                }
                catch (OperationCanceledException) { return null; } // held: still open
            }));
            refused = closes.Count(c => c == 4429);
            var held = closes.Count(c => c is null);
            output.WriteLine($"flood of {Flood}: {refused} closed with 4429, {held} held open, in {sw.ElapsedMilliseconds} ms");
            Assert.Equal(Flood - Limit, refused);
            // Held ones: the per-address budget (the call's two clients had reached `connected`, so they no longer count).
            Assert.Equal(Limit, held);
            Assert.DoesNotContain(closes, c => c is not (null or 4429));
            var during = Latency(sub);
            output.WriteLine($"call before the flood: {before}; during it: {during}");
            Assert.True(sub.PacketsReceived > received + 50, "the running call stopped delivering during the flood");
        }
        finally
        {
            foreach (var ws in sockets) ws.Abort();
            foreach (var ws in sockets) ws.Dispose();
        }
        // The held ones go away with their sockets: the slots come back, and new clients connect and get media.
        await InProcessNode.EventuallyAsync("the pending slots are given back", () => node.Node.SignalingPending == 0);
        await call.DisposeAsync();
        await node.AssertNewPairGetsMediaAsync("flood-after", Certificate);
    }

    /// <summary>A STUN binding request (RFC 8489) with a USERNAME of no connection, a random MESSAGE-INTEGRITY and a valid FINGERPRINT.</summary>
    private static byte[] StrangerBindingRequest(Random r)
    {
        var username = Encoding.ASCII.GetBytes($"{r.Next():x8}:{r.Next():x8}"); // 17 bytes, padded to 20
        var b = new byte[20 + 4 + 20 + 4 + 20 + 8];
        BinaryPrimitives.WriteUInt16BigEndian(b, 0x0001);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)(b.Length - 20));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 0x2112A442);
        r.NextBytes(b.AsSpan(8, 12));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(20), 0x0006);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(22), (ushort)username.Length);
        username.CopyTo(b, 24);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(44), 0x0008);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(46), 20);
        r.NextBytes(b.AsSpan(48, 20));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(68), 0x8028);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(70), 4);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(72), System.IO.Hashing.Crc32.HashToUInt32(b.AsSpan(0, 68)) ^ 0x5354554E);
        return b;
    }

    [Theory]
    [InlineData(1000)] // the default budget (D-47)
    [InlineData(0)] // no budget: every stranger's binding request is answered, for comparison
    public async Task A_udp_flood_of_strangers_is_answered_or_dropped_and_counted_while_a_call_keeps_flowing(int budget)
    {
        await using var node = await InProcessNode.StartAsync(o => o with { RtcMaxUnauthenticatedPerAddress = budget });
        await using var call = await node.StartCallAsync("udp-flood", Certificate, bitrateKbps: 1000);
        var sub = call.Subscriber;
        sub.Latency.Clear();
        await Task.Delay(1000); // a second of the call undisturbed, for comparison (a measurement window)
        var before = Latency(sub);
        var received = sub.PacketsReceived;
        var metricsBefore = await MetricsAsync(node);

        // Two senders from addresses no connection uses, as fast as they can for 2 s: binding requests with unknown
        // usernames, and RTP- and DTLS-shaped datagrams.
        var target = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, node.Options.RtcUdpPort);
        var sw = Stopwatch.StartNew();
        long stun = 0, other = 0;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(k => Task.Run(() =>
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
            var random = new Random(k);
            var junk = new byte[1000];
            while (sw.Elapsed < TimeSpan.FromSeconds(2))
            {
                socket.SendTo(StrangerBindingRequest(random), target);
                Interlocked.Increment(ref stun);
                random.NextBytes(junk);
                junk[0] = random.Next(2) == 0 ? (byte)0x80 : (byte)22;
                socket.SendTo(junk, target);
                Interlocked.Increment(ref other);
            }
        })));
        var seconds = sw.Elapsed.TotalSeconds;
        var during = Latency(sub);
        var metricsAfter = await MetricsAsync(node);
        long Delta(string name) => Metric(metricsAfter, name) - Metric(metricsBefore, name);
        var rejected = Delta("hibari_ice_rejected_total");
        var overBudget = Delta("hibari_media_over_budget_datagrams_total");
        output.WriteLine($"budget {budget}/s: {stun} binding requests and {other} RTP/DTLS-shaped datagrams in {seconds:F2} s; ICE rejected " +
            $"+{rejected}, over budget +{overBudget}, unknown source +{Delta("hibari_media_unknown_source_datagrams_total")}; " +
            $"call before: {before}; during: {during}");
        // Counted (a UDP flood on loopback can overflow the socket's buffer: the kernel drops what the node never sees).
        Assert.True(rejected + overBudget > stun / 10, "binding requests of strangers not counted");
        if (budget > 0)
        {
            // Both senders are 127.0.0.1: one address, answered for at most its budget in each second (windows start
            // at its first datagram, so a 2 s flood spans at most 3), the rest dropped unread.
            Assert.True(rejected <= budget * (Math.Ceiling(seconds) + 1), $"{rejected} binding requests answered in {seconds:F2} s with a budget of {budget}/s");
            Assert.True(overBudget > stun / 10, "the flood beyond the budget was not dropped as over budget");
        }
        else Assert.Equal(0, overBudget);
        Assert.True(Delta("hibari_media_unknown_source_datagrams_total") > other / 10, "datagrams of strangers not counted");
        Assert.True(sub.PacketsReceived > received + 50, "the running call stopped delivering during the flood");
        await node.AssertNewPairGetsMediaAsync("udp-flood-after", Certificate);
    }

    [Fact]
    public async Task An_api_flood_beyond_the_rate_gets_429_with_a_json_error_counted_while_a_call_keeps_flowing()
    {
        const int Rate = 200;
        var floodFor = TimeSpan.FromSeconds(2);
        await using var node = await InProcessNode.StartAsync(o => o with { ApiMaxRequestsPerSecond = Rate });
        await using var call = await node.StartCallAsync("api-flood", Certificate, bitrateKbps: 1000);
        var sub = call.Subscriber;
        sub.Latency.Clear();
        await Task.Delay(1000); // a second of the call undisturbed, for comparison (a measurement window)
        var before = Latency(sub);
        var received = sub.PacketsReceived;

        // 16 senders as fast as they can for 2 s.
        var sw = Stopwatch.StartNew();
        int ok = 0, limited = 0, other = 0, errors = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed < floodFor)
            {
                var (status, body) = await node.ApiAsync("Sora_20201013.ListConnections");
                if (status == 200) Interlocked.Increment(ref ok);
                else if (status == 429) Interlocked.Increment(ref limited);
                else Interlocked.Increment(ref other);
                if (status == 429 && (body?["error_type"]?.GetValue<string>() != "TooManyRequests" || body["message"] is null))
                    Interlocked.Increment(ref errors);
            }
        })));
        var seconds = sw.Elapsed.TotalSeconds;
        var during = Latency(sub);
        output.WriteLine($"{ok + limited + other} API requests in {seconds:F2} s: {ok} answered 200, {limited} 429; call before: {before}; during: {during}");
        Assert.Equal(0, other);
        Assert.Equal(0, errors);
        // One second's worth at the start, then the rate: never more than that.
        Assert.True(ok <= Rate + Rate * seconds + 1, $"{ok} answered in {seconds:F2} s at {Rate}/s");
        Assert.True(limited > 0);
        Assert.Equal(limited, Metric(await MetricsAsync(node), "hibari_api_refused_rate_total"));
        Assert.True(sub.PacketsReceived > received + 50, "the running call stopped delivering during the flood");
        await call.DisposeAsync();
    }
}
