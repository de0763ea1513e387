using System.Text;
using Hibari.Cluster.Relay;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Cluster.Relay;

/// <summary>Frames of every type, with ordinary, empty/null and largest values (shared by the relay tests).</summary>
internal static class RelaySamples
{
    public static string Id(byte first) => SoraId.Encode(Enumerable.Range(first, 16).Select(i => (byte)i).ToArray());

    public static readonly string Session = Id(0x10);
    public static readonly string Conn = Id(0x40);
    public static readonly string Conn2 = Id(0xF0);

    /// <summary>A string of exactly <paramref name="bytes"/> UTF-8 bytes (multi-byte characters when divisible by 3).</summary>
    public static string Utf8Of(int bytes) => bytes % 3 == 0 ? string.Concat(Enumerable.Repeat("ノ", bytes / 3)) : new string('x', bytes);

    /// <summary>A JSON string value of exactly <paramref name="bytes"/> bytes.</summary>
    public static byte[] JsonOf(int bytes) => Encoding.UTF8.GetBytes("\"" + new string('m', bytes - 2) + "\"");

    public static RelayTrackCodec Opus => new("opus", 111, 48_000, 2, "minptime=10;useinbandfec=1", 0, ["transport-cc"]);
    public static RelayTrackCodec Vp8 => new("VP8", 96, 90_000, 0, null, 97, ["nack", "nack pli", "ccm fir", "goog-remb", "transport-cc"]);

    public static RelayConnection Connection(byte[]? metadata) =>
        new(Conn, "client-ü", "bundle-1", "sora-channel", 0, true, true, 1_700_000_000_123, metadata);

    public static IEnumerable<(string Name, RelayFrame Frame)> All()
    {
        yield return ("hello", new RelayHello(1, 1, RelayCapabilities.Media | RelayCapabilities.Messages | RelayCapabilities.Signaling, "node-1@10.0.0.1") { SentAtMicros = 1_700_000_000_000_001 });
        yield return ("hello future range and unknown caps", new RelayHello(2, 9, (RelayCapabilities)(1UL << 63 | 1UL << 40 | 1), "n") { SentAtMicros = -1 });
        yield return ("hello no caps max name", new RelayHello(1, 255, RelayCapabilities.None, Utf8Of(255)));
        yield return ("join", new RelaySessionJoin("sora-channel", Session) { SentAtMicros = 42 });
        yield return ("join max channel", new RelaySessionJoin(Utf8Of(255), Session));
        yield return ("leave", new RelaySessionLeave("ルーム", Session) { SentAtMicros = long.MaxValue });
        yield return ("connection up", new RelayConnectionUp(Session, Connection("""{"k":[1,2,{"x":null}]}"""u8.ToArray())) { SentAtMicros = 7 });
        yield return ("connection up no metadata", new RelayConnectionUp(Session, Connection(null) with { Role = 2, Audio = false, Video = false, ClientId = "", BundleId = "" }));
        yield return ("connection up max", new RelayConnectionUp(Session, new RelayConnection(Conn2, Utf8Of(255), Utf8Of(255), Utf8Of(255), 1, true, false, long.MinValue, JsonOf(RelayFrames.MaxMetadataBytes))));
        yield return ("connection down", new RelayConnectionDown(Session, Conn, "NORMAL", 12) { SentAtMicros = 1 });
        yield return ("connection down empty reason", new RelayConnectionDown(Session, Conn2, "", int.MaxValue));
        yield return ("track up audio", new RelayTrackUp(Session, Conn, "track-a", 0, 0x11223344, 0, Opus) { SentAtMicros = 5 });
        yield return ("track up video", new RelayTrackUp(Session, Conn, "7b3c1d3e-video", 1, 0xFFFFFFFF, 0x01020304, Vp8));
        yield return ("track up empty feedback", new RelayTrackUp(Session, Conn, "t", 1, 1, 2, new RelayTrackCodec("H264", 127, 90_000, 0, "", 127, [])));
        yield return ("track up max", new RelayTrackUp(Session, Conn2, Utf8Of(255), 1, 3, 4,
            new RelayTrackCodec(Utf8Of(255), 0, uint.MaxValue, 255, new string('f', RelayFrames.MaxFmtpBytes), 1,
                Enumerable.Range(0, RelayFrames.MaxFeedbackEntries).Select(i => Utf8Of(255)).ToArray())));
        yield return ("track down", new RelayTrackDown(Session, Conn, "track-a") { SentAtMicros = 9 });
        yield return ("key frame request", new RelayKeyFrameRequest(Session, 0xDEADBEEF) { SentAtMicros = 3 });
        yield return ("sender report", new RelaySenderReport(Session, 0xDEADBEEF, 0xE8C1_2345_6789_ABCD, 0x0102_0304) { SentAtMicros = 4 });
        yield return ("udp endpoint", new RelayUdpEndpoint(System.Net.IPAddress.Parse("10.0.0.2"), 50000, 0x01020304,
            new UInt128(0x1011121314151617, 0x18191A1B1C1D1E1F)) { SentAtMicros = 12 });
        yield return ("udp endpoint ipv6", new RelayUdpEndpoint(System.Net.IPAddress.Parse("2001:db8::5"), 65535, uint.MaxValue, UInt128.MaxValue));
        yield return ("udp confirm", new RelayUdpConfirm(0x01020304) { SentAtMicros = 13 });
        yield return ("track layers", new RelayTrackLayers(Session, Conn, "7b3c1d3e-video",
            [new RelayLayer("r0", 1, 2), new RelayLayer("r1", 3, 0), new RelayLayer("r2", 0xFFFFFFFF, 4)]) { SentAtMicros = 14 });
        yield return ("track layers max", new RelayTrackLayers(Session, Conn2, Utf8Of(255),
            Enumerable.Range(0, RelayFrames.MaxLayers).Select(i => new RelayLayer(Utf8Of(255), (uint)i, (uint)i)).ToList()));
        yield return ("spotlight focus", new RelaySpotlightFocus(Session, 2, [new RelayFocus(Conn, true), new RelayFocus(Conn2, false)]) { SentAtMicros = 16 });
        yield return ("spotlight focus none", new RelaySpotlightFocus(Session, 8, []));
        yield return ("layer demand", new RelayLayerDemand(Session, 0xDEADBEEF, 0b101) { SentAtMicros = 15 });
        yield return ("message text", new RelayMessage(Session, Conn, "bundle-1", "#chat", false, "hello"u8.ToArray()) { SentAtMicros = 11 });
        yield return ("message empty", new RelayMessage(Session, Conn, "", "", true, []));
        yield return ("message max", new RelayMessage(Session, Conn2, Utf8Of(255), Utf8Of(255), true,
            Enumerable.Range(0, RelayFrames.MaxMessagePayloadBytes).Select(i => (byte)(i * 7)).ToArray()));
    }

    /// <summary>A valid RTP packet: version 2, payload type 96, sequence 1, timestamp 100, SSRC 0xAABBCCDD, payload DE AD.</summary>
    public static readonly byte[] Rtp = [0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x64, 0xAA, 0xBB, 0xCC, 0xDD, 0xDE, 0xAD];

    public static readonly byte[] Session16 = Enumerable.Range(0x10, 16).Select(i => (byte)i).ToArray();

    public static byte[] RtpFrame(byte[]? rtp = null, long sentAt = 0x0102030405060708)
    {
        rtp ??= Rtp;
        var buffer = new byte[RelayFrames.RtpOverhead + rtp.Length];
        var n = RelayFrames.WriteRtp(buffer, Session16, 0xAABBCCDD, sentAt, rtp);
        return buffer[..n];
    }
}
