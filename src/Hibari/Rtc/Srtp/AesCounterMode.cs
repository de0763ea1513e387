using System.Security.Cryptography;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): block i is AES(IV + i) with the counter in IV bytes 14–15.
/// One ECB call per packet over a reusable counter buffer (media-stack.md §2.3: the call cost is fixed, so batch).
/// Not thread-safe; one instance per context.
/// </summary>
internal sealed class AesCounterMode : IDisposable
{
    private readonly Aes _aes;
    private byte[] _counters = new byte[2048];
    private byte[] _keystream = new byte[2048];

    public AesCounterMode(ReadOnlySpan<byte> key)
    {
        _aes = Aes.Create();
        _aes.Key = key.ToArray();
    }

    /// <summary>XORs the keystream for <paramref name="iv"/> (16 bytes, last two zero) into <paramref name="data"/>.</summary>
    public void Transform(ReadOnlySpan<byte> iv, Span<byte> data)
    {
        if (data.IsEmpty) return;
        var blocks = (data.Length + 15) >> 4;
        var bytes = blocks << 4;
        if (_counters.Length < bytes)
        {
            // Grows once to the largest packet seen; steady state allocates nothing.
            _counters = new byte[bytes];
            _keystream = new byte[bytes];
        }
        var counters = _counters.AsSpan(0, bytes);
        for (var i = 0; i < blocks; i++)
        {
            var block = counters.Slice(i << 4, 16);
            iv[..14].CopyTo(block);
            // Counter occupies the 16 low bits; IV bytes 14–15 are zero, and a packet is far below 2^16 blocks.
            block[14] = (byte)(i >> 8);
            block[15] = (byte)i;
        }
        var keystream = _keystream.AsSpan(0, bytes);
        _aes.EncryptEcb(counters, keystream, PaddingMode.None);
        Xor(data, keystream);
    }

    private static void Xor(Span<byte> data, ReadOnlySpan<byte> keystream)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var w = System.Numerics.Vector<byte>.Count;
            for (; i + w <= data.Length; i += w)
            {
                var v = new System.Numerics.Vector<byte>(data[i..]) ^ new System.Numerics.Vector<byte>(keystream[i..]);
                v.CopyTo(data[i..]);
            }
        }
        for (; i < data.Length; i++) data[i] ^= keystream[i];
    }

    public void Dispose() => _aes.Dispose();
}
