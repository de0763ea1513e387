using System.Buffers.Binary;
using Hibari.Cluster.Relay;
using Hibari.Sdp;
using Hibari.Signaling.Messages;
using static Hibari.Tests.Cluster.Relay.RelaySamples;

namespace Hibari.Tests.Cluster.Relay;

public sealed class RelayFramesTests
{
    public static TheoryData<string> SampleNames() => new(All().Select(s => s.Name));

    private static RelayFrame Sample(string name) => All().Single(s => s.Name == name).Frame;

    private static RelayFrame Decode(byte[] bytes)
    {
        Assert.True(RelayFrames.TryDecode(bytes, out var frame, out var error), error);
        Assert.Null(error);
        return frame!;
    }

    private static string Refusal(ReadOnlySpan<byte> bytes)
    {
        Assert.False(RelayFrames.TryDecode(bytes, out var frame, out var error));
        Assert.Null(frame);
        Assert.NotNull(error);
        return error;
    }

    // ---- round trips ----

    [Theory, MemberData(nameof(SampleNames))]
    public void Every_frame_type_round_trips_to_an_equal_frame_and_the_same_bytes(string name)
    {
        var frame = Sample(name);
        var bytes = RelayFrames.Encode(frame);
        Assert.True(bytes.Length <= RelayProtocol.MaxFrameBytes);
        Assert.True(RelayFrames.TryPeek(bytes, out var version, out var type));
        Assert.Equal(RelayProtocol.MaxVersion, version);
        Assert.Equal(frame.GetType().Name["Relay".Length..], type.ToString());
        var back = Decode(bytes);
        Assert.IsType(frame.GetType(), back);
        Assert.Equal(frame, back);
        Assert.Equal(frame.SentAtMicros, back.SentAtMicros);
        Assert.Equal(bytes, RelayFrames.Encode(back));
    }

    [Fact]
    public void The_samples_cover_every_frame_type()
    {
        var covered = All().Select(s => RelayFrames.TryPeek(RelayFrames.Encode(s.Frame), out _, out var t) ? t : 0).ToHashSet();
        covered.Add(RelayFrameType.Rtp); // RtpFrame: its own tests
        Assert.Equal(Enum.GetValues<RelayFrameType>().ToHashSet(), covered);
    }

    [Fact]
    public void Decoded_fields_are_the_encoded_ones()
    {
        var up = (RelayConnectionUp)Decode(RelayFrames.Encode(Sample("connection up no metadata")));
        Assert.Equal(Session, up.SessionId);
        Assert.Equal(Conn, up.Connection.ConnectionId);
        Assert.Equal("", up.Connection.ClientId);
        Assert.Equal(2, up.Connection.Role);
        Assert.False(up.Connection.Audio);
        Assert.Null(up.Connection.NotifyMetadataJson);
        Assert.Equal(1_700_000_000_123, up.Connection.CreatedAtUnixMs);

        var track = (RelayTrackUp)Decode(RelayFrames.Encode(Sample("track up video")));
        Assert.Null(track.Codec.Fmtp);
        Assert.Equal(new[] { "nack", "nack pli", "ccm fir", "goog-remb", "transport-cc" }, track.Codec.Feedback);
        Assert.Equal(0xFFFFFFFFu, track.Ssrc);
        Assert.Equal(97, track.Codec.RtxPayloadType);

        var empty = (RelayTrackUp)Decode(RelayFrames.Encode(Sample("track up empty feedback")));
        Assert.Equal("", empty.Codec.Fmtp);
        Assert.Empty(empty.Codec.Feedback);

        var max = (RelayMessage)Decode(RelayFrames.Encode(Sample("message max")));
        Assert.Equal(RelayFrames.MaxMessagePayloadBytes, max.Payload.Length);
        Assert.Equal(((RelayMessage)Sample("message max")).Payload, max.Payload);
    }

    [Fact]
    public void Equality_compares_payloads_lists_and_send_times_by_value()
    {
        var a = (RelayMessage)Sample("message text");
        Assert.Equal(a, a with { Payload = "hello"u8.ToArray() });
        Assert.NotEqual(a, a with { Payload = "hellO"u8.ToArray() });
        Assert.NotEqual(a, a with { SentAtMicros = 12 });
        var t = (RelayTrackUp)Sample("track up video");
        Assert.Equal(t, t with { Codec = t.Codec with { Feedback = t.Codec.Feedback.ToList() } });
        Assert.NotEqual(t, t with { Codec = t.Codec with { Feedback = ["nack"] } });
        var c = Connection("1"u8.ToArray());
        Assert.Equal(c, Connection("1"u8.ToArray()));
        Assert.NotEqual(c, Connection(null));
        Assert.NotEqual(c, Connection("2"u8.ToArray()));
    }

    // ---- golden encodings: the layout cannot change unnoticed ----

    [Fact]
    public void Hello_encodes_to_its_frozen_layout()
    {
        var hello = new RelayHello(1, 2, RelayCapabilities.Media | RelayCapabilities.Signaling, "n1") { SentAtMicros = 0x0102030405060708 };
        byte[] expected =
        [
            0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // header: version 1, type Hello, SentAtMicros
            0x01, 0x02, // MinVersion, MaxVersion
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // capabilities
            0x02, (byte)'n', (byte)'1', // node name
        ];
        Assert.Equal(expected, RelayFrames.Encode(hello));
        Assert.Equal(hello, Decode(expected));
    }

    [Fact]
    public void Rtp_encodes_to_its_layout_with_a_30_byte_overhead()
    {
        Assert.Equal(30, RelayFrames.RtpOverhead);
        byte[] expected =
        [
            0x01, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // header: version 1, type Rtp, SentAtMicros
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, // session id
            0xAA, 0xBB, 0xCC, 0xDD, // ssrc
            0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x64, 0xAA, 0xBB, 0xCC, 0xDD, 0xDE, 0xAD, // the RTP packet
        ];
        Assert.Equal(expected, RtpFrame());
        Assert.True(RelayFrames.TryReadRtp(expected, out var view, out var error), error);
        Assert.Equal(Session16, view.SessionId16.ToArray());
        Assert.Equal(Session, SoraId.Encode(view.SessionId16));
        Assert.Equal(0xAABBCCDDu, view.Ssrc);
        Assert.Equal(0x0102030405060708, view.SentAtMicros);
        Assert.Equal(Rtp, view.Rtp.ToArray());
    }

    [Fact]
    public void Udp_endpoint_and_confirm_encode_to_their_layouts()
    {
        byte[] endpoint =
        [
            0x01, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0x0C, // header: version 1, type 12 (UdpEndpoint), SentAtMicros 12
            0x04, 10, 0, 0, 2, // address: length 4, 10.0.0.2
            0xC3, 0x50, // port 50000
            0x01, 0x02, 0x03, 0x04, // route id
            0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, // salt
        ];
        Assert.Equal(endpoint, RelayFrames.Encode(Sample("udp endpoint")));
        Assert.Equal(Sample("udp endpoint"), Decode(endpoint));
        byte[] confirm = [0x01, 0x0D, 0, 0, 0, 0, 0, 0, 0, 0x0D, 0x01, 0x02, 0x03, 0x04];
        Assert.Equal(confirm, RelayFrames.Encode(Sample("udp confirm")));
        Assert.Equal(Sample("udp confirm"), Decode(confirm));
        Assert.Equal(1 + 16 + 2 + 4 + 16, RelayFrames.Encode(Sample("udp endpoint ipv6")).Length - RelayFrames.HeaderBytes);
    }

    [Fact]
    public void Udp_endpoint_with_a_bad_address_length_port_or_route_is_refused()
    {
        var good = RelayFrames.Encode(Sample("udp endpoint"));
        byte[] Set(int at, byte value) { var b = (byte[])good.Clone(); b[at] = value; return b; }
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(10, 5))); // address length neither 4 nor 16
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(10, 0)));
        Assert.Equal(RelayFrameErrors.Truncated, Refusal(Set(10, 16))); // claims IPv6: runs past the end
        var noPort = Set(15, 0);
        noPort[16] = 0;
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(noPort));
        var noRoute = (byte[])good.Clone();
        noRoute.AsSpan(17, 4).Clear();
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(noRoute));
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal([0x01, 0x0D, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])); // confirm of route 0
        Assert.Equal(RelayFrameErrors.TrailingBytes, Refusal([.. good, 0]));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayUdpEndpoint(System.Net.IPAddress.Loopback, 0, 1, 0)));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayUdpEndpoint(System.Net.IPAddress.Loopback, 1, 0, 0)));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayUdpConfirm(0)));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayTrackLayers(RelaySamples.Session, RelaySamples.Conn, "t", [])));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelaySpotlightFocus(RelaySamples.Session, 0, [])));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelaySpotlightFocus(RelaySamples.Session, 1,
            [new RelayFocus(RelaySamples.Conn, false), new RelayFocus(RelaySamples.Conn2, false)])));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayTrackLayers(RelaySamples.Session, RelaySamples.Conn, "t",
            Enumerable.Range(0, RelayFrames.MaxLayers + 1).Select(i => new RelayLayer("r", 1, 1)).ToList())));
    }

    [Fact]
    public void Key_frame_request_and_message_encode_to_their_layouts()
    {
        var id = Session16.Select(b => b).ToArray();
        byte[] kfr = [0x01, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x03, .. id, 0xDE, 0xAD, 0xBE, 0xEF];
        Assert.Equal(kfr, RelayFrames.Encode(Sample("key frame request")));

        var sender = Enumerable.Range(0x40, 16).Select(i => (byte)i).ToArray();
        byte[] message =
        [
            0x01, 0x0A, 0, 0, 0, 0, 0, 0, 0, 0x0B, .. id, .. sender,
            0x08, .. "bundle-1"u8, 0x05, .. "#chat"u8, 0x00, 0x00, 0x00, 0x00, 0x05, .. "hello"u8,
        ];
        Assert.Equal(message, RelayFrames.Encode(Sample("message text")));
    }

    // ---- RTP ----

    [Fact]
    public void Rtp_round_trips_at_the_smallest_and_largest_packet()
    {
        var smallest = Rtp[..12];
        var largest = new byte[RelayFrames.MaxRtpBytes];
        Random.Shared.NextBytes(largest);
        largest[0] = 0x90;
        foreach (var rtp in new[] { smallest, largest })
        {
            var frame = RtpFrame(rtp, sentAt: -5);
            Assert.Equal(rtp.Length + RelayFrames.RtpOverhead, frame.Length);
            Assert.True(frame.Length <= RelayProtocol.MaxFrameBytes);
            Assert.True(RelayFrames.TryPeek(frame, out var v, out var t));
            Assert.Equal(1, v);
            Assert.Equal(RelayFrameType.Rtp, t);
            Assert.True(RelayFrames.TryReadRtp(frame, out var view, out _));
            Assert.Equal(-5, view.SentAtMicros);
            Assert.True(view.Rtp.SequenceEqual(rtp));
        }
        Assert.Equal(RelayProtocol.MaxFrameBytes, RtpFrame(largest).Length);
    }

    [Fact]
    public void WriteRtp_returns_0_when_the_destination_is_too_small_and_refuses_invalid_arguments()
    {
        var buffer = new byte[RelayFrames.RtpOverhead + Rtp.Length];
        Assert.Equal(0, RelayFrames.WriteRtp(buffer.AsSpan(0, buffer.Length - 1), Session16, 1, 0, Rtp));
        Assert.Equal(0, RelayFrames.WriteRtp([], Session16, 1, 0, Rtp));
        Assert.Equal(buffer.Length, RelayFrames.WriteRtp(new byte[buffer.Length + 100], Session16, 1, 0, Rtp));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteRtp(buffer, Session16[..15], 1, 0, Rtp));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteRtp(buffer, Session16, 1, 0, Rtp[..11]));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteRtp(buffer, Session16, 1, 0, [0x40, .. Rtp[1..]]));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteRtp(buffer, Session16, 1, 0, Rtp, version: 2));
        Assert.Throws<ArgumentException>(() => RelayFrames.WriteRtp(new byte[RelayProtocol.MaxFrameBytes + 1], Session16, 1, 0,
            [0x80, .. new byte[RelayFrames.MaxRtpBytes]]));
    }

    [Fact]
    public void WriteRtp_TryReadRtp_and_TryPeek_allocate_nothing()
    {
        var rtp = new byte[1200];
        rtp[0] = 0x80;
        var buffer = new byte[rtp.Length + RelayFrames.RtpOverhead];
        var session = Session16;
        long sum = 0;
        void Loop(int n)
        {
            for (var i = 0; i < n; i++)
            {
                var len = RelayFrames.WriteRtp(buffer, session, (uint)i, i, rtp);
                RelayFrames.TryPeek(buffer.AsSpan(0, len), out _, out _);
                if (RelayFrames.TryReadRtp(buffer.AsSpan(0, len), out var view, out _)) sum += view.Ssrc + view.Rtp.Length;
                RelayFrames.TryReadRtp(buffer.AsSpan(0, 20), out _, out _); // refusals do not allocate either
                RelayFrames.TryReadRtp(Array.Empty<byte>(), out _, out _);
            }
        }
        Loop(1000); // JIT first
        // Tiered compilation may still allocate a few bytes once (call counting, OSR) while the loop is promoted, so the
        // loop is measured until a run is clean; a per-call allocation would show in every run (≥ 100,000 bytes).
        const int calls = 100_000;
        var runs = new List<long>();
        do
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            Loop(calls);
            runs.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        } while (runs[^1] != 0 && runs.Count < 5);
        Assert.All(runs, bytes => Assert.True(bytes < calls, $"{bytes} bytes in {calls} calls"));
        Assert.Equal(0, runs[^1]);
        Assert.True(sum > 0);
    }

    [Fact]
    public void The_two_readers_refuse_each_others_frames()
    {
        Assert.False(RelayFrames.TryDecode(RtpFrame(), out _, out var error));
        Assert.Equal(RelayFrameErrors.IsRtp, error);
        Assert.False(RelayFrames.TryReadRtp(RelayFrames.Encode(Sample("key frame request")), out _, out error));
        Assert.Equal(RelayFrameErrors.NotRtp, error);
    }

    [Fact]
    public void Rtp_frames_with_a_short_or_non_rtp_packet_are_refused()
    {
        var frame = RtpFrame();
        Assert.False(RelayFrames.TryReadRtp(frame.AsSpan(0, RelayFrames.RtpOverhead + 11), out _, out var error));
        Assert.Equal(RelayFrameErrors.Truncated, error);
        frame[RelayFrames.RtpOverhead] = 0x40; // RTP version 1
        Assert.False(RelayFrames.TryReadRtp(frame, out _, out error));
        Assert.Equal(RelayFrameErrors.InvalidRtp, error);
    }

    // ---- refusals ----

    [Theory, MemberData(nameof(SampleNames))]
    public void Every_truncation_of_a_valid_frame_is_refused(string name)
    {
        var bytes = RelayFrames.Encode(Sample(name));
        for (var n = 0; n < bytes.Length; n++) Assert.Equal(RelayFrameErrors.Truncated, Refusal(bytes.AsSpan(0, n)));
    }

    [Fact]
    public void Every_truncation_of_an_rtp_frame_is_refused()
    {
        var bytes = RtpFrame();
        for (var n = 0; n < bytes.Length - 2; n++) // the last two are payload: a 12-byte packet is still RTP
        {
            Assert.False(RelayFrames.TryReadRtp(bytes.AsSpan(0, n), out _, out var error));
            Assert.Equal(RelayFrameErrors.Truncated, error);
        }
        for (var n = 0; n < RelayFrames.HeaderBytes; n++) Assert.False(RelayFrames.TryPeek(bytes.AsSpan(0, n), out _, out _));
    }

    [Theory, MemberData(nameof(SampleNames))]
    public void Trailing_bytes_are_refused(string name)
    {
        var bytes = RelayFrames.Encode(Sample(name));
        Assert.Equal(RelayFrameErrors.TrailingBytes, Refusal([.. bytes, 0]));
        Assert.Equal(RelayFrameErrors.TrailingBytes, Refusal([.. bytes, 1, 2, 3, 4, 5, 6, 7, 8]));
    }

    [Fact]
    public void Foreign_versions_are_refused_by_every_reader()
    {
        foreach (byte version in new byte[] { 0, 2, 3, 255 })
        {
            var join = RelayFrames.Encode(Sample("join"));
            join[0] = version;
            Assert.Equal(RelayFrameErrors.UnsupportedVersion, Refusal(join));
            Assert.False(RelayFrames.TryPeek(join, out _, out _));
            var rtp = RtpFrame();
            rtp[0] = version;
            Assert.False(RelayFrames.TryReadRtp(rtp, out _, out var error));
            Assert.Equal(RelayFrameErrors.UnsupportedVersion, error);
            var hello = RelayFrames.Encode(Sample("hello")); // a Hello is always written as version 1
            hello[0] = version;
            Assert.Equal(RelayFrameErrors.UnsupportedVersion, Refusal(hello));
        }
    }

    [Fact]
    public void Unknown_types_are_refused()
    {
        foreach (byte type in new byte[] { 0, 17, 18, 128, 255 })
        {
            var bytes = RelayFrames.Encode(Sample("join"));
            bytes[1] = type;
            Assert.Equal(RelayFrameErrors.UnknownType, Refusal(bytes));
            Assert.False(RelayFrames.TryPeek(bytes, out _, out _));
            Assert.False(RelayFrames.TryReadRtp(bytes, out _, out var error));
            Assert.Equal(RelayFrameErrors.UnknownType, error);
        }
    }

    [Fact]
    public void Frames_larger_than_MaxFrameBytes_are_refused_before_being_read()
    {
        var big = new byte[RelayProtocol.MaxFrameBytes + 1];
        RelayFrames.Encode(Sample("message max")).CopyTo(big, 0);
        Assert.Equal(RelayFrameErrors.Oversize, Refusal(big));
        Assert.False(RelayFrames.TryPeek(big, out _, out _));
        var rtp = RtpFrame();
        var bigRtp = new byte[RelayProtocol.MaxFrameBytes + 1];
        rtp.CopyTo(bigRtp, 0);
        Assert.False(RelayFrames.TryReadRtp(bigRtp, out _, out var error));
        Assert.Equal(RelayFrameErrors.Oversize, error);
        Assert.True(RelayFrames.TryReadRtp(bigRtp.AsSpan(0, RelayProtocol.MaxFrameBytes), out _, out _));
    }

    [Fact]
    public void Lengths_beyond_their_bounds_are_refused()
    {
        // An empty channel id (its bound is 1..255).
        var join = RelayFrames.Encode(new RelaySessionJoin("c", Session));
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal([.. join[..^2], 0]));
        // An empty node name.
        var hello = RelayFrames.Encode(new RelayHello(1, 1, 0, "n"));
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal([.. hello[..^2], 0]));
        // A message payload one byte over 256 KiB (the frame itself is under MaxFrameBytes).
        var message = RelayFrames.Encode(new RelayMessage(Session, Conn, "", "", true, new byte[RelayFrames.MaxMessagePayloadBytes]));
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(message.Length - RelayFrames.MaxMessagePayloadBytes - 4), RelayFrames.MaxMessagePayloadBytes + 1);
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal([.. message, 0]));
        // A claimed payload of 4 GB in a small frame: refused without allocating it.
        var small = RelayFrames.Encode(new RelayMessage(Session, Conn, "", "", true, [1, 2]));
        BinaryPrimitives.WriteUInt32BigEndian(small.AsSpan(small.Length - 6), uint.MaxValue);
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal(small));
        // A payload claiming more bytes than the frame has.
        BinaryPrimitives.WriteUInt32BigEndian(small.AsSpan(small.Length - 6), 3);
        Assert.Equal(RelayFrameErrors.Truncated, Refusal(small));
        // Metadata over its bound.
        var up = RelayFrames.Encode(new RelayConnectionUp(Session, Connection("0"u8.ToArray())));
        BinaryPrimitives.WriteUInt32BigEndian(up.AsSpan(up.Length - 5), RelayFrames.MaxMetadataBytes + 1);
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal(up));
        // Fmtp over 1024 bytes, 33 feedback entries.
        var codec = new RelayTrackCodec("opus", 111, 48_000, 2, "a", 0, []);
        var track = RelayFrames.Encode(new RelayTrackUp(Session, Conn, "t", 0, 1, 0, codec));
        var fmtpLengthAt = track.Length - 5; // then "a", the RTX payload type, the feedback count
        BinaryPrimitives.WriteUInt16BigEndian(track.AsSpan(fmtpLengthAt), RelayFrames.MaxFmtpBytes + 1);
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal(track));
        var noFeedback = RelayFrames.Encode(new RelayTrackUp(Session, Conn, "t", 0, 1, 0, codec));
        noFeedback[^1] = RelayFrames.MaxFeedbackEntries + 1;
        Assert.Equal(RelayFrameErrors.OutOfBounds, Refusal([.. noFeedback, .. Enumerable.Repeat<byte[]>([1, (byte)'x'], 33).SelectMany(b => b)]));
    }

    [Fact]
    public void A_relayed_track_keeps_its_publishers_codec_parameters_D_34()
    {
        foreach (var codec in new[]
                 {
                     CodecCatalog.SelectAudio("OPUS", new OpusParams { Stereo = false, UseDtx = true }, 256).Value!,
                     CodecCatalog.SelectVideo("VP9", new VideoCodecParams { Vp9ProfileId = 2 }).Value!,
                     CodecCatalog.SelectVideo("H264", new VideoCodecParams { H264ProfileLevelId = "4d0032" }).Value!,
                     CodecCatalog.SelectVideo("H265", new VideoCodecParams { H265LevelId = 120 }).Value!,
                 })
        {
            var bytes = RelayFrames.Encode(new RelayTrackUp(Session, Conn, "t", (byte)(codec.Kind == MediaKind.Audio ? 0 : 1), 1, 2,
                RelayService.FrameCodec(codec)));
            Assert.True(RelayFrames.TryDecode(bytes, out var frame, out var error), error);
            var back = RelayService.CodecOf((RelayTrackUp)frame!);
            Assert.Equal(codec, back);
        }
        // The catalog's own entry comes back as that instance.
        var plain = RelayFrames.Encode(new RelayTrackUp(Session, Conn, "t", 1, 1, 2, RelayService.FrameCodec(CodecCatalog.Vp9Profile2)));
        Assert.True(RelayFrames.TryDecode(plain, out var f2, out _));
        Assert.Same(CodecCatalog.Vp9Profile2, RelayService.CodecOf((RelayTrackUp)f2!));
    }

    [Fact]
    public void Invalid_utf8_is_refused()
    {
        var hello = RelayFrames.Encode(new RelayHello(1, 1, 0, "node"));
        hello[^2] = 0xFF;
        Assert.Equal(RelayFrameErrors.InvalidUtf8, Refusal(hello));
        var label = RelayFrames.Encode(new RelayMessage(Session, Conn, "", "ab", false, []));
        label[^7] = 0xC0; // an overlong encoding
        label[^6] = 0x80;
        Assert.Equal(RelayFrameErrors.InvalidUtf8, Refusal(label));
        var up = RelayFrames.Encode(new RelayConnectionUp(Session, Connection("\"é\""u8.ToArray())));
        up[^2] = 0xFF; // inside the JSON string
        Assert.Equal(RelayFrameErrors.InvalidJson, Refusal(up));
    }

    [Fact]
    public void Out_of_range_values_are_refused()
    {
        static byte[] Set(RelayFrame frame, int fromEnd, byte value)
        {
            var bytes = RelayFrames.Encode(frame);
            bytes[^fromEnd] = value;
            return bytes;
        }
        var message = new RelayMessage(Session, Conn, "", "", true, []);
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(message, 5, 2))); // Binary is 0 or 1
        var up = new RelayConnectionUp(Session, Connection(null));
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(up, 1, 2))); // metadata present flag
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(up, 12, 3))); // role
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(up, 11, 2))); // audio
        var track = new RelayTrackUp(Session, Conn, "t", 0, 1, 0, new RelayTrackCodec("opus", 111, 48_000, 2, null, 0, []));
        var trackBytes = RelayFrames.Encode(track);
        var kindAt = RelayFrames.HeaderBytes + 32 + 2;
        trackBytes[kindAt] = 2;
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(trackBytes));
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(track, 2, 128))); // RTX payload type
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(track, 3, 2))); // fmtp present flag
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(Set(track, 9, 200))); // payload type
        var down = RelayFrames.Encode(new RelayConnectionDown(Session, Conn, "", 0));
        down[^4] = 0x80; // minutes < 0
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(down));
        var hello = RelayFrames.Encode(new RelayHello(1, 1, 0, "n"));
        hello[RelayFrames.HeaderBytes] = 2; // MinVersion > MaxVersion
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(hello));
        hello[RelayFrames.HeaderBytes] = 0; // version 0 does not exist
        Assert.Equal(RelayFrameErrors.InvalidValue, Refusal(hello));
    }

    /// <summary>A ConnectionUp whose metadata is <paramref name="raw"/>, bypassing Encode's check.</summary>
    private static byte[] WithMetadata(ReadOnlySpan<byte> raw)
    {
        var bytes = RelayFrames.Encode(new RelayConnectionUp(Session, Connection(null)));
        bytes[^1] = 1;
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)raw.Length);
        return [.. bytes, .. length, .. raw];
    }

    [Fact]
    public void Metadata_that_is_not_one_json_value_is_refused()
    {
        foreach (var bad in new[] { "", " ", "{", "{}{}", "1 2", "{'a':1}", "[1,]", "nul", "/* */ 1" })
        {
            var raw = System.Text.Encoding.UTF8.GetBytes(bad);
            Assert.Equal(RelayFrameErrors.InvalidJson, Refusal(WithMetadata(raw)));
            Assert.Throws<ArgumentException>(() => RelayFrames.Encode(new RelayConnectionUp(Session, Connection(raw))));
        }
        foreach (var ok in new[] { "null", " {\"a\": [1, 2.5e3, true, \"ü\"]} ", "\"s\"", "0" })
        {
            var raw = System.Text.Encoding.UTF8.GetBytes(ok);
            var up = (RelayConnectionUp)Decode(WithMetadata(raw));
            Assert.Equal(raw, up.Connection.NotifyMetadataJson);
            Assert.Equal(WithMetadata(raw), RelayFrames.Encode(up));
        }
    }

    // ---- Encode's argument checks ----

    private sealed record ForeignFrame : RelayFrame;

    public static TheoryData<string, RelayFrame> InvalidFrames()
    {
        var data = new TheoryData<string, RelayFrame>();
        void Add(string name, RelayFrame f) => data.Add(name, f);
        Add("session id not a Sora id", new RelaySessionJoin("c", "not-a-sora-id"));
        Add("session id in lower case", new RelaySessionJoin("c", Session.ToLowerInvariant()));
        Add("session id with padding bits", new RelaySessionJoin("c", Session[..^1] + "1"));
        Add("session id null", new RelaySessionLeave("c", null!));
        Add("empty channel id", new RelaySessionJoin("", Session));
        Add("channel id over 255 bytes", new RelaySessionJoin(Utf8Of(258), Session));
        Add("channel id with a lone surrogate", new RelaySessionJoin("a\uD800", Session));
        Add("empty node name", new RelayHello(1, 1, 0, ""));
        Add("node name over 255 bytes", new RelayHello(1, 1, 0, new string('n', 256)));
        Add("empty version range", new RelayHello(2, 1, 0, "n"));
        Add("version 0", new RelayHello(0, 1, 0, "n"));
        Add("connection id not a Sora id", new RelayConnectionUp(Session, Connection(null) with { ConnectionId = "x" }));
        Add("connection null", new RelayConnectionUp(Session, null!));
        Add("role 3", new RelayConnectionUp(Session, Connection(null) with { Role = 3 }));
        Add("client id null", new RelayConnectionUp(Session, Connection(null) with { ClientId = null! }));
        Add("metadata not JSON", new RelayConnectionUp(Session, Connection("{"u8.ToArray())));
        Add("metadata over its bound", new RelayConnectionUp(Session, Connection(JsonOf(RelayFrames.MaxMetadataBytes + 1))));
        Add("negative minutes", new RelayConnectionDown(Session, Conn, "", -1));
        Add("reason over 255 bytes", new RelayConnectionDown(Session, Conn, new string('r', 256), 0));
        Add("kind 2", new RelayTrackUp(Session, Conn, "t", 2, 1, 0, Opus));
        Add("empty track id", new RelayTrackDown(Session, Conn, ""));
        Add("codec null", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, null!));
        Add("payload type 128", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { PayloadType = 128 }));
        Add("rtx payload type 200", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { RtxPayloadType = 200 }));
        Add("fmtp over 1024 bytes", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { Fmtp = new string('f', 1025) }));
        Add("33 feedback entries", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { Feedback = Enumerable.Repeat("nack", 33).ToArray() }));
        Add("empty feedback entry", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { Feedback = [""] }));
        Add("feedback null", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { Feedback = null! }));
        Add("empty codec name", new RelayTrackUp(Session, Conn, "t", 0, 1, 0, Opus with { Name = "" }));
        Add("key frame request without a session", new RelayKeyFrameRequest("", 1));
        Add("sender not a Sora id", new RelayMessage(Session, "bundle", "", "", false, []));
        Add("label over 255 bytes", new RelayMessage(Session, Conn, "", Utf8Of(256), false, []));
        Add("payload over 256 KiB", new RelayMessage(Session, Conn, "", "", false, new byte[RelayFrames.MaxMessagePayloadBytes + 1]));
        Add("payload null", new RelayMessage(Session, Conn, "", "", false, null!));
        Add("a frame type this build does not know", new ForeignFrame());
        return data;
    }

    [Theory, MemberData(nameof(InvalidFrames))]
    public void Encode_refuses_values_the_format_cannot_carry(string why, RelayFrame frame)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => RelayFrames.Encode(frame));
        Assert.False(string.IsNullOrEmpty(e.Message), why);
    }

    [Fact]
    public void Encode_refuses_versions_this_build_does_not_speak()
    {
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(Sample("join"), version: 0));
        Assert.Throws<ArgumentException>(() => RelayFrames.Encode(Sample("join"), version: RelayProtocol.MaxVersion + 1));
        Assert.Throws<ArgumentNullException>(() => RelayFrames.Encode(null!));
    }

    [Fact]
    public void A_hello_is_always_written_as_version_1()
    {
        Assert.Equal(RelayProtocol.HelloVersion, RelayFrames.Encode(RelayProtocol.LocalHello("n", RelayCapabilities.Media))[0]);
        Assert.Equal(1, RelayProtocol.HelloVersion);
    }
}
