using System.Buffers.Binary;
using Hibari.Signaling.Messages;

namespace Hibari.Cluster.Relay;

/// <summary>
/// The relay's frames between cluster nodes (docs/relay-frames.md has every layout). A frame is one node-link payload:
/// a 10-byte header (version, type, SentAtMicros as big-endian int64) and its type's body, nothing after it.
/// Readers never throw and refuse anything malformed with one of <see cref="RelayFrameErrors"/>; writers throw
/// <see cref="ArgumentException"/> for values the format cannot carry.
/// </summary>
public static class RelayFrames
{
    /// <summary>Version, type, SentAtMicros.</summary>
    public const int HeaderBytes = 10;
    /// <summary>Largest data-channel message relayed (the SCTP message size of a connection).</summary>
    public const int MaxMessagePayloadBytes = 256 * 1024;
    /// <summary>Largest notify metadata (the whole signaling message is limited to this).</summary>
    public const int MaxMetadataBytes = 256 * 1024;
    public const int MaxFmtpBytes = 1024;
    public const int MaxFeedbackEntries = 32;
    /// <summary>Simulcast layers of one track in TrackLayers (Sora's are r0..r2; a little room).</summary>
    public const int MaxLayers = 4;
    /// <summary>Focuses of a spotlight session (Sora's spotlight_number is 1..8).</summary>
    public const int MaxFocus = 8;
    /// <summary>An RTP packet's fixed header.</summary>
    public const int MinRtpBytes = 12;

    private const int RtpBodyBytes = 16 + 4;

    /// <summary>Bytes a relayed RTP packet adds: the header, the session id, the SSRC (30).</summary>
    public static int RtpOverhead => HeaderBytes + RtpBodyBytes;

    /// <summary>The largest RTP packet <see cref="WriteRtp"/> relays.</summary>
    public static int MaxRtpBytes => RelayProtocol.MaxFrameBytes - RtpOverhead;

    /// <summary>
    /// Encodes any frame but RTP (use <see cref="WriteRtp"/>). A Hello is always written with header version
    /// <see cref="RelayProtocol.HelloVersion"/> (its layout is frozen); <paramref name="version"/> must still be one this
    /// build speaks. <see cref="ArgumentException"/> for a value the format cannot carry (a session or connection id
    /// that is not a Sora id, a string over its bound, an unknown enum value, …).
    /// </summary>
    public static byte[] Encode(RelayFrame frame, byte version = RelayProtocol.MaxVersion)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (!RelayProtocol.Speaks(version))
            throw new ArgumentException($"version {version} is not in {RelayProtocol.MinVersion}..{RelayProtocol.MaxVersion}", nameof(version));
        var measure = RelayWriter.Measure();
        Write(ref measure, frame, version);
        if (measure.Position > RelayProtocol.MaxFrameBytes)
            throw new ArgumentException($"the frame would be {measure.Position} bytes (max {RelayProtocol.MaxFrameBytes})", nameof(frame));
        var bytes = new byte[measure.Position];
        var w = RelayWriter.Into(bytes);
        Write(ref w, frame, version);
        return bytes;
    }

    private static void Write(ref RelayWriter w, RelayFrame frame, byte version)
    {
        var type = TypeOf(frame);
        w.Byte(type == RelayFrameType.Hello ? RelayProtocol.HelloVersion : version);
        w.Byte((byte)type);
        w.Int64(frame.SentAtMicros);
        switch (frame)
        {
            case RelayHello h:
                if (h.MinVersion == 0 || h.MinVersion > h.MaxVersion)
                    throw new ArgumentException($"version range {h.MinVersion}..{h.MaxVersion} is empty", nameof(frame));
                w.Byte(h.MinVersion);
                w.Byte(h.MaxVersion);
                w.UInt64((ulong)h.Capabilities);
                w.String8(h.NodeName, nameof(h.NodeName), min: 1);
                break;
            case RelaySessionJoin j:
                w.Id(j.SessionId, nameof(j.SessionId));
                w.String8(j.ChannelId, nameof(j.ChannelId), min: 1);
                break;
            case RelaySessionLeave l:
                w.Id(l.SessionId, nameof(l.SessionId));
                w.String8(l.ChannelId, nameof(l.ChannelId), min: 1);
                break;
            case RelayConnectionUp u:
                w.Id(u.SessionId, nameof(u.SessionId));
                WriteConnection(ref w, u.Connection ?? throw new ArgumentException("Connection is null", nameof(frame)));
                break;
            case RelayConnectionDown d:
                w.Id(d.SessionId, nameof(d.SessionId));
                w.Id(d.ConnectionId, nameof(d.ConnectionId));
                w.String8(d.Reason, nameof(d.Reason));
                if (d.Minutes < 0) throw new ArgumentException("Minutes is negative", nameof(frame));
                w.Int32(d.Minutes);
                break;
            case RelayTrackUp t:
                w.Id(t.SessionId, nameof(t.SessionId));
                w.Id(t.ConnectionId, nameof(t.ConnectionId));
                w.String8(t.TrackId, nameof(t.TrackId), min: 1);
                if (t.Kind > 1) throw new ArgumentException($"Kind {t.Kind} is neither 0 (audio) nor 1 (video)", nameof(frame));
                w.Byte(t.Kind);
                w.UInt32(t.Ssrc);
                w.UInt32(t.RtxSsrc);
                WriteCodec(ref w, t.Codec ?? throw new ArgumentException("Codec is null", nameof(frame)));
                break;
            case RelayTrackLayers tl:
                w.Id(tl.SessionId, nameof(tl.SessionId));
                w.Id(tl.ConnectionId, nameof(tl.ConnectionId));
                w.String8(tl.TrackId, nameof(tl.TrackId), min: 1);
                var layers = tl.Layers ?? throw new ArgumentException("Layers is null", nameof(frame));
                if (layers.Count is < 1 or > MaxLayers) throw new ArgumentException($"{layers.Count} layers (1..{MaxLayers})", nameof(frame));
                w.Byte((byte)layers.Count);
                foreach (var l in layers)
                {
                    w.String8(l.Rid, nameof(l.Rid), min: 1);
                    w.UInt32(l.Ssrc);
                    w.UInt32(l.RtxSsrc);
                }
                break;
            case RelaySpotlightFocus sf:
                w.Id(sf.SessionId, nameof(sf.SessionId));
                var focused = sf.Focused ?? throw new ArgumentException("Focused is null", nameof(frame));
                if (sf.Number is < 1 or > MaxFocus || focused.Count > sf.Number)
                    throw new ArgumentException($"{focused.Count} focused of {sf.Number} (1..{MaxFocus})", nameof(frame));
                w.Byte(sf.Number);
                w.Byte((byte)focused.Count);
                foreach (var f in focused)
                {
                    w.Id(f.ConnectionId, nameof(f.ConnectionId));
                    w.Bool(f.Fixed);
                }
                break;
            case RelayLayerDemand ld:
                w.Id(ld.SessionId, nameof(ld.SessionId));
                w.UInt32(ld.Ssrc);
                w.Byte(ld.Mask);
                break;
            case RelayTrackDown t:
                w.Id(t.SessionId, nameof(t.SessionId));
                w.Id(t.ConnectionId, nameof(t.ConnectionId));
                w.String8(t.TrackId, nameof(t.TrackId), min: 1);
                break;
            case RelayKeyFrameRequest k:
                w.Id(k.SessionId, nameof(k.SessionId));
                w.UInt32(k.Ssrc);
                break;
            case RelaySenderReport sr:
                w.Id(sr.SessionId, nameof(sr.SessionId));
                w.UInt32(sr.Ssrc);
                w.UInt64(sr.NtpTimestamp);
                w.UInt32(sr.RtpTimestamp);
                break;
            case RelayUdpEndpoint e:
                var address = (e.Address ?? throw new ArgumentException("Address is null", nameof(frame))).GetAddressBytes();
                if (e.Port == 0) throw new ArgumentException("Port 0", nameof(frame));
                if (e.RouteId == 0) throw new ArgumentException("RouteId 0", nameof(frame));
                w.Byte((byte)address.Length);
                w.Raw(address);
                w.UInt16(e.Port);
                w.UInt32(e.RouteId);
                w.UInt64((ulong)(e.Salt >> 64));
                w.UInt64((ulong)e.Salt);
                break;
            case RelayUdpConfirm c:
                if (c.RouteId == 0) throw new ArgumentException("RouteId 0", nameof(frame));
                w.UInt32(c.RouteId);
                break;
            case RelayMessage m:
                w.Id(m.SessionId, nameof(m.SessionId));
                w.Id(m.SenderConnectionId, nameof(m.SenderConnectionId));
                w.String8(m.SenderBundleId, nameof(m.SenderBundleId));
                w.String8(m.Label, nameof(m.Label));
                w.Bool(m.Binary);
                w.Bytes32(m.Payload ?? throw new ArgumentException("Payload is null", nameof(frame)), nameof(m.Payload), MaxMessagePayloadBytes);
                break;
        }
    }

    private static RelayFrameType TypeOf(RelayFrame frame) => frame switch
    {
        RelayHello => RelayFrameType.Hello,
        RelaySessionJoin => RelayFrameType.SessionJoin,
        RelaySessionLeave => RelayFrameType.SessionLeave,
        RelayConnectionUp => RelayFrameType.ConnectionUp,
        RelayConnectionDown => RelayFrameType.ConnectionDown,
        RelayTrackUp => RelayFrameType.TrackUp,
        RelayTrackDown => RelayFrameType.TrackDown,
        RelayKeyFrameRequest => RelayFrameType.KeyFrameRequest,
        RelayMessage => RelayFrameType.Message,
        RelaySenderReport => RelayFrameType.SenderReport,
        RelayUdpEndpoint => RelayFrameType.UdpEndpoint,
        RelayUdpConfirm => RelayFrameType.UdpConfirm,
        RelayTrackLayers => RelayFrameType.TrackLayers,
        RelayLayerDemand => RelayFrameType.LayerDemand,
        RelaySpotlightFocus => RelayFrameType.SpotlightFocus,
        _ => throw new ArgumentException($"{frame.GetType().Name} is not a relay frame this build writes", nameof(frame)),
    };

    private static void WriteConnection(ref RelayWriter w, RelayConnection c)
    {
        w.Id(c.ConnectionId, nameof(c.ConnectionId));
        w.String8(c.ClientId, nameof(c.ClientId));
        w.String8(c.BundleId, nameof(c.BundleId));
        w.String8(c.ChannelId, nameof(c.ChannelId), min: 1);
        if (c.Role > 2) throw new ArgumentException($"Role {c.Role} is not 0..2", nameof(c.Role));
        w.Byte(c.Role);
        w.Bool(c.Audio);
        w.Bool(c.Video);
        w.Int64(c.CreatedAtUnixMs);
        w.Bool(c.NotifyMetadataJson is not null);
        if (c.NotifyMetadataJson is { } json)
        {
            if (json.Length <= MaxMetadataBytes && !RelayJson.IsValid(json))
                throw new ArgumentException("NotifyMetadataJson is not one JSON value in UTF-8", nameof(c.NotifyMetadataJson));
            w.Bytes32(json, nameof(c.NotifyMetadataJson), MaxMetadataBytes);
        }
    }

    private static void WriteCodec(ref RelayWriter w, RelayTrackCodec c)
    {
        w.String8(c.Name, nameof(c.Name), min: 1);
        if (c.PayloadType > 127) throw new ArgumentException($"PayloadType {c.PayloadType} is not 0..127", nameof(c.PayloadType));
        w.Byte(c.PayloadType);
        w.UInt32(c.ClockRate);
        w.Byte(c.Channels);
        w.Bool(c.Fmtp is not null);
        if (c.Fmtp is not null) w.String16(c.Fmtp, nameof(c.Fmtp), MaxFmtpBytes);
        if (c.RtxPayloadType > 127) throw new ArgumentException($"RtxPayloadType {c.RtxPayloadType} is not 0..127", nameof(c.RtxPayloadType));
        w.Byte(c.RtxPayloadType);
        var feedback = c.Feedback ?? throw new ArgumentException("Feedback is null", nameof(c.Feedback));
        if (feedback.Count > MaxFeedbackEntries)
            throw new ArgumentException($"{feedback.Count} feedback entries (max {MaxFeedbackEntries})", nameof(c.Feedback));
        w.Byte((byte)feedback.Count);
        foreach (var f in feedback) w.String8(f, nameof(c.Feedback), min: 1);
    }

    /// <summary>
    /// Writes a relayed RTP frame into <paramref name="destination"/>: its length, or 0 when the destination is too small.
    /// Allocates nothing. <see cref="ArgumentException"/> when <paramref name="sessionId16"/> is not 16 bytes, the
    /// packet is not RTP (shorter than 12 bytes, or not version 2), is larger than <see cref="MaxRtpBytes"/>, or
    /// <paramref name="version"/> is not one this build speaks.
    /// </summary>
    public static int WriteRtp(Span<byte> destination, ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros,
        ReadOnlySpan<byte> rtp, byte version = RelayProtocol.MaxVersion)
    {
        if (!RelayProtocol.Speaks(version)) throw new ArgumentException("unsupported relay version", nameof(version));
        if (sessionId16.Length != 16) throw new ArgumentException("a session id is 16 bytes", nameof(sessionId16));
        if (!IsRtp(rtp)) throw new ArgumentException("not an RTP packet", nameof(rtp));
        if (rtp.Length > RelayProtocol.MaxFrameBytes - HeaderBytes - RtpBodyBytes)
            throw new ArgumentException("RTP packet larger than the relay's frame limit", nameof(rtp));
        var length = HeaderBytes + RtpBodyBytes + rtp.Length;
        if (destination.Length < length) return 0;
        destination[0] = version;
        destination[1] = (byte)RelayFrameType.Rtp;
        BinaryPrimitives.WriteInt64BigEndian(destination[2..], sentAtMicros);
        sessionId16.CopyTo(destination[HeaderBytes..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(HeaderBytes + 16)..], ssrc);
        rtp.CopyTo(destination[(HeaderBytes + RtpBodyBytes)..]);
        return length;
    }

    private static bool IsRtp(ReadOnlySpan<byte> rtp) => rtp.Length >= MinRtpBytes && rtp[0] >> 6 == 2;

    /// <summary>
    /// Checks a frame's header only: its size (a full header, at most <see cref="RelayProtocol.MaxFrameBytes"/>), a
    /// version this build speaks (or the frozen Hello) and a known type. The body is not looked at.
    /// </summary>
    public static bool TryPeek(ReadOnlySpan<byte> frame, out byte version, out RelayFrameType type) =>
        Header(frame, out version, out type, out _, out _);

    private static bool Header(ReadOnlySpan<byte> frame, out byte version, out RelayFrameType type, out long sentAt, out string? error)
    {
        version = 0;
        type = 0;
        sentAt = 0;
        if (frame.Length > RelayProtocol.MaxFrameBytes) { error = RelayFrameErrors.Oversize; return false; }
        if (frame.Length < HeaderBytes) { error = RelayFrameErrors.Truncated; return false; }
        var v = frame[0];
        var t = frame[1];
        // The Hello is frozen: (HelloVersion, Hello) is read by every build, whatever versions it speaks.
        var hello = v == RelayProtocol.HelloVersion && t == (byte)RelayFrameType.Hello;
        if (!hello && !RelayProtocol.Speaks(v)) { error = RelayFrameErrors.UnsupportedVersion; return false; }
        if (t is < (byte)RelayFrameType.Hello or > (byte)RelayFrameType.SpotlightFocus) { error = RelayFrameErrors.UnknownType; return false; }
        version = v;
        type = (RelayFrameType)t;
        sentAt = BinaryPrimitives.ReadInt64BigEndian(frame[2..]);
        error = null;
        return true;
    }

    /// <summary>Reads a relayed RTP frame in place; allocates nothing (the error strings are constants).</summary>
    public static bool TryReadRtp(ReadOnlySpan<byte> frame, out RelayRtpView view, out string? error)
    {
        view = default;
        if (!Header(frame, out _, out var type, out var sentAt, out error)) return false;
        if (type != RelayFrameType.Rtp) { error = RelayFrameErrors.NotRtp; return false; }
        if (frame.Length < HeaderBytes + RtpBodyBytes + MinRtpBytes) { error = RelayFrameErrors.Truncated; return false; }
        var rtp = frame[(HeaderBytes + RtpBodyBytes)..];
        if (!IsRtp(rtp)) { error = RelayFrameErrors.InvalidRtp; return false; }
        view = new RelayRtpView(frame.Slice(HeaderBytes, 16), BinaryPrimitives.ReadUInt32BigEndian(frame[(HeaderBytes + 16)..]), sentAt, rtp);
        return true;
    }

    /// <summary>
    /// Decodes any frame but RTP (<see cref="TryReadRtp"/>). Never throws: anything malformed is refused with one of
    /// <see cref="RelayFrameErrors"/>. A decoded frame encodes back to exactly <paramref name="frame"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> frame, out RelayFrame? decoded, out string? error)
    {
        decoded = null;
        if (!Header(frame, out _, out var type, out var sentAt, out error)) return false;
        if (type == RelayFrameType.Rtp) { error = RelayFrameErrors.IsRtp; return false; }
        var r = new RelayReader(frame, HeaderBytes);
        var body = type switch
        {
            RelayFrameType.Hello => ReadHello(ref r),
            RelayFrameType.SessionJoin => ReadSession(ref r, join: true),
            RelayFrameType.SessionLeave => ReadSession(ref r, join: false),
            RelayFrameType.ConnectionUp => ReadConnectionUp(ref r),
            RelayFrameType.ConnectionDown => ReadConnectionDown(ref r),
            RelayFrameType.TrackUp => ReadTrackUp(ref r),
            RelayFrameType.TrackDown => ReadTrackDown(ref r),
            RelayFrameType.KeyFrameRequest => ReadKeyFrameRequest(ref r),
            RelayFrameType.Message => ReadMessage(ref r),
            RelayFrameType.SenderReport => ReadSenderReport(ref r),
            RelayFrameType.UdpEndpoint => ReadUdpEndpoint(ref r),
            RelayFrameType.UdpConfirm => ReadUdpConfirm(ref r),
            RelayFrameType.TrackLayers => ReadTrackLayers(ref r),
            RelayFrameType.LayerDemand => ReadLayerDemand(ref r),
            RelayFrameType.SpotlightFocus => ReadSpotlightFocus(ref r),
            _ => null,
        };
        if (body is null) { error = r.Error ?? RelayFrameErrors.UnknownType; return false; }
        if (!r.AtEnd) { error = RelayFrameErrors.TrailingBytes; return false; }
        decoded = body with { SentAtMicros = sentAt };
        return true;
    }

    private static RelayFrame? ReadHello(ref RelayReader r)
    {
        if (!r.Byte(out var min) || !r.Byte(out var max) || !r.UInt64(out var caps)) return null;
        if (min == 0 || min > max) { r.Fail(RelayFrameErrors.InvalidValue); return null; }
        return r.String8(out var name, min: 1) ? new RelayHello(min, max, (RelayCapabilities)caps, name) : null;
    }

    private static RelayFrame? ReadSession(ref RelayReader r, bool join)
    {
        if (!r.Id(out var session) || !r.String8(out var channel, min: 1)) return null;
        return join ? new RelaySessionJoin(channel, session) : new RelaySessionLeave(channel, session);
    }

    private static RelayFrame? ReadConnectionUp(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Id(out var connection) || !r.String8(out var client) || !r.String8(out var bundle)
            || !r.String8(out var channel, min: 1) || !r.Byte(out var role, max: 2) || !r.Bool(out var audio) || !r.Bool(out var video)
            || !r.Int64(out var createdAt) || !r.Bool(out var hasMetadata))
            return null;
        byte[]? metadata = null;
        if (hasMetadata)
        {
            if (!r.Bytes32(out var json, RelayFrames.MaxMetadataBytes)) return null;
            if (!RelayJson.IsValid(json)) { r.Fail(RelayFrameErrors.InvalidJson); return null; }
            metadata = json.ToArray();
        }
        return new RelayConnectionUp(session, new RelayConnection(connection, client, bundle, channel, role, audio, video, createdAt, metadata));
    }

    private static RelayFrame? ReadConnectionDown(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Id(out var connection) || !r.String8(out var reason) || !r.UInt32(out var minutes)) return null;
        if (minutes > int.MaxValue) { r.Fail(RelayFrameErrors.InvalidValue); return null; }
        return new RelayConnectionDown(session, connection, reason, (int)minutes);
    }

    private static RelayFrame? ReadTrackUp(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Id(out var connection) || !r.String8(out var track, min: 1) || !r.Byte(out var kind, max: 1)
            || !r.UInt32(out var ssrc) || !r.UInt32(out var rtxSsrc))
            return null;
        if (!r.String8(out var name, min: 1) || !r.Byte(out var pt, max: 127) || !r.UInt32(out var clockRate) || !r.Byte(out var channels)
            || !r.Bool(out var hasFmtp))
            return null;
        string? fmtp = null;
        if (hasFmtp)
        {
            if (!r.String16(out var f, MaxFmtpBytes)) return null;
            fmtp = f;
        }
        if (!r.Byte(out var rtxPt, max: 127) || !r.Byte(out var count)) return null;
        if (count > MaxFeedbackEntries) { r.Fail(RelayFrameErrors.OutOfBounds); return null; }
        var feedback = new string[count];
        for (var i = 0; i < count; i++)
            if (!r.String8(out feedback[i], min: 1)) return null;
        return new RelayTrackUp(session, connection, track, kind, ssrc, rtxSsrc, new RelayTrackCodec(name, pt, clockRate, channels, fmtp, rtxPt, feedback));
    }

    private static RelayFrame? ReadTrackLayers(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Id(out var connection) || !r.String8(out var track, min: 1) || !r.Byte(out var count)) return null;
        if (count is < 1 or > MaxLayers) { r.Fail(RelayFrameErrors.OutOfBounds); return null; }
        var layers = new RelayLayer[count];
        for (var i = 0; i < count; i++)
        {
            if (!r.String8(out var rid, min: 1) || !r.UInt32(out var ssrc) || !r.UInt32(out var rtx)) return null;
            layers[i] = new RelayLayer(rid, ssrc, rtx);
        }
        return new RelayTrackLayers(session, connection, track, layers);
    }

    private static RelayFrame? ReadSpotlightFocus(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Byte(out var number) || !r.Byte(out var count)) return null;
        if (number is < 1 or > MaxFocus || count > number) { r.Fail(RelayFrameErrors.OutOfBounds); return null; }
        var focused = new RelayFocus[count];
        for (var i = 0; i < count; i++)
        {
            if (!r.Id(out var id) || !r.Bool(out var isFixed)) return null;
            focused[i] = new RelayFocus(id, isFixed);
        }
        return new RelaySpotlightFocus(session, number, focused);
    }

    private static RelayFrame? ReadLayerDemand(ref RelayReader r) =>
        r.Id(out var session) && r.UInt32(out var ssrc) && r.Byte(out var mask) ? new RelayLayerDemand(session, ssrc, mask) : null;

    private static RelayFrame? ReadTrackDown(ref RelayReader r) =>
        r.Id(out var session) && r.Id(out var connection) && r.String8(out var track, min: 1)
            ? new RelayTrackDown(session, connection, track)
            : null;

    private static RelayFrame? ReadSenderReport(ref RelayReader r) =>
        r.Id(out var session) && r.UInt32(out var ssrc) && r.UInt64(out var ntp) && r.UInt32(out var rtp)
            ? new RelaySenderReport(session, ssrc, ntp, rtp) : null;

    private static RelayFrame? ReadUdpEndpoint(ref RelayReader r)
    {
        if (!r.Byte(out var length)) return null;
        if (length is not (4 or 16)) { r.Fail(RelayFrameErrors.InvalidValue); return null; }
        if (!r.Raw(length, out var address) || !r.UInt16(out var port) || !r.UInt32(out var route) || !r.UInt64(out var high)
            || !r.UInt64(out var low))
            return null;
        if (port == 0 || route == 0) { r.Fail(RelayFrameErrors.InvalidValue); return null; }
        return new RelayUdpEndpoint(new System.Net.IPAddress(address), port, route, new UInt128(high, low));
    }

    private static RelayFrame? ReadUdpConfirm(ref RelayReader r)
    {
        if (!r.UInt32(out var route)) return null;
        if (route == 0) { r.Fail(RelayFrameErrors.InvalidValue); return null; }
        return new RelayUdpConfirm(route);
    }

    private static RelayFrame? ReadKeyFrameRequest(ref RelayReader r) =>
        r.Id(out var session) && r.UInt32(out var ssrc) ? new RelayKeyFrameRequest(session, ssrc) : null;

    private static RelayFrame? ReadMessage(ref RelayReader r)
    {
        if (!r.Id(out var session) || !r.Id(out var sender) || !r.String8(out var bundle) || !r.String8(out var label)
            || !r.Bool(out var binary) || !r.Bytes32(out var payload, MaxMessagePayloadBytes))
            return null;
        return new RelayMessage(session, sender, bundle, label, binary, payload.ToArray());
    }
}
