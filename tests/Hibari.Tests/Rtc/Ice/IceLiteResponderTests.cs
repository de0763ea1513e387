using System.Diagnostics;
using System.Net;
using Hibari.Rtc.Ice;

namespace Hibari.Tests.Rtc.Ice;

public class IceLiteResponderTests
{
    private const string LocalUfrag = "sfuU";
    private const string LocalPwd = "sfu-password-0123456789";
    private const string RemoteUfrag = "chR1";
    private static readonly IPEndPoint Chrome = new(IPAddress.Parse("192.0.2.10"), 50000);
    private static readonly IPEndPoint ChromeOther = new(IPAddress.Parse("198.51.100.7"), 50001);

    private static IceLiteResponder NewResponder() => new((string ufrag, out IceCredentials c) =>
    {
        c = new IceCredentials(LocalPwd, RemoteUfrag);
        return ufrag == LocalUfrag;
    });

    private static byte[] Check(string username = LocalUfrag + ":" + RemoteUfrag, string password = LocalPwd, bool useCandidate = false,
        bool fingerprint = true, bool integrity = true, ushort? extra = null, byte txSeed = 1)
    {
        var tx = new byte[12];
        new Random(txSeed).NextBytes(tx);
        var w = new StunMessageWriter(StunMessage.BindingMethod, StunClass.Request, tx)
            .AddUsername(username).Add(0xC057, [0, 1, 0, 10]).AddIceControlling(42).AddPriority(1845501695);
        if (useCandidate) w.AddUseCandidate();
        if (extra is { } type) w.Add(type, [9, 9, 9, 9]);
        if (integrity) w.AddMessageIntegrity(System.Text.Encoding.UTF8.GetBytes(password));
        if (fingerprint) w.AddFingerprint();
        return w.ToArray();
    }

    private static StunMessage ParseResponse(IceBindingResult r)
    {
        Assert.NotNull(r.Response);
        var m = StunMessage.Parse(r.Response).Message;
        Assert.NotNull(m);
        Assert.True(m.VerifyFingerprint());
        return m;
    }

    [Fact]
    public void Valid_check_is_answered_with_xor_mapped_address_integrity_and_fingerprint()
    {
        var responder = NewResponder();
        var request = Check();
        var r = responder.Handle(request, Chrome);
        Assert.Equal(IceBindingOutcome.Accepted, r.Outcome);
        Assert.Equal(LocalUfrag, r.LocalUfrag);
        Assert.Equal(1845501695u, r.Priority);
        Assert.False(r.UseCandidate);
        var m = ParseResponse(r);
        Assert.Equal(StunClass.SuccessResponse, m.Class);
        Assert.Equal(request[8..20], m.TransactionId.ToArray());
        Assert.True(m.VerifyIntegrity(System.Text.Encoding.UTF8.GetBytes(LocalPwd)));
        Assert.True(m.TryGetXorMappedAddress(out var mapped));
        Assert.Equal(Chrome, mapped);
        Assert.Equal(1, responder.Accepted);
    }

    [Fact]
    public void Rfc5769_request_authenticates_and_its_controlled_role_gets_487()
    {
        var responder = new IceLiteResponder((string ufrag, out IceCredentials c) =>
        {
            c = new IceCredentials(Rfc5769Vectors.Password, "h6vY");
            return ufrag == "evtj";
        });
        var r = responder.Handle(Rfc5769Vectors.Request, Chrome);
        // The sample request carries ICE-CONTROLLED; a lite agent is the controlled one, so this is a role conflict,
        // answered with integrity (which proves the request authenticated first).
        Assert.Equal(IceRejectReason.RoleConflict, r.Reason);
        var m = ParseResponse(r);
        Assert.True(m.TryGetErrorCode(out var code, out _));
        Assert.Equal(487, code);
        Assert.True(m.VerifyIntegrity(System.Text.Encoding.UTF8.GetBytes(Rfc5769Vectors.Password)));
        Assert.Equal(Rfc5769Vectors.TransactionId, m.TransactionId.ToArray());
        Assert.Null(responder.SelectedFor("evtj"));
    }

    [Fact]
    public void First_authenticated_check_latches_and_use_candidate_relatches()
    {
        var responder = NewResponder();
        var first = responder.Handle(Check(), Chrome);
        Assert.Equal(Chrome, first.Selected);
        Assert.True(first.SelectedChanged);

        var otherWithoutNomination = responder.Handle(Check(), ChromeOther);
        Assert.Equal(Chrome, otherWithoutNomination.Selected);
        Assert.False(otherWithoutNomination.SelectedChanged);

        var nominated = responder.Handle(Check(useCandidate: true), ChromeOther);
        Assert.True(nominated.UseCandidate);
        Assert.Equal(ChromeOther, nominated.Selected);
        Assert.True(nominated.SelectedChanged);
        Assert.Equal(ChromeOther, responder.SelectedFor(LocalUfrag));

        responder.Forget(LocalUfrag);
        Assert.Null(responder.SelectedFor(LocalUfrag));
    }

    [Fact]
    public void Wrong_password_is_refused_with_401_without_integrity()
    {
        var responder = NewResponder();
        var r = responder.Handle(Check(password: "not-the-password"), Chrome);
        Assert.Equal(IceBindingOutcome.Rejected, r.Outcome);
        Assert.Equal(IceRejectReason.BadIntegrity, r.Reason);
        var m = ParseResponse(r);
        Assert.True(m.TryGetErrorCode(out var code, out _));
        Assert.Equal(401, code);
        Assert.False(m.HasIntegrity);
        Assert.Null(responder.SelectedFor(LocalUfrag));
    }

    [Theory]
    [InlineData("sfuU:wrong")]
    [InlineData("nobody:chR1")]
    [InlineData("chR1:sfuU")]
    [InlineData("sfuU")]
    [InlineData(":chR1")]
    public void Wrong_ufrag_is_refused_with_401(string username)
    {
        var responder = NewResponder();
        var r = responder.Handle(Check(username: username), Chrome);
        Assert.Equal(IceBindingOutcome.Rejected, r.Outcome);
        Assert.Equal(IceRejectReason.UnknownUsername, r.Reason);
        Assert.True(ParseResponse(r).TryGetErrorCode(out var code, out _));
        Assert.Equal(401, code);
        Assert.Null(responder.SelectedFor(LocalUfrag));
    }

    [Fact]
    public void Missing_integrity_is_refused_with_400()
    {
        var responder = NewResponder();
        var r = responder.Handle(Check(integrity: false), Chrome);
        Assert.Equal(IceRejectReason.MissingCredentials, r.Reason);
        Assert.True(ParseResponse(r).TryGetErrorCode(out var code, out _));
        Assert.Equal(400, code);
    }

    [Fact]
    public void Missing_or_wrong_fingerprint_is_dropped_silently()
    {
        var responder = NewResponder();
        var missing = responder.Handle(Check(fingerprint: false), Chrome);
        Assert.Equal(IceBindingOutcome.Dropped, missing.Outcome);
        Assert.Equal(IceRejectReason.BadFingerprint, missing.Reason);

        var bad = Check();
        bad[^1] ^= 0x01;
        var wrong = responder.Handle(bad, Chrome);
        Assert.Equal(IceBindingOutcome.Dropped, wrong.Outcome);
        Assert.Null(wrong.Response);
        Assert.Equal(2, responder.Dropped);
    }

    [Fact]
    public void Unknown_comprehension_required_attribute_gets_420_after_authentication()
    {
        var responder = NewResponder();
        var r = responder.Handle(Check(extra: 0x7F01), Chrome);
        Assert.Equal(IceRejectReason.UnknownAttribute, r.Reason);
        var m = ParseResponse(r);
        Assert.True(m.TryGetErrorCode(out var code, out _));
        Assert.Equal(420, code);
        Assert.True(m.TryGetAttribute(StunAttributeType.UnknownAttributes, out var list));
        Assert.Equal(new byte[] { 0x7F, 0x01 }, list.ToArray());
        Assert.True(m.VerifyIntegrity(System.Text.Encoding.UTF8.GetBytes(LocalPwd)));

        // Comprehension-optional unknowns (0x8000+) are ignored.
        Assert.Equal(IceBindingOutcome.Accepted, responder.Handle(Check(extra: 0xC060), Chrome).Outcome);
    }

    [Fact]
    public void Indications_responses_rtp_and_dtls_are_dropped()
    {
        var responder = NewResponder();
        var indication = new StunMessageWriter(StunMessage.BindingMethod, StunClass.Indication, new byte[12]).AddFingerprint().ToArray();
        Assert.Equal(IceRejectReason.NotBindingRequest, responder.Handle(indication, Chrome).Reason);
        Assert.Equal(IceRejectReason.NotBindingRequest, responder.Handle(Rfc5769Vectors.ResponseIPv4, Chrome).Reason);
        var rtp = new byte[100];
        rtp[0] = 0x80;
        Assert.Equal(IceRejectReason.Malformed, responder.Handle(rtp, Chrome).Reason);
        var dtls = new byte[60];
        dtls[0] = 22;
        Assert.Equal(IceRejectReason.Malformed, responder.Handle(dtls, Chrome).Reason);
        Assert.Equal(4, responder.Dropped);
    }

    [Fact, Trait("Category", "Fuzz")]
    public void Fuzz_120k_random_and_mutated_datagrams_never_throw_and_forge_nothing()
    {
        var responder = NewResponder();
        var seeds = new List<byte[]>
        {
            Check(), Check(useCandidate: true), Check(integrity: false), Check(extra: 0x7F01),
            Rfc5769Vectors.Request, Rfc5769Vectors.ResponseIPv4, Rfc5769Vectors.ResponseIPv6,
            StunMessageWriter.BindingError(new byte[12], 420, "x", "k"u8, [1, 2, 3]),
        };
        var rng = new Random(5769);
        var sw = Stopwatch.StartNew();
        int accepted = 0, rejected = 0;
        for (var i = 0; i < 120_000; i++)
        {
            var pick = seeds[rng.Next(seeds.Count)];
            byte[] data;
            switch (i % 5)
            {
                case 0: data = new byte[rng.Next(0, 120)]; rng.NextBytes(data); break;
                case 1: // random body behind a plausible header
                    data = new byte[20 + 4 * rng.Next(0, 30)];
                    rng.NextBytes(data);
                    data[0] &= 0x3F;
                    data[2] = (byte)((data.Length - 20) >> 8);
                    data[3] = (byte)(data.Length - 20);
                    data[4] = 0x21; data[5] = 0x12; data[6] = 0xA4; data[7] = 0x42;
                    break;
                case 2: data = pick[..rng.Next(0, pick.Length + 1)]; break;
                case 3: // mutate, then refresh FINGERPRINT so the USERNAME, integrity and attribute paths run
                    data = (byte[])pick.Clone();
                    for (var k = rng.Next(1, 4); k > 0; k--) data[rng.Next(data.Length - 8)] = (byte)rng.Next(256);
                    if (data is [.., 0x80, 0x28, 0x00, 0x04, _, _, _, _] && data.Length >= 28)
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(data.Length - 4),
                            StunMessage.ComputeFingerprint(data.AsSpan(0, data.Length - 8)));
                    break;
                default:
                    data = (byte[])pick.Clone();
                    for (var k = rng.Next(1, 4); k > 0; k--) data[rng.Next(data.Length)] = (byte)rng.Next(256);
                    break;
            }
            var r = responder.Handle(data, Chrome);
            if (r.Outcome == IceBindingOutcome.Rejected) rejected++;
            var parsed = StunMessage.Parse(data).Message;
            if (parsed is not null)
            {
                parsed.TryGetUsername(out _);
                parsed.TryGetXorMappedAddress(out _);
                parsed.TryGetErrorCode(out _, out _);
                parsed.TryGetPriority(out _);
                parsed.VerifyIntegrity("k"u8);
            }
            if (r.Outcome == IceBindingOutcome.Accepted && !seeds.Any(s => s.AsSpan().SequenceEqual(data))) accepted++;
        }
        sw.Stop();
        // A mutation that still passes FINGERPRINT and HMAC-SHA1 would be a forgery; only untouched seeds may be accepted.
        Assert.True(accepted == 0, $"{accepted} mutated datagrams accepted");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"fuzz took {sw.Elapsed}");
        Assert.True(rejected > 5_000, $"only {rejected} reached the credential checks");
        Assert.True(responder.Dropped > 60_000, $"only {responder.Dropped} dropped");
    }
}
