using Hibari.Recording.Depacketize;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Recording.Depacketize;

/// <summary>The codec-independent rules of <see cref="VideoDepacketizer"/>: order, reordering, duplicates, loss, wrap, memory.</summary>
public sealed class FrameAssemblyTests
{
    /// <summary>VP8 frames of a few packets each: key frames at the given indices, PictureIDs consecutive.</summary>
    private static (List<TestPacket> Packets, List<byte[]> Frames) Vp8Stream(ushort firstSeq, int frames, int packetsPerFrame, params int[] keys)
    {
        var packetizer = new TestPacketizer(firstSeq);
        var list = new List<byte[]>();
        for (var i = 0; i < frames; i++)
        {
            var size = packetsPerFrame * TestPacketizer.Mtu - 100;
            var frame = keys.Contains(i) ? CodecDepacketizerTests.Vp8KeyFrame(320, 240, size - 10) : CodecDepacketizerTests.Vp8DeltaFrame(size, (byte)i);
            list.Add(frame);
            packetizer.Vp8(frame, (uint)(i * 3000));
        }
        return (packetizer.Packets, list);
    }

    [Fact]
    public void ReorderingWithinAFrameAndDuplicates()
    {
        var (packets, frames) = Vp8Stream(500, 3, 3, 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        // Frame 0 in order; frame 1's packets as 2, 0, 1 with a duplicate; frame 2 with its first packet last.
        int[] order = [0, 1, 2, 5, 3, 5, 3, 4, 7, 8, 6];
        var output = TestPacketizer.Feed(d, order.Select(i => packets[i]));
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
        Assert.Equal(2, d.PacketsDuplicated);
        Assert.Equal(0, d.FramesDropped);
        Assert.False(d.NeedsKeyFrame);
        Assert.Equal(0, d.BufferedPackets);
        Assert.Equal(0, d.BufferedBytes);

        // A duplicate of an emitted packet is late, not a new frame.
        d.Push(packets[0].Seq, packets[0].Ts, packets[0].Marker, packets[0].Payload, output);
        Assert.Equal(3, output.Count);
        Assert.Equal(1, d.PacketsLate);
    }

    [Fact]
    public void ReorderingAcrossFramesHoldsTheLaterFrameBack()
    {
        var (packets, frames) = Vp8Stream(10, 3, 2, 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        foreach (var i in new[] { 0, 1, 2, 4, 5 }) d.Push(packets[i].Seq, packets[i].Ts, packets[i].Marker, packets[i].Payload, output);
        Assert.Single(output); // frame 2 is complete but waits for frame 1
        d.Push(packets[3].Seq, packets[3].Ts, packets[3].Marker, packets[3].Payload, output);
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
        Assert.Equal([0L, 2, 4], output.Select(f => f.FirstSequence - output[0].FirstSequence));
    }

    [Fact]
    public void LossDropsTheFrameAndDeltaFramesUntilTheNextKeyFrame()
    {
        // Frames of 2 packets: 0 key, 1..5 delta, 6 key, 7 delta.
        var (packets, frames) = Vp8Stream(100, 8, 2, 0, 6);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        Assert.True(d.NeedsKeyFrame); // a recording starts at a key frame
        var output = new List<AssembledFrame>();
        var lost = packets[3]; // frame 1's second packet
        var needs = new List<bool>();
        foreach (var p in packets.Where(p => p != lost))
        {
            d.Push(p.Seq, p.Ts, p.Marker, p.Payload, output);
            needs.Add(d.NeedsKeyFrame);
        }
        // Frame 1 is given up when frames 2, 3 and 4 are complete; 2..5 are delta frames and discarded.
        Assert.Equal([frames[0], frames[6], frames[7]], output.Select(f => f.Data.ToArray()));
        Assert.Equal([true, true, false], output.Select(f => f.KeyFrame));
        Assert.Equal(5, d.FramesDropped);
        Assert.Equal(3, d.FramesEmitted);
        Assert.False(d.NeedsKeyFrame);
        Assert.Contains(true, needs.Skip(3)); // set after the loss, before the key frame
        Assert.Equal(0, d.BufferedPackets);
    }

    [Fact]
    public void ARepairInTimeLosesNothing()
    {
        var (packets, frames) = Vp8Stream(100, 5, 2, 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        var late = packets[3];
        foreach (var p in packets.Take(7).Where(p => p != late)) d.Push(p.Seq, p.Ts, p.Marker, p.Payload, output);
        Assert.Single(output);
        d.Push(late.Seq, late.Ts, late.Marker, late.Payload, output); // the RTX repair
        foreach (var p in packets.Skip(7)) d.Push(p.Seq, p.Ts, p.Marker, p.Payload, output);
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
        Assert.Equal(0, d.FramesDropped);
        Assert.False(d.NeedsKeyFrame);
    }

    [Fact]
    public void ALostWholeFrameIsNoticedWithoutPictureIds()
    {
        // H.264 carries no PictureID: a hole between complete frames may have held a frame.
        var d = new VideoDepacketizer(VideoCodecKind.H264);
        var packetizer = new TestPacketizer(300);
        byte[] sps = CodecDepacketizerTests.H264Sps(20, 15);
        packetizer.H264([sps, [0x68, 0xCE, 0x38, 0x80], [0x65, 1, 2, 3]], 0);
        for (var i = 1; i <= 5; i++) packetizer.H264([[0x41, (byte)i, 9, 9]], (uint)(i * 3000));
        var packets = packetizer.Packets.Where(p => p.Ts != 3000).ToList();
        var output = TestPacketizer.Feed(d, packets);
        Assert.Single(output); // the key frame; 2..4 waited, then were discarded with the lost frame
        Assert.True(d.NeedsKeyFrame);
        Assert.True(d.FramesDropped >= 4);
    }

    [Fact]
    public void PaddingPushedAsEmptyPayloadIsNotLoss()
    {
        var (packets, frames) = Vp8Stream(65530, 4, 2, 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        var seq = packets[0].Seq;
        for (var i = 0; i < packets.Count; i++)
        {
            var p = packets[i];
            d.Push(seq++, p.Ts, p.Marker, p.Payload, output);
            if (p.Marker) d.Push(seq++, p.Ts, false, [], output); // padding after every frame
        }
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
        Assert.Equal(0, d.FramesDropped);
    }

    [Fact]
    public void UnpushedPaddingIsBridgedByConsecutivePictureIds()
    {
        var (packets, frames) = Vp8Stream(100, 5, 1, 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        for (var i = 0; i < packets.Count; i++)
        {
            var p = packets[i];
            d.Push((ushort)(p.Seq + 2 * i), p.Ts, p.Marker, p.Payload, output); // one padding packet never seen before each frame
        }
        Assert.Equal(frames.Take(2), output.Select(f => f.Data.ToArray()).Take(2));
        Assert.Equal(0, d.FramesDropped);
        Assert.False(d.NeedsKeyFrame);
        d.Flush(output);
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
    }

    [Fact]
    public void SequenceNumbersWrap()
    {
        var (packets, frames) = Vp8Stream(65530, 6, 3, 0);
        Assert.Contains(packets, p => p.Seq == 0);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        // Swap neighbours across the wrap.
        var order = packets.ToList();
        var at = order.FindIndex(p => p.Seq == 65535);
        (order[at], order[at + 1]) = (order[at + 1], order[at]);
        var output = TestPacketizer.Feed(d, order);
        Assert.Equal(frames, output.Select(f => f.Data.ToArray()));
        Assert.True(output.Zip(output.Skip(1)).All(x => x.First.FirstSequence < x.Second.FirstSequence));
    }

    [Fact]
    public void BufferedMemoryStaysBounded()
    {
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        var big = new byte[12_000];
        big[0] = 0x00; // S = 0: continuation packets, a frame that never ends
        ushort seq = 0;
        d.Push(seq++, 1, false, [0x10, .. CodecDepacketizerTests.Vp8KeyFrame()], output);
        for (var i = 0; i < 5_000; i++)
        {
            d.Push(seq++, 1, false, big, output);
            Assert.True(d.BufferedBytes <= VideoDepacketizer.MaxBufferedBytes + big.Length);
        }
        // Frames with a hole each: only every other packet arrives, each frame of two packets never completes.
        for (var i = 0; i < 20_000; i++)
        {
            var payload = new byte[1100];
            payload[0] = (byte)(i % 2 == 0 ? 0x10 : 0x00);
            if (i % 2 == 0) d.Push(seq, (uint)(i / 2 * 3000 + 10), false, payload, output);
            seq++;
            Assert.True(d.BufferedPackets <= VideoDepacketizer.Capacity);
        }
        Assert.Empty(output);
        Assert.True(d.BufferedPackets <= VideoDepacketizer.MaxWaitPackets + 1);
        Assert.True(d.FramesDropped > 0);
    }

    [Fact]
    public void ASequenceRestartIsFollowed()
    {
        var (packets, frames) = Vp8Stream(40000, 2, 1, 0, 1);
        var d = new VideoDepacketizer(VideoCodecKind.Vp8);
        var output = new List<AssembledFrame>();
        d.Push(packets[0].Seq, packets[0].Ts, true, packets[0].Payload, output);
        d.Push(5, 90000, true, packets[1].Payload, output); // a restarted sender: its sequence numbers jump
        d.Push(6, 93000, true, packets[1].Payload, output);
        Assert.Equal(3, output.Count);
        Assert.Equal(frames[1], output[2].Data.ToArray());
    }
}
