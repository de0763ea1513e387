using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Hibari.Rtc.Ice;

/// <summary>Attribute types used by ICE (RFC 8489 §18.3, RFC 8445 §16.1). Below 0x8000 is comprehension-required.</summary>
public static class StunAttributeType
{
    public const ushort MappedAddress = 0x0001;
    public const ushort Username = 0x0006;
    public const ushort MessageIntegrity = 0x0008;
    public const ushort ErrorCode = 0x0009;
    public const ushort UnknownAttributes = 0x000A;
    public const ushort Realm = 0x0014;
    public const ushort Nonce = 0x0015;
    public const ushort MessageIntegritySha256 = 0x001C;
    public const ushort PasswordAlgorithm = 0x001D;
    public const ushort UserHash = 0x001E;
    public const ushort XorMappedAddress = 0x0020;
    public const ushort Priority = 0x0024;
    public const ushort UseCandidate = 0x0025;
    public const ushort Software = 0x8022;
    public const ushort Fingerprint = 0x8028;
    public const ushort IceControlled = 0x8029;
    public const ushort IceControlling = 0x802A;

    /// <summary>RFC 8489 §14: types 0x0000–0x7FFF must be understood or the request refused with 420.</summary>
    public static bool IsComprehensionRequired(ushort type) => type < 0x8000;

    /// <summary>Comprehension-required types this codec knows (some only to ignore them safely).</summary>
    public static bool IsKnown(ushort type) => type is MappedAddress or Username or MessageIntegrity or ErrorCode
        or UnknownAttributes or Realm or Nonce or MessageIntegritySha256 or PasswordAlgorithm or UserHash
        or XorMappedAddress or Priority or UseCandidate;
}

/// <summary>STUN message classes (RFC 8489 §5: the C1/C0 bits of the type).</summary>
public enum StunClass : byte { Request = 0, Indication = 1, SuccessResponse = 2, ErrorResponse = 3 }

/// <summary>Why bytes are not a STUN message. Returned, never thrown.</summary>
public enum StunParseError
{
    None = 0,
    TooShort,
    NotStun,            // top two bits set: RTP, DTLS or garbage (RFC 7983 demultiplexing)
    BadMagicCookie,
    LengthNotMultipleOf4,
    LengthMismatch,     // header length + 20 is not the datagram length
    AttributeOverrun,   // an attribute runs past the end of the message
    AttributeAfterFingerprint, // RFC 8489 §14.7: FINGERPRINT must be last
    BadIntegrityLength,
    BadFingerprintLength,
}

/// <summary>One attribute of a parsed message: its type and where its value lies in <see cref="StunMessage.Raw"/>.</summary>
public readonly record struct StunAttribute(ushort Type, int ValueOffset, int Length);

/// <summary>Outcome of <see cref="StunMessage.Parse"/>: a message, or the reason there is none.</summary>
public readonly record struct StunParseResult(StunMessage? Message, StunParseError Error)
{
    public bool Success => Message is not null;
}

/// <summary>
/// A parsed STUN message (RFC 8489; RFC 5389 wire format). Parsing copies the datagram, checks the header and walks the
/// attributes; values are decoded on demand and every decoder reports malformed input with false, never an exception.
/// </summary>
public sealed class StunMessage
{
    public const int HeaderLength = 20;
    public const uint MagicCookie = 0x2112A442;
    public const int TransactionIdLength = 12;
    public const ushort BindingMethod = 0x001;
    internal const uint FingerprintXor = 0x5354554E;
    internal const int IntegrityLength = 20;

    private readonly byte[] _raw;
    private readonly StunAttribute[] _attributes;

    private StunMessage(byte[] raw, StunAttribute[] attributes, int integrityIndex, int fingerprintIndex)
    {
        _raw = raw;
        _attributes = attributes;
        IntegrityIndex = integrityIndex;
        FingerprintIndex = fingerprintIndex;
    }

    /// <summary>The whole message as received.</summary>
    public ReadOnlySpan<byte> Raw => _raw;
    /// <summary>The 14-bit message type (method and class bits interleaved).</summary>
    public ushort Type => BinaryPrimitives.ReadUInt16BigEndian(_raw);
    public ushort Method => MethodOf(Type);
    public StunClass Class => ClassOf(Type);
    public ReadOnlySpan<byte> TransactionId => _raw.AsSpan(8, TransactionIdLength);
    /// <summary>Attributes in wire order. Per RFC 8489 §14.5 those after MESSAGE-INTEGRITY (other than FINGERPRINT) are dropped.</summary>
    public IReadOnlyList<StunAttribute> Attributes => _attributes;
    public bool HasIntegrity => IntegrityIndex >= 0;
    public bool HasFingerprint => FingerprintIndex >= 0;
    private int IntegrityIndex { get; }
    private int FingerprintIndex { get; }

    public bool IsBindingRequest => Method == BindingMethod && Class == StunClass.Request;

    public static ushort MethodOf(ushort type) => (ushort)((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
    public static StunClass ClassOf(ushort type) => (StunClass)(((type >> 4) & 0x1) | ((type >> 7) & 0x2));
    public static ushort TypeOf(ushort method, StunClass cls) => (ushort)((method & 0x000F) | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2) | (((int)cls & 0x1) << 4) | (((int)cls & 0x2) << 7));

    /// <summary>Parses one datagram. Never throws; any input that is not exactly one well-formed message is an error.</summary>
    public static StunParseResult Parse(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < HeaderLength) return Fail(StunParseError.TooShort);
        if ((datagram[0] & 0xC0) != 0) return Fail(StunParseError.NotStun);
        if (BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]) != MagicCookie) return Fail(StunParseError.BadMagicCookie);
        int length = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if ((length & 3) != 0) return Fail(StunParseError.LengthNotMultipleOf4);
        if (length + HeaderLength != datagram.Length) return Fail(StunParseError.LengthMismatch);

        var attributes = new List<StunAttribute>();
        int integrity = -1, fingerprint = -1;
        var offset = HeaderLength;
        while (offset < datagram.Length)
        {
            if (fingerprint >= 0) return Fail(StunParseError.AttributeAfterFingerprint);
            if (datagram.Length - offset < 4) return Fail(StunParseError.AttributeOverrun);
            var type = BinaryPrimitives.ReadUInt16BigEndian(datagram[offset..]);
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[(offset + 2)..]);
            var padded = (valueLength + 3) & ~3;
            if (padded > datagram.Length - offset - 4) return Fail(StunParseError.AttributeOverrun);
            var attribute = new StunAttribute(type, offset + 4, valueLength);
            if (type == StunAttributeType.Fingerprint)
            {
                if (valueLength != 4) return Fail(StunParseError.BadFingerprintLength);
                fingerprint = attributes.Count;
                attributes.Add(attribute);
            }
            else if (integrity < 0)
            {
                if (type == StunAttributeType.MessageIntegrity)
                {
                    if (valueLength != IntegrityLength) return Fail(StunParseError.BadIntegrityLength);
                    integrity = attributes.Count;
                }
                attributes.Add(attribute);
            }
            // else: RFC 8489 §14.5, attributes after MESSAGE-INTEGRITY are ignored.
            offset += 4 + padded;
        }
        return new StunParseResult(new StunMessage(datagram.ToArray(), [.. attributes], integrity, fingerprint), StunParseError.None);
    }

    private static StunParseResult Fail(StunParseError error) => new(null, error);

    /// <summary>The value of the first attribute of this type (RFC 8489 §14: later duplicates are ignored).</summary>
    public bool TryGetAttribute(ushort type, out ReadOnlySpan<byte> value)
    {
        foreach (var a in _attributes)
        {
            if (a.Type != type) continue;
            value = _raw.AsSpan(a.ValueOffset, a.Length);
            return true;
        }
        value = default;
        return false;
    }

    public bool Has(ushort type) => TryGetAttribute(type, out _);

    public ReadOnlySpan<byte> ValueOf(StunAttribute attribute) => _raw.AsSpan(attribute.ValueOffset, attribute.Length);

    /// <summary>USERNAME as UTF-8 text; false if absent or longer than 513 bytes (RFC 8489 §14.3).</summary>
    public bool TryGetUsername(out string username)
    {
        username = "";
        if (!TryGetAttribute(StunAttributeType.Username, out var v) || v.Length > 513) return false;
        username = Encoding.UTF8.GetString(v); // invalid sequences become U+FFFD, which matches no ufrag
        return true;
    }

    public bool TryGetPriority(out uint priority) => TryGetUInt32(StunAttributeType.Priority, out priority);
    public bool TryGetIceControlling(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlling, out tieBreaker);
    public bool TryGetIceControlled(out ulong tieBreaker) => TryGetUInt64(StunAttributeType.IceControlled, out tieBreaker);
    public bool HasUseCandidate => Has(StunAttributeType.UseCandidate);

    /// <summary>ERROR-CODE (RFC 8489 §14.8): code = class × 100 + number, class 3–6, number 0–99.</summary>
    public bool TryGetErrorCode(out int code, out string reason)
    {
        code = 0;
        reason = "";
        if (!TryGetAttribute(StunAttributeType.ErrorCode, out var v) || v.Length < 4) return false;
        int cls = v[2] & 0x07, number = v[3];
        if (cls is < 3 or > 6 || number > 99) return false;
        code = cls * 100 + number;
        reason = Encoding.UTF8.GetString(v[4..]);
        return true;
    }

    /// <summary>XOR-MAPPED-ADDRESS (RFC 8489 §14.2), IPv4 or IPv6.</summary>
    public bool TryGetXorMappedAddress(out IPEndPoint endPoint)
    {
        endPoint = null!;
        if (!TryGetAttribute(StunAttributeType.XorMappedAddress, out var v) || v.Length < 4) return false;
        var port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(v[2..]) ^ (MagicCookie >> 16));
        var addressLength = v[1] switch { 0x01 => 4, 0x02 => 16, _ => 0 };
        if (addressLength == 0 || v.Length != 4 + addressLength) return false;
        Span<byte> address = stackalloc byte[addressLength];
        Span<byte> mask = stackalloc byte[16];
        WriteXorMask(mask, TransactionId);
        for (var i = 0; i < addressLength; i++) address[i] = (byte)(v[4 + i] ^ mask[i]);
        endPoint = new IPEndPoint(new IPAddress(address), port);
        return true;
    }

    /// <summary>
    /// Checks MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 keyed with <paramref name="key"/> (for ICE: the password as
    /// UTF-8) over the message up to the attribute, with the header length set as if MESSAGE-INTEGRITY were last.
    /// </summary>
    public bool VerifyIntegrity(ReadOnlySpan<byte> key)
    {
        if (IntegrityIndex < 0) return false;
        var mi = _attributes[IntegrityIndex];
        Span<byte> expected = stackalloc byte[IntegrityLength];
        ComputeIntegrity(_raw.AsSpan(0, mi.ValueOffset - 4), key, expected);
        return CryptographicOperations.FixedTimeEquals(expected, _raw.AsSpan(mi.ValueOffset, IntegrityLength));
    }

    /// <summary>Checks FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message before it, XOR 0x5354554E.</summary>
    public bool VerifyFingerprint()
    {
        if (FingerprintIndex < 0) return false;
        var fp = _attributes[FingerprintIndex];
        var expected = ComputeFingerprint(_raw.AsSpan(0, fp.ValueOffset - 4));
        return BinaryPrimitives.ReadUInt32BigEndian(_raw.AsSpan(fp.ValueOffset)) == expected;
    }

    /// <summary>HMAC-SHA1 over <paramref name="prefix"/> (header + attributes before MI) with the length covering MI.</summary>
    internal static void ComputeIntegrity(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, key);
        AppendWithLength(hmac, prefix, prefix.Length - HeaderLength + 4 + IntegrityLength);
        hmac.GetHashAndReset(destination);
    }

    /// <summary>CRC-32 XOR 0x5354554E over <paramref name="prefix"/> with the length covering the FINGERPRINT attribute.</summary>
    internal static uint ComputeFingerprint(ReadOnlySpan<byte> prefix)
    {
        var crc = new Crc32();
        Span<byte> header = stackalloc byte[HeaderLength];
        prefix[..HeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(prefix.Length - HeaderLength + 8));
        crc.Append(header);
        crc.Append(prefix[HeaderLength..]);
        return crc.GetCurrentHashAsUInt32() ^ FingerprintXor;
    }

    private static void AppendWithLength(IncrementalHash hash, ReadOnlySpan<byte> prefix, int length)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        prefix[..HeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
        hash.AppendData(header);
        hash.AppendData(prefix[HeaderLength..]);
    }

    /// <summary>Magic cookie followed by the transaction id: the XOR mask of XOR-MAPPED-ADDRESS.</summary>
    internal static void WriteXorMask(Span<byte> mask16, ReadOnlySpan<byte> transactionId)
    {
        BinaryPrimitives.WriteUInt32BigEndian(mask16, MagicCookie);
        transactionId.CopyTo(mask16[4..]);
    }

    private bool TryGetUInt32(ushort type, out uint value)
    {
        value = 0;
        if (!TryGetAttribute(type, out var v) || v.Length != 4) return false;
        value = BinaryPrimitives.ReadUInt32BigEndian(v);
        return true;
    }

    private bool TryGetUInt64(ushort type, out ulong value)
    {
        value = 0;
        if (!TryGetAttribute(type, out var v) || v.Length != 8) return false;
        value = BinaryPrimitives.ReadUInt64BigEndian(v);
        return true;
    }
}
