using Hibari.Rtc.Srtp;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcCertificate = Org.BouncyCastle.Tls.Certificate;
using BcCertificateRequest = Org.BouncyCastle.Tls.CertificateRequest;

namespace Hibari.Rtc.Dtls;

/// <summary>The SFU's side of DTLS-SRTP (RFC 5764) for BouncyCastle's <see cref="DtlsServerProtocol"/>.</summary>
internal sealed class SrtpDtlsServer(BcTlsCrypto crypto, HandshakeOutcome outcome) : DefaultTlsServer(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => outcome.CipherSuites(Crypto);

    protected override bool PreferLocalCipherSuites() => true;

    // The exporter refuses to run without it (pitfall 1), and RFC 7627 closes the triple-handshake attack.
    public override bool RequiresExtendedMasterSecret() => true;

    public override int GetHandshakeTimeoutMillis() => outcome.HandshakeTimeoutMillis;

    public override int GetHandshakeResendTimeMillis() => outcome.RetransmitMillis;

    protected override TlsCredentialedSigner GetECDsaSignerCredentials() => outcome.Signer(m_context);

    public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
    {
        base.ProcessClientExtensions(clientExtensions);
        var offered = clientExtensions is null ? null : TlsSrtpUtilities.GetUseSrtpExtension(clientExtensions);
        // RFC 5764 §4.1.1 lets a server go on without SRTP; an SFU has nothing to offer such a client.
        foreach (var preferred in outcome.Options.SrtpProfiles)
        {
            if (offered is not null && Array.IndexOf(offered.ProtectionProfiles, (int)preferred) >= 0)
            {
                outcome.Profile = preferred;
                return;
            }
        }
        var what = offered is null ? "no use_srtp extension" : $"SRTP profiles [{string.Join(", ", offered.ProtectionProfiles.Select(p => $"0x{p:X4}"))}]";
        throw outcome.Refuse(DtlsHandshakeFailure.NoCommonSrtpProfile, AlertDescription.handshake_failure,
            $"the client offered {what}, none of [{string.Join(", ", outcome.Options.SrtpProfiles)}]");
    }

    public override IDictionary<int, byte[]> GetServerExtensions()
    {
        var extensions = base.GetServerExtensions();
        TlsSrtpUtilities.AddUseSrtpExtension(extensions, new UseSrtpData([(int)outcome.Profile!.Value], TlsUtilities.EmptyBytes));
        return extensions;
    }

    // Requesting the certificate is what makes the browser prove the key behind its SDP fingerprint.
    public override BcCertificateRequest GetCertificateRequest() =>
        new([ClientCertificateType.ecdsa_sign, ClientCertificateType.rsa_sign],
            TlsUtilities.GetDefaultSupportedSignatureAlgorithms(m_context), null);

    public override void NotifyClientCertificate(BcCertificate clientCertificate) => outcome.VerifyPeer(clientCertificate);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        outcome.ExportKeys(m_context);
    }
}
