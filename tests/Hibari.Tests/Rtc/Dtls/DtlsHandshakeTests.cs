using System.Diagnostics;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Srtp;
using Hibari.Tests.Rtc.Srtp;
using Org.BouncyCastle.Tls;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DtlsHandshakeTests
{
    private static DtlsOptions Offering(params SrtpProfile[] profiles) => new() { SrtpProfiles = profiles };

    [Theory]
    [InlineData(SrtpProfile.AeadAes128Gcm)]
    [InlineData(SrtpProfile.AesCm128HmacSha1_80)]
    public async Task Both_sides_export_the_same_keys_and_SRTP_protected_by_one_unprotects_on_the_other_RFC_5764_4_2(SrtpProfile profile)
    {
        using var pair = new DtlsPair(clientOptions: Offering(profile));
        var (server, client) = await pair.HandshakeAsync();

        Assert.Equal(profile, server.Profile);
        Assert.Equal(profile, client.Profile);
        Assert.Equal(DtlsSrtpKeyingMaterial.Length(profile), server.KeyingMaterial.Length);
        Assert.Equal(server.KeyingMaterial, client.KeyingMaterial);
        Assert.Equal(DtlsPair.ClientCertificate.Fingerprint, server.RemoteFingerprint);
        Assert.Equal(DtlsPair.ServerCertificate.Fingerprint, client.RemoteFingerprint);
        Assert.Equal(DtlsState.Connected, pair.Server.State);
        Assert.Equal(DtlsState.Connected, pair.Client.State);
        Assert.Equal(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, pair.Server.NegotiatedCipherSuite);
        Assert.Equal(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, pair.Client.NegotiatedCipherSuite);
        Assert.Equal(ProtocolVersion.DTLSv12, pair.Server.Version);
        // Pitfall 8: every datagram either side sent fits the 1200-byte send limit.
        Assert.All(pair.ToClient.Captured.Concat(pair.ToServer.Captured), d => Assert.InRange(d.Length, 1, 1200));

        var (serverSend, serverReceive) = DtlsSrtpKeyingMaterial.CreateContexts(profile, server.KeyingMaterial, isDtlsClient: false);
        var (clientSend, clientReceive) = DtlsSrtpKeyingMaterial.CreateContexts(profile, client.KeyingMaterial, isDtlsClient: true);
        AssertRtpCrosses(clientSend, serverReceive, seq: 1);
        AssertRtpCrosses(serverSend, clientReceive, seq: 7);
    }

    private static void AssertRtpCrosses(SrtpContext sender, SrtpContext receiver, ushort seq)
    {
        var packet = SrtpContextTests.Rtp(seq, 100);
        var plain = packet[..SrtpContextTests.RtpLength(100)];
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, plain.Length, out var protectedLength));
        Assert.False(packet.AsSpan(0, plain.Length).SequenceEqual(plain));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(packet.AsSpan(0, protectedLength), out var plainLength));
        Assert.Equal(plain, packet[..plainLength]);
    }

    [Fact]
    public async Task Server_chooses_GCM_when_the_client_offers_both_even_preferring_CM()
    {
        using var pair = new DtlsPair(clientOptions: Offering(SrtpProfile.AesCm128HmacSha1_80, SrtpProfile.AeadAes128Gcm));
        var (server, client) = await pair.HandshakeAsync();
        Assert.Equal(SrtpProfile.AeadAes128Gcm, server.Profile);
        Assert.Equal(SrtpProfile.AeadAes128Gcm, client.Profile);
    }

    [Fact]
    public async Task Server_chooses_CM_when_the_client_offers_only_CM()
    {
        using var pair = new DtlsPair(clientOptions: Offering(SrtpProfile.AesCm128HmacSha1_80));
        var (server, client) = await pair.HandshakeAsync();
        Assert.Equal(SrtpProfile.AesCm128HmacSha1_80, server.Profile);
        Assert.Equal(SrtpProfile.AesCm128HmacSha1_80, client.Profile);
    }

    [Fact]
    public async Task Server_refuses_a_client_that_offers_no_SRTP_profile_and_both_fail()
    {
        using var pair = new DtlsPair(clientOptions: Offering());
        pair.Start();
        var server = await DtlsPair.FailureOf(pair.Server.Handshake);
        var client = await DtlsPair.FailureOf(pair.Client.Handshake);
        Assert.Equal(DtlsHandshakeFailure.NoCommonSrtpProfile, server.Failure);
        Assert.Equal(DtlsHandshakeFailure.AlertReceived, client.Failure);
        Assert.Equal(AlertDescription.handshake_failure, client.Alert);
        Assert.Equal(DtlsState.Failed, pair.Server.State);
        Assert.Equal(DtlsState.Failed, pair.Client.State);
    }

    [Fact]
    public async Task Server_refuses_a_client_whose_certificate_is_not_the_SDP_fingerprint_and_both_fail_within_seconds()
    {
        using var pair = new DtlsPair(serverExpects: DtlsPair.ServerCertificate.Fingerprint);
        var started = Stopwatch.StartNew();
        pair.Start();
        var server = await DtlsPair.FailureOf(pair.Server.Handshake, TimeSpan.FromSeconds(5));
        var client = await DtlsPair.FailureOf(pair.Client.Handshake, TimeSpan.FromSeconds(5));
        Assert.Equal(DtlsHandshakeFailure.FingerprintMismatch, server.Failure);
        Assert.Equal(AlertDescription.bad_certificate, server.Alert);
        Assert.Equal(DtlsHandshakeFailure.AlertReceived, client.Failure);
        Assert.Equal(AlertDescription.bad_certificate, client.Alert);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        await pair.Server.Stopped.WaitAsync(DtlsPair.Patience);
        await pair.Client.Stopped.WaitAsync(DtlsPair.Patience);
    }

    [Fact]
    public async Task Client_refuses_a_server_whose_certificate_is_not_the_SDP_fingerprint_and_both_fail_within_seconds()
    {
        using var pair = new DtlsPair(clientExpects: DtlsPair.ClientCertificate.Fingerprint.ToLowerInvariant());
        pair.Start();
        var client = await DtlsPair.FailureOf(pair.Client.Handshake, TimeSpan.FromSeconds(5));
        var server = await DtlsPair.FailureOf(pair.Server.Handshake, TimeSpan.FromSeconds(5));
        Assert.Equal(DtlsHandshakeFailure.FingerprintMismatch, client.Failure);
        Assert.Equal(DtlsHandshakeFailure.AlertReceived, server.Failure);
        Assert.Equal(AlertDescription.bad_certificate, server.Alert);
    }

    [Fact]
    public async Task Fingerprints_compare_case_insensitively()
    {
        using var pair = new DtlsPair(serverExpects: DtlsPair.ClientCertificate.Fingerprint.ToLowerInvariant(),
            clientExpects: DtlsPair.ServerCertificate.Fingerprint.ToLowerInvariant());
        var (server, _) = await pair.HandshakeAsync();
        Assert.Equal(DtlsPair.ClientCertificate.Fingerprint, server.RemoteFingerprint);
    }

    [Theory]
    [InlineData("")]
    [InlineData("AB:CD")]
    [InlineData("sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89")]
    [InlineData("ZZ:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89")]
    public void Endpoint_rejects_a_remote_fingerprint_that_is_not_32_hex_bytes(string fingerprint)
    {
        Assert.Throws<ArgumentException>(() => new DtlsServerEndpoint(DtlsPair.ServerCertificate, fingerprint, _ => { }));
    }

    [Fact]
    public void Server_options_must_name_an_SRTP_profile_and_a_positive_timeout()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, _ => { }, Offering()));
        Assert.Contains(nameof(DtlsOptions.SrtpProfiles), e.Message);
        e = Assert.Throws<ArgumentException>(() => new DtlsServerEndpoint(DtlsPair.ServerCertificate,
            DtlsPair.ClientCertificate.Fingerprint, _ => { }, new DtlsOptions { HandshakeTimeout = TimeSpan.Zero }));
        Assert.Contains(nameof(DtlsOptions.HandshakeTimeout), e.Message);
    }

    [Fact]
    public async Task Server_handshake_times_out_when_the_peer_stays_silent()
    {
        using var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, _ => { },
            new DtlsOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(500), RetransmitTimeout = TimeSpan.FromMilliseconds(100) });
        var started = Stopwatch.StartNew();
        server.Start();
        var e = await DtlsPair.FailureOf(server.Handshake);
        Assert.Equal(DtlsHandshakeFailure.Timeout, e.Failure);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(450), $"gave up after {started.Elapsed}");
        await server.Stopped.WaitAsync(DtlsPair.Patience);
        Assert.Equal(DtlsState.Failed, server.State);
    }

    [Fact]
    public async Task Server_handshake_times_out_when_the_client_vanishes_mid_handshake()
    {
        var options = new DtlsOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(800), RetransmitTimeout = TimeSpan.FromMilliseconds(100) };
        using var pair = new DtlsPair(serverOptions: options);
        pair.ToClient.Blocked = true; // the client sends its ClientHello, then never hears back
        pair.Start();
        var e = await DtlsPair.FailureOf(pair.Server.Handshake);
        Assert.Equal(DtlsHandshakeFailure.Timeout, e.Failure);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Handshake_survives_20_percent_loss_with_duplicates_and_reordering(int seed)
    {
        var options = new DtlsOptions { HandshakeTimeout = TimeSpan.FromSeconds(30), RetransmitTimeout = TimeSpan.FromMilliseconds(100) };
        using var pair = new DtlsPair(options, options,
            toServer: new TestLink(seed, loss: 0.2, duplicate: 0.2, reorder: 0.1),
            toClient: new TestLink(seed + 100, loss: 0.2, duplicate: 0.2, reorder: 0.1));
        var (server, client) = await pair.HandshakeAsync();
        Assert.Equal(server.KeyingMaterial, client.KeyingMaterial);
        Assert.Equal(SrtpProfile.AeadAes128Gcm, client.Profile);
        Assert.Equal(0, pair.ToServer.DeliverErrors + pair.ToClient.DeliverErrors);
    }

    [Fact]
    public async Task Dispose_during_the_handshake_returns_promptly_and_ends_the_thread()
    {
        var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, _ => { });
        var client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, _ => { });
        server.Start();
        client.Start();
        var started = Stopwatch.StartNew();
        server.Dispose();
        client.Dispose();
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"Dispose took {started.Elapsed}");
        Assert.True(server.Stopped.IsCompleted && client.Stopped.IsCompleted);
        Assert.Equal(DtlsHandshakeFailure.Closed, (await DtlsPair.FailureOf(server.Handshake)).Failure);
        Assert.Equal(DtlsHandshakeFailure.Closed, (await DtlsPair.FailureOf(client.Handshake)).Failure);
        Assert.Equal(DtlsState.Closed, server.State);
        server.Dispose(); // idempotent
    }

    [Fact]
    public async Task Dispose_before_Start_faults_the_handshake_and_Start_then_throws()
    {
        var server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, _ => { });
        server.Dispose();
        Assert.Equal(DtlsHandshakeFailure.Closed, (await DtlsPair.FailureOf(server.Handshake)).Failure);
        Assert.True(server.Stopped.IsCompleted);
        Assert.Throws<ObjectDisposedException>(server.Start);
    }

    [Fact]
    public async Task Dispose_sends_close_notify_and_the_peer_ends_as_Closed()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        pair.Client.Dispose();
        await pair.Server.Stopped.WaitAsync(DtlsPair.Patience);
        Assert.Equal(DtlsState.Closed, pair.Server.State);
        Assert.Equal(DtlsState.Closed, pair.Client.State);
        Assert.False(pair.Server.SendApplicationData(new byte[10]));
    }
}
