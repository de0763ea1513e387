using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Hibari.Rtc.Transport;

namespace Hibari.Tests.Rtc.Transport;

/// <summary>Skipped (with the reason) when this machine cannot bind a UDP socket on ::1.</summary>
public sealed class IPv6LoopbackFactAttribute : FactAttribute
{
    public IPv6LoopbackFactAttribute()
    {
        if (!Socket.OSSupportsIPv6)
        {
            Skip = "IPv6 is not supported by this OS";
            return;
        }
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        }
        catch (SocketException e)
        {
            Skip = $"cannot bind UDP on ::1 ({e.SocketErrorCode})";
        }
    }
}

public sealed class UdpBatchTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    internal static Socket Udp(IPAddress address)
    {
        var s = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        s.ReceiveBufferSize = 4 * 1024 * 1024;
        s.SendBufferSize = 4 * 1024 * 1024;
        s.Bind(new IPEndPoint(address, 0));
        return s;
    }

    private static SocketAddress AddressOf(Socket s) => s.LocalEndPoint!.Serialize();

    /// <summary>Datagram i: its length varies (1..1600) and every byte depends on i, so a mix-up or a cut shows.</summary>
    internal static byte[] Payload(int i, int? length = null)
    {
        var n = length ?? 1 + (i * 97) % 1600;
        var b = new byte[n];
        for (var k = 0; k < n; k++) b[k] = (byte)(i * 31 + k * 7 + (k >> 8));
        return b;
    }

    private static void Write(UdpSendBatch batch, byte[] payload, SocketAddress to)
    {
        var slot = batch.NextSlot();
        Assert.True(slot.Length >= 1600);
        payload.CopyTo(slot);
        batch.Commit(payload.Length, to);
    }

    /// <summary>Receives until <paramref name="expected"/> datagrams arrived or the deadline passed (polling, no sleeps).</summary>
    internal static List<(byte[] Data, EndpointKey From)> ReceiveAll(UdpReceiveBatch batch, int expected)
    {
        var got = new List<(byte[], EndpointKey)>();
        var clock = Stopwatch.StartNew();
        while (got.Count < expected && clock.Elapsed < Deadline)
        {
            if (!batch.Socket.Poll(50_000, SelectMode.SelectRead)) continue;
            var n = batch.Receive();
            for (var i = 0; i < n; i++)
            {
                Assert.True(EndpointKey.TryFrom(batch.Source(i), out var key));
                got.Add((batch.Datagram(i).ToArray(), key));
            }
        }
        return got;
    }

    private static void RoundTrip(IPAddress loopback, bool portableSend, bool portableReceive, bool gso = false)
    {
        using var sender = Udp(loopback);
        using var receiver = Udp(loopback);
        var send = new UdpSendBatch(sender, capacity: 64, gso: gso, portable: portableSend);
        var receive = new UdpReceiveBatch(receiver, capacity: 32, portable: portableReceive);
        Assert.Equal(gso && send.IsNative, send.GsoEnabled);
        Assert.Equal(!portableSend && OperatingSystem.IsLinux(), send.IsNative);
        Assert.Equal(!portableReceive && OperatingSystem.IsLinux(), receive.IsNative);
        var to = AddressOf(receiver);
        const int total = 150; // two automatic flushes (64, 128) and a partial one
        for (var i = 0; i < total; i++) Write(send, Payload(i), to);
        Assert.Equal(total - 128, send.Count);
        Assert.Equal(total - 128, send.Flush());
        Assert.Equal(0, send.Count);
        Assert.Equal(total, send.DatagramsSent);
        Assert.Equal(Enumerable.Range(0, total).Sum(i => (long)Payload(i).Length), send.BytesSent);
        Assert.Equal(0, send.Errors);
        Assert.Equal(send.IsNative ? 3 : total, send.SystemCalls);

        var got = ReceiveAll(receive, total);
        Assert.Equal(total, got.Count);
        var from = EndpointKey.From((IPEndPoint)sender.LocalEndPoint!);
        for (var i = 0; i < total; i++)
        {
            Assert.Equal(Payload(i), got[i].Data); // loopback keeps the order of one sender
            Assert.Equal(from, got[i].From);
        }
        Assert.Equal(total, receive.DatagramsReceived);
        Assert.Equal(send.BytesSent, receive.BytesReceived);
        Assert.Equal(0, receive.Truncated);
        if (receive.IsNative) Assert.True(receive.SystemCalls < total, $"{receive.SystemCalls} recvmmsg calls for {total} datagrams");
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(true, true, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(false, false, true)]
    public void Every_datagram_arrives_intact_with_its_source_over_IPv4(bool portableSend, bool portableReceive, bool gso) =>
        RoundTrip(IPAddress.Loopback, portableSend, portableReceive, gso);

    [IPv6LoopbackFact]
    public void Every_datagram_arrives_intact_with_its_source_over_IPv6() => RoundTrip(IPAddress.IPv6Loopback, false, false);

    [IPv6LoopbackFact]
    public void Every_datagram_arrives_intact_with_its_source_over_IPv6_with_gso() => RoundTrip(IPAddress.IPv6Loopback, false, false, gso: true);

    [IPv6LoopbackFact]
    public void Every_datagram_arrives_intact_with_its_source_over_IPv6_portable() => RoundTrip(IPAddress.IPv6Loopback, true, true);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_partial_batch_waits_for_Flush_and_a_full_one_sends_itself(bool portable)
    {
        using var sender = Udp(IPAddress.Loopback);
        using var receiver = Udp(IPAddress.Loopback);
        var send = new UdpSendBatch(sender, capacity: 8, portable: portable);
        var to = AddressOf(receiver);
        for (var i = 0; i < 7; i++) Write(send, Payload(i), to);
        Assert.Equal(7, send.Count);
        Assert.Equal(0, send.SystemCalls);
        Assert.Equal(0, send.DatagramsSent);
        Assert.Equal(0, receiver.Available); // loopback delivers within the send call: nothing was sent

        Write(send, Payload(7), to); // the 8th fills the batch
        Assert.Equal(0, send.Count);
        Assert.Equal(8, send.DatagramsSent);
        Assert.Equal(portable ? 8 : 1, send.SystemCalls);
        Assert.Equal(0, send.Flush()); // nothing left
        Assert.Equal(portable ? 8 : 1, send.SystemCalls);

        Write(send, Payload(8), to);
        Assert.Equal(1, send.Flush());
        var got = ReceiveAll(new UdpReceiveBatch(receiver, portable: portable), 9);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => Payload(i)), got.Select(g => g.Data));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Mixed_destinations_each_get_their_own_datagrams_in_order(bool portable, bool gso)
    {
        using var sender = Udp(IPAddress.Loopback);
        var receivers = Enumerable.Range(0, 3).Select(_ => Udp(IPAddress.Loopback)).ToArray();
        try
        {
            var send = new UdpSendBatch(sender, capacity: 16, gso: gso, portable: portable);
            var to = receivers.Select(AddressOf).ToArray();
            // Destination pattern 0,1,2,0,0,1,2,2,... (not round-robin), sizes mixed; 100 datagrams, several flushes.
            var expected = receivers.Select(_ => new List<byte[]>()).ToArray();
            for (var i = 0; i < 100; i++)
            {
                var d = (i * i + i / 3) % 3;
                var p = Payload(i, i % 5 == 0 ? 1100 : null);
                expected[d].Add(p);
                Write(send, p, to[d]);
            }
            send.Flush();
            Assert.Equal(100, send.DatagramsSent);
            Assert.Equal(0, send.Errors);
            var from = EndpointKey.From((IPEndPoint)sender.LocalEndPoint!);
            for (var d = 0; d < 3; d++)
            {
                var got = ReceiveAll(new UdpReceiveBatch(receivers[d], portable: portable), expected[d].Count);
                Assert.Equal(expected[d], got.Select(g => g.Data));
                Assert.All(got, g => Assert.Equal(from, g.From));
                Assert.Equal(0, receivers[d].Available);
            }
        }
        finally
        {
            foreach (var r in receivers) r.Dispose();
        }
    }

    [Fact]
    public void Gso_sends_a_frame_per_destination_in_one_message_and_every_packet_arrives_separately()
    {
        using var sender = Udp(IPAddress.Loopback);
        var receivers = Enumerable.Range(0, 4).Select(_ => Udp(IPAddress.Loopback)).ToArray();
        try
        {
            var send = new UdpSendBatch(sender, capacity: 128, gso: true);
            Assert.Equal(OperatingSystem.IsLinux(), send.GsoEnabled);
            var to = receivers.Select(AddressOf).ToArray();
            // As the SFU forwards: packet-major (each packet to every subscriber); a frame is 7 × 1,100 B + 700 B.
            var frame = Enumerable.Range(0, 8).Select(p => Payload(p, p < 7 ? 1100 : 700)).ToArray();
            foreach (var packet in frame)
                foreach (var d in to) Write(send, packet, d);
            send.Flush();
            Assert.Equal(32, send.DatagramsSent);
            Assert.Equal(0, send.Errors);
            if (send.GsoEnabled)
            {
                Assert.Equal(4, send.GsoMessages); // one message per destination
                Assert.Equal(1, send.SystemCalls);
            }
            for (var d = 0; d < receivers.Length; d++)
            {
                var got = ReceiveAll(new UdpReceiveBatch(receivers[d]), 8);
                Assert.Equal(frame, got.Select(g => g.Data));
                Assert.Equal(0, receivers[d].Available);
            }
        }
        finally
        {
            foreach (var r in receivers) r.Dispose();
        }
    }

    [Fact]
    public void Gso_never_merges_a_longer_datagram_after_a_shorter_one_nor_across_destinations()
    {
        using var sender = Udp(IPAddress.Loopback);
        using var a = Udp(IPAddress.Loopback);
        using var b = Udp(IPAddress.Loopback);
        var send = new UdpSendBatch(sender, capacity: 64, gso: true);
        var sizes = new[] { 1000, 1000, 500, 1000, 1000, 1200, 1200, 1200, 1, 1 };
        var expectedA = new List<byte[]>();
        var expectedB = new List<byte[]>();
        for (var i = 0; i < sizes.Length; i++)
        {
            var p = Payload(i, sizes[i]);
            expectedA.Add(p);
            Write(send, p, AddressOf(a));
            var q = Payload(100 + i, 999);
            expectedB.Add(q);
            Write(send, q, AddressOf(b));
        }
        send.Flush();
        Assert.Equal(20, send.DatagramsSent);
        Assert.Equal(0, send.Errors);
        // a: [1000 1000 500] [1000 1000] [1200 1200 1200 1] [1] (a shorter one ends a run; the lone 1 goes without
        // GSO); b: one run of ten. So 4 GSO messages, 5 messages in all, 1 sendmmsg.
        if (send.GsoEnabled)
        {
            Assert.Equal(4, send.GsoMessages);
            Assert.Equal(1, send.SystemCalls);
        }
        Assert.Equal(expectedA, ReceiveAll(new UdpReceiveBatch(a), sizes.Length).Select(g => g.Data));
        Assert.Equal(expectedB, ReceiveAll(new UdpReceiveBatch(b), sizes.Length).Select(g => g.Data));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Send_errors_are_counted_not_thrown(bool portable, bool gso)
    {
        using var sender = Udp(IPAddress.Loopback);
        using var receiver = Udp(IPAddress.Loopback);
        var send = new UdpSendBatch(sender, capacity: 16, gso: gso, portable: portable);
        var to = AddressOf(receiver);
        // Broadcast without SO_BROADCAST is refused by the kernel (EACCES, or no route); a closed port is not an error
        // for an unconnected UDP socket on Linux, but must not throw either.
        var broadcast = new IPEndPoint(IPAddress.Broadcast, 9).Serialize();
        int closedPort;
        using (var probe = Udp(IPAddress.Loopback)) closedPort = ((IPEndPoint)probe.LocalEndPoint!).Port;
        var closed = new IPEndPoint(IPAddress.Loopback, closedPort).Serialize();

        Write(send, Payload(0, 1100), to);
        Write(send, Payload(1, 1100), broadcast);
        Write(send, Payload(2, 1100), broadcast);
        Write(send, Payload(3, 1100), to);
        Write(send, Payload(4, 1100), closed);
        Write(send, Payload(5, 1100), to);
        var sent = send.Flush();
        Assert.Equal(2, send.Errors);
        Assert.Equal(4, sent);
        Assert.Equal(4, send.DatagramsSent);
        Assert.Equal(new[] { Payload(0, 1100), Payload(3, 1100), Payload(5, 1100) },
            ReceiveAll(new UdpReceiveBatch(receiver), 3).Select(g => g.Data));

        // The batch keeps working after errors.
        Write(send, Payload(6), to);
        Assert.Equal(1, send.Flush());
        Assert.Equal(Payload(6), Assert.Single(ReceiveAll(new UdpReceiveBatch(receiver), 1)).Data);

        // A closed socket: counted, not thrown.
        Write(send, Payload(7), to);
        Write(send, Payload(8), to);
        sender.Dispose();
        Assert.Equal(0, send.Flush());
        Assert.Equal(4, send.Errors);
    }

    [Fact]
    public void A_missing_sendmmsg_switches_the_batch_to_sendto_and_loses_nothing()
    {
        using var sender = Udp(IPAddress.Loopback);
        using var receiver = Udp(IPAddress.Loopback);
        var send = new UdpSendBatch(sender, capacity: 8, gso: true);
        if (!send.IsNative) return; // not Linux: the portable path is all there is (covered above)
        send.SimulateMissingEntryPoint = true;
        var to = AddressOf(receiver);
        for (var i = 0; i < 20; i++) Write(send, Payload(i, 1100), to);
        send.Flush();
        Assert.False(send.IsNative);
        Assert.False(send.GsoEnabled);
        Assert.Equal(20, send.DatagramsSent);
        Assert.Equal(0, send.Errors);
        Assert.Equal(20, send.SystemCalls); // every datagram went by sendto (the failed attempt is not a system call)
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Payload(i, 1100)), ReceiveAll(new UdpReceiveBatch(receiver), 20).Select(g => g.Data));
        Assert.True(new UdpSendBatch(sender).IsNative); // a simulated failure does not switch the process
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Overlong_datagrams_are_dropped_and_counted(bool portable)
    {
        using var sender = Udp(IPAddress.Loopback);
        using var receiver = Udp(IPAddress.Loopback);
        var receive = new UdpReceiveBatch(receiver, capacity: 8, slotSize: 1600, portable: portable);
        var to = AddressOf(receiver);
        var sizes = new[] { 100, 3000, 1600, 1601, 200 };
        foreach (var (size, i) in sizes.Select((s, i) => (s, i))) sender.SendTo(Payload(i, size), SocketFlags.None, to);

        var got = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (got.Count + receive.Truncated < sizes.Length && clock.Elapsed < Deadline)
        {
            if (!receiver.Poll(50_000, SelectMode.SelectRead)) continue;
            var n = receive.Receive();
            for (var i = 0; i < n; i++) got.Add(receive.Datagram(i).ToArray());
        }
        Assert.Equal(2, receive.Truncated);
        Assert.Equal(new[] { Payload(0, 100), Payload(2, 1600), Payload(4, 200) }, got);
        Assert.Equal(3, receive.DatagramsReceived);
        Assert.Equal(0, receiver.Available);
    }

    [Fact]
    public void Receive_on_an_empty_socket_returns_zero_without_waiting()
    {
        using var receiver = Udp(IPAddress.Loopback);
        foreach (var portable in new[] { false, true })
        {
            var receive = new UdpReceiveBatch(receiver, portable: portable);
            var clock = Stopwatch.StartNew();
            Assert.Equal(0, receive.Receive());
            Assert.Equal(0, receive.Count);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
            Assert.Throws<ArgumentOutOfRangeException>(() => receive.Datagram(0));
        }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Steady_state_send_and_receive_allocate_nothing(bool portable, bool gso)
    {
        using var sender = Udp(IPAddress.Loopback);
        using var receiver = Udp(IPAddress.Loopback);
        var send = new UdpSendBatch(sender, capacity: 32, gso: gso, portable: portable);
        var receive = new UdpReceiveBatch(receiver, capacity: 32, portable: portable);
        var to = AddressOf(receiver);
        long received = 0;
        void Round()
        {
            for (var r = 0; r < 20; r++)
            {
                for (var i = 0; i < 40; i++) // one automatic flush and one explicit one per round
                {
                    var slot = send.NextSlot();
                    slot[0] = (byte)i;
                    send.Commit(1100, to);
                }
                send.Flush();
                // Not every datagram has to be taken here (the receive buffer holds them); Receive must not allocate.
                while (receive.Receive() > 0)
                {
                    received += receive.Count;
                    _ = receive.Source(0).Size + receive.Datagram(receive.Count - 1).Length;
                }
            }
        }
        Round(); // warm up (JIT, first socket-address conversions)
        var allocated = Allocations.Min(Round);
        Assert.Equal(0, allocated);
        Assert.Equal(0, send.Errors);
        Assert.True(received > 0);
        Assert.Equal(0, send.DatagramsSent % (20 * 40)); // every round sent all it committed
    }
}
