// Node-link wire format, version 1 (docs/protocol-notes.md, "Cluster shape"; the whole format is written out below).
//
// Every frame:
//
//     [u8 version = 1][u8 type][u32 payload length, big-endian][payload: length bytes]
//
// A payload longer than the receiver's MaxFrameBytes (1 KiB while the handshake runs) is rejected from the
// header alone, before anything is allocated or read, and the connection is closed.
//
//   type  name        payload
//   ----  ----------  ----------------------------------------------------------------------------------------
//   1     Challenge   [32 nonceA][acceptor name: UTF-8, the rest, 1..255 bytes]
//   2     Hello       [u8 flags][u8 n][dialer name: n UTF-8 bytes, n >= 1][32 nonceD][32 mac]
//                     flags bit 0 = one-shot (request then close; never a mesh link); other bits ignored
//                     mac = HMAC-SHA256(UTF-8 secret, "hibari-link-v1|hello|" ‖ nonceA ‖ UTF-8 dialer name)
//   3     Welcome     [32 mac]   mac = HMAC-SHA256(UTF-8 secret, "hibari-link-v1|welcome|" ‖ nonceD ‖ UTF-8 acceptor name)
//   4     Heartbeat   empty
//   5     Request     [u64 id, big-endian][body]
//   6     Response    [u64 id, big-endian][u8 status: 0 ok, 1 error][body; for an error, a UTF-8 message]
//   7     Message     [u8 channel][body]
//   8     Refused     [u8 code][reason: UTF-8, the rest, 0..512 bytes]   (codes: RefusalCode)
//
// Names contain no control characters. A frame with a known type whose payload does not match its layout is
// Malformed. Another version byte closes the connection; an unknown type on an authenticated link is skipped
// (its length is known), so a later version can add frame types without breaking a rolling upgrade.
//
// The codec is pure: bytes in, a parsed frame or a FrameError out. Decoding never throws and allocates only
// the name or reason strings (bounded by the limits above); bodies, nonces and macs are slices of the input.

using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace Hibari.Cluster.Links;

internal enum FrameType : byte
{
    Challenge = 1,
    Hello = 2,
    Welcome = 3,
    Heartbeat = 4,
    Request = 5,
    Response = 6,
    Message = 7,
    Refused = 8,
}

/// <summary>Why bytes are not (yet) a frame. <see cref="None"/> means a frame was decoded.</summary>
internal enum FrameError : byte
{
    None,
    /// <summary>More bytes are needed; nothing is wrong yet.</summary>
    Incomplete,
    BadVersion,
    /// <summary>The header is valid but the type is not one of version 1's; the frame can be skipped.</summary>
    UnknownType,
    /// <summary>The announced payload length exceeds the limit.</summary>
    TooLarge,
    /// <summary>The payload does not match the layout of its type.</summary>
    Malformed,
}

internal enum ResponseStatus : byte { Ok = 0, Error = 1 }

[Flags]
internal enum HelloFlags : byte
{
    None = 0,
    /// <summary>The dialer will send requests and close: serve it, but do not make it the mesh link.</summary>
    OneShot = 1,
}

/// <summary>Why a node refused a connection or closes a link (the first byte of a Refused frame).</summary>
internal enum RefusalCode : byte
{
    Unspecified = 0,
    AuthenticationFailed = 1,
    ProtocolError = 2,
    /// <summary>Pair rule: another link between the same two nodes is kept; this one is closing.</summary>
    Superseded = 3,
    /// <summary>The dialer announced the acceptor's own node name.</summary>
    NameConflict = 4,
    Busy = 5,
}

internal readonly record struct FrameHeader(FrameType Type, int PayloadLength);

/// <summary>
/// One decoded (or to-be-encoded) frame: a tagged union keyed by <see cref="Type"/>; only the members named in
/// the wire table for that type are meaningful. Memory members are views of the decoded input.
/// </summary>
internal readonly struct Frame
{
    public FrameType Type { get; init; }
    /// <summary>Challenge: acceptor name. Hello: dialer name.</summary>
    public string? Name { get; init; }
    /// <summary>Challenge: nonceA. Hello: nonceD.</summary>
    public ReadOnlyMemory<byte> Nonce { get; init; }
    /// <summary>Hello, Welcome.</summary>
    public ReadOnlyMemory<byte> Mac { get; init; }
    public HelloFlags Flags { get; init; }
    /// <summary>Request, Response.</summary>
    public ulong RequestId { get; init; }
    public ResponseStatus Status { get; init; }
    public byte Channel { get; init; }
    public RefusalCode Refusal { get; init; }
    public string? Reason { get; init; }
    /// <summary>Request, Response, Message.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    public static Frame Challenge(ReadOnlyMemory<byte> nonce, string acceptorName) =>
        new() { Type = FrameType.Challenge, Nonce = nonce, Name = acceptorName };

    public static Frame Hello(HelloFlags flags, string dialerName, ReadOnlyMemory<byte> nonce, ReadOnlyMemory<byte> mac) =>
        new() { Type = FrameType.Hello, Flags = flags, Name = dialerName, Nonce = nonce, Mac = mac };

    public static Frame Welcome(ReadOnlyMemory<byte> mac) => new() { Type = FrameType.Welcome, Mac = mac };

    public static Frame Heartbeat() => new() { Type = FrameType.Heartbeat };

    public static Frame Request(ulong id, ReadOnlyMemory<byte> body) =>
        new() { Type = FrameType.Request, RequestId = id, Body = body };

    public static Frame Response(ulong id, ResponseStatus status, ReadOnlyMemory<byte> body) =>
        new() { Type = FrameType.Response, RequestId = id, Status = status, Body = body };

    public static Frame Message(byte channel, ReadOnlyMemory<byte> body) =>
        new() { Type = FrameType.Message, Channel = channel, Body = body };

    /// <summary>A Refused frame; <paramref name="reason"/> is cut to <see cref="NodeLinkFrameCodec.MaxReasonBytes"/>.</summary>
    public static Frame Refused(RefusalCode code, string reason) =>
        new() { Type = FrameType.Refused, Refusal = code, Reason = NodeLinkFrameCodec.TruncateUtf8(reason, NodeLinkFrameCodec.MaxReasonBytes) };
}

internal static class NodeLinkFrameCodec
{
    public const byte Version = 1;
    public const int HeaderSize = 6;
    public const int NonceSize = 32;
    public const int MacSize = 32;
    public const int MaxNameBytes = 255;
    public const int MaxReasonBytes = 512;
    /// <summary>Payload limit while a connection is unauthenticated: every handshake frame fits in it.</summary>
    public const int HandshakeMaxPayload = 1024;
    /// <summary>Bytes a Response adds around its body; a body must fit MaxFrameBytes minus this.</summary>
    public const int ResponseOverhead = 9;
    public const int RequestOverhead = 8;
    public const int MessageOverhead = 1;

    /// <summary>Parses the 6-byte header. <see cref="FrameError.UnknownType"/> still fills <paramref name="header"/>.</summary>
    public static FrameError ReadHeader(ReadOnlySpan<byte> source, int maxPayload, out FrameHeader header)
    {
        header = default;
        if (source.Length < HeaderSize) return FrameError.Incomplete;
        if (source[0] != Version) return FrameError.BadVersion;
        uint length = BinaryPrimitives.ReadUInt32BigEndian(source[2..]);
        if (length > (uint)Math.Max(maxPayload, 0)) return FrameError.TooLarge;
        header = new FrameHeader((FrameType)source[1], (int)length);
        return IsKnown(header.Type) ? FrameError.None : FrameError.UnknownType;
    }

    /// <summary>
    /// Decodes the first frame of <paramref name="source"/>. <paramref name="consumed"/> is the frame's size when
    /// the result is <see cref="FrameError.None"/>, <see cref="FrameError.UnknownType"/> or
    /// <see cref="FrameError.Malformed"/> (the frame is complete, so it can be skipped), else 0.
    /// </summary>
    public static FrameError Decode(ReadOnlyMemory<byte> source, int maxPayload, out Frame frame, out int consumed)
    {
        frame = default;
        consumed = 0;
        var error = ReadHeader(source.Span, maxPayload, out var header);
        if (error is not (FrameError.None or FrameError.UnknownType)) return error;
        if (source.Length - HeaderSize < header.PayloadLength) return FrameError.Incomplete;
        consumed = HeaderSize + header.PayloadLength;
        if (error == FrameError.UnknownType) return error;
        return DecodePayload(header.Type, source.Slice(HeaderSize, header.PayloadLength), out frame);
    }

    /// <summary>Decodes a complete payload of a known type.</summary>
    public static FrameError DecodePayload(FrameType type, ReadOnlyMemory<byte> payload, out Frame frame)
    {
        frame = default;
        var span = payload.Span;
        switch (type)
        {
            case FrameType.Challenge:
            {
                if (span.Length <= NonceSize) return FrameError.Malformed;
                if (!TryDecodeName(span[NonceSize..], out var name)) return FrameError.Malformed;
                frame = Frame.Challenge(payload[..NonceSize], name);
                return FrameError.None;
            }
            case FrameType.Hello:
            {
                if (span.Length < 2) return FrameError.Malformed;
                int nameLength = span[1];
                if (span.Length != 2 + nameLength + NonceSize + MacSize) return FrameError.Malformed;
                if (!TryDecodeName(span.Slice(2, nameLength), out var name)) return FrameError.Malformed;
                int nonceAt = 2 + nameLength;
                frame = Frame.Hello((HelloFlags)span[0], name, payload.Slice(nonceAt, NonceSize), payload.Slice(nonceAt + NonceSize, MacSize));
                return FrameError.None;
            }
            case FrameType.Welcome:
                if (span.Length != MacSize) return FrameError.Malformed;
                frame = Frame.Welcome(payload);
                return FrameError.None;
            case FrameType.Heartbeat:
                if (span.Length != 0) return FrameError.Malformed;
                frame = Frame.Heartbeat();
                return FrameError.None;
            case FrameType.Request:
                if (span.Length < RequestOverhead) return FrameError.Malformed;
                frame = Frame.Request(BinaryPrimitives.ReadUInt64BigEndian(span), payload[RequestOverhead..]);
                return FrameError.None;
            case FrameType.Response:
                if (span.Length < ResponseOverhead || span[8] > (byte)ResponseStatus.Error) return FrameError.Malformed;
                frame = Frame.Response(BinaryPrimitives.ReadUInt64BigEndian(span), (ResponseStatus)span[8], payload[ResponseOverhead..]);
                return FrameError.None;
            case FrameType.Message:
                if (span.Length < MessageOverhead) return FrameError.Malformed;
                frame = Frame.Message(span[0], payload[MessageOverhead..]);
                return FrameError.None;
            case FrameType.Refused:
            {
                if (span.Length < 1 || span.Length - 1 > MaxReasonBytes) return FrameError.Malformed;
                var reason = span[1..];
                if (!Utf8.IsValid(reason)) return FrameError.Malformed;
                frame = new Frame { Type = FrameType.Refused, Refusal = (RefusalCode)span[0], Reason = Encoding.UTF8.GetString(reason) };
                return FrameError.None;
            }
            default:
                return FrameError.UnknownType;
        }
    }

    /// <summary>Header plus payload size of <paramref name="frame"/>; throws for a frame this node must never build.</summary>
    public static int GetEncodedLength(in Frame frame) => HeaderSize + GetPayloadLength(frame);

    /// <summary>Writes <paramref name="frame"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(in Frame frame, Span<byte> destination)
    {
        int payloadLength = GetPayloadLength(frame);
        if (destination.Length < HeaderSize + payloadLength) throw new ArgumentException("Destination too small.", nameof(destination));
        destination[0] = Version;
        destination[1] = (byte)frame.Type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)payloadLength);
        var payload = destination.Slice(HeaderSize, payloadLength);
        switch (frame.Type)
        {
            case FrameType.Challenge:
                frame.Nonce.Span.CopyTo(payload);
                Encoding.UTF8.GetBytes(frame.Name!, payload[NonceSize..]);
                break;
            case FrameType.Hello:
            {
                payload[0] = (byte)frame.Flags;
                int nameLength = Encoding.UTF8.GetBytes(frame.Name!, payload[2..]);
                payload[1] = (byte)nameLength;
                frame.Nonce.Span.CopyTo(payload[(2 + nameLength)..]);
                frame.Mac.Span.CopyTo(payload[(2 + nameLength + NonceSize)..]);
                break;
            }
            case FrameType.Welcome:
                frame.Mac.Span.CopyTo(payload);
                break;
            case FrameType.Heartbeat:
                break;
            case FrameType.Request:
                BinaryPrimitives.WriteUInt64BigEndian(payload, frame.RequestId);
                frame.Body.Span.CopyTo(payload[RequestOverhead..]);
                break;
            case FrameType.Response:
                BinaryPrimitives.WriteUInt64BigEndian(payload, frame.RequestId);
                payload[8] = (byte)frame.Status;
                frame.Body.Span.CopyTo(payload[ResponseOverhead..]);
                break;
            case FrameType.Message:
                payload[0] = frame.Channel;
                frame.Body.Span.CopyTo(payload[MessageOverhead..]);
                break;
            case FrameType.Refused:
                payload[0] = (byte)frame.Refusal;
                Encoding.UTF8.GetBytes(frame.Reason ?? "", payload[1..]);
                break;
        }
        return HeaderSize + payloadLength;
    }

    /// <summary>
    /// Writes the header of a Message frame whose body (<paramref name="bodyLength"/> bytes) the caller writes right
    /// after it, at <see cref="HeaderSize"/> + <see cref="MessageOverhead"/>: lets a sender encode a body straight into
    /// the send buffer. Returns the whole frame's length.
    /// </summary>
    public static int WriteMessageHeader(Span<byte> destination, byte channel, int bodyLength)
    {
        destination[0] = Version;
        destination[1] = (byte)FrameType.Message;
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)(MessageOverhead + bodyLength));
        destination[HeaderSize] = channel;
        return HeaderSize + MessageOverhead + bodyLength;
    }

    /// <summary>Encodes into a new array (handshake frames, tests).</summary>
    public static byte[] EncodeToArray(in Frame frame)
    {
        var bytes = new byte[GetEncodedLength(frame)];
        Encode(frame, bytes);
        return bytes;
    }

    /// <summary>The longest prefix of <paramref name="text"/> whose UTF-8 form fits <paramref name="maxBytes"/>, never splitting a character.</summary>
    public static string TruncateUtf8(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetMaxByteCount(text.Length) <= maxBytes || Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        Span<byte> scratch = maxBytes <= 1024 ? stackalloc byte[maxBytes] : new byte[maxBytes];
        Utf8.FromUtf16(text, scratch, out int charsRead, out _);
        return text[..charsRead];
    }

    /// <summary>A name as the wire carries it: 1..255 UTF-8 bytes, no control characters.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length == 0 || Encoding.UTF8.GetByteCount(name) > MaxNameBytes) return false;
        foreach (char c in name)
            if (char.IsControl(c) || char.IsSurrogate(c)) return false;
        return true;
    }

    private static bool IsKnown(FrameType type) => type is >= FrameType.Challenge and <= FrameType.Refused;

    private static bool TryDecodeName(ReadOnlySpan<byte> utf8, out string name)
    {
        name = "";
        if (utf8.Length is 0 or > MaxNameBytes || !Utf8.IsValid(utf8)) return false;
        var decoded = Encoding.UTF8.GetString(utf8);
        if (!IsValidName(decoded)) return false;
        name = decoded;
        return true;
    }

    private static int GetPayloadLength(in Frame frame) => frame.Type switch
    {
        FrameType.Challenge => RequireLength(frame.Nonce, NonceSize) + NameBytes(frame.Name),
        FrameType.Hello => 2 + NameBytes(frame.Name) + RequireLength(frame.Nonce, NonceSize) + RequireLength(frame.Mac, MacSize),
        FrameType.Welcome => RequireLength(frame.Mac, MacSize),
        FrameType.Heartbeat => 0,
        FrameType.Request => RequestOverhead + frame.Body.Length,
        FrameType.Response => ResponseOverhead + frame.Body.Length,
        FrameType.Message => MessageOverhead + frame.Body.Length,
        FrameType.Refused => 1 + ReasonBytes(frame.Reason),
        _ => throw new ArgumentException($"Unknown frame type {frame.Type}.", nameof(frame)),
    };

    private static int NameBytes(string? name) =>
        name is not null && IsValidName(name) ? Encoding.UTF8.GetByteCount(name) : throw new ArgumentException($"Invalid node name '{name}'.");

    private static int ReasonBytes(string? reason) =>
        Encoding.UTF8.GetByteCount(reason ?? "") is var n && n <= MaxReasonBytes ? n : throw new ArgumentException("Refusal reason too long.");

    private static int RequireLength(ReadOnlyMemory<byte> value, int length) =>
        value.Length == length ? length : throw new ArgumentException($"Expected {length} bytes, got {value.Length}.");
}
