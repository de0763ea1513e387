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

    /// <summary>
    /// Rewrites element ids in place: <c>map[inId]</c> is the outgoing id, 0 (or an id outside the map, or one the form
    /// cannot carry) blanks the element into padding bytes, which keeps the packet valid for any receiver.
    /// False, with the packet untouched, when the extension is malformed or of an unknown profile.
    /// </summary>
    public static bool RemapExtensionIds(Span<byte> packet, in RtpHeader header, ReadOnlySpan<byte> map)
    {
        if (!header.HasExtension) return true;
        if (header.ExtensionOffset + header.ExtensionLength > packet.Length) return false;
        var oneByte = header.IsOneByteExtension;
        if (!oneByte && !header.IsTwoByteExtension) return false;
        var elements = packet.Slice(header.ExtensionOffset, header.ExtensionLength);

        // Validate first so a malformed list is never half rewritten.
        var check = new ElementReader(elements, oneByte, !oneByte);
        while (check.Next(out _, out _, out _)) { }
        if (check.Malformed) return false;

        var reader = new ElementReader(elements, oneByte, !oneByte);
        while (reader.Next(out var id, out var offset, out var length))
        {
            var headerSize = oneByte ? 1 : 2;
            var start = offset - headerSize;
            var outId = id < map.Length ? map[id] : 0;
            if (outId == 0 || (oneByte && outId > MaxOneByteId))
            {
                elements.Slice(start, headerSize + length).Clear();
                continue;
            }
            if (oneByte) elements[start] = (byte)((outId << 4) | (elements[start] & 0x0F));
            else elements[start] = (byte)outId;
        }
        return true;
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
