using System.Buffers.Binary;
using Hibari.Rtc.Dtls;
using Org.BouncyCastle.Tls;

namespace Hibari.Tests.Rtc.Dtls;

/// <summary>
/// The managed record layer on its own: a client and a server layer built from one key block talk to each other.
/// (That the layout matches what other implementations send is DtlsInteropTests' job, against BouncyCastle.)
/// </summary>
public sealed class ManagedRecordLayerTests
{
    private static readonly int[] AllSuites =
    [
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>The suites this platform's crypto runs (the others are not offered, so not tested).</summary>
    public static readonly TheoryData<int> Suites = new(AllSuites.Where(ManagedRecordLayer.IsSupported));

    [Fact]
    public void On_Linux_all_three_suites_are_supported_and_offered()
    {
        if (!OperatingSystem.IsLinux()) return; // ChaCha20-Poly1305 depends on the OS crypto elsewhere
        Assert.All(AllSuites, s => Assert.True(ManagedRecordLayer.IsSupported(s), $"0x{s:X4}"));
    }

    internal static (ManagedRecordLayer Client, ManagedRecordLayer Server) Layers(int suite, int seed = 1, long firstSequence = 0)
    {
        var keyBlock = new byte[ManagedRecordLayer.KeyBlockLength(suite)];
        new Random(seed).NextBytes(keyBlock);
        return (new ManagedRecordLayer(suite, keyBlock, isServer: false, firstSequence),
            new ManagedRecordLayer(suite, keyBlock, isServer: true, firstSequence));
    }

    /// <summary>Sends one record on <paramref name="from"/> and returns the datagram it produced.</summary>
    internal static byte[] Seal(ManagedRecordLayer from, ReadOnlySpan<byte> data, byte type = ManagedRecordLayer.ApplicationDataType)
    {
        byte[]? sent = null;
        Assert.True(from.Send(type, data, d => sent = d.ToArray()));
        return sent!;
    }

    private static List<(RecordKind Kind, byte[] Plaintext)> Open(ManagedRecordLayer to, ReadOnlySpan<byte> datagram)
    {
        var result = new List<(RecordKind, byte[])>();
        var offset = 0;
        while (true)
        {
            var kind = to.Next(datagram, ref offset, out var length);
            if (kind == RecordKind.End) return result;
            result.Add((kind, to.Plaintext.AsSpan(0, length).ToArray()));
        }
    }

    private static void AssertRecords(ReadOnlySpan<(RecordKind Kind, byte[] Plaintext)> expected, List<(RecordKind Kind, byte[] Plaintext)> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Kind, actual[i].Kind);
            Assert.Equal(expected[i].Plaintext, actual[i].Plaintext);
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Records_cross_both_ways_with_the_RFC_6347_header_and_fill_one_1200_byte_datagram(int suite)
    {
        var (client, server) = Layers(suite, firstSequence: 5000);
        var max = client.MaxPlaintextLength;
        Assert.Equal(suite == CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ? 1200 - 13 - 16 : 1200 - 13 - 8 - 16, max);
        foreach (var length in new[] { 0, 1, 100, max })
        {
            var data = new byte[length];
            new Random(length).NextBytes(data);
            var datagram = Seal(client, data);
            Assert.Equal(ManagedRecordLayer.ApplicationDataType, datagram[0]);
            Assert.Equal(0xFEFD, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(1)));
            Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(3)));
            Assert.Equal(datagram.Length - 13, BinaryPrimitives.ReadUInt16BigEndian(datagram.AsSpan(11)));
            Assert.True(datagram.Length <= 1200);
            Assert.False(length > 16 && datagram.AsSpan().IndexOf(data.AsSpan(0, 16)) >= 0, "the plaintext is not on the wire");
            AssertRecords([(RecordKind.ApplicationData, data)], Open(server, datagram));
            AssertRecords([(RecordKind.ApplicationData, data)], Open(client, Seal(server, data)));
        }
        Assert.Equal(5004, client.NextWriteSequence);
        Assert.Throws<ArgumentException>(() => client.Send(ManagedRecordLayer.ApplicationDataType, new byte[max + 1], _ => { }));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Several_records_in_one_datagram_are_all_read_in_order(int suite)
    {
        var (client, server) = Layers(suite);
        var alert = Seal(client, [1, 0], ManagedRecordLayer.AlertType);
        var a = Seal(client, [1, 2, 3]);
        var b = Seal(client, [4]);
        var datagram = a.Concat(b).Concat(alert).ToArray();
        var records = Open(server, datagram);
        Assert.Equal([RecordKind.ApplicationData, RecordKind.ApplicationData, RecordKind.Alert], records.Select(r => r.Kind));
        Assert.Equal([1, 2, 3], records[0].Plaintext);
        Assert.Equal([4], records[1].Plaintext);
        Assert.Equal([1, 0], records[2].Plaintext);
    }

    [Srtp.GcmIntrinsicsTheory] // skipped where the CPU has one path only (AesGcm)
    [InlineData(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)]
    public void Aes_gcm_records_are_byte_identical_and_cross_between_the_managed_and_the_AesGcm_path(int suite)
    {
        var keyBlock = new byte[ManagedRecordLayer.KeyBlockLength(suite)];
        new Random(suite).NextBytes(keyBlock);
        using var managedClient = new ManagedRecordLayer(suite, keyBlock, isServer: false, 0, managedGcm: true);
        using var platformClient = new ManagedRecordLayer(suite, keyBlock, isServer: false, 0, managedGcm: false);
        using var managedServer = new ManagedRecordLayer(suite, keyBlock, isServer: true, 0, managedGcm: true);
        using var platformServer = new ManagedRecordLayer(suite, keyBlock, isServer: true, 0, managedGcm: false);
        var rng = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var data = new byte[i == 0 ? 0 : rng.Next(0, managedClient.MaxPlaintextLength + 1)];
            rng.NextBytes(data);
            var viaManaged = Seal(managedClient, data);
            var viaPlatform = Seal(platformClient, data);
            Assert.Equal(viaPlatform, viaManaged);
            Assert.Equal(ManagedRecordLayer.ApplicationDataType, viaManaged[0]);

            // Each server opens the other path's record; a flipped bit is dropped by both.
            var forged = (byte[])viaManaged.Clone();
            forged[rng.Next(ManagedRecordLayer.HeaderLength, forged.Length)] ^= (byte)(1 << rng.Next(8));
            Assert.Equal(RecordKind.Dropped, Open(platformServer, forged)[0].Kind);
            Assert.Equal(RecordKind.Dropped, Open(managedServer, forged)[0].Kind);
            AssertRecords([(RecordKind.ApplicationData, data)], Open(platformServer, viaManaged));
            AssertRecords([(RecordKind.ApplicationData, data)], Open(managedServer, viaPlatform));
        }
        Assert.Equal(300, platformServer.Dropped);
        Assert.Equal(300, managedServer.Dropped);
    }

    [Fact]
    public void The_replay_window_takes_reordered_records_once_and_drops_duplicates_and_records_too_old_RFC_6347_4_1_2_6()
    {
        var (client, server) = Layers(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        var records = Enumerable.Range(0, 200).Select(i => Seal(client, [(byte)i])).ToArray();
        Assert.Equal(RecordKind.ApplicationData, Open(server, records[100])[0].Kind);
        Assert.Equal(RecordKind.Dropped, Open(server, records[100])[0].Kind); // replay
        Assert.Equal(RecordKind.ApplicationData, Open(server, records[40])[0].Kind); // 60 behind: inside the window
        Assert.Equal(RecordKind.Dropped, Open(server, records[40])[0].Kind);
        Assert.Equal(RecordKind.Dropped, Open(server, records[36])[0].Kind); // 64 behind: outside
        Assert.Equal(RecordKind.ApplicationData, Open(server, records[199])[0].Kind); // jump ahead
        Assert.Equal(RecordKind.ApplicationData, Open(server, records[136])[0].Kind); // 63 behind the new highest
        Assert.Equal(RecordKind.Dropped, Open(server, records[135])[0].Kind);
        Assert.Equal(RecordKind.Dropped, Open(server, records[100])[0].Kind);
        Assert.Equal(5, server.Dropped);
    }

    [Fact]
    public void A_forged_record_does_not_advance_the_window()
    {
        var (client, server) = Layers(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        var genuine = Seal(client, [7]);
        var forged = (byte[])genuine.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(forged.AsSpan(9), 60000); // a far-ahead sequence number
        forged[^1] ^= 1;
        Assert.Equal(RecordKind.Dropped, Open(server, forged)[0].Kind);
        Assert.Equal(RecordKind.ApplicationData, Open(server, genuine)[0].Kind);
    }

    [Fact]
    public void Epoch_0_handshake_and_ChangeCipherSpec_records_are_reported_other_epochs_and_plaintext_are_dropped()
    {
        var (_, server) = Layers(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        byte[] Plain(byte type, int epoch) => [type, 0xFE, 0xFD, 0, (byte)epoch, 0, 0, 0, 0, 0, 1, 0, 3, 1, 2, 3];
        Assert.Equal(RecordKind.PlainHandshake, Open(server, Plain(22, 0))[0].Kind);
        Assert.Equal(RecordKind.PlainHandshake, Open(server, Plain(20, 0))[0].Kind);
        Assert.Equal(RecordKind.Dropped, Open(server, Plain(23, 0))[0].Kind); // plaintext application data
        Assert.Equal(RecordKind.Dropped, Open(server, Plain(21, 0))[0].Kind); // an unauthenticated alert
        Assert.Equal(RecordKind.Dropped, Open(server, Plain(23, 2))[0].Kind);
        Assert.Equal(RecordKind.Dropped, Open(server, Plain(23, 1))[0].Kind); // too short to be sealed
        Assert.Equal([RecordKind.Dropped], Open(server, [23, 0xFE, 0xFD, 0, 1]).Select(r => r.Kind)); // a torn header
        Assert.Equal([RecordKind.Dropped], Open(server, Plain(23, 1)[..12]).Select(r => r.Kind));
    }

    [Fact]
    public void Closing_sends_the_final_alert_once_and_nothing_after()
    {
        var (client, server) = Layers(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        var sent = new List<byte[]>();
        client.CloseSending(d => sent.Add(d.ToArray()), [1, 0]);
        client.CloseSending(d => sent.Add(d.ToArray()), [1, 0]);
        Assert.False(client.Send(ManagedRecordLayer.ApplicationDataType, [1], d => sent.Add(d.ToArray())));
        Assert.Single(sent);
        AssertRecords([(RecordKind.Alert, [1, 0])], Open(server, sent[0]));
    }

    [Fact]
    public void A_send_overlapping_another_on_the_same_layer_is_refused_not_interleaved()
    {
        var (client, server) = Layers(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
        bool? inner = null;
        byte[]? outer = null;
        Assert.True(client.Send(ManagedRecordLayer.ApplicationDataType, [1], d =>
        {
            outer = d.ToArray();
            inner = client.Send(ManagedRecordLayer.ApplicationDataType, [2], _ => { }); // re-entered from the send callback
        }));
        Assert.False(inner);
        AssertRecords([(RecordKind.ApplicationData, [1])], Open(server, outer!));
        // Closing from inside its own send callback does not wait for itself.
        var started = System.Diagnostics.Stopwatch.StartNew();
        client.Send(ManagedRecordLayer.ApplicationDataType, [3], _ => client.CloseSending(_ => { }, [1, 0]));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(1), $"took {started.Elapsed}");
        Assert.False(client.CanSend);
    }
}
