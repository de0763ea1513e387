using System.Net;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;
using Hibari.Tests.Rtc.Ice;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>The TURN reader and writer against the published RFC 5769 vectors.</summary>
public class TurnRfc5769Tests
{
    /// <summary>RFC 5769 §2.4: Binding request with long-term authentication (no FINGERPRINT).</summary>
    internal static readonly byte[] LongTermRequest = Convert.FromHexString(
        "000100602112a44278ad3433c6ad72c029da412e" +
        "00060012" + "e3839ee38388e383aae38383e382afe382b90000" +
        "0015001c" + "662f2f3439396b39353464364f4c33346f4c39465354767936347341" +
        "0014000b" + "6578616d706c652e6f726700" +
        "00080014" + "f67024656dd64a3e02b8e0712e85c9a28ca89666");

    internal const string LongTermUsername = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9"; // マトリックス, unchanged by SASLprep
    internal const string LongTermPassword = "TheMatrIX"; // "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep
    internal const string LongTermRealm = "example.org";

    private static TurnMessageReader Parse(byte[] data)
    {
        Assert.Equal(StunParseError.None, TurnMessageReader.TryParse(data, out var m));
        return m;
    }

    [Fact]
    public void Section_2_4_long_term_request_verifies_with_the_md5_key_of_username_realm_and_sasl_prepped_password()
    {
        var m = Parse(LongTermRequest);
        Assert.Equal(TurnMethod.Binding, m.Method);
        Assert.True(m.TryGet(StunAttributeType.Username, out ReadOnlySpan<byte> user));
        Assert.Equal(LongTermUsername, Encoding.UTF8.GetString(user));
        Assert.True(m.TryGet(StunAttributeType.Realm, out ReadOnlySpan<byte> realm));
        Assert.Equal(LongTermRealm, Encoding.UTF8.GetString(realm));
        Assert.True(m.TryGet(StunAttributeType.Nonce, out ReadOnlySpan<byte> nonce));
        Assert.Equal("f//499k954d6OL34oL9FSTvy64sA", Encoding.ASCII.GetString(nonce));
        Assert.True(m.HasIntegrity);
        Assert.False(m.HasFingerprint);

        var key = TurnAuth.LongTermKey(LongTermUsername, LongTermRealm, LongTermPassword);
        Assert.Equal(TurnTestClient.Md5Key(LongTermUsername, LongTermRealm, LongTermPassword), key);
        Assert.True(m.VerifyIntegrity(key));
        Assert.False(m.VerifyIntegrity(TurnAuth.LongTermKey(LongTermUsername, LongTermRealm, "TheMatrix")));
        Assert.False(m.VerifyIntegrity(TurnAuth.LongTermKey(LongTermUsername, "example.com", LongTermPassword)));
        // The long-term key is not the password itself (that would be the short-term mechanism).
        Assert.False(m.VerifyIntegrity(Encoding.UTF8.GetBytes(LongTermPassword)));
    }

    [Fact]
    public void Section_2_4_request_sent_to_the_core_is_a_binding_answered_without_authentication()
    {
        var f = new TurnFixture();
        var response = f.Client().Send(LongTermRequest).Response!;
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Equal(LongTermRequest[8..20], response.TransactionId.ToArray());
        Assert.True(response.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 40000), mapped);
        Assert.False(response.HasIntegrity);
        Assert.False(response.HasFingerprint); // the request had none
    }

    [Fact]
    public void Section_2_1_request_verifies_short_term_integrity_and_fingerprint_through_the_turn_reader()
    {
        var m = Parse(Rfc5769Vectors.Request);
        Assert.True(m.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.False(m.VerifyIntegrity("VOkJxbRl1RmTxUk/WvJxBu"u8));
        Assert.True(m.VerifyFingerprint());
        Assert.True(m.TryGet(StunAttributeType.Username, out ReadOnlySpan<byte> user));
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(user).TrimEnd()); // RFC pads this value with spaces
    }

    [Theory]
    [InlineData(false, "192.0.2.1")]
    [InlineData(true, "2001:db8:1234:5678:11:2233:4455:6677")]
    public void Section_2_2_and_2_3_xor_mapped_address_decodes_and_encodes_to_the_vector_bytes(bool ipv6, string address)
    {
        var vector = ipv6 ? Rfc5769Vectors.ResponseIPv6 : Rfc5769Vectors.ResponseIPv4;
        var m = Parse(vector);
        Assert.True(m.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.True(m.VerifyFingerprint());
        Assert.True(m.TryGetXorAddress(StunAttributeType.XorMappedAddress, out var mapped, out var family));
        var expected = new IPEndPoint(IPAddress.Parse(address), 32853);
        Assert.Equal(EndpointKey.From(expected), mapped);
        Assert.Equal(ipv6 ? TurnConstants.FamilyIPv6 : TurnConstants.FamilyIPv4, family);

        Assert.True(m.TryGet(StunAttributeType.XorMappedAddress, out ReadOnlySpan<byte> vectorValue));
        var buffer = new byte[64];
        var w = new TurnMessageWriter(buffer, StunMessage.BindingMethod, StunClass.SuccessResponse, Rfc5769Vectors.TransactionId);
        w.AddXorAddress(StunAttributeType.XorMappedAddress, EndpointKey.From(expected));
        Assert.Equal(vectorValue.ToArray(), buffer[24..w.Length]);
    }

    [Fact]
    public void Writer_reproduces_the_section_2_2_response_integrity_and_fingerprint()
    {
        // Same attributes as the vector; only SOFTWARE's padding differs (the RFC pads with a space, we with zero),
        // so the vector's MESSAGE-INTEGRITY is recomputed over our bytes by the ICE codec and compared.
        var buffer = new byte[128];
        var w = new TurnMessageWriter(buffer, StunMessage.BindingMethod, StunClass.SuccessResponse, Rfc5769Vectors.TransactionId);
        w.AddText(StunAttributeType.Software, "test vector");
        w.AddXorAddress(StunAttributeType.XorMappedAddress, EndpointKey.From(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853)));
        w.AddMessageIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password));
        w.AddFingerprint();
        var ours = buffer[..w.Length];
        Assert.Equal(Rfc5769Vectors.ResponseIPv4.Length, ours.Length);
        Assert.Equal(Rfc5769Vectors.ResponseIPv4[..4], ours[..4]);
        var parsed = StunMessage.Parse(ours).Message!;
        Assert.True(parsed.VerifyIntegrity(Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.True(parsed.VerifyFingerprint());

        var vectorWithZeroPad = (byte[])Rfc5769Vectors.ResponseIPv4.Clone();
        vectorWithZeroPad[20 + 4 + 11] = 0;
        Assert.Equal(vectorWithZeroPad[..48], ours[..48]); // header, SOFTWARE, XOR-MAPPED-ADDRESS identical byte for byte
    }
}
