using Hibari.Recording.Depacketize;
using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Recording.Depacketize;

/// <summary>
/// Seeded fuzz of the depacketizers: streams of valid packets, mutated packets, garbage, jumps, reordering and
/// duplicates must never throw, never emit frames out of sequence order, and never buffer beyond the bounds. The
/// default run is short; HIBARI_FUZZ_ITERATIONS=100000 runs the long one (iterations are streams of ~60 packets).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DepacketizerFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 1_000;

    private static List<TestPacket> Seeds(VideoCodecKind codec, Random rng)
    {
        var p = new TestPacketizer((ushort)rng.Next(65536));
        for (var i = 0; i < 8; i++)
        {
            var key = i % 4 == 0;
            var size = rng.Next(1, 3000);
            var ts = (uint)(i * 3000);
            switch (codec)
            {
                case VideoCodecKind.Vp8:
                    p.Vp8(key ? CodecDepacketizerTests.Vp8KeyFrame(320, 240, size) : CodecDepacketizerTests.Vp8DeltaFrame(size + 1), ts);
                    break;
                case VideoCodecKind.Vp9:
                    p.Vp9(key ? CodecDepacketizerTests.Vp9KeyFrame(320, 240, size) : CodecDepacketizerTests.Vp9DeltaFrame(size + 1), ts, key, 320, 240);
                    break;
                case VideoCodecKind.H264:
                    byte[] slice = [(byte)(key ? 0x65 : 0x41), .. Enumerable.Repeat((byte)0x5A, size)];
                    p.H264(key ? [CodecDepacketizerTests.H264Sps(20, 15), [0x68, 0xCE, 0x38, 0x80], slice] : [slice], ts);
                    break;
                default:
                    byte[] frame = [0x30, .. Enumerable.Repeat((byte)0x11, size)];
                    p.Av1(key ? [CodecDepacketizerTests.Av1SequenceHeaderObu(320, 240), frame] : [frame], ts, key, rng.Next(2) == 0);
                    break;
            }
        }
        return p.Packets;
    }

    private static void Mutate(Random rng, byte[] bytes)
    {
        var edits = rng.Next(1, 4);
        for (var i = 0; i < edits && bytes.Length > 0; i++)
        {
            var at = rng.Next(Math.Min(bytes.Length, 12));
            bytes[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => (byte)(bytes[at] ^ (1 << rng.Next(8))), _ => 0xFF };
        }
    }

    [Fact]
    public void RandomAndMutatedStreamsNeverBreakTheRules()
    {
        var rng = new Random(7341);
        var codecs = new[] { VideoCodecKind.Vp8, VideoCodecKind.Vp9, VideoCodecKind.H264, VideoCodecKind.Av1 };
        var depacketizers = codecs.ToDictionary(c => c, c => new VideoDepacketizer(c));
        var lastSequence = codecs.ToDictionary(c => c, _ => long.MinValue);
        var output = new List<AssembledFrame>();
        var emitted = 0;
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var codec = codecs[rng.Next(codecs.Length)];
            var d = rng.Next(50) == 0 ? new VideoDepacketizer(codec) : depacketizers[codec];
            if (d != depacketizers[codec])
            {
                depacketizers[codec] = d;
                lastSequence[codec] = long.MinValue;
            }
            var stream = Seeds(codec, rng);
            var shift = rng.Next(10) == 0 ? (ushort)rng.Next(65536) : (ushort)0; // a jump
            foreach (var seed in stream)
            {
                var packet = seed with { Seq = (ushort)(seed.Seq + shift) };
                switch (rng.Next(12))
                {
                    case 0: continue; // lost
                    case 1: packet = packet with { Payload = packet.Payload.ToArray() }; Mutate(rng, packet.Payload); break;
                    case 2: packet = packet with { Payload = packet.Payload[..rng.Next(packet.Payload.Length + 1)] }; break;
                    case 3:
                        var garbage = new byte[rng.Next(0, 40)];
                        rng.NextBytes(garbage);
                        packet = packet with { Payload = garbage };
                        break;
                    case 4: packet = packet with { Seq = (ushort)(packet.Seq + rng.Next(-5, 6)) }; break;
                    case 5: packet = packet with { Marker = !packet.Marker }; break;
                }
                output.Clear();
                d.Push(packet.Seq, packet.Ts, packet.Marker, packet.Payload, output);
                if (rng.Next(3) == 0) d.Push(packet.Seq, packet.Ts, packet.Marker, packet.Payload, output); // duplicate
                if (rng.Next(200) == 0) d.Flush(output);
                foreach (var f in output)
                {
                    Assert.True(f.FirstSequence > lastSequence[codec], "a frame came out of order");
                    lastSequence[codec] = f.FirstSequence;
                    Assert.True(f.Data.Length > 0);
                    Assert.True(f.Width >= 0 && f.Height >= 0);
                    if (!f.KeyFrame) Assert.Equal((0, 0), (f.Width, f.Height));
                    emitted++;
                }
                Assert.InRange(d.BufferedBytes, 0, VideoDepacketizer.MaxBufferedBytes + 65536);
                Assert.InRange(d.BufferedPackets, 0, VideoDepacketizer.Capacity);
            }
        }
        Assert.True(emitted > 0);
    }

    [Fact]
    public void ParsersNeverThrowOnGarbage()
    {
        var rng = new Random(99);
        for (var i = 0; i < Iterations * 10; i++)
        {
            var bytes = new byte[rng.Next(0, 64)];
            rng.NextBytes(bytes);
            H264Sps.TryParse([0x67, .. bytes], out _);
            Av1SequenceHeader.TryParse([0x0A, .. bytes], out _);
            Vp9FrameBuilder.TryReadKeyFrameSize(bytes, out _, out _, out _);
            Vp9FrameBuilder.TryParseDescriptor(bytes, out _);
            AnnexB.ToLengthPrefixed(bytes);
            OpusDepacketizer.SamplesAt48kHz(bytes);
        }
    }
}
