using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Hibari.Rtc.Ice;

/// <summary>
/// Builds one STUN message. Attributes are appended in call order; <see cref="AddMessageIntegrity"/> and then
/// <see cref="AddFingerprint"/> come last (RFC 8489 §14.5, §14.7). Messages stay far below the 548-byte floor.
/// </summary>
public sealed class StunMessageWriter
{
    private byte[] _buffer = new byte[256];
    private int _length;

    public StunMessageWriter(ushort method, StunClass cls, ReadOnlySpan<byte> transactionId)
    {
        if (transactionId.Length != StunMessage.TransactionIdLength)
            throw new ArgumentException("a transaction id is 12 bytes", nameof(transactionId));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer, StunMessage.TypeOf(method, cls));
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(4), StunMessage.MagicCookie);
        transactionId.CopyTo(_buffer.AsSpan(8));
        _length = StunMessage.HeaderLength;
    }

    /// <summary>Appends an attribute, zero-padding its value to a multiple of 4 bytes.</summary>
    /// <summary>The transaction id the message was started with (the XOR mask of XOR-…-ADDRESS attributes).</summary>
    public ReadOnlySpan<byte> TransactionId => _buffer.AsSpan(8, StunMessage.TransactionIdLength);

    public StunMessageWriter Add(ushort type, ReadOnlySpan<byte> value)
    {
        var value16 = Reserve(type, value.Length);
        value.CopyTo(value16);
        return this;
    }

    public StunMessageWriter AddUsername(string username) => Add(StunAttributeType.Username, Encoding.UTF8.GetBytes(username));

    public StunMessageWriter AddPriority(uint priority)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(StunAttributeType.Priority, 4), priority);
        return this;
    }

    public StunMessageWriter AddUseCandidate() => Add(StunAttributeType.UseCandidate, []);

    public StunMessageWriter AddIceControlling(ulong tieBreaker)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Reserve(StunAttributeType.IceControlling, 8), tieBreaker);
        return this;
    }

    public StunMessageWriter AddIceControlled(ulong tieBreaker)
    {
        BinaryPrimitives.WriteUInt64BigEndian(Reserve(StunAttributeType.IceControlled, 8), tieBreaker);
        return this;
    }

    /// <summary>XOR-MAPPED-ADDRESS; an IPv4-mapped IPv6 address (from a dual-mode socket) is written as IPv4.</summary>
    public StunMessageWriter AddXorMappedAddress(IPEndPoint endPoint)
    {
        var address = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var addressLength);
        var value = Reserve(StunAttributeType.XorMappedAddress, 4 + addressLength);
        value[0] = 0;
        value[1] = addressLength == 4 ? (byte)0x01 : (byte)0x02;
        BinaryPrimitives.WriteUInt16BigEndian(value[2..], (ushort)(endPoint.Port ^ (StunMessage.MagicCookie >> 16)));
        Span<byte> mask = stackalloc byte[16];
        StunMessage.WriteXorMask(mask, _buffer.AsSpan(8, StunMessage.TransactionIdLength));
        for (var i = 0; i < addressLength; i++) value[4 + i] = (byte)(bytes[i] ^ mask[i]);
        return this;
    }

    /// <summary>ERROR-CODE with a 3-digit code (300–699) and a reason phrase.</summary>
    public StunMessageWriter AddErrorCode(int code, string reason)
    {
        if (code is < 300 or > 699) throw new ArgumentOutOfRangeException(nameof(code));
        var phrase = Encoding.UTF8.GetBytes(reason);
        var value = Reserve(StunAttributeType.ErrorCode, 4 + phrase.Length);
        value[0] = 0;
        value[1] = 0;
        value[2] = (byte)(code / 100);
        value[3] = (byte)(code % 100);
        phrase.CopyTo(value[4..]);
        return this;
    }

    /// <summary>UNKNOWN-ATTRIBUTES (RFC 8489 §14.9), for a 420 response.</summary>
    public StunMessageWriter AddUnknownAttributes(IReadOnlyList<ushort> types)
    {
        var value = Reserve(StunAttributeType.UnknownAttributes, 2 * types.Count);
        for (var i = 0; i < types.Count; i++) BinaryPrimitives.WriteUInt16BigEndian(value[(2 * i)..], types[i]);
        return this;
    }

    /// <summary>MESSAGE-INTEGRITY: HMAC-SHA1 keyed with <paramref name="key"/> over everything written so far.</summary>
    public StunMessageWriter AddMessageIntegrity(ReadOnlySpan<byte> key)
    {
        var prefix = _length;
        var value = Reserve(StunAttributeType.MessageIntegrity, StunMessage.IntegrityLength);
        StunMessage.ComputeIntegrity(_buffer.AsSpan(0, prefix), key, value);
        return this;
    }

    public StunMessageWriter AddFingerprint()
    {
        var prefix = _length;
        var value = Reserve(StunAttributeType.Fingerprint, 4);
        BinaryPrimitives.WriteUInt32BigEndian(value, StunMessage.ComputeFingerprint(_buffer.AsSpan(0, prefix)));
        return this;
    }

    public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

    /// <summary>Writes an attribute header, grows the buffer, updates the header length, returns the value span.</summary>
    private Span<byte> Reserve(ushort type, int valueLength)
    {
        if (valueLength > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(valueLength));
        var padded = (valueLength + 3) & ~3;
        var needed = _length + 4 + padded;
        if (needed - StunMessage.HeaderLength > ushort.MaxValue) throw new InvalidOperationException("STUN message too long");
        if (needed > _buffer.Length) Array.Resize(ref _buffer, Math.Max(needed, 2 * _buffer.Length));
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length), type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_length + 2), (ushort)valueLength);
        _buffer.AsSpan(_length + 4 + valueLength, padded - valueLength).Clear();
        var value = _buffer.AsSpan(_length + 4, valueLength);
        _length = needed;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(2), (ushort)(_length - StunMessage.HeaderLength));
        return value;
    }

    /// <summary>Binding success response (RFC 8445 §7.3.1.4): XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT.</summary>
    public static byte[] BindingSuccess(ReadOnlySpan<byte> transactionId, IPEndPoint mapped, ReadOnlySpan<byte> integrityKey) =>
        new StunMessageWriter(StunMessage.BindingMethod, StunClass.SuccessResponse, transactionId)
            .AddXorMappedAddress(mapped).AddMessageIntegrity(integrityKey).AddFingerprint().ToArray();

    /// <summary>
    /// Binding error response with ERROR-CODE and FINGERPRINT; MESSAGE-INTEGRITY only when a key is given (RFC 8489
    /// §9.1.3: 400 and 401 responses carry none, since the request's credentials were not accepted).
    /// </summary>
    public static byte[] BindingError(ReadOnlySpan<byte> transactionId, int code, string reason, ReadOnlySpan<byte> integrityKey = default,
        IReadOnlyList<ushort>? unknownAttributes = null)
    {
        var writer = new StunMessageWriter(StunMessage.BindingMethod, StunClass.ErrorResponse, transactionId).AddErrorCode(code, reason);
        if (unknownAttributes is { Count: > 0 }) writer.AddUnknownAttributes(unknownAttributes);
        if (!integrityKey.IsEmpty) writer.AddMessageIntegrity(integrityKey);
        return writer.AddFingerprint().ToArray();
    }
}
