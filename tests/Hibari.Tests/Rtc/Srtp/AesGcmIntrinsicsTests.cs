using System.Reflection;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;
using Hibari.Rtc.Srtp;

namespace Hibari.Tests.Rtc.Srtp;

/// <summary>Skipped (with the reason) where the CPU has no AES-NI/PCLMULQDQ: the product then runs AesGcm only.</summary>
public sealed class GcmIntrinsicsFactAttribute : FactAttribute
{
    public GcmIntrinsicsFactAttribute()
    {
        if (!AesGcmIntrinsics.IsSupported) Skip = "this CPU lacks AES-NI, PCLMULQDQ or SSSE3";
    }
}

/// <inheritdoc cref="GcmIntrinsicsFactAttribute"/>
public sealed class GcmIntrinsicsTheoryAttribute : TheoryAttribute
{
    public GcmIntrinsicsTheoryAttribute()
    {
        if (!AesGcmIntrinsics.IsSupported) Skip = "this CPU lacks AES-NI, PCLMULQDQ or SSSE3";
    }
}

/// <summary>
/// <see cref="AesGcmIntrinsics"/> against published vectors (the GCM specification's test cases, NIST CAVP
/// gcmEncryptExtIV128/256) and differentially against <see cref="AesGcm"/> (OpenSSL).
/// </summary>
public sealed class AesGcmIntrinsicsTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s);

    private const string SpecKey = "feffe9928665731c6d6a8f9467308308";
    private const string SpecIv = "cafebabefacedbaddecaf888";
    private const string SpecPlain =
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    private const string SpecAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
    private const string SpecCipher128 =
        "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
        "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
    private const string SpecCipher256 =
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

    /// <summary>key, nonce, plaintext, aad, ciphertext, tag (hex).</summary>
    public static TheoryData<string, string, string, string, string, string> Vectors => new()
    {
        // McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1–4 (AES-128) and 13–16
        // (AES-256): empty plaintext, one block, four blocks, 60 bytes with 20 bytes of AAD.
        { "00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
        { "00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "",
            "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf" },
        { SpecKey, SpecIv, SpecPlain, "", SpecCipher128, "4d5c2af327cd64a62cf35abd2ba6fab4" },
        { SpecKey, SpecIv, SpecPlain[..120], SpecAad, SpecCipher128[..120], "5bc94fbc3221a5db94fae95ae7121a47" },
        { new string('0', 64), "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
        { new string('0', 64), "000000000000000000000000", "00000000000000000000000000000000", "",
            "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
        { SpecKey + SpecKey, SpecIv, SpecPlain, "", SpecCipher256, "b094dac5d93471bdec1a502270e3cc6c" },
        { SpecKey + SpecKey, SpecIv, SpecPlain[..120], SpecAad, SpecCipher256[..120], "76fc6ece0f4e1768cddf8853bb2d551b" },

        // NIST CAVP gcmEncryptExtIV128.rsp (IVlen 96, Taglen 128): PT/AAD bits 0/0, 0/128, 128/0, 408/160, 408/720, 104/0.
        { "11754cd72aec309bf52f7687212e8957", "3c819d9a9bed087615030b65", "", "", "", "250327c674aaf477aef2675748cf6971" },
        { "77be63708971c4e240d1cb79e8d77feb", "e0e00f19fed7ba0136a797f3", "", "7a43ec1d9c0a5a78a0b16533a6213cab", "",
            "209fcc8d3675ed938e9c7166709dd946" },
        { "7fddb57453c241d03efbed3ac44e371c", "ee283a3fc75575e33efd4887", "d5de42b461646c255c87bd2962d3b9a2", "",
            "2ccda4a5415cb91e135c2a0f78c9b2fd", "b36d1df9b9d5e596f83e8b7f52971cb3" },
        { "fe47fcce5fc32665d2ae399e4eec72ba", "5adb9609dbaeb58cbd6e7275",
            "7c0e88c88899a779228465074797cd4c2e1498d259b54390b85e3eef1c02df60e743f1b840382c4bccaf3bafb4ca8429bea063",
            "88319d6e1d3ffa5f987199166c8a9b56c2aeba5a",
            "98f4826f05a265e6dd2be82db241c0fbbbf9ffb1c173aa83964b7cf5393043736365253ddbc5db8778371495da76d269e5db3e",
            "291ef1982e4defedaa2249f898556b47" },
        { "2c1f21cf0f6fb3661943155c3e3d8492", "23cb5ff362e22426984d1907",
            "42f758836986954db44bf37c6ef5e4ac0adaf38f27252a1b82d02ea949c8a1a2dbc0d68b5615ba7c1220ff6510e259f06655d8",
            "5d3624879d35e46849953e45a32a624d6a6c536ed9857c613b572b0333e701557a713e3f010ecdf9a6bd6c9e3e44b065208645aff4aabee611b391528514170084ccf587177f4488f33cfb5e979e42b6e1cfc0a60238982a7aec",
            "81824f0e0d523db30d3da369fdc0d60894c7a0a20646dd015073ad2732bd989b14a222b6ad57af43e1895df9dca2a5344a62cc",
            "57a3ee28136e94c74838997ae9823f3a" },
        { "fe9bb47deb3a61e423c2231841cfd1fb", "4d328eb776f500a2f7fb47aa", "f1cc3818e421876bb6b8bbd6c9", "",
            "b88c5c1977b35b517b0aeae967", "43fd4727fe5cdb4b5b42818dea7ef8c9" },

        // NIST CAVP gcmEncryptExtIV256.rsp: PT/AAD bits 0/0, 128/0, 128/128.
        { "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4", "516c33929df5a3284ff463d7", "", "", "",
            "bdc1ac884d332457a1d2664f168c76f0" },
        { "460fc864972261c2560e1eb88761ff1c992b982497bd2ac36c04071cbb8e5d99", "8a4a16b9e210eb68bcb6f58d",
            "99e4e926ffe927f691893fb79a96b067", "", "133fc15751621b5f325c7ff71ce08324", "ec4e87e0cf74a13618d0b68636ba9fa7" },
        { "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b", "ac93a1a6145299bde902f21a",
            "2d71bcfa914e4ac045b2aa60955fad24", "1e0889016f67601c8ebea4943bc23ad6",
            "8995ae2e6df3dbf96fac7b7137bae67f", "eca5aa77d51d4a0a14d9c51e1da474ab" },
    };

    [GcmIntrinsicsTheory, MemberData(nameof(Vectors))]
    public void Matches_published_vectors(string key, string nonce, string plaintext, string aad, string ciphertext, string tag)
    {
        var k = Hex(key);
        var n = Hex(nonce);
        var p = Hex(plaintext);
        var a = Hex(aad);
        using var gcm = new AesGcmIntrinsics(k);

        var c = new byte[p.Length];
        var t = new byte[16];
        gcm.Encrypt(n, p, c, t, a);
        Assert.Equal(ciphertext, Convert.ToHexStringLower(c));
        Assert.Equal(tag, Convert.ToHexStringLower(t));

        var inPlace = (byte[])p.Clone();
        var t2 = new byte[16];
        gcm.Encrypt(n, inPlace, inPlace, t2, a);
        Assert.Equal(c, inPlace);
        Assert.Equal(t, t2);

        var back = new byte[c.Length];
        Assert.True(gcm.TryDecrypt(n, c, t, back, a));
        Assert.Equal(p, back);
        Assert.True(gcm.TryDecrypt(n, inPlace, t, inPlace, a));
        Assert.Equal(p, inPlace);

        // The vector itself, as OpenSSL computes it.
        using var reference = new AesGcm(k, 16);
        var rc = new byte[p.Length];
        var rt = new byte[16];
        reference.Encrypt(n, p, rc, rt, a);
        Assert.Equal(c, rc);
        Assert.Equal(t, rt);
    }

    [GcmIntrinsicsTheory, InlineData(16), InlineData(32)]
    public void Every_length_up_to_300_with_aad_0_to_64_matches_AesGcm(int keySize)
    {
        // Covers every tail (0..7 whole blocks plus 0..15 bytes) after zero, one and two eight-block strides.
        var rng = new Random(keySize);
        var key = RandomBytes(rng, keySize);
        using var managed = new AesGcmIntrinsics(key);
        using var reference = new AesGcm(key, 16);
        for (var length = 0; length <= 300; length++)
            Differential(rng, managed, reference, length, length % 65, inPlace: (length & 1) == 0);
    }

    [GcmIntrinsicsTheory, InlineData(16), InlineData(32)]
    public void Random_keys_nonces_and_lengths_match_AesGcm_both_ways(int keySize)
    {
        var rng = new Random(1000 + keySize);
        for (var i = 0; i < 3000; i++)
        {
            var key = RandomBytes(rng, keySize);
            using var managed = new AesGcmIntrinsics(key);
            using var reference = new AesGcm(key, 16);
            Differential(rng, managed, reference, rng.Next(0, 1501), rng.Next(0, 65), inPlace: rng.Next(2) == 0);
        }
    }

    [GcmIntrinsicsTheory, InlineData(16), InlineData(32)]
    public void Long_messages_up_to_64_KiB_and_long_aad_match_AesGcm(int keySize)
    {
        var rng = new Random(2000 + keySize);
        var key = RandomBytes(rng, keySize);
        using var managed = new AesGcmIntrinsics(key);
        using var reference = new AesGcm(key, 16);
        foreach (var length in new[] { 1501, 4096, 9000, 65535, 65536 })
            Differential(rng, managed, reference, length, rng.Next(0, 65), inPlace: false);
        for (var i = 0; i < 20; i++)
            Differential(rng, managed, reference, rng.Next(1500, 65537), rng.Next(65, 2000), inPlace: rng.Next(2) == 0);
    }

    /// <summary>
    /// Encrypts one random message with both implementations and asserts identical ciphertext and tag; each decrypts
    /// the other's output.
    /// </summary>
    private static void Differential(Random rng, AesGcmIntrinsics managed, AesGcm reference, int length, int aadLength, bool inPlace)
    {
        var nonce = RandomBytes(rng, 12);
        var plain = RandomBytes(rng, length);
        var aad = RandomBytes(rng, aadLength);

        var expected = new byte[length];
        var expectedTag = new byte[16];
        reference.Encrypt(nonce, plain, expected, expectedTag, aad);

        var actual = inPlace ? (byte[])plain.Clone() : new byte[length];
        var tag = new byte[16];
        managed.Encrypt(nonce, inPlace ? actual : plain, actual, tag, aad);
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"ciphertext differs: length {length}, aad {aadLength}, in place {inPlace}");
        Assert.True(expectedTag.AsSpan().SequenceEqual(tag), $"tag differs: length {length}, aad {aadLength}, in place {inPlace}");

        // Managed decrypts what OpenSSL encrypted ...
        var decrypted = inPlace ? (byte[])expected.Clone() : new byte[length];
        Assert.True(managed.TryDecrypt(nonce, inPlace ? decrypted : expected, expectedTag, decrypted, aad));
        Assert.True(plain.AsSpan().SequenceEqual(decrypted), $"plaintext differs: length {length}, aad {aadLength}");
        // ... and OpenSSL what managed encrypted.
        var opened = new byte[length];
        reference.Decrypt(nonce, actual, tag, opened, aad);
        Assert.True(plain.AsSpan().SequenceEqual(opened));
    }

    [GcmIntrinsicsTheory]
    [InlineData(16, 0, 0)]
    [InlineData(16, 0, 20)]
    [InlineData(16, 37, 12)]
    [InlineData(32, 150, 17)]
    public void Every_single_bit_flip_of_ciphertext_tag_aad_or_nonce_is_refused_and_zeroes_the_output(int keySize, int length, int aadLength)
    {
        var rng = new Random(length * 100 + aadLength + keySize);
        var key = RandomBytes(rng, keySize);
        var nonce = RandomBytes(rng, 12);
        var plain = RandomBytes(rng, length);
        var aad = RandomBytes(rng, aadLength);
        using var gcm = new AesGcmIntrinsics(key);
        var ciphertext = new byte[length];
        var tag = new byte[16];
        gcm.Encrypt(nonce, plain, ciphertext, tag, aad);

        var refused = 0;
        void Refused(byte[] n, byte[] c, byte[] t, byte[] a)
        {
            var output = new byte[length];
            Array.Fill(output, (byte)0xEE);
            Assert.False(gcm.TryDecrypt(n, c, t, output, a));
            Assert.All(output, b => Assert.Equal(0, b)); // no unauthenticated plaintext left behind
            var inPlace = (byte[])c.Clone();
            Assert.False(gcm.TryDecrypt(n, inPlace, t, inPlace, a));
            Assert.All(inPlace, b => Assert.Equal(0, b));
            refused++;
        }

        foreach (var (field, flip) in new (byte[] Field, Action<byte[]> Use)[]
                 {
                     (ciphertext, f => Refused(nonce, f, tag, aad)),
                     (tag, f => Refused(nonce, ciphertext, f, aad)),
                     (aad, f => Refused(nonce, ciphertext, tag, f)),
                     (nonce, f => Refused(f, ciphertext, tag, aad)),
                 })
        {
            for (var bit = 0; bit < field.Length * 8; bit++)
            {
                var copy = (byte[])field.Clone();
                copy[bit >> 3] ^= (byte)(1 << (bit & 7));
                flip(copy);
            }
        }
        Assert.Equal((length + 16 + aadLength + 12) * 8, refused);

        // Truncated or extended AAD is refused too, and the genuine message still opens.
        if (aadLength > 0) Refused(nonce, ciphertext, tag, aad[..^1]);
        Refused(nonce, ciphertext, tag, [.. aad, 0]);
        var opened = new byte[length];
        Assert.True(gcm.TryDecrypt(nonce, ciphertext, tag, opened, aad));
        Assert.Equal(plain, opened);
    }

    [GcmIntrinsicsFact]
    public void Encrypt_and_decrypt_allocate_nothing()
    {
        var key = RandomBytes(new Random(9), 16);
        using var gcm = new AesGcmIntrinsics(key);
        var nonce = new byte[12];
        var packet = new byte[1100 + 32];
        var tag = new byte[16];
        var aad = packet.AsSpan(0, 12).ToArray();
        void Run()
        {
            for (var i = 0; i < 200; i++)
            {
                nonce[11] = (byte)i;
                var payload = packet.AsSpan(12, 1100);
                gcm.Encrypt(nonce, payload, payload, tag, aad);
                if (!gcm.TryDecrypt(nonce, payload, tag, payload, aad)) throw new InvalidOperationException("round trip");
                tag[0] ^= 1;
                if (gcm.TryDecrypt(nonce, payload, tag, payload, aad)) throw new InvalidOperationException("forgery accepted");
            }
        }
        Run(); // JIT
        Assert.Equal(0, Allocations.Min(Run));
    }

    [GcmIntrinsicsFact]
    public void Arguments_of_the_wrong_shape_throw()
    {
        using var gcm = new AesGcmIntrinsics(new byte[16]);
        var buffer = new byte[64];
        var tag = new byte[16];
        Assert.Throws<ArgumentException>(() => new AesGcmIntrinsics(new byte[24]));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[11], buffer, new byte[64], tag));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], buffer, new byte[64], new byte[12]));
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], buffer, new byte[63], tag));
        // Overlapping other than exactly would read what was already written.
        Assert.Throws<ArgumentException>(() => gcm.Encrypt(new byte[12], buffer.AsSpan(0, 32), buffer.AsSpan(16, 32), tag));
        Assert.Throws<ArgumentException>(() => gcm.TryDecrypt(new byte[12], buffer.AsSpan(16, 32), tag, buffer.AsSpan(0, 32)));
    }

    [GcmIntrinsicsTheory, InlineData(16), InlineData(32)]
    public void Dispose_zeroes_the_key_schedule_and_the_powers_of_H_and_later_calls_throw(int keySize)
    {
        var gcm = new AesGcmIntrinsics(RandomBytes(new Random(keySize), keySize));
        var roundKeys = (Vector128<byte>[])Field(gcm, "_roundKeys");
        var powers = (Vector128<ulong>[])Field(gcm, "_h");
        Assert.Equal(keySize == 16 ? 11 : 15, roundKeys.Length);
        Assert.Contains(roundKeys, k => k != Vector128<byte>.Zero);
        Assert.Contains(powers, p => p != Vector128<ulong>.Zero);

        gcm.Dispose();
        Assert.All(roundKeys, k => Assert.Equal(Vector128<byte>.Zero, k));
        Assert.All(powers, p => Assert.Equal(Vector128<ulong>.Zero, p));
        Assert.Throws<ObjectDisposedException>(() => gcm.Encrypt(new byte[12], [], [], new byte[16]));
        Assert.Throws<ObjectDisposedException>(() => gcm.TryDecrypt(new byte[12], [], new byte[16], []));
        gcm.Dispose(); // twice is harmless
    }

    private static object Field(object o, string name)
        => o.GetType().GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(o)!;

    private static byte[] RandomBytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }
}
