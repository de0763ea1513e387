using System.Security.Cryptography;

namespace Hibari.Signaling.Messages;

/// <summary>
/// Sora's id format for connection_id / session_id / webhook id: a random UUIDv4 (128 bits) in Base32 with the
/// Crockford alphabet, upper case, no padding = 26 characters (docs/protocol-notes.md, "Identifiers and terms"). The 130 character bits carry
/// the 128 id bits first, so the last character's two low bits are zero, as in the doc examples
/// (WCJC78EWK935N7P7Z8FYAKFW9M ends in M = 20).
/// </summary>
public static class SoraId
{
    public const int Length = 26;
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>A new id from a random UUIDv4.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40); // version 4
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return Encode(bytes);
    }

    /// <summary>The 26-character encoding of 16 bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> id16)
    {
        if (id16.Length != 16) throw new ArgumentException("a Sora id is 16 bytes", nameof(id16));
        Span<char> chars = stackalloc char[Length];
        int buffer = 0, bits = 0, n = 0;
        foreach (var b in id16)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                bits -= 5;
                chars[n++] = Alphabet[(buffer >> bits) & 31];
            }
        }
        chars[n] = Alphabet[(buffer << (5 - bits)) & 31]; // the last 3 bits, padded with two zero bits
        return new string(chars);
    }

    /// <summary>Decodes a valid id into 16 bytes; false when <paramref name="id"/> is not one.</summary>
    public static bool TryDecode(string? id, Span<byte> id16)
    {
        if (!IsValid(id) || id16.Length < 16) return false;
        int buffer = 0, bits = 0, n = 0;
        foreach (var c in id!)
        {
            buffer = (buffer << 5) | Alphabet.IndexOf(c);
            bits += 5;
            if (bits >= 8 && n < 16)
            {
                bits -= 8;
                id16[n++] = (byte)(buffer >> bits);
            }
        }
        return true;
    }

    /// <summary>26 characters of the upper-case Crockford alphabet whose padding bits are zero.</summary>
    public static bool IsValid(string? id)
    {
        if (id is null || id.Length != Length) return false;
        foreach (var c in id)
            if (Alphabet.IndexOf(c) < 0) return false;
        return (Alphabet.IndexOf(id[^1]) & 3) == 0;
    }
}
