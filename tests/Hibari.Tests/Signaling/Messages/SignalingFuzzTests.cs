using System.Diagnostics;
using System.Text;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

/// <summary>
/// Mutated inputs never throw and never hang (connect, client messages, auth webhook answers). Iterations from HIBARI_FUZZ_ITERATIONS (default 5000; run ≥ 100000 for a
/// real campaign: HIBARI_FUZZ_ITERATIONS=100000 dotnet test --filter Category=Fuzz).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class SignalingFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5000;

    private static readonly string[] Seeds =
    [
        """{"audio":true,"channel_id":"sora-test","environment":"Mozilla/5.0","role":"sendrecv","sdp":"v=0\r\n","sora_client":"Sora JavaScript SDK 2026.1.0","type":"connect","video":true,"metadata":{"token":"abc"}}""",
        """{"type":"connect","role":"sendonly","channel_id":"sora","libwebrtc":"M132","audio":{"codec_type":"OPUS","bit_rate":64,"opus_params":{"stereo":true}},"video":{"codec_type":"H264","bit_rate":2500,"h264_params":{"profile_level_id":"42e01f"}},"data_channels":[{"label":"#c","direction":"sendrecv"}],"multistream":true,"redirect":true}""",
        """{"type":"answer","sdp":"v=0\r\n"}""",
        """{"type":"re-answer","sdp":"v=0\r\n"}""",
        """{"candidate":"candidate:1 1 udp 2122194687 192.0.2.2 35540 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"ppvc","type":"candidate"}""",
        """{"type":"pong","stats":[{"id":"x","type":"inbound-rtp","bytesReceived":1}]}""",
        """{"type":"disconnect","reason":"NO-ERROR"}""",
        """{"allowed":true,"client_id":"u","metadata":{"a":[1]},"video":{"codec_type":"AV1"},"audio_bit_rate":32,"data_channels":[]}""",
        """{"allowed":false,"reason":"INVALID-TOKEN"}""",
    ];

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", "\"", ",", ":", "null", "true", "false", "0", "-1", "1e999", "2147483648", "1.5",
        "\"\\ud800\"", "\"\\u0000\"", "\\", "\"type\"", "\"connect\"", "\"role\"", "\"channel_id\"", "\"audio\"",
        "\"video\"", "\"codec_type\"", "\"bit_rate\"", "\"candidate\"", "\"sdp\"", "\u3042", "\ud83d\ude00", "[[[[[[[[",
    ];

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = new List<byte>(seed);
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits && bytes.Count > 0; e++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)])); break;
                case 3: bytes.RemoveRange(at, Math.Min(random.Next(1, 16), bytes.Count - at)); break;
                default:
                    var len = Math.Min(random.Next(1, 32), bytes.Count - at);
                    bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, len));
                    break;
            }
        }
        return bytes.ToArray();
    }

    [Fact]
    public void Mutated_messages_never_throw_or_hang_in_either_parser()
    {
        var random = new Random(20260101);
        var seeds = Seeds.Select(Encoding.UTF8.GetBytes).ToArray();
        var watch = Stopwatch.StartNew();
        int accepted = 0, refused = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = Mutate(random, seeds[random.Next(seeds.Length)]);
            var slow = Stopwatch.StartNew();
            if (ConnectParser.TryParse(input, out var request, out var error)) { accepted++; Assert.NotNull(request); }
            else { refused++; Assert.InRange(error.Code, 4000, 4999); }
            if (ClientMessage.TryParse(input, out var message, out error)) Assert.NotNull(message);
            else Assert.InRange(error.Code, 4000, 4999);
            Assert.NotNull(Hibari.Webhooks.AuthAnswerParser.Parse(input)); // auth answers come from outside too
            Assert.True(slow.ElapsedMilliseconds < 1000, $"input {i} took {slow.ElapsedMilliseconds} ms");
        }
        Assert.True(accepted > 0 && refused > 0, $"accepted {accepted}, refused {refused}: mutations do not exercise both paths");
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(10));
    }
}
