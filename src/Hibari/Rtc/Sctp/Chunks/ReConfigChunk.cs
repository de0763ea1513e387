using System.Buffers.Binary;

namespace Hibari.Rtc.Sctp.Chunks;

/// <summary>Result field of a Re-configuration Response (RFC 6525 §4.4).</summary>
public enum ReconfigResult : uint
{
    SuccessNothingToDo = 0, SuccessPerformed = 1, Denied = 2, ErrorWrongSsn = 3, ErrorRequestAlreadyInProgress = 4,
    ErrorBadSequenceNumber = 5, InProgress = 6,
}

public abstract record ReconfigParameter
{
    public const ushort OutgoingResetType = 13, IncomingResetType = 14, ResponseType = 16;
    internal abstract SctpParameter ToParameter();
}

/// <summary>Outgoing SSN Reset Request (RFC 6525 §4.1); an empty stream list means all streams.</summary>
public sealed record OutgoingResetRequest(uint RequestSequence, uint ResponseSequence, uint SendersLastAssignedTsn, ushort[] Streams) : ReconfigParameter
{
    internal override SctpParameter ToParameter()
    {
        var b = new byte[12 + 2 * Streams.Length];
        BinaryPrimitives.WriteUInt32BigEndian(b, RequestSequence);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), ResponseSequence);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), SendersLastAssignedTsn);
        for (var i = 0; i < Streams.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(12 + 2 * i), Streams[i]);
        return new SctpParameter(OutgoingResetType, b);
    }
}

/// <summary>Incoming SSN Reset Request (RFC 6525 §4.2).</summary>
public sealed record IncomingResetRequest(uint RequestSequence, ushort[] Streams) : ReconfigParameter
{
    internal override SctpParameter ToParameter()
    {
        var b = new byte[4 + 2 * Streams.Length];
        BinaryPrimitives.WriteUInt32BigEndian(b, RequestSequence);
        for (var i = 0; i < Streams.Length; i++) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4 + 2 * i), Streams[i]);
        return new SctpParameter(IncomingResetType, b);
    }
}

/// <summary>Re-configuration Response (RFC 6525 §4.4).</summary>
public sealed record ReconfigResponse(uint ResponseSequence, ReconfigResult Result, uint? SendersNextTsn = null, uint? ReceiversNextTsn = null) : ReconfigParameter
{
    internal override SctpParameter ToParameter()
    {
        var b = new byte[SendersNextTsn is null ? 8 : 16];
        BinaryPrimitives.WriteUInt32BigEndian(b, ResponseSequence);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(4), (uint)Result);
        if (SendersNextTsn is { } s)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(8), s);
            BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(12), ReceiversNextTsn ?? 0);
        }
        return new SctpParameter(ResponseType, b);
    }
}

/// <summary>Any other RE-CONFIG parameter (add streams, SSN/TSN reset), kept as bytes and answered "denied".</summary>
public sealed record UnknownReconfigParameter(ushort Type, byte[] Value) : ReconfigParameter
{
    internal override SctpParameter ToParameter() => new(Type, Value);
}

/// <summary>RE-CONFIG (RFC 6525 §3.1): one or two parameters.</summary>
public sealed class ReConfigChunk : SctpChunk
{
    private readonly SctpParameter[] _raw;

    public ReConfigChunk(IReadOnlyList<ReconfigParameter> parameters)
    {
        Parameters = parameters;
        _raw = new SctpParameter[parameters.Count];
        for (var i = 0; i < _raw.Length; i++) _raw[i] = parameters[i].ToParameter();
    }

    public IReadOnlyList<ReconfigParameter> Parameters { get; }
    public override SctpChunkType Type => SctpChunkType.ReConfig;

    public override int ValueLength
    {
        get
        {
            var n = 0;
            for (var i = 0; i < _raw.Length; i++) n += i == _raw.Length - 1 ? 4 + _raw[i].Value.Length : _raw[i].PaddedLength;
            return n;
        }
    }

    protected override void WriteValue(Span<byte> v)
    {
        var o = 0;
        for (var i = 0; i < _raw.Length; i++)
        {
            if (i < _raw.Length - 1) o += _raw[i].WriteTo(v[o..]);
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(v[o..], _raw[i].Type);
                BinaryPrimitives.WriteUInt16BigEndian(v[(o + 2)..], (ushort)(4 + _raw[i].Value.Length));
                _raw[i].Value.CopyTo(v[(o + 4)..]);
            }
        }
    }

    internal static bool TryParse(ReadOnlySpan<byte> v, out SctpChunk? chunk, out string? error)
    {
        chunk = null;
        var list = new List<SctpParameter>();
        if (!SctpParameter.TryParseList(v, list, out error)) return false;
        if (list.Count is 0 or > 2) { error = "RE-CONFIG needs one or two parameters"; return false; }
        var result = new ReconfigParameter[list.Count];
        for (var i = 0; i < list.Count; i++)
        {
            var b = list[i].Value;
            switch (list[i].Type)
            {
                case ReconfigParameter.OutgoingResetType:
                    if (b.Length < 12 || b.Length % 2 != 0) { error = "bad Outgoing SSN Reset Request length"; return false; }
                    result[i] = new OutgoingResetRequest(BinaryPrimitives.ReadUInt32BigEndian(b), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4)),
                        BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(8)), ReadStreams(b.AsSpan(12)));
                    break;
                case ReconfigParameter.IncomingResetType:
                    if (b.Length < 4 || b.Length % 2 != 0) { error = "bad Incoming SSN Reset Request length"; return false; }
                    result[i] = new IncomingResetRequest(BinaryPrimitives.ReadUInt32BigEndian(b), ReadStreams(b.AsSpan(4)));
                    break;
                case ReconfigParameter.ResponseType:
                    if (b.Length != 8 && b.Length != 16) { error = "bad Re-configuration Response length"; return false; }
                    result[i] = b.Length == 8
                        ? new ReconfigResponse(BinaryPrimitives.ReadUInt32BigEndian(b), (ReconfigResult)BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4)))
                        : new ReconfigResponse(BinaryPrimitives.ReadUInt32BigEndian(b), (ReconfigResult)BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4)),
                            BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(12)));
                    break;
                default:
                    result[i] = new UnknownReconfigParameter(list[i].Type, b);
                    break;
            }
        }
        chunk = new ReConfigChunk(result);
        return true;
    }

    private static ushort[] ReadStreams(ReadOnlySpan<byte> s)
    {
        var r = new ushort[s.Length / 2];
        for (var i = 0; i < r.Length; i++) r[i] = BinaryPrimitives.ReadUInt16BigEndian(s[(2 * i)..]);
        return r;
    }
}
