using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// AES-128 in counter mode as SRTP uses it (RFC 3711 §4.1.1): block i is AES(IV + i), the counter in IV bytes 14–15.
/// With AES-NI the rounds run in managed code (no interop, no allocation; docs/protocol-notes.md, "SRTP implementation and cost": ~3× the
/// throughput of <c>Aes.EncryptEcb</c>, which also allocates 64 B per call). Without it, one ECB call per packet over
/// a reusable counter buffer. Not thread-safe; one instance per context.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    private readonly Vector128<byte>[]? _roundKeys;
    private readonly Aes? _aes;
    private byte[] _counters = [];
    private byte[] _keystream = [];

    public AesCounterMode(ReadOnlySpan<byte> key) : this(key, X86Aes.IsSupported) { }

    /// <summary><paramref name="useAesNi"/> false forces the portable path (tests compare the two).</summary>
    internal AesCounterMode(ReadOnlySpan<byte> key, bool useAesNi)
    {
        if (key.Length != 16) throw new ArgumentException("AES-128 key must be 16 bytes", nameof(key));
        if (useAesNi && X86Aes.IsSupported) _roundKeys = AesNi.ExpandKey128(key);
        else
        {
            _aes = Aes.Create();
            _aes.Key = key.ToArray();
        }
    }

    /// <summary>XORs the keystream for <paramref name="iv"/> (16 bytes, last two zero) into <paramref name="data"/>.</summary>
    public void Transform(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        if (data.IsEmpty) return;
        if (data.Length > 16 * 65536) throw new ArgumentException("longer than the 16-bit block counter", nameof(data));
        if (_roundKeys is { } rk) TransformAesNi(rk, iv, data);
        else TransformEcb(iv, data);
    }

    private static void TransformAesNi(Vector128<byte>[] rk, ReadOnlySpan<byte> iv, Span<byte> data)
    {
        Span<byte> counter = stackalloc byte[16];
        iv[..14].CopyTo(counter);
        var i = 0;
        var block = 0;
        for (; i + 64 <= data.Length; i += 64, block += 4)
        {
            // Four blocks in flight hide the AESENC latency.
            var c0 = Counter(counter, block);
            var c1 = Counter(counter, block + 1);
            var c2 = Counter(counter, block + 2);
            var c3 = Counter(counter, block + 3);
            AesNi.Encrypt4(rk, ref c0, ref c1, ref c2, ref c3);
            var d = data.Slice(i, 64);
            (Vector128.Create((ReadOnlySpan<byte>)d) ^ c0).CopyTo(d);
            (Vector128.Create((ReadOnlySpan<byte>)d[16..]) ^ c1).CopyTo(d[16..]);
            (Vector128.Create((ReadOnlySpan<byte>)d[32..]) ^ c2).CopyTo(d[32..]);
            (Vector128.Create((ReadOnlySpan<byte>)d[48..]) ^ c3).CopyTo(d[48..]);
        }
        Span<byte> ks = stackalloc byte[16];
        for (; i < data.Length; i += 16, block++)
        {
            var k = AesNi.EncryptBlock(rk, Counter(counter, block));
            var n = Math.Min(16, data.Length - i);
            if (n == 16)
            {
                var d = data.Slice(i, 16);
                (Vector128.Create((ReadOnlySpan<byte>)d) ^ k).CopyTo(d);
            }
            else
            {
                k.CopyTo(ks);
                for (var j = 0; j < n; j++) data[i + j] ^= ks[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Counter(Span<byte> counter, int block)
    {
        counter[14] = (byte)(block >> 8);
        counter[15] = (byte)block;
        return Vector128.Create((ReadOnlySpan<byte>)counter);
    }

    private void TransformEcb(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        var blocks = (data.Length + 15) >> 4;
        var bytes = blocks << 4;
        if (_counters.Length < bytes)
        {
            // Grows to the largest packet seen, then stays.
            var size = Math.Max(bytes, 2048);
            _counters = new byte[size];
            _keystream = new byte[size];
        }
        var counters = _counters.AsSpan(0, bytes);
        for (var i = 0; i < blocks; i++)
        {
            var block = counters.Slice(i << 4, 16);
            iv[..14].CopyTo(block);
            block[14] = (byte)(i >> 8);
            block[15] = (byte)i;
        }
        var keystream = _keystream.AsSpan(0, bytes);
        _aes!.EncryptEcb(counters, keystream, PaddingMode.None);
        for (var i = 0; i < data.Length; i++) data[i] ^= keystream[i];
    }

    public void Dispose() => _aes?.Dispose();
}
