using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.MultiProcess;

/// <summary>
/// Issue 13 part 2: crashes in the middle of work, with real node processes and real clients (the load tool's
/// synthetic client: signaling, ICE, DTLS). Figures are in docs/reliability.md.
/// </summary>
[Collection("processes")]
public sealed class ClusterCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();
    private readonly ClusterHarness _h = new();
    private readonly ConcurrentBag<SyntheticClient> _clients = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Task.WhenAll(_clients.Select(c => c.DisposeAsync().AsTask()));
        await _h.DisposeAsync();
    }

    private sealed record Outcome(int Index, string Channel, string StartedAt, string? ServedBy, string Result, int? CloseCode, TimeSpan Took, SyntheticClient Client);

    [Fact]
    public async Task Leader_killed_during_a_storm_of_200_connects_every_connect_ends_in_time_and_no_session_is_left_without_its_connections()
    {
        const int Storm = 200, Channels = 40;
        var (n1, n2, n3) = await _h.StartServingClusterAsync("session_destroy_delay_ms=500");
        NodeProcess[] nodes = [n1, n2, n3];
        NodeProcess? leader = null;
        await _h.EventuallyAsync("a Raft leader", async () =>
        {
            foreach (var n in nodes) if (await n.IsRaftLeaderAsync()) { leader = n; return true; }
            return false;
        });
        output.WriteLine($"leader: {leader!.Name}");

        // 200 clients at once, 5 to a channel, their first contact spread over the three nodes (affinity on, so many are
        // redirected to the node that holds their channel). The leader is killed once 30 have connected.
        // A thread per client for the clients' DTLS handshakes: in the default client pool of 8 threads, clients whose
        // node died hold their threads for 10 s each and starve the handshakes toward the survivors (a test-side effect).
        using var handshakes = new DtlsHandshakePool(Storm, "storm client handshake");
        var outcomes = new ConcurrentBag<Outcome>();
        var connected = 0;
        var storm = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, Storm).Select(i => Task.Run(async () =>
        {
            var contact = nodes[i % 3];
            var channel = $"storm-{i % Channels}";
            var c = new SyntheticClient(new Uri($"ws://{contact.Ip}:{contact.SignalingPort}/signaling"), channel,
                new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate, Timeout = TimeSpan.FromSeconds(14), HandshakePool = handshakes });
            _clients.Add(c);
            var sw = Stopwatch.StartNew();
            try
            {
                await c.ConnectAsync();
                Interlocked.Increment(ref connected);
                outcomes.Add(new(i, channel, contact.Name, (c.RedirectedTo ?? c.ConnectedUrl).Host, "connected", null, sw.Elapsed, c));
            }
            catch (Exception e)
            {
                var result = e is OperationCanceledException or TimeoutException ? "timeout" : c.CloseStatus is not null ? "closed" : "error: " + e.GetType().Name + " " + e.Message;
                outcomes.Add(new(i, channel, contact.Name, (c.RedirectedTo ?? c.ConnectedUrl).Host, result, (int?)c.CloseStatus, sw.Elapsed, c));
            }
        })).ToArray();
        await _h.EventuallyAsync("30 clients connected", () => Task.FromResult(Volatile.Read(ref connected) >= 30), TimeSpan.FromSeconds(60));
        leader.Kill();
        var killedAt = storm.Elapsed;
        output.WriteLine($"killed {leader.Name} at {killedAt.TotalMilliseconds:F0} ms, {Volatile.Read(ref connected)} connected by then");
        await Task.WhenAll(tasks);
        output.WriteLine($"storm over after {storm.Elapsed.TotalMilliseconds:F0} ms");

        var all = outcomes.OrderBy(o => o.Index).ToList();
        foreach (var g in all.GroupBy(o => (o.ServedBy == leader.Ip ? "at the killed leader" : "at a survivor") + ": " + o.Result + (o.CloseCode is { } k ? " " + k : "")))
            output.WriteLine($"{g.Count(),4} {g.Key} (took {g.Min(o => o.Took.TotalMilliseconds):F0}–{g.Max(o => o.Took.TotalMilliseconds):F0} ms)");
        var served = all.Where(o => o.Result == "connected" && o.ServedBy != leader.Ip).Select(o => o.Took.TotalMilliseconds).Order().ToArray();
        if (served.Length > 0)
            output.WriteLine($"served by a survivor, connect -> connected: p50 {served[served.Length / 2]:F0} ms, p90 {served[served.Length * 9 / 10]:F0} ms, max {served[^1]:F0} ms");
        Assert.Equal(Storm, all.Count);
        // Where a survivor answered (the client's last signaling node: its contact, or where that redirected it), the
        // connect was served or refused with a 4xxx close, well before the client's own 14 s timeout: no hang. A client
        // whose node was killed may see anything (a reset socket, ICE or DTLS toward a dead port until its timeout).
        foreach (var o in all.Where(o => o.ServedBy != leader.Ip))
        {
            Assert.True(o.Result == "connected" || (o.Result == "closed" && o.CloseCode is >= 4000 and < 5000),
                $"client {o.Index} ({o.Channel}, contact {o.StartedAt}, served by {o.ServedBy}): {o.Result} {o.CloseCode}");
            Assert.True(o.Took < TimeSpan.FromSeconds(12), $"client {o.Index} served by {o.ServedBy} took {o.Took}");
        }
        Assert.True(all.Count(o => o.Result == "connected" && o.ServedBy != leader.Ip) >= 30,
            "fewer than 30 clients served by the survivors");

        // The killed node comes back; it releases what it owned before the crash (nobody is connected to it any more).
        leader.Start();
        var restarted = Stopwatch.StartNew();
        foreach (var n in nodes) await _h.EventuallyAsync($"{n.Name} available", n.IsAvailableAsync, TimeSpan.FromSeconds(30));
        var alive = all.Where(o => o.Result == "connected" && o.ServedBy != leader.Ip).ToList();
        // Every client still connected (served by a survivor) shares one session per channel.
        foreach (var ch in alive.GroupBy(o => o.Channel))
            Assert.Single(ch.Select(o => o.Client.SessionId).Distinct());
        // Afterwards the replicated state and the nodes agree: every owner of every listed channel holds a connection of
        // it, every channel with a live client is listed with that client's node among its owners, and every node sees the same.
        string? last = null;
        await _h.EventuallyAsync("every listed owner holds a connection of its channel, on every node's view", async () =>
        {
            var held = new Dictionary<string, HashSet<string>>(); // channel -> nodes (names) with a connection
            foreach (var n in nodes)
            {
                var (status, list, _) = await n.ApiAsync("Sora_20201013.ListConnections");
                if (status != 200) return false;
                foreach (var c in list!.AsArray())
                {
                    var ch = c!["channel_id"]!.GetValue<string>();
                    if (!held.TryGetValue(ch, out var set)) held[ch] = set = [];
                    set.Add(n.NodeName);
                }
            }
            string? view = null;
            foreach (var n in nodes)
            {
                var (status, channels, _) = await n.ApiAsync("Sora_20211215.ListClusterChannels");
                if (status != 200) return false;
                var owners = channels!.AsArray().ToDictionary(c => c!["channel_id"]!.GetValue<string>(),
                    c => c!["owners"]!.AsArray().Select(o => o!["node_name"]!.GetValue<string>()).Order().ToList());
                var text = string.Join(";", owners.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + string.Join(",", kv.Value)));
                if (view is not null && view != text) { last = $"{n.Name} sees {text}, another node {view}"; return false; }
                view = text;
                foreach (var (ch, o) in owners)
                    if (o.Count == 0 || !o.All(owner => held.TryGetValue(ch, out var h) && h.Contains(owner)))
                    { last = $"{ch}: owners {string.Join(",", o)}, connections on {string.Join(",", held.GetValueOrDefault(ch) ?? [])}"; return false; }
                foreach (var (ch, h) in held)
                    if (!owners.TryGetValue(ch, out var o) || !h.All(o.Contains))
                    { last = $"{ch}: connections on {string.Join(",", h)}, listed owners {string.Join(",", o ?? [])}"; return false; }
            }
            return true;
        }, TimeSpan.FromSeconds(30));
        output.WriteLine($"agreed {restarted.ElapsedMilliseconds} ms after the restart; last disagreement seen: {(last is { Length: > 300 } l ? l[..300] + "…" : last ?? "none")}");
        // The survivors never cut the clients they served.
        Assert.All(alive, o => Assert.Equal(System.Net.WebSockets.WebSocketState.Open, o.Client.WebSocketState));
    }
}
