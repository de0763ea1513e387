namespace Hibari.Recording.Webm;

/// <summary>
/// The AV1CodecConfigurationRecord ("av1C") that Matroska's V_AV1 mapping requires as CodecPrivate: a 4-byte header
/// summarising the Sequence Header (profile, level and tier of operating point 0, bit depth, monochrome, chroma
/// subsampling and sample position), then the Sequence Header OBU itself with its size field. ffmpeg decodes V_AV1
/// without it (the sequence header also travels in the key frames' temporal units), but the mapping makes it
/// mandatory, so other players may refuse a file without it.
/// </summary>
internal static class Av1CodecConfiguration
{
    private const int ObuSequenceHeader = 1;

    /// <summary>av1C for the first Sequence Header OBU in <paramref name="temporalUnit"/> (OBUs with size fields, as
    /// WebM blocks hold them), or null when there is none or it does not parse.</summary>
    public static byte[]? FromTemporalUnit(ReadOnlySpan<byte> temporalUnit)
    {
        var at = 0;
        while (at < temporalUnit.Length)
        {
            if (!TryReadObu(temporalUnit[at..], out var type, out var length, out _, out _)) return null;
            if (type == ObuSequenceHeader) return Build(temporalUnit.Slice(at, length));
            at += length;
        }
        return null;
    }

    /// <summary>av1C for one Sequence Header OBU (header byte, optional extension byte, optional size field, payload);
    /// null when it is not a well-formed sequence header. The OBU is stored with a size field either way.</summary>
    public static byte[]? Build(ReadOnlySpan<byte> sequenceHeaderObu)
    {
        if (!TryReadObu(sequenceHeaderObu, out var type, out _, out var payloadAt, out var payloadLength) || type != ObuSequenceHeader) return null;
        var payload = sequenceHeaderObu.Slice(payloadAt, payloadLength);
        if (!TryParse(payload, out var header)) return null;

        // Sequence header OBU with obu_has_size_field = 1 and no extension (a sequence header applies to all layers).
        Span<byte> size = stackalloc byte[8];
        var sizeLength = WriteLeb128(size, (ulong)payload.Length);
        var record = new byte[4 + 1 + sizeLength + payload.Length];
        record[0] = 0x81; // marker 1, version 1
        record[1] = (byte)((header.Profile << 5) | header.Level0);
        record[2] = (byte)((header.Tier0 << 7) | (header.HighBitDepth << 6) | (header.TwelveBit << 5) | (header.Monochrome << 4)
            | (header.SubsamplingX << 3) | (header.SubsamplingY << 2) | header.ChromaSamplePosition);
        record[3] = 0; // no initial presentation delay
        record[4] = (ObuSequenceHeader << 3) | 0x02;
        size[..sizeLength].CopyTo(record.AsSpan(5));
        payload.CopyTo(record.AsSpan(5 + sizeLength));
        return record;
    }

    private readonly record struct SequenceHeader(int Profile, int Level0, int Tier0, int HighBitDepth, int TwelveBit,
        int Monochrome, int SubsamplingX, int SubsamplingY, int ChromaSamplePosition);

    /// <summary>Reads an OBU header (AV1 §5.3): its type, total length, and where its payload is.</summary>
    private static bool TryReadObu(ReadOnlySpan<byte> data, out int type, out int length, out int payloadAt, out int payloadLength)
    {
        type = length = payloadAt = payloadLength = 0;
        if (data.IsEmpty || (data[0] & 0x80) != 0) return false; // obu_forbidden_bit
        type = (data[0] >> 3) & 0xF;
        var extension = (data[0] & 0x04) != 0;
        var hasSize = (data[0] & 0x02) != 0;
        payloadAt = extension ? 2 : 1;
        if (payloadAt > data.Length) return false;
        if (!hasSize)
        {
            payloadLength = data.Length - payloadAt;
        }
        else
        {
            ulong value = 0;
            var i = 0;
            for (; ; i++)
            {
                if (i == 8 || payloadAt + i >= data.Length) return false;
                var b = data[payloadAt + i];
                value |= (ulong)(b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0) break;
            }
            payloadAt += i + 1;
            if (value > (ulong)(data.Length - payloadAt)) return false;
            payloadLength = (int)value;
        }
        length = payloadAt + payloadLength;
        return true;
    }

    /// <summary>The fields av1C needs from sequence_header_obu() (AV1 §5.5), reading past the ones it does not.</summary>
    private static bool TryParse(ReadOnlySpan<byte> payload, out SequenceHeader header)
    {
        header = default;
        var r = new BitReader(payload);
        var profile = r.Bits(3);
        r.Bits(1); // still_picture
        var reduced = r.Bits(1);
        int level0, tier0 = 0;
        var decoderModelInfo = 0;
        var bufferDelayLength = 0;
        if (reduced == 1)
        {
            level0 = r.Bits(5);
        }
        else
        {
            if (r.Bits(1) == 1) // timing_info_present_flag
            {
                r.Bits(32); // num_units_in_display_tick
                r.Bits(32); // time_scale
                if (r.Bits(1) == 1) r.Uvlc(); // equal_picture_interval → num_ticks_per_picture_minus_1
                decoderModelInfo = r.Bits(1);
                if (decoderModelInfo == 1)
                {
                    bufferDelayLength = r.Bits(5) + 1;
                    r.Bits(32); // num_units_in_decoding_tick
                    r.Bits(5); // buffer_removal_time_length_minus_1
                    r.Bits(5); // frame_presentation_time_length_minus_1
                }
            }
            var initialDisplayDelay = r.Bits(1);
            var operatingPoints = r.Bits(5) + 1;
            level0 = 0;
            for (var i = 0; i < operatingPoints; i++)
            {
                r.Bits(12); // operating_point_idc
                var level = r.Bits(5);
                var tier = level > 7 ? r.Bits(1) : 0;
                if (i == 0) (level0, tier0) = (level, tier);
                if (decoderModelInfo == 1 && r.Bits(1) == 1) // decoder_model_present_for_this_op
                {
                    r.Bits(bufferDelayLength); // decoder_buffer_delay
                    r.Bits(bufferDelayLength); // encoder_buffer_delay
                    r.Bits(1); // low_delay_mode_flag
                }
                if (initialDisplayDelay == 1 && r.Bits(1) == 1) r.Bits(4);
            }
        }
        var widthBits = r.Bits(4) + 1;
        var heightBits = r.Bits(4) + 1;
        r.Bits(widthBits);
        r.Bits(heightBits);
        if (reduced == 0 && r.Bits(1) == 1) // frame_id_numbers_present_flag
        {
            r.Bits(4);
            r.Bits(3);
        }
        r.Bits(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
        if (reduced == 0)
        {
            r.Bits(4); // enable_interintra_compound, enable_masked_compound, enable_warped_motion, enable_dual_filter
            var orderHint = r.Bits(1);
            if (orderHint == 1) r.Bits(2); // enable_jnt_comp, enable_ref_frame_mvs
            var screenContentTools = r.Bits(1) == 1 ? 2 : r.Bits(1); // seq_choose_screen_content_tools
            if (screenContentTools > 0 && r.Bits(1) == 0) r.Bits(1); // seq_choose_integer_mv, seq_force_integer_mv
            if (orderHint == 1) r.Bits(3);
        }
        r.Bits(3); // enable_superres, enable_cdef, enable_restoration

        // color_config()
        var highBitDepth = r.Bits(1);
        var twelveBit = profile == 2 && highBitDepth == 1 ? r.Bits(1) : 0;
        var monochrome = profile == 1 ? 0 : r.Bits(1);
        int primaries = 2, transfer = 2, matrix = 2; // unspecified
        if (r.Bits(1) == 1)
        {
            primaries = r.Bits(8);
            transfer = r.Bits(8);
            matrix = r.Bits(8);
        }
        int subsamplingX, subsamplingY, chromaSamplePosition = 0;
        if (monochrome == 1)
        {
            r.Bits(1); // color_range
            (subsamplingX, subsamplingY) = (1, 1);
        }
        else if (primaries == 1 && transfer == 13 && matrix == 0) // BT.709, sRGB, identity: 4:4:4
        {
            (subsamplingX, subsamplingY) = (0, 0);
        }
        else
        {
            r.Bits(1); // color_range
            if (profile == 0) (subsamplingX, subsamplingY) = (1, 1);
            else if (profile == 1) (subsamplingX, subsamplingY) = (0, 0);
            else if (twelveBit == 1)
            {
                subsamplingX = r.Bits(1);
                subsamplingY = subsamplingX == 1 ? r.Bits(1) : 0;
            }
            else (subsamplingX, subsamplingY) = (1, 0);
            if (subsamplingX == 1 && subsamplingY == 1) chromaSamplePosition = r.Bits(2);
        }
        if (r.Overrun || profile > 2) return false;
        header = new SequenceHeader(profile, level0, tier0, highBitDepth, twelveBit, monochrome, subsamplingX, subsamplingY, chromaSamplePosition);
        return true;
    }

    private static int WriteLeb128(Span<byte> destination, ulong value)
    {
        var i = 0;
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            destination[i++] = value != 0 ? (byte)(b | 0x80) : b;
        } while (value != 0);
        return i;
    }

    /// <summary>MSB-first bit reader; reading past the end yields zeros and sets <see cref="Overrun"/>.</summary>
    private ref struct BitReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private long _bit;

        public readonly bool Overrun => _bit > _data.Length * 8L;

        public int Bits(int count)
        {
            long value = 0;
            for (var i = 0; i < count; i++, _bit++)
            {
                var index = (int)(_bit >> 3);
                var bit = index < _data.Length ? (_data[index] >> (7 - (int)(_bit & 7))) & 1 : 0;
                value = (value << 1) | (uint)bit;
            }
            return (int)value;
        }

        /// <summary>uvlc() (AV1 §4.10.3); the value is not needed, only its length.</summary>
        public void Uvlc()
        {
            var leadingZeros = 0;
            while (!Overrun && Bits(1) == 0) leadingZeros++;
            if (leadingZeros < 32) Bits(leadingZeros);
        }
    }
}
