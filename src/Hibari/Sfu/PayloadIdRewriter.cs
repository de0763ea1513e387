using Hibari.Rtc.Rtp;

namespace Hibari.Sfu;

/// <summary>
/// Keeps the picture ids and TL0PICIDX of a VP8 (RFC 7741 §4.2) or VP9 (RFC 9628 §4.2) stream continuous when a
/// simulcast subscription switches layers (docs/decisions.md D-35): each layer numbers its pictures on its own, and a
/// receiver's frame-reference logic must see the next id after the last one it got. The first packet of a new source
/// fixes the offset (last id + 1 − its id); every later packet is shifted by it, in place, keeping the field's width.
/// H.264 has no such ids; AV1's dependency descriptor is not rewritten (D-35).
/// </summary>
internal struct PayloadIdRewriter
{
    private bool _anyPictureId, _anyTl0, _newSource;
    private int _lastPictureId, _pictureIdDelta, _lastTl0, _tl0Delta;

    /// <summary>The next packet comes from another layer: its ids continue the ones sent so far.</summary>
    public void StartNewSource() => _newSource = true;

    public void Rewrite(VideoCodecKind codec, Span<byte> payload)
    {
        if (!Locate(codec, payload, out var pidAt, out var wide, out var tl0At)) { _newSource = false; return; }
        if (pidAt >= 0)
        {
            var mask = wide ? 0x7FFF : 0x7F;
            var pid = wide ? ((payload[pidAt] & 0x7F) << 8) | payload[pidAt + 1] : payload[pidAt] & 0x7F;
            if (_newSource) _pictureIdDelta = _anyPictureId ? _lastPictureId + 1 - pid : 0;
            var outPid = (pid + _pictureIdDelta) & mask;
            if (wide)
            {
                payload[pidAt] = (byte)(0x80 | (outPid >> 8));
                payload[pidAt + 1] = (byte)outPid;
            }
            else payload[pidAt] = (byte)outPid; // M = 0
            _lastPictureId = outPid;
            _anyPictureId = true;
        }
        if (tl0At >= 0)
        {
            var tl0 = payload[tl0At];
            if (_newSource) _tl0Delta = _anyTl0 ? _lastTl0 + 1 - tl0 : 0;
            var outTl0 = (tl0 + _tl0Delta) & 0xFF;
            payload[tl0At] = (byte)outTl0;
            _lastTl0 = outTl0;
            _anyTl0 = true;
        }
        _newSource = false;
    }

    /// <summary>Where the picture id (-1: none; <paramref name="wide"/>: 15 bits) and TL0PICIDX (-1: none) are.</summary>
    internal static bool Locate(VideoCodecKind codec, ReadOnlySpan<byte> p, out int pidAt, out bool wide, out int tl0At)
    {
        pidAt = tl0At = -1;
        wide = false;
        if (p.Length < 1) return false;
        int offset;
        bool hasPid, hasTl0;
        switch (codec)
        {
            case VideoCodecKind.Vp8:
                if ((p[0] & 0x80) == 0) return false; // X: no extension byte, no ids
                if (p.Length < 2) return false;
                hasPid = (p[1] & 0x80) != 0;
                hasTl0 = (p[1] & 0x40) != 0;
                offset = 2;
                break;
            case VideoCodecKind.Vp9:
                hasPid = (p[0] & 0x80) != 0;
                // TL0PICIDX exists with layer indices (L) in non-flexible mode (F = 0), one byte after them.
                hasTl0 = (p[0] & 0x20) != 0 && (p[0] & 0x10) == 0;
                offset = 1;
                break;
            default:
                return false;
        }
        if (hasPid)
        {
            if (p.Length <= offset) return false;
            wide = (p[offset] & 0x80) != 0;
            if (wide && p.Length <= offset + 1) return false;
            pidAt = offset;
            offset += wide ? 2 : 1;
        }
        if (hasTl0)
        {
            if (codec == VideoCodecKind.Vp9) offset++; // the layer-indices byte comes first
            if (p.Length <= offset) return false;
            tl0At = offset;
        }
        return true;
    }
}
