using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls.Crypto;
using BcCertificate = Org.BouncyCastle.Tls.Certificate;

namespace Hibari.Rtc.Dtls;

/// <summary>
/// The SFU's self-signed ECDSA P-256 certificate for DTLS (docs/dtls.md). Made with the BCL and
/// handed to BouncyCastle as DER + PKCS#8. Browsers pin it by <see cref="Fingerprint"/>, so nothing checks the
/// subject or the validity; a long-lived node keeps one across restarts with <see cref="LoadOrCreate(string)"/>.
/// </summary>
public sealed class DtlsCertificate
{
    internal const string KeyFileName = "dtls-key.der";
    internal const string CertificateFileName = "dtls-cert.der";
    internal static readonly TimeSpan DefaultValidity = TimeSpan.FromDays(30);
    // Regenerated this long before it expires, so a peer never sees an expired certificate.
    internal static readonly TimeSpan RenewBefore = TimeSpan.FromDays(1);

    private readonly byte[] _der;

    private DtlsCertificate(byte[] der, byte[] pkcs8, DateTimeOffset notAfter)
    {
        _der = der;
        NotAfter = notAfter;
        Fingerprint = FingerprintOf(der);
        PrivateKey = PrivateKeyFactory.CreateKey(pkcs8);
    }

    /// <summary>Upper-case colon-separated hex of the SHA-256 of the DER: what follows <c>a=fingerprint:sha-256 </c>.</summary>
    public string Fingerprint { get; }

    public DateTimeOffset NotAfter { get; }

    internal ReadOnlySpan<byte> Der => _der;

    internal AsymmetricKeyParameter PrivateKey { get; }

    /// <summary>The certificate as a BouncyCastle chain of one, bound to <paramref name="crypto"/>.</summary>
    internal BcCertificate ToChain(TlsCrypto crypto) => new([crypto.CreateCertificate(_der)]);

    public static DtlsCertificate Generate() => Generate(DateTimeOffset.UtcNow, DefaultValidity);

    internal static DtlsCertificate Generate(DateTimeOffset now, TimeSpan validity) => Create(now, validity).Certificate;

    /// <summary>
    /// The certificate kept in <paramref name="directory"/> (<c>dtls-key.der</c>: PKCS#8, <c>dtls-cert.der</c>: DER),
    /// or a new one written there when a file is missing, unreadable, does not match the other, or the certificate
    /// expires within a day.
    /// </summary>
    /// <exception cref="IOException">A new certificate could not be written; a node must not silently change its fingerprint on every start.</exception>
    public static DtlsCertificate LoadOrCreate(string directory) => LoadOrCreate(directory, DateTimeOffset.UtcNow);

    internal static DtlsCertificate LoadOrCreate(string directory, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var keyPath = Path.Combine(directory, KeyFileName);
        var certPath = Path.Combine(directory, CertificateFileName);
        if (TryLoad(keyPath, certPath, now) is { } loaded) return loaded;

        var (created, pkcs8) = Create(now, DefaultValidity);
        Directory.CreateDirectory(directory);
        WriteAtomically(keyPath, pkcs8, secret: true);
        WriteAtomically(certPath, created._der, secret: false);
        CryptographicOperations.ZeroMemory(pkcs8);
        return created;
    }

    /// <summary>Upper-case colon-separated hex of SHA-256(<paramref name="der"/>).</summary>
    public static string FingerprintOf(ReadOnlySpan<byte> der)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(der, hash);
        return FormatFingerprint(hash);
    }

    internal static string FormatFingerprint(ReadOnlySpan<byte> hash)
    {
        const string hex = "0123456789ABCDEF";
        Span<char> chars = stackalloc char[hash.Length * 3 - 1];
        for (var i = 0; i < hash.Length; i++)
        {
            if (i > 0) chars[3 * i - 1] = ':';
            chars[3 * i] = hex[hash[i] >> 4];
            chars[3 * i + 1] = hex[hash[i] & 0xF];
        }
        return new string(chars);
    }

    /// <summary>Parses an SDP SHA-256 fingerprint (colon-separated hex, either case) into its 32 bytes.</summary>
    internal static bool TryParseFingerprint(string? text, Span<byte> sha256)
    {
        if (text is null || sha256.Length != SHA256.HashSizeInBytes) return false;
        var s = text.AsSpan().Trim();
        if (s.Length != sha256.Length * 3 - 1) return false;
        for (var i = 0; i < sha256.Length; i++)
        {
            if (i > 0 && s[3 * i - 1] != ':') return false;
            var hi = HexValue(s[3 * i]);
            var lo = HexValue(s[3 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            sha256[i] = (byte)(hi << 4 | lo);
        }
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };

    private static (DtlsCertificate Certificate, byte[] Pkcs8) Create(DateTimeOffset now, TimeSpan validity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=hibari", key, HashAlgorithmName.SHA256);
        // Backdated a day: a peer with a slow clock must not see a certificate from the future.
        using var x509 = request.CreateSelfSigned(now.AddDays(-1), now + validity);
        var pkcs8 = key.ExportPkcs8PrivateKey();
        return (new DtlsCertificate(x509.RawData, pkcs8, x509.NotAfter.ToUniversalTime()), pkcs8);
    }

    private static DtlsCertificate? TryLoad(string keyPath, string certPath, DateTimeOffset now)
    {
        byte[]? pkcs8 = null;
        try
        {
            if (!File.Exists(keyPath) || !File.Exists(certPath)) return null;
            pkcs8 = File.ReadAllBytes(keyPath);
            var der = File.ReadAllBytes(certPath);
            using var x509 = X509CertificateLoader.LoadCertificate(der);
            var notAfter = new DateTimeOffset(x509.NotAfter.ToUniversalTime());
            if (notAfter - now < RenewBefore) return null;
            using var publicKey = x509.GetECDsaPublicKey();
            if (publicKey is null || publicKey.KeySize != 256) return null;
            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out var read);
            if (read != pkcs8.Length || key.KeySize != 256) return null;
            // The two files are written one after the other; a crash in between leaves a pair that does not match.
            if (!key.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey.ExportSubjectPublicKeyInfo())) return null;
            return new DtlsCertificate(der, pkcs8, notAfter);
        }
        catch (Exception) // I/O, BCL or BouncyCastle parsing: whatever it is, the pair is not usable
        {
            return null; // unreadable or corrupt: replaced by a new one
        }
        finally
        {
            if (pkcs8 is not null) CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private static void WriteAtomically(string path, byte[] content, bool secret)
    {
        var temp = path + ".tmp";
        File.Delete(temp); // a leftover would keep its old permissions: UnixCreateMode applies only on creation
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (secret && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
