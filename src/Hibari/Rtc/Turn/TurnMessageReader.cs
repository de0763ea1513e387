using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>
/// A STUN/TURN message read in place (RFC 8489 §5, §14; RFC 8656 §18), without copying or allocating: the data path
/// (Send indications) goes through it. <see cref="TryParse"/> checks the framing once; the getters then walk the
/// attributes that count, the ones before the first MESSAGE-INTEGRITY(-SHA256) (§14.5, §14.6). Nothing here throws on
/// input: malformed values make the getters return false.
/// </summary>
public readonly ref struct TurnMessageReader
{
    private readonly int _end;          // attributes that count lie in [20, _end)
    private readonly int _integrity;    // MESSAGE-INTEGRITY attribute header offset, or -1
    private readonly int _integrity256; // MESSAGE-INTEGRITY-SHA256 attribute header offset, or -1
    private readonly int _fingerprint;  // FINGERPRINT attribute header offset, or -1

    private TurnMessageReader(ReadOnlySpan<byte> raw, int end, int integrity, int integrity256, int fingerprint)
    {
        Raw = raw;
        _end = end;
        _integrity = integrity;
        _integrity256 = integrity256;
        _fingerprint = fingerprint;
    }

    /// <summary>The whole message (the span given to <see cref="TryParse"/>).</summary>
    public ReadOnlySpan<byte> Raw { get; }
    public ushort Type => BinaryPrimitives.ReadUInt16BigEndian(Raw);
    public ushort Method => StunMessage.MethodOf(Type);
    public StunClass Class => StunMessage.ClassOf(Type);
    public ReadOnlySpan<byte> TransactionId => Raw.Slice(8, StunMessage.TransactionIdLength);
    public bool HasIntegrity => _integrity >= 0;
    public bool HasIntegritySha256 => _integrity256 >= 0;
    public bool HasFingerprint => _fingerprint >= 0;

    /// <summary>Checks that <paramref name="data"/> is exactly one well-formed STUN message. Never throws.</summary>
    public static StunParseError TryParse(ReadOnlySpan<byte> data, out TurnMessageReader message)
    {
        message = default;
        if (data.Length < StunMessage.HeaderLength) return StunParseError.TooShort;
        if ((data[0] & 0xC0) != 0) return StunParseError.NotStun;
        if (BinaryPrimitives.ReadUInt32BigEndian(data[4..]) != StunMessage.MagicCookie) return StunParseError.BadMagicCookie;
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        if ((length & 3) != 0) return StunParseError.LengthNotMultipleOf4;
        if (length + StunMessage.HeaderLength != data.Length) return StunParseError.LengthMismatch;

        int end = -1, integrity = -1, integrity256 = -1, fingerprint = -1;
        var offset = StunMessage.HeaderLength;
        while (offset < data.Length)
        {
            if (fingerprint >= 0) return StunParseError.AttributeAfterFingerprint;
            if (data.Length - offset < 4) return StunParseError.AttributeOverrun;
            var type = BinaryPrimitives.ReadUInt16BigEndian(data[offset..]);
            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(data[(offset + 2)..]);
            var padded = (valueLength + 3) & ~3;
            if (padded > data.Length - offset - 4) return StunParseError.AttributeOverrun;
            switch (type)
            {
                case StunAttributeType.Fingerprint:
                    if (valueLength != 4) return StunParseError.BadFingerprintLength;
                    fingerprint = offset;
                    break;
                // §14.5: after MESSAGE-INTEGRITY only -SHA256 and FINGERPRINT count; §14.6: after -SHA256 only FINGERPRINT.
                case StunAttributeType.MessageIntegrity when integrity < 0 && integrity256 < 0:
                    if (valueLength != StunMessage.IntegrityLength) return StunParseError.BadIntegrityLength;
                    integrity = offset;
                    break;
                case StunAttributeType.MessageIntegritySha256 when integrity256 < 0:
                    if (valueLength is < 16 or > 32 || (valueLength & 3) != 0) return StunParseError.BadIntegrityLength;
                    integrity256 = offset;
                    break;
            }
            if (end < 0 && (integrity >= 0 || integrity256 >= 0 || fingerprint >= 0)) end = offset;
            offset += 4 + padded;
        }
        message = new TurnMessageReader(data, end < 0 ? data.Length : end, integrity, integrity256, fingerprint);
        return StunParseError.None;
    }

    /// <summary>The attributes that count, in wire order.</summary>
    public AttributeEnumerator GetEnumerator() => new(Raw, _end);

    /// <summary>The first attribute of this type (RFC 8489 §14: later duplicates are ignored).</summary>
    public bool TryGet(ushort type, out StunAttribute attribute)
    {
        foreach (var a in this)
            if (a.Type == type) { attribute = a; return true; }
        attribute = default;
        return false;
    }

    public bool TryGet(ushort type, out ReadOnlySpan<byte> value)
    {
        if (TryGet(type, out StunAttribute a)) { value = Raw.Slice(a.ValueOffset, a.Length); return true; }
        value = default;
        return false;
    }

    public bool Has(ushort type) => TryGet(type, out StunAttribute _);

    public ReadOnlySpan<byte> ValueOf(StunAttribute attribute) => Raw.Slice(attribute.ValueOffset, attribute.Length);

    /// <summary>Comprehension-required attribute types this server does not know (at most dest.Length, no repeats); their count.</summary>
    public int CollectUnknown(Span<ushort> destination)
    {
        var count = 0;
        foreach (var a in this)
        {
            if (!StunAttributeType.IsComprehensionRequired(a.Type) || TurnAttributeType.IsKnown(a.Type)) continue;
            if (destination[..count].Contains(a.Type) || count == destination.Length) continue;
            destination[count++] = a.Type;
        }
        return count;
    }

    /// <summary>A 32-bit attribute (LIFETIME: seconds).</summary>
    public bool TryGetUInt32(ushort type, out uint value)
    {
        value = 0;
        if (!TryGet(type, out ReadOnlySpan<byte> v) || v.Length != 4) return false;
        value = BinaryPrimitives.ReadUInt32BigEndian(v);
        return true;
    }

    /// <summary>LIFETIME (RFC 8656 §18.4), in seconds.</summary>
    public bool TryGetLifetime(out uint seconds) => TryGetUInt32(TurnAttributeType.Lifetime, out seconds);

    /// <summary>CHANNEL-NUMBER (RFC 8656 §18.1): 16-bit number, 16 bits RFFU.</summary>
    public bool TryGetChannelNumber(out ushort channel)
    {
        channel = 0;
        if (!TryGet(TurnAttributeType.ChannelNumber, out ReadOnlySpan<byte> v) || v.Length != 4) return false;
        channel = BinaryPrimitives.ReadUInt16BigEndian(v);
        return true;
    }

    /// <summary>REQUESTED-TRANSPORT (RFC 8656 §18.7): the protocol number in the first byte.</summary>
    public bool TryGetRequestedTransport(out byte protocol)
    {
        protocol = 0;
        if (!TryGet(TurnAttributeType.RequestedTransport, out ReadOnlySpan<byte> v) || v.Length != 4) return false;
        protocol = v[0];
        return true;
    }

    /// <summary>REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.6, §18.11): the family byte.</summary>
    public bool TryGetFamily(ushort type, out byte family)
    {
        family = 0;
        if (!TryGet(type, out ReadOnlySpan<byte> v) || v.Length != 4) return false;
        family = v[0];
        return true;
    }

    /// <summary>Where the DATA value (RFC 8656 §18.5) lies in <see cref="Raw"/>.</summary>
    public bool TryGetData(out int offset, out int length)
    {
        if (TryGet(TurnAttributeType.Data, out StunAttribute a)) { offset = a.ValueOffset; length = a.Length; return true; }
        offset = length = 0;
        return false;
    }

    /// <summary>An XOR-*-ADDRESS attribute (first of its type) decoded; false if absent or malformed.</summary>
    public bool TryGetXorAddress(ushort type, out EndpointKey address, out byte family)
    {
        address = default;
        family = 0;
        return TryGet(type, out ReadOnlySpan<byte> v) && TurnAddress.TryReadXor(v, TransactionId, out address, out family);
    }

    /// <summary>ERROR-CODE (RFC 8489 §14.8).</summary>
    public bool TryGetErrorCode(out int code)
    {
        code = 0;
        if (!TryGet(StunAttributeType.ErrorCode, out ReadOnlySpan<byte> v) || v.Length < 4) return false;
        int cls = v[2] & 0x07, number = v[3];
        if (cls is < 3 or > 6 || number > 99) return false;
        code = cls * 100 + number;
        return true;
    }

    /// <summary>MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 with <paramref name="key"/>.</summary>
    public bool VerifyIntegrity(ReadOnlySpan<byte> key)
    {
        if (_integrity < 0) return false;
        Span<byte> expected = stackalloc byte[StunMessage.IntegrityLength];
        StunMessage.ComputeIntegrity(Raw[.._integrity], key, expected);
        return CryptographicOperations.FixedTimeEquals(expected, Raw.Slice(_integrity + 4, StunMessage.IntegrityLength));
    }

    /// <summary>MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): HMAC-SHA256 with <paramref name="key"/>, possibly truncated to 16–28 bytes.</summary>
    public bool VerifyIntegritySha256(ReadOnlySpan<byte> key)
    {
        if (_integrity256 < 0) return false;
        int length = BinaryPrimitives.ReadUInt16BigEndian(Raw[(_integrity256 + 2)..]);
        Span<byte> expected = stackalloc byte[32];
        TurnMessageWriter.ComputeIntegritySha256(Raw[.._integrity256], length, key, expected);
        return CryptographicOperations.FixedTimeEquals(expected[..length], Raw.Slice(_integrity256 + 4, length));
    }

    /// <summary>FINGERPRINT (RFC 8489 §14.7). It is the last attribute, so the header length already covers it: no copy.</summary>
    public bool VerifyFingerprint()
    {
        if (_fingerprint < 0) return false;
        return BinaryPrimitives.ReadUInt32BigEndian(Raw[(_fingerprint + 4)..]) == (Crc32.HashToUInt32(Raw[.._fingerprint]) ^ 0x5354554E);
    }

    /// <summary>Walks attribute headers in [20, end); the framing was checked by TryParse.</summary>
    public ref struct AttributeEnumerator
    {
        private readonly ReadOnlySpan<byte> _raw;
        private readonly int _end;
        private int _next;

        internal AttributeEnumerator(ReadOnlySpan<byte> raw, int end)
        {
            _raw = raw;
            _end = end;
            _next = StunMessage.HeaderLength;
            Current = default;
        }

        public StunAttribute Current { get; private set; }

        public bool MoveNext()
        {
            if (_next + 4 > _end) return false;
            var type = BinaryPrimitives.ReadUInt16BigEndian(_raw[_next..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(_raw[(_next + 2)..]);
            Current = new StunAttribute(type, _next + 4, length);
            _next += 4 + ((length + 3) & ~3);
            return true;
        }
    }
}
