using System.Buffers.Binary;
using System.Numerics;

namespace Hibari.Rtc.Sctp.Chunks;

/// <summary>The 12-byte SCTP common header (RFC 9260 §3.1).</summary>
public readonly record struct SctpCommonHeader(ushort SourcePort, ushort DestinationPort, uint VerificationTag);

/// <summary>CRC32c (Castagnoli) as SCTP uses it (RFC 9260 Appendix A), on the CPU's CRC32C instruction where present.</summary>
public static class Crc32c
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(0xFFFFFFFFu, data);

    /// <summary>Feeds bytes into a running (non-inverted) CRC state.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return crc;
    }
}

/// <summary>Common header and checksum of an SCTP packet. Pure; bad input is reported, never thrown.</summary>
public static class SctpPacket
{
    public const int HeaderLength = 12;

    /// <summary>The packet's CRC32c computed with the checksum field taken as zero.</summary>
    public static uint ComputeChecksum(ReadOnlySpan<byte> packet)
    {
        var crc = Crc32c.Append(0xFFFFFFFFu, packet[..8]);
        crc = Crc32c.Append(crc, stackalloc byte[4]);
        crc = Crc32c.Append(crc, packet[HeaderLength..]);
        return ~crc;
    }

    /// <summary>Stores the checksum little-endian (RFC 9260 Appendix A: the CRC's bytes in reflected order).</summary>
    public static void SealChecksum(Span<byte> packet) =>
        BinaryPrimitives.WriteUInt32LittleEndian(packet[8..], ComputeChecksum(packet));

    public static void WriteHeader(Span<byte> packet, SctpCommonHeader header)
    {
        BinaryPrimitives.WriteUInt16BigEndian(packet, header.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(packet[2..], header.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(packet[4..], header.VerificationTag);
        BinaryPrimitives.WriteUInt32LittleEndian(packet[8..], 0);
    }

    /// <summary>Reads the common header and verifies the checksum; the chunks start at <see cref="HeaderLength"/>.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> packet, out SctpCommonHeader header, out string? error)
    {
        header = default;
        if (packet.Length < HeaderLength + 4) { error = "packet shorter than header + one chunk header"; return false; }
        if (BinaryPrimitives.ReadUInt32LittleEndian(packet[8..]) != ComputeChecksum(packet)) { error = "bad CRC32c"; return false; }
        header = new SctpCommonHeader(
            BinaryPrimitives.ReadUInt16BigEndian(packet),
            BinaryPrimitives.ReadUInt16BigEndian(packet[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(packet[4..]));
        error = null;
        return true;
    }
}

/// <summary>One chunk as it sits in the packet: type, flags and value (without the 4-byte chunk header).</summary>
public readonly ref struct SctpRawChunk(SctpChunkType type, byte flags, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole)
{
    public SctpChunkType Type { get; } = type;
    public byte Flags { get; } = flags;
    public ReadOnlySpan<byte> Value { get; } = value;
    /// <summary>Header and value, unpadded (what an "Unrecognized Chunk Type" cause echoes).</summary>
    public ReadOnlySpan<byte> Whole { get; } = whole;
}

/// <summary>Walks the chunks of a packet (after the common header). Stops with <see cref="Error"/> on a malformed length.</summary>
public ref struct SctpChunkReader(ReadOnlySpan<byte> chunks)
{
    private ReadOnlySpan<byte> _rest = chunks;
    public string? Error { get; private set; }

    public bool TryRead(out SctpRawChunk chunk)
    {
        chunk = default;
        if (Error is not null || _rest.IsEmpty) return false;
        if (_rest.Length < 4) { Error = "trailing bytes shorter than a chunk header"; return false; }
        var length = BinaryPrimitives.ReadUInt16BigEndian(_rest[2..]);
        if (length < 4 || length > _rest.Length) { Error = $"chunk length {length} outside 4..{_rest.Length}"; return false; }
        chunk = new SctpRawChunk((SctpChunkType)_rest[0], _rest[1], _rest[4..length], _rest[..length]);
        var padded = (length + 3) & ~3;
        _rest = padded >= _rest.Length ? default : _rest[padded..];
        return true;
    }
}
