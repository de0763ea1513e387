using System.Security.Cryptography;
using System.Text;
using Hibari.Cluster.Links;

namespace Hibari.Tests.Links;

/// <summary>The pure pieces of authentication and pairing: proofs, the pair rule, option checks.</summary>
public class HandshakeRulesTests
{
    private static readonly byte[] Nonce = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Hello_proof_is_hmac_of_label_nonce_and_dialer_name_keyed_by_the_utf8_secret()
    {
        byte[] expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes("sécret"), (byte[])[.. "hibari-link-v1|hello|"u8, .. Nonce, .. "n2@127.0.0.2"u8]);
        Assert.Equal(expected, new LinkAuthenticator("sécret").HelloMac(Nonce, "n2@127.0.0.2"));
    }

    [Fact]
    public void Welcome_proof_is_hmac_of_label_nonce_and_acceptor_name()
    {
        byte[] expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes("s"), (byte[])[.. "hibari-link-v1|welcome|"u8, .. Nonce, .. "n1@127.0.0.1"u8]);
        Assert.Equal(expected, new LinkAuthenticator("s").WelcomeMac(Nonce, "n1@127.0.0.1"));
    }

    [Fact]
    public void A_proof_verifies_only_with_the_same_secret_nonce_name_and_direction()
    {
        var good = new LinkAuthenticator("right");
        var mac = good.HelloMac(Nonce, "n2@h.x");
        Assert.True(good.VerifyHello(Nonce, "n2@h.x", mac));
        Assert.False(new LinkAuthenticator("wrong").VerifyHello(Nonce, "n2@h.x", mac));
        Assert.False(good.VerifyHello(Nonce, "n3@h.x", mac));
        Assert.False(good.VerifyHello(Nonce.Reverse().ToArray(), "n2@h.x", mac));
        Assert.False(good.VerifyWelcome(Nonce, "n2@h.x", mac)); // a hello proof is no welcome proof
        Assert.False(good.VerifyHello(Nonce, "n2@h.x", mac.AsSpan(0, 31)));
    }

    [Fact]
    public void Pair_rule_keeps_the_link_dialled_by_the_ordinally_smaller_name_on_both_ends()
    {
        Assert.True(LinkPairRule.Replaces("a@h.x", "b@h.x"));
        Assert.False(LinkPairRule.Replaces("b@h.x", "a@h.x"));
        Assert.False(LinkPairRule.Replaces("n1@h.x", "N1@h.x")); // ordinal: 'N' < 'n'
        foreach (var (x, y) in new[] { ("n1@a.b", "n2@a.b"), ("n10@a.b", "n9@a.b"), ("z@1.1.1.1", "y@1.1.1.1") })
            Assert.NotEqual(LinkPairRule.Replaces(x, y), LinkPairRule.Replaces(y, x)); // exactly one of the two links wins
    }

    [Fact]
    public void Pair_rule_prefers_the_newer_of_two_links_from_the_same_dialer()
    {
        Assert.True(LinkPairRule.Replaces("n1@h.x", "n1@h.x"));
    }

    [Theory]
    [InlineData("DeadAfter")]
    [InlineData("Secret")]
    [InlineData("NodeName")]
    [InlineData("MaxFrameBytes")]
    [InlineData("HeartbeatInterval")]
    public void Invalid_options_are_refused_at_construction_naming_the_setting(string setting)
    {
        var options = LinkTestKit.Options("n1@127.0.0.1");
        options = setting switch
        {
            "DeadAfter" => options with { DeadAfter = options.HeartbeatInterval },
            "Secret" => options with { Secret = "" },
            "NodeName" => options with { NodeName = "bad\u0001name" },
            "MaxFrameBytes" => options with { MaxFrameBytes = 10 },
            "HeartbeatInterval" => options with { HeartbeatInterval = TimeSpan.Zero },
            _ => throw new ArgumentException(setting),
        };
        var error = Assert.Throws<ArgumentException>(() => new NodeLinkHost(options, new RecordingHandler(), new CapturingLoggerFactory()));
        Assert.Contains(setting, error.Message);
    }
}
