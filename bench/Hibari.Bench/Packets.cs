using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;

namespace Hibari.Bench;

/// <summary>Test packets shaped like those of docs/protocol-notes.md, "SRTP implementation and cost": 12-byte header + 8-byte one-byte extension + payload.</summary>
internal static class Packets
{
    public const uint Ssrc = 0x1234_5678;
    public const byte PayloadType = 96;
    /// <summary>abs-send-time, the id Hibari's offers use (Sdp.CodecCatalog).</summary>
    public const int AbsSendTimeId = 4;
    /// <summary>sdes:mid (blanked when forwarding, Sfu.SfuCodecs).</summary>
    public const int MidId = 1;

    /// <summary>
    /// An RTP packet of exactly <paramref name="size"/> bytes written into <paramref name="buffer"/>: one abs-send-time
    /// element (4 bytes, so the extension is 4 + 4 = 8 bytes), or with <paramref name="withMid"/> also a mid element
    /// (extension 4 + 8 = 12 bytes). The payload is a deterministic pseudo-random pattern.
    /// </summary>
    public static int Write(Span<byte> buffer, int size, ushort seq, uint timestamp, bool withMid = false)
    {
        var headerLength = withMid ? 12 + 4 + 8 : 12 + 4 + 4;
        var payload = new byte[size - headerLength];
        new Random(size).NextBytes(payload);
        var w = new RtpPacketWriter(buffer, PayloadType, seq, timestamp, Ssrc);
        if (withMid && !w.AddString(MidId, "0")) throw new InvalidOperationException("mid");
        if (!w.AddAbsSendTime(AbsSendTimeId, 0x12_3456)) throw new InvalidOperationException("abs-send-time");
        if (!w.TryFinish(payload, out var length)) throw new InvalidOperationException("finish");
        if (length != size) throw new InvalidOperationException($"packet is {length} bytes, wanted {size}");
        if (!RtpHeader.TryParse(buffer[..length], out var h) || h.HeaderLength != headerLength)
            throw new InvalidOperationException("test packet does not parse as intended");
        return length;
    }

    /// <summary>Fixed master key/salt; the same for the protecting and the unprotecting context.</summary>
    public static SrtpContext NewContext(SrtpProfile profile)
    {
        var key = new byte[16];
        var salt = new byte[profile == SrtpProfile.AeadAes128Gcm ? 12 : 14];
        for (var i = 0; i < key.Length; i++) key[i] = (byte)(0x10 + i);
        for (var i = 0; i < salt.Length; i++) salt[i] = (byte)(0xA0 + i);
        return new SrtpContext(profile, key, salt);
    }

    /// <summary>Throws unless <paramref name="r"/> is Ok (global-setup sanity checks).</summary>
    public static void Ok(SrtpResult r, string what)
    {
        if (r != SrtpResult.Ok) throw new InvalidOperationException($"{what}: {r}");
    }
}
