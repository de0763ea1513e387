using System.Buffers.Binary;
using System.Text;

namespace Hibari.Rtc.Rtp;

/// <summary>
/// Builds an RTP packet into a caller buffer (synthetic publishers, load tool, tests): fixed header, then header
/// extension elements in call order, then <see cref="TryFinish"/> with the payload. Any call that does not fit or
/// is invalid makes the writer fail, reported by <see cref="TryFinish"/> — no exceptions, no allocation.
/// </summary>
public ref struct RtpPacketWriter
{
    private const int ExtensionStart = RtpHeader.FixedLength + 4;
    private readonly Span<byte> _buffer;
    private readonly bool _twoByte;
    private int _extensionEnd;
    private bool _failed;

    /// <param name="twoByteExtensions">Use the RFC 8285 two-byte form (profile 0x1000) instead of 0xBEDE.</param>
    public RtpPacketWriter(Span<byte> buffer, byte payloadType, ushort sequenceNumber, uint timestamp, uint ssrc,
        bool marker = false, bool twoByteExtensions = false)
    {
        _buffer = buffer;
        _twoByte = twoByteExtensions;
        _extensionEnd = ExtensionStart;
        _failed = buffer.Length < RtpHeader.FixedLength || payloadType > 127;
        if (_failed) return;
        buffer[0] = 0x80;
        buffer[1] = (byte)((marker ? 0x80 : 0) | payloadType);
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], sequenceNumber);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[4..], timestamp);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[8..], ssrc);
    }

    /// <summary>Adds one element (one-byte form: id 1–14, 1–16 bytes; two-byte form: id 1–255, 0–255 bytes).</summary>
    public bool AddExtension(int id, scoped ReadOnlySpan<byte> value)
    {
        if (_failed) return false;
        var valid = _twoByte
            ? id is >= 1 and <= 255 && value.Length <= 255
            : id is >= 1 and <= RtpHeaderExtensions.MaxOneByteId && value.Length is >= 1 and <= RtpHeaderExtensions.MaxOneByteLength;
        var size = (_twoByte ? 2 : 1) + value.Length;
        if (!valid || _extensionEnd + size > _buffer.Length) return Fail();
        if (_twoByte)
        {
            _buffer[_extensionEnd] = (byte)id;
            _buffer[_extensionEnd + 1] = (byte)value.Length;
        }
        else _buffer[_extensionEnd] = (byte)((id << 4) | (value.Length - 1));
        value.CopyTo(_buffer[(_extensionEnd + size - value.Length)..]);
        _extensionEnd += size;
        return true;
    }

    /// <summary>An ASCII string element: sdes:mid, rtp-stream-id, repaired-rtp-stream-id (RFC 8843, RFC 8852).</summary>
    public bool AddString(int id, string value)
    {
        if (value.Length is 0 or > 255) return Fail();
        Span<byte> bytes = stackalloc byte[value.Length];
        if (Encoding.ASCII.GetBytes(value, bytes) != value.Length) return Fail();
        return AddExtension(id, bytes);
    }

    /// <summary>abs-send-time: 24-bit 6.18 fixed-point seconds.</summary>
    public bool AddAbsSendTime(int id, uint value24)
    {
        Span<byte> bytes = stackalloc byte[3];
        bytes[0] = (byte)(value24 >> 16);
        bytes[1] = (byte)(value24 >> 8);
        bytes[2] = (byte)value24;
        return AddExtension(id, bytes);
    }

    /// <summary>transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2).</summary>
    public bool AddTransportSequenceNumber(int id, ushort sequenceNumber)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, sequenceNumber);
        return AddExtension(id, bytes);
    }

    /// <summary>Writes the extension header (if any element), the payload and optional padding; the packet length.</summary>
    public bool TryFinish(scoped ReadOnlySpan<byte> payload, out int length, int paddingLength = 0)
    {
        length = 0;
        if (_failed || paddingLength is < 0 or > 255) return false;
        var offset = RtpHeader.FixedLength;
        if (_extensionEnd > ExtensionStart)
        {
            var elements = _extensionEnd - ExtensionStart;
            var padded = (elements + 3) & ~3;
            if (ExtensionStart + padded > _buffer.Length) return false;
            _buffer.Slice(_extensionEnd, padded - elements).Clear();
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[offset..], _twoByte ? RtpHeader.TwoByteProfile : RtpHeader.OneByteProfile);
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[(offset + 2)..], (ushort)(padded / 4));
            _buffer[0] |= 0x10;
            offset = ExtensionStart + padded;
        }
        if (offset + payload.Length + paddingLength > _buffer.Length) return false;
        payload.CopyTo(_buffer[offset..]);
        offset += payload.Length;
        if (paddingLength > 0)
        {
            _buffer.Slice(offset, paddingLength - 1).Clear();
            _buffer[offset + paddingLength - 1] = (byte)paddingLength;
            _buffer[0] |= 0x20;
            offset += paddingLength;
        }
        length = offset;
        return true;
    }

    private bool Fail()
    {
        _failed = true;
        return false;
    }
}
