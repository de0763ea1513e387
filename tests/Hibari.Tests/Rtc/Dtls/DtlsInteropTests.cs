using System.Collections.Concurrent;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Srtp;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcCertificateRequest = Org.BouncyCastle.Tls.CertificateRequest;

namespace Hibari.Tests.Rtc.Dtls;

/// <summary>
/// Our endpoints against BouncyCastle's complete DTLS stack (its own record layer, DtlsTransport) on the other side,
/// one suite at a time: the managed record layer must read and write exactly what an independent implementation does.
/// </summary>
public sealed class DtlsInteropTests
{
    /// <summary>What the BouncyCastle peer saw.</summary>
    private sealed class Observer
    {
        public ConcurrentQueue<short> AlertsReceived { get; } = new();
    }

    private static Dictionary<int, byte[]> SrtpExtension(IDictionary<int, byte[]>? extensions)
    {
        var result = extensions is null ? new Dictionary<int, byte[]>() : new Dictionary<int, byte[]>(extensions);
        TlsSrtpUtilities.AddUseSrtpExtension(result, new UseSrtpData([(int)SrtpProfile.AeadAes128Gcm], []));
        return result;
    }

    private static BcDefaultTlsCredentialedSigner Signer(TlsContext context, TlsCrypto crypto, DtlsCertificate certificate) =>
        new(new TlsCryptoParameters(context), (BcTlsCrypto)crypto, certificate.PrivateKey, certificate.ToChain(crypto),
            new SignatureAndHashAlgorithm(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));

    /// <summary>A plain BouncyCastle DTLS 1.2 client offering one suite, use_srtp and the test client certificate.</summary>
    private sealed class BcClient(BcTlsCrypto crypto, int suite, Observer observer) : DefaultTlsClient(crypto)
    {
        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();
        protected override int[] GetSupportedCipherSuites() => [suite];
        public override int GetHandshakeResendTimeMillis() => 100;
        public override IDictionary<int, byte[]> GetClientExtensions() => SrtpExtension(base.GetClientExtensions());
        public override void NotifyAlertReceived(short alertLevel, short alertDescription) => observer.AlertsReceived.Enqueue(alertDescription);
        public override TlsAuthentication GetAuthentication() => new Authentication(this);

        private sealed class Authentication(BcClient client) : TlsAuthentication
        {
            public void NotifyServerCertificate(TlsServerCertificate serverCertificate) { }
            public TlsCredentials GetClientCredentials(BcCertificateRequest certificateRequest) =>
                Signer(client.m_context, client.Crypto, DtlsPair.ClientCertificate);
        }
    }

    /// <summary>A plain BouncyCastle DTLS 1.2 server with one suite, answering use_srtp with AEAD_AES_128_GCM.</summary>
    private sealed class BcServer(BcTlsCrypto crypto, int suite, Observer observer) : DefaultTlsServer(crypto)
    {
        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();
        protected override int[] GetSupportedCipherSuites() => [suite];
        public override int GetHandshakeResendTimeMillis() => 100;
        protected override TlsCredentialedSigner GetECDsaSignerCredentials() => Signer(m_context, Crypto, DtlsPair.ServerCertificate);
        public override IDictionary<int, byte[]> GetServerExtensions() => SrtpExtension(base.GetServerExtensions());
        public override void NotifyAlertReceived(short alertLevel, short alertDescription) => observer.AlertsReceived.Enqueue(alertDescription);
    }

    /// <summary>BouncyCastle on its own threads: handshake, then a reader collecting application data.</summary>
    private sealed class BcPeer : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _reader;

        public BcPeer(bool server, int suite, DtlsEndpoint ours)
        {
            Inbound = new DatagramQueue(d => ours.Deliver(d), 1024);
            var crypto = new BcTlsCrypto(new SecureRandom());
            Connecting = Task.Factory.StartNew(() => server
                    ? new DtlsServerProtocol().Accept(new BcServer(crypto, suite, Observer), Inbound)
                    : new DtlsClientProtocol().Connect(new BcClient(crypto, suite, Observer), Inbound),
                TaskCreationOptions.LongRunning);
        }

        public DatagramQueue Inbound { get; }
        public Observer Observer { get; } = new();
        public Task<DtlsTransport> Connecting { get; }
        public ConcurrentQueue<byte[]> Received { get; } = new();
        public Exception? ReaderEnded { get; private set; }

        public async Task<DtlsTransport> ConnectedAsync()
        {
            var transport = await Connecting.WaitAsync(DtlsPair.Patience);
            _reader ??= Task.Factory.StartNew(() =>
            {
                var buffer = new byte[transport.GetReceiveLimit()];
                try
                {
                    while (!_stop.IsCancellationRequested)
                    {
                        var n = transport.Receive(buffer, 0, buffer.Length, 50);
                        if (n >= 0) Received.Enqueue(buffer[..n]);
                    }
                }
                catch (Exception e)
                {
                    ReaderEnded = e;
                }
            }, TaskCreationOptions.LongRunning);
            return transport;
        }

        public void Dispose()
        {
            _stop.Cancel();
            Inbound.Close();
            _reader?.Wait(DtlsPair.Patience);
        }
    }

    private static byte[] Payload(int i, int length)
    {
        var b = new byte[length];
        new Random(i).NextBytes(b);
        return b;
    }

    public static readonly TheoryData<int> Suites = ManagedRecordLayerTests.Suites;

    private static async Task ExchangeAsync(DtlsEndpoint ours, BcPeer peer, int suite)
    {
        var received = new ConcurrentQueue<byte[]>();
        ours.ApplicationData = d => received.Enqueue(d.ToArray());
        var transport = await peer.ConnectedAsync();
        await ours.Handshake.WaitAsync(DtlsPair.Patience);
        Assert.Equal(suite, ours.NegotiatedCipherSuite);
        Assert.Equal(DtlsState.Connected, ours.State);

        const int count = 10;
        var lengths = new[] { 1, 100, ours.MaxApplicationDataLength };
        var toThem = Enumerable.Range(0, count).Select(i => Payload(i, lengths[i % 3])).ToArray();
        var toUs = Enumerable.Range(0, count).Select(i => Payload(100 + i, Math.Min(lengths[i % 3], transport.GetSendLimit()))).ToArray();
        foreach (var p in toThem) Assert.True(ours.SendApplicationData(p));
        foreach (var p in toUs) transport.Send(p, 0, p.Length); // delivered to us synchronously, on this thread
        Assert.Equal(toUs, received);
        await DtlsPair.Eventually(() => peer.Received.Count >= count, "BouncyCastle reads our records");
        Assert.Equal(toThem, peer.Received);
        Assert.Equal(0, ours.DroppedDatagrams);
        Assert.Null(peer.ReaderEnded);
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public async Task Our_server_and_a_BouncyCastle_client_exchange_application_data_both_ways(int suite)
    {
        BcPeer? peer = null;
        using var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, d => peer!.Inbound.Deliver(d));
        using (peer = new BcPeer(server: false, suite, server))
        {
            server.Start();
            await ExchangeAsync(server, peer, suite);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public async Task Our_client_and_a_BouncyCastle_server_exchange_application_data_both_ways(int suite)
    {
        BcPeer? peer = null;
        using var client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, d => peer!.Inbound.Deliver(d));
        using (peer = new BcPeer(server: true, suite, client))
        {
            client.Start();
            await ExchangeAsync(client, peer, suite);
        }
    }

    [Fact]
    public async Task Our_Dispose_sends_close_notify_that_BouncyCastle_reads_as_one()
    {
        const int suite = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        BcPeer? peer = null;
        var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, d => peer!.Inbound.Deliver(d));
        using (peer = new BcPeer(server: false, suite, server))
        {
            server.Start();
            await peer.ConnectedAsync();
            await server.Handshake.WaitAsync(DtlsPair.Patience);
            server.Dispose();
            Assert.Equal(DtlsState.Closed, server.State);
            Assert.True(server.Stopped.IsCompleted);
            await DtlsPair.Eventually(() => peer.Observer.AlertsReceived.Contains(AlertDescription.close_notify), "BouncyCastle receives close_notify");
            Assert.False(server.SendApplicationData([1]));
        }
    }

    [Fact]
    public async Task A_close_notify_from_BouncyCastle_closes_our_endpoint_and_we_answer_with_ours()
    {
        const int suite = CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        BcPeer? peer = null;
        var sentAfterClose = new ConcurrentQueue<byte[]>();
        using var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, d =>
        {
            sentAfterClose.Enqueue(d.ToArray());
            peer!.Inbound.Deliver(d);
        });
        using (peer = new BcPeer(server: false, suite, server))
        {
            server.Start();
            var transport = await peer.ConnectedAsync();
            await server.Handshake.WaitAsync(DtlsPair.Patience);
            sentAfterClose.Clear();
            transport.Close(); // BouncyCastle sends close_notify (epoch 1) through our Deliver, on this thread
            Assert.Equal(DtlsState.Closed, server.State);
            await server.Stopped.WaitAsync(DtlsPair.Patience);
            var answer = Assert.Single(sentAfterClose);
            Assert.Equal(ManagedRecordLayer.AlertType, answer[0]);
            Assert.Equal(1, answer[4]); // epoch 1: encrypted
            Assert.False(server.SendApplicationData([1]));
        }
    }
}
