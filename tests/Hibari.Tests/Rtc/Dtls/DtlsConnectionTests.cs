using System.Buffers.Binary;
using Hibari.Rtc.Dtls;
using Org.BouncyCastle.Tls;

namespace Hibari.Tests.Rtc.Dtls;

/// <summary>The connected endpoint on the managed record layer: lost final flight, replay, alerts, sequence numbers, allocation.</summary>
public sealed class DtlsConnectionTests
{
    private static bool HasRecord(byte[] datagram, Func<byte, int, bool> match)
    {
        var offset = 0;
        while (ManagedRecordLayer.TryReadHeader(datagram, ref offset, out var type, out var epoch, out _))
        {
            if (match(type, epoch)) return true;
        }
        return false;
    }

    /// <summary>The server's last flight: ChangeCipherSpec (epoch 0) and Finished (epoch 1).</summary>
    private static bool IsFinalFlight(byte[] datagram) =>
        HasRecord(datagram, (type, epoch) => type == ManagedRecordLayer.ChangeCipherSpec || epoch == 1);

    [Fact]
    public async Task A_lost_final_flight_is_sent_again_when_the_client_repeats_its_own_and_data_then_flows()
    {
        var fast = new DtlsOptions { RetransmitTimeout = TimeSpan.FromMilliseconds(100) };
        using var pair = new DtlsPair(fast, fast);
        // Everything of the server's last flight that BouncyCastle sends (before the server switches to the managed
        // record layer) is lost; what the managed layer sends again gets through.
        pair.ToClient.Drop = d => pair.Server.State == DtlsState.Handshaking && IsFinalFlight(d);
        var atServer = new List<byte[]>();
        var atClient = new List<byte[]>();
        pair.Server.ApplicationData = d => atServer.Add(d.ToArray());
        pair.Client.ApplicationData = d => atClient.Add(d.ToArray());
        await pair.HandshakeAsync();

        Assert.True(pair.ToClient.Filtered >= 1, "the final flight was dropped");
        Assert.True(pair.Server.FinalFlightRetransmissions >= 1, "the managed layer answered the client's repeated flight");
        Assert.True(pair.Client.SendApplicationData([1, 2, 3]));
        Assert.True(pair.Server.SendApplicationData([4, 5]));
        Assert.Equal([[1, 2, 3]], atServer);
        Assert.Equal([[4, 5]], atClient);
        Assert.Equal(0, pair.ToServer.DeliverErrors + pair.ToClient.DeliverErrors);
    }

    [Fact]
    public async Task The_final_flight_is_sent_again_at_most_every_100_ms_and_only_by_the_server()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        var clientHello = pair.ToServer.Captured.First(); // epoch 0 handshake: looks like a repeated flight
        var before = pair.ToClient.Captured.Count;
        var answered = pair.Server.FinalFlightRetransmissions;
        for (var i = 0; i < 50; i++) pair.Server.Deliver(clientHello);
        // 50 deliveries take well under 100 ms: one answer (a stalled machine might make it two or three, never 50).
        Assert.InRange(pair.Server.FinalFlightRetransmissions - answered, 1, 3);
        Assert.True(pair.ToClient.Captured.Count > before);
        Assert.All(pair.ToClient.Captured.Skip(before), d => Assert.True(IsFinalFlight(d)));
        var first = pair.Server.FinalFlightRetransmissions;
        await DtlsPair.Eventually(() =>
        {
            pair.Server.Deliver(clientHello);
            return pair.Server.FinalFlightRetransmissions > first;
        }, "another answer once 100 ms have passed");
        Assert.Equal(DtlsState.Connected, pair.Client.State);

        var serverHello = pair.ToClient.Captured.First();
        var clientSent = pair.ToServer.Captured.Count;
        pair.Client.Deliver(serverHello);
        Assert.Equal(0, pair.Client.FinalFlightRetransmissions);
        Assert.Equal(clientSent, pair.ToServer.Captured.Count);
        Assert.Equal(DtlsState.Connected, pair.Client.State);
    }

    [Fact]
    public async Task A_record_delivered_twice_is_raised_once_and_the_copy_is_counted()
    {
        using var pair = new DtlsPair();
        var atServer = 0;
        pair.Server.ApplicationData = _ => atServer++;
        await pair.HandshakeAsync();
        Assert.True(pair.Client.SendApplicationData([9]));
        var record = pair.ToServer.Captured.Last();
        var dropped = pair.Server.DroppedDatagrams;
        pair.Server.Deliver(record);
        pair.Server.Deliver(record);
        Assert.Equal(1, atServer);
        Assert.Equal(dropped + 2, pair.Server.DroppedDatagrams);
    }

    [Fact]
    public async Task Several_records_in_one_datagram_are_all_raised_in_order()
    {
        using var pair = new DtlsPair();
        var atServer = new List<byte[]>();
        pair.Server.ApplicationData = d => atServer.Add(d.ToArray());
        await pair.HandshakeAsync();
        pair.ToServer.Blocked = true;
        for (byte i = 1; i <= 3; i++) Assert.True(pair.Client.SendApplicationData([i, i]));
        var datagram = pair.ToServer.Captured.TakeLast(3).SelectMany(d => d).ToArray();
        pair.Server.Deliver(datagram);
        Assert.Equal([[1, 1], [2, 2], [3, 3]], atServer);
    }

    [Fact]
    public async Task Our_sequence_numbers_continue_above_those_BouncyCastle_used_in_epoch_1()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        long Highest(IEnumerable<byte[]> datagrams) => datagrams.Max(d =>
        {
            var offset = 0;
            var max = -1L;
            while (ManagedRecordLayer.TryReadHeader(d, ref offset, out _, out var epoch, out var sequence))
                if (epoch == 1) max = Math.Max(max, sequence);
            return max;
        });
        var handshakeHighest = Highest(pair.ToServer.Captured);
        Assert.True(handshakeHighest >= 0, "the client's Finished went out in epoch 1");
        var count = pair.ToServer.Captured.Count;
        Assert.True(pair.Client.SendApplicationData([1]));
        var first = pair.ToServer.Captured.Skip(count).Single();
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(first.AsSpan(3)));
        Assert.True(Highest([first]) > handshakeHighest, $"{Highest([first])} must be above {handshakeHighest}");
    }

    [Fact]
    public async Task A_fatal_alert_from_the_peer_fails_the_connection_and_completes_Stopped()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        // An authenticated fatal alert (internal_error), as a peer's record layer would send it.
        Assert.True(pair.Client.Records!.Send(ManagedRecordLayer.AlertType, [(byte)AlertLevel.fatal, (byte)AlertDescription.internal_error], pair.ToServer.Send));
        Assert.Equal(DtlsState.Failed, pair.Server.State);
        await pair.Server.Stopped.WaitAsync(DtlsPair.Patience);
        Assert.False(pair.Server.SendApplicationData([1]));
        Assert.Equal(DtlsState.Connected, pair.Client.State); // nothing is sent in answer to a fatal alert
    }

    [Fact]
    public async Task A_warning_alert_other_than_close_notify_changes_nothing()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        Assert.True(pair.Client.Records!.Send(ManagedRecordLayer.AlertType, [(byte)AlertLevel.warning, (byte)AlertDescription.no_renegotiation], pair.ToServer.Send));
        Assert.Equal(DtlsState.Connected, pair.Server.State);
        Assert.False(pair.Server.Stopped.IsCompleted);
    }

    [Fact]
    public async Task Close_notify_both_ways_between_our_endpoints()
    {
        using var pair = new DtlsPair();
        await pair.HandshakeAsync();
        pair.Server.Dispose();
        Assert.Equal(DtlsState.Closed, pair.Client.State); // delivered synchronously by the test link
        await pair.Client.Stopped.WaitAsync(DtlsPair.Patience);
        await pair.Server.Stopped.WaitAsync(DtlsPair.Patience);
        Assert.False(pair.Client.SendApplicationData([1]));
    }

    [Fact]
    public async Task Dispose_racing_senders_and_deliveries_never_throws_and_ends_the_endpoint()
    {
        for (var round = 0; round < 20; round++)
        {
            using var pair = new DtlsPair();
            await pair.HandshakeAsync();
            var stop = false;
            var sender = Task.Run(() =>
            {
                while (!Volatile.Read(ref stop)) pair.Client.SendApplicationData(new byte[100]);
            });
            var other = Task.Run(() =>
            {
                while (!Volatile.Read(ref stop)) pair.Server.SendApplicationData(new byte[100]);
            });
            await DtlsPair.Eventually(() => pair.ToServer.Captured.Count > 20 && pair.ToClient.Captured.Count > 20, "traffic both ways");
            pair.Client.Dispose();
            Volatile.Write(ref stop, true);
            await Task.WhenAll(sender, other).WaitAsync(DtlsPair.Patience);
            await pair.Client.Stopped.WaitAsync(DtlsPair.Patience);
            Assert.Equal(DtlsState.Closed, pair.Client.State);
            Assert.Equal(0, pair.ToServer.DeliverErrors + pair.ToClient.DeliverErrors);
            Assert.Equal(0, pair.Server.DeliverFailures + pair.Client.DeliverFailures);
        }
    }

    [Fact]
    public async Task The_steady_state_Send_and_Deliver_path_allocates_nothing()
    {
        DtlsClientEndpoint? client = null;
        DtlsServerEndpoint? server = null;
        // Links that hand the span straight to the peer: anything allocated is the endpoints'.
        server = new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, d => client!.Deliver(d));
        client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, d => server.Deliver(d));
        using var s = server;
        using var c = client;
        long atServer = 0, atClient = 0;
        server.ApplicationData = d => atServer += d.Length;
        client.ApplicationData = d => atClient += d.Length;
        server.Start();
        client.Start();
        await server.Handshake.WaitAsync(DtlsPair.Patience);
        await client.Handshake.WaitAsync(DtlsPair.Patience);
        var payload = new byte[1000];
        void Run()
        {
            for (var i = 0; i < 1000; i++)
            {
                client.SendApplicationData(payload);
                server.SendApplicationData(payload);
            }
        }
        Run(); // warm: JIT, tiering
        var allocated = Allocations.Min(Run);
        Assert.Equal(0, allocated);
        Assert.Equal(atServer, atClient);
        Assert.True(atServer >= 2000 * 1000L, $"{atServer} bytes arrived");
    }
}
