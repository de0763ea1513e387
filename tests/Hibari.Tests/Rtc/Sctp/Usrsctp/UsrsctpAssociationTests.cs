using Hibari.Rtc.Sctp;
using System.Security.Cryptography;

namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

/// <summary>Two usrsctp associations in one process through <see cref="SctpTestPipe"/> (docs/protocol-notes.md, "usrsctp behaviour").</summary>
[Collection(UsrsctpCollection.Name)]
public sealed class UsrsctpAssociationTests : IDisposable
{
    private readonly List<UsrsctpAssociation> _created = new();

    public UsrsctpAssociationTests()
    {
        // Fail (never skip) without the library: scripts/test.sh installs it.
        Assert.True(UsrsctpAvailable.IsAvailable, UsrsctpAvailable.Problem);
    }

    public void Dispose()
    {
        foreach (var a in _created) a.Dispose();
        Assert.Null(UsrsctpAssociation.LastCallbackError);
    }

    private UsrsctpAssociation New(UsrsctpOptions? options = null)
    {
        var a = new UsrsctpAssociation(options);
        _created.Add(a);
        return a;
    }

    private sealed class Peer
    {
        public readonly UsrsctpAssociation Sctp;
        public readonly List<SctpMessage> Messages = new();
        public readonly List<ushort> Resets = new();
        public readonly List<string> Closes = new();
        public int EstablishedCount;

        public Peer(UsrsctpAssociation sctp)
        {
            Sctp = sctp;
            sctp.Established += () => EstablishedCount++;
            sctp.MessageReceived += Messages.Add;
            sctp.StreamReset += Resets.Add;
            sctp.Closed += Closes.Add;
        }
    }

    private (Peer A, Peer B, SctpTestPipe Pipe) Connected(int seed = 1, double loss = 0, bool bothSendInit = false)
    {
        var a = new Peer(New());
        var b = new Peer(New());
        var pipe = new SctpTestPipe(a.Sctp, b.Sctp, seed, loss, loss);
        a.Sctp.Start(sendInit: true);
        b.Sctp.Start(sendInit: bothSendInit);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "association up");
        return (a, b, pipe);
    }

    private static byte[] Payload(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void Library_is_installed()
    {
        Assert.True(UsrsctpAvailable.IsAvailable, UsrsctpAvailable.Problem);
        Assert.Equal("libusrsctp.so.2", UsrsctpAvailable.SoName);
    }

    [Fact]
    public void Association_comes_up_with_a_passive_side()
    {
        var a = new Peer(New());
        var b = new Peer(New());
        var pipe = new SctpTestPipe(a.Sctp, b.Sctp);
        var firstFromB = new List<byte>();
        pipe.Tap = (fromA, p) => { if (!fromA && firstFromB.Count == 0) firstFromB.Add(p[12]); };
        Assert.Equal(SctpState.Closed, a.Sctp.State);
        a.Sctp.Start(sendInit: true);
        b.Sctp.Start(sendInit: false);
        Assert.Equal(SctpState.CookieWait, a.Sctp.State);
        Assert.Equal(SctpState.Closed, b.Sctp.State);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "association up");
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
        Assert.Equal(2, firstFromB.Single()); // the passive side's first chunk is an INIT-ACK, not its own INIT
        Assert.True(pipe.NowMicros - 1_000_000 < 1_000_000, "no retransmission was needed");
    }

    [Fact]
    public void Association_comes_up_when_both_send_INIT()
    {
        var (a, b, _) = Connected(bothSendInit: true);
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
    }

    [Fact]
    public void Association_comes_up_under_loss()
    {
        var (a, b, pipe) = Connected(seed: 7, loss: 0.3);
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.05, 2)]
    public void Two_hundred_messages_of_1B_to_64KB_arrive_intact_and_in_order(double loss, int seed)
    {
        var (a, b, pipe) = Connected(seed, loss);
        var random = new Random(seed);
        var sent = new List<byte[]>();
        for (var i = 0; i < 200; i++)
        {
            var size = i switch { 0 => 1, 1 => 65536, _ => random.Next(1, 65537) };
            var m = Payload(size, i);
            sent.Add(m);
            Assert.True(a.Sctp.Send(1, 53, m, new SctpSendOptions()));
            if (i % 10 == 9) pipe.Flush();
        }
        pipe.Pump(() => b.Messages.Count == 200 && a.Sctp.BufferedAmount == 0, "200 messages delivered", TimeSpan.FromSeconds(600));
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal((ushort)1, b.Messages[i].StreamId);
            Assert.Equal(53u, b.Messages[i].Ppid);
            Assert.Equal(sent[i], b.Messages[i].Data);
        }
        Assert.Empty(a.Messages);
        Assert.Empty(a.Closes);
        Assert.Empty(b.Closes);
    }

    [Fact]
    public void A_200KB_message_arrives_whole_both_ways()
    {
        var (a, b, pipe) = Connected();
        var big = Payload(200_000, 42);
        Assert.True(a.Sctp.Send(3, 53, big, new SctpSendOptions()));
        Assert.True(b.Sctp.Send(4, 51, big.AsSpan(1).ToArray(), new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Count == 1 && a.Messages.Count == 1, "200 KB each way");
        Assert.Equal(big, b.Messages[0].Data);
        Assert.Equal(((ushort)3, 53u), (b.Messages[0].StreamId, b.Messages[0].Ppid));
        Assert.Equal(big.AsSpan(1).ToArray(), a.Messages[0].Data);
        Assert.Equal(((ushort)4, 51u), (a.Messages[0].StreamId, a.Messages[0].Ppid));
    }

    [Fact]
    public void A_1MB_message_larger_than_the_send_buffer_is_queued_and_arrives_whole()
    {
        var (a, b, pipe) = Connected();
        var big = Payload(1 << 20, 43);
        Assert.True(a.Sctp.Send(1, 53, big, new SctpSendOptions()));
        Assert.True(a.Sctp.Send(1, 51, "after"u8, new SctpSendOptions()));
        Assert.True(a.Sctp.BufferedAmount > 1 << 19, $"buffered {a.Sctp.BufferedAmount}");
        pipe.Pump(() => b.Messages.Count == 2 && a.Sctp.BufferedAmount == 0, "1 MB delivered");
        Assert.Equal(big, b.Messages[0].Data);
        Assert.Equal("after"u8.ToArray(), b.Messages[1].Data);
    }

    [Fact]
    public void Unordered_with_zero_retransmits_delivers_without_loss_and_abandons_under_loss()
    {
        var (a, b, pipe) = Connected(seed: 5);
        var unreliable = new SctpSendOptions(Unordered: true, MaxRetransmits: 0);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(a.Sctp.Send(2, 51, BitConverter.GetBytes(i), unreliable));
            pipe.Flush();
        }
        pipe.Pump(() => b.Messages.Count == 100 && a.Sctp.BufferedAmount == 0, "100 unordered messages without loss");
        Assert.Equal(Enumerable.Range(0, 100), b.Messages.Select(m => BitConverter.ToInt32(m.Data)).Order());
        Assert.All(b.Messages, m => Assert.Equal(((ushort)2, 51u), (m.StreamId, m.Ppid)));

        // 30 % loss A→B: what is lost stays lost (no retransmission), nothing is duplicated, the association survives
        // (FORWARD-TSN moves the peer's cumulative TSN) and reliable data behind it still arrives.
        b.Messages.Clear();
        pipe.LossAToB = 0.3;
        for (var i = 0; i < 200; i++)
        {
            Assert.True(a.Sctp.Send(2, 51, BitConverter.GetBytes(i), unreliable));
            pipe.Flush();
        }
        pipe.LossAToB = 0;
        Assert.True(a.Sctp.Send(4, 53, "reliable"u8, new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Any(m => m.StreamId == 4) && a.Sctp.BufferedAmount == 0, "reliable message after the lossy burst");
        pipe.Run(TimeSpan.FromSeconds(10)); // a retransmission would show up here
        var got = b.Messages.Where(m => m.StreamId == 2).Select(m => BitConverter.ToInt32(m.Data)).ToList();
        Assert.Equal(got.Count, got.Distinct().Count());
        Assert.InRange(got.Count, 100, 185);
        Assert.All(got, v => Assert.InRange(v, 0, 199));
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
    }

    [Fact]
    public void Ordered_messages_with_a_lifetime_expire_instead_of_being_retransmitted()
    {
        // usrsctp fires timers from Tick (virtual time) but timestamps chunks and checks their lifetime with
        // gettimeofday: the lifetime must pass in REAL time, hence the sleep.
        var (a, b, pipe) = Connected(seed: 9);
        pipe.LossAToB = 1.0; // everything sent now is lost
        Assert.True(a.Sctp.Send(6, 51, "gone"u8, new SctpSendOptions(MaxLifetime: TimeSpan.FromMilliseconds(50))));
        pipe.Flush();
        Thread.Sleep(200);
        pipe.LossAToB = 0;
        Assert.True(a.Sctp.Send(6, 51, "next"u8, new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Count > 0 && a.Sctp.BufferedAmount == 0, "the next ordered message", TimeSpan.FromSeconds(120));
        pipe.Run(TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { "next" }, b.Messages.Select(m => System.Text.Encoding.ASCII.GetString(m.Data)));
    }

    [Fact]
    public void Ordered_messages_with_zero_retransmits_lost_on_the_wire_do_not_block_the_stream()
    {
        var (a, b, pipe) = Connected(seed: 11);
        var options = new SctpSendOptions(MaxRetransmits: 0);
        for (var i = 0; i < 100; i++)
        {
            pipe.LossAToB = i % 10 == 3 ? 1.0 : 0; // every 10th message is lost
            Assert.True(a.Sctp.Send(8, 51, BitConverter.GetBytes(i), options));
            pipe.Flush();
        }
        pipe.LossAToB = 0;
        Assert.True(a.Sctp.Send(8, 51, BitConverter.GetBytes(1000), new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Count == 91 && a.Sctp.BufferedAmount == 0, "the rest in order (FORWARD-TSN skips the lost)");
        pipe.Run(TimeSpan.FromSeconds(5));
        var expected = Enumerable.Range(0, 100).Where(i => i % 10 != 3).Append(1000);
        Assert.Equal(expected, b.Messages.Select(m => BitConverter.ToInt32(m.Data)));
    }

    [Fact]
    public void Stream_reset_both_ways_fires_StreamReset_on_the_peer()
    {
        var (a, b, pipe) = Connected();
        Assert.True(a.Sctp.Send(1, 51, "one"u8, new SctpSendOptions()));
        Assert.True(b.Sctp.Send(2, 51, "two"u8, new SctpSendOptions()));
        pipe.Pump(() => a.Messages.Count == 1 && b.Messages.Count == 1, "data before the resets");

        a.Sctp.ResetStream(1); // A closes stream 1: B sees it, answers by resetting its side, A sees that
        pipe.Pump(() => b.Resets.Contains(1) && a.Resets.Contains(1), "reset of stream 1 initiated by A");
        b.Sctp.ResetStream(2);
        pipe.Pump(() => a.Resets.Contains(2) && b.Resets.Contains(2), "reset of stream 2 initiated by B");
        pipe.Run(TimeSpan.FromSeconds(2)); // no reset ping-pong
        Assert.Equal(new ushort[] { 1, 2 }, b.Resets);
        Assert.Equal(new ushort[] { 1, 2 }, a.Resets);

        // Both directions reset: the ids can be used again.
        Assert.True(a.Sctp.Send(1, 51, "again"u8, new SctpSendOptions()));
        Assert.True(b.Sctp.Send(1, 51, "back"u8, new SctpSendOptions()));
        pipe.Pump(() => a.Messages.Count == 2 && b.Messages.Count == 2, "data after the resets");
        Assert.Equal("again"u8.ToArray(), b.Messages[1].Data);
        Assert.Equal("back"u8.ToArray(), a.Messages[1].Data);
        Assert.Empty(a.Closes);
        Assert.Empty(b.Closes);
    }

    [Fact]
    public void A_reset_waits_for_data_queued_before_it()
    {
        var (a, b, pipe) = Connected();
        var big = Payload(600_000, 3);
        Assert.True(a.Sctp.Send(7, 53, big, new SctpSendOptions()));
        a.Sctp.ResetStream(7);
        pipe.Pump(() => b.Resets.Contains(7), "reset after the data");
        Assert.Equal(big, Assert.Single(b.Messages).Data);
    }

    [Fact]
    public void BufferedAmount_counts_unacknowledged_data_and_drains_to_zero()
    {
        var (a, b, pipe) = Connected();
        Assert.Equal(0, a.Sctp.BufferedAmount);
        for (var i = 0; i < 10; i++) Assert.True(a.Sctp.Send(1, 53, new byte[10_000], new SctpSendOptions()));
        Assert.InRange(a.Sctp.BufferedAmount, 100_000, 110_000);
        pipe.Pump(() => a.Sctp.BufferedAmount == 0, "everything acknowledged");
        Assert.Equal(10, b.Messages.Count);
    }

    [Fact]
    public void Send_is_refused_before_the_association_is_up_for_an_empty_message_and_after_Dispose()
    {
        var a = new Peer(New());
        Assert.False(a.Sctp.Send(1, 51, "x"u8, new SctpSendOptions()));
        var (p, q, _) = Connected();
        Assert.False(p.Sctp.Send(1, 51, ReadOnlySpan<byte>.Empty, new SctpSendOptions()));
        Assert.False(p.Sctp.Send(5000, 51, "beyond the negotiated streams"u8, new SctpSendOptions()));
        p.Sctp.Dispose();
        Assert.False(p.Sctp.Send(1, 51, "x"u8, new SctpSendOptions()));
        Assert.Equal(SctpState.Closed, p.Sctp.State);
    }

    [Fact]
    public void Dispose_aborts_and_the_peer_sees_Closed()
    {
        var (a, b, pipe) = Connected();
        Assert.True(a.Sctp.Send(1, 51, "bye"u8, new SctpSendOptions()));
        pipe.Flush();
        a.Sctp.Dispose();
        pipe.Pump(() => b.Closes.Count == 1, "peer closed");
        Assert.Equal(SctpState.Closed, b.Sctp.State);
        Assert.Equal(SctpState.Closed, a.Sctp.State);
        Assert.Empty(a.Closes); // no events after our own Dispose
        pipe.Run(TimeSpan.FromSeconds(5)); // timers after Dispose find nothing to call
        b.Sctp.Dispose();
        a.Sctp.Dispose(); // twice is fine
    }

    [Fact]
    public void Graceful_shutdown_closes_both_sides()
    {
        var (a, b, pipe) = Connected();
        Assert.True(a.Sctp.Send(1, 51, "last"u8, new SctpSendOptions()));
        a.Sctp.Shutdown();
        pipe.Pump(() => a.Closes.Count == 1 && b.Closes.Count == 1, "shutdown complete on both");
        Assert.Equal("last"u8.ToArray(), Assert.Single(b.Messages).Data);
        Assert.Equal("shutdown complete", a.Closes[0]);
        Assert.Equal("shutdown complete", b.Closes[0]);
        Assert.Equal(SctpState.Closed, a.Sctp.State);
    }

    [Fact]
    public void Many_associations_share_the_one_stack_without_crosstalk()
    {
        var before = UsrsctpAssociation.LiveCount;
        var pairs = Enumerable.Range(0, 4).Select(i => Connected(seed: 100 + i, loss: 0.02 * i)).ToList();
        Assert.Equal(before + 8, UsrsctpAssociation.LiveCount);
        for (var round = 0; round < 20; round++)
            for (var i = 0; i < pairs.Count; i++)
            {
                Assert.True(pairs[i].A.Sctp.Send(1, 53, BitConverter.GetBytes(i * 1000 + round), new SctpSendOptions()));
                Assert.True(pairs[i].B.Sctp.Send(1, 53, BitConverter.GetBytes(-(i * 1000 + round)), new SctpSendOptions()));
            }
        // One pipe's Tick also drives the others' timers (one stack); each pipe delivers only its own packets.
        SctpTestPipe.PumpAll(pairs.Select(p => p.Pipe).ToList(),
            () => pairs.All(p => p.A.Messages.Count == 20 && p.B.Messages.Count == 20), "each pair's own messages");
        for (var i = 0; i < pairs.Count; i++)
        {
            Assert.Equal(Enumerable.Range(0, 20).Select(r => i * 1000 + r), pairs[i].B.Messages.Select(m => BitConverter.ToInt32(m.Data)));
            Assert.Equal(Enumerable.Range(0, 20).Select(r => -(i * 1000 + r)), pairs[i].A.Messages.Select(m => BitConverter.ToInt32(m.Data)));
        }
        foreach (var (a, b, _) in pairs)
        {
            a.Sctp.Dispose();
            b.Sctp.Dispose();
        }
        Assert.Equal(before, UsrsctpAssociation.LiveCount);
    }

    [Fact]
    public void Creating_and_disposing_many_associations_is_clean()
    {
        for (var i = 0; i < 50; i++)
        {
            using var a = new UsrsctpAssociation();
            using var b = new UsrsctpAssociation();
            var pipe = new SctpTestPipe(a, b, seed: i);
            a.Start(true);
            if (i % 2 == 0)
            {
                b.Start(false);
                pipe.Pump(() => a.State == SctpState.Established && b.State == SctpState.Established, "up");
                Assert.True(a.Send(0, 51, "x"u8, new SctpSendOptions()));
                pipe.Flush();
            }
            // odd rounds: disposed in COOKIE-WAIT
        }
    }

    [Fact]
    public void Output_handlers_may_feed_the_peer_synchronously()
    {
        using var a = new UsrsctpAssociation();
        using var b = new UsrsctpAssociation();
        var received = new List<SctpMessage>();
        b.MessageReceived += m =>
        {
            received.Add(m);
            b.Send(m.StreamId, m.Ppid, m.Data, new SctpSendOptions()); // echo from inside the event
        };
        var echoed = new List<SctpMessage>();
        a.MessageReceived += echoed.Add;
        a.Output = p => b.Receive(p.Span);
        b.Output = p => a.Receive(p.Span);
        a.Start(true);
        b.Start(true);
        Assert.Equal(SctpState.Established, a.State);
        Assert.Equal(SctpState.Established, b.State);
        for (var i = 0; i < 20; i++) Assert.True(a.Send(1, 51, Payload(1000 * i + 1, i), new SctpSendOptions()));
        Assert.Equal(20, received.Count);
        Assert.Equal(20, echoed.Count);
        for (var i = 0; i < 20; i++) Assert.Equal(Payload(1000 * i + 1, i), echoed[i].Data);
    }

    [Fact]
    public void Packets_are_plain_SCTP_with_ports_5000_and_a_valid_CRC32c()
    {
        var a = new Peer(New());
        var b = new Peer(New());
        var pipe = new SctpTestPipe(a.Sctp, b.Sctp);
        var packets = new List<byte[]>();
        pipe.Tap = (_, p) => packets.Add(p);
        a.Sctp.Start(true);
        b.Sctp.Start(false);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "up");
        Assert.True(a.Sctp.Send(1, 51, Payload(3000, 1), new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Count == 1, "data");
        Assert.Equal(new byte[] { 1, 2, 10, 11 }, packets.Take(4).Select(p => p[12])); // INIT, INIT-ACK, COOKIE-ECHO, COOKIE-ACK
        Assert.Equal(0u, System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(packets[0].AsSpan(4))); // INIT: vtag 0
        foreach (var p in packets)
        {
            Assert.Equal(5000, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(p));
            Assert.Equal(5000, System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(p.AsSpan(2)));
            var copy = (byte[])p.Clone();
            copy.AsSpan(8, 4).Clear();
            var crc = ~Crc32C(copy);
            Assert.Equal(crc, System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(8))); // stored little-endian
        }
    }

    private static uint Crc32C(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = System.Numerics.BitOperations.Crc32C(crc, b);
        return crc;
    }

    [Fact]
    public void Two_pairs_on_two_threads_share_the_stack_safely()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long Now() => clock.Elapsed.Ticks / 10; // one real-time clock for both threads (timers are global)
        var pairs = Enumerable.Range(0, 2).Select(_ => Connected()).ToList();
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = pairs.Select((pair, index) => new Thread(() =>
        {
            try
            {
                var (a, b, pipe) = pair;
                for (var i = 0; i < 300; i++)
                {
                    Assert.True(a.Sctp.Send(1, 53, Payload(1 + i * 37, index * 1000 + i), new SctpSendOptions()));
                    pipe.Flush();
                    a.Sctp.Tick(Now());
                }
                var deadline = clock.Elapsed + TimeSpan.FromSeconds(60);
                while (b.Messages.Count < 300 && clock.Elapsed < deadline)
                {
                    if (!pipe.Flush()) Thread.Sleep(1);
                    a.Sctp.Tick(Now());
                    b.Sctp.Tick(Now());
                }
                Assert.Equal(300, b.Messages.Count);
                for (var i = 0; i < 300; i++) Assert.Equal(Payload(1 + i * 37, index * 1000 + i), b.Messages[i].Data);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
    }
}
