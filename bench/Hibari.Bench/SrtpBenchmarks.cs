using BenchmarkDotNet.Attributes;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;

namespace Hibari.Bench;

/// <summary>
/// SrtpContext.ProtectRtp per packet, in place on one buffer (as PeerTransport.SendRtp does on the subscriber's
/// scratch buffer). Every call uses the next sequence number, so the index advances as in a real stream; the payload
/// is re-encrypted ciphertext, which costs the same as plaintext.
/// </summary>
[MemoryDiagnoser]
public class SrtpProtectRtp
{
    private SrtpContext _send = null!;
    private byte[] _buffer = null!;
    private ushort _seq;

    [Params(SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80)]
    public SrtpProfile Profile { get; set; }

    [Params(1200, 160)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = new byte[Size + 16];
        Packets.Write(_buffer, Size, 1, 90_000);
        _seq = 1;
        _send = Packets.NewContext(Profile);

        // Sanity: what this context protects, a fresh receiver accepts and decrypts back to the plaintext.
        using var check = Packets.NewContext(Profile);
        using var receive = Packets.NewContext(Profile);
        var copy = (byte[])_buffer.Clone();
        Packets.Ok(check.ProtectRtp(copy, Size, out var protectedLength), "protect");
        if (protectedLength != Size + check.RtpOverhead) throw new InvalidOperationException("protected length");
        Packets.Ok(receive.UnprotectRtp(copy.AsSpan(0, protectedLength), out var plain), "unprotect");
        if (plain != Size || !copy.AsSpan(0, Size).SequenceEqual(_buffer.AsSpan(0, Size)))
            throw new InvalidOperationException("round trip differs");
    }

    [GlobalCleanup]
    public void Cleanup() => _send.Dispose();

    [Benchmark]
    public int Protect()
    {
        RtpHeader.SetSequenceNumber(_buffer, ++_seq);
        _send.ProtectRtp(_buffer, Size, out var protectedLength);
        return protectedLength;
    }
}

/// <summary>
/// SrtpContext.UnprotectRtp per packet, on valid, distinct packets: a ring of <see cref="Ring"/> packets with
/// increasing sequence numbers is protected once; every iteration starts from a pristine copy of the ring and a fresh
/// receiving context (IterationSetup, not measured) and unprotects the ring in order, in place. The iteration cleanup
/// throws unless every unprotect of the iteration returned Ok, so only successful unprotects are measured.
/// </summary>
/// <remarks>
/// Invocation count 1 with OperationsPerInvoke = Ring (IterationSetup requires it): one invocation is Ring packets,
/// a few milliseconds. Iteration counts are set here (they override <c>--job short</c>) because an iteration is short.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1, 1)]
[WarmupCount(5)]
[IterationCount(30)]
public class SrtpUnprotectRtp
{
    public const int Ring = 4096;

    private byte[] _pristine = null!;
    private byte[] _work = null!;
    private int _stride;
    private int _protectedLength;
    private SrtpContext? _receive;
    private int _ok;

    [Params(SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80)]
    public SrtpProfile Profile { get; set; }

    [Params(1200, 160)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _stride = Size + 16;
        _pristine = new byte[Ring * _stride];
        _work = new byte[_pristine.Length];
        var plain = new byte[_pristine.Length];
        using var send = Packets.NewContext(Profile);
        for (var i = 0; i < Ring; i++)
        {
            var slot = _pristine.AsSpan(i * _stride, _stride);
            Packets.Write(slot, Size, (ushort)(100 + i), 90_000u + 3000u * (uint)i);
            slot.CopyTo(plain.AsSpan(i * _stride, _stride));
            Packets.Ok(send.ProtectRtp(slot, Size, out _protectedLength), "protect");
        }

        // Sanity: the whole ring unprotects Ok with a fresh receiver and gives back the plaintext.
        IterationSetup();
        if (Run() != Ring) throw new InvalidOperationException($"only {_ok} of {Ring} unprotects were Ok");
        for (var i = 0; i < Ring; i++)
            if (!_work.AsSpan(i * _stride, Size).SequenceEqual(plain.AsSpan(i * _stride, Size)))
                throw new InvalidOperationException($"packet {i} did not decrypt to its plaintext");
        // And a repeat is refused by the replay window (why the ring and the fresh context are needed).
        var last = (Ring - 1) * _stride;
        _pristine.AsSpan(last, _stride).CopyTo(_work.AsSpan(last));
        if (_receive!.UnprotectRtp(_work.AsSpan(last, _protectedLength), out _) != SrtpResult.Replayed)
            throw new InvalidOperationException("a replayed packet was not refused");
        _receive.Dispose();
        _receive = null;
    }

    [IterationSetup]
    public void IterationSetup()
    {
        _receive?.Dispose();
        _receive = Packets.NewContext(Profile);
        _pristine.CopyTo(_work, 0);
        _ok = 0;
    }

    [IterationCleanup]
    public void IterationCleanup()
    {
        if (_ok != Ring) throw new InvalidOperationException($"only {_ok} of {Ring} unprotects were Ok");
    }

    [Benchmark(OperationsPerInvoke = Ring)]
    public int Unprotect() => Run();

    private int Run()
    {
        var receive = _receive!;
        var work = _work;
        var ok = 0;
        for (var i = 0; i < Ring; i++)
        {
            if (receive.UnprotectRtp(work.AsSpan(i * _stride, _protectedLength), out _) == SrtpResult.Ok) ok++;
        }
        _ok = ok;
        return ok;
    }
}

/// <summary>
/// SrtpContext.ProtectRtcp of a 100-byte compound (SR with one report block, 52 bytes, + SDES CNAME, 48 bytes), in
/// place; the SRTCP index advances every call.
/// </summary>
[MemoryDiagnoser]
public class SrtpProtectRtcp
{
    public const int Size = 100;
    private SrtpContext _send = null!;
    private byte[] _buffer = null!;

    [Params(SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80)]
    public SrtpProfile Profile { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = new byte[Size + 32];
        WriteCompound(_buffer);
        _send = Packets.NewContext(Profile);
        using var check = Packets.NewContext(Profile);
        using var receive = Packets.NewContext(Profile);
        var copy = (byte[])_buffer.Clone();
        Packets.Ok(check.ProtectRtcp(copy, Size, out var protectedLength), "protect rtcp");
        Packets.Ok(receive.UnprotectRtcp(copy.AsSpan(0, protectedLength), out var plain), "unprotect rtcp");
        if (plain != Size || !copy.AsSpan(0, Size).SequenceEqual(_buffer.AsSpan(0, Size)))
            throw new InvalidOperationException("rtcp round trip differs");
    }

    [GlobalCleanup]
    public void Cleanup() => _send.Dispose();

    [Benchmark]
    public int Protect()
    {
        _send.ProtectRtcp(_buffer, Size, out var protectedLength);
        return protectedLength;
    }

    /// <summary>SR (RFC 3550 §6.4.1) with one report block, then SDES with one CNAME chunk (§6.5), 100 bytes.</summary>
    private static void WriteCompound(Span<byte> b)
    {
        // SR: V=2, RC=1, PT=200, length = 52/4 - 1 = 12.
        b[0] = 0x81; b[1] = 200; b[2] = 0; b[3] = 12;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b[4..], Packets.Ssrc);
        for (var i = 8; i < 52; i++) b[i] = (byte)i; // NTP, RTP ts, counts, one report block (values irrelevant)
        // SDES: V=2, SC=1, PT=202, length = 48/4 - 1 = 11; chunk: SSRC, CNAME(1) len 37, END, no padding needed.
        var s = b[52..];
        s[0] = 0x81; s[1] = 202; s[2] = 0; s[3] = 11;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(s[4..], Packets.Ssrc);
        s[8] = 1; s[9] = 37;
        for (var i = 0; i < 37; i++) s[10 + i] = (byte)('a' + i % 26);
        s[47] = 0;
    }
}
