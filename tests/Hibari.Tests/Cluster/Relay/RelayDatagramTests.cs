using System.Buffers.Binary;
using Hibari.Cluster.Relay.Udp;
using Hibari.Rtc.Transport;
using static Hibari.Tests.Cluster.Relay.RelaySamples;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>
/// The relay's UDP datagram (docs/relay-frames.md, "Relay RTP datagrams"; D-31): layout, round trip, authentication
/// (any changed byte, another secret, pair, direction or salt is refused), and readers that never throw or allocate.
/// </summary>
public sealed class RelayDatagramTests
{
    private const string Secret = "relay-test-secret";
    private const string N1 = "n1@127.0.0.1", N2 = "n2@127.0.0.2", N3 = "n3@127.0.0.3";
    private static readonly UInt128 Salt = new(0x0102030405060708, 0x090A0B0C0D0E0F10);

    private static RelayDatagramAuth Auth(string secret = Secret, UInt128? salt = null, string sender = N1, string receiver = N2) =>
        new(RelayDatagramKeys.Derive(secret, salt ?? Salt, sender, receiver));

    private static byte[] Packet(int payload = 1000, ushort seq = 1)
    {
        var p = new byte[12 + payload];
        p[0] = 0x80;
        p[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), 0xAABBCCDD);
        for (var i = 12; i < p.Length; i++) p[i] = (byte)(i * 31);
        return p;
    }

    private static byte[] Datagram(RelayDatagramAuth auth, byte[]? rtp = null, ulong sequence = 7, byte lane = 1, uint route = 0xCAFEBABE)
    {
        rtp ??= Packet();
        var buffer = new byte[RelayDatagram.MaxDatagramBytes];
        var n = RelayDatagram.WriteRtp(buffer, auth, route, lane, sequence, Session16, 0x11223344, 0x0102030405060708, rtp);
        Assert.Equal(RelayDatagram.Overhead + rtp.Length, n);
        return buffer[..n];
    }

    private static bool Accepts(RelayDatagramAuth auth, byte[] datagram) =>
        RelayDatagram.TryParse(datagram, out var view, out _) && RelayDatagram.Verify(auth, view);

    [Fact]
    public void The_marker_is_outside_what_a_media_worker_demultiplexes_and_the_worker_refuses_a_handler_inside_it()
    {
        var marker = (int)RelayDatagram.Marker; // not a constant: the check below is the point
        Assert.False(marker <= 3 || marker is >= 20 and <= 63 || marker is >= 128 and <= 191);
        using var worker = new MediaWorker(System.Net.IPAddress.Loopback, 0);
        var handler = new NullHandler();
        foreach (var b in new byte[] { 0, 3, 20, 63, 128, 191 })
            Assert.Throws<ArgumentException>(() => worker.SetDatagramHandler(b, handler));
        worker.SetDatagramHandler(RelayDatagram.Marker, handler);
    }

    private sealed class NullHandler : IWorkerDatagramHandler
    {
        public void OnDatagram(Span<byte> datagram, System.Net.SocketAddress from) { }
    }

    [Fact]
    public void An_rtp_datagram_has_its_documented_layout_and_reads_back()
    {
        using var auth = Auth();
        var rtp = Packet(20);
        var d = Datagram(auth, rtp, sequence: 0x0102030405060708, lane: 3, route: 0xA1B2C3D4);
        Assert.Equal(60, RelayDatagram.Overhead);
        Assert.Equal(60 + rtp.Length, d.Length);
        byte[] header =
        [
            0xF7, 0x01, 0x03, 0x00, // marker, version, lane 3, kind RTP
            0xA1, 0xB2, 0xC3, 0xD4, // route id
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // sequence
            .. Session16,
            0x11, 0x22, 0x33, 0x44, // ssrc
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // SentAtMicros
        ];
        Assert.Equal(header, d[..44]);
        Assert.Equal(rtp, d[44..^16]);

        Assert.True(RelayDatagram.TryParse(d, out var view, out var error), error.ToString());
        Assert.Equal(RelayDatagramKind.Rtp, view.Kind);
        Assert.Equal(3, view.Lane);
        Assert.Equal(0xA1B2C3D4u, view.RouteId);
        Assert.Equal(0x0102030405060708ul, view.Sequence);
        Assert.Equal(Session16, view.SessionId16.ToArray());
        Assert.Equal(0x11223344u, view.Ssrc);
        Assert.Equal(0x0102030405060708, view.SentAtMicros);
        Assert.Equal(rtp, view.Rtp.ToArray());
        Assert.True(RelayDatagram.Verify(auth, view));
    }

    [Fact]
    public void A_probe_carries_no_packet_and_verifies()
    {
        using var auth = Auth();
        var buffer = new byte[100];
        var n = RelayDatagram.WriteProbe(buffer, auth, 9, 0, 1, 42);
        Assert.Equal(RelayDatagram.Overhead, n);
        Assert.True(RelayDatagram.TryParse(buffer.AsSpan(0, n), out var view, out _));
        Assert.Equal(RelayDatagramKind.Probe, view.Kind);
        Assert.True(view.Rtp.IsEmpty);
        Assert.True(RelayDatagram.Verify(auth, view));
        // An RTP datagram relabelled as a probe (it has a body) is refused by its layout.
        var d = Datagram(auth);
        d[3] = 1;
        Assert.False(RelayDatagram.TryParse(d, out _, out var error));
        Assert.Equal(RelayDatagramError.InvalidValue, error);
    }

    [Fact]
    public void Every_changed_bit_anywhere_is_refused()
    {
        using var auth = Auth();
        var good = Datagram(auth, Packet(100));
        Assert.True(Accepts(auth, good));
        for (var i = 0; i < good.Length; i++)
            for (var bit = 0; bit < 8; bit++)
            {
                var bad = (byte[])good.Clone();
                bad[i] ^= (byte)(1 << bit);
                Assert.False(Accepts(auth, bad), $"byte {i} bit {bit} changed and the datagram still verified");
            }
        // Shortened or lengthened: refused too.
        for (var n = 0; n < good.Length; n++) Assert.False(Accepts(auth, good[..n]));
        Assert.False(Accepts(auth, [.. good, 0]));
    }

    [Fact]
    public void Another_secret_pair_direction_or_salt_gives_another_key_and_is_refused()
    {
        using var auth = Auth();
        var d = Datagram(auth);
        Assert.True(Accepts(auth, d));
        using var otherSecret = Auth(secret: "another-secret");
        using var reversed = Auth(sender: N2, receiver: N1);
        using var otherReceiver = Auth(receiver: N3);
        using var otherSender = Auth(sender: N3);
        using var otherSalt = Auth(salt: Salt + 1);
        foreach (var wrong in new[] { otherSecret, reversed, otherReceiver, otherSender, otherSalt })
            Assert.False(Accepts(wrong, d));
        var keys = new[]
        {
            RelayDatagramKeys.Derive(Secret, Salt, N1, N2), RelayDatagramKeys.Derive("another-secret", Salt, N1, N2),
            RelayDatagramKeys.Derive(Secret, Salt, N2, N1), RelayDatagramKeys.Derive(Secret, Salt, N1, N3),
            RelayDatagramKeys.Derive(Secret, Salt + 1, N1, N2),
            RelayDatagramKeys.Derive(Secret, Salt, "n1@127.0.0.", "1n2@127.0.0.2"), // the same bytes split elsewhere
        };
        Assert.All(keys, k => Assert.Equal(16, k.Length));
        Assert.Equal(keys.Length, keys.Select(Convert.ToHexString).Distinct().Count());
        Assert.Equal(keys[0], RelayDatagramKeys.Derive(Secret, Salt, N1, N2)); // deterministic: both nodes derive it
    }

    [Fact]
    public void The_same_bytes_under_another_lane_or_sequence_do_not_verify()
    {
        using var auth = Auth();
        var a = Datagram(auth, sequence: 5, lane: 0);
        // Re-label lane/sequence (as a forger would, to get past the replay window): the nonce changes, the tag fails.
        var relabelled = (byte[])a.Clone();
        relabelled[2] = 1;
        Assert.False(Accepts(auth, relabelled));
        relabelled = (byte[])a.Clone();
        BinaryPrimitives.WriteUInt64BigEndian(relabelled.AsSpan(8), 6);
        Assert.False(Accepts(auth, relabelled));
    }

    [Fact]
    public void Layout_errors_are_named()
    {
        using var auth = Auth();
        var good = Datagram(auth);
        RelayDatagramError Error(byte[] d)
        {
            Assert.False(RelayDatagram.TryParse(d, out _, out var e));
            return e;
        }
        Assert.Equal(RelayDatagramError.NotRelay, Error([]));
        Assert.Equal(RelayDatagramError.NotRelay, Error([0x80, .. good[1..]]));
        Assert.Equal(RelayDatagramError.Truncated, Error(good[..59]));
        Assert.Equal(RelayDatagramError.Truncated, Error([.. good[..44], .. new byte[11], .. good[^16..]])); // 11-byte "RTP"
        Assert.Equal(RelayDatagramError.Oversize, Error([.. good, .. new byte[RelayDatagram.MaxDatagramBytes]]));
        var v = (byte[])good.Clone();
        v[1] = 2;
        Assert.Equal(RelayDatagramError.UnsupportedVersion, Error(v));
        v = (byte[])good.Clone();
        v[2] = 64;
        Assert.Equal(RelayDatagramError.InvalidValue, Error(v)); // lane
        v = (byte[])good.Clone();
        v[3] = 2;
        Assert.Equal(RelayDatagramError.InvalidValue, Error(v)); // kind
        v = (byte[])good.Clone();
        v[44] = 0x40;
        Assert.Equal(RelayDatagramError.InvalidValue, Error(v)); // RTP version 1
    }

    [Fact]
    public void Writers_refuse_what_the_format_cannot_carry()
    {
        using var auth = Auth();
        var buffer = new byte[4096];
        Assert.Throws<ArgumentException>(() => RelayDatagram.WriteRtp(buffer, auth, 1, 0, 1, Session16, 1, 0, new byte[11]));
        Assert.Throws<ArgumentException>(() => RelayDatagram.WriteRtp(buffer, auth, 1, 0, 1, Session16, 1, 0, Packet(RelayDatagram.MaxRtpBytes - 11)));
        Assert.Throws<ArgumentException>(() => RelayDatagram.WriteRtp(buffer, auth, 1, 64, 1, Session16, 1, 0, Packet()));
        Assert.Throws<ArgumentException>(() => RelayDatagram.WriteRtp(buffer, auth, 1, 0, 1, Session16[..15], 1, 0, Packet()));
        Assert.Equal(0, RelayDatagram.WriteRtp(buffer.AsSpan(0, 60 + 1011), auth, 1, 0, 1, Session16, 1, 0, Packet()));
        Assert.Equal(RelayDatagram.MaxDatagramBytes, RelayDatagram.WriteRtp(buffer, auth, 1, 0, 1, Session16, 1, 0, Packet(RelayDatagram.MaxRtpBytes - 12)));
    }

    [Fact]
    [Trait("Category", "Fuzz")]
    public void Random_bytes_and_mutations_never_throw_and_never_verify()
    {
        using var auth = Auth();
        var rng = new Random(31);
        var seeds = new[] { Datagram(auth, Packet(0)), Datagram(auth, Packet(300)), Datagram(auth, Packet(1200)) };
        var iterations = int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 20_000;
        var parsed = 0;
        for (var i = 0; i < iterations; i++)
        {
            byte[] d;
            if (i % 2 == 0)
            {
                d = new byte[rng.Next(0, 2200)];
                rng.NextBytes(d);
                if (d.Length > 4 && rng.Next(2) == 0) { d[0] = RelayDatagram.Marker; d[1] = 1; d[2] = (byte)rng.Next(64); d[3] = (byte)rng.Next(2); }
                if (d.Length > 44 && rng.Next(2) == 0) d[44] = 0x80;
            }
            else
            {
                var seed = seeds[rng.Next(seeds.Length)];
                var list = seed.ToList();
                for (var e = rng.Next(1, 4); e > 0; e--)
                {
                    var at = rng.Next(list.Count + 1);
                    switch (rng.Next(4))
                    {
                        case 0 when at < list.Count: list[at] ^= (byte)(1 << rng.Next(8)); break;
                        case 1: list.Insert(at, (byte)rng.Next(256)); break;
                        case 2 when at < list.Count: list.RemoveAt(at); break;
                        default: list.RemoveRange(at, list.Count - at); break;
                    }
                }
                d = list.ToArray();
                if (d.AsSpan().SequenceEqual(seed)) continue; // the edits cancelled out
            }
            if (RelayDatagram.TryParse(d, out var view, out var error))
            {
                Assert.Equal(RelayDatagramError.None, error);
                parsed++;
                Assert.False(RelayDatagram.Verify(auth, view), $"a changed datagram verified (iteration {i})");
            }
            else
            {
                Assert.NotEqual(RelayDatagramError.None, error);
            }
        }
        Assert.True(parsed > iterations / 20, $"only {parsed} inputs reached the tag check");
    }

    [Fact]
    public void Writing_reading_and_verifying_allocate_nothing()
    {
        using var auth = Auth();
        var rtp = Packet(1000);
        var buffer = new byte[RelayDatagram.MaxDatagramBytes];
        ulong seq = 0;
        var ok = 0;
        void Run()
        {
            for (var i = 0; i < 2000; i++)
            {
                var n = RelayDatagram.WriteRtp(buffer, auth, 5, 1, ++seq, Session16, 1, 2, rtp);
                if (RelayDatagram.TryParse(buffer.AsSpan(0, n), out var view, out _) && RelayDatagram.Verify(auth, view)) ok++;
            }
        }
        Run(); // warm-up (JIT)
        Assert.Equal(0, Allocations.Min(Run));
        Assert.True(ok >= 4000);
    }
}
