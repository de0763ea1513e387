using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>
/// Seeded fuzz of every RTP/RTCP parser: random and mutated inputs must come back as values — no exception, no hang,
/// no read outside the input (inputs are exact-length slices, so an over-read would throw). The default run is short;
/// HIBARI_FUZZ_ITERATIONS=100000 runs the long one.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class RtpFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static byte[][] RtpSeeds()
    {
        var seeds = new List<byte[]> { RtpHeaderTests.Sample };
        var buffer = new byte[300];
        var w = new RtpPacketWriter(buffer, 96, 1, 2, 3, marker: true);
        w.AddString(1, "0");
        w.AddString(2, "r2");
        w.AddTransportSequenceNumber(3, 77);
        w.TryFinish(new byte[40], out var n, paddingLength: 3);
        seeds.Add(buffer[..n]);
        var w2 = new RtpPacketWriter(buffer, 97, 1, 2, 3, twoByteExtensions: true);
        w2.AddExtension(100, new byte[30]);
        w2.AddExtension(5, []);
        w2.TryFinish(new byte[10], out n);
        seeds.Add(buffer[..n]);
        return seeds.ToArray();
    }

    private static byte[][] RtcpSeeds()
    {
        var seeds = new List<byte[]>();
        var b = new byte[1500];
        void Add(int n) => seeds.Add(b[..n]);
        Add(RtcpWriter.WriteSenderReport(b, 1, 2, 3, 4, 5, [new ReportBlock(1, 2, 3, 4, 5, 6, 7)]));
        Add(RtcpWriter.WriteReceiverReport(b, 1, [new ReportBlock(1, 2, 3, 4, 5, 6, 7), default]));
        Add(RtcpWriter.WriteSourceDescriptionCname(b, 1, "cname-xyz"u8));
        Add(RtcpWriter.WriteGoodbye(b, [1u, 2u], "gone"u8));
        Add(RtcpWriter.WritePictureLossIndication(b, 1, 2));
        Add(RtcpWriter.WriteFullIntraRequest(b, 1, [new FirEntry(2, 3)]));
        Add(RtcpWriter.WriteNack(b, 1, 2, [1, 2, 5, 40, 41]));
        Add(RtcpWriter.WriteRemb(b, 1, 1_000_000, [2u, 3u]));
        Add(TransportCcFeedback.Write(b, 1, 2, 100, [1000, 1250, TransportCcFeedback.NotReceived, 90_000, 1500, 1600, 1700, 1800, 2000], 3, out _));
        // A compound of all of them.
        var compound = seeds.SelectMany(s => s).ToArray();
        seeds.Add(compound);
        return seeds.ToArray();
    }

    private static void Mutate(Random rng, Span<byte> bytes)
    {
        var edits = rng.Next(1, 4);
        for (var i = 0; i < edits && bytes.Length > 0; i++)
        {
            var at = rng.Next(bytes.Length);
            bytes[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => (byte)(bytes[at] ^ (1 << rng.Next(8))), _ => 0xFF };
        }
    }

    private static byte[] NextInput(Random rng, byte[][] seeds, bool rtcp)
    {
        if (rng.Next(3) == 0)
        {
            var garbage = new byte[rng.Next(0, 80)];
            rng.NextBytes(garbage);
            if (garbage.Length > 0 && rng.Next(2) == 0) garbage[0] = (byte)(0x80 | (garbage[0] & 0x3F));
            if (rtcp && garbage.Length > 1 && rng.Next(2) == 0) garbage[1] = (byte)rng.Next(200, 208);
            return garbage;
        }
        var seed = seeds[rng.Next(seeds.Length)];
        var length = rng.Next(4) == 0 ? rng.Next(0, seed.Length + 1) : seed.Length; // truncation
        var input = seed[..length];
        Mutate(rng, input);
        return input;
    }

    [Fact]
    public void Rtp_parse_extension_lookup_remap_rtx_and_key_frame_detection_never_throw()
    {
        var rng = new Random(20261202);
        var seeds = RtpSeeds();
        var map = new byte[256];
        for (var i = 0; i < map.Length; i++) map[i] = (byte)(i * 7 % 17);
        var scratch = new byte[2048];
        var accepted = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextInput(rng, seeds, rtcp: false);
            if (!RtpHeader.TryParse(input, out var h)) continue;
            accepted++;
            Assert.True(h.PacketLength == input.Length);
            for (var id = 0; id < 16; id++)
                if (RtpHeaderExtensions.TryFind(input, h, id, out var v)) Assert.True(v.Length <= h.ExtensionLength);
            RtpHeaderExtensions.TryFind(input, h, rng.Next(256), out _);
            var payload = h.GetPayload(input);
            foreach (var codec in Enum.GetValues<VideoCodecKind>()) KeyFrameDetector.IsKeyFrame(codec, payload);
            if (RtxPacket.TryWrap(input, h, scratch, 9, 9, 97, out var n) && RtpHeader.TryParse(scratch.AsSpan(0, n), out var r))
                Assert.True(RtxPacket.TryUnwrap(scratch.AsSpan(0, n), r, scratch, h.Ssrc, h.PayloadType, out _));
            var forwarded = RtpHeaderExtensions.CopyForwarded(input, h, map, 6, (ushort)rng.Next(65536), scratch, out _);
            if (forwarded > 0) Assert.True(RtpHeader.TryParse(scratch.AsSpan(0, forwarded), out _)); // a forwarded copy is valid
        }
        Assert.True(accepted > 0);
    }

    [Fact]
    public void Rtcp_reader_and_every_parser_never_throw()
    {
        var rng = new Random(42);
        var seeds = RtcpSeeds();
        var seqs = new ushort[64];
        var arrivals = new long[ushort.MaxValue + 1];
        var packets = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextInput(rng, seeds, rtcp: true);
            var reader = new RtcpReader(input);
            var guard = 0;
            while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
            {
                Assert.True(++guard <= input.Length / 4);
                packets++;
                if (SenderReport.TryParse(p, out var sr))
                    for (var k = 0; k <= sr.ReportBlocks.Count; k++) _ = sr.ReportBlocks[k];
                if (ReceiverReport.TryParse(p, out var rr))
                    for (var k = 0; k <= rr.ReportBlocks.Count; k++) _ = rr.ReportBlocks[k];
                var sdes = new SdesChunkReader(p);
                var chunks = 0;
                while (sdes.TryReadNext(out _, out _) == RtcpReadResult.Packet) Assert.True(++chunks <= 31);
                if (Goodbye.TryParse(p, out var bye))
                    for (var k = 0; k <= bye.SsrcCount; k++) bye.GetSsrc(k);
                if (GenericNack.TryParse(p, out var nack))
                {
                    nack.CopySequenceNumbers(seqs);
                    var all = 0;
                    foreach (var _ in nack) all++;
                    Assert.True(all <= 17 * nack.ItemCount);
                }
                PictureLossIndication.TryParse(p, out _, out _);
                if (FullIntraRequest.TryParse(p, out var fir))
                    for (var k = 0; k <= fir.EntryCount; k++) _ = fir[k];
                if (Remb.TryParse(p, out var remb))
                    for (var k = 0; k <= remb.SsrcCount; k++) remb.GetSsrc(k);
                if (TransportCcFeedback.TryParse(p, out var tcc)) tcc.TryDecode(arrivals, out _);
            }
        }
        Assert.True(packets > 0);
    }

    [Fact]
    public void Transport_cc_writer_output_always_parses_back_for_random_arrivals()
    {
        var rng = new Random(5);
        var buffer = new byte[1200];
        var decoded = new long[TransportCcFeedback.MaxStatusesPerPacket];
        for (var i = 0; i < Iterations / 10 + 1; i++)
        {
            var arrivals = new long[rng.Next(1, 300)];
            for (var k = 0; k < arrivals.Length; k++)
                arrivals[k] = rng.Next(4) == 0 ? TransportCcFeedback.NotReceived : rng.NextInt64(-1L << 40, 1L << 40) / (rng.Next(1, 4) * 1_000_000);
            var size = rng.Next(0, buffer.Length);
            var n = TransportCcFeedback.Write(buffer.AsSpan(0, size), 1, 2, (ushort)rng.Next(65536), arrivals, 0, out var consumed);
            if (n == 0) continue;
            Assert.InRange(n, 24, size);
            Assert.InRange(consumed, 1, arrivals.Length);
            Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var fb));
            Assert.True(fb.TryDecode(decoded, out var count));
            Assert.Equal(consumed, count);
        }
    }
}
