using System.Buffers.Binary;
using System.Text;

namespace Hibari.Cluster.State;

/// <summary>
/// Bounds-checked reader for the cluster's binary records (state commands, snapshots, node-link RPCs).
/// Every read returns false instead of throwing, so corrupt input is rejected as a value.
/// </summary>
internal ref struct WireReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    /// <summary>Strings longer than this are corrupt by definition (names, URLs, ids are short).</summary>
    public const int MaxStringBytes = 64 * 1024;

    public readonly bool AtEnd => _pos == _data.Length;
    public readonly int Remaining => _data.Length - _pos;

    public bool Byte(out byte value)
    {
        if (_pos >= _data.Length) { value = 0; return false; }
        value = _data[_pos++];
        return true;
    }

    public bool Bool(out bool value)
    {
        value = false;
        if (!Byte(out var b) || b > 1) return false;
        value = b == 1;
        return true;
    }

    public bool Int32(out int value)
    {
        if (Remaining < 4) { value = 0; return false; }
        value = BinaryPrimitives.ReadInt32BigEndian(_data[_pos..]);
        _pos += 4;
        return true;
    }

    public bool Int64(out long value)
    {
        if (Remaining < 8) { value = 0; return false; }
        value = BinaryPrimitives.ReadInt64BigEndian(_data[_pos..]);
        _pos += 8;
        return true;
    }

    public bool String(out string value)
    {
        value = "";
        if (!Int32(out var len) || len < 0 || len > MaxStringBytes || len > Remaining) return false;
        try
        {
            value = new UTF8Encoding(false, true).GetString(_data.Slice(_pos, len));
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
        _pos += len;
        return true;
    }

    public bool NullableString(out string? value)
    {
        value = null;
        if (!Bool(out var present)) return false;
        if (!present) return true;
        if (!String(out var s)) return false;
        value = s;
        return true;
    }

    public bool Bytes(out byte[] value)
    {
        value = [];
        if (!Int32(out var len) || len < 0 || len > Remaining) return false;
        value = _data.Slice(_pos, len).ToArray();
        _pos += len;
        return true;
    }

    /// <summary>A count of following items, each needing at least <paramref name="minItemBytes"/> bytes.</summary>
    public bool Count(out int count, int minItemBytes = 1)
    {
        if (!Int32(out count) || count < 0 || (long)count * Math.Max(1, minItemBytes) > Remaining) { count = 0; return false; }
        return true;
    }
}

/// <summary>Writer counterpart of <see cref="WireReader"/>.</summary>
internal sealed class WireWriter
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(256);

    public WireWriter Byte(byte v) { _buffer.GetSpan(1)[0] = v; _buffer.Advance(1); return this; }
    public WireWriter Bool(bool v) => Byte(v ? (byte)1 : (byte)0);
    public WireWriter Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), v); _buffer.Advance(4); return this; }
    public WireWriter Int64(long v) { BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), v); _buffer.Advance(8); return this; }

    public WireWriter String(string v)
    {
        var n = Encoding.UTF8.GetByteCount(v);
        Int32(n);
        Encoding.UTF8.GetBytes(v, _buffer.GetSpan(n));
        _buffer.Advance(n);
        return this;
    }

    public WireWriter NullableString(string? v) => v is null ? Bool(false) : Bool(true).String(v);

    public WireWriter Bytes(ReadOnlySpan<byte> v)
    {
        Int32(v.Length);
        v.CopyTo(_buffer.GetSpan(v.Length));
        _buffer.Advance(v.Length);
        return this;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
