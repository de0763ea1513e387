using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Hibari.Cluster.Links;
using Xunit.Abstractions;

namespace Hibari.Tests.Links;

/// <summary>Two hosts on loopback: links, requests, messages, liveness.</summary>
public class NodeLinkHostTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Two_hosts_link_up_and_both_ends_report_connected_once()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        var clock = Stopwatch.StartNew();

        await LinkTestKit.ConnectPair(a, b);
        output.WriteLine($"link up on both ends {clock.Elapsed.TotalMilliseconds:0.0} ms after SetPeers");

        Assert.Equal([b.Name], a.Host.ConnectedPeers);
        Assert.Equal([a.Name], b.Host.ConnectedPeers);
        await LinkTestKit.Until(() => a.Handler.TransitionsOf(b.Name).Length == 1 && b.Handler.TransitionsOf(a.Name).Length == 1, "OnPeerUp reached both handlers");
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
        Assert.Equal(["up:" + a.Name], b.Handler.Transitions);
        Assert.Equal(1, a.Host.Counters.LinksUp);
        Assert.Equal(0, a.Host.Counters.AuthFailures);
    }

    [Fact]
    public async Task A_link_is_accepted_from_an_authenticated_node_not_in_SetPeers()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        a.Host.SetPeers(new Dictionary<string, IPEndPoint> { [b.Name] = b.EndPoint }); // b lists nobody

        await LinkTestKit.Until(() => a.Host.IsConnected(b.Name) && b.Host.IsConnected(a.Name), "the one-sided dial linked both ends");
        Assert.Equal(a.Name, b.Host.DescribeLink(a.Name)?.Dialer);
    }

    [Fact]
    public async Task Request_gets_the_remote_handlers_answer()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);

        var answer = await a.Host.RequestAsync(b.Name, "ping"u8.ToArray(), RequestTimeout, CancellationToken.None);

        Assert.Equal("echo:ping", Encoding.UTF8.GetString(answer));
        Assert.Equal(1, a.Host.Counters.RequestsSent);
        Assert.Equal(1, b.Host.Counters.RequestsServed);
    }

    [Fact]
    public async Task Concurrent_requests_in_both_directions_each_get_their_own_answer()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);

        var fromA = Enumerable.Range(0, 100).Select(i => a.Host.RequestAsync(b.Name, Encoding.UTF8.GetBytes($"a{i}"), RequestTimeout, CancellationToken.None));
        var fromB = Enumerable.Range(0, 100).Select(i => b.Host.RequestAsync(a.Name, Encoding.UTF8.GetBytes($"b{i}"), RequestTimeout, CancellationToken.None));
        var answers = await Task.WhenAll(fromA.Concat(fromB));

        for (int i = 0; i < 100; i++)
        {
            Assert.Equal($"echo:a{i}", Encoding.UTF8.GetString(answers[i]));
            Assert.Equal($"echo:b{i}", Encoding.UTF8.GetString(answers[100 + i]));
        }
    }

    [Fact]
    public async Task A_large_request_and_answer_cross_the_link_intact()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        var payload = new byte[3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(payload);

        var answer = await a.Host.RequestAsync(b.Name, payload, RequestTimeout, CancellationToken.None);

        Assert.Equal([.. "echo:"u8, .. payload], answer);
    }

    [Fact]
    public async Task A_remote_handler_exception_comes_back_as_NodeLinkException_with_its_message()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        b.Handler.Respond = (_, _, _) => throw new InvalidOperationException("no such channel: room-42");
        await LinkTestKit.ConnectPair(a, b);

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => a.Host.RequestAsync(b.Name, "x"u8.ToArray(), RequestTimeout, CancellationToken.None));

        Assert.Contains("no such channel: room-42", error.Message);
        Assert.True(a.Host.IsConnected(b.Name), "a failed request does not break the link");
        Assert.Equal(1, b.Host.Counters.RequestHandlerFailures);
    }

    [Fact]
    public async Task A_request_to_a_peer_that_is_not_connected_fails_with_NodeLinkException()
    {
        await using var a = TestNode.Start("a@127.0.0.1");

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => a.Host.RequestAsync("nobody@127.0.0.1", "x"u8.ToArray(), RequestTimeout, CancellationToken.None));

        Assert.Contains("not connected", error.Message);
        Assert.False(a.Host.Send("nobody@127.0.0.1", 1, "x"u8.ToArray()));
    }

    [Fact]
    public async Task A_request_without_an_answer_in_time_fails_with_NodeLinkException()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        b.Handler.Respond = async (_, _, ct) => { await Task.Delay(Timeout.Infinite, ct); return []; };
        await LinkTestKit.ConnectPair(a, b);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => a.Host.RequestAsync(b.Name, "x"u8.ToArray(), TimeSpan.FromMilliseconds(300), CancellationToken.None));

        Assert.Contains("timed out", error.Message);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"failed after {clock.Elapsed}");
        Assert.Equal(1, a.Host.Counters.RequestsTimedOut);
    }

    private ref struct BodyState(ReadOnlySpan<byte> prefix, int index)
    {
        public ReadOnlySpan<byte> Prefix = prefix;
        public int Index = index;
    }

    [Fact]
    public async Task Messages_written_straight_into_the_send_buffer_arrive_like_copied_ones_and_allocate_no_body_array()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        const int count = 2000;
        var prefix = "rtp:"u8.ToArray();
        for (int i = 0; i < count; i++)
        {
            var state = new BodyState(prefix, i);
            var length = prefix.Length + 4 + i % 700;
            Assert.True(a.Host.Send(b.Name, 2, length, ref state, static (Span<byte> body, scoped ref BodyState s) =>
            {
                s.Prefix.CopyTo(body);
                BinaryPrimitives.WriteInt32BigEndian(body[s.Prefix.Length..], s.Index);
                body[(s.Prefix.Length + 4)..].Fill((byte)s.Index);
            }), $"message {i} was not queued");
        }
        await LinkTestKit.Until(() => b.Handler.Messages.Count == count, $"{count} messages arrived");
        var received = b.Handler.Messages.ToArray();
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(2, received[i].Channel);
            var body = received[i].Payload;
            Assert.Equal(prefix.Length + 4 + i % 700, body.Length);
            Assert.True(body.AsSpan(0, prefix.Length).SequenceEqual(prefix));
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(prefix.Length)));
            Assert.All(body[(prefix.Length + 4)..], x => Assert.Equal((byte)i, x));
        }
        Assert.Equal(count, a.Host.Counters.MessagesSent);
        var none = new BodyState(prefix, 0);
        Assert.False(a.Host.Send("nobody@127.0.0.1", 2, 4, ref none, static (Span<byte> body, scoped ref BodyState s) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            var s = new BodyState([], 0);
            a.Host.Send(b.Name, 2, -1, ref s, static (Span<byte> body, scoped ref BodyState st) => { });
        });
    }

    [Fact]
    public async Task One_way_messages_arrive_complete_and_in_order_with_their_channel()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        const int count = 5000;

        var payload = new byte[4];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(payload, i);
            Assert.True(a.Host.Send(b.Name, (byte)(i % 3), payload), $"message {i} was not queued");
        }
        await LinkTestKit.Until(() => b.Handler.Messages.Count == count, $"{count} messages arrived");

        var received = b.Handler.Messages.ToArray();
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(a.Name, received[i].Peer);
            Assert.Equal((byte)(i % 3), received[i].Channel);
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(received[i].Payload));
        }
        Assert.Equal(count, a.Host.Counters.MessagesSent);
        Assert.Equal(count, b.Host.Counters.MessagesReceived);
        Assert.Equal(0, a.Host.Counters.MessagesDropped);
    }

    [Fact]
    public async Task Send_to_a_peer_that_stops_reading_never_blocks_and_drops_with_a_count_when_the_queue_is_full()
    {
        var options = LinkTestKit.Options("a@127.0.0.1") with { SendQueueLimitBytes = 256 * 1024, DeadAfter = TimeSpan.FromSeconds(5) };
        await using var a = TestNode.Start("a@127.0.0.1", options);
        using var frozen = await RawPeer.AuthenticateAsync(a.EndPoint, "frozen@127.0.0.1"); // authenticates, then never reads
        await LinkTestKit.Until(() => a.Host.IsConnected(frozen.Name), "the frozen peer is linked");

        var chunk = new byte[64 * 1024];
        int refused = 0;
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < 1000 && total.Elapsed < TimeSpan.FromSeconds(4); i++)
        {
            var one = Stopwatch.StartNew();
            if (!a.Host.Send(frozen.Name, 1, chunk)) refused++;
            slowest = one.Elapsed > slowest ? one.Elapsed : slowest;
        }

        Assert.True(refused > 0, "the queue never filled although nothing is read");
        Assert.Equal(refused, a.Host.Counters.MessagesDropped);
        Assert.True(slowest < TimeSpan.FromMilliseconds(500), $"one Send took {slowest}");
    }

    [Fact]
    public async Task A_disposed_peer_goes_down_promptly_and_comes_back_when_restarted()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        var endPoint = b.EndPoint;
        var deadAfter = LinkTestKit.Options(a.Name).DeadAfter;

        var clock = Stopwatch.StartNew();
        await b.DisposeAsync();
        await LinkTestKit.Until(() => a.Handler.TransitionsOf(b.Name).Contains("down:" + b.Name), "a saw b go down", deadAfter + TimeSpan.FromSeconds(5));
        output.WriteLine($"down reported {clock.Elapsed.TotalMilliseconds:0} ms after b was disposed");
        Assert.False(a.Host.IsConnected(b.Name));
        Assert.DoesNotContain(b.Name, a.Host.ConnectedPeers);
        Assert.False(a.Host.Send(b.Name, 1, "x"u8.ToArray()));

        // Restart b at the same endpoint: a keeps re-dialling it.
        await using var restarted = TestNode.Start(b.Name, listener: ListenAgain(endPoint, out bool samePort));
        if (!samePort) a.Host.SetPeers(new Dictionary<string, IPEndPoint> { [b.Name] = restarted.EndPoint });
        await LinkTestKit.Until(() => a.Host.IsConnected(b.Name) && restarted.Host.IsConnected(a.Name), "the restarted b is linked again");
        Assert.Equal(["up:" + b.Name, "down:" + b.Name, "up:" + b.Name], a.Handler.Transitions);
        Assert.Equal("echo:again", Encoding.UTF8.GetString(await a.Host.RequestAsync(b.Name, "again"u8.ToArray(), RequestTimeout, CancellationToken.None)));
    }

    [Fact]
    public async Task A_peer_that_goes_silent_is_declared_down_after_DeadAfter()
    {
        var options = LinkTestKit.Options("a@127.0.0.1") with { DeadAfter = TimeSpan.FromSeconds(1) };
        await using var a = TestNode.Start("a@127.0.0.1", options);
        using var silent = await RawPeer.AuthenticateAsync(a.EndPoint, "silent@127.0.0.1");
        await LinkTestKit.Until(() => a.Handler.TransitionsOf(silent.Name).Length == 1, "the silent peer came up");
        var clock = Stopwatch.StartNew();

        await LinkTestKit.Until(() => a.Handler.TransitionsOf(silent.Name).Length == 2, "the silent peer went down", options.DeadAfter + TimeSpan.FromSeconds(5));

        output.WriteLine($"declared down {clock.Elapsed.TotalMilliseconds:0} ms after it came up (DeadAfter {options.DeadAfter.TotalMilliseconds} ms)");
        Assert.True(clock.Elapsed >= options.DeadAfter * 0.8, $"declared down after only {clock.Elapsed}");
        Assert.Equal(["up:" + silent.Name, "down:" + silent.Name], a.Handler.Transitions);
        Assert.False(a.Host.IsConnected(silent.Name));
        Assert.True(await LinkTestKit.ClosedByPeerAsync(silent.Connection.Stream, LinkTestKit.Patience), "the dead link's socket was closed");
    }

    [Fact]
    public async Task Disposing_the_host_fails_pending_requests_with_NodeLinkException()
    {
        var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        b.Handler.Respond = async (_, _, ct) => { await Task.Delay(Timeout.Infinite, ct); return []; };
        await LinkTestKit.ConnectPair(a, b);
        var pending = a.Host.RequestAsync(b.Name, "x"u8.ToArray(), TimeSpan.FromSeconds(60), CancellationToken.None);
        await LinkTestKit.Until(() => b.Handler.Calls >= 2, "b's handler received the request"); // up + request

        await a.DisposeAsync();

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => pending.WaitAsync(LinkTestKit.Patience));
        Assert.Contains("disposed", error.Message);
        await Assert.ThrowsAsync<NodeLinkException>(() => a.Host.RequestAsync(b.Name, "x"u8.ToArray(), RequestTimeout, CancellationToken.None));
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions); // no handler calls after disposal began
    }

    [Fact]
    public async Task A_peer_going_away_fails_requests_waiting_for_it()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        var b = TestNode.Start("b@127.0.0.1");
        b.Handler.Respond = async (_, _, ct) => { await Task.Delay(Timeout.Infinite, ct); return []; };
        await LinkTestKit.ConnectPair(a, b);
        var pending = a.Host.RequestAsync(b.Name, "x"u8.ToArray(), TimeSpan.FromSeconds(60), CancellationToken.None);
        await LinkTestKit.Until(() => b.Handler.Calls >= 2, "b's handler received the request");

        await b.DisposeAsync();

        var error = await Assert.ThrowsAsync<NodeLinkException>(() => pending.WaitAsync(LinkTestKit.Patience));
        Assert.Contains(b.Name, error.Message);
    }

    [Fact]
    public async Task A_peer_removed_from_SetPeers_on_both_sides_is_unlinked()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);

        b.Host.SetPeers(new Dictionary<string, IPEndPoint>());
        a.Host.SetPeers(new Dictionary<string, IPEndPoint>());

        await LinkTestKit.Until(() => a.Handler.Transitions.Length == 2 && b.Handler.Transitions.Length == 2, "both ends reported the peer down");
        await Task.Delay(LinkTestKit.Options(a.Name).RedialInterval * 5); // an absence check: five redial intervals in which nobody may dial
        Assert.False(a.Host.IsConnected(b.Name) || b.Host.IsConnected(a.Name), "somebody re-dialled");
        Assert.Equal(["up:" + b.Name, "down:" + b.Name], a.Handler.Transitions);
        Assert.Equal(["up:" + a.Name, "down:" + a.Name], b.Handler.Transitions);
    }

    [Fact]
    public async Task Nodes_on_distinct_loopback_addresses_dial_from_their_own_address()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.2", listener: new TcpListener(IPAddress.Parse("127.0.0.2"), 0));
        b.Host.SetPeers(new Dictionary<string, IPEndPoint> { [a.Name] = a.EndPoint });

        await LinkTestKit.Until(() => a.Host.IsConnected(b.Name), "b dialled a");

        Assert.Equal(IPAddress.Parse("127.0.0.2"), a.Host.DescribeLink(b.Name)?.Remote?.Address);
    }

    [Fact]
    public async Task Start_accepts_a_listener_the_caller_already_started()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var reserved = (IPEndPoint)listener.LocalEndpoint;
        await using var a = TestNode.Start("a@127.0.0.1", listener: listener);
        await using var b = TestNode.Start("b@127.0.0.1");

        Assert.Equal(reserved, a.EndPoint);
        await LinkTestKit.ConnectPair(a, b);
    }

    private static TcpListener ListenAgain(IPEndPoint endPoint, out bool samePort)
    {
        var listener = new TcpListener(endPoint);
        try
        {
            listener.Start();
            samePort = true;
        }
        catch (SocketException)
        {
            listener = new TcpListener(endPoint.Address, 0);
            samePort = false;
        }
        return listener;
    }
}

/// <summary>
/// Timing of heartbeats against a handler that blocks a thread for 1.5 × DeadAfter (2 s in the test options): run alone
/// (no other test class in parallel), because a thread pool starved by CPU-heavy tests on 2 cores delays heartbeats by
/// itself, which is not what this test is about (it failed that way once in a full run).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LinkTimingCollection
{
    public const string Name = "link-timing";
}

[Collection(LinkTimingCollection.Name)]
public sealed class NodeLinkHeartbeatTests
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_handler_that_blocks_its_thread_does_not_stall_heartbeats()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        var deadAfter = LinkTestKit.Options(b.Name).DeadAfter;
        b.Handler.Respond = (_, payload, _) =>
        {
            Thread.Sleep(deadAfter * 1.5); // synchronously, before any await
            return ValueTask.FromResult(payload);
        };
        await LinkTestKit.ConnectPair(a, b);

        var request = a.Host.RequestAsync(b.Name, "slow"u8.ToArray(), RequestTimeout, CancellationToken.None);
        await LinkTestKit.Holds(() => a.Host.IsConnected(b.Name) && b.Host.IsConnected(a.Name), "the link is up while the handler blocks", deadAfter * 1.25);

        Assert.Equal("slow", Encoding.UTF8.GetString(await request));
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
        Assert.Equal(["up:" + a.Name], b.Handler.Transitions);
    }

}
