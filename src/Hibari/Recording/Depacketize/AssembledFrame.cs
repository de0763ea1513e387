namespace Hibari.Recording.Depacketize;

/// <summary>
/// One whole video frame out of <see cref="VideoDepacketizer"/>, in the form the WebM writer stores as a block.
/// <paramref name="Width"/> and <paramref name="Height"/> come from the key frame's own bitstream (VP8 key frame
/// header, VP9 scalability structure or uncompressed header, H.264 SPS, AV1 sequence header) and are 0 on delta frames
/// or when the codec data does not carry them. <paramref name="Data"/> is a fresh array per frame: the caller owns it.
/// </summary>
internal readonly record struct AssembledFrame(uint RtpTimestamp, bool KeyFrame, int Width, int Height, ReadOnlyMemory<byte> Data)
{
    /// <summary>
    /// The extended (wrap-free) sequence number of the frame's first packet: strictly increasing from frame to frame,
    /// so a consumer (and the tests) can check the order frames were emitted in.
    /// </summary>
    public long FirstSequence { get; init; }
}
