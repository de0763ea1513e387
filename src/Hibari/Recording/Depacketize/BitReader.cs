namespace Hibari.Recording.Depacketize;

/// <summary>
/// MSB-first bit reader over codec headers (H.264 SPS, VP9 uncompressed header, AV1 sequence header). Reading past
/// the end never throws: it yields zeros and sets <see cref="Overrun"/>, so a parser reads its fields straight through
/// and checks once at the end whether the header was long enough.
/// </summary>
internal ref struct BitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private long _position;

    public BitReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    public bool Overrun { get; private set; }
    public long BitPosition => _position;

    public uint ReadBit()
    {
        if (_position >= (long)_data.Length * 8)
        {
            Overrun = true;
            return 0;
        }
        var bit = (uint)(_data[(int)(_position >> 3)] >> (7 - (int)(_position & 7))) & 1;
        _position++;
        return bit;
    }

    public bool ReadFlag() => ReadBit() != 0;

    /// <summary>Up to 32 bits as an unsigned number.</summary>
    public uint ReadBits(int count)
    {
        uint value = 0;
        for (var i = 0; i < count; i++) value = (value << 1) | ReadBit();
        return value;
    }

    /// <summary>H.264 §9.1 ue(v). More than 31 leading zeros is invalid; it stops there and marks the overrun.</summary>
    public uint ReadUe()
    {
        var zeros = 0;
        while (ReadBit() == 0)
        {
            if (Overrun || ++zeros > 31)
            {
                Overrun = true;
                return 0;
            }
        }
        if (zeros == 0) return 0;
        return (uint)((1UL << zeros) - 1 + ReadBits(zeros));
    }

    /// <summary>H.264 §9.1.1 se(v).</summary>
    public int ReadSe()
    {
        var k = ReadUe();
        return (k & 1) != 0 ? (int)((k + 1) / 2) : -(int)(k / 2);
    }

    /// <summary>AV1 §4.10.3 uvlc(): like ue(v), but 32 leading zeros mean the maximum value.</summary>
    public uint ReadUvlc()
    {
        var zeros = 0;
        while (ReadBit() == 0)
        {
            if (Overrun) return 0;
            zeros++;
        }
        if (zeros >= 32) return uint.MaxValue;
        return (uint)((1UL << zeros) - 1 + ReadBits(zeros));
    }
}
