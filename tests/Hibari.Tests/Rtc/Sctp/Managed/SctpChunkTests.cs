using System.Buffers.Binary;
using Hibari.Rtc.Sctp.Chunks;

namespace Hibari.Tests.Rtc.Sctp.Managed;

public sealed class SctpChunkTests
{
    // RFC 3720 Appendix B.4 (CRC32c test vectors); the RFC lists the CRC bytes as stored, i.e. little-endian.
    [Fact]
    public void Crc32c_matches_RFC_3720_B4_vectors()
    {
        Assert.Equal(0x8A9136AAu, Crc32c.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32c.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32c.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32c.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
        byte[] iscsiRead =
        [
            0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        Assert.Equal(0xD9963A56u, Crc32c.Compute(iscsiRead));
    }

    [Fact]
    public void Packet_checksum_is_stored_little_endian_and_a_flipped_bit_is_rejected()
    {
        var packet = Packet(new EmptyChunk(SctpChunkType.CookieAck));
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(8));
        Assert.Equal(SctpPacket.ComputeChecksum(packet), stored);
        Assert.True(SctpPacket.TryReadHeader(packet, out var h, out _));
        Assert.Equal(new SctpCommonHeader(5000, 5000, 0x01020304), h);
        packet[13] ^= 0x10;
        Assert.False(SctpPacket.TryReadHeader(packet, out _, out var error));
        Assert.Contains("CRC", error);
    }

    private static byte[] Packet(params SctpChunk[] chunks)
    {
        var bytes = new byte[12 + chunks.Sum(c => c.PaddedLength)];
        SctpPacket.WriteHeader(bytes, new SctpCommonHeader(5000, 5000, 0x01020304));
        var o = 12;
        foreach (var c in chunks) o += c.WriteTo(bytes.AsSpan(o));
        SctpPacket.SealChecksum(bytes);
        return bytes;
    }

    private static T RoundTrip<T>(T chunk) where T : SctpChunk
    {
        var bytes = chunk.ToArray();
        Assert.Equal(0, bytes.Length % 4);
        var reader = new SctpChunkReader(bytes);
        Assert.True(reader.TryRead(out var raw));
        Assert.Equal(chunk.Type, raw.Type);
        Assert.Equal(4 + chunk.ValueLength, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(2)));
        Assert.True(SctpChunk.TryParse(raw, out var parsed, out var error), error);
        Assert.False(reader.TryRead(out _));
        Assert.Equal(bytes, parsed!.ToArray());
        return Assert.IsType<T>(parsed);
    }

    [Fact]
    public void Data_round_trips_with_flags_and_odd_length_payload()
    {
        var d = RoundTrip(new DataChunk(0xFFFFFFFE, 7, 65535, 51, new byte[] { 1, 2, 3, 4, 5 }, true, false, true));
        Assert.Equal((0xFFFFFFFEu, (ushort)7, (ushort)65535, 51u), (d.Tsn, d.StreamId, d.Ssn, d.Ppid));
        Assert.True(d.Beginning && !d.Ending && d.Unordered);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, d.UserData.ToArray());
        Assert.Equal(0x06, d.Flags);
    }

    [Fact]
    public void Init_and_InitAck_round_trip_with_cookie_extensions_forward_tsn_and_unknown_parameters()
    {
        var init = RoundTrip(new InitChunk
        {
            InitiateTag = 0xA1B2C3D4, AdvertisedReceiverWindow = 5_242_880, OutboundStreams = 65535, InboundStreams = 65535,
            InitialTsn = 42, ForwardTsnSupported = true, SupportedExtensions = [130, 192],
            OtherParameters = [new SctpParameter(0x8002, new byte[32]), new SctpParameter(0x8004, new byte[] { 0, 1 })],
        });
        Assert.True(init.ForwardTsnSupported);
        Assert.Equal(new byte[] { 130, 192 }, init.SupportedExtensions);
        Assert.Equal(2, init.OtherParameters.Count);
        var ack = RoundTrip(new InitChunk { IsAck = true, InitiateTag = 9, AdvertisedReceiverWindow = 1, OutboundStreams = 1, InboundStreams = 1, InitialTsn = 1, StateCookie = new byte[] { 1, 2, 3 } });
        Assert.Equal(new byte[] { 1, 2, 3 }, ack.StateCookie);
    }

    [Fact]
    public void Init_with_zero_tag_or_InitAck_without_cookie_is_an_error_value()
    {
        var bad = new InitChunk { InitiateTag = 1, AdvertisedReceiverWindow = 1, OutboundStreams = 1, InboundStreams = 1 }.ToArray();
        bad[0] = (byte)SctpChunkType.InitAck;
        Assert.False(Parse(bad, out var error));
        Assert.Contains("cookie", error);
        var zeroTag = new InitChunk { InitiateTag = 1, OutboundStreams = 1, InboundStreams = 1 }.ToArray();
        zeroTag[7] = 0;
        Assert.False(Parse(zeroTag, out _));
    }

    private static bool Parse(byte[] chunk, out string? error)
    {
        var reader = new SctpChunkReader(chunk);
        if (!reader.TryRead(out var raw)) { error = reader.Error; return false; }
        return SctpChunk.TryParse(raw, out _, out error);
    }

    [Fact]
    public void Sack_round_trips_gap_blocks_and_duplicates()
    {
        var s = RoundTrip(new SackChunk(1000, 65536, [(2, 3), (5, 9)], [990, 995]));
        Assert.Equal([(2, 3), (5, 9)], s.GapBlocks);
        Assert.Equal([990u, 995u], s.DuplicateTsns);
        var truncated = s.ToArray()[..20];
        BinaryPrimitives.WriteUInt16BigEndian(truncated.AsSpan(2), 20);
        Assert.False(Parse(truncated, out _));
    }

    [Fact]
    public void Control_chunks_round_trip()
    {
        Assert.Equal(new byte[] { 9, 8, 7 }, RoundTrip(new HeartbeatChunk(false, new byte[] { 9, 8, 7 })).Info);
        Assert.True(RoundTrip(new HeartbeatChunk(true, new byte[16])).IsAck);
        var abort = RoundTrip(new ErrorCausesChunk(SctpChunkType.Abort, [new SctpErrorCause(12, "bye"u8.ToArray()), new SctpErrorCause(13, [])], reflectedTag: true));
        Assert.True(abort.ReflectedTag);
        Assert.Equal(2, abort.Causes.Count);
        Assert.Equal("user-initiated abort: bye", abort.Causes[0].ToString());
        RoundTrip(new ErrorCausesChunk(SctpChunkType.Error, [new SctpErrorCause(6, new byte[] { 0x41, 0, 0, 4 })]));
        Assert.Equal(77u, RoundTrip(new ShutdownChunk(77)).CumulativeTsnAck);
        RoundTrip(new EmptyChunk(SctpChunkType.ShutdownAck));
        Assert.True(RoundTrip(new EmptyChunk(SctpChunkType.ShutdownComplete, true)).ReflectedTag);
        RoundTrip(new EmptyChunk(SctpChunkType.CookieAck));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, RoundTrip(new CookieEchoChunk(new byte[] { 1, 2, 3, 4, 5 })).Cookie);
        var f = RoundTrip(new ForwardTsnChunk(500, [(1, 4), (3, 65535)]));
        Assert.Equal([((ushort)1, (ushort)4), ((ushort)3, (ushort)65535)], f.Streams);
    }

    [Fact]
    public void ReConfig_round_trips_outgoing_reset_request_and_response()
    {
        var r = RoundTrip(new ReConfigChunk([new OutgoingResetRequest(100, 99, 1234, [1, 3, 5])]));
        var req = Assert.IsType<OutgoingResetRequest>(Assert.Single(r.Parameters));
        Assert.Equal((100u, 99u, 1234u), (req.RequestSequence, req.ResponseSequence, req.SendersLastAssignedTsn));
        Assert.Equal(new ushort[] { 1, 3, 5 }, req.Streams);
        var both = RoundTrip(new ReConfigChunk([new OutgoingResetRequest(1, 2, 3, [7]), new ReconfigResponse(5, ReconfigResult.InProgress)]));
        Assert.Equal(new ReconfigResponse(5, ReconfigResult.InProgress), both.Parameters[1]);
        var withTsns = RoundTrip(new ReConfigChunk([new ReconfigResponse(5, ReconfigResult.SuccessPerformed, 10, 20)]));
        Assert.Equal(new ReconfigResponse(5, ReconfigResult.SuccessPerformed, 10, 20), withTsns.Parameters[0]);
        RoundTrip(new ReConfigChunk([new IncomingResetRequest(8, [2])]));
    }

    [Theory]
    [InlineData(0x3F, UnknownChunkAction.StopAndDiscard)]
    [InlineData(0x7F, UnknownChunkAction.StopDiscardAndReport)]
    [InlineData(0xBF, UnknownChunkAction.Skip)]
    [InlineData(0xFF, UnknownChunkAction.SkipAndReport)]
    public void Unknown_chunk_types_are_kept_and_classified_by_their_upper_two_bits(byte type, UnknownChunkAction action)
    {
        var u = RoundTrip(new UnknownChunk((SctpChunkType)type, 3, new byte[] { 1, 2 }));
        Assert.Equal(new byte[] { 1, 2 }, u.Value);
        Assert.Equal(action, SctpChunk.ActionFor(u.Type));
    }

    [Fact]
    public void Chunk_reader_reports_a_length_past_the_packet_as_an_error()
    {
        var reader = new SctpChunkReader(new byte[] { 0, 0, 0, 40, 1, 2, 3, 4 });
        Assert.False(reader.TryRead(out _));
        Assert.NotNull(reader.Error);
        Assert.False(Parse([0, 3, 0, 16, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], out var error)); // DATA without user data
        Assert.Contains("user data", error);
    }
}
