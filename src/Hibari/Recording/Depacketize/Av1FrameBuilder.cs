using Hibari.Rtc.Rtp;

namespace Hibari.Recording.Depacketize;

/// <summary>
/// The AV1 RTP payload format (§4.4–4.5): each packet is an aggregation header (Z, Y, W, N) and OBU elements, each
/// with a LEB128 length except the W-th when W > 0; Z = 1 continues the previous packet's last OBU, Y = 1 has the last
/// OBU continue in the next packet. The temporal unit is rebuilt in the low overhead bitstream format (AV1 §5.2): every
/// OBU with obu_has_size_field = 1 and its LEB128 obu_size; temporal delimiters (2) and tile lists (8) are dropped, as
/// the payload format asks of a receiver (the container's blocks delimit temporal units). A key frame is a temporal
/// unit that starts a coded video sequence (N = 1) or carries a sequence header.
/// </summary>
internal sealed class Av1FrameBuilder : FrameBuilder
{
    private const int ObuSequenceHeader = 1;
    private const int ObuTemporalDelimiter = 2;
    private const int ObuTileList = 8;

    private readonly MemoryStream _obu = new();
    private readonly MemoryStream _out = new();
    private byte[]? _av1C;
    private byte[]? _lastSequenceHeader;

    public override byte[]? CodecPrivate => _av1C;

    public override bool TryClassify(ReadOnlySpan<byte> payload, out PacketTraits traits)
    {
        traits = new PacketTraits { PictureId = -1 };
        if (payload.Length < 2) return false;
        var header = payload[0];
        var w = (header >> 4) & 0x03;
        if ((header & 0x80) != 0 && (header & 0x08) != 0) return false; // N = 1 starts a sequence, it cannot continue an OBU
        if (!WalkElements(payload, w, null)) return false;
        traits.CanStart = (header & 0x80) == 0;
        traits.DefiniteStart = (header & 0x08) != 0;
        return true;
    }

    /// <summary>Walks the OBU elements of one packet; with <paramref name="visit"/> null it only validates their lengths.</summary>
    private static bool WalkElements(ReadOnlySpan<byte> payload, int w, ElementVisitor? visit)
    {
        var offset = 1;
        var elements = 0;
        while (offset < payload.Length)
        {
            elements++;
            var last = w != 0 && elements == w;
            int length;
            if (last) length = payload.Length - offset;
            else if (!KeyFrameDetector.TryReadLeb128(payload, ref offset, out length) || length > payload.Length - offset) return false;
            var isLast = last || offset + length == payload.Length;
            visit?.Invoke(payload.Slice(offset, length), elements == 1, isLast);
            offset += length;
            if (last) break;
        }
        return elements > 0 && (w == 0 || elements == w);
    }

    private delegate void ElementVisitor(ReadOnlySpan<byte> element, bool first, bool last);

    public override bool TryBuild(List<BufferedPacket> packets, out bool keyFrame, out int width, out int height, out byte[] data)
    {
        keyFrame = false;
        width = height = 0;
        data = [];
        _obu.SetLength(0);
        _out.SetLength(0);
        var open = false; // an OBU is being continued into the next element
        var ok = true;
        byte[]? sequenceHeader = null;
        foreach (var p in packets)
        {
            var header = p.Payload[0];
            var z = (header & 0x80) != 0;
            var y = (header & 0x40) != 0;
            var w = (header >> 4) & 0x03;
            if (z != open) return false; // a continuation without its beginning, or a fragment never continued
            WalkElements(p.Payload, w, (element, first, last) =>
            {
                if (!ok) return;
                if (!(first && z)) _obu.SetLength(0);
                _obu.Write(element);
                if (last && y) return; // continues in the next packet
                if (!TryAppendObu(_obu.GetBuffer().AsSpan(0, (int)_obu.Length), ref sequenceHeader)) ok = false;
                _obu.SetLength(0);
            });
            if (!ok) return false;
            open = y;
        }
        if (open) return false; // the temporal unit ended inside an OBU
        if (_out.Length == 0) return false;

        data = _out.ToArray();
        keyFrame = sequenceHeader is not null || KeyFrameDetector.IsAv1KeyFrame(packets[0].Payload);
        if (sequenceHeader is not null)
        {
            if (Av1SequenceHeader.TryParse(sequenceHeader, out var info))
            {
                (width, height) = (info.MaxWidth, info.MaxHeight);
                if (_av1C is null || _lastSequenceHeader is null || !sequenceHeader.AsSpan().SequenceEqual(_lastSequenceHeader))
                    _av1C = Av1SequenceHeader.BuildAv1C(info, sequenceHeader);
            }
            _lastSequenceHeader = sequenceHeader;
        }
        return true;
    }

    /// <summary>
    /// One whole OBU as carried in RTP (header, optional extension, optional size) appended in the low overhead
    /// format. False when it is malformed (forbidden bit, a size field beyond the element).
    /// </summary>
    private bool TryAppendObu(ReadOnlySpan<byte> obu, ref byte[]? sequenceHeader)
    {
        if (obu.Length < 1) return true; // an empty element carries nothing
        var header = obu[0];
        if ((header & 0x80) != 0) return false;
        var type = (header >> 3) & 0x0F;
        var extension = (header & 0x04) != 0;
        var hasSize = (header & 0x02) != 0;
        var offset = extension ? 2 : 1;
        if (offset > obu.Length) return false;
        int size;
        if (hasSize)
        {
            if (!KeyFrameDetector.TryReadLeb128(obu, ref offset, out size) || size > obu.Length - offset) return false;
        }
        else size = obu.Length - offset;
        if (type is ObuTemporalDelimiter or ObuTileList) return true;
        var payload = obu.Slice(offset, size);
        var start = (int)_out.Length;
        _out.WriteByte((byte)(header | 0x02));
        if (extension) _out.WriteByte(obu[1]);
        WriteLeb128(_out, (uint)size);
        _out.Write(payload);
        if (type == ObuSequenceHeader) sequenceHeader = _out.GetBuffer().AsSpan(start, (int)_out.Length - start).ToArray();
        return true;
    }

    /// <summary>AV1 §4.10.5 leb128(), in the fewest bytes.</summary>
    public static void WriteLeb128(Stream to, uint value)
    {
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            to.WriteByte(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
    }
}

/// <summary>The fields of an AV1 sequence header (AV1 §5.5) the recording needs: the frame size bound and what av1C repeats.</summary>
internal readonly record struct Av1SequenceInfo(
    int Profile, int Level0, int Tier0, bool HighBitDepth, bool TwelveBit, bool Monochrome,
    bool SubsamplingX, bool SubsamplingY, int ChromaSamplePosition, int MaxWidth, int MaxHeight);

internal static class Av1SequenceHeader
{
    /// <summary>
    /// Parses a sequence header OBU (its header, obu_size when present, then sequence_header_obu()) through
    /// color_config(). False when it is truncated or uses a value the specification forbids; width and height are
    /// then unknown (0).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> obu, out Av1SequenceInfo info)
    {
        info = default;
        if (obu.Length < 2 || ((obu[0] >> 3) & 0x0F) != 1) return false;
        var offset = (obu[0] & 0x04) != 0 ? 2 : 1;
        if ((obu[0] & 0x02) != 0)
        {
            if (!KeyFrameDetector.TryReadLeb128(obu, ref offset, out var size) || size > obu.Length - offset) return false;
            obu = obu.Slice(offset, size);
        }
        else obu = obu[offset..];

        var r = new BitReader(obu);
        var profile = (int)r.ReadBits(3);
        if (profile > 2) return false;
        r.ReadBit(); // still_picture
        var reduced = r.ReadFlag();
        int level0, tier0 = 0;
        if (reduced)
        {
            level0 = (int)r.ReadBits(5);
        }
        else
        {
            var timingInfo = r.ReadFlag();
            var decoderModelInfo = false;
            var bufferDelayLength = 0;
            if (timingInfo)
            {
                r.ReadBits(32); // num_units_in_display_tick
                r.ReadBits(32); // time_scale
                if (r.ReadFlag()) r.ReadUvlc(); // equal_picture_interval, num_ticks_per_picture_minus_1
                decoderModelInfo = r.ReadFlag();
                if (decoderModelInfo)
                {
                    bufferDelayLength = (int)r.ReadBits(5) + 1;
                    r.ReadBits(32); // num_units_in_decoding_tick
                    r.ReadBits(5);  // buffer_removal_time_length_minus_1
                    r.ReadBits(5);  // frame_presentation_time_length_minus_1
                }
            }
            var initialDisplayDelay = r.ReadFlag();
            var operatingPoints = (int)r.ReadBits(5) + 1;
            level0 = 0;
            for (var i = 0; i < operatingPoints; i++)
            {
                r.ReadBits(12); // operating_point_idc
                var level = (int)r.ReadBits(5);
                var tier = level > 7 ? (int)r.ReadBit() : 0;
                if (i == 0) (level0, tier0) = (level, tier);
                if (decoderModelInfo && r.ReadFlag())
                {
                    r.ReadBits(bufferDelayLength); // decoder_buffer_delay
                    r.ReadBits(bufferDelayLength); // encoder_buffer_delay
                    r.ReadBit();                   // low_delay_mode_flag
                }
                if (initialDisplayDelay && r.ReadFlag()) r.ReadBits(4);
            }
        }
        var widthBits = (int)r.ReadBits(4) + 1;
        var heightBits = (int)r.ReadBits(4) + 1;
        var maxWidth = (int)r.ReadBits(widthBits) + 1;
        var maxHeight = (int)r.ReadBits(heightBits) + 1;
        if (r.Overrun) return false;
        if (!reduced && r.ReadFlag()) // frame_id_numbers_present_flag
        {
            r.ReadBits(4);
            r.ReadBits(3);
        }
        r.ReadBits(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
        if (!reduced)
        {
            r.ReadBits(4); // enable_interintra_compound, enable_masked_compound, enable_warped_motion, enable_dual_filter
            var orderHint = r.ReadFlag();
            if (orderHint) r.ReadBits(2); // enable_jnt_comp, enable_ref_frame_mvs
            var forceScreenContentTools = r.ReadFlag() ? 2 : (int)r.ReadBit(); // seq_choose_screen_content_tools
            if (forceScreenContentTools > 0 && !r.ReadFlag()) r.ReadBit();      // seq_choose_integer_mv, seq_force_integer_mv
            if (orderHint) r.ReadBits(3); // order_hint_bits_minus_1
        }
        r.ReadBits(3); // enable_superres, enable_cdef, enable_restoration

        // color_config()
        var highBitDepth = r.ReadFlag();
        var twelveBit = profile == 2 && highBitDepth && r.ReadFlag();
        var monochrome = profile != 1 && r.ReadFlag();
        uint primaries = 2, transfer = 2, matrix = 2;
        if (r.ReadFlag())
        {
            primaries = r.ReadBits(8);
            transfer = r.ReadBits(8);
            matrix = r.ReadBits(8);
        }
        bool ssx, ssy;
        var chromaPosition = 0;
        if (monochrome)
        {
            r.ReadBit(); // color_range
            ssx = ssy = true;
        }
        else if (primaries == 1 && transfer == 13 && matrix == 0) // sRGB
        {
            ssx = ssy = false;
        }
        else
        {
            r.ReadBit(); // color_range
            if (profile == 0) ssx = ssy = true;
            else if (profile == 1) ssx = ssy = false;
            else if (twelveBit)
            {
                ssx = r.ReadFlag();
                ssy = ssx && r.ReadFlag();
            }
            else (ssx, ssy) = (true, false);
            if (ssx && ssy) chromaPosition = (int)r.ReadBits(2);
        }
        if (r.Overrun) return false;
        info = new Av1SequenceInfo(profile, level0, tier0, highBitDepth, twelveBit, monochrome, ssx, ssy, chromaPosition, maxWidth, maxHeight);
        return true;
    }

    /// <summary>
    /// AV1-ISOBMFF §2.3 AV1CodecConfigurationRecord (what Matroska's CodecPrivate for V_AV1 holds): marker and version 1,
    /// seq_profile, seq_level_idx_0, seq_tier_0, bit depth, monochrome, chroma subsampling and position, no initial
    /// presentation delay, then the sequence header OBU (with obu_has_size_field = 1) as configOBUs.
    /// </summary>
    public static byte[] BuildAv1C(Av1SequenceInfo info, ReadOnlySpan<byte> sequenceHeaderObu)
    {
        var record = new byte[4 + sequenceHeaderObu.Length];
        record[0] = 0x81;
        record[1] = (byte)((info.Profile << 5) | (info.Level0 & 0x1F));
        record[2] = (byte)((info.Tier0 << 7) | (info.HighBitDepth ? 0x40 : 0) | (info.TwelveBit ? 0x20 : 0)
            | (info.Monochrome ? 0x10 : 0) | (info.SubsamplingX ? 0x08 : 0) | (info.SubsamplingY ? 0x04 : 0)
            | (info.ChromaSamplePosition & 0x03));
        record[3] = 0;
        sequenceHeaderObu.CopyTo(record.AsSpan(4));
        return record;
    }
}
