using System.Buffers.Binary;

namespace Hibari.Rtc.Sctp.Chunks;

public enum SctpChunkType : byte
{
    Data = 0, Init = 1, InitAck = 2, Sack = 3, Heartbeat = 4, HeartbeatAck = 5, Abort = 6, Shutdown = 7,
    ShutdownAck = 8, Error = 9, CookieEcho = 10, CookieAck = 11, ShutdownComplete = 14,
    ReConfig = 130, ForwardTsn = 192,
}

/// <summary>What to do with a chunk type we do not know: the upper two bits of the type (RFC 9260 §3.2).</summary>
public enum UnknownChunkAction { StopAndDiscard = 0, StopDiscardAndReport = 1, Skip = 2, SkipAndReport = 3 }

/// <summary>A parsed chunk. Parsing is pure and total: <see cref="TryParse"/> returns an error string for bad input.</summary>
public abstract class SctpChunk
{
    public abstract SctpChunkType Type { get; }
    public virtual byte Flags => 0;
    /// <summary>Length of the value (without the 4-byte header and padding).</summary>
    public abstract int ValueLength { get; }
    protected abstract void WriteValue(Span<byte> value);

    /// <summary>Bytes this chunk takes in a packet, padding included.</summary>
    public int PaddedLength => (4 + ValueLength + 3) & ~3;

    /// <summary>Writes header, value and zero padding; returns the padded length.</summary>
    public int WriteTo(Span<byte> destination)
    {
        var length = 4 + ValueLength;
        destination[0] = (byte)Type;
        destination[1] = Flags;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)length);
        WriteValue(destination.Slice(4, ValueLength));
        var padded = PaddedLength;
        destination[length..padded].Clear();
        return padded;
    }

    public byte[] ToArray()
    {
        var bytes = new byte[PaddedLength];
        WriteTo(bytes);
        return bytes;
    }

    public static UnknownChunkAction ActionFor(SctpChunkType type) => (UnknownChunkAction)((byte)type >> 6);

    public static bool TryParse(in SctpRawChunk raw, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        var v = raw.Value;
        switch (raw.Type)
        {
            case SctpChunkType.Data: return DataChunk.TryParse(raw.Flags, v, out chunk, out error);
            case SctpChunkType.Init:
            case SctpChunkType.InitAck: return InitChunk.TryParse(raw.Type == SctpChunkType.InitAck, v, out chunk, out error);
            case SctpChunkType.Sack: return SackChunk.TryParse(v, out chunk, out error);
            case SctpChunkType.Heartbeat:
            case SctpChunkType.HeartbeatAck: return HeartbeatChunk.TryParse(raw.Type == SctpChunkType.HeartbeatAck, v, out chunk, out error);
            case SctpChunkType.Abort:
            case SctpChunkType.Error: return ErrorCausesChunk.TryParse(raw.Type, raw.Flags, v, out chunk, out error);
            case SctpChunkType.Shutdown:
                if (v.Length < 4) { error = "SHUTDOWN shorter than 4"; return false; }
                chunk = new ShutdownChunk(BinaryPrimitives.ReadUInt32BigEndian(v));
                error = null; return true;
            case SctpChunkType.ShutdownAck:
            case SctpChunkType.CookieAck:
            case SctpChunkType.ShutdownComplete:
                chunk = new EmptyChunk(raw.Type, (raw.Flags & 1) != 0);
                error = null; return true;
            case SctpChunkType.CookieEcho:
                if (v.IsEmpty) { error = "empty COOKIE-ECHO"; return false; }
                chunk = new CookieEchoChunk(v.ToArray());
                error = null; return true;
            case SctpChunkType.ForwardTsn: return ForwardTsnChunk.TryParse(v, out chunk, out error);
            case SctpChunkType.ReConfig: return ReConfigChunk.TryParse(v, out chunk, out error);
            default:
                chunk = new UnknownChunk(raw.Type, raw.Flags, v.ToArray());
                error = null; return true;
        }
    }
}

/// <summary>A TLV parameter inside INIT, INIT-ACK, HEARTBEAT and RE-CONFIG (RFC 9260 §3.2.1), kept as bytes.</summary>
public readonly record struct SctpParameter(ushort Type, byte[] Value)
{
    public int PaddedLength => (4 + Value.Length + 3) & ~3;

    public int WriteTo(Span<byte> d)
    {
        BinaryPrimitives.WriteUInt16BigEndian(d, Type);
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)(4 + Value.Length));
        Value.CopyTo(d[4..]);
        d[(4 + Value.Length)..PaddedLength].Clear();
        return PaddedLength;
    }

    /// <summary>Splits a parameter list; the last parameter's padding may be absent.</summary>
    public static bool TryParseList(ReadOnlySpan<byte> s, List<SctpParameter> into, out string? error)
    {
        while (!s.IsEmpty)
        {
            if (s.Length < 4) { error = "trailing bytes shorter than a parameter header"; return false; }
            var length = BinaryPrimitives.ReadUInt16BigEndian(s[2..]);
            if (length < 4 || length > s.Length) { error = $"parameter length {length} outside 4..{s.Length}"; return false; }
            into.Add(new SctpParameter(BinaryPrimitives.ReadUInt16BigEndian(s), s[4..length].ToArray()));
            var padded = (length + 3) & ~3;
            s = padded >= s.Length ? default : s[padded..];
        }
        error = null;
        return true;
    }
}

/// <summary>DATA (RFC 9260 §3.3.1).</summary>
public sealed class DataChunk(uint tsn, ushort streamId, ushort ssn, uint ppid, ReadOnlyMemory<byte> userData,
    bool beginning, bool ending, bool unordered, bool immediate = false) : SctpChunk
{
    public const int HeaderLength = 16;
    public uint Tsn { get; } = tsn;
    public ushort StreamId { get; } = streamId;
    public ushort Ssn { get; } = ssn;
    public uint Ppid { get; } = ppid;
    public ReadOnlyMemory<byte> UserData { get; } = userData;
    public bool Beginning { get; } = beginning;
    public bool Ending { get; } = ending;
    public bool Unordered { get; } = unordered;
    public bool Immediate { get; } = immediate;

    public override SctpChunkType Type => SctpChunkType.Data;
    public override byte Flags => (byte)((Ending ? 1 : 0) | (Beginning ? 2 : 0) | (Unordered ? 4 : 0) | (Immediate ? 8 : 0));
    public override int ValueLength => 12 + UserData.Length;

    protected override void WriteValue(Span<byte> v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(v, Tsn);
        BinaryPrimitives.WriteUInt16BigEndian(v[4..], StreamId);
        BinaryPrimitives.WriteUInt16BigEndian(v[6..], Ssn);
        BinaryPrimitives.WriteUInt32BigEndian(v[8..], Ppid);
        UserData.Span.CopyTo(v[12..]);
    }

    internal static bool TryParse(byte flags, ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        if (v.Length < 12) { error = "DATA shorter than 12"; return false; }
        if (v.Length == 12) { error = "DATA without user data"; return false; }
        chunk = new DataChunk(BinaryPrimitives.ReadUInt32BigEndian(v), BinaryPrimitives.ReadUInt16BigEndian(v[4..]),
            BinaryPrimitives.ReadUInt16BigEndian(v[6..]), BinaryPrimitives.ReadUInt32BigEndian(v[8..]), v[12..].ToArray(),
            (flags & 2) != 0, (flags & 1) != 0, (flags & 4) != 0, (flags & 8) != 0);
        error = null;
        return true;
    }
}

/// <summary>INIT and INIT-ACK (RFC 9260 §3.3.2/3.3.3); AUTH parameters (Random, HMAC, chunk list) land in <see cref="OtherParameters"/>.</summary>
public sealed class InitChunk : SctpChunk
{
    public const ushort StateCookieParam = 7, UnrecognizedParam = 8, SupportedExtensionsParam = 0x8008, ForwardTsnSupportedParam = 0xC000;

    public bool IsAck { get; init; }
    public uint InitiateTag { get; init; }
    public uint AdvertisedReceiverWindow { get; init; }
    public ushort OutboundStreams { get; init; }
    public ushort InboundStreams { get; init; }
    public uint InitialTsn { get; init; }
    public byte[]? StateCookie { get; init; }
    public bool ForwardTsnSupported { get; init; }
    /// <summary>Chunk types of the Supported Extensions parameter (RFC 5061 §4.2.7), or null when absent.</summary>
    public byte[]? SupportedExtensions { get; init; }
    public IReadOnlyList<SctpParameter> OtherParameters { get; init; } = [];

    public override SctpChunkType Type => IsAck ? SctpChunkType.InitAck : SctpChunkType.Init;

    private IEnumerable<SctpParameter> Parameters()
    {
        if (StateCookie is not null) yield return new SctpParameter(StateCookieParam, StateCookie);
        if (SupportedExtensions is not null) yield return new SctpParameter(SupportedExtensionsParam, SupportedExtensions);
        if (ForwardTsnSupported) yield return new SctpParameter(ForwardTsnSupportedParam, []);
        foreach (var p in OtherParameters) yield return p;
    }

    public override int ValueLength
    {
        get
        {
            var n = 16;
            foreach (var p in Parameters()) n += p.PaddedLength;
            return n - LastPadding();
        }
    }

    private int LastPadding()
    {
        var last = -1;
        foreach (var p in Parameters()) last = p.Value.Length;
        return last < 0 ? 0 : ((4 + last + 3) & ~3) - (4 + last);
    }

    protected override void WriteValue(Span<byte> v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(v, InitiateTag);
        BinaryPrimitives.WriteUInt32BigEndian(v[4..], AdvertisedReceiverWindow);
        BinaryPrimitives.WriteUInt16BigEndian(v[8..], OutboundStreams);
        BinaryPrimitives.WriteUInt16BigEndian(v[10..], InboundStreams);
        BinaryPrimitives.WriteUInt32BigEndian(v[12..], InitialTsn);
        var offset = 16;
        foreach (var p in Parameters())
        {
            var need = p.PaddedLength;
            if (offset + need <= v.Length) offset += p.WriteTo(v[offset..]);
            else
            {
                // last parameter: written without its padding (the chunk's padding follows it)
                BinaryPrimitives.WriteUInt16BigEndian(v[offset..], p.Type);
                BinaryPrimitives.WriteUInt16BigEndian(v[(offset + 2)..], (ushort)(4 + p.Value.Length));
                p.Value.CopyTo(v[(offset + 4)..]);
                offset += 4 + p.Value.Length;
            }
        }
    }

    internal static bool TryParse(bool ack, ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        if (v.Length < 16) { error = "INIT shorter than 16"; return false; }
        var tag = BinaryPrimitives.ReadUInt32BigEndian(v);
        var os = BinaryPrimitives.ReadUInt16BigEndian(v[8..]);
        var mis = BinaryPrimitives.ReadUInt16BigEndian(v[10..]);
        if (tag == 0) { error = "INIT with initiate tag 0"; return false; }
        if (os == 0 || mis == 0) { error = "INIT with zero streams"; return false; }
        var list = new List<SctpParameter>();
        if (!SctpParameter.TryParseList(v[16..], list, out error)) return false;
        byte[]? cookie = null, extensions = null;
        var forward = false;
        var other = new List<SctpParameter>();
        foreach (var p in list)
        {
            switch (p.Type)
            {
                case StateCookieParam: cookie = p.Value; break;
                case SupportedExtensionsParam: extensions = p.Value; break;
                case ForwardTsnSupportedParam: forward = true; break;
                default: other.Add(p); break;
            }
        }
        if (ack && cookie is null) { error = "INIT-ACK without state cookie"; return false; }
        chunk = new InitChunk
        {
            IsAck = ack, InitiateTag = tag, AdvertisedReceiverWindow = BinaryPrimitives.ReadUInt32BigEndian(v[4..]),
            OutboundStreams = os, InboundStreams = mis, InitialTsn = BinaryPrimitives.ReadUInt32BigEndian(v[12..]),
            StateCookie = cookie, SupportedExtensions = extensions, ForwardTsnSupported = forward, OtherParameters = other,
        };
        return true;
    }
}

/// <summary>SACK (RFC 9260 §3.3.4): gap ack blocks are offsets from the cumulative TSN ack.</summary>
public sealed class SackChunk(uint cumulativeTsnAck, uint advertisedReceiverWindow,
    IReadOnlyList<(ushort Start, ushort End)> gapBlocks, IReadOnlyList<uint> duplicateTsns) : SctpChunk
{
    public uint CumulativeTsnAck { get; } = cumulativeTsnAck;
    public uint AdvertisedReceiverWindow { get; } = advertisedReceiverWindow;
    public IReadOnlyList<(ushort Start, ushort End)> GapBlocks { get; } = gapBlocks;
    public IReadOnlyList<uint> DuplicateTsns { get; } = duplicateTsns;

    public override SctpChunkType Type => SctpChunkType.Sack;
    public override int ValueLength => 12 + 4 * GapBlocks.Count + 4 * DuplicateTsns.Count;

    protected override void WriteValue(Span<byte> v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(v, CumulativeTsnAck);
        BinaryPrimitives.WriteUInt32BigEndian(v[4..], AdvertisedReceiverWindow);
        BinaryPrimitives.WriteUInt16BigEndian(v[8..], (ushort)GapBlocks.Count);
        BinaryPrimitives.WriteUInt16BigEndian(v[10..], (ushort)DuplicateTsns.Count);
        var o = 12;
        foreach (var (s, e) in GapBlocks)
        {
            BinaryPrimitives.WriteUInt16BigEndian(v[o..], s);
            BinaryPrimitives.WriteUInt16BigEndian(v[(o + 2)..], e);
            o += 4;
        }
        foreach (var d in DuplicateTsns) { BinaryPrimitives.WriteUInt32BigEndian(v[o..], d); o += 4; }
    }

    internal static bool TryParse(ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        if (v.Length < 12) { error = "SACK shorter than 12"; return false; }
        int gaps = BinaryPrimitives.ReadUInt16BigEndian(v[8..]), dups = BinaryPrimitives.ReadUInt16BigEndian(v[10..]);
        if (v.Length < 12 + 4 * (gaps + dups)) { error = "SACK shorter than its gap and duplicate lists"; return false; }
        var blocks = new (ushort, ushort)[gaps];
        var o = 12;
        for (var i = 0; i < gaps; i++, o += 4)
        {
            blocks[i] = (BinaryPrimitives.ReadUInt16BigEndian(v[o..]), BinaryPrimitives.ReadUInt16BigEndian(v[(o + 2)..]));
            if (blocks[i].Item1 == 0 || blocks[i].Item2 < blocks[i].Item1) { error = "SACK gap block with start 0 or end < start"; return false; }
        }
        var dupList = new uint[dups];
        for (var i = 0; i < dups; i++, o += 4) dupList[i] = BinaryPrimitives.ReadUInt32BigEndian(v[o..]);
        chunk = new SackChunk(BinaryPrimitives.ReadUInt32BigEndian(v), BinaryPrimitives.ReadUInt32BigEndian(v[4..]), blocks, dupList);
        error = null;
        return true;
    }
}

/// <summary>HEARTBEAT and HEARTBEAT-ACK (RFC 9260 §3.3.5/3.3.6): one Heartbeat Info parameter, echoed verbatim.</summary>
public sealed class HeartbeatChunk(bool isAck, byte[] info) : SctpChunk
{
    public const ushort InfoParam = 1;
    public bool IsAck { get; } = isAck;
    public byte[] Info { get; } = info;
    public override SctpChunkType Type => IsAck ? SctpChunkType.HeartbeatAck : SctpChunkType.Heartbeat;
    public override int ValueLength => 4 + Info.Length;

    protected override void WriteValue(Span<byte> v)
    {
        BinaryPrimitives.WriteUInt16BigEndian(v, InfoParam);
        BinaryPrimitives.WriteUInt16BigEndian(v[2..], (ushort)(4 + Info.Length));
        Info.CopyTo(v[4..]);
    }

    internal static bool TryParse(bool ack, ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        var list = new List<SctpParameter>();
        if (!SctpParameter.TryParseList(v, list, out error)) return false;
        foreach (var p in list)
        {
            if (p.Type != InfoParam) continue;
            chunk = new HeartbeatChunk(ack, p.Value);
            return true;
        }
        error = "HEARTBEAT without Heartbeat Info";
        return false;
    }
}

/// <summary>An error cause (RFC 9260 §3.3.10).</summary>
public readonly record struct SctpErrorCause(ushort Code, byte[] Info)
{
    public const ushort InvalidStreamIdentifier = 1, MissingMandatoryParameter = 2, StaleCookie = 3, OutOfResource = 4,
        UnresolvableAddress = 5, UnrecognizedChunkType = 6, InvalidMandatoryParameter = 7, UnrecognizedParameters = 8,
        NoUserData = 9, CookieWhileShuttingDown = 10, RestartWithNewAddresses = 11, UserInitiatedAbort = 12, ProtocolViolation = 13;

    public override string ToString() => Code switch
    {
        UserInitiatedAbort => "user-initiated abort" + (Info.Length > 0 ? ": " + System.Text.Encoding.UTF8.GetString(Info) : ""),
        ProtocolViolation => "protocol violation" + (Info.Length > 0 ? ": " + System.Text.Encoding.UTF8.GetString(Info) : ""),
        _ => $"cause {Code}",
    };
}

/// <summary>ABORT (T flag = the tag is the sender's own) and ERROR: a list of causes.</summary>
public sealed class ErrorCausesChunk(SctpChunkType type, IReadOnlyList<SctpErrorCause> causes, bool reflectedTag = false) : SctpChunk
{
    public IReadOnlyList<SctpErrorCause> Causes { get; } = causes;
    public bool ReflectedTag { get; } = reflectedTag;
    public override SctpChunkType Type { get; } = type;
    public override byte Flags => (byte)(ReflectedTag ? 1 : 0);

    public override int ValueLength
    {
        get
        {
            var n = 0;
            for (var i = 0; i < Causes.Count; i++) n += i == Causes.Count - 1 ? 4 + Causes[i].Info.Length : (4 + Causes[i].Info.Length + 3) & ~3;
            return n;
        }
    }

    protected override void WriteValue(Span<byte> v)
    {
        var o = 0;
        for (var i = 0; i < Causes.Count; i++)
        {
            var c = Causes[i];
            BinaryPrimitives.WriteUInt16BigEndian(v[o..], c.Code);
            BinaryPrimitives.WriteUInt16BigEndian(v[(o + 2)..], (ushort)(4 + c.Info.Length));
            c.Info.CopyTo(v[(o + 4)..]);
            var len = 4 + c.Info.Length;
            var padded = i == Causes.Count - 1 ? len : (len + 3) & ~3;
            v[(o + len)..(o + padded)].Clear();
            o += padded;
        }
    }

    internal static bool TryParse(SctpChunkType type, byte flags, ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        var list = new List<SctpParameter>();
        if (!SctpParameter.TryParseList(v, list, out error)) return false;
        var causes = new SctpErrorCause[list.Count];
        for (var i = 0; i < list.Count; i++) causes[i] = new SctpErrorCause(list[i].Type, list[i].Value);
        chunk = new ErrorCausesChunk(type, causes, type == SctpChunkType.Abort && (flags & 1) != 0);
        return true;
    }
}

/// <summary>SHUTDOWN (RFC 9260 §3.3.8).</summary>
public sealed class ShutdownChunk(uint cumulativeTsnAck) : SctpChunk
{
    public uint CumulativeTsnAck { get; } = cumulativeTsnAck;
    public override SctpChunkType Type => SctpChunkType.Shutdown;
    public override int ValueLength => 4;
    protected override void WriteValue(Span<byte> v) => BinaryPrimitives.WriteUInt32BigEndian(v, CumulativeTsnAck);
}

/// <summary>SHUTDOWN-ACK, COOKIE-ACK, SHUTDOWN-COMPLETE (T flag only on the last).</summary>
public sealed class EmptyChunk(SctpChunkType type, bool reflectedTag = false) : SctpChunk
{
    public override SctpChunkType Type { get; } = type;
    public bool ReflectedTag { get; } = reflectedTag;
    public override byte Flags => (byte)(ReflectedTag ? 1 : 0);
    public override int ValueLength => 0;
    protected override void WriteValue(Span<byte> v) { }
}

/// <summary>COOKIE-ECHO (RFC 9260 §3.3.11).</summary>
public sealed class CookieEchoChunk(byte[] cookie) : SctpChunk
{
    public byte[] Cookie { get; } = cookie;
    public override SctpChunkType Type => SctpChunkType.CookieEcho;
    public override int ValueLength => Cookie.Length;
    protected override void WriteValue(Span<byte> v) => Cookie.CopyTo(v);
}

/// <summary>FORWARD-TSN (RFC 3758 §3.2).</summary>
public sealed class ForwardTsnChunk(uint newCumulativeTsn, IReadOnlyList<(ushort StreamId, ushort Ssn)> streams) : SctpChunk
{
    public uint NewCumulativeTsn { get; } = newCumulativeTsn;
    public IReadOnlyList<(ushort StreamId, ushort Ssn)> Streams { get; } = streams;
    public override SctpChunkType Type => SctpChunkType.ForwardTsn;
    public override int ValueLength => 4 + 4 * Streams.Count;

    protected override void WriteValue(Span<byte> v)
    {
        BinaryPrimitives.WriteUInt32BigEndian(v, NewCumulativeTsn);
        for (var i = 0; i < Streams.Count; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(v[(4 + 4 * i)..], Streams[i].StreamId);
            BinaryPrimitives.WriteUInt16BigEndian(v[(6 + 4 * i)..], Streams[i].Ssn);
        }
    }

    internal static bool TryParse(ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        if (v.Length < 4 || (v.Length - 4) % 4 != 0) { error = "FORWARD-TSN length not 4 + 4n"; return false; }
        var streams = new (ushort, ushort)[(v.Length - 4) / 4];
        for (var i = 0; i < streams.Length; i++)
            streams[i] = (BinaryPrimitives.ReadUInt16BigEndian(v[(4 + 4 * i)..]), BinaryPrimitives.ReadUInt16BigEndian(v[(6 + 4 * i)..]));
        chunk = new ForwardTsnChunk(BinaryPrimitives.ReadUInt32BigEndian(v), streams);
        error = null;
        return true;
    }
}

/// <summary>Unknown chunk type, kept so the association can act on its upper two bits.</summary>
public sealed class UnknownChunk(SctpChunkType type, byte flags, byte[] value) : SctpChunk
{
    public override SctpChunkType Type { get; } = type;
    public override byte Flags { get; } = flags;
    public byte[] Value { get; } = value;
    public override int ValueLength => Value.Length;
    protected override void WriteValue(Span<byte> v) => Value.CopyTo(v);
}
