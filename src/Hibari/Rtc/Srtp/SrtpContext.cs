using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Hibari.Rtc.Srtp;

/// <summary>
/// SRTP/SRTCP state of one direction of one SSRC: session keys, the ROC (sending) or ROC estimate and 64-packet replay
/// windows (receiving), and the SRTCP index. Packets are transformed in place on spans; nothing is allocated per
/// packet. Not thread-safe: one context belongs to one send or receive loop.
/// </summary>
/// <remarks>
/// Never protect two different payloads under the same (SSRC, ROC, SEQ) — with CTR and GCM that leaks plaintext
/// (docs/protocol-notes.md, "SRTP rules"). The first RTP packet binds the context to its SSRC.
/// </remarks>
public sealed class SrtpContext : IDisposable
{
    private const int RtcpHeaderLength = 8;
    private const int SrtcpIndexLength = 4;
    private const uint EFlag = 0x8000_0000;
    private const uint MaxSrtcpIndex = 0x7FFF_FFFF;

    private readonly SrtpProfile _profile;
    private readonly int _tagLength;
    private readonly SessionKeys _rtp;
    private readonly SessionKeys _rtcp;

    /// <summary>More SSRCs than any real peer uses; beyond it new streams are refused (bounded state for garbage).</summary>
    internal const int MaxStreams = 1024;

    // One DTLS-SRTP key serves every SSRC of a direction; the ROC, replay windows and SRTCP index are per SSRC
    // (RFC 3711 §3.2.3). Only authenticated packets create receive state.
    private readonly Dictionary<uint, Stream> _streams = [];
    private Stream? _last;
    private uint _srtcpIndexSeed;

    /// <summary>Derives the session keys from the DTLS-SRTP master key and salt (RFC 3711 §4.3, kdr 0).</summary>
    /// <exception cref="ArgumentException">Key or salt length does not fit the profile (configuration, not a packet).</exception>
    public SrtpContext(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
        : this(profile, masterKey, masterSalt, GcmCipher.ManagedByDefault) { }

    /// <param name="managedGcm">False forces <see cref="System.Security.Cryptography.AesGcm"/> for the GCM profile
    /// (tests run both paths); true uses <see cref="AesGcmIntrinsics"/> where the CPU supports it.</param>
    internal SrtpContext(SrtpProfile profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, bool managedGcm)
    {
        var keyLength = SrtpProfileInfo.MasterKeyLength(profile);
        var saltLength = SrtpProfileInfo.MasterSaltLength(profile);
        if (masterKey.Length != keyLength) throw new ArgumentException($"master key must be {keyLength} bytes for {profile}", nameof(masterKey));
        if (masterSalt.Length != saltLength) throw new ArgumentException($"master salt must be {saltLength} bytes for {profile}", nameof(masterSalt));
        _profile = profile;
        _tagLength = SrtpProfileInfo.TagLength(profile);
        var gcm = profile == SrtpProfile.AeadAes128Gcm;
        _rtp = SessionKeys.Derive(masterKey, masterSalt, keyLength, saltLength, gcm ? 0 : 20,
            SrtpLabel.RtpEncryption, SrtpLabel.RtpAuthentication, SrtpLabel.RtpSalt, managedGcm);
        _rtcp = SessionKeys.Derive(masterKey, masterSalt, keyLength, saltLength, gcm ? 0 : 20,
            SrtpLabel.RtcpEncryption, SrtpLabel.RtcpAuthentication, SrtpLabel.RtcpSalt, managedGcm);
    }

    private SrtpContext(SrtpProfile profile, SessionKeys rtp, SessionKeys rtcp)
    {
        _profile = profile;
        _tagLength = SrtpProfileInfo.TagLength(profile);
        _rtp = rtp;
        _rtcp = rtcp;
    }

    /// <summary>Test seam: session keys given directly, as RFC 7714 §16–17 state their vectors.</summary>
    internal static SrtpContext FromSessionKeys(SrtpProfile profile, ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> authKey,
        bool managedGcm = true)
        => new(profile, SessionKeys.Create(key, salt, authKey, managedGcm), SessionKeys.Create(key, salt, authKey, managedGcm));

    /// <summary>Whether GCM runs in managed code (<see cref="AesGcmIntrinsics"/>) rather than through AesGcm; false for AES-CM.</summary>
    internal bool ManagedGcm => _rtp.Gcm?.IsManaged ?? false;

    public SrtpProfile Profile => _profile;

    /// <summary>Bytes ProtectRtp appends (the tag).</summary>
    public int RtpOverhead => _tagLength;

    /// <summary>Bytes ProtectRtcp appends (tag and the E-flag|SRTCP index word).</summary>
    public int RtcpOverhead => _tagLength + SrtcpIndexLength;

    /// <summary>
    /// The SRTCP index the next ProtectRtcp will use: of the last stream used, and the start of new streams (test
    /// seam for fixed-index vectors).
    /// </summary>
    internal uint NextSrtcpIndex
    {
        get => _last?.NextSrtcpIndex ?? _srtcpIndexSeed;
        set
        {
            _srtcpIndexSeed = value;
            foreach (var st in _streams.Values) st.NextSrtcpIndex = value;
        }
    }

    /// <summary>Rollover counter implied by the highest RTP index received on the last stream (RFC 3711 §3.3.1).</summary>
    public uint ReceiveRolloverCounter => (uint)((_last?.RtpWindow.Highest ?? 0) >> 16);

    /// <summary>How many SSRCs this context keeps state for.</summary>
    public int StreamCount => _streams.Count;

    private sealed class Stream(uint seed)
    {
        public bool SendStarted;
        public ulong SendHighest;
        public uint NextSrtcpIndex = seed;
        public ReplayWindow RtpWindow;
        public ReplayWindow RtcpWindow;
    }

    /// <summary>The state of <paramref name="ssrc"/>; a fresh unregistered one when unknown and not <paramref name="create"/>.</summary>
    private Stream? StreamOf(uint ssrc, bool create)
    {
        if (_last is not null && _lastSsrc == ssrc) return _last;
        if (!_streams.TryGetValue(ssrc, out var st))
        {
            if (!create) return new Stream(_srtcpIndexSeed);
            if (_streams.Count >= MaxStreams) return null;
            st = new Stream(_srtcpIndexSeed);
            _streams[ssrc] = st;
        }
        _last = st;
        _lastSsrc = ssrc;
        return st;
    }

    private bool Register(uint ssrc, Stream st)
    {
        if (_streams.ContainsKey(ssrc)) return true;
        if (_streams.Count >= MaxStreams) return false;
        _streams[ssrc] = st;
        _last = st;
        _lastSsrc = ssrc;
        return true;
    }

    private uint _lastSsrc;

    /// <summary>
    /// Protects the RTP packet in <paramref name="buffer"/>[..<paramref name="length"/>] in place: the payload is
    /// encrypted, the header (with CSRCs and extension) authenticated, and the tag appended.
    /// </summary>
    public SrtpResult ProtectRtp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length) return SrtpResult.BufferTooSmall;
        var packet = buffer[..length];
        var r = RtpHeader(packet, out var headerLength);
        if (r != SrtpResult.Ok) return r;
        if (buffer.Length - length < _tagLength) return SrtpResult.BufferTooSmall;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[8..]);
        if (StreamOf(ssrc, create: true) is not { } st) return SrtpResult.TooManyStreams;
        var seq = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        var estimated = RolloverCounter.EstimateIndex(st.SendStarted, st.SendHighest, seq);
        if (estimated < 0) return SrtpResult.IndexOutOfRange;
        var index = (ulong)estimated;
        var roc = (uint)(index >> 16);

        var tag = buffer.Slice(length, _tagLength);
        if (_profile == SrtpProfile.AeadAes128Gcm)
        {
            Span<byte> nonce = stackalloc byte[12];
            RtpGcmNonce(_rtp.Salt, ssrc, roc, seq, nonce);
            var payload = packet[headerLength..];
            _rtp.Gcm!.Encrypt(nonce, payload, payload, tag, packet[..headerLength]);
        }
        else
        {
            Span<byte> iv = stackalloc byte[16];
            CounterIv(_rtp.Salt, ssrc, index, iv);
            _rtp.Ctr!.Transform(iv, packet[headerLength..]);
            RtpHmac(packet, roc, tag);
        }
        if (!st.SendStarted || index > st.SendHighest) st.SendHighest = index;
        st.SendStarted = true;
        protectedLength = length + _tagLength;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Verifies and decrypts the SRTP packet <paramref name="packet"/> in place. On success the RTP packet is
    /// <paramref name="packet"/>[..<paramref name="plainLength"/>] and the replay window and ROC have advanced; on
    /// failure nothing has advanced and the buffer's content is unspecified (drop it).
    /// </summary>
    public SrtpResult UnprotectRtp(Span<byte> packet, out int plainLength)
    {
        plainLength = 0;
        if (packet.Length < 12 + _tagLength) return SrtpResult.TooShort;
        var length = packet.Length - _tagLength;
        var rtp = packet[..length];
        var r = RtpHeader(rtp, out var headerLength);
        if (r != SrtpResult.Ok) return r;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(rtp[8..]);
        var st = StreamOf(ssrc, create: false)!;
        var seq = BinaryPrimitives.ReadUInt16BigEndian(rtp[2..]);
        var estimated = RolloverCounter.EstimateIndex(st.RtpWindow.Started, st.RtpWindow.Highest, seq);
        if (estimated < 0) return SrtpResult.TooOld;
        var index = (ulong)estimated;
        if ((r = st.RtpWindow.Check(index)) != SrtpResult.Ok) return r;
        var roc = (uint)(index >> 16);

        var tag = packet.Slice(length, _tagLength);
        if (_profile == SrtpProfile.AeadAes128Gcm)
        {
            Span<byte> nonce = stackalloc byte[12];
            RtpGcmNonce(_rtp.Salt, ssrc, roc, seq, nonce);
            var payload = rtp[headerLength..];
            if (!_rtp.Gcm!.TryDecrypt(nonce, payload, tag, payload, rtp[..headerLength])) return SrtpResult.AuthenticationFailed;
        }
        else
        {
            Span<byte> expected = stackalloc byte[10];
            RtpHmac(rtp, roc, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, tag)) return SrtpResult.AuthenticationFailed;
            Span<byte> iv = stackalloc byte[16];
            CounterIv(_rtp.Salt, ssrc, index, iv);
            _rtp.Ctr!.Transform(iv, rtp[headerLength..]);
        }
        if (!Register(ssrc, st)) return SrtpResult.TooManyStreams;
        st.RtpWindow.Accept(index);
        plainLength = length;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Protects the (compound) RTCP packet in <paramref name="buffer"/>[..<paramref name="length"/>] in place:
    /// everything after the first 8 bytes is encrypted, E-flag|SRTCP index and the tag are appended (RFC 3711 §3.4;
    /// for GCM the tag precedes the index, RFC 7714 §9).
    /// </summary>
    public SrtpResult ProtectRtcp(Span<byte> buffer, int length, out int protectedLength)
    {
        protectedLength = 0;
        if ((uint)length > (uint)buffer.Length) return SrtpResult.BufferTooSmall;
        var packet = buffer[..length];
        var r = RtcpHeader(packet);
        if (r != SrtpResult.Ok) return r;
        if (buffer.Length - length < RtcpOverhead) return SrtpResult.BufferTooSmall;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        if (StreamOf(ssrc, create: true) is not { } st) return SrtpResult.TooManyStreams;
        if (st.NextSrtcpIndex > MaxSrtcpIndex) return SrtpResult.IndexOutOfRange;
        var index = st.NextSrtcpIndex;
        var word = index | EFlag;

        if (_profile == SrtpProfile.AeadAes128Gcm)
        {
            var tag = buffer.Slice(length, _tagLength);
            BinaryPrimitives.WriteUInt32BigEndian(buffer[(length + _tagLength)..], word);
            Span<byte> nonce = stackalloc byte[12];
            RtcpGcmNonce(_rtcp.Salt, ssrc, index, nonce);
            Span<byte> aad = stackalloc byte[RtcpHeaderLength + SrtcpIndexLength];
            packet[..RtcpHeaderLength].CopyTo(aad);
            BinaryPrimitives.WriteUInt32BigEndian(aad[RtcpHeaderLength..], word);
            var body = packet[RtcpHeaderLength..];
            _rtcp.Gcm!.Encrypt(nonce, body, body, tag, aad);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(buffer[length..], word);
            Span<byte> iv = stackalloc byte[16];
            CounterIv(_rtcp.Salt, ssrc, index, iv);
            _rtcp.Ctr!.Transform(iv, packet[RtcpHeaderLength..]);
            RtcpHmac(buffer[..(length + SrtcpIndexLength)], buffer.Slice(length + SrtcpIndexLength, _tagLength));
        }
        st.NextSrtcpIndex = index + 1;
        protectedLength = length + RtcpOverhead;
        return SrtpResult.Ok;
    }

    /// <summary>
    /// Verifies and (when the E-flag is set) decrypts the SRTCP packet <paramref name="packet"/> in place; the RTCP
    /// packet is <paramref name="packet"/>[..<paramref name="plainLength"/>] on success.
    /// </summary>
    public SrtpResult UnprotectRtcp(Span<byte> packet, out int plainLength)
    {
        plainLength = 0;
        if (packet.Length < RtcpHeaderLength + RtcpOverhead) return SrtpResult.TooShort;
        var length = packet.Length - RtcpOverhead;
        var rtcp = packet[..length];
        var r = RtcpHeader(rtcp);
        if (r != SrtpResult.Ok) return r;
        var ssrc = BinaryPrimitives.ReadUInt32BigEndian(rtcp[4..]);
        var gcm = _profile == SrtpProfile.AeadAes128Gcm;
        var wordOffset = gcm ? length + _tagLength : length;
        var word = BinaryPrimitives.ReadUInt32BigEndian(packet[wordOffset..]);
        var encrypted = (word & EFlag) != 0;
        var index = word & MaxSrtcpIndex;
        var st = StreamOf(ssrc, create: false)!;
        if ((r = st.RtcpWindow.Check(index)) != SrtpResult.Ok) return r;

        if (gcm)
        {
            var tag = packet.Slice(length, _tagLength);
            Span<byte> nonce = stackalloc byte[12];
            RtcpGcmNonce(_rtcp.Salt, ssrc, index, nonce);
            if (encrypted)
            {
                Span<byte> aad = stackalloc byte[RtcpHeaderLength + SrtcpIndexLength];
                rtcp[..RtcpHeaderLength].CopyTo(aad);
                BinaryPrimitives.WriteUInt32BigEndian(aad[RtcpHeaderLength..], word);
                var body = rtcp[RtcpHeaderLength..];
                if (!_rtcp.Gcm!.TryDecrypt(nonce, body, tag, body, aad)) return SrtpResult.AuthenticationFailed;
            }
            else
            {
                // E = 0: the whole packet and the index word are associated data (RFC 7714 §17.3). The AAD is
                // not contiguous (the tag sits between), so move the word next to the packet, verify, move it back.
                Span<byte> saved = stackalloc byte[16];
                tag.CopyTo(saved);
                BinaryPrimitives.WriteUInt32BigEndian(packet[length..], word);
                var ok = _rtcp.Gcm!.TryDecrypt(nonce, ReadOnlySpan<byte>.Empty, saved, Span<byte>.Empty, packet[..(length + SrtcpIndexLength)]);
                saved.CopyTo(packet[length..]);
                BinaryPrimitives.WriteUInt32BigEndian(packet[wordOffset..], word);
                if (!ok) return SrtpResult.AuthenticationFailed;
            }
        }
        else
        {
            Span<byte> expected = stackalloc byte[10];
            RtcpHmac(packet[..(length + SrtcpIndexLength)], expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, packet.Slice(length + SrtcpIndexLength, _tagLength)))
                return SrtpResult.AuthenticationFailed;
            if (encrypted)
            {
                Span<byte> iv = stackalloc byte[16];
                CounterIv(_rtcp.Salt, ssrc, index, iv);
                _rtcp.Ctr!.Transform(iv, rtcp[RtcpHeaderLength..]);
            }
        }
        if (!Register(ssrc, st)) return SrtpResult.TooManyStreams;
        st.RtcpWindow.Accept(index);
        plainLength = length;
        return SrtpResult.Ok;
    }

    public void Dispose()
    {
        _rtp.Dispose();
        _rtcp.Dispose();
    }

    /// <summary>Length of the RTP header with CSRCs and extension (RFC 3550 §5.1, §5.3.1).</summary>
    internal static SrtpResult RtpHeader(ReadOnlySpan<byte> packet, out int headerLength)
    {
        headerLength = 0;
        if (packet.Length < 12) return SrtpResult.TooShort;
        if (packet[0] >> 6 != 2) return SrtpResult.MalformedHeader;
        var length = 12 + 4 * (packet[0] & 0x0F);
        if ((packet[0] & 0x10) != 0)
        {
            if (packet.Length < length + 4) return SrtpResult.MalformedHeader;
            length += 4 + 4 * BinaryPrimitives.ReadUInt16BigEndian(packet[(length + 2)..]);
        }
        if (length > packet.Length) return SrtpResult.MalformedHeader;
        headerLength = length;
        return SrtpResult.Ok;
    }

    private static SrtpResult RtcpHeader(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < RtcpHeaderLength) return SrtpResult.TooShort;
        if (packet[0] >> 6 != 2) return SrtpResult.MalformedHeader;
        return SrtpResult.Ok;
    }

    /// <summary>AES-CM IV (RFC 3711 §4.1.1): (k_s·2^16) XOR (SSRC·2^64) XOR (i·2^16).</summary>
    private static void CounterIv(ReadOnlySpan<byte> salt, uint ssrc, ulong index, Span<byte> iv)
    {
        iv.Clear();
        salt.CopyTo(iv);
        iv[4] ^= (byte)(ssrc >> 24);
        iv[5] ^= (byte)(ssrc >> 16);
        iv[6] ^= (byte)(ssrc >> 8);
        iv[7] ^= (byte)ssrc;
        for (var i = 0; i < 6; i++) iv[8 + i] ^= (byte)(index >> (40 - 8 * i));
    }

    /// <summary>GCM RTP IV (RFC 7714 §8.1): (00 00 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt.</summary>
    private static void RtpGcmNonce(ReadOnlySpan<byte> salt, uint ssrc, uint roc, ushort seq, Span<byte> nonce)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[6..], roc);
        BinaryPrimitives.WriteUInt16BigEndian(nonce[10..], seq);
        for (var i = 0; i < 12; i++) nonce[i] ^= salt[i];
    }

    /// <summary>GCM SRTCP IV (RFC 7714 §9.1): (00 00 ‖ SSRC ‖ 00 00 ‖ 0 ‖ 31-bit index) XOR salt.</summary>
    private static void RtcpGcmNonce(ReadOnlySpan<byte> salt, uint ssrc, uint index, Span<byte> nonce)
    {
        nonce[0] = 0;
        nonce[1] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[2..], ssrc);
        nonce[6] = 0;
        nonce[7] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(nonce[8..], index);
        for (var i = 0; i < 12; i++) nonce[i] ^= salt[i];
    }

    /// <summary>HMAC-SHA1 over the authenticated portion ‖ ROC, truncated to 80 bits (RFC 3711 §4.2).</summary>
    private void RtpHmac(ReadOnlySpan<byte> authenticated, uint roc, Span<byte> tag)
    {
        var hmac = _rtp.Hmac!;
        Span<byte> rocBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(rocBytes, roc);
        hmac.AppendData(authenticated);
        hmac.AppendData(rocBytes);
        Span<byte> digest = stackalloc byte[20];
        hmac.GetHashAndReset(digest);
        digest[..10].CopyTo(tag);
    }

    private void RtcpHmac(ReadOnlySpan<byte> authenticated, Span<byte> tag)
    {
        var hmac = _rtcp.Hmac!;
        hmac.AppendData(authenticated);
        Span<byte> digest = stackalloc byte[20];
        hmac.GetHashAndReset(digest);
        digest[..10].CopyTo(tag);
    }

    /// <summary>Session keys and the cipher objects built from them, for RTP or for RTCP.</summary>
    private sealed class SessionKeys : IDisposable
    {
        public required byte[] Salt { get; init; }
        public AesCounterMode? Ctr { get; init; }
        public IncrementalHash? Hmac { get; init; }
        public GcmCipher? Gcm { get; init; }

        public static SessionKeys Derive(ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt, int keyLength,
            int saltLength, int authLength, SrtpLabel encryption, SrtpLabel authentication, SrtpLabel salt, bool managedGcm)
        {
            Span<byte> key = stackalloc byte[keyLength];
            Span<byte> sessionSalt = stackalloc byte[saltLength];
            Span<byte> auth = stackalloc byte[authLength];
            SrtpKeyDerivation.Derive(masterKey, masterSalt, encryption, key);
            SrtpKeyDerivation.Derive(masterKey, masterSalt, salt, sessionSalt);
            if (authLength > 0) SrtpKeyDerivation.Derive(masterKey, masterSalt, authentication, auth);
            try
            {
                return Create(key, sessionSalt, auth, managedGcm);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(key);
                CryptographicOperations.ZeroMemory(auth);
            }
        }

        /// <summary>GCM when there is no authentication key; AES-CM with HMAC-SHA1 otherwise.</summary>
        public static SessionKeys Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> authKey, bool managedGcm)
        {
            if (authKey.IsEmpty)
                return new SessionKeys { Salt = salt.ToArray(), Gcm = new GcmCipher(key, managedGcm) };
            var padded = new byte[14];
            salt.CopyTo(padded);
            return new SessionKeys
            {
                Salt = padded,
                Ctr = new AesCounterMode(key),
                Hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA1, authKey),
            };
        }

        public void Dispose()
        {
            Ctr?.Dispose();
            Hmac?.Dispose();
            Gcm?.Dispose();
        }
    }
}
