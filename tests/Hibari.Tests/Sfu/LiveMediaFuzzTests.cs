using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Hibari.Load;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Sfu;

/// <summary>
/// Issue 13 part 3: the UDP media port of a running node, with a publisher sending to a subscriber, fed garbage as fast
/// as the test can send it: random datagrams and STUN-, DTLS-, RTP- and RTCP-shaped ones from an unknown address; the
/// same raw from the publisher's own address (a known peer, no valid SRTP); and mutated RTP and RTCP behind valid SRTP
/// from the publisher (its live SSRC at sequence numbers it has not sent yet, and other SSRCs; any payload type, random
/// extensions, CSRCs, padding; RTCP of every type with random bodies, transport-cc and NACK included). Afterwards the node answers, the running call still
/// delivers, and a new pair gets media. HIBARI_FUZZ_ITERATIONS datagrams per kind (default 3,000).
/// </summary>
[Collection("sfu")]
public sealed class LiveMediaFuzzTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static int PerKind =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? Math.Max(3000, n / 5) : 3000;

    /// <summary>A datagram whose first bytes look like one of the protocols the port demultiplexes (RFC 7983), the rest random.</summary>
    private static byte[] Shaped(Random r)
    {
        var d = new byte[r.Next(0, 1400)];
        r.NextBytes(d);
        if (d.Length < 20) return d;
        switch (r.Next(5))
        {
            case 0: // STUN: type, length, magic cookie
                d[0] = (byte)r.Next(0, 2);
                BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(2), (ushort)(r.Next(2) == 0 ? d.Length - 20 : r.Next(65536)));
                BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(4), 0x2112A442);
                break;
            case 1: d[0] = (byte)r.Next(20, 64); break; // DTLS record
            case 2: d[0] = 0x80; d[1] = (byte)r.Next(0, 128); break; // RTP
            case 3: d[0] = 0x80; d[1] = (byte)r.Next(192, 224); break; // RTCP
        }
        return d;
    }

    /// <summary>
    /// An RTP packet with a mutated header: one of the given SSRCs or a random one, any PT, extension, CSRCs, padding.
    /// On <paramref name="liveSsrc"/> the sequence number is one of the next 16 the publisher has not sent yet: further
    /// off, SRTP itself parts the sender's and the node's index (see the comment in the test).
    /// </summary>
    private static byte[] MutatedRtp(Random r, uint[] ssrcs, uint liveSsrc, ushort liveNext)
    {
        var csrcs = r.Next(4) == 0 ? r.Next(0, 16) : 0;
        var ext = r.Next(2) == 0;
        var extWords = ext ? r.Next(0, 8) : 0;
        var payload = r.Next(0, 1200);
        var p = new byte[12 + csrcs * 4 + (ext ? 4 + extWords * 4 : 0) + payload];
        r.NextBytes(p);
        p[0] = (byte)(0x80 | (r.Next(8) == 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | csrcs);
        p[1] = (byte)((r.Next(2) << 7) | (r.Next(3) == 0 ? r.Next(0, 128) : new[] { 96, 97, 111, 98, 45, 102 }[r.Next(6)]));
        var ssrc = r.Next(4) == 0 ? (uint)r.Next() : ssrcs[r.Next(ssrcs.Length)];
        BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), ssrc);
        if (ssrc == liveSsrc) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(liveNext + r.Next(0, 16)));
        if (ext)
        {
            var at = 12 + csrcs * 4;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at), r.Next(3) switch { 0 => 0xBEDE, 1 => 0x1000, _ => (ushort)r.Next(65536) });
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(at + 2), (ushort)(r.Next(4) == 0 ? r.Next(65536) : extWords));
        }
        return p;
    }

    /// <summary>One or more RTCP packets with valid-looking common headers over random bodies, every type and format.</summary>
    private static byte[] MutatedRtcp(Random r, uint[] ssrcs)
    {
        var packets = new List<byte[]>();
        for (var i = r.Next(1, 4); i > 0; i--)
        {
            var words = r.Next(1, 40);
            var p = new byte[4 + words * 4];
            r.NextBytes(p);
            p[0] = (byte)(0x80 | r.Next(0, 32));
            p[1] = (byte)new[] { 200, 201, 202, 203, 204, 205, 206, 207, r.Next(192, 224) }[r.Next(9)];
            if (p[1] is 205 or 206) p[0] = (byte)(0x80 | new[] { 1, 4, 15, r.Next(32) }[r.Next(4)]);
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)(r.Next(5) == 0 ? r.Next(65536) : words));
            if (p.Length >= 12) BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(8), ssrcs[r.Next(ssrcs.Length)]);
            packets.Add(p);
        }
        return [.. packets.SelectMany(p => p)];
    }

    [Fact, Trait("Category", "Fuzz")]
    public async Task Garbage_on_the_media_port_never_stops_the_node_or_its_calls()
    {
        await using var node = await InProcessNode.StartAsync();
        await using var call = await node.StartCallAsync("media-fuzz", Certificate);
        var (pub, sub) = (call.Publisher, call.Subscriber);

        var random = new Random(20261207);
        var target = new IPEndPoint(IPAddress.Loopback, node.Options.RtcUdpPort);
        using var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        // Mutated RTP on the live SSRC keeps its sequence numbers among the next 16 the publisher will send. Random ones
        // would break the publisher's own stream by SRTP's rules, in any SFU: the sender's SRTP index follows the highest
        // sequence number it protected, a packet more than the 64-packet replay window behind the node's highest is
        // refused as a replay (RFC 3711 §3.3.2), and a jump of half the number space moves the rollover counter on one
        // side only if the node missed a packet (SrtpContextTests.A_sequence_jump_*; docs/reliability.md).
        uint[] rtpSsrcs = [pub.VideoSsrc, 0x1234_5678, 0, uint.MaxValue];
        uint[] rtcpSsrcs = [pub.VideoSsrc, pub.VideoSsrc + 1, 0, uint.MaxValue];
        var n = PerKind;
        var protectedSent = 0;
        for (var i = 0; i < n; i++)
        {
            stranger.SendTo(Shaped(random), target);     // unknown address
            pub.SendRaw(Shaped(random));                 // known peer, no valid SRTP
            if (pub.SendProtected(MutatedRtp(random, rtpSsrcs, pub.VideoSsrc, pub.NextVideoSequence))) protectedSent++;
            if (pub.SendProtected(MutatedRtcp(random, rtcpSsrcs))) protectedSent++;
            if (i % 500 == 499) await Task.Yield();
        }
        // About half are well-formed enough for SRTP to protect (the rest have impossible lengths): those reach the parsers.
        Assert.True(protectedSent > n / 2, $"only {protectedSent} of {2 * n} mutated packets could be protected");

        // The node answers, the running call still delivers, and a new pair gets media.
        Assert.Equal(200, (await node.ApiAsync("Sora_20171010.GetStatsReport")).Status);
        var received = sub.PacketsReceived;
        await InProcessNode.EventuallyAsync("the running call still delivers", () => sub.PacketsReceived > received + 100);
        await call.DisposeAsync();
        await node.AssertNewPairGetsMediaAsync("media-fuzz-after", Certificate);
    }
}
