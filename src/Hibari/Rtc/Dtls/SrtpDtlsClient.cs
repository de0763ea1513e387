using Hibari.Rtc.Srtp;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcCertificateRequest = Org.BouncyCastle.Tls.CertificateRequest;

namespace Hibari.Rtc.Dtls;

/// <summary>The browser's side of DTLS-SRTP, for the load tool and tests, on BouncyCastle's <see cref="DtlsClientProtocol"/>.</summary>
internal sealed class SrtpDtlsClient(BcTlsCrypto crypto, HandshakeOutcome outcome) : DefaultTlsClient(crypto)
{
    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => outcome.CipherSuites(Crypto);

    public override bool RequiresExtendedMasterSecret() => true;

    public override int GetHandshakeTimeoutMillis() => outcome.HandshakeTimeoutMillis;

    public override int GetHandshakeResendTimeMillis() => outcome.RetransmitMillis;

    public override IDictionary<int, byte[]> GetClientExtensions()
    {
        var extensions = base.GetClientExtensions() ?? new Dictionary<int, byte[]>();
        if (outcome.Options.SrtpProfiles.Count > 0)
            TlsSrtpUtilities.AddUseSrtpExtension(extensions,
                new UseSrtpData(HandshakeOutcome.ProfileIds(outcome.Options.SrtpProfiles), TlsUtilities.EmptyBytes));
        return extensions;
    }

    public override void ProcessServerExtensions(IDictionary<int, byte[]> serverExtensions)
    {
        base.ProcessServerExtensions(serverExtensions);
        var chosen = serverExtensions is null ? null : TlsSrtpUtilities.GetUseSrtpExtension(serverExtensions);
        if (chosen is null)
            throw outcome.Refuse(DtlsHandshakeFailure.NoCommonSrtpProfile, AlertDescription.handshake_failure, "the server chose no SRTP profile");
        // RFC 5764 §4.1.1: exactly one profile, and one we offered.
        if (chosen.ProtectionProfiles.Length != 1
            || outcome.Options.SrtpProfiles.All(p => (int)p != chosen.ProtectionProfiles[0]))
            throw outcome.Refuse(DtlsHandshakeFailure.NoCommonSrtpProfile, AlertDescription.illegal_parameter,
                $"the server chose SRTP profiles [{string.Join(", ", chosen.ProtectionProfiles.Select(p => $"0x{p:X4}"))}], not one we offered");
        outcome.Profile = (SrtpProfile)chosen.ProtectionProfiles[0];
    }

    public override TlsAuthentication GetAuthentication() => new Authentication(this);

    public override void NotifyHandshakeComplete()
    {
        base.NotifyHandshakeComplete();
        outcome.ExportKeys(m_context);
    }

    private sealed class Authentication(SrtpDtlsClient client) : TlsAuthentication
    {
        public void NotifyServerCertificate(TlsServerCertificate serverCertificate) =>
            client.Outcome.VerifyPeer(serverCertificate.Certificate);

        public TlsCredentials GetClientCredentials(BcCertificateRequest certificateRequest) =>
            client.Outcome.Signer(client.m_context);
    }

    private HandshakeOutcome Outcome => outcome;
}
