using Hibari.Rtc.Rtp;

namespace Hibari.Tests.Rtc.Rtp;

/// <summary>Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1) and its recorder.</summary>
public sealed class TransportCcTests
{
    private const long NR = TransportCcFeedback.NotReceived;

    // pion/rtcp transport_layer_cc_test.go TestTransportLayerCC_Unmarshal "example1": one run-length chunk, one small delta.
    private static readonly byte[] PionExample1 =
    [
        0xaf, 0xcd, 0x0, 0x5, 0xfa, 0x17, 0xfa, 0x17, 0x43, 0x3, 0x2f, 0xa0,
        0x0, 0x99, 0x0, 0x1, 0x3d, 0xe8, 0x2, 0x17, 0x20, 0x1, 0x94, 0x1,
    ];

    // Same file, "example4": run length of 7 small deltas 19, 9, 9, 4, 3, 3, 4 ms, 3 padding bytes.
    private static readonly byte[] PionExample4 =
    [
        0xaf, 0xcd, 0x0, 0x7, 0xfa, 0x17, 0xfa, 0x17, 0x19, 0x3d, 0xd8, 0xbb,
        0x0, 0x4, 0x0, 0x7, 0x10, 0x63, 0x6e, 0x1, 0x20, 0x7, 0x4c, 0x24,
        0x24, 0x10, 0xc, 0xc, 0x10, 0x0, 0x0, 0x3,
    ];

    private static long[] Example4Arrivals()
    {
        var t = 1074030L * 64_000;
        long[] deltas = [19_000, 9_000, 9_000, 4_000, 3_000, 3_000, 4_000];
        var arrivals = new long[7];
        for (var i = 0; i < 7; i++) arrivals[i] = t += deltas[i];
        return arrivals;
    }

    private static long[] Decode(ReadOnlySpan<byte> packet, out ushort baseSeq)
    {
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(packet), out var fb));
        baseSeq = fb.BaseSequenceNumber;
        var arrivals = new long[fb.PacketStatusCount];
        Assert.True(fb.TryDecode(arrivals, out var count));
        Assert.Equal(fb.PacketStatusCount, count);
        return arrivals;
    }

    private static long Tick(long micros) => (long)Math.Floor(micros / 250.0) * 250;

    [Fact]
    public void Parses_the_header_of_pion_example_1()
    {
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(PionExample1), out var fb));
        Assert.Equal((4195875351u, 1124282272u, (ushort)153, (ushort)1, 4057090, (byte)23),
            (fb.SenderSsrc, fb.MediaSsrc, fb.BaseSequenceNumber, fb.PacketStatusCount, fb.ReferenceTime, fb.FeedbackPacketCount));
        var arrivals = new long[1];
        Assert.True(fb.TryDecode(arrivals, out _));
        Assert.Equal(4057090L * 64_000 + 37_000, arrivals[0]);
    }

    [Fact]
    public void Decodes_pion_example_4_to_the_arrival_times()
    {
        Assert.Equal(Example4Arrivals(), Decode(PionExample4, out var baseSeq));
        Assert.Equal(4, baseSeq);
    }

    [Fact]
    public void Writer_reproduces_pion_example_4_byte_for_byte()
    {
        var buffer = new byte[100];
        var n = TransportCcFeedback.Write(buffer, 4195875351, 423483579, 4, Example4Arrivals(), 1, out var consumed);
        Assert.Equal(7, consumed);
        Assert.Equal(PionExample4, buffer.AsSpan(0, n).ToArray());
    }

    [Fact]
    public void Status_vector_chunks_decode_per_draft_examples_3_1_4()
    {
        // §3.1.4 example 1 (1-bit vector 0x9F1C) then a run of 2 small deltas; 14 + 2 statuses.
        byte[] p =
        [
            0x8f, 0xcd, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2,
            0, 10, 0, 16, 0, 0, 1, 0,
            0x9F, 0x1C, 0x20, 0x02,
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
            0, 0,
        ];
        var arrivals = Decode(p, out _);
        var received = arrivals.Select(a => a != NR).ToArray();
        Assert.Equal(new[] { false, true, true, true, true, true, false, false, false, true, true, true, false, false, true, true }, received);
        Assert.Equal(64_000 + 250, arrivals[1]);
        Assert.Equal(64_000 + 250 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10), arrivals[15]);
    }

    [Fact]
    public void Two_bit_vector_carries_large_and_negative_deltas()
    {
        long[] arrivals = [1_000_000, 1_100_000, NR, 1_050_000, 1_050_250];
        var buffer = new byte[100];
        var n = TransportCcFeedback.Write(buffer, 1, 2, 65534, arrivals, 0, out var consumed);
        Assert.Equal(5, consumed);
        Assert.Equal(0xC0, buffer[20] & 0xC0); // one 2-bit status vector chunk
        var decoded = Decode(buffer.AsSpan(0, n), out var baseSeq);
        Assert.Equal(65534, baseSeq);
        Assert.Equal(arrivals.Select(a => a == NR ? NR : Tick(a)), decoded);
    }

    [Fact]
    public void Writer_output_decodes_to_the_recorded_arrivals_rounded_to_250_us()
    {
        var rng = new Random(7);
        for (var round = 0; round < 200; round++)
        {
            var count = rng.Next(1, 600);
            var arrivals = new long[count];
            var t = rng.NextInt64(0, 1L << 36);
            for (var i = 0; i < count; i++)
            {
                t += rng.Next(0, 4) switch { 0 => rng.Next(0, 1000), 1 => rng.Next(0, 70_000), 2 => -rng.Next(0, 5_000), _ => rng.Next(0, 500_000) };
                arrivals[i] = rng.Next(5) == 0 && i > 0 && i < count - 1 ? NR : t;
            }
            var buffer = new byte[1200];
            var offset = 0;
            while (offset < count)
            {
                var n = TransportCcFeedback.Write(buffer, 1, 2, (ushort)offset, arrivals.AsSpan(offset), (byte)round, out var consumed);
                Assert.True(n > 0 && n <= 1200 && n % 4 == 0);
                var decoded = Decode(buffer.AsSpan(0, n), out var baseSeq);
                Assert.Equal((ushort)offset, baseSeq);
                Assert.Equal(consumed, decoded.Length);
                for (var i = 0; i < consumed; i++)
                {
                    var expected = arrivals[offset + i];
                    // Decoded times are modulo the 24-bit reference time (2^24 · 64 ms).
                    if (expected == NR) Assert.Equal(NR, decoded[i]);
                    else Assert.Equal(0, (Tick(expected) - decoded[i]) % ((1L << 24) * 64_000));
                }
                offset += consumed;
            }
        }
    }

    [Fact]
    public void Writer_stops_at_the_buffer_size_and_the_rest_follows_in_the_next_packet()
    {
        var arrivals = Enumerable.Range(0, 1000).Select(i => 5_000_000L + i * 300_000L % 7_000).ToArray();
        var buffer = new byte[100];
        var n = TransportCcFeedback.Write(buffer, 1, 2, 0, arrivals, 0, out var consumed);
        Assert.InRange(n, 24, 100);
        Assert.InRange(consumed, 1, 999);
        Assert.Equal(consumed, Decode(buffer.AsSpan(0, n), out _).Length);
    }

    [Fact]
    public void A_delta_beyond_8_seconds_ends_the_packet()
    {
        long[] arrivals = [0, 250, 250 + 9_000_000];
        var buffer = new byte[100];
        TransportCcFeedback.Write(buffer, 1, 2, 0, arrivals, 0, out var consumed);
        Assert.Equal(2, consumed);
    }

    [Fact]
    public void Reserved_symbol_and_truncated_deltas_are_malformed()
    {
        var truncated = (byte[])PionExample4.Clone();
        truncated[15] = 40; // status count 40: more deltas than bytes
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(truncated), out var fb));
        Assert.False(fb.TryDecode(new long[40], out _));
        Assert.False(fb.TryDecode(new long[3], out _));

        var reserved = (byte[])PionExample4.Clone();
        reserved[20] = 0x60; // run length chunk with symbol 3
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(reserved), out var fb2));
        Assert.False(fb2.TryDecode(new long[7], out _));
    }

    [Fact]
    public void Recorder_reports_every_packet_across_the_sequence_wrap_with_reordering()
    {
        var recorder = new TransportCcRecorder(0xAAAA, 0xBBBB, maxPacketSize: 200);
        var expected = new Dictionary<ushort, long>();
        var rng = new Random(3);
        var order = Enumerable.Range(0, 600).Select(i => (ushort)(65200 + i)).ToArray();
        // Swap neighbours now and then: reordering on the wire.
        for (var i = 1; i < order.Length; i += 7) (order[i], order[i - 1]) = (order[i - 1], order[i]);
        var t = 10_000_000L;
        foreach (var seq in order)
        {
            if (seq % 13 == 0) continue; // lost
            t += rng.Next(0, 3000);
            recorder.Record(seq, t);
            expected[seq] = t;
        }

        var seen = new Dictionary<ushort, long>();
        var lost = new HashSet<ushort>();
        var buffer = new byte[1500];
        var packets = 0;
        int n;
        while ((n = recorder.WriteFeedback(buffer)) > 0)
        {
            Assert.True(n <= 200);
            Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var fb));
            Assert.Equal(packets, fb.FeedbackPacketCount);
            var arrivals = new long[fb.PacketStatusCount];
            Assert.True(fb.TryDecode(arrivals, out _));
            for (var i = 0; i < arrivals.Length; i++)
            {
                var seq = (ushort)(fb.BaseSequenceNumber + i);
                if (arrivals[i] == NR) lost.Add(seq);
                else seen[seq] = arrivals[i];
            }
            packets++;
        }
        Assert.True(packets > 1);
        Assert.Equal(expected.Count, seen.Count);
        foreach (var (seq, arrival) in expected) Assert.Equal(Tick(arrival), seen[seq]);
        Assert.All(lost, s => Assert.Equal(0, s % 13));
        Assert.False(recorder.HasPending);
    }

    [Fact]
    public void Recorder_ignores_a_packet_already_reported_as_lost()
    {
        var recorder = new TransportCcRecorder(1, 2);
        recorder.Record(10, 1000);
        recorder.Record(12, 2000);
        var buffer = new byte[1200];
        Assert.True(recorder.WriteFeedback(buffer) > 0);
        recorder.Record(11, 3000); // too late
        Assert.False(recorder.HasPending);
        Assert.Equal(0, recorder.WriteFeedback(buffer));
        recorder.Record(13, 4000);
        var n = recorder.WriteFeedback(buffer);
        Assert.True(TransportCcFeedback.TryParse(RtcpTests.Single(buffer.AsSpan(0, n)), out var fb));
        Assert.Equal(((ushort)13, (ushort)1), (fb.BaseSequenceNumber, fb.PacketStatusCount));
    }

    [Fact]
    public void Recorder_before_any_feedback_extends_back_for_an_earlier_reordered_packet()
    {
        var recorder = new TransportCcRecorder(1, 2);
        recorder.Record(5, 2000);
        recorder.Record(3, 2500);
        var buffer = new byte[1200];
        var n = recorder.WriteFeedback(buffer);
        var arrivals = Decode(buffer.AsSpan(0, n), out var baseSeq);
        Assert.Equal(3, baseSeq);
        Assert.Equal(new[] { 2500L, NR, 2000L }, arrivals);
    }

    [Fact]
    public void Periodic_feedback_waits_one_interval_after_draining()
    {
        var recorder = new TransportCcRecorder(1, 2, maxPacketSize: 64) { IntervalMicros = 100_000 };
        for (var i = 0; i < 200; i++) recorder.Record((ushort)i, 1_000_000 + i * 100L);
        var buffer = new byte[1500];
        var packets = 0;
        while (recorder.WriteFeedbackIfDue(1_000_000, buffer) > 0) packets++;
        Assert.True(packets > 1); // 64-byte packets: several in one period
        recorder.Record(200, 1_050_000);
        Assert.Equal(0, recorder.WriteFeedbackIfDue(1_099_999, buffer));
        Assert.True(recorder.WriteFeedbackIfDue(1_100_000, buffer) > 0);
    }
}
