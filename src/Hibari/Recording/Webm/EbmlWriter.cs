using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Hibari.Recording.Webm;

/// <summary>The EBML and Matroska element IDs the WebM writer uses (RFC 8794, RFC 9559), with their marker bits.</summary>
internal static class EbmlId
{
    public const uint Ebml = 0x1A45DFA3;
    public const uint EbmlVersion = 0x4286;
    public const uint EbmlReadVersion = 0x42F7;
    public const uint EbmlMaxIdLength = 0x42F2;
    public const uint EbmlMaxSizeLength = 0x42F3;
    public const uint DocType = 0x4282;
    public const uint DocTypeVersion = 0x4287;
    public const uint DocTypeReadVersion = 0x4285;
    public const uint Void = 0xEC;

    public const uint Segment = 0x18538067;
    public const uint SeekHead = 0x114D9B74;
    public const uint Seek = 0x4DBB;
    public const uint SeekId = 0x53AB;
    public const uint SeekPosition = 0x53AC;

    public const uint Info = 0x1549A966;
    public const uint TimestampScale = 0x2AD7B1;
    public const uint MuxingApp = 0x4D80;
    public const uint WritingApp = 0x5741;
    public const uint SegmentUid = 0x73A4;
    public const uint Duration = 0x4489;

    public const uint Tracks = 0x1654AE6B;
    public const uint TrackEntry = 0xAE;
    public const uint TrackNumber = 0xD7;
    public const uint TrackUid = 0x73C5;
    public const uint TrackType = 0x83;
    public const uint FlagLacing = 0x9C;
    public const uint Language = 0x22B59C;
    public const uint CodecId = 0x86;
    public const uint CodecPrivate = 0x63A2;
    public const uint SeekPreRoll = 0x56BB;
    public const uint Video = 0xE0;
    public const uint PixelWidth = 0xB0;
    public const uint PixelHeight = 0xBA;
    public const uint DisplayWidth = 0x54B0;
    public const uint DisplayHeight = 0x54BA;
    public const uint Audio = 0xE1;
    public const uint SamplingFrequency = 0xB5;
    public const uint Channels = 0x9F;

    public const uint Cluster = 0x1F43B675;
    public const uint Timestamp = 0xE7;
    public const uint SimpleBlock = 0xA3;

    public const uint Cues = 0x1C53BB6B;
    public const uint CuePoint = 0xBB;
    public const uint CueTime = 0xB3;
    public const uint CueTrackPositions = 0xB7;
    public const uint CueTrack = 0xF7;
    public const uint CueClusterPosition = 0xF1;
    public const uint CueBlockNumber = 0x5378;
}

/// <summary>
/// A growable byte buffer EBML elements are written into (RFC 8794): IDs, variable-length sizes of 1 to 8 bytes,
/// unsigned and signed integers, 8-byte floats, strings, binary, master elements whose size is patched when they end,
/// and areas reserved to be patched later. The buffer is rented from <see cref="ArrayPool{T}"/> and reused after
/// <see cref="Clear"/>, so writing into it allocates only when it has to grow.
/// </summary>
internal sealed class EbmlWriter : IDisposable
{
    /// <summary>A started master element: where its size field is and how wide it is.</summary>
    public readonly record struct MasterToken(int SizeOffset, int SizeWidth);

    /// <summary>The 8-byte "unknown size" value (all value bits set): the element runs until its parent ends.</summary>
    public const ulong UnknownSize8 = 0x01FF_FFFF_FFFF_FFFFUL;

    private byte[] _buffer;
    private int _length;

    public EbmlWriter(int initialCapacity = 4096) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 64));

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far (valid until the next write).</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Forgets what was written, keeping the buffer.</summary>
    public void Clear() => _length = 0;

    /// <summary>Writable bytes at <paramref name="offset"/>, for patching a reserved area.</summary>
    public Span<byte> At(int offset, int length)
    {
        if ((uint)offset > (uint)_length || (uint)length > (uint)(_length - offset)) throw new ArgumentOutOfRangeException(nameof(offset));
        return _buffer.AsSpan(offset, length);
    }

    /// <summary>Appends <paramref name="count"/> bytes and returns them to be filled.</summary>
    public Span<byte> Append(int count)
    {
        Ensure(count);
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    /// <summary>Reserves <paramref name="count"/> zero bytes to patch later; returns their offset.</summary>
    public int Reserve(int count)
    {
        var offset = _length;
        Append(count).Clear();
        return offset;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Append(bytes.Length));

    public void WriteId(uint id) => WriteId(Append(IdLength(id)), id);

    /// <summary>A size field: minimal when <paramref name="width"/> is 0, else exactly that many bytes.</summary>
    public void WriteSize(ulong size, int width = 0)
    {
        if (width == 0) width = SizeLength(size);
        WriteSize(Append(width), size, width);
    }

    /// <summary>An unsigned integer element in the fewest bytes (at least one).</summary>
    public void WriteUInt(uint id, ulong value) => WriteUIntFixed(id, value, UIntLength(value));

    /// <summary>An unsigned integer element whose value takes exactly <paramref name="width"/> bytes, so it can be
    /// patched later with any value that fits; returns the value's offset.</summary>
    public int WriteUIntFixed(uint id, ulong value, int width)
    {
        if (width is < 1 or > 8 || (width < 8 && value >> (8 * width) != 0)) throw new ArgumentOutOfRangeException(nameof(width));
        WriteId(id);
        WriteSize((ulong)width);
        var offset = _length;
        WriteUnsigned(Append(width), value);
        return offset;
    }

    /// <summary>A signed integer element in the fewest two's-complement bytes.</summary>
    public void WriteInt(uint id, long value)
    {
        var width = 1;
        while (width < 8 && (value < -(1L << (8 * width - 1)) || value >= 1L << (8 * width - 1))) width++;
        WriteId(id);
        WriteSize((ulong)width);
        WriteUnsigned(Append(width), (ulong)value);
    }

    /// <summary>A float element, always 8 bytes (a double) so it can be patched in place; returns the value's offset.</summary>
    public int WriteFloat(uint id, double value)
    {
        WriteId(id);
        WriteSize(8);
        var offset = _length;
        BinaryPrimitives.WriteDoubleBigEndian(Append(8), value);
        return offset;
    }

    /// <summary>A string element (ASCII or UTF-8; the two element types are written the same way).</summary>
    public void WriteString(uint id, string value)
    {
        var count = Encoding.UTF8.GetByteCount(value);
        WriteId(id);
        WriteSize((ulong)count);
        Encoding.UTF8.GetBytes(value, Append(count));
    }

    public void WriteBinary(uint id, ReadOnlySpan<byte> value)
    {
        WriteId(id);
        WriteSize((ulong)value.Length);
        WriteBytes(value);
    }

    /// <summary>Starts a master element with a size field of <paramref name="sizeWidth"/> bytes, filled by
    /// <see cref="EndMaster"/>. The width is fixed up front so that offsets taken
    /// inside the element (values to patch later) stay valid.</summary>
    public MasterToken StartMaster(uint id, int sizeWidth = 8)
    {
        if (sizeWidth is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(sizeWidth));
        WriteId(id);
        return new MasterToken(Reserve(sizeWidth), sizeWidth);
    }

    /// <summary>Ends the master element <see cref="StartMaster"/> began: its size is what was written since.</summary>
    public void EndMaster(MasterToken token)
    {
        var (offset, width) = token;
        var size = (ulong)(_length - offset - width);
        if (size > MaxSize(width)) throw new InvalidOperationException($"EBML master of {size} bytes does not fit a {width}-byte size field");
        WriteSize(_buffer.AsSpan(offset, width), size, width);
    }

    /// <summary>A Void element of exactly <paramref name="totalLength"/> bytes (at least 2), zero-filled.</summary>
    public void WriteVoid(int totalLength) => WriteVoid(Append(totalLength), totalLength);

    /// <summary>Writes a Void element filling <paramref name="destination"/> exactly (at least 2 bytes).</summary>
    public static void WriteVoid(Span<byte> destination, int totalLength)
    {
        if (totalLength < 2 || destination.Length < totalLength) throw new ArgumentOutOfRangeException(nameof(totalLength));
        destination[..totalLength].Clear();
        destination[0] = (byte)EbmlId.Void;
        for (var width = 1; width <= 8; width++)
        {
            var payload = totalLength - 1 - width;
            if (payload >= 0 && (ulong)payload <= MaxSize(width))
            {
                WriteSize(destination.Slice(1, width), (ulong)payload, width);
                return;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(totalLength));
    }

    /// <summary>Bytes an element ID takes: its marker bits are part of the value (0x1A45DFA3 is 4 bytes).</summary>
    public static int IdLength(uint id) => id switch
    {
        <= 0xFF => 1,
        <= 0xFFFF => 2,
        <= 0xFF_FFFF => 3,
        _ => 4,
    };

    public static void WriteId(Span<byte> destination, uint id)
    {
        var length = IdLength(id);
        for (var i = 0; i < length; i++) destination[i] = (byte)(id >> (8 * (length - 1 - i)));
    }

    /// <summary>The largest size a size field of <paramref name="width"/> bytes holds: 2^(7·width) − 2, since the
    /// all-ones value means "unknown".</summary>
    public static ulong MaxSize(int width) => (1UL << (7 * width)) - 2;

    /// <summary>Bytes the shortest size field for <paramref name="size"/> takes.</summary>
    public static int SizeLength(ulong size)
    {
        var width = 1;
        while (width < 8 && size > MaxSize(width)) width++;
        if (size > MaxSize(8) && size != UnknownSize8) throw new ArgumentOutOfRangeException(nameof(size));
        return width;
    }

    /// <summary>A size field of exactly <paramref name="width"/> bytes: the length marker bit, then the value.</summary>
    public static void WriteSize(Span<byte> destination, ulong size, int width)
    {
        if (width is < 1 or > 8 || (size > MaxSize(width) && !(width == 8 && size == UnknownSize8)))
            throw new ArgumentOutOfRangeException(nameof(size));
        var marked = size | (1UL << (7 * width));
        for (var i = 0; i < width; i++) destination[i] = (byte)(marked >> (8 * (width - 1 - i)));
    }

    /// <summary>Bytes the shortest unsigned encoding of <paramref name="value"/> takes (at least one).</summary>
    public static int UIntLength(ulong value)
    {
        var width = 1;
        while (width < 8 && value >> (8 * width) != 0) width++;
        return width;
    }

    /// <summary>Big-endian, filling <paramref name="destination"/> (its length is the width).</summary>
    public static void WriteUnsigned(Span<byte> destination, ulong value)
    {
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)value;
            value >>= 8;
        }
    }

    private void Ensure(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (_buffer.Length - _length >= count) return;
        var needed = (long)_length + count;
        if (needed > Array.MaxLength) throw new InvalidOperationException("EBML buffer too large");
        var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
