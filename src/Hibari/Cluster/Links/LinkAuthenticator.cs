using System.Security.Cryptography;
using System.Text;

namespace Hibari.Cluster.Links;

/// <summary>
/// The challenge-response proofs of the handshake: each side shows it knows the cluster secret by keying
/// HMAC-SHA256 with it over the other side's fresh nonce. Distinct labels for the two directions keep a proof
/// from one direction from being replayed in the other.
/// </summary>
internal sealed class LinkAuthenticator(string secret)
{
    private static readonly byte[] HelloLabel = "hibari-link-v1|hello|"u8.ToArray();
    private static readonly byte[] WelcomeLabel = "hibari-link-v1|welcome|"u8.ToArray();

    private readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    /// <summary>Dialer's proof: HMAC(secret, "hibari-link-v1|hello|" ‖ nonceA ‖ dialer name).</summary>
    public byte[] HelloMac(ReadOnlySpan<byte> acceptorNonce, string dialerName) => Mac(HelloLabel, acceptorNonce, dialerName);

    /// <summary>Acceptor's proof: HMAC(secret, "hibari-link-v1|welcome|" ‖ nonceD ‖ acceptor name).</summary>
    public byte[] WelcomeMac(ReadOnlySpan<byte> dialerNonce, string acceptorName) => Mac(WelcomeLabel, dialerNonce, acceptorName);

    public bool VerifyHello(ReadOnlySpan<byte> acceptorNonce, string dialerName, ReadOnlySpan<byte> mac) =>
        CryptographicOperations.FixedTimeEquals(HelloMac(acceptorNonce, dialerName), mac);

    public bool VerifyWelcome(ReadOnlySpan<byte> dialerNonce, string acceptorName, ReadOnlySpan<byte> mac) =>
        CryptographicOperations.FixedTimeEquals(WelcomeMac(dialerNonce, acceptorName), mac);

    public static byte[] NewNonce() => RandomNumberGenerator.GetBytes(NodeLinkFrameCodec.NonceSize);

    private byte[] Mac(byte[] label, ReadOnlySpan<byte> nonce, string name)
    {
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        Span<byte> input = stackalloc byte[label.Length + nonce.Length + nameBytes];
        label.CopyTo(input);
        nonce.CopyTo(input[label.Length..]);
        Encoding.UTF8.GetBytes(name, input[(label.Length + nonce.Length)..]);
        return HMACSHA256.HashData(_key, input);
    }
}
