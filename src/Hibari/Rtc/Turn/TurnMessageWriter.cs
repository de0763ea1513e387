using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>
/// Writes one STUN/TURN message into a caller's buffer, without allocating. Attributes go in call order;
/// MESSAGE-INTEGRITY(-SHA256) and then FINGERPRINT come last. A message that does not fit sets <see cref="Overflow"/>
/// (and <see cref="Length"/> is 0) instead of throwing.
/// </summary>
public ref struct TurnMessageWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public TurnMessageWriter(Span<byte> buffer, ushort method, StunClass cls, ReadOnlySpan<byte> transactionId)
    {
        _buffer = buffer;
        if (buffer.Length < StunMessage.HeaderLength || transactionId.Length != StunMessage.TransactionIdLength)
        {
            Overflow = true;
            return;
        }
        BinaryPrimitives.WriteUInt16BigEndian(buffer, StunMessage.TypeOf(method, cls));
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], StunMessage.MagicCookie);
        transactionId.CopyTo(buffer[8..]);
        _length = StunMessage.HeaderLength;
    }

    /// <summary>True once something did not fit (or the transaction id was not 12 bytes); the message is then unusable.</summary>
    public bool Overflow { get; private set; }
    /// <summary>Bytes written, 0 after an overflow.</summary>
    public readonly int Length => Overflow ? 0 : _length;
    public readonly ReadOnlySpan<byte> TransactionId => Overflow ? default : _buffer.Slice(8, StunMessage.TransactionIdLength);

    /// <summary>Appends an attribute header and returns its value span (zero-padded after it); false on overflow.</summary>
    public bool TryReserve(ushort type, int valueLength, out Span<byte> value)
    {
        value = default;
        if (Overflow) return false;
        var padded = (valueLength + 3) & ~3;
        var needed = _length + 4 + padded;
        if (valueLength is < 0 or > ushort.MaxValue || needed > _buffer.Length || needed - StunMessage.HeaderLength > ushort.MaxValue)
        {
            Overflow = true;
            return false;
        }
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 2)..], (ushort)valueLength);
        _buffer.Slice(_length + 4 + valueLength, padded - valueLength).Clear();
        value = _buffer.Slice(_length + 4, valueLength);
        _length = needed;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)(_length - StunMessage.HeaderLength));
        return true;
    }

    public void Add(ushort type, ReadOnlySpan<byte> value)
    {
        if (TryReserve(type, value.Length, out var v)) value.CopyTo(v);
    }

    public void AddUInt32(ushort type, uint value)
    {
        if (TryReserve(type, 4, out var v)) BinaryPrimitives.WriteUInt32BigEndian(v, value);
    }

    /// <summary>A UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE).</summary>
    public void AddText(ushort type, string text)
    {
        if (TryReserve(type, Encoding.UTF8.GetByteCount(text), out var v)) Encoding.UTF8.GetBytes(text, v);
    }

    /// <summary>XOR-MAPPED-, XOR-PEER- or XOR-RELAYED-ADDRESS.</summary>
    public void AddXorAddress(ushort type, EndpointKey address)
    {
        if (TryReserve(type, TurnAddress.ValueLength(address), out var v)) TurnAddress.WriteXor(v, address, _buffer.Slice(8, StunMessage.TransactionIdLength));
    }

    /// <summary>LIFETIME in seconds.</summary>
    public void AddLifetime(uint seconds) => AddUInt32(TurnAttributeType.Lifetime, seconds);

    public void AddChannelNumber(ushort channel) => AddUInt32(TurnAttributeType.ChannelNumber, (uint)channel << 16);

    public void AddRequestedTransport(byte protocol) => AddUInt32(TurnAttributeType.RequestedTransport, (uint)protocol << 24);

    /// <summary>REQUESTED-/ADDITIONAL-ADDRESS-FAMILY: the family byte then 3 bytes RFFU.</summary>
    public void AddFamily(ushort type, byte family) => AddUInt32(type, (uint)family << 24);

    /// <summary>ERROR-CODE (RFC 8489 §14.8) with the standard reason phrase.</summary>
    public void AddErrorCode(int code) => AddErrorCode(StunAttributeType.ErrorCode, 0, code);

    /// <summary>ERROR-CODE, or ADDRESS-ERROR-CODE (RFC 8656 §18.13) when <paramref name="family"/> is non-zero.</summary>
    public void AddErrorCode(ushort type, byte family, int code)
    {
        var reason = TurnError.Reason(code);
        if (!TryReserve(type, 4 + Encoding.ASCII.GetByteCount(reason), out var v)) return;
        v[0] = family;
        v[1] = 0;
        v[2] = (byte)(code / 100 & 0x07);
        v[3] = (byte)(code % 100);
        Encoding.ASCII.GetBytes(reason, v[4..]);
    }

    /// <summary>UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).</summary>
    public void AddUnknownAttributes(ReadOnlySpan<ushort> types)
    {
        if (!TryReserve(StunAttributeType.UnknownAttributes, 2 * types.Length, out var v)) return;
        for (var i = 0; i < types.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(v[(2 * i)..], types[i]);
    }

    /// <summary>MESSAGE-INTEGRITY: HMAC-SHA1 keyed with <paramref name="key"/> over everything written so far.</summary>
    public void AddMessageIntegrity(ReadOnlySpan<byte> key)
    {
        var prefix = _length;
        if (TryReserve(StunAttributeType.MessageIntegrity, StunMessage.IntegrityLength, out var v))
            HMACSHA1.HashData(key, _buffer[..prefix], v);
    }

    /// <summary>MESSAGE-INTEGRITY-SHA256 (32 bytes, untruncated): HMAC-SHA256 over everything written so far.</summary>
    public void AddMessageIntegritySha256(ReadOnlySpan<byte> key)
    {
        var prefix = _length;
        if (TryReserve(StunAttributeType.MessageIntegritySha256, 32, out var v))
            HMACSHA256.HashData(key, _buffer[..prefix], v);
    }

    public void AddFingerprint()
    {
        var prefix = _length;
        if (TryReserve(StunAttributeType.Fingerprint, 4, out var v))
            BinaryPrimitives.WriteUInt32BigEndian(v, Crc32.HashToUInt32(_buffer[..prefix]) ^ 0x5354554E);
    }

    /// <summary>HMAC-SHA256 over <paramref name="prefix"/> with the header length covering a <paramref name="valueLength"/>-byte -SHA256 attribute.</summary>
    internal static void ComputeIntegritySha256(ReadOnlySpan<byte> prefix, int valueLength, ReadOnlySpan<byte> key, Span<byte> destination32)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        Span<byte> header = stackalloc byte[StunMessage.HeaderLength];
        prefix[..StunMessage.HeaderLength].CopyTo(header);
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(prefix.Length - StunMessage.HeaderLength + 4 + valueLength));
        hmac.AppendData(header);
        hmac.AppendData(prefix[StunMessage.HeaderLength..]);
        hmac.GetHashAndReset(destination32);
    }
}
