using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;

namespace Hibari.Bench;

/// <summary>
/// The two AES-GCM paths of SrtpContext as two jobs: "managed" (AesGcmIntrinsics, the default where the CPU has AES-NI
/// and PCLMULQDQ) and "AesGcm" (<c>HIBARI_SRTP_MANAGED_GCM=0</c> in the benchmark process: the BCL's AesGcm, i.e.
/// OpenSSL). Each job runs in its own process, so the switch (read once at start-up) is the product's own.
/// </summary>
public sealed class GcmPathsConfig : ManualConfig
{
    public const string Variable = "HIBARI_SRTP_MANAGED_GCM";

    public GcmPathsConfig()
    {
        var job = Job.Default.WithWarmupCount(5).WithIterationCount(20);
        AddJob(job.WithEnvironmentVariable(Variable, "1").WithId("managed"));
        AddJob(job.WithEnvironmentVariable(Variable, "0").WithId("AesGcm"));
    }

    /// <summary>
    /// Throws unless the context runs the path the job asked for. Observed through public behaviour only: AesGcm
    /// reports a bad tag by throwing (caught inside SrtpContext), the managed path does not throw at all.
    /// </summary>
    public static void CheckPath(SrtpContext context, byte[] protectedPacket, int length)
    {
        var wantManaged = Environment.GetEnvironmentVariable(Variable) != "0";
        var forged = protectedPacket.AsSpan(0, length).ToArray();
        forged[^1] ^= 1;
        var exceptions = 0;
        void Count(object? sender, System.Runtime.ExceptionServices.FirstChanceExceptionEventArgs e) => exceptions++;
        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            if (context.UnprotectRtp(forged, out _) != SrtpResult.AuthenticationFailed)
                throw new InvalidOperationException("a forged packet was not refused");
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }
        if (wantManaged != (exceptions == 0))
            throw new InvalidOperationException($"{Variable}={Environment.GetEnvironmentVariable(Variable)} but the forgery raised {exceptions} exception(s)");
    }
}

/// <summary>
/// SrtpContext.ProtectRtp, AEAD_AES_128_GCM, in place, the sequence number advanced every call (as
/// <see cref="SrtpProtectRtp"/>); packets of a 20-byte header (12 + 8-byte one-byte extension) and
/// <see cref="Payload"/> bytes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(GcmPathsConfig))]
public class SrtpGcmProtect
{
    private SrtpContext _send = null!;
    private byte[] _buffer = null!;
    private int _size;
    private ushort _seq;

    [Params(1100, 160)]
    public int Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _size = Payload + 20;
        _buffer = new byte[_size + 16];
        Packets.Write(_buffer, _size, 1, 90_000);
        _seq = 1;
        _send = Packets.NewContext(SrtpProfile.AeadAes128Gcm);

        using var check = Packets.NewContext(SrtpProfile.AeadAes128Gcm);
        using var receive = Packets.NewContext(SrtpProfile.AeadAes128Gcm);
        var copy = (byte[])_buffer.Clone();
        Packets.Ok(check.ProtectRtp(copy, _size, out var protectedLength), "protect");
        GcmPathsConfig.CheckPath(receive, copy, protectedLength);
        Packets.Ok(receive.UnprotectRtp(copy.AsSpan(0, protectedLength), out var plain), "unprotect");
        if (plain != _size || !copy.AsSpan(0, _size).SequenceEqual(_buffer.AsSpan(0, _size)))
            throw new InvalidOperationException("round trip differs");
    }

    [GlobalCleanup]
    public void Cleanup() => _send.Dispose();

    [Benchmark]
    public int Protect()
    {
        RtpHeader.SetSequenceNumber(_buffer, ++_seq);
        _send.ProtectRtp(_buffer, _size, out var protectedLength);
        return protectedLength;
    }
}

/// <summary>
/// SrtpContext.UnprotectRtp, AEAD_AES_128_GCM, on valid distinct packets: the ring design of
/// <see cref="SrtpUnprotectRtp"/> (4,096 packets protected once, a pristine copy and a fresh receiver per iteration,
/// every unprotect checked Ok).
/// </summary>
/// <remarks>
/// An iteration is one call of <see cref="Unprotect"/> (a few ms), so BDN's warm-up iterations alone are too short for
/// the tiered JIT: with 5 (and in some runs even 60) of them the managed path was measured partly in tier-0 code at
/// 1.5–3× its cost. GlobalSetup therefore unprotects rings for 2 s and waits for the background tier-1 compilations.
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(GcmPathsConfig))]
[InvocationCount(1, 1)]
[WarmupCount(10)]
[IterationCount(30)]
public class SrtpGcmUnprotect
{
    public const int Ring = 4096;

    private byte[] _pristine = null!;
    private byte[] _work = null!;
    private int _stride;
    private int _protectedLength;
    private SrtpContext? _receive;
    private int _ok;

    [Params(1100, 160)]
    public int Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var size = Payload + 20;
        _stride = size + 16;
        _pristine = new byte[Ring * _stride];
        _work = new byte[_pristine.Length];
        var plain = new byte[_pristine.Length];
        using var send = Packets.NewContext(SrtpProfile.AeadAes128Gcm);
        for (var i = 0; i < Ring; i++)
        {
            var slot = _pristine.AsSpan(i * _stride, _stride);
            Packets.Write(slot, size, (ushort)(100 + i), 90_000u + 3000u * (uint)i);
            slot.CopyTo(plain.AsSpan(i * _stride, _stride));
            Packets.Ok(send.ProtectRtp(slot, size, out _protectedLength), "protect");
        }

        using (var probe = Packets.NewContext(SrtpProfile.AeadAes128Gcm))
            GcmPathsConfig.CheckPath(probe, _pristine, _protectedLength);
        IterationSetup();
        if (Run() != Ring) throw new InvalidOperationException($"only {_ok} of {Ring} unprotects were Ok");
        for (var i = 0; i < Ring; i++)
            if (!_work.AsSpan(i * _stride, size).SequenceEqual(plain.AsSpan(i * _stride, size)))
                throw new InvalidOperationException($"packet {i} did not decrypt to its plaintext");
        var until = System.Diagnostics.Stopwatch.GetTimestamp() + 2 * System.Diagnostics.Stopwatch.Frequency;
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until)
        {
            IterationSetup();
            if (Run() != Ring) throw new InvalidOperationException("warm-up unprotect failed");
        }
        Thread.Sleep(500);
        _receive!.Dispose();
        _receive = null;
    }

    [IterationSetup]
    public void IterationSetup()
    {
        _receive?.Dispose();
        _receive = Packets.NewContext(SrtpProfile.AeadAes128Gcm);
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
