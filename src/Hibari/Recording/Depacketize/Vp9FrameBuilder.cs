using System.Buffers.Binary;
using Hibari.Rtc.Rtp;

namespace Hibari.Recording.Depacketize;

/// <summary>
/// RFC 9628 (VP9 RTP payload format): the payload descriptor is stripped and the layer frame rebuilt from B = 1 to
/// E = 1. One RTP picture (one timestamp, ended by the marker bit) holds one layer frame per spatial layer; a single
/// layer frame is stored as it is. With spatial layers (SVC) the layer frames are concatenated behind a superframe
/// index (VP9 bitstream specification, Annex B), the form a VP9 encoder gives several frames that share a timestamp:
/// libvpx decodes the whole superframe and shows the top layer (README.md, "VP9 spatial layers").
/// </summary>
internal sealed class Vp9FrameBuilder : FrameBuilder
{
    /// <summary>The fields of one packet's payload descriptor the recording uses.</summary>
    internal struct Descriptor
    {
        public int Length;
        public bool InterPicture;   // P
        public bool LayerIndices;   // L
        public bool Flexible;       // F
        public bool Begin;          // B
        public bool End;            // E
        public int PictureId;       // -1 without I
        public int PictureIdBits;
        public int SpatialId;       // SID, 0 without L
        /// <summary>With V = 1 and Y = 1: the size of the highest spatial layer the scalability structure lists.</summary>
        public int SsWidth;
        public int SsHeight;
    }

    /// <summary>RFC 9628 §4.2. False when the payload ends inside the descriptor or leaves no VP9 data after it.</summary>
    internal static bool TryParseDescriptor(ReadOnlySpan<byte> payload, out Descriptor d)
    {
        d = new Descriptor { PictureId = -1 };
        if (payload.Length < 2) return false;
        var b0 = payload[0];
        d.InterPicture = (b0 & 0x40) != 0;
        d.LayerIndices = (b0 & 0x20) != 0;
        d.Flexible = (b0 & 0x10) != 0;
        d.Begin = (b0 & 0x08) != 0;
        d.End = (b0 & 0x04) != 0;
        var scalability = (b0 & 0x02) != 0;
        var o = 1;
        if ((b0 & 0x80) != 0) // I: M bit selects a 15-bit PictureID
        {
            if (o >= payload.Length) return false;
            if ((payload[o] & 0x80) != 0)
            {
                if (o + 1 >= payload.Length) return false;
                d.PictureId = ((payload[o] & 0x7F) << 8) | payload[o + 1];
                d.PictureIdBits = 15;
                o += 2;
            }
            else
            {
                d.PictureId = payload[o] & 0x7F;
                d.PictureIdBits = 7;
                o++;
            }
        }
        if (d.LayerIndices) // TID U SID D, and TL0PICIDX in non-flexible mode
        {
            if (o >= payload.Length) return false;
            d.SpatialId = (payload[o] >> 1) & 0x07;
            o += d.Flexible ? 1 : 2;
        }
        if (d.Flexible && d.InterPicture) // up to 3 P_DIFF bytes, N = more follow
        {
            for (var i = 0; ; i++)
            {
                if (o >= payload.Length || i == 3) return false;
                if ((payload[o++] & 0x01) == 0) break;
            }
        }
        if (scalability) // N_S Y G, then sizes and the picture group
        {
            if (o >= payload.Length) return false;
            var ss = payload[o++];
            var layers = (ss >> 5) + 1;
            if ((ss & 0x10) != 0)
            {
                if (o + 4 * layers > payload.Length) return false;
                for (var i = 0; i < layers; i++)
                {
                    d.SsWidth = BinaryPrimitives.ReadUInt16BigEndian(payload[(o + 4 * i)..]);
                    d.SsHeight = BinaryPrimitives.ReadUInt16BigEndian(payload[(o + 4 * i + 2)..]);
                }
                o += 4 * layers;
            }
            if ((ss & 0x08) != 0)
            {
                if (o >= payload.Length) return false;
                var groups = payload[o++];
                for (var i = 0; i < groups; i++)
                {
                    if (o >= payload.Length) return false;
                    var references = (payload[o++] >> 2) & 0x03;
                    o += references;
                    if (o > payload.Length) return false;
                }
            }
        }
        d.Length = o;
        return o < payload.Length;
    }

    public override bool TryClassify(ReadOnlySpan<byte> payload, out PacketTraits traits)
    {
        traits = new PacketTraits { PictureId = -1 };
        if (!TryParseDescriptor(payload, out var d)) return false;
        traits.CanStart = d.Begin;
        traits.DefiniteStart = d.Begin && (!d.LayerIndices || d.SpatialId == 0);
        traits.PictureId = d.PictureId;
        traits.PictureIdBits = d.PictureIdBits;
        return true;
    }

    public override bool TryBuild(List<BufferedPacket> packets, out bool keyFrame, out int width, out int height, out byte[] data)
    {
        keyFrame = false;
        width = height = 0;
        data = [];
        // Layer frames: [start, end) byte ranges in the concatenated payloads.
        Span<int> frameSizes = stackalloc int[8];
        var frames = 0;
        var open = false;
        var total = 0;
        int ssWidth = 0, ssHeight = 0;
        foreach (var p in packets)
        {
            TryParseDescriptor(p.Payload, out var d); // already validated by TryClassify
            if (d.SsWidth > 0) (ssWidth, ssHeight) = (d.SsWidth, d.SsHeight);
            var size = p.Payload.Length - d.Length;
            if (d.Begin)
            {
                if (open || frames == frameSizes.Length) return false; // a layer frame without its end, or too many
                open = true;
                frameSizes[frames++] = 0;
            }
            else if (!open) return false; // a continuation without its beginning
            frameSizes[frames - 1] += size;
            total += size;
            if (d.End) open = false;
        }
        // The last layer frame may lack E when the marker ended the picture; earlier ones must be closed.
        if (frames == 0) return false;

        var index = 0;
        var magnitude = 1;
        if (frames > 1)
        {
            var largest = 0;
            for (var i = 0; i < frames; i++) largest = Math.Max(largest, frameSizes[i]);
            magnitude = largest < 1 << 8 ? 1 : largest < 1 << 16 ? 2 : largest < 1 << 24 ? 3 : 4;
            index = 2 + magnitude * frames;
        }
        data = new byte[total + index];
        var at = 0;
        foreach (var p in packets)
        {
            TryParseDescriptor(p.Payload, out var d);
            p.Payload.AsSpan(d.Length).CopyTo(data.AsSpan(at));
            at += p.Payload.Length - d.Length;
        }
        if (frames > 1)
        {
            var marker = (byte)(0xC0 | ((magnitude - 1) << 3) | (frames - 1));
            data[at++] = marker;
            for (var i = 0; i < frames; i++)
                for (var b = 0; b < magnitude; b++) data[at++] = (byte)(frameSizes[i] >> (8 * b));
            data[at] = marker;
        }

        keyFrame = KeyFrameDetector.IsVp9KeyFrame(packets[0].Payload);
        if (keyFrame && TryReadKeyFrameSize(data.AsSpan(0, frameSizes[0]), out var isKey, out var w, out var h))
        {
            keyFrame = isKey;
            (width, height) = (w, h);
        }
        if (keyFrame && ssWidth > 0) (width, height) = (ssWidth, ssHeight);
        if (!keyFrame) width = height = 0;
        return true;
    }

    /// <summary>
    /// VP9 bitstream §6.2 uncompressed_header() up to frame_size(): frame_marker, profile, show_existing_frame,
    /// frame_type, show_frame, error_resilient_mode, then for a key frame the sync code 49 83 42, color_config() and
    /// frame_width_minus_1 / frame_height_minus_1. <paramref name="keyFrame"/> is frame_type == KEY_FRAME; the size is
    /// only read for key frames.
    /// </summary>
    public static bool TryReadKeyFrameSize(ReadOnlySpan<byte> frame, out bool keyFrame, out int width, out int height)
    {
        keyFrame = false;
        width = height = 0;
        var r = new BitReader(frame);
        if (r.ReadBits(2) != 2) return false; // frame_marker
        var profile = (int)r.ReadBit();
        profile |= (int)r.ReadBit() << 1;
        if (profile == 3) r.ReadBit();
        if (r.ReadFlag()) return !r.Overrun; // show_existing_frame: not a key frame
        keyFrame = r.ReadBit() == 0;           // frame_type
        r.ReadBit();                           // show_frame
        r.ReadBit();                           // error_resilient_mode
        if (!keyFrame) return !r.Overrun;
        if (r.ReadBits(24) != 0x498342) return false;
        if (profile >= 2) r.ReadBit();         // ten_or_twelve_bit
        var colorSpace = r.ReadBits(3);
        if (colorSpace != 7)                   // not CS_RGB
        {
            r.ReadBit();                       // color_range
            if (profile is 1 or 3) r.ReadBits(3); // subsampling_x, subsampling_y, reserved_zero
        }
        else if (profile is 1 or 3) r.ReadBit(); // reserved_zero
        width = (int)r.ReadBits(16) + 1;
        height = (int)r.ReadBits(16) + 1;
        if (r.Overrun)
        {
            width = height = 0;
            return false;
        }
        return true;
    }
}
