using System.Diagnostics;
using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Sctp.Managed;

public sealed class SctpAssociationTests(ITestOutputHelper output)
{
    private static readonly SctpSendOptions Reliable = new();

    [Fact]
    public void Active_INIT_establishes_both_sides_through_the_cookie_handshake()
    {
        var link = new VirtualLink(1);
        var established = 0;
        link.A.Established += () => established++;
        link.B.Established += () => established++;
        Assert.True(link.Connect());
        Assert.Equal(2, established);
        Assert.True(link.Now < 100_000, $"took {link.Now} µs");
    }

    [Fact]
    public void Passive_side_accepts_an_INIT_that_arrives_before_its_Start()
    {
        var link = new VirtualLink(2);
        link.A.Start(true);
        Assert.True(link.RunUntil(() => link.B.State == SctpState.Established && link.A.State == SctpState.Established, TimeSpan.FromSeconds(1)));
        link.B.Start(false); // late Start is harmless
        Assert.Equal(SctpState.Established, link.B.State);
    }

    [Fact]
    public void INIT_collision_when_both_sides_send_INIT_establishes_one_association()
    {
        var link = new VirtualLink(3);
        var a = 0; var b = 0;
        link.A.Established += () => a++;
        link.B.Established += () => b++;
        Assert.True(link.Connect(bothSendInit: true));
        link.Run(TimeSpan.FromSeconds(2));
        Assert.Equal((1, 1), (a, b));
        Assert.True(SendAndReceive(link, 20, 100, Reliable));
        Assert.True(SendAndReceive(link, 20, 100, Reliable, fromB: true));
    }

    [Fact]
    public void Lost_INIT_and_COOKIE_ECHO_are_retransmitted_by_T1()
    {
        var link = new VirtualLink(4);
        var dropped = 0;
        link.Drop = (toB, p) => toB && dropped++ < 2; // the first INIT and the first COOKIE-ECHO
        Assert.True(link.Connect());
        Assert.True(link.Now >= 1_000_000, "T1 starts at the initial RTO of 1 s");
    }

    private static byte[] Payload(int index, int size)
    {
        var b = new byte[size];
        new Random(index).NextBytes(b);
        if (size >= 4) System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(b, index);
        return b;
    }

    /// <summary>Sends <paramref name="count"/> messages (back-pressure respected) and waits for all of them.</summary>
    private static bool SendAndReceive(VirtualLink link, int count, int size, SctpSendOptions options, bool fromB = false, TimeSpan? budget = null)
    {
        var (tx, rx) = fromB ? (link.B, link.A) : (link.A, link.B);
        var got = new List<SctpMessage>();
        rx.MessageReceived += got.Add;
        var sent = 0;
        var ok = link.RunUntil(() =>
        {
            while (sent < count && tx.Send(1, 51, Payload(sent, size), options)) sent++;
            return got.Count == count;
        }, budget ?? TimeSpan.FromSeconds(60));
        rx.MessageReceived -= got.Add;
        for (var i = 0; ok && i < count; i++) Assert.Equal(Payload(i, size), got[i].Data);
        return ok;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.15)]
    public void Two_thousand_messages_of_1B_to_64KB_arrive_intact_and_in_order_under_loss(double loss)
    {
        var link = new VirtualLink(10 + (int)(loss * 100)) { Reorder = 0.01, Duplication = loss / 5 };
        Assert.True(link.Connect());
        link.Loss = loss;
        var sizes = new Random(5);
        var sizeOf = Enumerable.Range(0, 2000).Select(_ => (int)Math.Min(65536, Math.Exp(sizes.NextDouble() * Math.Log(65536)))).ToArray();
        var got = new List<SctpMessage>();
        link.B.MessageReceived += got.Add;
        var sent = 0;
        var start = link.Now;
        var cpu = Stopwatch.StartNew();
        Assert.True(link.RunUntil(() =>
        {
            while (sent < sizeOf.Length && link.A.Send(3, 53, Payload(sent, sizeOf[sent]), Reliable)) sent++;
            return got.Count == sizeOf.Length;
        }, TimeSpan.FromSeconds(1200)), $"{got.Count} of {sizeOf.Length} after {(link.Now - start) / 1e6:F1} s");
        cpu.Stop();
        var sim = (link.Now - start) / 1e6;
        Assert.True(link.RunUntil(() => link.A.BufferedAmount == 0, TimeSpan.FromSeconds(5)));
        for (var i = 0; i < got.Count; i++)
        {
            Assert.Equal(3, got[i].StreamId);
            Assert.Equal(53u, got[i].Ppid);
            Assert.Equal(Payload(i, sizeOf[i]), got[i].Data);
        }
        var bytes = sizeOf.Sum(s => (long)s);
        output.WriteLine($"loss {loss:P0}: {bytes / 1e6:F1} MB in {sim:F2} s simulated ({bytes / 1e6 / sim:F2} MB/s), {cpu.Elapsed.TotalSeconds:F2} s wall, " +
                         $"retransmitted chunks {link.A.RetransmittedChunks}, packets {link.PacketsAtoB}/{link.PacketsBtoA}");
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.0, 0.01)]
    [InlineData(0.05, 0.0)]
    [InlineData(0.05, 0.01)]
    public void Throughput_of_1KB_messages_on_the_virtual_network(double loss, double reorder)
    {
        var link = new VirtualLink(30) { Reorder = reorder };
        Assert.True(link.Connect());
        link.Loss = loss;
        var start = link.Now;
        var cpu = Stopwatch.StartNew();
        Assert.True(SendAndReceive(link, 2000, 1000, Reliable, budget: TimeSpan.FromSeconds(60)));
        cpu.Stop();
        var sim = (link.Now - start) / 1e6;
        output.WriteLine($"loss {loss:P0} reorder {reorder:P0}: 2000 x 1 KB in {sim:F3} s simulated = {2000 / sim:F0} msg/s, {2 / sim:F2} MB/s; " +
                         $"wall {cpu.Elapsed.TotalMilliseconds:F0} ms = {2000 / cpu.Elapsed.TotalSeconds:F0} msg/s, {2 / cpu.Elapsed.TotalSeconds:F2} MB/s; rtx {link.A.RetransmittedChunks}");
        if (loss > 0) Assert.True(sim < 5, $"took {sim:F2} s of simulated time");
    }

    [Fact]
    public void At_5_percent_loss_2000_x_1KB_messages_complete_in_under_5_s_of_simulated_time()
    {
        var link = new VirtualLink(31) { Reorder = 0.01 };
        Assert.True(link.Connect());
        link.Loss = 0.05;
        var start = link.Now;
        Assert.True(SendAndReceive(link, 2000, 1000, Reliable, budget: TimeSpan.FromSeconds(5)), $"not done after {(link.Now - start) / 1e6:F2} s");
    }

    [Fact]
    public void Unordered_messages_all_arrive_and_may_overtake_each_other()
    {
        var link = new VirtualLink(40) { JitterMicros = 20_000 };
        Assert.True(link.Connect());
        link.Loss = 0.05;
        var got = new List<int>();
        link.B.MessageReceived += m => got.Add(System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(m.Data));
        var sent = 0;
        Assert.True(link.RunUntil(() =>
        {
            while (sent < 500 && link.A.Send(2, 53, Payload(sent, 3000), new SctpSendOptions(Unordered: true))) sent++;
            return got.Count == 500;
        }, TimeSpan.FromSeconds(60)));
        Assert.Equal(Enumerable.Range(0, 500), got.Order());
        Assert.NotEqual(Enumerable.Range(0, 500), got);
    }

    [Fact]
    public void MaxRetransmits_0_abandons_lost_messages_with_FORWARD_TSN_and_the_receiver_skips_them()
    {
        var link = new VirtualLink(50);
        Assert.True(link.Connect());
        link.Loss = 0.2;
        var got = new List<SctpMessage>();
        link.B.MessageReceived += got.Add;
        var forwards = 0;
        link.Sniff = (toB, p) => { if (toB) forwards += VirtualLink.Chunks(p).Count(c => c is ForwardTsnChunk); };
        var options = new SctpSendOptions(MaxRetransmits: 0);
        for (var i = 0; i < 300; i++) Assert.True(link.A.Send(4, 53, Payload(i, 500 + i % 3 * 1000), options));
        Assert.True(link.RunUntil(() => link.A.BufferedAmount == 0, TimeSpan.FromSeconds(30)));
        Assert.InRange(got.Count, 100, 299);
        Assert.True(forwards > 0);
        var ids = got.Select(m => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(m.Data)).ToList();
        Assert.Equal(ids.Order(), ids); // still ordered, with holes
        // The stream is not stuck: a reliable message after the holes is delivered.
        link.Loss = 0;
        Assert.True(link.A.Send(4, 51, "after"u8, Reliable));
        Assert.True(link.RunUntil(() => got.Count > 0 && got[^1].Ppid == 51, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void MaxLifetime_abandons_messages_that_could_not_be_delivered_in_time()
    {
        var link = new VirtualLink(51);
        Assert.True(link.Connect());
        var got = new List<SctpMessage>();
        link.B.MessageReceived += got.Add;
        var blackout = true;
        link.Drop = (toB, p) => toB && blackout;
        var options = new SctpSendOptions(MaxLifetime: TimeSpan.FromMilliseconds(300));
        for (var i = 0; i < 20; i++) Assert.True(link.A.Send(6, 53, Payload(i, 2000), options));
        link.Run(TimeSpan.FromMilliseconds(500));
        blackout = false;
        Assert.True(link.A.Send(6, 51, "fresh"u8, Reliable));
        Assert.True(link.RunUntil(() => got.Count > 0, TimeSpan.FromSeconds(10)));
        Assert.Equal("fresh"u8.ToArray(), Assert.Single(got).Data);
        Assert.True(link.RunUntil(() => link.A.BufferedAmount == 0, TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Stream_reset_both_ways_closes_the_stream_and_numbers_requests_from_the_initial_TSN()
    {
        var link = new VirtualLink(60);
        uint initTsnA = 0;
        uint? firstRequest = null;
        link.Sniff = (toB, p) =>
        {
            if (!toB) return;
            foreach (var c in VirtualLink.Chunks(p))
            {
                if (c is InitChunk { IsAck: false } i) initTsnA = i.InitialTsn;
                if (c is ReConfigChunk r && r.Parameters[0] is OutgoingResetRequest q) firstRequest ??= q.RequestSequence;
            }
        };
        Assert.True(link.Connect());
        Assert.True(SendAndReceive(link, 3, 10, Reliable));
        var resetAtB = new List<ushort>();
        var resetAtA = new List<ushort>();
        link.B.StreamReset += s => { resetAtB.Add(s); link.B.ResetStream(s); }; // the data channel layer answers
        link.A.StreamReset += resetAtA.Add;
        link.A.ResetStream(1);
        Assert.False(link.A.Send(1, 51, "x"u8, Reliable)); // closing
        Assert.True(link.RunUntil(() => resetAtA.Count == 1, TimeSpan.FromSeconds(5)));
        Assert.Equal([(ushort)1], resetAtB);
        Assert.Equal([(ushort)1], resetAtA);
        Assert.Equal(initTsnA, firstRequest);
        // Reopened: SSNs start at 0 again on both sides.
        link.Run(TimeSpan.FromMilliseconds(100));
        Assert.True(SendAndReceive(link, 3, 10, Reliable));
        Assert.True(SendAndReceive(link, 3, 10, Reliable, fromB: true));
    }

    [Fact]
    public void Stream_reset_waits_for_data_in_flight_under_loss()
    {
        var link = new VirtualLink(61);
        Assert.True(link.Connect());
        link.Loss = 0.1;
        var got = 0;
        var resetSeenAfter = -1;
        link.B.MessageReceived += _ => got++;
        link.B.StreamReset += _ => resetSeenAfter = got;
        for (var i = 0; i < 50; i++) Assert.True(link.A.Send(1, 51, Payload(i, 1500), Reliable));
        link.A.ResetStream(1);
        Assert.True(link.RunUntil(() => resetSeenAfter >= 0, TimeSpan.FromSeconds(30)));
        Assert.Equal(50, resetSeenAfter);
    }

    [Fact]
    public void Shutdown_delivers_outstanding_data_then_closes_both_sides()
    {
        var link = new VirtualLink(70);
        Assert.True(link.Connect());
        link.Loss = 0.05;
        string? closedA = null, closedB = null;
        link.A.Closed += r => closedA = r;
        link.B.Closed += r => closedB = r;
        var got = 0;
        link.B.MessageReceived += _ => got++;
        for (var i = 0; i < 100; i++) Assert.True(link.A.Send(1, 51, Payload(i, 1000), Reliable));
        link.A.Shutdown();
        Assert.False(link.A.Send(1, 51, "late"u8, Reliable));
        Assert.True(link.RunUntil(() => closedA is not null && closedB is not null, TimeSpan.FromSeconds(30)));
        Assert.Equal(100, got);
        Assert.Equal("SHUTDOWN", closedA);
        Assert.Equal("SHUTDOWN", closedB);
        Assert.Equal(SctpState.Closed, link.A.State);
    }

    [Fact]
    public void Abort_closes_the_peer_with_the_reason()
    {
        var link = new VirtualLink(71);
        Assert.True(link.Connect());
        string? closedB = null;
        link.B.Closed += r => closedB = r;
        link.A.Abort("going away");
        Assert.True(link.RunUntil(() => closedB is not null, TimeSpan.FromSeconds(1)));
        Assert.StartsWith("ABORT", closedB);
        Assert.Contains("going away", closedB);
        Assert.False(link.B.Send(1, 51, "x"u8, Reliable));
    }

    [Fact]
    public void Heartbeats_are_answered_and_keep_the_association_up()
    {
        var options = new SctpOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(200) };
        var link = new VirtualLink(80, options, new SctpOptions { HeartbeatInterval = TimeSpan.Zero });
        var acks = 0;
        link.Sniff = (toB, p) => { if (!toB) acks += VirtualLink.Chunks(p).Count(c => c is HeartbeatChunk { IsAck: true }); };
        Assert.True(link.Connect());
        link.Run(TimeSpan.FromSeconds(5));
        Assert.True(acks >= 10, $"{acks} HEARTBEAT-ACKs");
        Assert.Equal(SctpState.Established, link.A.State);
    }

    [Fact]
    public void Unanswered_heartbeats_close_the_association_after_max_retransmissions()
    {
        var options = new SctpOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), MaxRetransmissions = 3 };
        var link = new VirtualLink(81, options);
        Assert.True(link.Connect());
        string? closed = null;
        link.A.Closed += r => closed = r;
        link.Drop = (toB, _) => !toB;
        Assert.True(link.RunUntil(() => closed is not null, TimeSpan.FromSeconds(30)));
        Assert.Contains("max retransmissions", closed);
    }

    [Fact]
    public void Sender_never_has_more_unacknowledged_data_in_flight_than_the_receivers_window()
    {
        const int window = 8 * 1024;
        var link = new VirtualLink(90, null, new SctpOptions { ReceiveWindow = window });
        Assert.True(link.Connect());
        uint cum = 0, highest = 0;
        var first = true;
        var worst = 0L;
        var firstDataDrops = 0;
        uint? firstTsn = null;
        link.Sniff = (toB, p) =>
        {
            foreach (var c in VirtualLink.Chunks(p))
            {
                if (toB && c is DataChunk d)
                {
                    firstTsn ??= d.Tsn;
                    if (first) { cum = d.Tsn - 1; first = false; }
                    if ((int)(d.Tsn - highest) > 0 || highest == 0) highest = d.Tsn;
                    worst = Math.Max(worst, (long)(highest - cum));
                }
                if (!toB && c is SackChunk s && (int)(s.CumulativeTsnAck - cum) > 0) cum = s.CumulativeTsnAck;
            }
        };
        // Hold back the first DATA chunk so the receiver must buffer everything behind it.
        link.Drop = (toB, p) => toB && VirtualLink.Chunks(p).Any(c => c is DataChunk d && d.Tsn == firstTsn) && firstDataDrops++ < 3;
        Assert.True(SendAndReceive(link, 200, 1000, Reliable));
        Assert.True(worst * 1000 <= window + 1000, $"{worst} chunks of 1 KB beyond the cumulative ack with an 8 KB window");
    }

    [Fact]
    public void Retransmission_timeout_backs_off_and_gives_up_after_max_retransmissions()
    {
        var link = new VirtualLink(91, new SctpOptions { MaxRetransmissions = 4 });
        Assert.True(link.Connect());
        string? closed = null;
        link.A.Closed += r => closed = r;
        link.Drop = (toB, _) => toB;
        var rtos = new List<TimeSpan>();
        Assert.True(link.A.Send(1, 51, "x"u8, Reliable));
        Assert.True(link.RunUntil(() =>
        {
            if (rtos.Count == 0 || rtos[^1] != link.A.Rto) rtos.Add(link.A.Rto);
            return closed is not null;
        }, TimeSpan.FromMinutes(2)));
        Assert.Equal("max retransmissions", closed);
        for (var i = 2; i < rtos.Count; i++) Assert.True(rtos[i] > rtos[i - 1] || rtos[i] == TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void A_message_of_max_message_size_is_fragmented_and_reassembled()
    {
        var link = new VirtualLink(92);
        Assert.True(link.Connect());
        link.Loss = 0.05;
        Assert.True(SendAndReceive(link, 3, 262_144, Reliable));
        Assert.False(link.A.Send(1, 51, new byte[262_145], Reliable));
    }

    [Fact]
    public void A_single_DATA_packet_is_acked_after_the_200_ms_delay_and_every_second_packet_at_once()
    {
        var link = new VirtualLink(100);
        Assert.True(link.Connect());
        long dataAt = 0;
        var sackTimes = new List<long>();
        link.Sniff = (toB, p) =>
        {
            foreach (var c in VirtualLink.Chunks(p))
            {
                if (toB && c is DataChunk) dataAt = link.Now;
                if (!toB && c is SackChunk) sackTimes.Add(link.Now);
            }
        };
        Assert.True(link.A.Send(1, 51, new byte[100], Reliable));
        link.Run(TimeSpan.FromMilliseconds(400));
        var delay = Assert.Single(sackTimes) - (dataAt + link.DelayMicros);
        Assert.InRange(delay, 195_000, 205_000);
        sackTimes.Clear();
        Assert.True(link.A.Send(1, 51, new byte[1000], Reliable));
        Assert.True(link.A.Send(1, 51, new byte[1000], Reliable)); // two packets
        link.Run(TimeSpan.FromMilliseconds(400));
        Assert.InRange(Assert.Single(sackTimes) - (dataAt + link.DelayMicros), 0, 2_000);
    }

    [Fact]
    public void Duplicate_DATA_is_reported_in_the_SACK_and_delivered_once()
    {
        var link = new VirtualLink(101);
        Assert.True(link.Connect());
        var dups = new List<uint>();
        link.Sniff = (toB, p) => { foreach (var c in VirtualLink.Chunks(p)) if (!toB && c is SackChunk s) dups.AddRange(s.DuplicateTsns); };
        var got = 0;
        link.B.MessageReceived += _ => got++;
        link.Duplication = 1.0;
        Assert.True(link.A.Send(1, 51, new byte[100], Reliable));
        link.Run(TimeSpan.FromMilliseconds(400));
        Assert.Equal(1, got);
        Assert.NotEmpty(dups);
    }

    [Fact]
    public void Unknown_chunk_with_the_report_bit_is_answered_with_an_ERROR_and_the_rest_of_the_packet_is_processed()
    {
        var link = new VirtualLink(102);
        uint tagOfB = 0;
        link.Sniff = (toB, p) => { if (toB && tagOfB == 0 && VirtualLink.Chunks(p).Any(c => c is SackChunk or DataChunk or EmptyChunk or CookieEchoChunk)) tagOfB = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(4)); };
        Assert.True(link.Connect());
        Assert.True(link.A.Send(1, 51, new byte[10], Reliable));
        link.Run(TimeSpan.FromMilliseconds(300));
        var errors = 0;
        var acks = 0;
        link.B.Output = p => { foreach (var c in VirtualLink.Chunks(p.ToArray())) { if (c is ErrorCausesChunk { Type: SctpChunkType.Error } e && e.Causes[0].Code == SctpErrorCause.UnrecognizedChunkType) errors++; if (c is HeartbeatChunk { IsAck: true }) acks++; } };
        SctpChunk[] chunks = [new UnknownChunk((SctpChunkType)0xC7, 0, new byte[] { 1, 2, 3 }), new HeartbeatChunk(false, new byte[] { 5 })];
        var packet = new byte[12 + chunks.Sum(c => c.PaddedLength)];
        SctpPacket.WriteHeader(packet, new SctpCommonHeader(5000, 5000, tagOfB));
        var o = 12;
        foreach (var c in chunks) o += c.WriteTo(packet.AsSpan(o));
        SctpPacket.SealChecksum(packet);
        link.B.Receive(packet);
        Assert.Equal((1, 1), (errors, acks));
        packet[4] ^= 1; // wrong verification tag: silently dropped
        SctpPacket.SealChecksum(packet);
        link.B.Receive(packet);
        Assert.Equal((1, 1), (errors, acks));
    }

    [Fact]
    public void Lost_COOKIE_ACK_is_recovered_by_the_retransmitted_COOKIE_ECHO()
    {
        var link = new VirtualLink(103);
        var dropped = 0;
        link.Drop = (toB, p) => !toB && dropped == 0 && VirtualLink.Chunks(p).Any(c => c is EmptyChunk { Type: SctpChunkType.CookieAck }) && ++dropped == 1;
        var establishedB = 0;
        link.B.Established += () => establishedB++;
        Assert.True(link.Connect());
        Assert.Equal(1, dropped);
        Assert.Equal(1, establishedB);
        Assert.True(SendAndReceive(link, 5, 100, Reliable));
    }

    [Fact]
    public void Reassembly_holds_messages_behind_a_gap_and_delivers_them_in_order_once_it_is_filled()
    {
        var link = new VirtualLink(104);
        Assert.True(link.Connect());
        var firstDrops = 0;
        uint? firstTsn = null;
        link.Drop = (toB, p) => toB && VirtualLink.Chunks(p).Any(c => c is DataChunk d && (firstTsn ??= d.Tsn) == d.Tsn) && firstDrops++ < 2;
        var got = new List<int>();
        link.B.MessageReceived += m => got.Add(m.Data.Length);
        for (var i = 1; i <= 5; i++) Assert.True(link.A.Send(1, 51, new byte[i * 3000], Reliable));
        link.Run(TimeSpan.FromMilliseconds(50));
        Assert.Empty(got);
        Assert.True(link.B.ReceiveWindowAvailable < 1024 * 1024, "out-of-order fragments count against a_rwnd");
        Assert.True(link.RunUntil(() => got.Count == 5, TimeSpan.FromSeconds(10)));
        Assert.Equal([3000, 6000, 9000, 12000, 15000], got);
        Assert.Equal(1024 * 1024, link.B.ReceiveWindowAvailable);
    }

    [Theory]
    [InlineData(1)]  // B's INIT crosses A's INIT-ACK
    [InlineData(6)]  // B has already answered A's INIT when it sends its own
    [InlineData(12)] // B sends INIT while A's COOKIE-ECHO is on the wire
    public void Own_INIT_sent_late_still_ends_in_one_working_association(int afterMs)
    {
        var link = new VirtualLink(105 + afterMs);
        var a = 0; var b = 0;
        link.A.Established += () => a++;
        link.B.Established += () => b++;
        link.A.Start(true);
        link.Run(TimeSpan.FromMilliseconds(afterMs));
        link.B.Start(true);
        Assert.True(link.RunUntil(() => link.A.State == SctpState.Established && link.B.State == SctpState.Established, TimeSpan.FromSeconds(10)));
        link.Run(TimeSpan.FromSeconds(3));
        Assert.Equal((1, 1), (a, b));
        Assert.True(SendAndReceive(link, 20, 2000, Reliable));
        Assert.True(SendAndReceive(link, 20, 2000, Reliable, fromB: true));
    }

    [Fact]
    public void A_peer_that_restarts_with_a_new_INIT_gets_a_fresh_association()
    {
        var link = new VirtualLink(110);
        Assert.True(link.Connect());
        // The peer process restarts: a new association talks to B with new tags and TSNs.
        var wire = new Queue<(bool ToB, byte[] P)>();
        var restarted = new SctpAssociation(new SctpOptions { Random = new Random(9) }) { Output = p => wire.Enqueue((true, p.ToArray())) };
        link.B.Output = p => wire.Enqueue((false, p.ToArray()));
        var establishedB = 0;
        link.B.Established += () => establishedB++;
        var got = new List<SctpMessage>();
        link.B.MessageReceived += got.Add;
        restarted.Start(true);
        for (var t = 0; t < 100 && restarted.State != SctpState.Established; t++)
            while (wire.TryDequeue(out var w)) (w.ToB ? (ISctpAssociation)link.B : restarted).Receive(w.P);
        Assert.Equal(SctpState.Established, restarted.State);
        Assert.Equal(1, establishedB);
        Assert.True(restarted.Send(1, 51, "hello again"u8, Reliable));
        while (wire.TryDequeue(out var w)) (w.ToB ? (ISctpAssociation)link.B : restarted).Receive(w.P);
        Assert.Equal("hello again"u8.ToArray(), Assert.Single(got).Data);
    }
}
