namespace Hibari.Recording.Depacketize;

/// <summary>
/// RFC 6184 packetization-mode 1: single NAL unit packets (types 1–23), STAP-A (24) and FU-A (28) become one access
/// unit in Annex B form, each NAL unit behind a 4-byte start code 00 00 00 01. A key frame is an access unit with an
/// IDR slice (5). The SPS/PPS seen last are kept and put in front of an IDR access unit that lacks them, so every key
/// frame in the file decodes on its own; the first SPS/PPS pair also makes the avcC (<see cref="CodecPrivate"/>).
/// </summary>
internal sealed class H264FrameBuilder : FrameBuilder
{
    private static readonly byte[] StartCode = [0, 0, 0, 1];
    private readonly List<(int Offset, int Length)> _nals = [];
    private readonly MemoryStream _nalBytes = new();
    private byte[]? _sps;
    private byte[]? _pps;
    private byte[]? _avcC;

    public override byte[]? CodecPrivate => _avcC;

    public override bool TryClassify(ReadOnlySpan<byte> payload, out PacketTraits traits)
    {
        traits = new PacketTraits { PictureId = -1 };
        if (payload.Length < 1 || (payload[0] & 0x80) != 0) return false; // forbidden_zero_bit
        var type = payload[0] & 0x1F;
        switch (type)
        {
            case >= 1 and <= 23:
                traits.CanStart = true;
                return true;
            case 24:
                var o = 1;
                var count = 0;
                while (o < payload.Length)
                {
                    if (o + 2 > payload.Length) return false;
                    var size = (payload[o] << 8) | payload[o + 1];
                    o += 2;
                    if (size == 0 || size > payload.Length - o) return false;
                    o += size;
                    count++;
                }
                traits.CanStart = true;
                return count > 0;
            case 28:
                if (payload.Length < 3) return false; // indicator, header and at least one byte
                var header = payload[1];
                if ((header & 0xC0) == 0xC0 || (header & 0x1F) is 0 or >= 24) return false; // S and E together; a packet type inside
                traits.CanStart = (header & 0x80) != 0;
                return true;
            default: // 0, STAP-B, MTAP16/24, FU-B (interleaved mode only), 30, 31
                return false;
        }
    }

    public override bool TryBuild(List<BufferedPacket> packets, out bool keyFrame, out int width, out int height, out byte[] data)
    {
        keyFrame = false;
        width = height = 0;
        data = [];
        _nals.Clear();
        _nalBytes.SetLength(0);
        var fragmentStart = -1;
        foreach (var p in packets)
        {
            var payload = p.Payload;
            var type = payload[0] & 0x1F;
            if (type == 28)
            {
                var header = payload[1];
                if ((header & 0x80) != 0)
                {
                    if (fragmentStart >= 0) return false; // the previous fragmented NAL unit never ended
                    fragmentStart = (int)_nalBytes.Length;
                    _nalBytes.WriteByte((byte)((payload[0] & 0xE0) | (header & 0x1F)));
                }
                else if (fragmentStart < 0) return false; // FU-A without its start
                _nalBytes.Write(payload, 2, payload.Length - 2);
                if ((header & 0x40) != 0)
                {
                    _nals.Add((fragmentStart, (int)_nalBytes.Length - fragmentStart));
                    fragmentStart = -1;
                }
                continue;
            }
            if (fragmentStart >= 0) return false; // an unfinished FU-A followed by another packet
            if (type == 24)
            {
                var o = 1;
                while (o < payload.Length)
                {
                    var size = (payload[o] << 8) | payload[o + 1];
                    o += 2;
                    _nals.Add(((int)_nalBytes.Length, size));
                    _nalBytes.Write(payload, o, size);
                    o += size;
                }
            }
            else
            {
                _nals.Add(((int)_nalBytes.Length, payload.Length));
                _nalBytes.Write(payload, 0, payload.Length);
            }
        }
        if (fragmentStart >= 0) return false; // the frame ended inside a fragmented NAL unit
        if (_nals.Count == 0) return false;

        var bytes = _nalBytes.GetBuffer();
        bool hasSps = false, hasPps = false, hasIdr = false;
        byte[]? frameSps = null;
        foreach (var (offset, length) in _nals)
        {
            var nal = bytes.AsSpan(offset, length);
            switch (nal[0] & 0x1F)
            {
                case 5:
                    hasIdr = true;
                    break;
                case 7:
                    hasSps = true;
                    _sps = frameSps = nal.ToArray();
                    break;
                case 8:
                    hasPps = true;
                    _pps = nal.ToArray();
                    break;
            }
        }
        if (_avcC is null && _sps is not null && _pps is not null) _avcC = BuildAvcC(_sps, _pps);

        keyFrame = hasIdr;
        var prependSps = hasIdr && !hasSps && _sps is not null;
        var prependPps = hasIdr && !hasPps && _pps is not null;
        var total = 0;
        foreach (var (_, length) in _nals) total += StartCode.Length + length;
        if (prependSps) total += StartCode.Length + _sps!.Length;
        if (prependPps) total += StartCode.Length + _pps!.Length;
        data = new byte[total];
        var at = 0;
        void Put(ReadOnlySpan<byte> nal, byte[] into)
        {
            StartCode.CopyTo(into, at);
            nal.CopyTo(into.AsSpan(at + StartCode.Length));
            at += StartCode.Length + nal.Length;
        }
        var first = 0;
        // An access unit delimiter stays first (H.264 §7.4.1.2.3).
        if (_nals[0] is var (aOffset, aLength) && (bytes[aOffset] & 0x1F) == 9)
        {
            Put(bytes.AsSpan(aOffset, aLength), data);
            first = 1;
        }
        if (prependSps) Put(_sps, data);
        if (prependPps) Put(_pps, data);
        for (var i = first; i < _nals.Count; i++) Put(bytes.AsSpan(_nals[i].Offset, _nals[i].Length), data);

        if (keyFrame && (frameSps ?? _sps) is { } sps && H264Sps.TryParse(sps, out var info))
            (width, height) = (info.Width, info.Height);
        return true;
    }

    /// <summary>
    /// ISO/IEC 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord: version 1, profile, compatibility, level, 4-byte NAL
    /// lengths, one SPS, one PPS, and for profiles other than Baseline, Main and Extended the chroma format and bit
    /// depths from the SPS.
    /// </summary>
    public static byte[] BuildAvcC(ReadOnlySpan<byte> sps, ReadOnlySpan<byte> pps)
    {
        var high = sps.Length > 1 && sps[1] is not (66 or 77 or 88);
        H264Sps.TryParse(sps, out var info);
        var record = new byte[6 + 2 + sps.Length + 1 + 2 + pps.Length + (high ? 4 : 0)];
        record[0] = 1;
        record[1] = sps.Length > 1 ? sps[1] : (byte)0;
        record[2] = sps.Length > 2 ? sps[2] : (byte)0;
        record[3] = sps.Length > 3 ? sps[3] : (byte)0;
        record[4] = 0xFF; // reserved 6 bits, lengthSizeMinusOne = 3
        record[5] = 0xE1; // reserved 3 bits, one SPS
        var o = 6;
        record[o++] = (byte)(sps.Length >> 8);
        record[o++] = (byte)sps.Length;
        sps.CopyTo(record.AsSpan(o));
        o += sps.Length;
        record[o++] = 1;
        record[o++] = (byte)(pps.Length >> 8);
        record[o++] = (byte)pps.Length;
        pps.CopyTo(record.AsSpan(o));
        o += pps.Length;
        if (high)
        {
            record[o++] = (byte)(0xFC | (info.ChromaFormatIdc & 0x03));
            record[o++] = (byte)(0xF8 | (info.BitDepthLumaMinus8 & 0x07));
            record[o++] = (byte)(0xF8 | (info.BitDepthChromaMinus8 & 0x07));
            record[o] = 0; // no SPS extensions
        }
        return record;
    }
}

/// <summary>The fields of an H.264 sequence parameter set (H.264 §7.3.2.1.1) the recording needs.</summary>
internal readonly record struct H264SpsInfo(int ProfileIdc, int ChromaFormatIdc, int BitDepthLumaMinus8, int BitDepthChromaMinus8, int Width, int Height);

internal static class H264Sps
{
    /// <summary>
    /// Parses an SPS NAL unit (with its 1-byte header) through frame_cropping: the displayed width and height are the
    /// macroblock size minus the crop. False when it is truncated or out of range; the caller then reports 0 × 0.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> nal, out H264SpsInfo info)
    {
        info = default;
        if (nal.Length < 4 || (nal[0] & 0x1F) != 7) return false;
        var rbsp = RemoveEmulationPrevention(nal[1..]);
        var r = new BitReader(rbsp);
        var profile = (int)r.ReadBits(8);
        r.ReadBits(8); // constraint_set flags
        r.ReadBits(8); // level_idc
        if (r.ReadUe() > 31) return false; // seq_parameter_set_id
        var chromaFormat = 1;
        var separateColourPlane = false;
        int depthLuma = 0, depthChroma = 0;
        if (profile is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            chromaFormat = (int)r.ReadUe();
            if (chromaFormat > 3) return false;
            if (chromaFormat == 3) separateColourPlane = r.ReadFlag();
            depthLuma = (int)r.ReadUe();
            depthChroma = (int)r.ReadUe();
            if (depthLuma > 6 || depthChroma > 6) return false;
            r.ReadBit(); // qpprime_y_zero_transform_bypass_flag
            if (r.ReadFlag()) // seq_scaling_matrix_present_flag
            {
                var lists = chromaFormat != 3 ? 8 : 12;
                for (var i = 0; i < lists; i++)
                {
                    if (!r.ReadFlag()) continue;
                    var size = i < 6 ? 16 : 64;
                    int last = 8, next = 8;
                    for (var j = 0; j < size && !r.Overrun; j++)
                    {
                        if (next != 0) next = (last + r.ReadSe() + 256) % 256;
                        last = next == 0 ? last : next;
                    }
                }
            }
        }
        if (r.ReadUe() > 12) return false; // log2_max_frame_num_minus4
        var pocType = r.ReadUe();
        if (pocType == 0)
        {
            if (r.ReadUe() > 12) return false; // log2_max_pic_order_cnt_lsb_minus4
        }
        else if (pocType == 1)
        {
            r.ReadBit();  // delta_pic_order_always_zero_flag
            r.ReadSe();   // offset_for_non_ref_pic
            r.ReadSe();   // offset_for_top_to_bottom_field
            var cycle = r.ReadUe();
            if (cycle > 255) return false;
            for (var i = 0; i < cycle; i++) r.ReadSe();
        }
        else if (pocType != 2) return false;
        r.ReadUe();  // max_num_ref_frames
        r.ReadBit(); // gaps_in_frame_num_value_allowed_flag
        var widthMbs = r.ReadUe() + 1;
        var heightMapUnits = r.ReadUe() + 1;
        var frameMbsOnly = r.ReadFlag();
        if (!frameMbsOnly) r.ReadBit(); // mb_adaptive_frame_field_flag
        r.ReadBit(); // direct_8x8_inference_flag
        uint cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
        if (r.ReadFlag())
        {
            cropLeft = r.ReadUe();
            cropRight = r.ReadUe();
            cropTop = r.ReadUe();
            cropBottom = r.ReadUe();
        }
        if (r.Overrun || widthMbs > 1024 || heightMapUnits > 1024) return false;
        var chromaArrayType = separateColourPlane ? 0 : chromaFormat;
        int cropUnitX, cropUnitY;
        var fieldFactor = frameMbsOnly ? 1 : 2;
        if (chromaArrayType == 0)
        {
            cropUnitX = 1;
            cropUnitY = fieldFactor;
        }
        else
        {
            cropUnitX = chromaFormat is 1 or 2 ? 2 : 1;
            cropUnitY = (chromaFormat == 1 ? 2 : 1) * fieldFactor;
        }
        var width = (long)widthMbs * 16 - cropUnitX * ((long)cropLeft + cropRight);
        var height = (long)heightMapUnits * 16 * fieldFactor - cropUnitY * ((long)cropTop + cropBottom);
        if (width <= 0 || height <= 0) return false;
        info = new H264SpsInfo(profile, chromaFormat, depthLuma, depthChroma, (int)width, (int)height);
        return true;
    }

    /// <summary>H.264 §7.4.1: 00 00 03 → 00 00 (the 03 guards against start codes inside the NAL unit).</summary>
    public static byte[] RemoveEmulationPrevention(ReadOnlySpan<byte> data)
    {
        var output = new byte[data.Length];
        var n = 0;
        var zeros = 0;
        foreach (var b in data)
        {
            if (zeros >= 2 && b == 3)
            {
                zeros = 0;
                continue;
            }
            zeros = b == 0 ? zeros + 1 : 0;
            output[n++] = b;
        }
        return output.AsSpan(0, n).ToArray();
    }
}
