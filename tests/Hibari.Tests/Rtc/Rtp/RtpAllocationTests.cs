using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>docs/protocol-notes.md, "House rules", hot path without allocation: the per-packet parse and rewrite paths allocate nothing.</summary>
public sealed class RtpAllocationTests
{
    [Fact]
    public void Parse_lookup_remap_and_rewrite_of_10k_packets_allocate_nothing()
    {
        var packet = (byte[])RtpHeaderTests.Sample.Clone();
        var map = new byte[16];
        map[1] = 1;
        map[2] = 3;
        var rtx = new byte[1500];
        var rtcp = new byte[1500];
        var rtcpLength = RtcpWriter.WriteReceiverReport(rtcp, 1, [new ReportBlock(1, 2, 3, 4, 5, 6, 7)]);
        rtcpLength += RtcpWriter.WriteNack(rtcp.AsSpan(rtcpLength), 1, 2, [1, 2, 3, 30]);
        rtcpLength += RtcpWriter.WriteRemb(rtcp.AsSpan(rtcpLength), 1, 2_000_000, [2u]);
        var seqs = new ushort[32];

        long checksum = 0;
        void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                if (!RtpHeader.TryParse(packet, out var h)) throw new InvalidOperationException();
                if (RtpHeaderExtensions.TryFind(packet, h, 1, out var mid)) checksum += mid[0];
                RtpHeaderExtensions.CopyForwarded(packet, h, map, 6, (ushort)i, rtx, out _);
                RtpHeader.SetSsrc(packet, (uint)i);
                RtpHeader.SetSequenceNumber(packet, (ushort)i);
                RtpHeader.SetTimestamp(packet, (uint)i * 3000);
                RtpHeader.SetPayloadType(packet, 96);
                RtpHeader.SetMarker(packet, (i & 1) == 0);
                checksum += KeyFrameDetector.IsKeyFrame(VideoCodecKind.Vp8, h.GetPayload(packet)) ? 1 : 0;
                RtxPacket.TryWrap(packet, h, rtx, 5, (ushort)i, 97, out _);

                var reader = new RtcpReader(rtcp.AsSpan(0, rtcpLength));
                while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
                {
                    if (ReceiverReport.TryParse(p, out var rr)) checksum += rr.ReportBlocks[0].Jitter;
                    if (GenericNack.TryParse(p, out var nack)) checksum += nack.CopySequenceNumbers(seqs);
                    if (Remb.TryParse(p, out var remb)) checksum += (long)remb.Bitrate;
                }
            }
        }

        Run(100); // warm-up (JIT, statics)
        Assert.Equal(0, Allocations.Min(() => Run(10_000)));
        Assert.NotEqual(0, checksum);
    }

    [Fact]
    public void Receive_statistics_nack_generation_and_transport_cc_recording_allocate_nothing_after_construction()
    {
        var stats = new ReceiveStatistics(1, 90_000);
        var nacks = new NackGenerator();
        var tcc = new TransportCcRecorder(1, 2);
        var feedback = new byte[1200];
        var seqs = new ushort[64];
        var nackPacket = new byte[1200];
        void Run(int from, int count)
        {
            for (var i = from; i < from + count; i++)
            {
                if (i % 17 == 3) continue;
                stats.OnPacket((ushort)i, (uint)i * 3000, i * 33_000L);
                nacks.OnPacket((ushort)i, false, i * 33_000L);
                tcc.Record((ushort)i, i * 33_000L);
                if (i % 50 == 0)
                {
                    stats.CreateReportBlock(i * 33_000L);
                    var n = nacks.Poll(i * 33_000L, seqs);
                    if (n > 0) RtcpWriter.WriteNack(nackPacket, 1, 2, seqs.AsSpan(0, n));
                    while (tcc.WriteFeedback(feedback) > 0) { }
                }
            }
        }

        Run(0, 200);
        var from = 200;
        Assert.Equal(0, Allocations.Min(() =>
        {
            Run(from, 10_000);
            from += 10_000;
        }));
    }
}
