using System.Net;
using System.Text;
using Hibari.Rtc.Ice;

namespace Hibari.Tests.Rtc.Ice;

public class StunMessageTests
{
    private static StunMessage ParseOk(byte[] data)
    {
        var result = StunMessage.Parse(data);
        Assert.Equal(StunParseError.None, result.Error);
        return result.Message!;
    }

    [Fact]
    public void Rfc5769_sample_request_verifies_with_the_given_password()
    {
        var m = ParseOk(Rfc5769Vectors.Request);
        Assert.True(m.IsBindingRequest);
        Assert.Equal(Rfc5769Vectors.TransactionId, m.TransactionId.ToArray());
        Assert.True(m.TryGetUsername(out var username));
        Assert.Equal(Rfc5769Vectors.Username, username);
        Assert.True(m.TryGetPriority(out var priority));
        Assert.Equal(0x6e0001ffu, priority);
        Assert.True(m.TryGetIceControlled(out var tie));
        Assert.Equal(0x932ff9b151263b36ul, tie);
        Assert.False(m.HasUseCandidate);
        Assert.True(m.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.False(m.VerifyIntegrity("VOkJxbRl1RmTxUk/WvJxBu"u8));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Rfc5769_sample_IPv4_response_decodes_192_0_2_1_port_32853()
    {
        var m = ParseOk(Rfc5769Vectors.ResponseIPv4);
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(StunMessage.BindingMethod, m.Method);
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), mapped);
        Assert.True(m.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Rfc5769_sample_IPv6_response_decodes_2001_db8_address_port_32853()
    {
        var m = ParseOk(Rfc5769Vectors.ResponseIPv6);
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853), mapped);
        Assert.True(m.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void A_flipped_bit_anywhere_breaks_fingerprint_or_parse()
    {
        for (var i = 0; i < Rfc5769Vectors.Request.Length * 8; i++)
        {
            var data = (byte[])Rfc5769Vectors.Request.Clone();
            data[i / 8] ^= (byte)(1 << (i % 8));
            var r = StunMessage.Parse(data);
            Assert.False(r.Message is { } m && m.VerifyFingerprint(), $"bit {i}");
        }
    }

    [Theory]
    [InlineData("192.0.2.1", 32853)]
    [InlineData("2001:db8:1234:5678:11:2233:4455:6677", 32853)]
    [InlineData("::ffff:10.0.0.7", 1)]
    public void Binding_success_round_trips_with_integrity_and_fingerprint(string address, int port)
    {
        var key = "our-ice-password-1234"u8.ToArray();
        var endPoint = new IPEndPoint(IPAddress.Parse(address), port);
        var bytes = StunMessageWriter.BindingSuccess(Rfc5769Vectors.TransactionId, endPoint, key);
        var m = ParseOk(bytes);
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(Rfc5769Vectors.TransactionId, m.TransactionId.ToArray());
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        var expected = endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), port) : endPoint;
        Assert.Equal(expected, mapped);
        Assert.True(m.VerifyIntegrity(key));
        Assert.False(m.VerifyIntegrity("other"u8));
        Assert.True(m.VerifyFingerprint());
        Assert.Equal(StunAttributeType.Fingerprint, m.Attributes[^1].Type);
    }

    [Fact]
    public void Writer_reproduces_the_rfc5769_IPv4_response_bytes()
    {
        var bytes = new StunMessageWriter(StunMessage.BindingMethod, StunClass.SuccessResponse, Rfc5769Vectors.TransactionId)
            .Add(StunAttributeType.Software, "test vector"u8)
            .AddXorMappedAddress(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853))
            .AddMessageIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password))
            .AddFingerprint().ToArray();
        // The vector pads SOFTWARE with a space (0x20); the writer pads with zeros, so compare past that byte.
        var expected = (byte[])Rfc5769Vectors.ResponseIPv4.Clone();
        Assert.Equal(expected.Length, bytes.Length);
        Assert.Equal(expected[..35], bytes[..35]);
        Assert.Equal(expected[36..52], bytes[36..52]); // XOR-MAPPED-ADDRESS identical
        Assert.True(ParseOk(bytes).VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
    }

    [Fact]
    public void Error_response_round_trips_code_reason_and_unknown_attributes()
    {
        var bytes = StunMessageWriter.BindingError(Rfc5769Vectors.TransactionId, 420, "Unknown Attribute", "k"u8, [0x7777, 0x0042]);
        var m = ParseOk(bytes);
        Assert.Equal(StunClass.ErrorResponse, m.Class);
        Assert.True(m.TryGetErrorCode(out var code, out var reason));
        Assert.Equal(420, code);
        Assert.Equal("Unknown Attribute", reason);
        Assert.True(m.TryGetAttribute(StunAttributeType.UnknownAttributes, out var unknown));
        Assert.Equal(new byte[] { 0x77, 0x77, 0x00, 0x42 }, unknown.ToArray());
        Assert.True(m.VerifyIntegrity("k"u8));
        Assert.True(m.VerifyFingerprint());

        var unauthorized = ParseOk(StunMessageWriter.BindingError(Rfc5769Vectors.TransactionId, 401, "Unauthorized"));
        Assert.False(unauthorized.HasIntegrity);
        Assert.True(unauthorized.VerifyFingerprint());
    }

    [Fact]
    public void Request_attributes_round_trip_and_unknown_ones_are_kept_with_padding()
    {
        var bytes = new StunMessageWriter(StunMessage.BindingMethod, StunClass.Request, Rfc5769Vectors.TransactionId)
            .AddUsername("abc:defgh").Add(0xC057, [1, 2, 3]).AddPriority(1853824767).AddUseCandidate()
            .AddIceControlling(0x0102030405060708).AddMessageIntegrity("pw"u8).AddFingerprint().ToArray();
        var m = ParseOk(bytes);
        Assert.Equal(0, bytes.Length % 4);
        Assert.True(m.TryGetUsername(out var u));
        Assert.Equal("abc:defgh", u);
        Assert.True(m.TryGetAttribute(0xC057, out var custom));
        Assert.Equal(new byte[] { 1, 2, 3 }, custom.ToArray());
        Assert.True(m.TryGetPriority(out var p));
        Assert.Equal(1853824767u, p);
        Assert.True(m.HasUseCandidate);
        Assert.True(m.TryGetIceControlling(out var tie));
        Assert.Equal(0x0102030405060708ul, tie);
        Assert.False(m.TryGetIceControlled(out _));
        Assert.True(m.VerifyIntegrity("pw"u8));
        Assert.True(m.VerifyFingerprint());
    }

    [Fact]
    public void Method_and_class_bits_are_interleaved_per_rfc8489_section_5()
    {
        Assert.Equal(0x0001, StunMessage.TypeOf(1, StunClass.Request));
        Assert.Equal(0x0011, StunMessage.TypeOf(1, StunClass.Indication));
        Assert.Equal(0x0101, StunMessage.TypeOf(1, StunClass.SuccessResponse));
        Assert.Equal(0x0111, StunMessage.TypeOf(1, StunClass.ErrorResponse));
        for (ushort method = 0; method < 0x1000; method++)
            foreach (var cls in Enum.GetValues<StunClass>())
            {
                var type = StunMessage.TypeOf(method, cls);
                Assert.Equal(method, StunMessage.MethodOf(type));
                Assert.Equal(cls, StunMessage.ClassOf(type));
            }
    }

    [Theory]
    [InlineData("", StunParseError.TooShort)]
    [InlineData("800100002112a442b7e7a701bc34d686fa87dfae", StunParseError.NotStun)]
    [InlineData("000100002112a443b7e7a701bc34d686fa87dfae", StunParseError.BadMagicCookie)]
    [InlineData("000100022112a442b7e7a701bc34d686fa87dfae0000", StunParseError.LengthNotMultipleOf4)]
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae", StunParseError.LengthMismatch)]
    [InlineData("000100042112a442b7e7a701bc34d686fa87dfae00060004", StunParseError.AttributeOverrun)]
    [InlineData("0001000c2112a442b7e7a701bc34d686fa87dfae802800040000000000250000", StunParseError.AttributeAfterFingerprint)]
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae0008000400000000", StunParseError.BadIntegrityLength)]
    public void Malformed_messages_give_an_error_value(string hex, StunParseError error)
    {
        var result = StunMessage.Parse(Convert.FromHexString(hex));
        Assert.Null(result.Message);
        Assert.Equal(error, result.Error);
    }

    [Fact]
    public void Attributes_after_message_integrity_other_than_fingerprint_are_ignored()
    {
        var writer = new StunMessageWriter(StunMessage.BindingMethod, StunClass.Request, Rfc5769Vectors.TransactionId)
            .AddUsername("a:b").AddMessageIntegrity("pw"u8).AddUseCandidate().AddFingerprint();
        var m = ParseOk(writer.ToArray());
        Assert.False(m.HasUseCandidate);
        Assert.True(m.VerifyIntegrity("pw"u8));
        Assert.True(m.VerifyFingerprint());
    }
}
