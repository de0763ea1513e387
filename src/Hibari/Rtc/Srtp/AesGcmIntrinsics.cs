using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// AES-GCM (NIST SP 800-38D; RFC 5116 AEAD_AES_128_GCM and AEAD_AES_256_GCM) with 96-bit nonces and 128-bit tags, in
/// managed code on AESENC (AES-NI) and PCLMULQDQ: counter mode eight blocks in flight, GHASH over the same eight blocks
/// with precomputed H¹..H⁸ and one reduction per eight blocks (aggregated reduction). No interop, no allocation per
/// call; <see cref="System.Security.Cryptography.AesGcm"/> pays OpenSSL 3's per-call EVP set-up (docs/protocol-notes.md,
/// "SRTP implementation and cost").
/// </summary>
/// <remarks>
/// <para>Immutable after construction (the key schedule and the powers of H), so one instance may be used by several
/// threads at once. Dispose zeroes the key schedule and H powers; calls after that throw.</para>
/// <para>The output may be the input exactly (in place); any other overlap is refused. <see cref="TryDecrypt"/>
/// returns false when the tag does not verify and then <b>zeroes the plaintext output</b> (which in place destroys the
/// ciphertext): no unauthenticated plaintext is left behind, as with <see cref="System.Security.Cryptography.AesGcm"/>.
/// Callers must still treat a false return as "drop the data".</para>
/// <para>Constant time in the key and the data (not the lengths): AESENC and PCLMULQDQ have no data-dependent timing,
/// there are no table look-ups, and the tag is compared in one vector operation without early exit.</para>
/// <para>GHASH follows Gueron and Kounavis, "Intel Carry-Less Multiplication Instruction and its Usage for Computing
/// the GCM Mode" (its shift-based reduction): operands are byte-reflected, multiplied with four carry-less products, the
/// 256-bit product shifted left one bit and reduced modulo x¹²⁸ + x⁷ + x² + x + 1 with shifts. Shift and reduction are
/// linear, so eight products are summed before one reduction.</para>
/// </remarks>
internal sealed class AesGcmIntrinsics : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>Blocks per loop iteration: enough independent AESENCs to hide their latency on two AES units.</summary>
    private const int Wide = 8;

    /// <summary>AESENC, PCLMULQDQ and PSHUFB (SSSE3; SSE2 comes with it).</summary>
    public static bool IsSupported => X86Aes.IsSupported && Pclmulqdq.IsSupported && Ssse3.IsSupported;

    private readonly Vector128<byte>[] _roundKeys; // 11 (AES-128) or 15 (AES-256)
    private readonly Vector128<ulong>[] _h;        // _h[i] = H^(i+1), byte-reflected
    private bool _disposed;

    /// <param name="key">16 bytes (AES-128) or 32 bytes (AES-256).</param>
    /// <exception cref="PlatformNotSupportedException">The CPU lacks AES-NI, PCLMULQDQ or SSSE3 (<see cref="IsSupported"/>).</exception>
    public AesGcmIntrinsics(ReadOnlySpan<byte> key)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("AES-GCM intrinsics need AES-NI, PCLMULQDQ and SSSE3");
        _roundKeys = key.Length switch
        {
            16 => AesNi.ExpandKey128(key),
            32 => AesNi.ExpandKey256(key),
            _ => throw new ArgumentException("AES-GCM key must be 16 or 32 bytes", nameof(key)),
        };
        _h = new Vector128<ulong>[Wide];
        var h = Reflect(AesNi.EncryptBlock(_roundKeys, Vector128<byte>.Zero)).AsUInt64();
        _h[0] = h;
        for (var i = 1; i < Wide; i++) _h[i] = Multiply(_h[i - 1], h);
    }

    /// <summary>Key length in bytes (16 or 32).</summary>
    public int KeySize => _roundKeys.Length == 11 ? 16 : 32;

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> into <paramref name="ciphertext"/> (same length; may be the same memory)
    /// and writes the 16-byte tag over <paramref name="aad"/> and the ciphertext.
    /// </summary>
    /// <exception cref="ArgumentException">Nonce not 12 bytes, tag not 16, lengths differ or buffers partly overlap.</exception>
    public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag,
        ReadOnlySpan<byte> aad = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(nonce, plaintext, ciphertext, tag.Length);
        var rk = new ReadOnlySpan<Vector128<byte>>(_roundKeys);
        var h = new ReadOnlySpan<Vector128<ulong>>(_h);
        var j0 = J0(nonce);
        var y = GhashPadded(h, Vector128<ulong>.Zero, aad);
        y = Transform<Encrypting>(rk, h, j0, plaintext, ciphertext, y);
        ComputeTag(rk, h, j0, y, aad.Length, plaintext.Length).CopyTo(tag);
    }

    /// <summary>
    /// Verifies <paramref name="tag"/> over <paramref name="aad"/> and <paramref name="ciphertext"/> and decrypts into
    /// <paramref name="plaintext"/> (same length; may be the same memory). False when the tag does not verify: then
    /// <paramref name="plaintext"/> is zeroed and must not be used.
    /// </summary>
    /// <exception cref="ArgumentException">Nonce not 12 bytes, tag not 16, lengths differ or buffers partly overlap.</exception>
    public bool TryDecrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext,
        ReadOnlySpan<byte> aad = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Check(nonce, ciphertext, plaintext, tag.Length);
        // The tag is read before anything is written: it may sit in the output buffer.
        var received = Vector128.Create(tag);
        var rk = new ReadOnlySpan<Vector128<byte>>(_roundKeys);
        var h = new ReadOnlySpan<Vector128<ulong>>(_h);
        var j0 = J0(nonce);
        var y = GhashPadded(h, Vector128<ulong>.Zero, aad);
        y = Transform<Decrypting>(rk, h, j0, ciphertext, plaintext, y);
        var expected = ComputeTag(rk, h, j0, y, aad.Length, ciphertext.Length);
        // Constant time: all 16 bytes are XORed and tested at once (VPTEST), no early exit. Not FixedTimeEquals: it is
        // compiled [NoOptimization] and cost ~45 ns per call here, 13 % of a 1,100-byte decrypt.
        if ((expected ^ received) == Vector128<byte>.Zero) return true;
        CryptographicOperations.ZeroMemory(plaintext);
        return false;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_roundKeys.AsSpan()));
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_h.AsSpan()));
    }

    private static void Check(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> input, ReadOnlySpan<byte> output, int tagLength)
    {
        if (nonce.Length != NonceSize) throw new ArgumentException("AES-GCM nonce must be 12 bytes", nameof(nonce));
        if (tagLength != TagSize) throw new ArgumentException("AES-GCM tag must be 16 bytes", "tag");
        if (input.Length != output.Length) throw new ArgumentException("input and output lengths differ", nameof(output));
        if (input.Overlaps(output, out var offset) && offset != 0)
            throw new ArgumentException("input and output overlap other than exactly", nameof(output));
    }

    /// <summary>
    /// Counter block J0 = nonce ‖ 00 00 00 01 (SP 800-38D §7.1 for a 96-bit IV) with its last four bytes reversed, so
    /// that lane 3 of the uint vector is the 32-bit counter and can be incremented with a vector add.
    /// </summary>
    private static Vector128<uint> J0(ReadOnlySpan<byte> nonce)
    {
        Span<byte> block = stackalloc byte[16];
        nonce.CopyTo(block);
        block[12] = 0;
        block[13] = 0;
        block[14] = 0;
        block[15] = 1;
        return Ssse3.Shuffle(Vector128.Create((ReadOnlySpan<byte>)block), CounterSwap).AsUInt32();
    }

    /// <summary>Swaps the counter (bytes 12–15) between big-endian and the native order of lane 3.</summary>
    private static Vector128<byte> CounterSwap
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12);
    }

    private static Vector128<byte> ReverseBytes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector128.Create((byte)15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Reflect(Vector128<byte> x) => Ssse3.Shuffle(x, ReverseBytes);

    /// <summary>The counter block for counter value (lane 3 of <paramref name="ctr"/>) + <paramref name="add"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Block(Vector128<uint> ctr, uint add)
        => Ssse3.Shuffle((ctr + Vector128.Create(0, 0, 0, add)).AsByte(), CounterSwap);

    private interface IDirection
    {
        /// <summary>GHASH runs over the input (decrypting) or over the output (encrypting).</summary>
        static abstract bool HashesInput { get; }
    }

    private struct Encrypting : IDirection
    {
        public static bool HashesInput => false;
    }

    private struct Decrypting : IDirection
    {
        public static bool HashesInput => true;
    }

    /// <summary>
    /// GCTR from counter J0 + 1 (SP 800-38D §6.5) of <paramref name="input"/> into <paramref name="output"/>, folding the
    /// ciphertext into the GHASH state <paramref name="y"/>; returns the new state.
    /// </summary>
    private static Vector128<ulong> Transform<TDirection>(ReadOnlySpan<Vector128<byte>> rk, ReadOnlySpan<Vector128<ulong>> h,
        Vector128<uint> ctr, ReadOnlySpan<byte> input, Span<byte> output, Vector128<ulong> y)
        where TDirection : struct, IDirection
    {
        var length = input.Length;
        ref var src = ref MemoryMarshal.GetReference(input);
        ref var dst = ref MemoryMarshal.GetReference(output);
        var last = rk.Length - 1;
        var o = 0;
        for (; o <= length - Wide * 16; o += Wide * 16)
        {
            var c0 = Block(ctr, 1);
            var c1 = Block(ctr, 2);
            var c2 = Block(ctr, 3);
            var c3 = Block(ctr, 4);
            var c4 = Block(ctr, 5);
            var c5 = Block(ctr, 6);
            var c6 = Block(ctr, 7);
            var c7 = Block(ctr, 8);
            ctr += Vector128.Create(0u, 0, 0, Wide);

            var k = rk[0];
            c0 ^= k; c1 ^= k; c2 ^= k; c3 ^= k; c4 ^= k; c5 ^= k; c6 ^= k; c7 ^= k;
            for (var r = 1; r < last; r++)
            {
                k = rk[r];
                c0 = X86Aes.Encrypt(c0, k);
                c1 = X86Aes.Encrypt(c1, k);
                c2 = X86Aes.Encrypt(c2, k);
                c3 = X86Aes.Encrypt(c3, k);
                c4 = X86Aes.Encrypt(c4, k);
                c5 = X86Aes.Encrypt(c5, k);
                c6 = X86Aes.Encrypt(c6, k);
                c7 = X86Aes.Encrypt(c7, k);
            }
            k = rk[last];
            c0 = X86Aes.EncryptLast(c0, k);
            c1 = X86Aes.EncryptLast(c1, k);
            c2 = X86Aes.EncryptLast(c2, k);
            c3 = X86Aes.EncryptLast(c3, k);
            c4 = X86Aes.EncryptLast(c4, k);
            c5 = X86Aes.EncryptLast(c5, k);
            c6 = X86Aes.EncryptLast(c6, k);
            c7 = X86Aes.EncryptLast(c7, k);

            // Everything is loaded before anything is stored: in place is safe.
            var at = (nuint)o;
            var x0 = Vector128.LoadUnsafe(ref src, at);
            var x1 = Vector128.LoadUnsafe(ref src, at + 16);
            var x2 = Vector128.LoadUnsafe(ref src, at + 32);
            var x3 = Vector128.LoadUnsafe(ref src, at + 48);
            var x4 = Vector128.LoadUnsafe(ref src, at + 64);
            var x5 = Vector128.LoadUnsafe(ref src, at + 80);
            var x6 = Vector128.LoadUnsafe(ref src, at + 96);
            var x7 = Vector128.LoadUnsafe(ref src, at + 112);
            c0 ^= x0; c1 ^= x1; c2 ^= x2; c3 ^= x3; c4 ^= x4; c5 ^= x5; c6 ^= x6; c7 ^= x7;
            c0.StoreUnsafe(ref dst, at);
            c1.StoreUnsafe(ref dst, at + 16);
            c2.StoreUnsafe(ref dst, at + 32);
            c3.StoreUnsafe(ref dst, at + 48);
            c4.StoreUnsafe(ref dst, at + 64);
            c5.StoreUnsafe(ref dst, at + 80);
            c6.StoreUnsafe(ref dst, at + 96);
            c7.StoreUnsafe(ref dst, at + 112);

            if (TDirection.HashesInput)
                y = Ghash8(h, y, x0, x1, x2, x3, x4, x5, x6, x7);
            else
                y = Ghash8(h, y, c0, c1, c2, c3, c4, c5, c6, c7);
        }

        var rest = length - o;
        if (rest == 0) return y;

        // Fewer than eight blocks left: through a zero-padded copy, so the last partial block hashes with zero padding.
        Span<byte> buffer = stackalloc byte[Wide * 16];
        buffer.Clear();
        input[o..].CopyTo(buffer);
        var blocks = (rest + 15) >> 4;
        if (TDirection.HashesInput) y = GhashBlocks(h, y, buffer, blocks);
        ref var b = ref MemoryMarshal.GetReference(buffer);
        for (var j = 0; j < blocks; j += 4)
        {
            var c0 = Block(ctr, (uint)j + 1);
            var c1 = Block(ctr, (uint)j + 2);
            var c2 = Block(ctr, (uint)j + 3);
            var c3 = Block(ctr, (uint)j + 4);
            AesNi.Encrypt4(rk, ref c0, ref c1, ref c2, ref c3);
            var at = (nuint)(16 * j);
            (Vector128.LoadUnsafe(ref b, at) ^ c0).StoreUnsafe(ref b, at);
            (Vector128.LoadUnsafe(ref b, at + 16) ^ c1).StoreUnsafe(ref b, at + 16);
            (Vector128.LoadUnsafe(ref b, at + 32) ^ c2).StoreUnsafe(ref b, at + 32);
            (Vector128.LoadUnsafe(ref b, at + 48) ^ c3).StoreUnsafe(ref b, at + 48);
        }
        buffer[..rest].CopyTo(output[o..]);
        if (!TDirection.HashesInput)
        {
            buffer[rest..].Clear();
            y = GhashBlocks(h, y, buffer, blocks);
        }
        CryptographicOperations.ZeroMemory(buffer); // key stream and plaintext do not stay on the stack
        return y;
    }

    /// <summary>T = E(K, J0) XOR GHASH(... ‖ len(A)·8 ‖ len(C)·8), SP 800-38D §7.1 steps 5–6.</summary>
    private static Vector128<byte> ComputeTag(ReadOnlySpan<Vector128<byte>> rk, ReadOnlySpan<Vector128<ulong>> h,
        Vector128<uint> j0, Vector128<ulong> y, int aadLength, int textLength)
    {
        // The length block reflected: its low half is len(C) in bits, its high half len(A).
        var lengths = Vector128.Create((ulong)textLength * 8, (ulong)aadLength * 8);
        y = Multiply(y ^ lengths, h[0]);
        return AesNi.EncryptBlock(rk, Ssse3.Shuffle(j0.AsByte(), CounterSwap)) ^ Reflect(y.AsByte());
    }

    /// <summary>GHASH of <paramref name="data"/> zero-padded to whole blocks (the AAD), from state <paramref name="y"/>.</summary>
    private static Vector128<ulong> GhashPadded(ReadOnlySpan<Vector128<ulong>> h, Vector128<ulong> y, ReadOnlySpan<byte> data)
    {
        while (data.Length >= Wide * 16)
        {
            y = GhashBlocks(h, y, data, Wide);
            data = data[(Wide * 16)..];
        }
        var whole = data.Length >> 4;
        if (whole > 0)
        {
            y = GhashBlocks(h, y, data, whole);
            data = data[(whole * 16)..];
        }
        if (!data.IsEmpty)
        {
            Span<byte> last = stackalloc byte[16];
            last.Clear();
            data.CopyTo(last);
            y = GhashBlocks(h, y, last, 1);
        }
        return y;
    }

    /// <summary>
    /// Folds <paramref name="count"/> (1..8) whole blocks into the GHASH state with one reduction:
    /// (y ⊕ X₁)·Hⁿ ⊕ X₂·Hⁿ⁻¹ ⊕ … ⊕ Xₙ·H.
    /// </summary>
    private static Vector128<ulong> GhashBlocks(ReadOnlySpan<Vector128<ulong>> h, Vector128<ulong> y, ReadOnlySpan<byte> data, int count)
    {
        if ((uint)(count - 1) >= Wide || data.Length < count * 16) throw new ArgumentOutOfRangeException(nameof(count));
        ref var src = ref MemoryMarshal.GetReference(data);
        var a = Reflect(Vector128.LoadUnsafe(ref src)).AsUInt64() ^ y;
        var hi = Vector128<ulong>.Zero;
        var lo = Vector128<ulong>.Zero;
        var mid = Vector128<ulong>.Zero;
        Accumulate(a, h[count - 1], ref lo, ref mid, ref hi);
        for (var j = 1; j < count; j++)
        {
            a = Reflect(Vector128.LoadUnsafe(ref src, (nuint)(16 * j))).AsUInt64();
            Accumulate(a, h[count - 1 - j], ref lo, ref mid, ref hi);
        }
        return Reduce(lo, mid, hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Ghash8(ReadOnlySpan<Vector128<ulong>> h, Vector128<ulong> y,
        Vector128<byte> x0, Vector128<byte> x1, Vector128<byte> x2, Vector128<byte> x3,
        Vector128<byte> x4, Vector128<byte> x5, Vector128<byte> x6, Vector128<byte> x7)
    {
        var lo = Vector128<ulong>.Zero;
        var mid = Vector128<ulong>.Zero;
        var hi = Vector128<ulong>.Zero;
        Accumulate(Reflect(x0).AsUInt64() ^ y, h[7], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x1).AsUInt64(), h[6], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x2).AsUInt64(), h[5], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x3).AsUInt64(), h[4], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x4).AsUInt64(), h[3], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x5).AsUInt64(), h[2], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x6).AsUInt64(), h[1], ref lo, ref mid, ref hi);
        Accumulate(Reflect(x7).AsUInt64(), h[0], ref lo, ref mid, ref hi);
        return Reduce(lo, mid, hi);
    }

    /// <summary>Adds the 256-bit carry-less product a·b to (hi, mid, lo): a₀b₀ to lo, a₁b₁ to hi, a₀b₁ ⊕ a₁b₀ to mid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(Vector128<ulong> a, Vector128<ulong> b, ref Vector128<ulong> lo, ref Vector128<ulong> mid, ref Vector128<ulong> hi)
    {
        lo ^= Pclmulqdq.CarrylessMultiply(a, b, 0x00);
        hi ^= Pclmulqdq.CarrylessMultiply(a, b, 0x11);
        mid ^= Pclmulqdq.CarrylessMultiply(a, b, 0x01) ^ Pclmulqdq.CarrylessMultiply(a, b, 0x10);
    }

    /// <summary>a·b in GF(2¹²⁸) as GCM defines it, both operands and the result byte-reflected.</summary>
    private static Vector128<ulong> Multiply(Vector128<ulong> a, Vector128<ulong> b)
    {
        var lo = Vector128<ulong>.Zero;
        var mid = Vector128<ulong>.Zero;
        var hi = Vector128<ulong>.Zero;
        Accumulate(a, b, ref lo, ref mid, ref hi);
        return Reduce(lo, mid, hi);
    }

    /// <summary>
    /// The 256-bit product hi·2¹²⁸ ⊕ mid·2⁶⁴ ⊕ lo of two byte-reflected operands, shifted left one bit (the bit
    /// reflection of GCM's field elements) and reduced modulo x¹²⁸ + x⁷ + x² + x + 1 (Gueron–Kounavis).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Reduce(Vector128<ulong> lo, Vector128<ulong> mid, Vector128<ulong> hi)
    {
        var l = (lo ^ Sse2.ShiftLeftLogical128BitLane(mid, 8)).AsUInt32();
        var u = (hi ^ Sse2.ShiftRightLogical128BitLane(mid, 8)).AsUInt32();

        // [u:l] <<= 1
        var t7 = Sse2.ShiftRightLogical(l, 31);
        var t8 = Sse2.ShiftRightLogical(u, 31);
        l = Sse2.ShiftLeftLogical(l, 1);
        u = Sse2.ShiftLeftLogical(u, 1);
        var t9 = Sse2.ShiftRightLogical128BitLane(t7, 12);
        t8 = Sse2.ShiftLeftLogical128BitLane(t8, 4);
        t7 = Sse2.ShiftLeftLogical128BitLane(t7, 4);
        l |= t7;
        u |= t8 | t9;

        // Reduction: first phase folds the low 128 bits' top part, second phase the rest.
        t7 = Sse2.ShiftLeftLogical(l, 31) ^ Sse2.ShiftLeftLogical(l, 30) ^ Sse2.ShiftLeftLogical(l, 25);
        t8 = Sse2.ShiftRightLogical128BitLane(t7, 4);
        t7 = Sse2.ShiftLeftLogical128BitLane(t7, 12);
        l ^= t7;
        var t2 = Sse2.ShiftRightLogical(l, 1) ^ Sse2.ShiftRightLogical(l, 2) ^ Sse2.ShiftRightLogical(l, 7) ^ t8;
        l ^= t2;
        return (u ^ l).AsUInt64();
    }
}
