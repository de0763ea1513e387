using System.Collections.Concurrent;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Rtc.Dtls;

/// <summary>
/// One direction of an in-test network between two endpoints: delivers each datagram synchronously to
/// <see cref="Receiver"/>, optionally dropping, duplicating or holding one back (reordering), from a seeded random.
/// </summary>
internal sealed class TestLink(int seed = 1, double loss = 0, double duplicate = 0, double reorder = 0)
{
    private readonly Random _random = new(seed);
    private readonly Lock _gate = new();
    private byte[]? _held;
    private int _deliverErrors;

    public DtlsEndpoint? Receiver { get; set; }

    /// <summary>Every datagram offered to the link, before loss: the raw records of this handshake.</summary>
    public ConcurrentQueue<byte[]> Captured { get; } = new();

    /// <summary>Called before each real datagram is delivered (to inject garbage, for example).</summary>
    public Action<DtlsEndpoint>? BeforeEach { get; set; }

    /// <summary>Exceptions thrown by <see cref="DtlsEndpoint.Deliver"/>: must stay 0 (the sender would swallow them).</summary>
    public int DeliverErrors => Volatile.Read(ref _deliverErrors);

    public bool Blocked { get; set; }

    /// <summary>Datagrams for which this returns true are lost (after capture), counted in <see cref="Filtered"/>.</summary>
    public Func<byte[], bool>? Drop { get; set; }

    public int Filtered => Volatile.Read(ref _filtered);

    private int _filtered;

    public void Send(ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        Captured.Enqueue(copy);
        if (Blocked || Receiver is not { } receiver) return;
        if (Drop?.Invoke(copy) == true)
        {
            Interlocked.Increment(ref _filtered);
            return;
        }
        List<byte[]> deliver = [];
        lock (_gate)
        {
            if (_random.NextDouble() < loss) return;
            if (_held is null && _random.NextDouble() < reorder)
            {
                _held = copy;
                return;
            }
            deliver.Add(copy);
            if (_random.NextDouble() < duplicate) deliver.Add(copy);
            if (_held is not null)
            {
                deliver.Add(_held);
                _held = null;
            }
        }
        foreach (var d in deliver)
        {
            try
            {
                BeforeEach?.Invoke(receiver);
                receiver.Deliver(d);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _deliverErrors);
            }
        }
    }
}

/// <summary>
/// A DTLS server and client wired to each other through two <see cref="TestLink"/>s. Links deliver synchronously, so
/// after the handshake a record sent is decrypted and handed to the peer's handler before the send returns.
/// </summary>
internal sealed class DtlsPair : IDisposable
{
    public static readonly DtlsCertificate ServerCertificate = DtlsCertificate.Generate();
    public static readonly DtlsCertificate ClientCertificate = DtlsCertificate.Generate();
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public DtlsPair(DtlsOptions? serverOptions = null, DtlsOptions? clientOptions = null,
        string? serverExpects = null, string? clientExpects = null, TestLink? toServer = null, TestLink? toClient = null)
    {
        ToServer = toServer ?? new TestLink();
        ToClient = toClient ?? new TestLink();
        Server = new DtlsServerEndpoint(ServerCertificate, serverExpects ?? ClientCertificate.Fingerprint, ToClient.Send, serverOptions);
        Client = new DtlsClientEndpoint(ClientCertificate, clientExpects ?? ServerCertificate.Fingerprint, ToServer.Send, clientOptions);
        ToServer.Receiver = Server;
        ToClient.Receiver = Client;
    }

    public DtlsServerEndpoint Server { get; }
    public DtlsClientEndpoint Client { get; }
    public TestLink ToServer { get; }
    public TestLink ToClient { get; }

    public void Start()
    {
        Server.Start();
        Client.Start();
    }

    public async Task<(DtlsHandshakeResult Server, DtlsHandshakeResult Client)> HandshakeAsync()
    {
        Start();
        var server = await Server.Handshake.WaitAsync(Patience);
        var client = await Client.Handshake.WaitAsync(Patience);
        return (server, client);
    }

    /// <summary>Waits for a handshake task to fail, returning its exception (fails the test if it succeeds).</summary>
    public static async Task<DtlsHandshakeException> FailureOf(Task<DtlsHandshakeResult> handshake, TimeSpan? within = null) =>
        await Assert.ThrowsAsync<DtlsHandshakeException>(() => handshake.WaitAsync(within ?? Patience));

    /// <summary>A copy of <paramref name="options"/> (or the defaults) running its handshakes on <paramref name="pool"/>.</summary>
    public static DtlsOptions WithPool(DtlsOptions? options, DtlsHandshakePool pool)
    {
        options ??= DtlsOptions.Default;
        return new DtlsOptions
        {
            HandshakeTimeout = options.HandshakeTimeout,
            RetransmitTimeout = options.RetransmitTimeout,
            SrtpProfiles = options.SrtpProfiles,
            ReceiveQueueCapacity = options.ReceiveQueueCapacity,
            HandshakePool = pool,
        };
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <see cref="Patience"/> runs out (then fails with <paramref name="what"/>).</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {Patience}: {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>
    /// Disposes both endpoints, then fails the test if <see cref="DtlsEndpoint.Deliver"/> ever threw on either link:
    /// every test that uses a pair checks it (a sender on a media worker would swallow such an exception).
    /// </summary>
    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        Assert.True(ToServer.DeliverErrors + ToClient.DeliverErrors == 0,
            $"DtlsEndpoint.Deliver threw {ToServer.DeliverErrors} times toward the server and {ToClient.DeliverErrors} toward the client");
    }
}
