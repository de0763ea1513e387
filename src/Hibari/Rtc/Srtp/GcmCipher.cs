using System.Security.Cryptography;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// AES-GCM with a 12-byte nonce and a 16-byte tag for SRTP (RFC 7714) and DTLS 1.2 records (RFC 5288):
/// <see cref="AesGcmIntrinsics"/> where the CPU has AES-NI and PCLMULQDQ, otherwise the BCL's
/// <see cref="AesGcm"/> (OpenSSL). Both give the same bytes; the managed one has no per-call interop cost
/// (docs/decisions.md, D-33). Encryption and verification never allocate and a bad tag is a return value.
/// </summary>
internal sealed class GcmCipher : IDisposable
{
    public const int TagSize = 16;

    /// <summary>
    /// False when the environment variable <c>HIBARI_SRTP_MANAGED_GCM</c> is <c>0</c> at start-up: every new cipher then
    /// uses <see cref="AesGcm"/> (docs/operations.md). Read once.
    /// </summary>
    public static readonly bool ManagedByDefault = Environment.GetEnvironmentVariable("HIBARI_SRTP_MANAGED_GCM") != "0";

    private readonly AesGcmIntrinsics? _managed;
    private readonly AesGcm? _platform;

    /// <param name="key">16 or 32 bytes.</param>
    public GcmCipher(ReadOnlySpan<byte> key) : this(key, ManagedByDefault) { }

    /// <param name="key">16 or 32 bytes.</param>
    /// <param name="managed">False forces <see cref="AesGcm"/> (tests compare the two); true still falls back when
    /// <see cref="AesGcmIntrinsics.IsSupported"/> is false.</param>
    internal GcmCipher(ReadOnlySpan<byte> key, bool managed)
    {
        if (managed && AesGcmIntrinsics.IsSupported) _managed = new AesGcmIntrinsics(key);
        else _platform = new AesGcm(key, TagSize);
    }

    /// <summary>Whether new ciphers built with <see cref="ManagedByDefault"/> work on this machine.</summary>
    public static bool IsSupported => (ManagedByDefault && AesGcmIntrinsics.IsSupported) || AesGcm.IsSupported;

    /// <summary>Whether this instance runs <see cref="AesGcmIntrinsics"/>.</summary>
    public bool IsManaged => _managed is not null;

    /// <summary>Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (same length, may be the same memory).</summary>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> aad)
    {
        if (_managed is { } m) m.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        else _platform!.Encrypt(nonce, plaintext, ciphertext, tag, aad);
    }

    /// <summary>
    /// Verifies and decrypts (same length, may be the same memory). False when the tag does not verify; then the
    /// content of <paramref name="plaintext"/> is unspecified (both implementations zero it) and must be dropped.
    /// </summary>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> aad)
    {
        if (_managed is { } m) return m.TryDecrypt(nonce, ciphertext, tag, plaintext, aad);
        // AesGcm reports a bad tag only by throwing: a forgery costs an exception (~µs) on this path.
        try
        {
            _platform!.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _managed?.Dispose();
        _platform?.Dispose();
    }
}
