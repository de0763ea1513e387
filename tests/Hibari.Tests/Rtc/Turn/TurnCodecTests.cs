using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>The TURN message codec: every attribute written and read back, integrity rules, ChannelData, no throws on bad input.</summary>
public class TurnCodecTests
{
    private static readonly byte[] Tx = Convert.FromHexString("0102030405060708090a0b0c");

    private static byte[] Write(ushort method, StunClass cls, WriterAction build, int size = 1500)
    {
        var buffer = new byte[size];
        var w = new TurnMessageWriter(buffer, method, cls, Tx);
        build(ref w);
        Assert.False(w.Overflow);
        return buffer[..w.Length];
    }

    private delegate void WriterAction(ref TurnMessageWriter w);

    private static TurnMessageReader Read(byte[] data)
    {
        Assert.Equal(StunParseError.None, TurnMessageReader.TryParse(data, out var m));
        return m;
    }

    [Theory]
    [InlineData(TurnMethod.Allocate, StunClass.Request)]
    [InlineData(TurnMethod.Refresh, StunClass.SuccessResponse)]
    [InlineData(TurnMethod.CreatePermission, StunClass.ErrorResponse)]
    [InlineData(TurnMethod.ChannelBind, StunClass.Request)]
    [InlineData(TurnMethod.Send, StunClass.Indication)]
    [InlineData(TurnMethod.Data, StunClass.Indication)]
    public void Method_and_class_survive_the_header(ushort method, StunClass cls)
    {
        var m = Read(Write(method, cls, (ref TurnMessageWriter _) => { }));
        Assert.Equal(method, m.Method);
        Assert.Equal(cls, m.Class);
        Assert.Equal(Tx, m.TransactionId.ToArray());
        // The ICE codec agrees on the type bits.
        var ice = StunMessage.Parse(Write(method, cls, (ref TurnMessageWriter _) => { })).Message!;
        Assert.Equal(method, ice.Method);
        Assert.Equal(cls, ice.Class);
    }

    [Theory]
    [InlineData("198.51.100.1", 5000)]
    [InlineData("0.0.0.0", 0)]
    [InlineData("255.255.255.255", 65535)]
    [InlineData("2001:db8::1", 5000)]
    [InlineData("::1", 1)]
    [InlineData("fe80::1234:5678:9abc:def0", 49152)]
    public void Xor_peer_relayed_and_mapped_addresses_round_trip_and_match_an_independent_encoding(string address, int port)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var key = EndpointKey.From(endPoint);
        foreach (var type in new[] { TurnAttributeType.XorPeerAddress, TurnAttributeType.XorRelayedAddress, StunAttributeType.XorMappedAddress })
        {
            var bytes = Write(TurnMethod.Allocate, StunClass.SuccessResponse, (ref TurnMessageWriter w) => w.AddXorAddress(type, key));
            var m = Read(bytes);
            Assert.True(m.TryGetXorAddress(type, out var back, out var family));
            Assert.Equal(key, back);
            Assert.Equal(endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 1 : 2, family);
            Assert.True(m.TryGet(type, out ReadOnlySpan<byte> value));
            Assert.Equal(TurnTestClient.XorAddress(endPoint, Tx), value.ToArray());
            Assert.Equal(endPoint, TurnTestClient.ReadXorAddress(value, Tx));
        }
    }

    [Fact]
    public void Xor_address_with_bad_family_or_length_is_refused_not_thrown()
    {
        foreach (var value in new byte[][] { [], [0, 1, 0], [0, 1, 0, 0, 1, 2, 3], [0, 3, 0, 0, 1, 2, 3, 4], [0, 2, 0, 0, 1, 2, 3, 4], new byte[21] })
        {
            var bytes = Write(TurnMethod.Send, StunClass.Indication, (ref TurnMessageWriter w) => w.Add(TurnAttributeType.XorPeerAddress, value));
            Assert.False(Read(bytes).TryGetXorAddress(TurnAttributeType.XorPeerAddress, out _, out _));
        }
    }

    [Fact]
    public void Lifetime_channel_number_requested_transport_and_families_round_trip()
    {
        var bytes = Write(TurnMethod.Allocate, StunClass.Request, (ref TurnMessageWriter w) =>
        {
            w.AddLifetime(3600);
            w.AddChannelNumber(0x4ABC);
            w.AddRequestedTransport(TurnConstants.ProtocolUdp);
            w.AddFamily(TurnAttributeType.RequestedAddressFamily, TurnConstants.FamilyIPv6);
            w.AddFamily(TurnAttributeType.AdditionalAddressFamily, TurnConstants.FamilyIPv6);
            w.Add(TurnAttributeType.EvenPort, [0x80]);
            w.Add(TurnAttributeType.DontFragment, []);
            w.Add(TurnAttributeType.ReservationToken, [1, 2, 3, 4, 5, 6, 7, 8]);
        });
        var m = Read(bytes);
        Assert.True(m.TryGetLifetime(out var lifetime));
        Assert.Equal(3600u, lifetime);
        Assert.True(m.TryGetChannelNumber(out var channel));
        Assert.Equal(0x4ABC, channel);
        Assert.True(m.TryGetRequestedTransport(out var protocol));
        Assert.Equal(17, protocol);
        Assert.True(m.TryGetFamily(TurnAttributeType.RequestedAddressFamily, out var family));
        Assert.Equal(TurnConstants.FamilyIPv6, family);
        Assert.True(m.TryGetFamily(TurnAttributeType.AdditionalAddressFamily, out family));
        Assert.Equal(TurnConstants.FamilyIPv6, family);
        Assert.True(m.TryGet(TurnAttributeType.EvenPort, out ReadOnlySpan<byte> even));
        Assert.Equal([0x80], even.ToArray());
        Assert.True(m.Has(TurnAttributeType.DontFragment));
        Assert.True(m.TryGet(TurnAttributeType.ReservationToken, out ReadOnlySpan<byte> token));
        Assert.Equal(8, token.Length);
        // Wire layout: CHANNEL-NUMBER is the number then 16 bits RFFU; REQUESTED-TRANSPORT the protocol then 24 bits RFFU.
        Assert.True(m.TryGet(TurnAttributeType.ChannelNumber, out ReadOnlySpan<byte> raw));
        Assert.Equal(new byte[] { 0x4A, 0xBC, 0, 0 }, raw.ToArray());
        Assert.True(m.TryGet(TurnAttributeType.RequestedTransport, out raw));
        Assert.Equal(new byte[] { 17, 0, 0, 0 }, raw.ToArray());
        // Every one of these is comprehension-required and known.
        Span<ushort> unknown = stackalloc ushort[8];
        Assert.Equal(0, m.CollectUnknown(unknown));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(1199)]
    public void Data_round_trips_with_padding_and_its_offset_points_into_the_message(int length)
    {
        var payload = new byte[length];
        new Random(length).NextBytes(payload);
        var bytes = Write(TurnMethod.Send, StunClass.Indication, (ref TurnMessageWriter w) =>
        {
            w.Add(TurnAttributeType.Data, payload);
            w.AddUInt32(0x8055, 7); // an attribute after DATA: the padding must have been right to find it
        });
        Assert.Equal(0, bytes.Length % 4);
        var m = Read(bytes);
        Assert.True(m.TryGetData(out var offset, out var got));
        Assert.Equal(length, got);
        Assert.Equal(payload, bytes[offset..(offset + got)]);
        Assert.True(m.TryGetUInt32(0x8055, out var seven));
        Assert.Equal(7u, seven);
        for (var i = offset + got; i < ((offset + got + 3) & ~3); i++) Assert.Equal(0, bytes[i]);
    }

    [Fact]
    public void Error_code_unknown_attributes_and_texts_round_trip_through_the_ice_codec()
    {
        var bytes = Write(TurnMethod.Allocate, StunClass.ErrorResponse, (ref TurnMessageWriter w) =>
        {
            w.AddErrorCode(TurnError.AllocationQuotaReached);
            w.AddUnknownAttributes([0x0003, 0x7777]);
            w.AddText(StunAttributeType.Realm, "réalm");
            w.AddText(StunAttributeType.Nonce, "abc");
            w.AddErrorCode(TurnAttributeType.AddressErrorCode, TurnConstants.FamilyIPv6, TurnError.AddressFamilyNotSupported);
        });
        var ice = StunMessage.Parse(bytes).Message!;
        Assert.True(ice.TryGetErrorCode(out var code, out var reason));
        Assert.Equal(486, code);
        Assert.Equal("Allocation Quota Reached", reason);
        Assert.True(ice.TryGetAttribute(StunAttributeType.UnknownAttributes, out var unknown));
        Assert.Equal(new byte[] { 0, 3, 0x77, 0x77 }, unknown.ToArray());
        Assert.True(ice.TryGetAttribute(StunAttributeType.Realm, out var realm));
        Assert.Equal("réalm", Encoding.UTF8.GetString(realm));
        Assert.True(ice.TryGetAttribute(TurnAttributeType.AddressErrorCode, out var addressError));
        Assert.Equal(new byte[] { 2, 0, 4, 40 }, addressError[..4].ToArray());
        Assert.Equal("Address Family not Supported", Encoding.ASCII.GetString(addressError[4..]));
        Assert.True(Read(bytes).TryGetErrorCode(out code));
        Assert.Equal(486, code);
    }

    [Theory]
    [InlineData(400, "Bad Request")]
    [InlineData(401, "Unauthenticated")]
    [InlineData(403, "Forbidden")]
    [InlineData(420, "Unknown Attribute")]
    [InlineData(437, "Allocation Mismatch")]
    [InlineData(438, "Stale Nonce")]
    [InlineData(440, "Address Family not Supported")]
    [InlineData(441, "Wrong Credentials")]
    [InlineData(442, "Unsupported Transport Protocol")]
    [InlineData(443, "Peer Address Family Mismatch")]
    [InlineData(486, "Allocation Quota Reached")]
    [InlineData(508, "Insufficient Capacity")]
    public void Error_reason_phrases_are_the_rfc_ones(int code, string phrase) => Assert.Equal(phrase, TurnError.Reason(code));

    [Fact]
    public void Integrity_written_by_the_turn_writer_equals_the_ice_writers_and_verifies_both_ways()
    {
        var key = TurnAuth.LongTermKey("alice", "hibari.test", "pw");
        var ours = Write(TurnMethod.Refresh, StunClass.Request, (ref TurnMessageWriter w) =>
        {
            w.AddLifetime(600);
            w.AddText(StunAttributeType.Username, "alice");
            w.AddMessageIntegrity(key);
            w.AddFingerprint();
        });
        var theirs = new StunMessageWriter(TurnMethod.Refresh, StunClass.Request, Tx)
            .Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(600)).AddUsername("alice").AddMessageIntegrity(key).AddFingerprint().ToArray();
        Assert.Equal(theirs, ours);
        var m = Read(ours);
        Assert.True(m.VerifyIntegrity(key));
        Assert.True(m.VerifyFingerprint());
        Assert.False(m.VerifyIntegritySha256(key)); // none present
    }

    [Theory]
    [InlineData(32)]
    [InlineData(16)]
    [InlineData(20)]
    [InlineData(28)]
    public void Message_integrity_sha256_verifies_full_and_truncated(int length)
    {
        var key = TurnAuth.LongTermKey("bob", "hibari.test", "pw2");
        var unsigned = new StunMessageWriter(TurnMethod.Allocate, StunClass.Request, Tx).AddUsername("bob").ToArray();
        var signed = TurnTestClient.AppendFingerprint(TurnTestClient.AppendSha256(unsigned, key, length));
        var m = Read(signed);
        Assert.True(m.HasIntegritySha256);
        Assert.False(m.HasIntegrity);
        Assert.True(m.VerifyIntegritySha256(key));
        Assert.True(m.VerifyFingerprint());
        Assert.False(m.VerifyIntegritySha256(TurnAuth.LongTermKey("bob", "hibari.test", "pw3")));
    }

    [Fact]
    public void Writer_sha256_integrity_matches_an_independent_hmac()
    {
        var key = TurnAuth.LongTermKey("bob", "hibari.test", "pw2");
        var ours = Write(TurnMethod.Allocate, StunClass.SuccessResponse, (ref TurnMessageWriter w) =>
        {
            w.AddLifetime(600);
            w.AddMessageIntegritySha256(key);
        });
        var expected = TurnTestClient.AppendSha256(new StunMessageWriter(TurnMethod.Allocate, StunClass.SuccessResponse, Tx)
            .Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(600)).ToArray(), key);
        Assert.Equal(expected, ours);
    }

    [Fact]
    public void Attributes_after_integrity_do_not_count_except_sha256_and_fingerprint()
    {
        var key = new byte[16];
        var plain = new StunMessageWriter(TurnMethod.Allocate, StunClass.Request, Tx).Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(1))
            .AddMessageIntegrity(key).Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(2)).Add(0x0003, [0, 0, 0, 0]).ToArray();
        var m = Read(TurnTestClient.AppendFingerprint(TurnTestClient.AppendSha256(plain, key)));
        Assert.True(m.TryGetLifetime(out var lifetime));
        Assert.Equal(1u, lifetime);
        Span<ushort> unknown = stackalloc ushort[4];
        Assert.Equal(0, m.CollectUnknown(unknown)); // 0x0003 after MESSAGE-INTEGRITY is ignored
        Assert.True(m.HasIntegrity);
        Assert.True(m.HasIntegritySha256);
        Assert.True(m.VerifyIntegrity(key));
        Assert.True(m.VerifyIntegritySha256(key));
        Assert.True(m.VerifyFingerprint());
        var count = 0;
        foreach (var _ in m) count++;
        Assert.Equal(1, count);
    }

    [Fact]
    public void Broken_framing_is_reported_not_thrown()
    {
        var good = new StunMessageWriter(TurnMethod.Refresh, StunClass.Request, Tx).Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(5)).AddFingerprint().ToArray();
        Assert.Equal(StunParseError.None, TurnMessageReader.TryParse(good, out _));
        Assert.Equal(StunParseError.TooShort, TurnMessageReader.TryParse(good[..19], out _));
        Assert.Equal(StunParseError.LengthMismatch, TurnMessageReader.TryParse(good[..^4], out _));
        var notStun = (byte[])good.Clone();
        notStun[0] = 0x80;
        Assert.Equal(StunParseError.NotStun, TurnMessageReader.TryParse(notStun, out _));
        var cookie = (byte[])good.Clone();
        cookie[5] ^= 1;
        Assert.Equal(StunParseError.BadMagicCookie, TurnMessageReader.TryParse(cookie, out _));
        var overrun = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(overrun.AsSpan(22), 200);
        Assert.Equal(StunParseError.AttributeOverrun, TurnMessageReader.TryParse(overrun, out _));
        var after = new StunMessageWriter(TurnMethod.Refresh, StunClass.Request, Tx).AddFingerprint().Add(TurnAttributeType.Lifetime, TurnTestClient.UInt32(5)).ToArray();
        Assert.Equal(StunParseError.AttributeAfterFingerprint, TurnMessageReader.TryParse(after, out _));
        var shortSha = TurnTestClient.AppendSha256(new StunMessageWriter(TurnMethod.Refresh, StunClass.Request, Tx).ToArray(), new byte[16], 12);
        Assert.Equal(StunParseError.BadIntegrityLength, TurnMessageReader.TryParse(shortSha, out _));
    }

    [Fact]
    public void Writer_overflow_is_a_flag_and_a_zero_length_never_an_exception()
    {
        var small = new byte[40];
        var w = new TurnMessageWriter(small, TurnMethod.Data, StunClass.Indication, Tx);
        w.AddXorAddress(TurnAttributeType.XorPeerAddress, EndpointKey.From(new IPEndPoint(IPAddress.Loopback, 1)));
        Assert.False(w.Overflow);
        w.Add(TurnAttributeType.Data, new byte[100]);
        Assert.True(w.Overflow);
        Assert.Equal(0, w.Length);
        w.AddMessageIntegrity(new byte[16]);
        w.AddFingerprint();
        w.AddErrorCode(400);
        Assert.Equal(0, w.Length);
        var tiny = new TurnMessageWriter(new byte[10], TurnMethod.Data, StunClass.Indication, Tx);
        Assert.True(tiny.Overflow);
        var badTx = new TurnMessageWriter(new byte[100], TurnMethod.Data, StunClass.Indication, new byte[3]);
        Assert.True(badTx.Overflow);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(1000)]
    [InlineData(65535)]
    public void Channel_data_round_trips_padded_and_unpadded(int length)
    {
        var payload = RandomNumberGenerator.GetBytes(length);
        foreach (var pad in new[] { false, true })
        {
            var output = new byte[length + 8];
            var written = TurnChannelData.Write(output, 0x4001, payload, pad);
            Assert.Equal(4 + (pad ? (length + 3) & ~3 : length), written);
            Assert.Equal(written, TurnChannelData.MessageLength(length, pad));
            Assert.Equal(TurnTestClient.ChannelData(0x4001, payload, pad), output[..written]);
            Assert.True(TurnChannelData.LooksLikeChannelData(output));
            Assert.True(TurnChannelData.TryRead(output.AsSpan(0, written), out var channel, out var got));
            Assert.Equal(0x4001, channel);
            Assert.Equal(length, got);
            Assert.Equal(payload, output[4..(4 + got)]);
        }
    }

    [Fact]
    public void Channel_data_with_a_bad_channel_or_length_is_refused()
    {
        var ok = TurnTestClient.ChannelData(0x4FFF, [1, 2, 3, 4, 5], pad: true); // 4 + 8
        Assert.True(TurnChannelData.TryRead(ok, out _, out _));
        Assert.True(TurnChannelData.TryRead(ok[..9], out _, out var length)); // UDP: no padding is fine
        Assert.Equal(5, length);
        Assert.False(TurnChannelData.TryRead(ok[..8], out _, out _)); // shorter than its length
        Assert.False(TurnChannelData.TryRead([.. ok, 0, 0, 0, 0], out _, out _)); // more than 3 bytes of padding
        Assert.False(TurnChannelData.TryRead(ok[..3], out _, out _));
        Assert.False(TurnChannelData.TryRead(TurnTestClient.ChannelData(0x5000, [1], pad: true), out _, out _));
        Assert.False(TurnChannelData.TryRead(TurnTestClient.ChannelData(0x3FFF, [1], pad: true), out _, out _));
        Assert.Equal(0, TurnChannelData.Write(new byte[7], 0x4000, [1, 2, 3, 4], pad: false));
        Assert.Equal(0, TurnChannelData.Write(new byte[70000], 0x4000, new byte[65536], pad: false));
    }

    [Fact]
    public void Nonces_are_printable_bound_to_client_and_key_and_expire()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var client = TurnFixture.Udp();
        var nonce = new byte[TurnNonce.Length];
        TurnNonce.Write(key, 5_000_000, client, nonce);
        Assert.All(nonce, b => Assert.True(b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f'));
        Assert.Equal(TurnNonceCheck.Valid, TurnNonce.Check(key, nonce, client, 4_999_999));
        Assert.Equal(TurnNonceCheck.Expired, TurnNonce.Check(key, nonce, client, 5_000_000));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, nonce, TurnFixture.Udp(port: 40001), 0));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, nonce, client with { Transport = TurnTransport.Tcp }, 0));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, nonce, client with { ConnectionId = 1 }, 0));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(RandomNumberGenerator.GetBytes(32), nonce, client, 0));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, nonce[..39], client, 0));
        Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, "f//499k954d6OL34oL9FSTvy64sA"u8, client, 0));
        for (var i = 0; i < nonce.Length; i++)
        {
            var tampered = (byte[])nonce.Clone();
            tampered[i] = tampered[i] == (byte)'0' ? (byte)'1' : (byte)'0';
            Assert.Equal(TurnNonceCheck.Invalid, TurnNonce.Check(key, tampered, client, 0));
        }
    }
}
