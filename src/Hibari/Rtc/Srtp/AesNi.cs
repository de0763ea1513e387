using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// AES on AES-NI, shared by <see cref="AesCounterMode"/> (SRTP AES-CM) and <see cref="AesGcmIntrinsics"/> (AES-GCM): the
/// FIPS-197 key schedules for 128- and 256-bit keys and block encryption, one block or four in flight. Callers check
/// <see cref="X86Aes.IsSupported"/>.
/// </summary>
internal static class AesNi
{
    /// <summary>One block through the whole key schedule (10 rounds for AES-128, 14 for AES-256).</summary>
    public static Vector128<byte> EncryptBlock(ReadOnlySpan<Vector128<byte>> rk, Vector128<byte> x)
    {
        var last = rk.Length - 1;
        x ^= rk[0];
        for (var r = 1; r < last; r++) x = X86Aes.Encrypt(x, rk[r]);
        return X86Aes.EncryptLast(x, rk[last]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <summary>Four blocks in flight (hides the AESENC latency).</summary>
    public static void Encrypt4(ReadOnlySpan<Vector128<byte>> rk, ref Vector128<byte> a, ref Vector128<byte> b,
        ref Vector128<byte> c, ref Vector128<byte> d)
    {
        var last = rk.Length - 1;
        var k = rk[0];
        a ^= k; b ^= k; c ^= k; d ^= k;
        for (var r = 1; r < last; r++)
        {
            k = rk[r];
            a = X86Aes.Encrypt(a, k);
            b = X86Aes.Encrypt(b, k);
            c = X86Aes.Encrypt(c, k);
            d = X86Aes.Encrypt(d, k);
        }
        k = rk[last];
        a = X86Aes.EncryptLast(a, k);
        b = X86Aes.EncryptLast(b, k);
        c = X86Aes.EncryptLast(c, k);
        d = X86Aes.EncryptLast(d, k);
    }

    /// <summary>FIPS-197 AES-128 key schedule via AESKEYGENASSIST (the round constant must be an immediate).</summary>
    public static Vector128<byte>[] ExpandKey128(ReadOnlySpan<byte> key)
    {
        var rk = new Vector128<byte>[11];
        rk[0] = Vector128.Create(key);
        rk[1] = Step(rk[0], Word3(X86Aes.KeygenAssist(rk[0], 0x01)));
        rk[2] = Step(rk[1], Word3(X86Aes.KeygenAssist(rk[1], 0x02)));
        rk[3] = Step(rk[2], Word3(X86Aes.KeygenAssist(rk[2], 0x04)));
        rk[4] = Step(rk[3], Word3(X86Aes.KeygenAssist(rk[3], 0x08)));
        rk[5] = Step(rk[4], Word3(X86Aes.KeygenAssist(rk[4], 0x10)));
        rk[6] = Step(rk[5], Word3(X86Aes.KeygenAssist(rk[5], 0x20)));
        rk[7] = Step(rk[6], Word3(X86Aes.KeygenAssist(rk[6], 0x40)));
        rk[8] = Step(rk[7], Word3(X86Aes.KeygenAssist(rk[7], 0x80)));
        rk[9] = Step(rk[8], Word3(X86Aes.KeygenAssist(rk[8], 0x1B)));
        rk[10] = Step(rk[9], Word3(X86Aes.KeygenAssist(rk[9], 0x36)));
        return rk;
    }

    /// <summary>
    /// FIPS-197 AES-256 key schedule: even round keys take RotWord(SubWord(w)) ⊕ Rcon of the previous odd one
    /// (word 3 of AESKEYGENASSIST), odd ones SubWord(w) of the previous even one (word 2, Rcon 0).
    /// </summary>
    public static Vector128<byte>[] ExpandKey256(ReadOnlySpan<byte> key)
    {
        var rk = new Vector128<byte>[15];
        rk[0] = Vector128.Create(key[..16]);
        rk[1] = Vector128.Create(key[16..]);
        rk[2] = Step(rk[0], Word3(X86Aes.KeygenAssist(rk[1], 0x01)));
        rk[3] = Step(rk[1], Word2(X86Aes.KeygenAssist(rk[2], 0x00)));
        rk[4] = Step(rk[2], Word3(X86Aes.KeygenAssist(rk[3], 0x02)));
        rk[5] = Step(rk[3], Word2(X86Aes.KeygenAssist(rk[4], 0x00)));
        rk[6] = Step(rk[4], Word3(X86Aes.KeygenAssist(rk[5], 0x04)));
        rk[7] = Step(rk[5], Word2(X86Aes.KeygenAssist(rk[6], 0x00)));
        rk[8] = Step(rk[6], Word3(X86Aes.KeygenAssist(rk[7], 0x08)));
        rk[9] = Step(rk[7], Word2(X86Aes.KeygenAssist(rk[8], 0x00)));
        rk[10] = Step(rk[8], Word3(X86Aes.KeygenAssist(rk[9], 0x10)));
        rk[11] = Step(rk[9], Word2(X86Aes.KeygenAssist(rk[10], 0x00)));
        rk[12] = Step(rk[10], Word3(X86Aes.KeygenAssist(rk[11], 0x20)));
        rk[13] = Step(rk[11], Word2(X86Aes.KeygenAssist(rk[12], 0x00)));
        rk[14] = Step(rk[12], Word3(X86Aes.KeygenAssist(rk[13], 0x40)));
        return rk;
    }

    private static Vector128<byte> Word3(Vector128<byte> assist) => Sse2.Shuffle(assist.AsUInt32(), 0xFF).AsByte();

    private static Vector128<byte> Word2(Vector128<byte> assist) => Sse2.Shuffle(assist.AsUInt32(), 0xAA).AsByte();

    /// <summary>w[i] = w[i−Nk] ⊕ w[i−1] for the four words of a round key, then ⊕ the broadcast temp word.</summary>
    private static Vector128<byte> Step(Vector128<byte> k, Vector128<byte> temp)
    {
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        k ^= Sse2.ShiftLeftLogical128BitLane(k, 4);
        return k ^ temp;
    }
}
