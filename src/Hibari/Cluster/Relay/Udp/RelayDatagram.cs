using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Hibari.Cluster.Relay.Udp;

/// <summary>What a relay datagram carries (byte 3).</summary>
public enum RelayDatagramKind : byte
{
    /// <summary>One relayed RTP packet.</summary>
    Rtp = 0,
    /// <summary>No packet: the sender checks that its datagrams reach the receiver (answered by a UdpConfirm frame on the link).</summary>
    Probe = 1,
}

/// <summary>Why a datagram was refused by <see cref="RelayDatagram.TryParse"/> (the receiver counts them).</summary>
public enum RelayDatagramError : byte
{
    None,
    /// <summary>Shorter than a header and a tag, or an RTP datagram without a 12-byte RTP header.</summary>
    Truncated,
    /// <summary>Larger than <see cref="RelayDatagram.MaxDatagramBytes"/>.</summary>
    Oversize,
    /// <summary>The first byte is not <see cref="RelayDatagram.Marker"/>.</summary>
    NotRelay,
    UnsupportedVersion,
    /// <summary>A kind other than Rtp/Probe, a lane ≥ 64, a probe with a body, a relayed packet that is not RTP version 2.</summary>
    InvalidValue,
}

/// <summary>
/// A relay datagram read in place (no copy, no allocation): spans into the receive buffer. Nothing in it is trusted
/// before <see cref="RelayDatagram.Verify"/> checked its tag with the route's key.
/// </summary>
public readonly ref struct RelayDatagramView
{
    internal RelayDatagramView(ReadOnlySpan<byte> datagram, int rtpLength)
    {
        Kind = (RelayDatagramKind)datagram[3];
        Lane = datagram[2];
        RouteId = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        Sequence = BinaryPrimitives.ReadUInt64BigEndian(datagram[8..]);
        SessionId16 = datagram.Slice(16, 16);
        Ssrc = BinaryPrimitives.ReadUInt32BigEndian(datagram[32..]);
        SentAtMicros = BinaryPrimitives.ReadInt64BigEndian(datagram[36..]);
        Rtp = datagram.Slice(RelayDatagram.HeaderBytes, rtpLength);
        Authenticated = datagram[..(RelayDatagram.HeaderBytes + rtpLength)];
        Tag = datagram.Slice(RelayDatagram.HeaderBytes + rtpLength, RelayDatagram.TagBytes);
    }

    public RelayDatagramKind Kind { get; }
    /// <summary>The sending node's media worker (its own sequence space and replay window).</summary>
    public byte Lane { get; }
    /// <summary>The route the receiver assigned to the sender (names the sender node and the key).</summary>
    public uint RouteId { get; }
    public ulong Sequence { get; }
    public ReadOnlySpan<byte> SessionId16 { get; }
    public uint Ssrc { get; }
    public long SentAtMicros { get; }
    /// <summary>The relayed RTP packet (empty in a probe).</summary>
    public ReadOnlySpan<byte> Rtp { get; }
    /// <summary>Everything the tag covers: the header and the packet.</summary>
    public ReadOnlySpan<byte> Authenticated { get; }
    public ReadOnlySpan<byte> Tag { get; }
}

/// <summary>
/// The relay's RTP datagrams between the nodes' media workers (docs/relay-frames.md, "Relay RTP datagrams";
/// docs/decisions.md D-31): a 44-byte header, the RTP packet, a 16-byte AES-128-GCM tag over both (GMAC: the
/// datagram is associated data, nothing is encrypted — as on the node link, which is authenticated, not encrypted).
/// <code>
///  0  1  marker 0xF7 (outside RFC 7983's STUN/DTLS/RTP ranges a media worker demultiplexes)
///  1  1  version 1
///  2  1  lane: the sender's media worker index (0..63), a sequence space of its own
///  3  1  kind: 0 RTP, 1 probe
///  4  4  route id: assigned by the receiver to the sender (UdpEndpoint frame); names the sender and the key
///  8  8  sequence: per (route, lane), from 1; GCM nonce = 00 00 00 lane ‖ sequence
/// 16 16  session id (16 raw bytes)
/// 32  4  SSRC the track was announced with
/// 36  8  SentAtMicros (RelayProtocol.NowMicros)
/// 44  n  RTP packet (none in a probe)
/// 44+n 16 tag
/// </code>
/// Readers never throw and never allocate; writers throw <see cref="ArgumentException"/> for values the format cannot carry.
/// </summary>
public static class RelayDatagram
{
    public const byte Marker = 0xF7;
    public const byte Version = 1;
    public const int HeaderBytes = 44;
    public const int TagBytes = 16;
    public const int NonceBytes = 12;
    /// <summary>Header and tag: what a relayed packet costs on top of itself (60 bytes; plus 28 of IPv4/UDP).</summary>
    public const int Overhead = HeaderBytes + TagBytes;
    /// <summary>The largest datagram: a media worker's send and receive slot (UdpSendBatch / UdpReceiveBatch, 2,048 bytes).</summary>
    public const int MaxDatagramBytes = 2048;
    /// <summary>The largest RTP packet a datagram carries (1,988 bytes); larger ones go over the node link.</summary>
    public const int MaxRtpBytes = MaxDatagramBytes - Overhead;
    /// <summary>Lanes (sender media workers) a receiver keeps replay windows for: MediaWorker.MaxWorkers.</summary>
    public const int MaxLanes = 64;
    private const int MinRtpBytes = 12;

    /// <summary>
    /// Writes an RTP datagram into <paramref name="destination"/> and tags it: its length, or 0 when the destination is
    /// too small. Allocates nothing.
    /// </summary>
    public static int WriteRtp(Span<byte> destination, RelayDatagramAuth auth, uint routeId, byte lane, ulong sequence,
        ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros, ReadOnlySpan<byte> rtp)
    {
        if (rtp.Length < MinRtpBytes || rtp[0] >> 6 != 2) throw new ArgumentException("not an RTP packet", nameof(rtp));
        if (rtp.Length > MaxRtpBytes) throw new ArgumentException($"RTP packet of {rtp.Length} bytes (max {MaxRtpBytes})", nameof(rtp));
        return Write(destination, auth, RelayDatagramKind.Rtp, routeId, lane, sequence, sessionId16, ssrc, sentAtMicros, rtp);
    }

    /// <summary>Writes a probe (no packet, zero session and SSRC) and tags it: its length (60), or 0 when the destination is too small.</summary>
    public static int WriteProbe(Span<byte> destination, RelayDatagramAuth auth, uint routeId, byte lane, ulong sequence, long sentAtMicros)
    {
        Span<byte> noSession = stackalloc byte[16];
        noSession.Clear();
        return Write(destination, auth, RelayDatagramKind.Probe, routeId, lane, sequence, noSession, 0, sentAtMicros, []);
    }

    private static int Write(Span<byte> destination, RelayDatagramAuth auth, RelayDatagramKind kind, uint routeId, byte lane, ulong sequence,
        ReadOnlySpan<byte> sessionId16, uint ssrc, long sentAtMicros, ReadOnlySpan<byte> rtp)
    {
        ArgumentNullException.ThrowIfNull(auth);
        if (sessionId16.Length != 16) throw new ArgumentException("a session id is 16 bytes", nameof(sessionId16));
        if (lane >= MaxLanes) throw new ArgumentException($"lane {lane} (max {MaxLanes - 1})", nameof(lane));
        var length = Overhead + rtp.Length;
        if (destination.Length < length) return 0;
        destination[0] = Marker;
        destination[1] = Version;
        destination[2] = lane;
        destination[3] = (byte)kind;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], routeId);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], sequence);
        sessionId16.CopyTo(destination[16..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[32..], ssrc);
        BinaryPrimitives.WriteInt64BigEndian(destination[36..], sentAtMicros);
        rtp.CopyTo(destination[HeaderBytes..]);
        var covered = HeaderBytes + rtp.Length;
        auth.Tag(lane, sequence, destination[..covered], destination.Slice(covered, TagBytes));
        return length;
    }

    /// <summary>
    /// Reads a datagram's layout (not its tag: <see cref="Verify"/>). Never throws, never allocates. Checks the size,
    /// marker, version, kind and lane, and that an RTP datagram carries an RTP version-2 header.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out RelayDatagramView view, out RelayDatagramError error)
    {
        view = default;
        if (datagram.Length > MaxDatagramBytes) { error = RelayDatagramError.Oversize; return false; }
        if (datagram.Length == 0 || datagram[0] != Marker) { error = RelayDatagramError.NotRelay; return false; }
        if (datagram.Length < Overhead) { error = RelayDatagramError.Truncated; return false; }
        if (datagram[1] != Version) { error = RelayDatagramError.UnsupportedVersion; return false; }
        if (datagram[2] >= MaxLanes || datagram[3] > (byte)RelayDatagramKind.Probe) { error = RelayDatagramError.InvalidValue; return false; }
        var rtpLength = datagram.Length - Overhead;
        if ((RelayDatagramKind)datagram[3] == RelayDatagramKind.Rtp)
        {
            if (rtpLength < MinRtpBytes) { error = RelayDatagramError.Truncated; return false; }
            if (datagram[HeaderBytes] >> 6 != 2) { error = RelayDatagramError.InvalidValue; return false; }
        }
        else if (rtpLength != 0) { error = RelayDatagramError.InvalidValue; return false; }
        view = new RelayDatagramView(datagram, rtpLength);
        error = RelayDatagramError.None;
        return true;
    }

    /// <summary>True when the view's tag is the one <paramref name="auth"/>'s key gives its bytes (constant-time compare).</summary>
    public static bool Verify(RelayDatagramAuth auth, in RelayDatagramView view)
    {
        ArgumentNullException.ThrowIfNull(auth);
        Span<byte> expected = stackalloc byte[TagBytes];
        auth.Tag(view.Lane, view.Sequence, view.Authenticated, expected);
        return CryptographicOperations.FixedTimeEquals(expected, view.Tag);
    }
}

/// <summary>
/// The key of one direction of one node pair (docs/decisions.md D-31): AES-128-GCM used as GMAC (empty plaintext, the
/// datagram as associated data). Not thread-safe: one instance per thread that uses it (the sender's lane, the
/// receiver's worker).
/// </summary>
public sealed class RelayDatagramAuth(ReadOnlySpan<byte> key) : IDisposable
{
    private readonly AesGcm _gcm = new(key, RelayDatagram.TagBytes);

    /// <summary>The tag of <paramref name="covered"/> under nonce 00 00 00 lane ‖ sequence.</summary>
    public void Tag(byte lane, ulong sequence, ReadOnlySpan<byte> covered, Span<byte> tag)
    {
        Span<byte> nonce = stackalloc byte[RelayDatagram.NonceBytes];
        nonce[..3].Clear();
        nonce[3] = lane;
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
        _gcm.Encrypt(nonce, ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag, covered);
    }

    public void Dispose() => _gcm.Dispose();
}

/// <summary>Key derivation of the relay datagrams (docs/decisions.md D-31).</summary>
public static class RelayDatagramKeys
{
    public const int KeyBytes = 16;
    private static readonly byte[] Label = "hibari-relay-udp-v1"u8.ToArray();

    /// <summary>
    /// The key of datagrams from <paramref name="sender"/> to <paramref name="receiver"/>: HKDF-SHA256 (RFC 5869) with
    /// the UTF-8 cluster secret as input keying material, the receiver's fresh 16-byte <paramref name="salt"/> (new with
    /// every UdpEndpoint it sends) and info = label ‖ len ‖ sender ‖ len ‖ receiver. Another secret, another pair, another
    /// direction or another announcement give another key.
    /// </summary>
    public static byte[] Derive(string secret, UInt128 salt, string sender, string receiver)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        ArgumentException.ThrowIfNullOrEmpty(sender);
        ArgumentException.ThrowIfNullOrEmpty(receiver);
        var s = Encoding.UTF8.GetBytes(sender);
        var r = Encoding.UTF8.GetBytes(receiver);
        if (s.Length > 255 || r.Length > 255) throw new ArgumentException("node names are at most 255 bytes");
        var info = new byte[Label.Length + 2 + s.Length + r.Length];
        Label.CopyTo(info, 0);
        info[Label.Length] = (byte)s.Length;
        s.CopyTo(info, Label.Length + 1);
        info[Label.Length + 1 + s.Length] = (byte)r.Length;
        r.CopyTo(info, Label.Length + 2 + s.Length);
        var saltBytes = new byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(saltBytes, salt);
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), KeyBytes, saltBytes, info);
    }
}
