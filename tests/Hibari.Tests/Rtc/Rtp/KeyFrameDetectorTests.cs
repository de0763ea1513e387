using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>Hand-made payloads laid out as in RFC 7741, draft-ietf-payload-vp9, RFC 6184 and the AV1 RTP specification.</summary>
public sealed class KeyFrameDetectorTests
{
    [Theory]
    // RFC 7741 §4.2: descriptor S=1 PID=0, then the VP8 frame tag with P (bit 0) = 0.
    [InlineData(new byte[] { 0x10, 0x50, 0x2A, 0x00, 0x9D, 0x01, 0x2A }, true)]
    [InlineData(new byte[] { 0x10, 0x51, 0x2A, 0x00 }, false)]                    // P = 1: inter frame
    [InlineData(new byte[] { 0x00, 0x50 }, false)]                                // not the start of a partition
    [InlineData(new byte[] { 0x11, 0x50 }, false)]                                // partition 1
    [InlineData(new byte[] { 0x90, 0xF0, 0x92, 0x34, 0x05, 0x20, 0x50 }, true)]   // X: I (15-bit id) L T K
    [InlineData(new byte[] { 0x90, 0x80, 0x12, 0x51 }, false)]                    // X: I (7-bit id), inter frame
    [InlineData(new byte[] { 0x90, 0x80, 0x12 }, false)]                          // truncated before the frame tag
    [InlineData(new byte[] { 0x90 }, false)]
    [InlineData(new byte[] { }, false)]
    public void Vp8_key_frame_is_partition_start_with_inverse_key_bit_clear(byte[] payload, bool expected)
    {
        Assert.Equal(expected, KeyFrameDetector.IsKeyFrame(VideoCodecKind.Vp8, payload));
    }

    [Theory]
    // draft-ietf-payload-vp9 §4.2: I P L F B E V Z.
    [InlineData(new byte[] { 0xA8, 0x81, 0x02, 0x00, 0x05 }, true)]  // non-flexible, 15-bit id, L with SID 0, TL0PICIDX
    [InlineData(new byte[] { 0xA8, 0x81, 0x02, 0x02, 0x05 }, false)] // SID 1: an upper spatial layer
    [InlineData(new byte[] { 0xE8, 0x81, 0x02, 0x00, 0x05 }, false)] // P = 1
    [InlineData(new byte[] { 0xA0, 0x81, 0x02, 0x00, 0x05 }, false)] // B = 0: not the first packet of the frame
    [InlineData(new byte[] { 0x98, 0x7F }, true)]                    // flexible mode, 7-bit id, no layer indices
    [InlineData(new byte[] { 0xB8, 0x7F, 0x00 }, true)]              // flexible mode with L, SID 0
    [InlineData(new byte[] { 0xA8, 0x81 }, false)]                   // truncated
    [InlineData(new byte[] { 0x0C }, true)]                          // B E only: a single-packet key frame
    public void Vp9_key_frame_is_non_inter_predicted_first_packet_of_the_base_layer(byte[] payload, bool expected)
    {
        Assert.Equal(expected, KeyFrameDetector.IsKeyFrame(VideoCodecKind.Vp9, payload));
    }

    [Theory]
    [InlineData(new byte[] { 0x65, 0x88, 0x84 }, true)]                                         // single NAL: IDR slice
    [InlineData(new byte[] { 0x67, 0x42, 0x00, 0x1F }, true)]                                   // single NAL: SPS
    [InlineData(new byte[] { 0x41, 0x9A }, false)]                                              // non-IDR slice
    [InlineData(new byte[] { 0x78, 0x00, 0x02, 0x09, 0xF0, 0x00, 0x03, 0x67, 0x42, 0x00 }, true)] // STAP-A: AUD + SPS
    [InlineData(new byte[] { 0x78, 0x00, 0x02, 0x41, 0x00, 0x00, 0x02, 0x41, 0x01 }, false)]    // STAP-A: slices only
    [InlineData(new byte[] { 0x78, 0x00, 0x09, 0x67 }, false)]                                  // STAP-A size past the end
    [InlineData(new byte[] { 0x7C, 0x85, 0xB8 }, true)]                                         // FU-A start of IDR
    [InlineData(new byte[] { 0x7C, 0x05, 0xB8 }, false)]                                        // FU-A continuation
    [InlineData(new byte[] { 0x7C, 0x81, 0xB8 }, false)]                                        // FU-A start of a P slice
    [InlineData(new byte[] { 0x7C }, false)]
    public void H264_key_frame_is_an_idr_or_sps_in_single_stap_a_or_fu_a_start(byte[] payload, bool expected)
    {
        Assert.Equal(expected, KeyFrameDetector.IsKeyFrame(VideoCodecKind.H264, payload));
    }

    [Theory]
    [InlineData(new byte[] { 0x08, 0x32, 0x00 }, true)]                    // N = 1: new coded video sequence
    [InlineData(new byte[] { 0x10, 0x0A, 0x0B, 0x00 }, true)]              // W = 1: one OBU, a sequence header
    [InlineData(new byte[] { 0x00, 0x02, 0x32, 0x00, 0x01, 0x0A }, true)]  // W = 0: frame OBU then sequence header
    [InlineData(new byte[] { 0x20, 0x02, 0x32, 0x00, 0x0A }, true)]        // W = 2: second (unsized) element
    [InlineData(new byte[] { 0x90, 0x0A, 0x0B }, false)]                   // Z = 1: the bytes continue an earlier OBU
    [InlineData(new byte[] { 0x10, 0x32, 0x00 }, false)]                   // a frame OBU only
    [InlineData(new byte[] { 0x00, 0x05, 0x0A }, false)]                   // element length past the end
    [InlineData(new byte[] { 0x00, 0x80 }, false)]                         // LEB128 cut short
    public void Av1_key_frame_is_n_bit_or_a_sequence_header_obu(byte[] payload, bool expected)
    {
        Assert.Equal(expected, KeyFrameDetector.IsKeyFrame(VideoCodecKind.Av1, payload));
    }
}
