using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Hibari.Config;
using Hibari.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Sfu;

/// <summary>A single Hibari node (no cluster) in the test process, on free loopback ports, with its own data dir.</summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private InProcessNode(HibariOptions options) => Options = options;

    public HibariOptions Options { get; }
    public HibariNode Node { get; private set; } = null!;
    public Uri SignalingUrl => new($"ws://127.0.0.1:{Options.SignalingPort}/signaling");

    /// <remarks>
    /// The ports are found free and then bound by the node, so another socket of the machine can take one in between
    /// (seen once in the suite: "address already in use" on a port picked a moment before). The node is then started
    /// again on other ports, up to three times.
    /// </remarks>
    public static async Task<InProcessNode> StartAsync(Func<HibariOptions, HibariOptions>? configure = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var dir = Path.Combine(Path.GetTempPath(), "hibari-sfu-" + Guid.NewGuid().ToString("n")[..8]);
            var options = new HibariOptions
            {
                ListenAddress = IPAddress.Loopback,
                ApiPort = FreeTcpPort(),
                SignalingPort = FreeTcpPort(),
                RtcUdpPort = FreeUdpPort(),
                // The node's TURN server on any free ports: many nodes share 127.0.0.1 in the suite (D-57).
                TurnUdpPort = 0,
                TurnTcpListenPort = 0,
                DataDir = Path.Combine(dir, "data"),
                LogDir = Path.Combine(dir, "log"),
                ArchiveDir = Path.Combine(dir, "archive"), // a recording started by a test (or the API fuzz) stays in the node's folder
                SessionDestroyDelayMs = 200,
                DemoDir = Path.Combine(dir, "no-demo"),
            };
            options = configure?.Invoke(options) ?? options;
            var node = new InProcessNode(options);
            node.Node = new HibariNode(options, NullLoggerFactory.Instance);
            try
            {
                await node.Node.StartAsync(CancellationToken.None);
                return node;
            }
            catch (Exception e) when (attempt < 3 && IsAddressInUse(e))
            {
                await node.DisposeAsync();
            }
        }
    }

    private static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is Microsoft.AspNetCore.Connections.AddressInUseException || e is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse })
                return true;
        return false;
    }

    public async Task<(int Status, JsonNode? Body)> ApiAsync(string target, string body = "{}")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Options.ApiPort}/")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("x-sora-target", target);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>
    /// A new publisher and subscriber in <paramref name="channel"/>: fails unless the subscriber receives media (the node
    /// still serves, e.g. after a fuzz target).
    /// </summary>
    public async Task AssertNewPairGetsMediaAsync(string channel, Hibari.Rtc.Dtls.DtlsCertificate certificate)
    {
        await using var call = await StartCallAsync(channel, certificate);
    }

    /// <summary>
    /// A call on this node: a publisher sending <paramref name="bitrateKbps"/> of synthetic video to a subscriber, both
    /// connected, returned once the subscriber receives media (more than 50 packets). Disposing stops and closes both.
    /// </summary>
    public async Task<RunningCall> StartCallAsync(string channel, Hibari.Rtc.Dtls.DtlsCertificate certificate, int bitrateKbps = 300)
    {
        var call = new RunningCall(
            new Hibari.Load.SyntheticClient(SignalingUrl, channel, new Hibari.Load.SyntheticClientOptions { Role = "sendonly", Certificate = certificate }),
            new Hibari.Load.SyntheticClient(SignalingUrl, channel, new Hibari.Load.SyntheticClientOptions { Role = "recvonly", Certificate = certificate }));
        try
        {
            await call.Publisher.ConnectAsync();
            await call.Subscriber.ConnectAsync();
            call.Publish(bitrateKbps);
            await EventuallyAsync("the subscriber receives media", () => call.Subscriber.PacketsReceived > 50);
            return call;
        }
        catch
        {
            await call.DisposeAsync();
            throw;
        }
    }

    /// <summary>A publisher and a subscriber of one channel with media flowing (<see cref="StartCallAsync"/>).</summary>
    public sealed class RunningCall(Hibari.Load.SyntheticClient publisher, Hibari.Load.SyntheticClient subscriber) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task _publishing = Task.CompletedTask;

        public Hibari.Load.SyntheticClient Publisher { get; } = publisher;
        public Hibari.Load.SyntheticClient Subscriber { get; } = subscriber;

        internal void Publish(int bitrateKbps) => _publishing = Publisher.PublishAsync(bitrateKbps, 1000, _stop.Token);

        private int _disposed;

        /// <summary>Stops publishing and closes both clients; a second call does nothing.</summary>
        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await _stop.CancelAsync();
            await _publishing.ContinueWith(_ => { });
            await Subscriber.DisposeAsync();
            await Publisher.DisposeAsync();
            _stop.Dispose();
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true or the deadline; fails the test with <paramref name="what"/>.</summary>
    public static async Task EventuallyAsync(string what, Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A UDP port whose next <paramref name="span"/> - 1 ports are free too (media worker k takes rtc_udp_port + k).</summary>
    private static int FreeUdpPort(int span = 4)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var port = ((IPEndPoint)s.LocalEndPoint!).Port;
            if (port + span > 65536) continue;
            var others = new List<Socket>();
            try
            {
                for (var k = 1; k < span; k++)
                {
                    var o = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    others.Add(o);
                    o.Bind(new IPEndPoint(IPAddress.Loopback, port + k));
                }
                return port;
            }
            catch (SocketException)
            {
                // one of the next ports is taken: try another
            }
            finally
            {
                foreach (var o in others) o.Dispose();
            }
        }
        throw new InvalidOperationException("no free run of UDP ports");
    }

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        _http.Dispose();
        // Debug builds: no state was touched off its owner's thread during the test (docs/threads.md).
        Assert.True(OwnerChecks.Violations == 0, $"{OwnerChecks.Violations} owner-thread violation(s); the first: {OwnerChecks.First}");
        try { Directory.Delete(Path.GetDirectoryName(Options.DataDir)!, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
