using System.Buffers.Binary;

namespace Hibari.Rtc.Turn;

/// <summary>ChannelData messages (RFC 8656 §12.4): channel number, length, application data, padding to 4 bytes on streams.</summary>
public static class TurnChannelData
{
    public const int HeaderLength = 4;

    /// <summary>First two bits 01 (RFC 7983 demultiplexing: 64–79 is TURN channel).</summary>
    public static bool LooksLikeChannelData(ReadOnlySpan<byte> data) => data.Length > 0 && (data[0] & 0xC0) == 0x40;

    public static bool IsValidChannel(ushort channel) => channel is >= TurnConstants.MinChannel and <= TurnConstants.MaxChannel;

    /// <summary>
    /// Reads a ChannelData header: a channel in 0x4000–0x4FFF and a length that fits. The message may carry up to 3
    /// bytes of padding (required on TCP/TLS, allowed on UDP, §12.5). The payload is data[4..4+payloadLength].
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out ushort channel, out int payloadLength)
    {
        channel = 0;
        payloadLength = 0;
        if (data.Length < HeaderLength) return false;
        var number = BinaryPrimitives.ReadUInt16BigEndian(data);
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        if (!IsValidChannel(number)) return false;
        if (data.Length < HeaderLength + length || data.Length > HeaderLength + ((length + 3) & ~3)) return false;
        channel = number;
        payloadLength = length;
        return true;
    }

    /// <summary>Bytes a ChannelData message of this payload takes.</summary>
    public static int MessageLength(int payloadLength, bool pad) => HeaderLength + (pad ? (payloadLength + 3) & ~3 : payloadLength);

    /// <summary>Writes a ChannelData message; its length, or 0 when it does not fit or the payload exceeds 65535 bytes.</summary>
    public static int Write(Span<byte> output, ushort channel, ReadOnlySpan<byte> payload, bool pad)
    {
        if (payload.Length > ushort.MaxValue) return 0;
        var total = MessageLength(payload.Length, pad);
        if (output.Length < total) return 0;
        BinaryPrimitives.WriteUInt16BigEndian(output, channel);
        BinaryPrimitives.WriteUInt16BigEndian(output[2..], (ushort)payload.Length);
        payload.CopyTo(output[HeaderLength..]);
        output[(HeaderLength + payload.Length)..total].Clear();
        return total;
    }
}

/// <summary>Cutting TURN frames out of a TCP/TLS byte stream (RFC 8656 §12.5, RFC 6062 framing).</summary>
public static class TurnFraming
{
    private static ReadOnlySpan<byte> Cookie => [0x21, 0x12, 0xA4, 0x42];

    /// <summary>
    /// The length of the first complete frame in <paramref name="buffered"/> (STUN: 20 + header length; ChannelData: 4 +
    /// length rounded up to 4), 0 when more bytes are needed, -1 when the stream cannot be TURN (first two bits neither 00
    /// nor 01, a STUN length not a multiple of 4 or a wrong magic cookie, a channel outside 0x4000–0x4FFF): the host then
    /// closes it.
    /// </summary>
    public static int FrameLength(ReadOnlySpan<byte> buffered)
    {
        if (buffered.IsEmpty) return 0;
        switch (buffered[0] >> 6)
        {
            case 0:
            {
                for (var i = 4; i < Math.Min(8, buffered.Length); i++)
                    if (buffered[i] != Cookie[i - 4]) return -1;
                if (buffered.Length < 4) return 0;
                int length = BinaryPrimitives.ReadUInt16BigEndian(buffered[2..]);
                if ((length & 3) != 0) return -1;
                var frame = 20 + length;
                return buffered.Length >= frame ? frame : 0;
            }
            case 1:
            {
                if (buffered.Length < 2) return 0;
                if (!TurnChannelData.IsValidChannel(BinaryPrimitives.ReadUInt16BigEndian(buffered))) return -1;
                if (buffered.Length < 4) return 0;
                var frame = TurnChannelData.MessageLength(BinaryPrimitives.ReadUInt16BigEndian(buffered[2..]), pad: true);
                return buffered.Length >= frame ? frame : 0;
            }
            default:
                return -1;
        }
    }
}
