using System.Buffers.Binary;
using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

public sealed class SrtpContextTests
{
    /// <summary>
    /// Every profile, and GCM both in managed code (<see cref="AesGcmIntrinsics"/>, where the CPU has it) and through
    /// AesGcm: the second value is <c>managedGcm</c>.
    /// </summary>
    public static TheoryData<SrtpProfile, bool> Profiles => new()
    {
        { SrtpProfile.AesCm128HmacSha1_80, true },
        { SrtpProfile.AeadAes128Gcm, true },
        { SrtpProfile.AeadAes128Gcm, false },
    };

    private const uint Ssrc = 0x11223344;

    internal static (SrtpContext Sender, SrtpContext Receiver) Pair(SrtpProfile profile, bool managedGcm = true, int seed = 1)
    {
        var rng = new Random(seed);
        var key = new byte[16];
        var salt = new byte[profile == SrtpProfile.AeadAes128Gcm ? 12 : 14];
        rng.NextBytes(key);
        rng.NextBytes(salt);
        var pair = (new SrtpContext(profile, key, salt, managedGcm), new SrtpContext(profile, key, salt, managedGcm));
        Assert.Equal(profile == SrtpProfile.AeadAes128Gcm && managedGcm && AesGcmIntrinsics.IsSupported, pair.Item1.ManagedGcm);
        return pair;
    }

    /// <summary>An RTP packet with 2 CSRCs and a one-byte-header extension, in a buffer with room for the tag.</summary>
    internal static byte[] Rtp(ushort seq, int payloadLength, int room = 16, uint ssrc = Ssrc, byte fill = 0x5A)
    {
        var header = 12 + 8 + 4 + 8;
        var b = new byte[header + payloadLength + room];
        b[0] = 0x80 | 0x10 | 2; // V=2, X=1, CC=2
        b[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), seq);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), 90000u * seq);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), 0xAAAA0001);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), 0xAAAA0002);
        b[20] = 0xBE; b[21] = 0xDE; b[22] = 0; b[23] = 2;
        for (var i = 24; i < 32; i++) b[i] = (byte)i;
        for (var i = 0; i < payloadLength; i++) b[header + i] = (byte)(fill + i);
        return b;
    }

    internal static int RtpLength(int payloadLength) => 32 + payloadLength;

    private static SrtpResult SendAndReceive(SrtpContext sender, SrtpContext receiver, ushort seq, int payload = 100, uint? ssrc = null)
    {
        var packet = ssrc is { } s ? Rtp(seq, payload, ssrc: s) : Rtp(seq, payload);
        var plain = packet[..RtpLength(payload)];
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(payload), out var n));
        var r = receiver.UnprotectRtp(packet.AsSpan(0, n), out var m);
        if (r == SrtpResult.Ok) Assert.Equal(plain, packet[..m]);
        return r;
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Rtp_round_trips_with_csrcs_and_extension_for_every_payload_size(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        using var _ = sender; using var __ = receiver;
        for (var size = 0; size <= 1300; size += 7)
        {
            var packet = Rtp((ushort)size, size);
            var plain = packet[..RtpLength(size)];
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(size), out var n));
            Assert.Equal(RtpLength(size) + sender.RtpOverhead, n);
            Assert.Equal(plain[..32], packet[..32]); // header stays clear
            if (size >= 16) Assert.NotEqual(plain[32..], packet[32..RtpLength(size)]);
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(packet.AsSpan(0, n), out var m));
            Assert.Equal(plain, packet[..m]);
        }
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Header_is_authenticated_including_csrcs_and_extension(SrtpProfile profile, bool managedGcm)
    {
        foreach (var offset in new[] { 1, 5, 13, 26, 31 })
        {
            var (sender, receiver) = Pair(profile, managedGcm);
            var packet = Rtp(7, 50);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(50), out var n));
            packet[offset] ^= 0x01;
            Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(packet.AsSpan(0, n), out _));
        }
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Tampered_payload_or_tag_is_rejected_and_does_not_move_the_window(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        var packet = Rtp(1000, 80);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(80), out var n));
        var original = packet[..n];
        foreach (var offset in new[] { 40, n - 1, n - sender.RtpOverhead })
        {
            var copy = (byte[])original.Clone();
            copy[offset] ^= 0x80;
            Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(copy, out _));
        }
        // The forgeries did not mark index 1000 as seen: the genuine packet is still accepted.
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(original, out _));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Wrong_key_is_rejected(SrtpProfile profile, bool managedGcm)
    {
        var (sender, _) = Pair(profile, managedGcm, seed: 1);
        var (_, receiver) = Pair(profile, managedGcm, seed: 2);
        var packet = Rtp(1, 40);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(40), out var n));
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(packet.AsSpan(0, n), out _));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Roc_rolls_over_across_sequence_65535_to_0(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        for (var i = 0; i < 200; i++)
        {
            var seq = (ushort)(65435 + i); // 65435 .. 65535, 0 .. 98
            Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, seq));
        }
        Assert.Equal(1u, receiver.ReceiveRolloverCounter);
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Late_packet_from_before_the_wrap_uses_the_previous_roc(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        var late = Rtp(65530, 60);
        Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, 65529));
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(late, RtpLength(60), out var lateLength)); // ROC 0
        for (var seq = 65531; seq <= 65535 + 10; seq++)
            Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, (ushort)seq));
        Assert.Equal(1u, receiver.ReceiveRolloverCounter);
        // Reordered across the wrap: the receiver guesses ROC−1 (RFC 3711 Appendix A) and authenticates it.
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(late.AsSpan(0, lateLength), out _));
        Assert.Equal(1u, receiver.ReceiveRolloverCounter);
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Receiver_that_missed_a_whole_cycle_guesses_the_old_roc_and_fails_authentication(SrtpProfile profile, bool managedGcm)
    {
        // The ROC is only in the tag (RFC 3711 §3.3.1): after losing 2^16 packets the receiver's guess is one
        // cycle behind, and the packet must fail rather than decrypt to garbage.
        var (sender, receiver) = Pair(profile, managedGcm);
        Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, 100));
        foreach (var seq in new[] { 20000, 40000, 60000, 14000 }) // the sender wraps to ROC 1 unseen
        {
            var p = Rtp((ushort)seq, 10);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(p, RtpLength(10), out _));
        }
        var packet = Rtp(200, 10); // ROC 1 at the sender, guessed ROC 0 at the receiver
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(packet, RtpLength(10), out var n));
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(packet.AsSpan(0, n), out _));
        Assert.Equal(0u, receiver.ReceiveRolloverCounter);
    }

    [Theory, MemberData(nameof(Profiles))]
    public void A_sequence_jump_far_ahead_makes_the_senders_next_packets_too_old_until_it_catches_up(SrtpProfile profile, bool managedGcm)
    {
        // What stalled a publisher's stream in the first media fuzz test (docs/reliability.md): one valid packet 20,000
        // numbers ahead moves the highest index on both sides, and the sender's following packets at their usual numbers
        // are more than the replay window behind it. RFC 3711 §3.3.2 says to refuse them, so the stream is stopped
        // until its numbers pass the jump; the sender and the receiver still agree on every index (nothing decrypts to
        // garbage, nothing is lost for good).
        var (sender, receiver) = Pair(profile, managedGcm);
        for (ushort seq = 1000; seq < 1010; seq++) Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, seq));
        Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, 21_000));
        Assert.Equal(SrtpResult.TooOld, SendAndReceive(sender, receiver, 1010));
        Assert.Equal(SrtpResult.TooOld, SendAndReceive(sender, receiver, 20_935));
        Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, 20_937)); // 63 behind: inside the window again
        Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, 21_001));
        Assert.Equal(0u, receiver.ReceiveRolloverCounter);
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Replay_window_rejects_duplicates_and_too_old_and_accepts_reordered(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        var packets = new Dictionary<ushort, byte[]>();
        for (ushort seq = 1; seq <= 200; seq++)
        {
            var p = Rtp(seq, 20);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(p, RtpLength(20), out var n));
            packets[seq] = p[..n];
        }
        byte[] Copy(ushort s) => (byte[])packets[s].Clone();

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(100), out _));
        Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp(Copy(100), out _));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(150), out _));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(120), out _)); // reordered, inside the window
        Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp(Copy(120), out _));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(87), out _)); // 150 − 63: last slot
        Assert.Equal(SrtpResult.TooOld, receiver.UnprotectRtp(Copy(86), out _)); // 150 − 64
        Assert.Equal(SrtpResult.TooOld, receiver.UnprotectRtp(Copy(1), out _));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(200), out _)); // jump ahead clears the window
        Assert.Equal(SrtpResult.TooOld, receiver.UnprotectRtp(Copy(120), out _));
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(Copy(199), out _));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Each_ssrc_keeps_its_own_roc_and_replay_window_under_one_key(SrtpProfile profile, bool managedGcm)
    {
        // Audio and video of one peer share the DTLS-SRTP key but not their sequence spaces (RFC 3711 §3.2.3).
        var (sender, receiver) = Pair(profile, managedGcm);
        for (var i = 0; i < 300; i++)
        {
            Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, (ushort)(65400 + i), ssrc: 0x11));
            Assert.Equal(SrtpResult.Ok, SendAndReceive(sender, receiver, (ushort)(1000 + i), ssrc: 0x22));
        }
        Assert.Equal(2, receiver.StreamCount);
        var replay = Rtp(1299, 10, ssrc: 0x22);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(replay, RtpLength(10), out var n)); // index already used on 0x22
        Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp(replay.AsSpan(0, n), out _));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void A_packet_that_fails_authentication_creates_no_stream_state(SrtpProfile profile, bool managedGcm)
    {
        var (_, receiver) = Pair(profile, managedGcm);
        var (stranger, _) = Pair(profile, managedGcm, seed: 2);
        var p = Rtp(5, 10, ssrc: 0x99);
        Assert.Equal(SrtpResult.Ok, stranger.ProtectRtp(p, RtpLength(10), out var n));
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtp(p.AsSpan(0, n), out _));
        Assert.Equal(0, receiver.StreamCount);
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Protect_needs_room_for_the_tag(SrtpProfile profile, bool managedGcm)
    {
        var (sender, _) = Pair(profile, managedGcm);
        var packet = Rtp(1, 10, room: sender.RtpOverhead - 1);
        Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtp(packet, RtpLength(10), out _));
        Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtp(packet, packet.Length + 1, out _));
        Assert.Equal(SrtpResult.TooShort, sender.ProtectRtp(packet, 11, out _));
    }

    internal static byte[] Rtcp(int bodyLength, int room = 20)
    {
        var b = new byte[8 + bodyLength + room];
        b[0] = 0x80; b[1] = 200;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)((8 + bodyLength) / 4 - 1));
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), Ssrc);
        for (var i = 0; i < bodyLength; i++) b[8 + i] = (byte)(i * 3);
        return b;
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Srtcp_round_trips_with_E_flag_and_increasing_index(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        for (var i = 0; i < 50; i++)
        {
            var body = 4 * (i % 20);
            var packet = Rtcp(body);
            var plain = packet[..(8 + body)];
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(packet, 8 + body, out var n));
            Assert.Equal(8 + body + sender.RtcpOverhead, n);
            var word = BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(
                profile == SrtpProfile.AeadAes128Gcm ? 8 + body + 16 : 8 + body));
            Assert.Equal(0x8000_0000u | (uint)i, word);
            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(packet.AsSpan(0, n), out var m));
            Assert.Equal(plain, packet[..m]);
        }
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Srtcp_rejects_replay_tampering_and_flipped_E_flag(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        var packet = Rtcp(24);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(packet, 32, out var n));
        var original = packet[..n];

        var flippedE = (byte[])original.Clone();
        flippedE[profile == SrtpProfile.AeadAes128Gcm ? 32 + 16 : 32] ^= 0x80;
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtcp(flippedE, out _));
        var tampered = (byte[])original.Clone();
        tampered[10] ^= 1;
        Assert.Equal(SrtpResult.AuthenticationFailed, receiver.UnprotectRtcp(tampered, out _));

        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp((byte[])original.Clone(), out _));
        Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtcp((byte[])original.Clone(), out _));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Srtcp_index_exhaustion_demands_rekeying(SrtpProfile profile, bool managedGcm)
    {
        var (sender, _) = Pair(profile, managedGcm);
        sender.NextSrtcpIndex = 0x7FFF_FFFF;
        var packet = Rtcp(8);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(packet, 16, out _));
        packet = Rtcp(8);
        Assert.Equal(SrtpResult.IndexOutOfRange, sender.ProtectRtcp(packet, 16, out _));
    }

    [Fact]
    public void Key_and_salt_length_must_fit_the_profile()
    {
        Assert.Throws<ArgumentException>(() => new SrtpContext(SrtpProfile.AeadAes128Gcm, new byte[16], new byte[14]));
        Assert.Throws<ArgumentException>(() => new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, new byte[16], new byte[12]));
        Assert.Throws<ArgumentException>(() => new SrtpContext(SrtpProfile.AesCm128HmacSha1_80, new byte[32], new byte[14]));
    }

    [Theory, MemberData(nameof(Profiles))]
    public void Steady_state_protect_and_unprotect_allocate_nothing(SrtpProfile profile, bool managedGcm)
    {
        var (sender, receiver) = Pair(profile, managedGcm);
        var packet = Rtp(0, 1200);
        var rtcp = Rtcp(40);
        void Once(ushort seq)
        {
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), seq); // new index, payload left as is
            sender.ProtectRtp(packet, RtpLength(1200), out var n);
            receiver.UnprotectRtp(packet.AsSpan(0, n), out _);
            sender.ProtectRtcp(rtcp, 48, out var r);
            receiver.UnprotectRtcp(rtcp.AsSpan(0, r), out _);
        }
        for (ushort s = 0; s < 50; s++) Once(s); // warm up: JIT, scratch buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ushort s = 50; s < 1050; s++) Once(s);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1000, $"{allocated} bytes allocated over 1,000 packets");
    }
}
