using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DtlsCertificateTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hibari-dtls-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Fingerprint_is_upper_case_colon_separated_hex_of_the_SHA_256_of_the_DER()
    {
        var certificate = DtlsCertificate.Generate();
        var expected = string.Join(":", SHA256.HashData(certificate.Der).Select(b => b.ToString("X2")));
        Assert.Equal(expected, certificate.Fingerprint);
        Assert.Equal(95, certificate.Fingerprint.Length);
        Assert.Equal(expected, DtlsCertificate.FingerprintOf(certificate.Der));
    }

    [Fact]
    public void FingerprintOf_matches_a_known_vector()
    {
        // SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad
        Assert.Equal("BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD",
            DtlsCertificate.FingerprintOf("abc"u8));
    }

    [Fact]
    public void Generated_certificate_is_ECDSA_P256_valid_for_at_least_30_days()
    {
        var certificate = DtlsCertificate.Generate();
        using var x509 = X509CertificateLoader.LoadCertificate(certificate.Der.ToArray());
        using var key = x509.GetECDsaPublicKey();
        Assert.NotNull(key);
        Assert.Equal(256, key.KeySize);
        Assert.True(certificate.NotAfter - DateTimeOffset.UtcNow >= TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1));
        Assert.True(x509.NotBefore.ToUniversalTime() <= DateTime.UtcNow);
        Assert.NotEqual(certificate.Fingerprint, DtlsCertificate.Generate().Fingerprint);
    }

    [Fact]
    public void LoadOrCreate_persists_the_certificate_and_reloads_the_same_fingerprint()
    {
        var first = DtlsCertificate.LoadOrCreate(_directory);
        Assert.True(File.Exists(Path.Combine(_directory, "dtls-key.der")));
        Assert.True(File.Exists(Path.Combine(_directory, "dtls-cert.der")));
        var second = DtlsCertificate.LoadOrCreate(_directory);
        Assert.Equal(first.Fingerprint, second.Fingerprint);
        Assert.Equal(first.Fingerprint, DtlsCertificate.FingerprintOf(File.ReadAllBytes(Path.Combine(_directory, "dtls-cert.der"))));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "dtls-key.der")));
    }

    [Fact]
    public async Task A_reloaded_certificate_still_completes_a_handshake()
    {
        var created = DtlsCertificate.LoadOrCreate(_directory);
        var reloaded = DtlsCertificate.LoadOrCreate(_directory);
        DtlsClientEndpoint? client = null;
        using var server = new DtlsServerEndpoint(reloaded, DtlsPair.ClientCertificate.Fingerprint, d => client!.Deliver(d));
        using (client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, created.Fingerprint, d => server.Deliver(d)))
        {
            server.Start();
            client.Start();
            var result = await client.Handshake.WaitAsync(DtlsPair.Patience);
            Assert.Equal(created.Fingerprint, result.RemoteFingerprint);
        }
    }

    [Theory]
    [InlineData("dtls-cert.der")]
    [InlineData("dtls-key.der")]
    public void LoadOrCreate_replaces_a_corrupt_file(string file)
    {
        var first = DtlsCertificate.LoadOrCreate(_directory);
        File.WriteAllBytes(Path.Combine(_directory, file), [0x30, 0x82, 0x01, 0x00, 0xFF]);
        var replaced = DtlsCertificate.LoadOrCreate(_directory);
        Assert.NotEqual(first.Fingerprint, replaced.Fingerprint);
        Assert.Equal(replaced.Fingerprint, DtlsCertificate.LoadOrCreate(_directory).Fingerprint);
    }

    [Fact]
    public void LoadOrCreate_replaces_a_key_that_does_not_match_the_certificate()
    {
        DtlsCertificate.LoadOrCreate(_directory);
        var other = Path.Combine(_directory, "other");
        DtlsCertificate.LoadOrCreate(other);
        File.Copy(Path.Combine(other, "dtls-key.der"), Path.Combine(_directory, "dtls-key.der"), overwrite: true);
        var before = DtlsCertificate.FingerprintOf(File.ReadAllBytes(Path.Combine(_directory, "dtls-cert.der")));
        Assert.NotEqual(before, DtlsCertificate.LoadOrCreate(_directory).Fingerprint);
    }

    [Fact]
    public void LoadOrCreate_replaces_a_certificate_that_expires_within_a_day()
    {
        var old = DtlsCertificate.LoadOrCreate(_directory, DateTimeOffset.UtcNow.AddDays(-29.5));
        Assert.True(old.NotAfter - DateTimeOffset.UtcNow < TimeSpan.FromDays(1));
        var renewed = DtlsCertificate.LoadOrCreate(_directory);
        Assert.NotEqual(old.Fingerprint, renewed.Fingerprint);
        Assert.True(renewed.NotAfter - DateTimeOffset.UtcNow > TimeSpan.FromDays(29));
    }

    [Fact]
    public void LoadOrCreate_creates_a_missing_directory()
    {
        var nested = Path.Combine(_directory, "a", "b");
        var certificate = DtlsCertificate.LoadOrCreate(nested);
        Assert.Equal(certificate.Fingerprint, DtlsCertificate.LoadOrCreate(nested).Fingerprint);
    }
}
