using System.Buffers.Binary;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>Cutting STUN and ChannelData frames out of a TCP/TLS byte stream (RFC 8656 §12.5).</summary>
public class TurnFramingTests
{
    private static byte[] Stun(int attributeBytes, Random rng)
    {
        var value = new byte[attributeBytes];
        rng.NextBytes(value);
        var tx = new byte[12];
        rng.NextBytes(tx);
        return new StunMessageWriter(TurnMethod.Send, StunClass.Indication, tx).Add(TurnAttributeType.Data, value).ToArray();
    }

    [Fact]
    public void A_complete_stun_frame_is_20_plus_its_length_and_every_shorter_prefix_needs_more()
    {
        var frame = Stun(13, new Random(1));
        Assert.Equal(20 + 4 + 16, frame.Length);
        Assert.Equal(frame.Length, TurnFraming.FrameLength(frame));
        Assert.Equal(frame.Length, TurnFraming.FrameLength([.. frame, 0x00, 0x01, 0x02]));
        for (var i = 0; i < frame.Length; i++) Assert.Equal(0, TurnFraming.FrameLength(frame.AsSpan(0, i)));
    }

    [Fact]
    public void A_channel_data_frame_is_padded_to_4_and_every_shorter_prefix_needs_more()
    {
        var frame = TurnTestClient.ChannelData(0x4000, [1, 2, 3, 4, 5], pad: true);
        Assert.Equal(12, frame.Length);
        Assert.Equal(12, TurnFraming.FrameLength(frame));
        for (var i = 0; i < frame.Length; i++) Assert.Equal(0, TurnFraming.FrameLength(frame.AsSpan(0, i)));
        Assert.Equal(4, TurnFraming.FrameLength(TurnTestClient.ChannelData(0x4FFF, [], pad: true)));
        // The largest possible frame: 65535 bytes of data padded to 65536.
        var largest = new byte[4 + 65536];
        BinaryPrimitives.WriteUInt16BigEndian(largest, 0x4000);
        BinaryPrimitives.WriteUInt16BigEndian(largest.AsSpan(2), 65535);
        Assert.Equal(65540, TurnFraming.FrameLength(largest));
    }

    [Theory]
    [InlineData(new byte[] { 0x80 })]                         // RTP/RTCP
    [InlineData(new byte[] { 0xC0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00 })] // a TLS ClientHello on the plain TCP port: cookie mismatch
    [InlineData(new byte[] { 0x50, 0x00, 0, 0 })]             // channel 0x5000 is reserved
    [InlineData(new byte[] { 0x7F, 0xFF })]
    [InlineData(new byte[] { 0x00, 0x01, 0x00, 0x05, 0x21, 0x12, 0xA4, 0x42 })] // STUN length not a multiple of 4
    public void Streams_that_cannot_be_turn_are_refused(byte[] start)
        => Assert.Equal(-1, TurnFraming.FrameLength(start));

    [Fact]
    public void Http_on_the_turn_port_reads_as_a_channel_data_frame_and_waits_for_it()
    {
        // "GET " is channel 0x4745 with length 0x5420: framing alone cannot tell, so the host's idle timeout must.
        Assert.Equal(0, TurnFraming.FrameLength("GET / HTTP/1.1\r\n"u8));
    }

    [Fact]
    public void Empty_buffer_needs_more() => Assert.Equal(0, TurnFraming.FrameLength([]));

    [Fact]
    public void Random_frames_concatenated_and_cut_at_random_points_come_back_the_same()
    {
        var rng = new Random(20260615);
        for (var round = 0; round < 200; round++)
        {
            var frames = new List<byte[]>();
            var count = rng.Next(1, 30);
            for (var i = 0; i < count; i++)
            {
                if (rng.Next(2) == 0) frames.Add(Stun(rng.Next(0, 300), rng));
                else
                {
                    var payload = new byte[rng.Next(0, rng.Next(2) == 0 ? 8 : 2000)];
                    rng.NextBytes(payload);
                    frames.Add(TurnTestClient.ChannelData((ushort)rng.Next(0x4000, 0x5000), payload, pad: true));
                }
            }
            var stream = frames.SelectMany(f => f).ToArray();

            // Deliver the stream in random chunks (1 byte up to several frames at once), as TCP reads would.
            var buffered = new List<byte>();
            var got = new List<byte[]>();
            var position = 0;
            while (position < stream.Length)
            {
                var chunk = Math.Min(stream.Length - position, rng.Next(4) == 0 ? 1 : rng.Next(1, 3000));
                buffered.AddRange(stream.AsSpan(position, chunk).ToArray());
                position += chunk;
                while (true)
                {
                    var length = TurnFraming.FrameLength(buffered.ToArray());
                    Assert.NotEqual(-1, length);
                    if (length == 0) break;
                    Assert.InRange(length, 4, buffered.Count);
                    got.Add(buffered.GetRange(0, length).ToArray());
                    buffered.RemoveRange(0, length);
                }
            }
            Assert.Empty(buffered);
            Assert.Equal(frames.Count, got.Count);
            for (var i = 0; i < frames.Count; i++) Assert.Equal(frames[i], got[i]);
        }
    }
}
