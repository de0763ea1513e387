using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>Long-term credentials (RFC 8489 §9.2) as the core applies them: challenge, integrity, stale nonces, revocation.</summary>
public class TurnAuthTests
{
    private static void AssertChallenge(StunMessage response, int code)
    {
        Assert.Equal(code, TurnTestClient.ErrorCode(response));
        Assert.True(response.TryGetAttribute(StunAttributeType.Realm, out var realm));
        Assert.Equal(TurnFixture.Realm, Encoding.UTF8.GetString(realm));
        Assert.True(response.TryGetAttribute(StunAttributeType.Nonce, out var nonce));
        Assert.Equal(TurnNonce.Length, nonce.Length);
        Assert.False(response.HasIntegrity); // §9.2.4: no integrity when the credentials were not accepted
    }

    [Fact]
    public void Unsigned_allocate_gets_401_with_realm_and_nonce_then_the_signed_retry_succeeds_with_integrity()
    {
        var f = new TurnFixture();
        var client = f.Client();
        var (action, first, _) = client.Send(client.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0])));
        Assert.Equal(TurnActionKind.Respond, action.Kind);
        AssertChallenge(first!, 401);
        Assert.True(first!.VerifyFingerprint()); // the request had FINGERPRINT
        Assert.Equal(1, f.Counters().Challenges);
        Assert.Equal(0, f.Core.AllocationCount);

        client.TakeChallenge(first);
        var (_, second, _) = client.Send(client.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0])));
        Assert.Equal(StunClass.SuccessResponse, second!.Class);
        client.AssertSigned(second);
        Assert.True(second.VerifyFingerprint());
        Assert.False(second.Has(StunAttributeType.Realm)); // §9.2.4: REALM, NONCE, USERNAME SHOULD NOT be in the response
        Assert.False(second.Has(StunAttributeType.Nonce));
        Assert.Equal(1, f.Core.AllocationCount);
        Assert.Equal(1, f.Counters().AllocationsCreated);
    }

    [Fact]
    public void Response_without_fingerprint_when_the_request_had_none()
    {
        var f = new TurnFixture();
        var client = f.Client();
        client.AddFingerprint = false;
        var response = client.Allocate();
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.False(response.HasFingerprint);
        client.AssertSigned(response);
    }

    [Fact]
    public void Message_integrity_sha256_request_is_accepted_and_answered_with_both_integrity_attributes()
    {
        var f = new TurnFixture();
        var client = f.Client();
        client.UseSha256 = true;
        var response = client.Allocate();
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        client.AssertSigned(response); // MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 both verify
        Assert.True(response.VerifyFingerprint());
        Assert.Equal(1, f.Core.AllocationCount);

        // A wrong password fails the SHA-256 check as well.
        var wrong = f.Client(TurnFixture.Udp(port: 40200));
        wrong.UseSha256 = true;
        wrong.Password = "wrong";
        Assert.Equal(401, TurnTestClient.ErrorCode(wrong.Allocate()));
        Assert.Equal(1, f.Counters().IntegrityFailures);
    }

    [Fact]
    public void Truncated_message_integrity_sha256_is_accepted()
    {
        var f = new TurnFixture();
        var client = f.Client();
        client.Allocate(); // challenged, allocated
        var key = TurnTestClient.Md5Key("alice", client.Realm!, "alice-secret-1");
        var unsigned = new StunMessageWriter(TurnMethod.Refresh, StunClass.Request, TurnTestClient.NewTransactionId())
            .AddUsername("alice").Add(StunAttributeType.Realm, Encoding.UTF8.GetBytes(client.Realm!))
            .Add(StunAttributeType.Nonce, Encoding.UTF8.GetBytes(client.Nonce!)).ToArray();
        var response = client.Send(TurnTestClient.AppendSha256(unsigned, key, 16)).Response!;
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        var tampered = TurnTestClient.AppendSha256(unsigned, key, 16);
        tampered[^1] ^= 1;
        Assert.Equal(401, TurnTestClient.ErrorCode(client.Send(tampered).Response!));
    }

    [Fact]
    public void Expired_nonce_with_good_credentials_gets_438_and_a_fresh_nonce_that_works()
    {
        var f = new TurnFixture(nonceLifetime: 10_000_000);
        var client = f.Client();
        Assert.Equal(StunClass.SuccessResponse, client.Allocate().Class);
        var oldNonce = client.Nonce;

        client.Now += 10_000_000; // exactly at expiry: stale
        var (_, stale, _) = client.Send(client.Build(TurnMethod.Refresh));
        AssertChallenge(stale!, 438);
        Assert.Equal(1, f.Counters().StaleNonces);
        client.TakeChallenge(stale!);
        Assert.NotEqual(oldNonce, client.Nonce);

        var (_, refreshed, _) = client.Send(client.Build(TurnMethod.Refresh));
        Assert.Equal(StunClass.SuccessResponse, refreshed!.Class);
        client.AssertSigned(refreshed);
    }

    [Fact]
    public void Nonce_of_another_node_or_another_client_transport_gets_438_not_401()
    {
        var f = new TurnFixture();
        var other = new TurnFixture(nonceKey: Enumerable.Repeat((byte)7, 32).ToArray());
        var client = other.Client();
        client.Allocate(); // nonce issued by the other node
        var moved = new TurnTestClient(f.Core, TurnFixture.Udp(), "alice", "alice-secret-1") { Realm = client.Realm, Nonce = client.Nonce };
        var (_, response, _) = moved.Send(moved.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0])));
        Assert.Equal(438, TurnTestClient.ErrorCode(response!));

        var first = f.Client();
        first.Allocate();
        var sibling = new TurnTestClient(f.Core, TurnFixture.Udp(port: 40002), "alice", "alice-secret-1") { Realm = first.Realm, Nonce = first.Nonce };
        (_, response, _) = sibling.Send(sibling.Build(TurnMethod.Allocate, (w, _) => w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0])));
        Assert.Equal(438, TurnTestClient.ErrorCode(response!));
        // …and a browser-like client recovers by retrying with the nonce it was given.
        Assert.Equal(StunClass.SuccessResponse, sibling.Allocate().Class);
    }

    [Fact]
    public void Wrong_password_gets_401_and_counts_an_integrity_failure()
    {
        var f = new TurnFixture();
        var client = f.Client();
        client.Password = "not-alice-secret";
        var response = client.Allocate();
        AssertChallenge(response, 401);
        Assert.Equal(1, f.Counters().IntegrityFailures);
        Assert.Equal(1, f.Counters().Unauthorized);
        Assert.Equal(0, f.Core.AllocationCount);
    }

    [Fact]
    public void Unknown_username_or_wrong_realm_gets_401()
    {
        var f = new TurnFixture();
        var stranger = f.Client(username: "mallory");
        AssertChallenge(stranger.Allocate(), 401);

        var client = f.Client(TurnFixture.Udp(port: 40003));
        client.Allocate(); // challenged once, allocated
        client.Realm = "evil.example";
        var (_, response, _) = client.Send(client.Build(TurnMethod.Refresh));
        AssertChallenge(response!, 401);
        Assert.Equal(2, f.Counters().Unauthorized);
        Assert.Equal(0, f.Counters().IntegrityFailures); // refused before any HMAC
    }

    [Fact]
    public void Signed_request_missing_nonce_or_realm_is_a_400_without_integrity()
    {
        var f = new TurnFixture();
        var client = f.Client();
        var key = TurnTestClient.Md5Key("alice", TurnFixture.Realm, "alice-secret-1");
        var request = new StunMessageWriter(TurnMethod.Allocate, StunClass.Request, TurnTestClient.NewTransactionId())
            .Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0]).AddUsername("alice")
            .Add(StunAttributeType.Realm, Encoding.UTF8.GetBytes(TurnFixture.Realm)).AddMessageIntegrity(key).ToArray();
        var (_, response, _) = client.Send(request);
        Assert.Equal(400, TurnTestClient.ErrorCode(response!));
        Assert.False(response!.HasIntegrity);
    }

    [Fact]
    public void Revoked_user_loses_its_allocations_at_once_and_further_requests_get_401()
    {
        var f = new TurnFixture();
        var a = f.Client(TurnFixture.Udp(port: 40010));
        var b = f.Client(TurnFixture.Tcp(7));
        var bob = f.Client(TurnFixture.Udp(port: 40011), "bob");
        Assert.Equal(StunClass.SuccessResponse, a.Allocate().Class);
        Assert.Equal(StunClass.SuccessResponse, b.Allocate().Class);
        Assert.Equal(StunClass.SuccessResponse, bob.Allocate().Class);

        f.Passwords.Remove("alice");
        f.Core.RevokeUser("alice");
        Assert.Equal(1, f.Core.AllocationCount);
        Assert.Equal(2, f.Removed.Count);
        Assert.All(f.Removed, r => Assert.Equal("alice", r.Username));
        Assert.Equal(2, f.Counters().AllocationsRevoked);

        var (_, response, _) = a.Send(a.Build(TurnMethod.Refresh));
        AssertChallenge(response!, 401);
        Assert.Equal(StunClass.SuccessResponse, bob.Refresh().Class);
        f.Core.RevokeUser("nobody"); // harmless
        Assert.Equal(1, f.Core.AllocationCount);
    }

    [Fact]
    public void Unknown_comprehension_required_attribute_gets_420_with_the_list_after_authentication()
    {
        var f = new TurnFixture();
        var client = f.Client();
        var response = client.Allocate(extra: (w, _) => w.Add(0x0003, [0, 0, 0, 0]).Add(0x7ABC, [1]).Add(0x0003, [0, 0, 0, 0]));
        Assert.Equal(420, TurnTestClient.ErrorCode(response));
        Assert.True(response.TryGetAttribute(StunAttributeType.UnknownAttributes, out var unknown));
        Assert.Equal(new byte[] { 0x00, 0x03, 0x7A, 0xBC }, unknown.ToArray());
        client.AssertSigned(response);
        Assert.Equal(0, f.Core.AllocationCount);

        // Comprehension-optional ones (0x8000–0xFFFF) are ignored.
        Assert.Equal(StunClass.SuccessResponse, client.Allocate(extra: (w, _) => w.Add(0xC0DE, [1, 2])).Class);
    }

    [Fact]
    public void Binding_is_answered_without_authentication_with_the_clients_address()
    {
        var f = new TurnFixture();
        var client = f.Client(TurnFixture.Tcp(3, "192.0.2.99", 61000));
        var (_, response, _) = client.Send(client.Build(TurnMethod.Binding));
        Assert.Equal(StunClass.SuccessResponse, response!.Class);
        Assert.True(response.TryGetXorMappedAddress(out var mapped));
        Assert.Equal("192.0.2.99:61000", mapped.ToString());
        Assert.True(response.VerifyFingerprint());
        Assert.Equal(1, f.Counters().BindingRequests);
        Assert.Equal(0, f.Counters().Challenges);
    }
}
