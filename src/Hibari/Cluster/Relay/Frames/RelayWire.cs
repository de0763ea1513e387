using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Hibari.Signaling.Messages;

namespace Hibari.Cluster.Relay;

/// <summary>
/// Writer of relay frames. <see cref="RelayFrames.Encode"/> runs each body twice: once measuring (no buffer: every
/// value is validated and its size counted), then into an array of exactly that size.
/// </summary>
internal ref struct RelayWriter
{
    private static readonly UTF8Encoding Strict = new(false, true);
    private readonly Span<byte> _buffer;
    private readonly bool _measuring;

    public int Position { get; private set; }

    private RelayWriter(Span<byte> buffer, bool measuring)
    {
        _buffer = buffer;
        _measuring = measuring;
    }

    public static RelayWriter Measure() => new([], measuring: true);
    public static RelayWriter Into(Span<byte> buffer) => new(buffer, measuring: false);

    public void Byte(byte v)
    {
        if (!_measuring) _buffer[Position] = v;
        Position += 1;
    }

    public void Bool(bool v) => Byte(v ? (byte)1 : (byte)0);

    public void UInt16(ushort v)
    {
        if (!_measuring) BinaryPrimitives.WriteUInt16BigEndian(_buffer[Position..], v);
        Position += 2;
    }

    public void UInt32(uint v)
    {
        if (!_measuring) BinaryPrimitives.WriteUInt32BigEndian(_buffer[Position..], v);
        Position += 4;
    }

    public void Int32(int v) => UInt32((uint)v);

    public void UInt64(ulong v)
    {
        if (!_measuring) BinaryPrimitives.WriteUInt64BigEndian(_buffer[Position..], v);
        Position += 8;
    }

    public void Int64(long v) => UInt64((ulong)v);

    public void Raw(scoped ReadOnlySpan<byte> v)
    {
        if (!_measuring) v.CopyTo(_buffer[Position..]);
        Position += v.Length;
    }

    /// <summary>A Sora id as 16 raw bytes.</summary>
    public void Id(string? id, string field)
    {
        Span<byte> raw = stackalloc byte[16];
        if (!SoraId.TryDecode(id, raw)) throw new ArgumentException($"{field} is not a Sora id", field);
        Raw(raw);
    }

    /// <summary>A string with a one-byte length (<paramref name="min"/>..<paramref name="max"/> ≤ 255 UTF-8 bytes).</summary>
    public void String8(string? s, string field, int min = 0, int max = 255) => Utf8(s, field, min, max, lengthBytes: 1);

    /// <summary>A string with a two-byte length.</summary>
    public void String16(string? s, string field, int max) => Utf8(s, field, 0, max, lengthBytes: 2);

    private void Utf8(string? s, string field, int min, int max, int lengthBytes)
    {
        if (s is null) throw new ArgumentException($"{field} is null", field);
        int n;
        try
        {
            n = Strict.GetByteCount(s);
        }
        catch (EncoderFallbackException)
        {
            throw new ArgumentException($"{field} is not valid UTF-16", field);
        }
        if (n < min || n > max) throw new ArgumentException($"{field} must be {min}..{max} UTF-8 bytes (is {n})", field);
        if (lengthBytes == 1) Byte((byte)n); else UInt16((ushort)n);
        if (!_measuring) Strict.GetBytes(s, _buffer.Slice(Position, n));
        Position += n;
    }

    /// <summary>Bytes with a four-byte length (at most <paramref name="max"/>).</summary>
    public void Bytes32(scoped ReadOnlySpan<byte> v, string field, int max)
    {
        if (v.Length > max) throw new ArgumentException($"{field} must be at most {max} bytes (is {v.Length})", field);
        UInt32((uint)v.Length);
        Raw(v);
    }
}

/// <summary>
/// Bounds-checked reader of relay frames: every read returns false with <see cref="Error"/> set instead of throwing,
/// and nothing is allocated before its length has been checked against the bytes that are really there.
/// </summary>
internal ref struct RelayReader(ReadOnlySpan<byte> data, int start)
{
    private static readonly UTF8Encoding Strict = new(false, true);
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos = start;

    public string? Error { get; private set; }
    public readonly bool AtEnd => _pos == _data.Length;
    public readonly int Remaining => _data.Length - _pos;

    public bool Fail(string error)
    {
        Error ??= error;
        return false;
    }

    public bool Byte(out byte value)
    {
        if (_pos >= _data.Length) { value = 0; return Fail(RelayFrameErrors.Truncated); }
        value = _data[_pos++];
        return true;
    }

    /// <summary>A byte no larger than <paramref name="max"/> (enums, payload types).</summary>
    public bool Byte(out byte value, byte max) => Byte(out value) && (value <= max || Fail(RelayFrameErrors.InvalidValue));

    public bool Bool(out bool value)
    {
        value = false;
        if (!Byte(out var b)) return false;
        if (b > 1) return Fail(RelayFrameErrors.InvalidValue);
        value = b == 1;
        return true;
    }

    public bool UInt16(out ushort value)
    {
        if (Remaining < 2) { value = 0; return Fail(RelayFrameErrors.Truncated); }
        value = BinaryPrimitives.ReadUInt16BigEndian(_data[_pos..]);
        _pos += 2;
        return true;
    }

    public bool UInt32(out uint value)
    {
        if (Remaining < 4) { value = 0; return Fail(RelayFrameErrors.Truncated); }
        value = BinaryPrimitives.ReadUInt32BigEndian(_data[_pos..]);
        _pos += 4;
        return true;
    }

    public bool UInt64(out ulong value)
    {
        if (Remaining < 8) { value = 0; return Fail(RelayFrameErrors.Truncated); }
        value = BinaryPrimitives.ReadUInt64BigEndian(_data[_pos..]);
        _pos += 8;
        return true;
    }

    public bool Int64(out long value)
    {
        var ok = UInt64(out var v);
        value = (long)v;
        return ok;
    }

    /// <summary><paramref name="n"/> raw bytes: a span into the frame (not copied).</summary>
    public bool Raw(int n, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (n > Remaining) return Fail(RelayFrameErrors.Truncated);
        value = _data.Slice(_pos, n);
        _pos += n;
        return true;
    }

    /// <summary>A Sora id from 16 raw bytes (any 16 bytes are one).</summary>
    public bool Id(out string id)
    {
        id = "";
        if (Remaining < 16) return Fail(RelayFrameErrors.Truncated);
        id = SoraId.Encode(_data.Slice(_pos, 16));
        _pos += 16;
        return true;
    }

    public bool String8(out string value, int min = 0, int max = 255)
    {
        value = "";
        return Byte(out var n) && Utf8(n, min, max, out value);
    }

    public bool String16(out string value, int max)
    {
        value = "";
        return UInt16(out var n) && Utf8(n, 0, max, out value);
    }

    private bool Utf8(int n, int min, int max, out string value)
    {
        value = "";
        if (n < min || n > max) return Fail(RelayFrameErrors.OutOfBounds);
        if (n > Remaining) return Fail(RelayFrameErrors.Truncated);
        var bytes = _data.Slice(_pos, n);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) return Fail(RelayFrameErrors.InvalidUtf8);
        value = Strict.GetString(bytes);
        _pos += n;
        return true;
    }

    /// <summary>Bytes with a four-byte length, at most <paramref name="max"/>: a span into the frame (not copied).</summary>
    public bool Bytes32(out ReadOnlySpan<byte> value, int max)
    {
        value = default;
        if (!UInt32(out var n)) return false;
        if (n > (uint)max) return Fail(RelayFrameErrors.OutOfBounds);
        if (n > (uint)Remaining) return Fail(RelayFrameErrors.Truncated);
        value = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return true;
    }
}

/// <summary>The check of a connection's metadata: one complete JSON value in valid UTF-8 (no allocation).</summary>
internal static class RelayJson
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Disallow };

    public static bool IsValid(ReadOnlySpan<byte> json)
    {
        if (json.IsEmpty || !Utf8.IsValid(json)) return false;
        try
        {
            var reader = new Utf8JsonReader(json, isFinalBlock: true, state: new JsonReaderState(Options));
            while (reader.Read()) { }
            return reader.BytesConsumed == json.Length && reader.TokenType != JsonTokenType.None;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
