using BenchmarkDotNet.Attributes;
using Hibari.Rtc.Rtp;

namespace Hibari.Bench;

/// <summary>
/// The forwarding rewrite of Sfu.Subscription.Forward without crypto and without the socket: TryParse of the incoming
/// packet, copy into the subscriber's scratch buffer, SetSsrc/SetSequenceNumber/SetTimestamp, RemapExtensionIds with
/// the forwarded-extension map, RtpPacketCache.Store (1024 slots, as for video). Subscription and SfuCodecs are
/// internal, so the sequence of calls is reproduced here with the public Rtc.Rtp API (same calls, same order).
/// </summary>
[MemoryDiagnoser]
public class ForwardRewrite
{
    /// <summary>Copy of the internal Sfu.SfuCodecs.ForwardedExtensionMap: mid/rid/repaired-rid blanked, others kept.</summary>
    private static readonly byte[] ForwardedExtensionMap = [0, 0, 0, 0, 4, 5, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    private byte[] _incoming = null!;
    private byte[] _scratch = null!;
    private RtpPacketCache _cache = null!;
    private int _length;
    private ushort _seq;
    private uint _ts;
    private const uint OutSsrc = 0xCAFE_F00D;
    private const ushort SeqOffset = 12345;
    private const uint TsOffset = 0x7654_3210;

    [Params(1200, 160)]
    public int Size { get; set; }

    /// <summary>False: the packet of docs/protocol-notes.md, "SRTP implementation and cost" (abs-send-time only, nothing blanked); true: mid + abs-send-time (mid blanked).</summary>
    [Params(false, true)]
    public bool WithMid { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _incoming = new byte[1500];
        _scratch = new byte[1500];
        _length = Packets.Write(_incoming, Size, 1, 90_000, WithMid);
        _cache = new RtpPacketCache(1024);
        _seq = 1;
        _ts = 90_000;

        // Sanity: one forward rewrites as Subscription.Forward does and the cache gives the packet back.
        if (Forward() != _length) throw new InvalidOperationException("forward failed");
        if (!RtpHeader.TryParse(_scratch.AsSpan(0, _length), out var h) || h.Ssrc != OutSsrc
            || h.SequenceNumber != (ushort)(_seq + SeqOffset) || h.Timestamp != _ts + TsOffset)
            throw new InvalidOperationException("rewrite wrong");
        if (RtpHeaderExtensions.TryFind(_scratch.AsSpan(0, _length), h, Packets.MidId, out _))
            throw new InvalidOperationException("mid not blanked");
        if (!RtpHeaderExtensions.TryFind(_scratch.AsSpan(0, _length), h, Packets.AbsSendTimeId, out _))
            throw new InvalidOperationException("abs-send-time lost");
        if (!_cache.TryGet(h.SequenceNumber, out var cached) || !cached.SequenceEqual(_scratch.AsSpan(0, _length)))
            throw new InvalidOperationException("cache miss");
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark]
    public int Forward()
    {
        // The next incoming packet of the publisher (what the receive path would hand over).
        RtpHeader.SetSequenceNumber(_incoming, ++_seq);
        RtpHeader.SetTimestamp(_incoming, _ts += 3000);

        ReadOnlySpan<byte> packet = _incoming.AsSpan(0, _length);
        if (!RtpHeader.TryParse(packet, out var header)) return -1;
        var outSeq = (ushort)(header.SequenceNumber + SeqOffset);
        var outTs = header.Timestamp + TsOffset;
        // As Subscription.Emit: the copy with the extension block rebuilt (MID/RID dropped, a transport-wide number added).
        var length = RtpHeaderExtensions.CopyForwarded(packet, header, ForwardedExtensionMap, 6, _seq, _scratch, out _);
        var span = _scratch.AsSpan(0, length);
        RtpHeader.SetSsrc(span, OutSsrc);
        RtpHeader.SetSequenceNumber(span, outSeq);
        RtpHeader.SetTimestamp(span, outTs);
        _cache.Store(outSeq, span);
        return span.Length;
    }
}
