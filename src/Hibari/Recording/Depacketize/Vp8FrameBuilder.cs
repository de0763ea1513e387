using Hibari.Rtc.Rtp;

namespace Hibari.Recording.Depacketize;

/// <summary>
/// RFC 7741: the payload descriptor (<see cref="KeyFrameDetector.Vp8DescriptorLength"/>) is stripped from every
/// packet and the partitions concatenated: the VP8 frame exactly as the encoder produced it. A key frame's
/// uncompressed data chunk (RFC 6386 §9.1) carries the start code 9D 01 2A and the 14-bit width and height.
/// </summary>
internal sealed class Vp8FrameBuilder : FrameBuilder
{
    public override bool TryClassify(ReadOnlySpan<byte> payload, out PacketTraits traits)
    {
        traits = new PacketTraits { PictureId = -1 };
        var length = KeyFrameDetector.Vp8DescriptorLength(payload);
        if (length < 0 || length >= payload.Length) return false; // no VP8 payload after the descriptor
        var b0 = payload[0];
        traits.CanStart = traits.DefiniteStart = (b0 & 0x10) != 0 && (b0 & 0x07) == 0;
        if ((b0 & 0x80) != 0 && (payload[1] & 0x80) != 0)
        {
            var wide = (payload[2] & 0x80) != 0;
            traits.PictureId = wide ? ((payload[2] & 0x7F) << 8) | payload[3] : payload[2] & 0x7F;
            traits.PictureIdBits = wide ? 15 : 7;
        }
        return true;
    }

    public override bool TryBuild(List<BufferedPacket> packets, out bool keyFrame, out int width, out int height, out byte[] data)
    {
        var total = 0;
        foreach (var p in packets) total += p.Payload.Length - KeyFrameDetector.Vp8DescriptorLength(p.Payload);
        data = new byte[total];
        var at = 0;
        foreach (var p in packets)
        {
            var skip = KeyFrameDetector.Vp8DescriptorLength(p.Payload);
            p.Payload.AsSpan(skip).CopyTo(data.AsSpan(at));
            at += p.Payload.Length - skip;
        }
        keyFrame = KeyFrameDetector.IsVp8KeyFrame(packets[0].Payload);
        width = height = 0;
        if (keyFrame) TryReadKeyFrameSize(data, out width, out height);
        return true;
    }

    /// <summary>RFC 6386 §9.1: 3-byte frame tag, start code 9D 01 2A, then 2 bits of scale and 14 bits of size, little-endian, for width and height.</summary>
    public static bool TryReadKeyFrameSize(ReadOnlySpan<byte> frame, out int width, out int height)
    {
        width = height = 0;
        if (frame.Length < 10 || (frame[0] & 0x01) != 0 || frame[3] != 0x9D || frame[4] != 0x01 || frame[5] != 0x2A) return false;
        width = (frame[6] | (frame[7] << 8)) & 0x3FFF;
        height = (frame[8] | (frame[9] << 8)) & 0x3FFF;
        return true;
    }
}
