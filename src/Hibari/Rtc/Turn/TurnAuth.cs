using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Hibari.Rtc.Turn;

/// <summary>The long-term credential key (RFC 8489 §9.2.2).</summary>
public static class TurnAuth
{
    public const int KeyLength = 16;

    /// <summary>
    /// MD5(username ":" realm ":" password) (password algorithm MD5, the one used when none is negotiated), the key of
    /// both MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256. The strings are used as given: the host issues ASCII
    /// credentials, which OpaqueString/SASLprep leave unchanged.
    /// </summary>
    public static void LongTermKey(string username, string realm, string password, Span<byte> destination16)
    {
        var text = Encoding.UTF8.GetBytes(username + ":" + realm + ":" + password);
        MD5.HashData(text, destination16);
    }

    public static byte[] LongTermKey(string username, string realm, string password)
    {
        var key = new byte[KeyLength];
        LongTermKey(username, realm, password, key);
        return key;
    }
}

public enum TurnNonceCheck : byte { Valid, Expired, Invalid }

/// <summary>
/// Stateless nonces (RFC 8489 §9.2, RFC 7616-style): 16 hex digits of the expiry time (µs) then 24 hex digits of
/// HMAC-SHA256(key, expiry ‖ client key). Only this node, for this client transport, before the expiry, accepts it.
/// They carry no "obMatJos2" cookie, so no STUN security features (password algorithms, username anonymity) are offered.
/// </summary>
public static class TurnNonce
{
    public const int Length = 40;
    private const int MacBytes = 12;

    /// <summary>Writes a nonce (exactly <see cref="Length"/> ASCII bytes) into <paramref name="destination"/>.</summary>
    public static void Write(ReadOnlySpan<byte> key, long expiresAtMicros, in TurnClientKey client, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[32];
        Mac(key, expiresAtMicros, client, mac);
        Span<byte> expiry = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(expiry, expiresAtMicros);
        WriteHex(expiry, destination);
        WriteHex(mac[..MacBytes], destination[16..]);
    }

    /// <summary>Valid: ours, for this client, not expired. Expired: ours and for this client but past its time. Invalid: anything else.</summary>
    public static TurnNonceCheck Check(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, in TurnClientKey client, long nowMicros)
    {
        if (nonce.Length != Length) return TurnNonceCheck.Invalid;
        Span<byte> expiry = stackalloc byte[8];
        Span<byte> given = stackalloc byte[MacBytes];
        if (!TryReadHex(nonce[..16], expiry) || !TryReadHex(nonce[16..], given)) return TurnNonceCheck.Invalid;
        var expiresAt = BinaryPrimitives.ReadInt64BigEndian(expiry);
        Span<byte> mac = stackalloc byte[32];
        Mac(key, expiresAt, client, mac);
        if (!CryptographicOperations.FixedTimeEquals(mac[..MacBytes], given)) return TurnNonceCheck.Invalid;
        return nowMicros < expiresAt ? TurnNonceCheck.Valid : TurnNonceCheck.Expired;
    }

    private static void Mac(ReadOnlySpan<byte> key, long expiresAt, in TurnClientKey client, Span<byte> mac32)
    {
        Span<byte> input = stackalloc byte[35];
        BinaryPrimitives.WriteInt64BigEndian(input, expiresAt);
        input[8] = (byte)client.Transport;
        BinaryPrimitives.WriteUInt64BigEndian(input[9..], client.Remote.High);
        BinaryPrimitives.WriteUInt64BigEndian(input[17..], client.Remote.Low);
        BinaryPrimitives.WriteUInt16BigEndian(input[25..], client.Remote.Port);
        BinaryPrimitives.WriteInt64BigEndian(input[27..], client.ConnectionId);
        HMACSHA256.HashData(key, input, mac32);
    }

    private static void WriteHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        const string digits = "0123456789abcdef";
        for (var i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = (byte)digits[bytes[i] >> 4];
            destination[2 * i + 1] = (byte)digits[bytes[i] & 0xF];
        }
    }

    private static bool TryReadHex(ReadOnlySpan<byte> text, Span<byte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            int hi = Digit(text[2 * i]), lo = Digit(text[2 * i + 1]);
            if ((hi | lo) < 0) return false;
            destination[i] = (byte)(hi << 4 | lo);
        }
        return true;
    }

    private static int Digit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        _ => -1,
    };
}
