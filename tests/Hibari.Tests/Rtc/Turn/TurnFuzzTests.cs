using System.Buffers.Binary;
using System.Diagnostics;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>
/// Seeded fuzz of everything a TURN client or a TCP stream can feed the core: mutated valid messages, random bytes, and
/// random attribute lists that are correctly signed (so they get past authentication into the handlers). No input may
/// throw, answer out of range, or forward to a peer that is not allowed. 20,000 inputs by default; HIBARI_FUZZ_ITERATIONS
/// for more.
/// </summary>
public sealed class TurnFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 20_000;

    private static readonly ushort[] AttributeTypes =
    [
        TurnAttributeType.ChannelNumber, TurnAttributeType.Lifetime, TurnAttributeType.XorPeerAddress, TurnAttributeType.Data,
        TurnAttributeType.XorRelayedAddress, TurnAttributeType.RequestedAddressFamily, TurnAttributeType.EvenPort,
        TurnAttributeType.RequestedTransport, TurnAttributeType.DontFragment, TurnAttributeType.ReservationToken,
        TurnAttributeType.AdditionalAddressFamily, StunAttributeType.Priority, StunAttributeType.UserHash, StunAttributeType.PasswordAlgorithm,
        StunAttributeType.ErrorCode, 0x0003, 0x8022, 0xC001,
    ];

    private static readonly ushort[] Methods =
        [TurnMethod.Allocate, TurnMethod.Refresh, TurnMethod.CreatePermission, TurnMethod.ChannelBind, TurnMethod.Send, TurnMethod.Binding, 0x00A, 0x3FF];

    [Fact, Trait("Category", "Fuzz")]
    public void Client_input_never_throws_answers_in_range_and_never_forwards_to_a_forbidden_peer()
    {
        var rng = new Random(20260615);
        var f = new TurnFixture(maxPerUser: 1000, portMin: 50000, portMax: 50999);
        var udp = f.Client(TurnFixture.Udp());
        var tcp = f.Client(TurnFixture.Tcp(11));
        var stranger = f.Client(TurnFixture.Udp("192.0.2.77", 1234));
        TurnTestClient[] clients = [udp, tcp, stranger];
        var now = 1_000_000L;
        Setup(udp, now);
        Setup(tcp, now);
        var seeds = Seeds(udp);

        var response = new byte[1500];
        var output = new byte[1600];
        var clock = Stopwatch.StartNew();
        int answered = 0, forwarded = 0, signedSuccesses = 0;
        for (var i = 0; i < Iterations; i++)
        {
            now += 1000;
            // Random Refresh(0)s and CreatePermissions delete or crowd the allocations; set them up again now and then.
            if (i % 2000 == 1999 || i % 50 == 0 && !(f.Core.TryGetAllocation(udp.Key, now, out _) && f.Core.TryGetAllocation(tcp.Key, now, out _)))
            {
                Setup(udp, now);
                Setup(tcp, now);
                seeds = Seeds(udp);
            }
            var client = clients[rng.Next(clients.Length)];
            var mode = rng.Next(4);
            var input = mode switch
            {
                0 or 1 => Mutate(rng, seeds[rng.Next(seeds.Count)], seeds),
                2 => RandomBytes(rng),
                _ => SignedRandom(rng, client == stranger ? udp : client),
            };

            var started = clock.Elapsed;
            var action = f.Core.HandleFromClient(client.Key, input, response, now);
            Assert.True(clock.Elapsed - started < TimeSpan.FromSeconds(1), $"input {i} took {(clock.Elapsed - started).TotalMilliseconds} ms");
            switch (action.Kind)
            {
                case TurnActionKind.Respond or TurnActionKind.RespondAndClose:
                    Assert.InRange(action.ResponseLength, action.Kind == TurnActionKind.Respond ? 20 : 0, response.Length);
                    if (action.ResponseLength == 0) break;
                    answered++;
                    Assert.Equal(StunParseError.None, TurnMessageReader.TryParse(response.AsSpan(0, action.ResponseLength), out var r));
                    Assert.Equal(input.AsSpan(8, 12).ToArray(), r.TransactionId.ToArray());
                    Assert.NotEqual(StunClass.Request, r.Class);
                    if (mode == 3 && r.Class == StunClass.SuccessResponse) signedSuccesses++;
                    break;
                case TurnActionKind.ForwardToPeer:
                    forwarded++;
                    Assert.InRange(action.PayloadOffset, 0, input.Length);
                    Assert.InRange(action.PayloadLength, 0, input.Length - action.PayloadOffset);
                    Assert.True(f.Options.IsAllowedPeer(action.Peer), $"forwarded to {action.Peer}");
                    Assert.True(f.Core.TryGetAllocation(client.Key, now, out var allocation));
                    Assert.Equal(allocation.Relayed, action.Relayed);
                    break;
                default:
                    Assert.Equal(TurnActionKind.None, action.Kind);
                    Assert.Equal(0, action.ResponseLength);
                    break;
            }

            if (rng.Next(8) == 0)
            {
                // The other direction: random relayed/peer pairs, some of them live.
                var relayed = rng.Next(2) == 0 && f.Core.TryGetAllocation(udp.Key, now, out var a) ? a.Relayed : RandomKey(rng);
                var peer = rng.Next(2) == 0 ? EndpointKey.From(rng.Next(2) == 0 ? TurnFixture.Media0 : TurnFixture.Media1) : RandomKey(rng);
                var payload = new byte[rng.Next(0, 1600)];
                var outLength = rng.Next(0, output.Length);
                if (f.Core.WrapFromPeer(relayed, peer, payload, output.AsSpan(0, outLength), now, out var to, out var length))
                {
                    Assert.InRange(length, 4, outLength);
                    Assert.True(f.Core.TryGetAllocation(to, now, out _));
                }
            }
            if (rng.Next(100) == 0) f.Core.Expire(now);
        }
        // The deep paths must have been reached, or the fuzz proves little.
        Assert.True(answered > Iterations / 10, $"only {answered} answers");
        Assert.True(forwarded > Iterations / 50, $"only {forwarded} forwards");
        Assert.True(signedSuccesses > Iterations / 100, $"only {signedSuccesses} signed random requests succeeded");
        Assert.True(f.Counters().Malformed > 0);
    }

    [Fact, Trait("Category", "Fuzz")]
    public void Frame_length_on_random_and_mutated_streams_never_throws_and_stays_in_range()
    {
        var rng = new Random(77);
        var udp = new TurnFixture().Client();
        var seeds = Seeds(udp);
        Span<ushort> unknown = stackalloc ushort[4];
        for (var i = 0; i < Iterations; i++)
        {
            var input = rng.Next(2) == 0 ? Mutate(rng, seeds[rng.Next(seeds.Count)], seeds) : RandomBytes(rng);
            if (rng.Next(4) == 0) input = input[..rng.Next(input.Length + 1)];
            var length = TurnFraming.FrameLength(input);
            Assert.True(length == -1 || length >= 0 && length <= input.Length, $"{length} for {input.Length} bytes");
            if (length > 0) Assert.True(length >= 4 && length % 4 == 0);

            // Whatever parses must be readable through every getter without throwing.
            if (TurnMessageReader.TryParse(input, out var m) == StunParseError.None)
            {
                m.CollectUnknown(unknown);
                m.TryGetLifetime(out _);
                m.TryGetChannelNumber(out _);
                m.TryGetRequestedTransport(out _);
                m.TryGetFamily(TurnAttributeType.RequestedAddressFamily, out _);
                m.TryGetXorAddress(TurnAttributeType.XorPeerAddress, out _, out _);
                m.TryGetErrorCode(out _);
                if (m.TryGetData(out var offset, out var dataLength)) Assert.InRange(offset + dataLength, 0, input.Length);
                m.VerifyIntegrity(new byte[16]);
                m.VerifyIntegritySha256(new byte[16]);
                m.VerifyFingerprint();
                foreach (var a in m) Assert.InRange(a.ValueOffset + a.Length, 0, input.Length);
            }
            if (TurnChannelData.TryRead(input, out _, out var payload)) Assert.InRange(4 + payload, 4, input.Length);
        }
    }

    private static void Setup(TurnTestClient client, long now)
    {
        client.Now = now;
        if (!client.Core.TryGetAllocation(client.Key, now, out _))
            Assert.Equal(StunClass.SuccessResponse, client.Allocate(3600).Class);
        else client.Refresh(3600);
        client.ChannelBind(0x4000, TurnFixture.Media0);
        client.CreatePermission(TurnFixture.Media0, TurnFixture.Media1);
    }

    /// <summary>One valid message of every kind, signed with the client's current nonce.</summary>
    private static List<byte[]> Seeds(TurnTestClient c)
    {
        var seeds = new List<byte[]>
        {
            c.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0]).Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(600))),
            c.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0]), sign: false),
            c.Build(TurnMethod.Refresh, (w, _) => w.Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(3600))),
            c.Build(TurnMethod.CreatePermission, (w, tx) => w.Add(TurnAttributeType.XorPeerAddress, TurnTestClient.XorAddress(TurnFixture.Media0, tx))
                .Add(TurnAttributeType.XorPeerAddress, TurnTestClient.XorAddress(TurnFixture.Media1, tx))),
            c.Build(TurnMethod.ChannelBind, (w, tx) => w.Add(TurnAttributeType.ChannelNumber, TurnTestClient.UInt32(0x4000u << 16))
                .Add(TurnAttributeType.XorPeerAddress, TurnTestClient.XorAddress(TurnFixture.Media0, tx))),
            c.Build(TurnMethod.Binding),
            c.SendIndication(TurnFixture.Media0, [1, 2, 3, 4, 5]),
            c.SendIndication(TurnFixture.Media1, new byte[300]),
            TurnTestClient.ChannelData(0x4000, [9, 8, 7], pad: false),
            TurnTestClient.ChannelData(0x4000, new byte[201], pad: true),
        };
        var sha = c.UseSha256;
        c.UseSha256 = true;
        seeds.Add(c.Build(TurnMethod.Refresh, (w, _) => w.Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(600))));
        c.UseSha256 = sha;
        return seeds;
    }

    /// <summary>A request or indication of random well-known and random attributes, signed correctly.</summary>
    private static byte[] SignedRandom(Random rng, TurnTestClient client)
    {
        var method = Methods[rng.Next(Methods.Length)];
        var cls = rng.Next(6) == 0 ? StunClass.Indication : StunClass.Request;
        client.UseSha256 = rng.Next(4) == 0;
        try
        {
            return client.Build(method, (w, tx) =>
            {
                var count = rng.Next(0, 5);
                for (var i = 0; i < count; i++)
                {
                    var type = rng.Next(10) == 0 ? (ushort)rng.Next(0x10000) : AttributeTypes[rng.Next(AttributeTypes.Length)];
                    if (type is StunAttributeType.MessageIntegrity or StunAttributeType.MessageIntegritySha256 or StunAttributeType.Fingerprint) continue;
                    w.Add(type, rng.Next(3) == 0 ? RandomValue(rng) : TypicalValue(rng, type, tx));
                }
            }, cls: cls);
        }
        finally { client.UseSha256 = false; }
    }

    private static byte[] TypicalValue(Random rng, ushort type, byte[] tx) => type switch
    {
        TurnAttributeType.ChannelNumber => TurnTestClient.UInt32((uint)rng.Next(0x3FF0, 0x5010) << 16),
        TurnAttributeType.Lifetime => TurnTestClient.UInt32(rng.Next(3) switch { 0 => 0u, 1 => (uint)rng.Next(0, 4000), _ => uint.MaxValue }),
        TurnAttributeType.XorPeerAddress or TurnAttributeType.XorRelayedAddress => TurnTestClient.XorAddress(rng.Next(5) switch
        {
            0 => TurnFixture.Media0, 1 => TurnFixture.Media1, 2 => TurnFixture.MediaV6, 3 => TurnFixture.SameHostOtherPort, _ => TurnFixture.Outsider,
        }, tx),
        TurnAttributeType.RequestedAddressFamily or TurnAttributeType.AdditionalAddressFamily => [(byte)rng.Next(0, 4), 0, 0, 0],
        TurnAttributeType.EvenPort => [(byte)(rng.Next(2) * 0x80)],
        TurnAttributeType.RequestedTransport => [(byte)(rng.Next(2) == 0 ? 17 : rng.Next(256)), 0, 0, 0],
        TurnAttributeType.ReservationToken => RandomValue(rng, 8),
        _ => RandomValue(rng),
    };

    private static byte[] RandomValue(Random rng, int? length = null)
    {
        var value = new byte[length ?? rng.Next(0, 40)];
        rng.NextBytes(value);
        return value;
    }

    private static byte[] RandomBytes(Random rng)
    {
        var data = new byte[rng.Next(0, 200)];
        rng.NextBytes(data);
        if (data.Length > 0 && rng.Next(2) == 0) data[0] = (byte)(rng.Next(2) == 0 ? rng.Next(0, 4) : 0x40 + rng.Next(0, 0x10));
        if (data.Length >= 8 && rng.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), StunMessage.MagicCookie);
        if (data.Length >= 20 && rng.Next(2) == 0) BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(2), (ushort)((data.Length - 20) & ~3));
        return data;
    }

    private static EndpointKey RandomKey(Random rng) =>
        new(rng.Next(2) == 0 ? 0 : (ulong)rng.NextInt64(), rng.Next(2) == 0 ? 0xFFFF_0000_0000UL | (uint)rng.Next() : (ulong)rng.NextInt64(), (ushort)rng.Next(0x10000));

    private static byte[] Mutate(Random rng, byte[] seed, List<byte[]> seeds)
    {
        var data = (byte[])seed.Clone();
        var edits = rng.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            if (data.Length == 0) break;
            switch (rng.Next(8))
            {
                case 0: data[rng.Next(data.Length)] ^= (byte)(1 << rng.Next(8)); break;
                case 1: data[rng.Next(data.Length)] = (byte)rng.Next(256); break;
                case 2: data = data[..rng.Next(data.Length)]; break;
                case 3: data = [.. data, .. RandomValue(rng, rng.Next(1, 9))]; break;
                case 4 when data.Length >= 4: // a length field (header or attribute) set to something else
                {
                    var at = rng.Next(2) == 0 ? 2 : Math.Min(data.Length - 2, 22 + 4 * rng.Next(8));
                    BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(at), (ushort)(rng.Next(3) == 0 ? rng.Next(0x10000) : rng.Next(0, 64)));
                    break;
                }
                case 5: // splice the tail of another seed
                {
                    var other = seeds[rng.Next(seeds.Count)];
                    var cut = rng.Next(data.Length + 1);
                    data = [.. data.AsSpan(0, cut), .. other.AsSpan(Math.Min(cut, other.Length))];
                    break;
                }
                case 6 when data.Length >= 24: // an attribute type replaced
                    BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(20 + 4 * rng.Next((data.Length - 20) / 4)), AttributeTypes[rng.Next(AttributeTypes.Length)]);
                    break;
                default: // header length made consistent again, so the walk goes deeper
                    if (data.Length >= 20 && (data[0] & 0xC0) == 0) BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(2), (ushort)(data.Length - 20));
                    break;
            }
        }
        return data;
    }
}
