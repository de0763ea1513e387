namespace Hibari.Rtc.Rtp;

/// <summary>
/// Header extension elements of RFC 8285 in both forms: one-byte (profile 0xBEDE, ids 1–14, 1–16 bytes) and two-byte
/// (profile 0x100x, ids 1–255, 0–255 bytes). A 0 byte between elements is padding in both forms; id 15 in the
/// one-byte form ends the list (§4.2).
/// </summary>
public static class RtpHeaderExtensions
{
    public const int MaxOneByteId = 14;
    public const int MaxOneByteLength = 16;

    /// <summary>Finds the first element with <paramref name="id"/>. False when absent or when the list is malformed.</summary>
    public static bool TryFind(ReadOnlySpan<byte> packet, in RtpHeader header, int id, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (id <= 0 || !header.HasExtension || header.ExtensionOffset + header.ExtensionLength > packet.Length) return false;
        var elements = packet.Slice(header.ExtensionOffset, header.ExtensionLength);
        var reader = new ElementReader(elements, header.IsOneByteExtension, header.IsTwoByteExtension);
        while (reader.Next(out var elementId, out var offset, out var length))
        {
            if (elementId != id) continue;
            value = elements.Slice(offset, length);
            return true;
        }
        return false;
    }

    /// <summary>Overwrites the value of the 2-byte element <paramref name="id"/> in place; false when there is none.</summary>
    public static bool TrySetUInt16(Span<byte> packet, in RtpHeader header, int id, ushort value)
    {
        if (id <= 0 || !header.HasExtension || header.ExtensionOffset + header.ExtensionLength > packet.Length) return false;
        var elements = packet.Slice(header.ExtensionOffset, header.ExtensionLength);
        var reader = new ElementReader(elements, header.IsOneByteExtension, header.IsTwoByteExtension);
        while (reader.Next(out var elementId, out var offset, out var length))
        {
            if (elementId != id || length != 2) continue;
            elements[offset] = (byte)(value >> 8);
            elements[offset + 1] = (byte)value;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Copies a packet for forwarding into <paramref name="destination"/> with its extension block rebuilt: each element
    /// under its outgoing id <c>map[id]</c> (0 drops it), then, when <paramref name="addId"/> is not 0, a 2-byte element
    /// carrying <paramref name="addValue"/> (the transport-wide sequence number, issue 12), padded to 32 bits, in the
    /// packet's form (one-byte unless it came two-byte). A malformed list is dropped, never copied. Returns the new
    /// length and the new header length (0 when the destination is too small).
    /// </summary>
    public static int CopyForwarded(ReadOnlySpan<byte> packet, in RtpHeader header, ReadOnlySpan<byte> map, int addId, ushort addValue,
        Span<byte> destination, out int headerLength)
    {
        headerLength = 0;
        var fixedLength = RtpHeader.FixedLength + 4 * header.CsrcCount;
        var body = packet[header.HeaderLength..];
        var oneByte = !header.IsTwoByteExtension;
        // The block can only shrink (dropped elements) or grow by the added element and alignment.
        var maxBlock = 4 + header.ExtensionLength + (addId != 0 ? 4 + 4 : 0);
        if (fixedLength + maxBlock + body.Length > destination.Length) return 0;
        packet[..fixedLength].CopyTo(destination);
        var elements = destination[(fixedLength + 4)..];
        var n = 0;
        if (header.HasExtension && header.ExtensionOffset + header.ExtensionLength <= packet.Length && (header.IsOneByteExtension || header.IsTwoByteExtension))
        {
            var source = packet.Slice(header.ExtensionOffset, header.ExtensionLength);
            var check = new ElementReader(source, oneByte, !oneByte);
            while (check.Next(out _, out _, out _)) { }
            if (!check.Malformed)
            {
                var reader = new ElementReader(source, oneByte, !oneByte);
                while (reader.Next(out var id, out var offset, out var length))
                {
                    var outId = id < map.Length ? map[id] : 0;
                    if (outId == 0 || (oneByte && outId > MaxOneByteId)) continue;
                    if (oneByte) elements[n++] = (byte)((outId << 4) | (length - 1));
                    else { elements[n++] = (byte)outId; elements[n++] = (byte)length; }
                    source.Slice(offset, length).CopyTo(elements[n..]);
                    n += length;
                }
            }
        }
        if (addId != 0)
        {
            if (oneByte) elements[n++] = (byte)((addId << 4) | 1);
            else { elements[n++] = (byte)addId; elements[n++] = 2; }
            elements[n++] = (byte)(addValue >> 8);
            elements[n++] = (byte)addValue;
        }
        if (n == 0)
        {
            // No element left: no extension at all.
            destination[0] &= 0xEF;
            headerLength = fixedLength;
        }
        else
        {
            while ((n & 3) != 0) elements[n++] = 0;
            var block = destination[fixedLength..];
            var profile = oneByte ? RtpHeader.OneByteProfile : header.ExtensionProfile;
            block[0] = (byte)(profile >> 8);
            block[1] = (byte)profile;
            block[2] = (byte)((n / 4) >> 8);
            block[3] = (byte)(n / 4);
            destination[0] |= 0x10;
            headerLength = fixedLength + 4 + n;
        }
        body.CopyTo(destination[headerLength..]);
        return headerLength + body.Length;
    }

    /// <summary>Walks the elements of one extension block; stops at the end, at id 15 (one-byte) or when malformed.</summary>
    private ref struct ElementReader
    {
        private readonly ReadOnlySpan<byte> _elements;
        private readonly bool _oneByte;
        private readonly bool _known;
        private int _position;

        public ElementReader(ReadOnlySpan<byte> elements, bool oneByte, bool twoByte)
        {
            _elements = elements;
            _oneByte = oneByte;
            _known = oneByte || twoByte;
            _position = 0;
            Malformed = false;
        }

        public bool Malformed { get; private set; }

        /// <summary>Next element: its id and the offset/length of its value within the element block.</summary>
        public bool Next(out int id, out int offset, out int length)
        {
            id = offset = length = 0;
            if (!_known) return false;
            while (_position < _elements.Length)
            {
                var b = _elements[_position];
                // Padding: a 0 byte in the two-byte form; id 0 in the one-byte form, whose length nibble is ignored
                // (RFC 8285 §4.2; libwebrtc skips it the same way).
                if (_oneByte ? b >> 4 == 0 : b == 0) { _position++; continue; }
                if (_oneByte)
                {
                    id = b >> 4;
                    if (id == 15) { _position = _elements.Length; return false; }
                    length = (b & 0x0F) + 1;
                    offset = _position + 1;
                }
                else
                {
                    if (_position + 2 > _elements.Length) { Malformed = true; _position = _elements.Length; return false; }
                    id = b;
                    length = _elements[_position + 1];
                    offset = _position + 2;
                }
                if (length > _elements.Length - offset) { Malformed = true; _position = _elements.Length; return false; }
                _position = offset + length;
                return true;
            }
            return false;
        }
    }
}
