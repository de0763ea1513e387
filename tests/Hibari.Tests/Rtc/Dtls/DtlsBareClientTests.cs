using Hibari.Rtc.Dtls;
using Hibari.Rtc.Srtp;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcCertificateRequest = Org.BouncyCastle.Tls.CertificateRequest;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DtlsBareClientTests
{
    /// <summary>A plain BouncyCastle client offering use_srtp and a certificate; extended_master_secret (RFC 7627) optional.</summary>
    private sealed class BareClient(BcTlsCrypto crypto, bool extendedMasterSecret) : DefaultTlsClient(crypto)
    {
        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

        public override bool ShouldUseExtendedMasterSecret() => extendedMasterSecret;

        public override IDictionary<int, byte[]> GetClientExtensions()
        {
            var extensions = base.GetClientExtensions() ?? new Dictionary<int, byte[]>();
            TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([(int)SrtpProfile.AeadAes128Gcm], []));
            return extensions;
        }

        public override TlsAuthentication GetAuthentication() => new Authentication(this);

        private sealed class Authentication(BareClient client) : TlsAuthentication
        {
            public void NotifyServerCertificate(TlsServerCertificate serverCertificate) { }

            public TlsCredentials GetClientCredentials(BcCertificateRequest certificateRequest) =>
                new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(client.m_context), (BcTlsCrypto)client.Crypto,
                    DtlsPair.ClientCertificate.PrivateKey, DtlsPair.ClientCertificate.ToChain(client.Crypto),
                    new SignatureAndHashAlgorithm(HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));
        }
    }

    /// <summary>The test queue with a smaller send limit, so BouncyCastle fragments the client's handshake messages.</summary>
    private sealed class SmallMtu(DatagramQueue queue, int sendLimit) : DatagramTransport
    {
        public int GetReceiveLimit() => queue.GetReceiveLimit();
        public int Receive(byte[] buf, int off, int len, int waitMillis) => queue.Receive(buf, off, len, waitMillis);
        public int Receive(Span<byte> buffer, int waitMillis) => queue.Receive(buffer, waitMillis);
        public int GetSendLimit() => sendLimit;
        public void Send(byte[] buf, int off, int len) => queue.Send(buf, off, len);
        public void Send(ReadOnlySpan<byte> buffer) => queue.Send(buffer);
        public void Close() => queue.Close();
    }

    private static (DtlsServerEndpoint Server, DatagramQueue ToClient, Task<DtlsTransport> Client) Run(bool extendedMasterSecret, int sendLimit,
        List<int>? clientDatagrams = null)
    {
        DatagramQueue? toClient = null;
        var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, d => toClient!.Deliver(d));
        toClient = new DatagramQueue(d =>
        {
            lock (server) clientDatagrams?.Add(d.Length);
            server.Deliver(d);
        }, 256);
        var crypto = new BcTlsCrypto(new SecureRandom());
        var transport = new SmallMtu(toClient, sendLimit);
        var client = Task.Factory.StartNew(() => new DtlsClientProtocol().Connect(new BareClient(crypto, extendedMasterSecret), transport),
            TaskCreationOptions.LongRunning);
        server.Start();
        return (server, toClient, client);
    }

    [Fact]
    public async Task Server_reassembles_a_ClientHello_fragmented_across_datagrams_as_Chromes_always_is()
    {
        List<int> sizes = [];
        var (server, toClient, client) = Run(extendedMasterSecret: true, sendLimit: 120, sizes);
        using var _ = server;
        var result = await server.Handshake.WaitAsync(DtlsPair.Patience);
        Assert.Equal(SrtpProfile.AeadAes128Gcm, result.Profile);
        (await client.WaitAsync(DtlsPair.Patience)).Close();
        lock (server) Assert.True(sizes.Count >= 4 && sizes.All(s => s <= 120), $"client datagrams: {string.Join(", ", sizes)}");
    }

    [Fact]
    public async Task Server_refuses_a_client_without_extended_master_secret()
    {
        var (server, toClient, client) = Run(extendedMasterSecret: false, sendLimit: 1200);
        using var _ = server;
        var e = await DtlsPair.FailureOf(server.Handshake);
        Assert.Equal(AlertDescription.handshake_failure, e.Alert);
        await Assert.ThrowsAnyAsync<TlsFatalAlertReceived>(() => client.WaitAsync(DtlsPair.Patience));
        toClient.Close();
    }
}
