using System.Net;
using System.Net.Sockets;
using System.Text;
using Hibari.Cluster.Links;
using Microsoft.Extensions.Logging;

namespace Hibari.Tests.Links;

/// <summary>Nothing unauthenticated reaches the handler or disturbs the links that are up (docs/protocol-notes.md, "Cluster shape").</summary>
public class NodeLinkSecurityTests
{
    [Fact]
    public async Task A_node_with_the_wrong_secret_is_refused_counted_and_logged_and_good_links_are_unaffected()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        await using var intruder = TestNode.Start("c@127.0.0.1", LinkTestKit.Options("c@127.0.0.1", secret: "not-the-secret"));

        intruder.Host.SetPeers(new Dictionary<string, IPEndPoint> { [a.Name] = a.EndPoint });

        await LinkTestKit.Until(() => a.Host.Counters.AuthFailures >= 2, "a refused several attempts");
        Assert.False(a.Host.IsConnected(intruder.Name));
        Assert.False(intruder.Host.IsConnected(a.Name));
        Assert.False(a.Handler.CalledAbout(intruder.Name), "the handler heard of the intruder");
        Assert.True(a.Host.IsConnected(b.Name));
        Assert.Equal(["up:" + b.Name], a.Handler.Transitions);
        Assert.True(a.Logs.Has(LogLevel.Warning, "127.0.0.1"), "the warning names the remote address");
        Assert.True(intruder.Host.Counters.AuthFailures >= 1, "the intruder learns it was refused");
        Assert.Equal("echo:still", Encoding.UTF8.GetString(await a.Host.RequestAsync(b.Name, "still"u8.ToArray(), TimeSpan.FromSeconds(10), CancellationToken.None)));
    }

    [Fact]
    public async Task An_acceptor_with_the_wrong_secret_is_not_trusted_by_the_dialer()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        await using var impostor = TestNode.Start("b@127.0.0.1", LinkTestKit.Options("b@127.0.0.1", secret: "not-the-secret"));
        a.Host.SetPeers(new Dictionary<string, IPEndPoint> { [impostor.Name] = impostor.EndPoint });

        await LinkTestKit.Until(() => a.Host.Counters.AuthFailures >= 1 && impostor.Host.Counters.AuthFailures >= 1, "both sides counted the failure");
        Assert.Equal(0, a.Handler.Calls);
        Assert.Equal(0, impostor.Handler.Calls);
    }

    [Fact]
    public async Task A_dialer_does_not_trust_an_acceptor_whose_welcome_proof_is_forged()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        var fake = new TcpListener(IPAddress.Loopback, 0); // accepts any Hello, then answers a forged Welcome
        fake.Start();
        try
        {
            var fakeEndPoint = (IPEndPoint)fake.LocalEndpoint;
            a.Host.SetPeers(new Dictionary<string, IPEndPoint> { ["fake@127.0.0.1"] = fakeEndPoint });
            using var accepted = await fake.AcceptTcpClientAsync().WaitAsync(LinkTestKit.Patience);
            var stream = accepted.GetStream();
            await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Challenge(new byte[32], "fake@127.0.0.1")));
            var hello = await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);
            Assert.Equal(FrameType.Hello, hello.Type);
            Assert.Equal(a.Name, hello.Name);

            await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Welcome(new byte[32])));
            await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Message(1, "sneak"u8.ToArray())));

            Assert.True(await LinkTestKit.ClosedByPeerAsync(stream, LinkTestKit.Patience), "the dialer kept the connection");
            await LinkTestKit.Until(() => a.Host.Counters.AuthFailures >= 1, "the dialer counted the failure");
            Assert.Equal(0, a.Handler.Calls);
            Assert.False(a.Host.IsConnected("fake@127.0.0.1"));
        }
        finally
        {
            fake.Stop();
        }
    }

    [Fact]
    public async Task Garbage_instead_of_a_hello_is_refused_and_closed_and_the_host_still_serves()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        using var raw = new TcpClient();
        await raw.ConnectAsync(a.EndPoint);
        var stream = raw.GetStream();
        var challenge = await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);
        Assert.Equal(FrameType.Challenge, challenge.Type);
        Assert.Equal(a.Name, challenge.Name);

        var garbage = new byte[200];
        new Random(1).NextBytes(garbage);
        garbage[0] = 0x47; // not version 1
        await stream.WriteAsync(garbage);

        Assert.True(await LinkTestKit.ClosedByPeerAsync(stream, LinkTestKit.Patience), "the connection stayed open");
        Assert.Equal(1, a.Host.Counters.AuthFailures);
        Assert.Equal(1, a.Host.Counters.FramesRejected);
        Assert.Equal(0, a.Handler.Calls);
        await AssertStillServes(a);
    }

    [Fact]
    public async Task A_huge_announced_length_is_closed_at_once_without_waiting_for_the_payload()
    {
        var options = LinkTestKit.Options("a@127.0.0.1") with { HandshakeTimeout = TimeSpan.FromSeconds(30) };
        await using var a = TestNode.Start("a@127.0.0.1", options);
        using var raw = new TcpClient();
        await raw.ConnectAsync(a.EndPoint);
        var stream = raw.GetStream();
        await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);

        await stream.WriteAsync(new byte[] { 1, (byte)FrameType.Hello, 0x7F, 0xFF, 0xFF, 0xFF });

        Assert.True(await LinkTestKit.ClosedByPeerAsync(stream, LinkTestKit.Patience), "the connection stayed open");
        Assert.Equal(0, a.Host.Counters.HandshakeTimeouts); // closed for the length, long before the timeout
        Assert.Equal(1, a.Host.Counters.FramesRejected);
        Assert.Equal(0, a.Handler.Calls);
        await AssertStillServes(a);
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_handshake_timeout()
    {
        var options = LinkTestKit.Options("a@127.0.0.1") with { HandshakeTimeout = TimeSpan.FromMilliseconds(500) };
        await using var a = TestNode.Start("a@127.0.0.1", options);
        using var raw = new TcpClient();
        await raw.ConnectAsync(a.EndPoint);

        Assert.True(await LinkTestKit.ClosedByPeerAsync(raw.GetStream(), LinkTestKit.Patience), "the idle connection stayed open");
        Assert.Equal(1, a.Host.Counters.HandshakeTimeouts);
        Assert.True(a.Logs.Has(LogLevel.Warning, "127.0.0.1"));
        Assert.Equal(0, a.Handler.Calls);
        await AssertStillServes(a);
    }

    [Fact]
    public async Task A_hello_with_a_forged_proof_is_refused_with_a_reason()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        using var raw = new TcpClient();
        await raw.ConnectAsync(a.EndPoint);
        var stream = raw.GetStream();
        await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);

        await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Hello(HelloFlags.None, "forger@127.0.0.1", new byte[32], new byte[32])));

        var answer = await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);
        Assert.Equal(FrameType.Refused, answer.Type);
        Assert.Equal(RefusalCode.AuthenticationFailed, answer.Refusal);
        Assert.True(await LinkTestKit.ClosedByPeerAsync(stream, LinkTestKit.Patience));
        Assert.Equal(1, a.Host.Counters.AuthFailures);
        Assert.False(a.Handler.CalledAbout("forger@127.0.0.1"));
    }

    [Fact]
    public async Task Frames_before_the_handshake_never_reach_the_handler()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        using var raw = new TcpClient();
        await raw.ConnectAsync(a.EndPoint);
        var stream = raw.GetStream();
        await LinkTestKit.ReadFrameAsync(stream, LinkTestKit.Patience);

        await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Message(1, "sneak"u8.ToArray())));
        await stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(Frame.Request(1, "sneak"u8.ToArray())));

        Assert.True(await LinkTestKit.ClosedByPeerAsync(stream, LinkTestKit.Patience));
        Assert.Equal(0, a.Handler.Calls);
        Assert.Equal(1, a.Host.Counters.AuthFailures);
    }

    [Fact]
    public async Task An_authenticated_peer_sending_a_malformed_frame_is_closed()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        using var peer = await RawPeer.AuthenticateAsync(a.EndPoint, "p@127.0.0.1");
        await LinkTestKit.Until(() => a.Host.IsConnected(peer.Name), "the peer is linked");

        await peer.Connection.Stream.WriteAsync(new byte[] { 1, (byte)FrameType.Welcome, 0, 0, 0, 1, 0 }); // a handshake frame, and malformed

        await LinkTestKit.Until(() => a.Handler.TransitionsOf(peer.Name).Length == 2, "the peer went down");
        Assert.Equal(1, a.Host.Counters.FramesRejected);
    }

    [Fact]
    public async Task An_unknown_frame_type_on_an_authenticated_link_is_skipped()
    {
        await using var a = TestNode.Start("a@127.0.0.1");
        using var peer = await RawPeer.AuthenticateAsync(a.EndPoint, "p@127.0.0.1");

        byte[] future = [1, 77, 0, 0, 0, 3, 1, 2, 3]; // a type a later version might add
        await peer.Connection.Stream.WriteAsync((byte[])[.. future, .. NodeLinkFrameCodec.EncodeToArray(Frame.Message(5, "after"u8.ToArray()))]);

        await LinkTestKit.Until(() => a.Handler.Messages.Count == 1, "the message after the unknown frame arrived");
        Assert.Equal(1, a.Host.Counters.UnknownFramesSkipped);
        Assert.True(a.Host.IsConnected(peer.Name));
    }

    private static async Task AssertStillServes(TestNode a)
    {
        await using var b = TestNode.Start("b@127.0.0.1");
        await LinkTestKit.ConnectPair(a, b);
        Assert.Equal("echo:ok", Encoding.UTF8.GetString(await b.Host.RequestAsync(a.Name, "ok"u8.ToArray(), TimeSpan.FromSeconds(10), CancellationToken.None)));
    }
}
