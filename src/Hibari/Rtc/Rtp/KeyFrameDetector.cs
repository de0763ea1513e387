namespace Hibari.Rtc.Rtp;

public enum VideoCodecKind { Vp8, Vp9, H264, Av1, H265 }

/// <summary>
/// Whether an RTP payload starts a key frame, from the payload descriptor alone (no decoding). Used to end NACK
/// recovery, to switch simulcast layers and to answer PLIs. Truncated or malformed payloads are "not a key frame".
/// </summary>
public static class KeyFrameDetector
{
    public static bool IsKeyFrame(VideoCodecKind codec, ReadOnlySpan<byte> payload) => codec switch
    {
        VideoCodecKind.Vp8 => IsVp8KeyFrame(payload),
        VideoCodecKind.Vp9 => IsVp9KeyFrame(payload),
        VideoCodecKind.H264 => IsH264KeyFrame(payload),
        VideoCodecKind.Av1 => IsAv1KeyFrame(payload),
        VideoCodecKind.H265 => IsH265KeyFrame(payload),
        _ => false,
    };

    /// <summary>
    /// RFC 7741 §4.2–4.3: the first packet of a partition 0 (S = 1, PID = 0) whose VP8 payload header has P = 0
    /// (the inverse key frame flag, bit 0 of the first byte).
    /// </summary>
    public static bool IsVp8KeyFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) return false;
        var b0 = payload[0];
        if ((b0 & 0x10) == 0 || (b0 & 0x07) != 0) return false; // S, PID
        var offset = Vp8DescriptorLength(payload);
        return offset > 0 && payload.Length > offset && (payload[offset] & 0x01) == 0;
    }

    /// <summary>
    /// RFC 7741 §4.2: the length of the VP8 payload descriptor (1 byte, then with X = 1 the I L T K byte, a 7- or
    /// 15-bit PictureID, TL0PICIDX, TID/Y/KEYIDX), or -1 when the payload ends inside it. The recording's
    /// depacketizer strips exactly these bytes, so key-frame detection and depacketization agree on where the VP8
    /// payload starts.
    /// </summary>
    public static int Vp8DescriptorLength(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) return -1;
        var offset = 1;
        if ((payload[0] & 0x80) != 0) // X: extension byte I L T K
        {
            if (payload.Length < 2) return -1;
            var x = payload[1];
            offset = 2;
            if ((x & 0x80) != 0) // I: PictureID, M bit selects 15 bits
            {
                if (payload.Length <= offset) return -1;
                offset += (payload[offset] & 0x80) != 0 ? 2 : 1;
            }
            if ((x & 0x40) != 0) offset++;           // L: TL0PICIDX
            if ((x & 0x30) != 0) offset++;           // T or K: TID/Y/KEYIDX
        }
        return offset <= payload.Length ? offset : -1;
    }

    /// <summary>
    /// draft-ietf-payload-vp9 §4.2: P = 0 (not inter-predicted) on the first packet of a frame (B = 1) of the base
    /// spatial layer (SID = 0 when layer indices are present), in flexible and non-flexible mode alike.
    /// </summary>
    public static bool IsVp9KeyFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) return false;
        var b0 = payload[0];
        var pictureId = (b0 & 0x80) != 0;
        var interPicture = (b0 & 0x40) != 0;
        var layerIndices = (b0 & 0x20) != 0;
        var begin = (b0 & 0x08) != 0;
        if (interPicture || !begin) return false;
        var offset = 1;
        if (pictureId)
        {
            if (payload.Length <= offset) return false;
            offset += (payload[offset] & 0x80) != 0 ? 2 : 1;
        }
        if (!layerIndices) return payload.Length >= offset;
        if (payload.Length <= offset) return false;
        var sid = (payload[offset] >> 1) & 0x07;
        return sid == 0;
    }

    /// <summary>RFC 6184 §5.6–5.8: an IDR slice (5) or SPS (7) as a single NAL unit, inside a STAP-A, or starting an FU-A.</summary>
    public static bool IsH264KeyFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) return false;
        var type = payload[0] & 0x1F;
        switch (type)
        {
            case 24: // STAP-A: [size:16][NAL]…
                var offset = 1;
                while (offset + 2 < payload.Length)
                {
                    var size = (payload[offset] << 8) | payload[offset + 1];
                    offset += 2;
                    if (size == 0 || size > payload.Length - offset) return false;
                    if (IsH264KeyNal(payload[offset] & 0x1F)) return true;
                    offset += size;
                }
                return false;
            case 28: // FU-A: indicator, header S|E|R|type
                return payload.Length >= 2 && (payload[1] & 0x80) != 0 && IsH264KeyNal(payload[1] & 0x1F);
            default:
                return IsH264KeyNal(type);
        }
    }

    /// <summary>
    /// AV1 RTP specification §4.4: the aggregation header's N bit marks the first packet of a coded video sequence;
    /// a sequence header OBU (type 1) starting in the packet marks a key frame too.
    /// </summary>
    public static bool IsAv1KeyFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 1) return false;
        var header = payload[0];
        if ((header & 0x08) != 0) return true; // N
        var continuation = (header & 0x80) != 0; // Z: first element continues an OBU from the previous packet
        var w = (header >> 4) & 0x03;
        var offset = 1;
        for (var element = 1; offset < payload.Length; element++)
        {
            var last = w != 0 && element == w;
            int length;
            if (last) length = payload.Length - offset; // the W-th element has no length field
            else if (!TryReadLeb128(payload, ref offset, out length) || length > payload.Length - offset) return false;
            if (length > 0 && !(continuation && element == 1) && ((payload[offset] >> 3) & 0x0F) == 1) return true;
            offset += length;
            if (last) break;
        }
        return false;
    }

    /// <summary>
    /// RFC 7798 §4.4: an IRAP picture (NAL unit types 16..23: BLA, IDR, CRA) or a VPS/SPS (32/33) as a single NAL unit,
    /// inside an aggregation packet (48: [size:16][NAL]…, without DONL since sprop-max-don-diff is not offered), or
    /// starting a fragmentation unit (49: FU header S|E|type). The type is bits 1–6 of the two-byte NAL header.
    /// </summary>
    public static bool IsH265KeyFrame(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 2) return false;
        var type = (payload[0] >> 1) & 0x3F;
        switch (type)
        {
            case 48:
                var offset = 2;
                while (offset + 2 < payload.Length)
                {
                    var size = (payload[offset] << 8) | payload[offset + 1];
                    offset += 2;
                    if (size < 2 || size > payload.Length - offset) return false;
                    if (IsH265KeyNal((payload[offset] >> 1) & 0x3F)) return true;
                    offset += size;
                }
                return false;
            case 49:
                return payload.Length >= 3 && (payload[2] & 0x80) != 0 && IsH265KeyNal(payload[2] & 0x3F);
            default:
                return IsH265KeyNal(type);
        }
    }

    private static bool IsH265KeyNal(int type) => type is (>= 16 and <= 23) or 32 or 33;

    private static bool IsH264KeyNal(int type) => type is 5 or 7;

    /// <summary>
    /// AV1 §4.10.5 leb128(): up to 8 bytes, the value must fit 32 bits (here: a non-negative int, since it is a
    /// length within a packet). False when the bytes end first, the 8th byte still has its continuation bit, or the
    /// value is too large.
    /// </summary>
    internal static bool TryReadLeb128(ReadOnlySpan<byte> bytes, ref int offset, out int value)
    {
        value = 0;
        ulong v = 0;
        for (var i = 0; i < 8; i++)
        {
            if (offset >= bytes.Length) return false;
            var b = bytes[offset++];
            v |= (ulong)(b & 0x7F) << (7 * i);
            if ((b & 0x80) != 0) continue;
            if (v > int.MaxValue) return false;
            value = (int)v;
            return true;
        }
        return false;
    }
}
