using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using DotNext.Net.Security;

namespace Hibari.Cluster.Membership;

/// <summary>
/// Authenticates the Raft port with `cluster_secret` (nothing unauthenticated is accepted on the cluster ports).
/// Each node makes a fresh self-signed ECDSA P-256 certificate at start-up whose subject names
/// HMAC-SHA256(secret, the certificate's SubjectPublicKeyInfo). TLS proves possession of the private key, and only a
/// holder of the secret can name a key it owns; both ends require and check the other's certificate (mutual TLS).
/// </summary>
internal static class RaftTransportSecurity
{
    private const string Prefix = "hibari-raft-";
    private const string TargetHost = "hibari-raft";

    public static SslOptions Create(string secret)
    {
        var certificate = MakeCertificate(secret);
        var options = new SslOptions();
        options.ServerOptions.ServerCertificate = certificate;
        options.ServerOptions.ClientCertificateRequired = true;
        options.ServerOptions.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        options.ServerOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => IsValid(cert, secret);
        options.ClientOptions.TargetHost = TargetHost;
        options.ClientOptions.ClientCertificates = new X509CertificateCollection { certificate };
        options.ClientOptions.CertificateRevocationCheckMode = X509RevocationMode.NoCheck;
        options.ClientOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate;
        options.ClientOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => IsValid(cert, secret);
        return options;
    }

    public static X509Certificate2 MakeCertificate(string secret)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var request = new CertificateRequest($"CN={Prefix}{Proof(secret, spki)}", key, HashAlgorithmName.SHA256);
        var now = DateTimeOffset.UtcNow;
        using var cert = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        // Round trip through PKCS#12 so the private key is usable by the TLS stack on every platform.
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }

    public static bool IsValid(X509Certificate? presented, string secret)
    {
        if (presented is null) return false;
        try
        {
            using var cert = new X509Certificate2(presented);
            using var key = cert.GetECDsaPublicKey();
            if (key is null) return false;
            var cn = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            if (cn is null || !cn.StartsWith(Prefix, StringComparison.Ordinal)) return false;
            var expected = Encoding.ASCII.GetBytes(Proof(secret, key.ExportSubjectPublicKeyInfo()));
            return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(cn[Prefix.Length..]));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static string Proof(string secret, byte[] spki) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("hibari-raft-v1|" + secret), spki));
}
