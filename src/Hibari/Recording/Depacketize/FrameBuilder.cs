namespace Hibari.Recording.Depacketize;

/// <summary>What the assembler needs to know about one packet, read from its payload descriptor when it arrives.</summary>
internal struct PacketTraits
{
    /// <summary>The packet can be the first of a frame (VP8 S = 1 with PID = 0, VP9 B = 1, H.264 anything but an FU-A continuation, AV1 Z = 0).</summary>
    public bool CanStart;
    /// <summary>
    /// The payload alone proves it is the first packet of a frame (VP8 S/PID, VP9 B = 1 of the first spatial layer,
    /// AV1 N = 1). H.264 and AV1 otherwise carry no such flag: there a frame starts after a packet of another timestamp
    /// or one with the marker bit.
    /// </summary>
    public bool DefiniteStart;
    /// <summary>VP8/VP9 PictureID, -1 when absent: consecutive IDs across a sequence gap prove no frame was lost there.</summary>
    public int PictureId;
    /// <summary>7 or 15.</summary>
    public int PictureIdBits;
}

/// <summary>One buffered RTP packet (its payload copied: the caller's buffer is reused).</summary>
internal sealed class BufferedPacket
{
    public long Sequence;
    public uint Timestamp;
    public bool Marker;
    /// <summary>An empty payload (padding only): it fills its sequence number but belongs to no frame.</summary>
    public bool Filler;
    public byte[] Payload = [];
    public PacketTraits Traits;
}

/// <summary>The codec-specific half of <see cref="VideoDepacketizer"/>: classifying packets and turning a frame's packets into the container's frame.</summary>
internal abstract class FrameBuilder
{
    /// <summary>False when the payload is malformed (truncated descriptor, impossible lengths): the packet is rejected.</summary>
    public abstract bool TryClassify(ReadOnlySpan<byte> payload, out PacketTraits traits);

    /// <summary>
    /// The frame from its packets (contiguous, in sequence order, one timestamp, no fillers). False when they do not
    /// form a valid frame (an FU-A fragment without its start, an AV1 OBU fragment without its beginning …).
    /// </summary>
    public abstract bool TryBuild(List<BufferedPacket> packets, out bool keyFrame, out int width, out int height, out byte[] data);

    public virtual byte[]? CodecPrivate => null;
}
