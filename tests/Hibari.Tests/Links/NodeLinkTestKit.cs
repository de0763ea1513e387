using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Hibari.Cluster.Links;
using Microsoft.Extensions.Logging;

namespace Hibari.Tests.Links;

internal static class LinkTestKit
{
    public const string Secret = "test-cluster-secret";

    /// <summary>Timings for tests on a loaded 2-core machine: quick heartbeats, a generous DeadAfter.</summary>
    public static NodeLinkOptions Options(string name, string secret = Secret) => new()
    {
        NodeName = name,
        Secret = secret,
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        DeadAfter = TimeSpan.FromSeconds(2),
        HandshakeTimeout = TimeSpan.FromSeconds(3),
        RedialInterval = TimeSpan.FromMilliseconds(100),
    };

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing with <paramref name="what"/> after <paramref name="within"/>.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? Patience;
        var started = Stopwatch.GetTimestamp();
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > limit) Assert.Fail($"Timed out after {limit.TotalSeconds:0.#} s waiting until {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Holds <paramref name="condition"/> true for <paramref name="duration"/>, sampling it.</summary>
    public static async Task Holds(Func<bool> condition, string what, TimeSpan duration)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < duration)
        {
            Assert.True(condition(), $"expected {what} to hold throughout");
            await Task.Delay(20);
        }
    }

    public static async Task ConnectPair(TestNode a, TestNode b)
    {
        a.Host.SetPeers(new Dictionary<string, IPEndPoint> { [b.Name] = b.EndPoint });
        b.Host.SetPeers(new Dictionary<string, IPEndPoint> { [a.Name] = a.EndPoint });
        await Until(() => SettledOnOneLink(a, b), $"{a.Name} and {b.Name} are linked by one settled link");
    }

    /// <summary>
    /// Both ends are connected over the same single TCP connection (one end's local endpoint is the other's
    /// remote) and no duplicate is still open. While two simultaneous dials are being resolved, each end may
    /// briefly hold one link that is not the other's, so tests wait for this rather than for IsConnected.
    /// </summary>
    public static bool SettledOnOneLink(TestNode x, TestNode y)
    {
        var xy = x.Host.DescribeLink(y.Name);
        var yx = y.Host.DescribeLink(x.Name);
        return xy is { } one && yx is { } other
            && Equals(one.Local, other.Remote) && Equals(one.Remote, other.Local) && one.Dialer == other.Dialer
            && x.Host.OpenLinkCount(y.Name) == 1 && y.Host.OpenLinkCount(x.Name) == 1;
    }

    /// <summary>True once the other end closed (EOF or reset) within <paramref name="within"/>; false if it stayed open.</summary>
    public static async Task<bool> ClosedByPeerAsync(NetworkStream stream, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (true)
                if (await stream.ReadAsync(buffer, timeout.Token) == 0) return true;
        }
        catch (OperationCanceledException) { return false; }
        catch (IOException) { return true; }
    }

    /// <summary>Reads one frame (any payload up to 1 KiB) from a raw stream.</summary>
    public static async Task<Frame> ReadFrameAsync(NetworkStream stream, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var reader = new FrameReader(stream);
        var inbound = await reader.ReadAsync(NodeLinkFrameCodec.HandshakeMaxPayload, timeout.Token);
        Assert.False(inbound.EndOfStream, "stream closed before a frame");
        Assert.Equal(FrameError.None, inbound.Error);
        Assert.Equal(FrameError.None, NodeLinkFrameCodec.DecodePayload(inbound.Type, inbound.Payload.ToArray(), out var frame));
        return frame;
    }

    /// <summary><paramref name="count"/> consecutive free TCP ports on <paramref name="address"/>, held by started listeners.</summary>
    public static TcpListener[] ReserveConsecutivePorts(IPAddress address, int count)
    {
        var random = new Random();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int first = random.Next(20000, 40000);
            var held = new List<TcpListener>();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var listener = new TcpListener(address, first + i);
                    listener.Start();
                    held.Add(listener);
                }
                return [.. held];
            }
            catch (SocketException)
            {
                foreach (var listener in held) listener.Stop();
            }
        }
        throw new InvalidOperationException("no run of free ports found");
    }
}

/// <summary>A node-link host on loopback with a recording handler.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private TestNode(string name, NodeLinkHost host, RecordingHandler handler, CapturingLoggerFactory logs)
    {
        Name = name;
        Host = host;
        Handler = handler;
        Logs = logs;
    }

    public string Name { get; }
    public NodeLinkHost Host { get; }
    public RecordingHandler Handler { get; }
    public CapturingLoggerFactory Logs { get; }
    public IPEndPoint EndPoint => Host.LocalEndPoint;

    public static TestNode Start(string name, NodeLinkOptions? options = null, TcpListener? listener = null, RecordingHandler? handler = null)
    {
        handler ??= new RecordingHandler();
        var logs = new CapturingLoggerFactory();
        var host = new NodeLinkHost(options ?? LinkTestKit.Options(name), handler, logs);
        host.Start(listener ?? new TcpListener(IPAddress.Loopback, 0));
        return new TestNode(name, host, handler, logs);
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

internal sealed record ReceivedMessage(string Peer, byte Channel, byte[] Payload);

/// <summary>Records every handler call; requests are answered by <see cref="Respond"/> (echo by default).</summary>
internal sealed class RecordingHandler : INodeLinkHandler
{
    private readonly Lock _gate = new();
    private readonly List<string> _transitions = [];
    private int _calls;

    public ConcurrentQueue<ReceivedMessage> Messages { get; } = new();
    public Func<string, byte[], CancellationToken, ValueTask<byte[]>> Respond { get; set; } =
        (_, payload, _) => ValueTask.FromResult<byte[]>([.. "echo:"u8, .. payload]);

    /// <summary>Every call of any callback.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public string[] Transitions
    {
        get { lock (_gate) return [.. _transitions]; }
    }

    public string[] TransitionsOf(string peer) => Transitions.Where(t => t.EndsWith(":" + peer, StringComparison.Ordinal)).ToArray();

    public bool CalledAbout(string peer) =>
        TransitionsOf(peer).Length > 0 || Messages.Any(m => m.Peer == peer) || _requestPeers.Contains(peer);

    private readonly ConcurrentBag<string> _requestPeers = [];

    public ValueTask<byte[]> OnRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        _requestPeers.Add(peer);
        return Respond(peer, payload.ToArray(), cancellationToken);
    }

    public void OnMessage(string peer, byte channel, ReadOnlyMemory<byte> payload)
    {
        Interlocked.Increment(ref _calls);
        Messages.Enqueue(new ReceivedMessage(peer, channel, payload.ToArray()));
    }

    public void OnPeerUp(string peer)
    {
        Interlocked.Increment(ref _calls);
        lock (_gate) _transitions.Add("up:" + peer);
    }

    public void OnPeerDown(string peer)
    {
        Interlocked.Increment(ref _calls);
        lock (_gate) _transitions.Add("down:" + peer);
    }
}

/// <summary>Keeps every log line so tests can check what an operator would see.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public bool Has(LogLevel level, string fragment) =>
        Entries.Any(e => e.Level == level && e.Message.Contains(fragment, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}

/// <summary>
/// A node built from the internal handshake only: it authenticates to a host and then does exactly what a test
/// says (nothing at all, by default), to play a frozen or slow peer.
/// </summary>
internal sealed class RawPeer : IDisposable
{
    private RawPeer(LinkConnection connection, string name)
    {
        Connection = connection;
        Name = name;
    }

    public LinkConnection Connection { get; }
    public string Name { get; }

    public static async Task<RawPeer> AuthenticateAsync(IPEndPoint host, string name, string secret = LinkTestKit.Secret)
    {
        using var timeout = new CancellationTokenSource(LinkTestKit.Patience);
        var connection = await LinkConnection.ConnectAsync(host, null, timeout.Token);
        var outcome = await LinkHandshake.DialAsync(connection, new LinkAuthenticator(secret), name, HelloFlags.None, null, timeout.Token);
        Assert.True(outcome.Succeeded, outcome.Detail);
        return new RawPeer(connection, name);
    }

    public void Dispose() => Connection.Dispose();
}
