using System.Diagnostics;
using System.Security.Cryptography;
using Hibari.Rtc.Srtp;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcCertificate = Org.BouncyCastle.Tls.Certificate;

namespace Hibari.Rtc.Dtls;

/// <summary>
/// What both roles decide the same way during a handshake: the suites and versions they accept, the peer's
/// certificate against the SDP fingerprint, the SRTP profile, and the exported keys. BouncyCastle calls into it
/// from the handshake job's pool thread only; the endpoint reads it there once Accept/Connect has returned.
/// </summary>
internal sealed class HandshakeOutcome
{
    // ECDHE_ECDSA only: our certificate is ECDSA, and DefaultTlsServer's own list has none (pitfall 2).
    // AES-128-GCM first: what Chrome negotiates (docs/dtls.md).
    private static readonly int[] PreferredCipherSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    private readonly byte[] _expectedFingerprint = new byte[SHA256.HashSizeInBytes];
    private readonly DtlsCertificate _certificate;
    private readonly BcTlsCrypto _crypto;

    public HandshakeOutcome(BcTlsCrypto crypto, DtlsCertificate certificate, string expectedRemoteFingerprint, DtlsOptions options)
    {
        if (!DtlsCertificate.TryParseFingerprint(expectedRemoteFingerprint, _expectedFingerprint))
            throw new ArgumentException("expected a SHA-256 fingerprint as 32 colon-separated hex bytes", nameof(expectedRemoteFingerprint));
        _crypto = crypto;
        _certificate = certificate;
        Options = options;
    }

    public DtlsOptions Options { get; }

    public SrtpProfile? Profile { get; set; }
    public byte[]? KeyingMaterial { get; private set; }
    public string? RemoteFingerprint { get; private set; }
    public int NegotiatedCipherSuite { get; private set; }
    public ProtocolVersion? Version { get; private set; }

    /// <summary>Set when we refused the peer, so the failure names our reason rather than the alert we sent.</summary>
    public (DtlsHandshakeFailure Failure, string Detail)? Refusal { get; private set; }

    /// <summary>The RFC 5246 §6.3 key block of epoch 1 for <see cref="ManagedRecordLayer"/>; the endpoint wipes it once used.</summary>
    public byte[]? KeyBlock { get; private set; }

    /// <summary>Our role, as BouncyCastle saw it.</summary>
    public bool IsServer { get; private set; }

    /// <summary>When the handshake must be over (a <see cref="Stopwatch"/> timestamp); set by <see cref="DtlsEndpoint.Start"/>.</summary>
    public long Deadline { get; set; } = long.MaxValue;

    // Only what both BouncyCastle and our record layer can run on this platform (ChaCha20-Poly1305 needs OpenSSL 1.1+).
    public int[] CipherSuites(TlsCrypto crypto) =>
        TlsUtilities.GetSupportedCipherSuites(crypto, PreferredCipherSuites.Where(ManagedRecordLayer.IsSupported).ToArray());

    /// <summary>What is left of the handshake timeout, which counts from Start (time spent queued for a pool thread included).</summary>
    public int HandshakeTimeoutMillis
    {
        get
        {
            if (Deadline == long.MaxValue) return (int)Options.HandshakeTimeout.TotalMilliseconds;
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), Deadline).TotalMilliseconds;
            return (int)Math.Clamp(left, 1, int.MaxValue);
        }
    }

    public int RetransmitMillis => Math.Max(1, (int)Options.RetransmitTimeout.TotalMilliseconds);

    public TlsFatalAlert Refuse(DtlsHandshakeFailure failure, short alert, string detail)
    {
        Refusal = (failure, detail);
        return new TlsFatalAlert(alert, detail);
    }

    /// <summary>Pitfall 6: BouncyCastle checks nothing about who the peer is; the SDP fingerprint is the identity.</summary>
    public void VerifyPeer(BcCertificate? chain)
    {
        if (chain is null || chain.IsEmpty)
            throw Refuse(DtlsHandshakeFailure.FingerprintMismatch, AlertDescription.bad_certificate, "the peer sent no certificate");
        var der = chain.GetCertificateAt(0).GetEncoded();
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(der, actual);
        var fingerprint = DtlsCertificate.FormatFingerprint(actual);
        if (!CryptographicOperations.FixedTimeEquals(actual, _expectedFingerprint))
            throw Refuse(DtlsHandshakeFailure.FingerprintMismatch, AlertDescription.bad_certificate,
                $"the peer's certificate {fingerprint} is not the one its SDP announced {DtlsCertificate.FormatFingerprint(_expectedFingerprint)}");
        RemoteFingerprint = fingerprint;
    }

    public TlsCredentialedSigner Signer(TlsContext context) =>
        new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), _crypto, _certificate.PrivateKey,
            _certificate.ToChain(_crypto), new SignatureAndHashAlgorithm(Org.BouncyCastle.Tls.HashAlgorithm.sha256, SignatureAlgorithm.ecdsa));

    /// <summary>Pitfall 1: only valid inside NotifyHandshakeComplete; Accept/Connect wipe the secrets on return.</summary>
    public void ExportKeys(TlsContext context)
    {
        if (Profile is not { } profile)
            throw Refuse(DtlsHandshakeFailure.NoCommonSrtpProfile, AlertDescription.handshake_failure, "no SRTP profile was negotiated");
        if (RemoteFingerprint is null)
            throw Refuse(DtlsHandshakeFailure.FingerprintMismatch, AlertDescription.bad_certificate, "the peer's certificate was never checked");
        var parameters = context.SecurityParameters;
        NegotiatedCipherSuite = parameters.CipherSuite;
        Version = context.ServerVersion;
        KeyingMaterial = context.ExportKeyingMaterial(ExporterLabel.dtls_srtp, null, DtlsSrtpKeyingMaterial.Length(profile));
        DeriveKeyBlock(parameters);
    }

    /// <summary>
    /// RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random), with the suite's
    /// PRF (SHA-256, or SHA-384 for AES-256-GCM). Here because the master secret is wiped when Accept/Connect return.
    /// </summary>
    private void DeriveKeyBlock(SecurityParameters parameters)
    {
        if (!ManagedRecordLayer.IsSupported(parameters.CipherSuite))
            throw Refuse(DtlsHandshakeFailure.ProtocolError, AlertDescription.internal_error,
                $"cipher suite 0x{parameters.CipherSuite:X4} has no managed record layer");
        // RFC 9146 connection IDs change the record format; neither side offers them, so their presence is a bug.
        if (parameters.ConnectionIDLocal is { Length: > 0 } || parameters.ConnectionIDPeer is { Length: > 0 })
            throw Refuse(DtlsHandshakeFailure.ProtocolError, AlertDescription.internal_error, "a DTLS connection ID was negotiated");
        var seed = new byte[parameters.ServerRandom.Length + parameters.ClientRandom.Length];
        parameters.ServerRandom.CopyTo(seed, 0);
        parameters.ClientRandom.CopyTo(seed, parameters.ServerRandom.Length);
        var secret = TlsUtilities.Prf(parameters, parameters.MasterSecret, ExporterLabel.key_expansion, seed,
            ManagedRecordLayer.KeyBlockLength(parameters.CipherSuite));
        KeyBlock = secret.Extract(); // also destroys the derived secret
        IsServer = parameters.Entity == ConnectionEnd.server;
    }

    /// <summary>Wipes the key block once the record layer has its keys.</summary>
    public void ForgetKeyBlock()
    {
        if (KeyBlock is { } block) CryptographicOperations.ZeroMemory(block);
        KeyBlock = null;
    }

    internal static int[] ProfileIds(IEnumerable<SrtpProfile> profiles) => profiles.Select(p => (int)p).ToArray();
}
