namespace Hibari.Recording.Depacketize;

/// <summary>
/// H.264 byte-stream helpers. <see cref="VideoDepacketizer"/> emits Annex B (start codes); a Matroska track whose
/// CodecPrivate is an avcC must hold length-prefixed NAL units instead, because a decoder given an avcC reads every
/// block as 4-byte lengths (README.md, "CodecPrivate").
/// </summary>
internal static class AnnexB
{
    /// <summary>The NAL units of an Annex B access unit (3- or 4-byte start codes), without their start codes.</summary>
    public static List<ReadOnlyMemory<byte>> SplitNalUnits(ReadOnlyMemory<byte> data)
    {
        var nals = new List<ReadOnlyMemory<byte>>();
        var span = data.Span;
        var start = -1;
        var i = 0;
        while (i + 2 < span.Length)
        {
            if (span[i] == 0 && span[i + 1] == 0 && span[i + 2] == 1)
            {
                if (start >= 0) nals.Add(data[start..TrimZeros(span, start, i)]);
                i += 3;
                start = i;
                continue;
            }
            i++;
        }
        if (start >= 0 && start < span.Length) nals.Add(data[start..]);
        return nals;
    }

    /// <summary>Annex B → 4-byte big-endian NAL unit lengths (ISO/IEC 14496-15), matching avcC's lengthSizeMinusOne = 3.</summary>
    public static byte[] ToLengthPrefixed(ReadOnlyMemory<byte> annexB)
    {
        var nals = SplitNalUnits(annexB);
        var total = 0;
        foreach (var n in nals) total += 4 + n.Length;
        var output = new byte[total];
        var at = 0;
        foreach (var n in nals)
        {
            output[at] = (byte)(n.Length >> 24);
            output[at + 1] = (byte)(n.Length >> 16);
            output[at + 2] = (byte)(n.Length >> 8);
            output[at + 3] = (byte)n.Length;
            n.Span.CopyTo(output.AsSpan(at + 4));
            at += 4 + n.Length;
        }
        return output;
    }

    // The zero bytes before a start code belong to it (a 4-byte start code, or trailing_zero_8bits).
    private static int TrimZeros(ReadOnlySpan<byte> span, int start, int end)
    {
        while (end > start && span[end - 1] == 0) end--;
        return end;
    }
}
