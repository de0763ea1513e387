using System.Diagnostics;
using System.Text;
using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

/// <summary>
/// Seeded mutation fuzz of every reader of untrusted SDP: no exception, no hang, and whatever parses must write back
/// to text that parses to the same model. 5,000 inputs by default; HIBARI_FUZZ_ITERATIONS=100000 for the long run.
/// </summary>
public sealed class SdpFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static readonly string[] Seeds =
    [
        SdpFixtures.ChromeVideoAndDataOffer, SdpFixtures.ChromiumNoH264AudioVideoOffer, SdpFixtures.ChromeAnswerToSoraOffer,
        SfuOffer.Write(SdpFixtures.SoraStyleOffer()),
    ];

    private static readonly string[] Interesting =
    [
        "a=setup:actpass", "a=fingerprint:sha-256 00", "a=mid:0", "m=video 0 UDP/TLS/RTP/SAVPF", "m=audio 65536 x 1",
        "a=candidate:1 1 udp 1 1.2.3.4 5 typ", "a=ssrc-group:FID 1", "a=simulcast:send ~;", "a=rid:r0 recv pt=,",
        "a=extmap:0/sendonly x", "a=rtpmap:96 VP8/0", "a=fmtp:96 ;;==", "a=ice-ufrag:", "o=- x x IN IP4", "v=0", "a=:", "c=",
        "a=msid:a b c", "a=ssrc:4294967295 cname:", "a=sctp-port:99999999999", "a=max-message-size:-1",
    ];

    [Fact, Trait("Category", "Fuzz")]
    public void Mutated_sdp_never_throws_or_hangs_and_what_parses_round_trips()
    {
        var rng = new Random(20261202);
        var offer = SdpFixtures.SoraStyleOffer();
        var clock = Stopwatch.StartNew();
        int parsed = 0, answered = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = Mutate(rng, Seeds[rng.Next(Seeds.Length)]);
            var started = clock.Elapsed;

            if (SdpDocument.TryParse(input, out var doc, out var error))
            {
                parsed++;
                var written = doc.Write();
                Assert.True(SdpDocument.TryParse(written, out var again, out var error2), error2);
                Assert.Equal(doc, again);
                TouchTypedViews(doc);
            }
            else Assert.False(string.IsNullOrEmpty(error));

            var answer = SdpAnswerReader.Read(input, (i & 1) == 0 ? offer : null);
            Assert.True(answer.IsOk ^ answer.Error is not null);
            if (answer.IsOk) answered++;
            var caps = ClientOfferReader.Read(input);
            if (caps.IsOk) _ = caps.Value!.Supports("H264") | caps.Value.Supports("VP9");
            IceCandidate.TryParse(input.Length > 300 ? input[..300] : input, out _);

            // A single input taking a second would mean super-linear behaviour somewhere.
            Assert.True(clock.Elapsed - started < TimeSpan.FromSeconds(1), $"input {i} took {(clock.Elapsed - started).TotalMilliseconds} ms");
        }
        // The mutations must leave a good share parseable, or the deep paths are never reached.
        Assert.True(parsed > Iterations / 5, $"only {parsed} of {Iterations} parsed");
        Assert.True(answered > 0);
    }

    private static void TouchTypedViews(SdpDocument doc)
    {
        _ = doc.BundleMids();
        _ = doc.IceLite();
        foreach (var m in doc.Media)
        {
            _ = m.Mid(); _ = m.Direction(); _ = m.Setup(); _ = m.Msid(); _ = m.Simulcast(); _ = m.SctpPort(); _ = m.MaxMessageSize();
            foreach (var x in m.RtpMaps()) _ = x.Format();
            foreach (var x in m.Fmtps()) _ = x.Parameters;
            foreach (var x in m.RtcpFeedbacks()) _ = x.Format();
            foreach (var x in m.ExtMaps()) _ = x.Format();
            foreach (var x in m.SsrcAttributes()) _ = x.Format();
            foreach (var x in m.SsrcGroups()) _ = x.Format();
            foreach (var x in m.Rids()) _ = x.PayloadTypes;
            foreach (var x in m.Candidates()) _ = x.Format();
            foreach (var x in m.Fingerprints()) _ = x.TryGetBytes(out _);
            _ = m.PayloadTypes().Count();
        }
    }

    private static string Mutate(Random rng, string seed)
    {
        var lines = seed.Split("\r\n").ToList();
        var rounds = rng.Next(1, 4);
        for (var r = 0; r < rounds; r++)
        {
            switch (rng.Next(7))
            {
                case 0: // flip a character somewhere
                {
                    var text = string.Join("\r\n", lines).ToCharArray();
                    if (text.Length == 0) break;
                    var at = rng.Next(text.Length);
                    text[at] = rng.Next(4) == 0 ? (char)rng.Next(0, 0x80) : (char)(text[at] ^ (1 << rng.Next(7)));
                    lines = new string(text).Split("\r\n").ToList();
                    break;
                }
                case 1: // truncate
                {
                    var text = string.Join("\r\n", lines);
                    lines = text[..rng.Next(text.Length + 1)].Split("\r\n").ToList();
                    break;
                }
                case 2: // duplicate a line (sometimes many times)
                    if (lines.Count > 0)
                    {
                        var at = rng.Next(lines.Count);
                        var times = rng.Next(10) == 0 ? rng.Next(2, 600) : 1;
                        lines.InsertRange(at, Enumerable.Repeat(lines[at], times));
                    }
                    break;
                case 3: // delete a line
                    if (lines.Count > 0) lines.RemoveAt(rng.Next(lines.Count));
                    break;
                case 4: // insert a known-tricky line
                    lines.Insert(rng.Next(lines.Count + 1), Interesting[rng.Next(Interesting.Length)]);
                    break;
                case 5: // insert random printable garbage as an attribute or a bare line
                {
                    var sb = new StringBuilder(rng.Next(2) == 0 ? "a=" : "");
                    var n = rng.Next(0, 80);
                    for (var k = 0; k < n; k++) sb.Append((char)rng.Next(0x20, 0x7F));
                    lines.Insert(rng.Next(lines.Count + 1), sb.ToString());
                    break;
                }
                default: // swap two lines
                    if (lines.Count > 1)
                    {
                        int a = rng.Next(lines.Count), b = rng.Next(lines.Count);
                        (lines[a], lines[b]) = (lines[b], lines[a]);
                    }
                    break;
            }
        }
        var joined = string.Join(rng.Next(3) == 0 ? "\n" : "\r\n", lines);
        return joined;
    }
}
