using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Hibari.Rtc.Dtls;

/// <summary>What <see cref="ManagedRecordLayer.Next"/> found in one record of a datagram.</summary>
internal enum RecordKind
{
    /// <summary>No record left in the datagram.</summary>
    End,
    /// <summary>Malformed, of another epoch, a replay, or failing authentication: counted in <see cref="ManagedRecordLayer.Dropped"/>.</summary>
    Dropped,
    /// <summary>Authenticated application data, now in <see cref="ManagedRecordLayer.Plaintext"/>.</summary>
    ApplicationData,
    /// <summary>An authenticated alert (two bytes in <see cref="ManagedRecordLayer.Plaintext"/>, or fewer when malformed).</summary>
    Alert,
    /// <summary>An authenticated epoch-1 handshake record: the peer's Finished again.</summary>
    Handshake,
    /// <summary>An epoch-0 handshake or ChangeCipherSpec record (unauthenticated): the peer's earlier flight again.</summary>
    PlainHandshake,
}

/// <summary>
/// The DTLS 1.2 record layer of epoch 1 for the three AEAD suites <see cref="HandshakeOutcome"/> offers, after
/// BouncyCastle has done the handshake (docs/dtls.md). AES-GCM runs on <see cref="Srtp.GcmCipher"/> (managed AES-NI and
/// PCLMULQDQ where the CPU has them, the BCL's AesGcm otherwise; docs/decisions.md, D-33), ChaCha20-Poly1305 on the
/// BCL's. Records follow RFC 6347 §4.1 (13-byte header: type, version, epoch(2) + sequence number(6), length); AES-GCM per RFC 5288 (nonce = 4-byte implicit salt + 8-byte explicit nonce
/// carried in the record, which we set to epoch + sequence number), ChaCha20-Poly1305 per RFC 7905 (nonce = 12-byte IV
/// XOR the zero-padded epoch + sequence number, nothing explicit). The additional data of both is RFC 5246 §6.2.3.3
/// with DTLS's seq_num: epoch(2) + sequence number(6), type, version, plaintext length.
/// </summary>
/// <remarks>
/// Receiving (<see cref="Next"/>) is for one thread at a time (the endpoint serialises it); sending is guarded by a
/// busy flag rather than a lock: a second concurrent <see cref="Send"/> returns false instead of waiting, so one AEAD
/// context is never used by two threads and a sequence number (hence a nonce) is never used twice.
/// </remarks>
internal sealed class ManagedRecordLayer : IDisposable
{
    public const int HeaderLength = 13;
    public const int TagLength = 16;
    /// <summary>Every datagram we send fits this (docs/dtls.md, pitfall 8), as BouncyCastle's handshake did.</summary>
    public const int DatagramLimit = DatagramQueue.SendLimit;
    /// <summary>The largest datagram taken in; RFC 6347 lets a record be larger, a path MTU does not.</summary>
    public const int ReceiveLimit = DatagramQueue.ReceiveLimit;

    public const byte ChangeCipherSpec = 20;
    public const byte AlertType = 21;
    public const byte HandshakeType = 22;
    public const byte ApplicationDataType = 23;
    private const ushort Dtls12 = 0xFEFD;
    private const long MaxSequence = (1L << 48) - 1;
    private static readonly TimeSpan CloseWait = TimeSpan.FromMilliseconds(200);

    private readonly Srtp.GcmCipher? _gcmWrite, _gcmRead;
    private readonly ChaCha20Poly1305? _chachaWrite, _chachaRead;
    private readonly byte[] _writeIv;
    private readonly byte[] _readIv;
    private readonly int _explicitNonceLength;
    private readonly byte[] _sendBuffer = new byte[DatagramLimit];
    private long _writeSequence;
    private int _sendBusy;
    private int _sendOwner; // managed thread id of the last sender (who holds _sendBusy, while it is set)
    private volatile bool _sendClosed;
    private int _closing;
    private long _dropped;
    private long _sendErrors;
    // RFC 6347 §4.1.2.6: the highest authenticated sequence number and a bitmap of the 64 below it (bit i = highest - i).
    private Srtp.ReplayWindow _replay;

    /// <param name="cipherSuite">One of the suites <see cref="IsSupported"/> accepts.</param>
    /// <param name="keyBlock">RFC 5246 §6.3 key block: client key, server key, client IV, server IV (AEAD: no MAC keys).</param>
    /// <param name="isServer">Which halves of the key block are ours.</param>
    /// <param name="firstWriteSequence">Our first epoch-1 sequence number (above every one BouncyCastle used).</param>
    public ManagedRecordLayer(int cipherSuite, ReadOnlySpan<byte> keyBlock, bool isServer, long firstWriteSequence)
        : this(cipherSuite, keyBlock, isServer, firstWriteSequence, Srtp.GcmCipher.ManagedByDefault) { }

    /// <param name="managedGcm">False forces the BCL's AesGcm for the AES-GCM suites (tests run both paths).</param>
    internal ManagedRecordLayer(int cipherSuite, ReadOnlySpan<byte> keyBlock, bool isServer, long firstWriteSequence, bool managedGcm)
    {
        var (keyLength, ivLength, chacha) = Parameters(cipherSuite);
        if (keyBlock.Length != 2 * (keyLength + ivLength))
            throw new ArgumentException($"a key block of {2 * (keyLength + ivLength)} bytes, not {keyBlock.Length}", nameof(keyBlock));
        ArgumentOutOfRangeException.ThrowIfNegative(firstWriteSequence);
        var clientKey = keyBlock[..keyLength];
        var serverKey = keyBlock.Slice(keyLength, keyLength);
        var clientIv = keyBlock.Slice(2 * keyLength, ivLength);
        var serverIv = keyBlock.Slice(2 * keyLength + ivLength, ivLength);
        var writeKey = isServer ? serverKey : clientKey;
        var readKey = isServer ? clientKey : serverKey;
        _writeIv = (isServer ? serverIv : clientIv).ToArray();
        _readIv = (isServer ? clientIv : serverIv).ToArray();
        if (chacha)
        {
            _chachaWrite = new ChaCha20Poly1305(writeKey);
            _chachaRead = new ChaCha20Poly1305(readKey);
        }
        else
        {
            _gcmWrite = new Srtp.GcmCipher(writeKey, managedGcm);
            _gcmRead = new Srtp.GcmCipher(readKey, managedGcm);
            _explicitNonceLength = 8;
        }
        CipherSuite = cipherSuite;
        _writeSequence = firstWriteSequence;
        MaxPlaintextLength = DatagramLimit - HeaderLength - _explicitNonceLength - TagLength;
    }

    public int CipherSuite { get; }

    /// <summary>The most application data one record of one <see cref="DatagramLimit"/>-byte datagram carries.</summary>
    public int MaxPlaintextLength { get; }

    /// <summary>The plaintext of the last record <see cref="Next"/> returned; overwritten by the next one.</summary>
    public byte[] Plaintext { get; } = new byte[ReceiveLimit];

    /// <summary>Records dropped by <see cref="Next"/> (malformed, other epoch, replayed, unauthenticated).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Sends whose <see cref="DtlsSend"/> threw (a lost datagram to DTLS).</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>The sequence number the next record we send will carry.</summary>
    public long NextWriteSequence => Interlocked.Read(ref _writeSequence);

    /// <summary>False after <see cref="CloseSending"/>: nothing more is sent.</summary>
    public bool CanSend => !_sendClosed;

    public static bool IsSupported(int cipherSuite) => cipherSuite switch
    {
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            or Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => Srtp.GcmCipher.IsSupported,
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => ChaCha20Poly1305.IsSupported,
        _ => false,
    };

    public static string Name(int cipherSuite) => cipherSuite switch
    {
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        _ => $"0x{cipherSuite:X4}",
    };

    /// <summary>RFC 5246 §6.3: how many bytes of key block the suite takes.</summary>
    public static int KeyBlockLength(int cipherSuite)
    {
        var (key, iv, _) = Parameters(cipherSuite);
        return 2 * (key + iv);
    }

    private static (int Key, int Iv, bool ChaCha) Parameters(int cipherSuite) => cipherSuite switch
    {
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => (16, 4, false),
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => (32, 4, false),
        Org.BouncyCastle.Tls.CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => (32, 12, true),
        _ => throw new ArgumentException($"the managed DTLS record layer has no cipher suite 0x{cipherSuite:X4}", nameof(cipherSuite)),
    };

    /// <summary>
    /// Reads the record at <paramref name="offset"/> of <paramref name="datagram"/> and moves past it. Several records
    /// may share a datagram (RFC 6347 §4.1.1); a malformed header drops the rest of the datagram. Never throws for any
    /// input (but does after <see cref="Dispose"/>).
    /// </summary>
    /// <param name="length">Plaintext length in <see cref="Plaintext"/> for the authenticated kinds.</param>
    public RecordKind Next(ReadOnlySpan<byte> datagram, ref int offset, out int length)
    {
        length = 0;
        if ((uint)offset >= (uint)datagram.Length) return RecordKind.End;
        var rest = datagram[offset..];
        if (rest.Length < HeaderLength) return DropRest(datagram, ref offset);
        var fragmentLength = BinaryPrimitives.ReadUInt16BigEndian(rest[11..]);
        if (HeaderLength + fragmentLength > rest.Length) return DropRest(datagram, ref offset);
        offset += HeaderLength + fragmentLength;

        var type = rest[0];
        var version = BinaryPrimitives.ReadUInt16BigEndian(rest[1..]);
        var epoch = BinaryPrimitives.ReadUInt16BigEndian(rest[3..]);
        if (rest[1] != 0xFE) return Drop(); // not DTLS (0xFEFF 1.0, 0xFEFD 1.2)
        if (epoch == 0)
            return type is HandshakeType or ChangeCipherSpec ? RecordKind.PlainHandshake : Drop();
        if (epoch != 1 || version != Dtls12 || type is not (AlertType or HandshakeType or ApplicationDataType)) return Drop();

        var sequence = ReadUInt48(rest[5..]);
        if (!IsFresh(sequence)) return Drop();
        var fragment = rest.Slice(HeaderLength, fragmentLength);
        var overhead = _explicitNonceLength + TagLength;
        if (fragmentLength < overhead || fragmentLength - overhead > Plaintext.Length) return Drop();
        var plaintextLength = fragmentLength - overhead;

        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[13];
        rest[3..11].CopyTo(aad); // epoch + sequence number
        aad[8] = type;
        BinaryPrimitives.WriteUInt16BigEndian(aad[9..], version);
        BinaryPrimitives.WriteUInt16BigEndian(aad[11..], (ushort)plaintextLength);
        var ciphertext = fragment.Slice(_explicitNonceLength, plaintextLength);
        var tag = fragment[^TagLength..];
        var plaintext = Plaintext.AsSpan(0, plaintextLength);
        if (_chachaRead is { } chacha)
        {
            ChaChaNonce(_readIv, rest[3..11], nonce);
            try
            {
                chacha.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            }
            catch (CryptographicException)
            {
                return Drop(); // forged, corrupted, or under other keys (the slow path: the runtime throws)
            }
        }
        else
        {
            _readIv.CopyTo(nonce);
            fragment[..8].CopyTo(nonce[4..]);
            if (!_gcmRead!.TryDecrypt(nonce, ciphertext, tag, plaintext, aad)) return Drop(); // forged, corrupted, other keys
        }
        MarkSeen(sequence);
        length = plaintextLength;
        return type switch
        {
            ApplicationDataType => RecordKind.ApplicationData,
            AlertType => RecordKind.Alert,
            _ => RecordKind.Handshake,
        };
    }

    private RecordKind Drop()
    {
        Interlocked.Increment(ref _dropped);
        return RecordKind.Dropped;
    }

    private RecordKind DropRest(ReadOnlySpan<byte> datagram, ref int offset)
    {
        offset = datagram.Length;
        return Drop();
    }

    // The same 64-record sliding window as SRTP's (RFC 6347 §4.1.2.6 and RFC 3711 §3.3.2 describe one algorithm).
    private bool IsFresh(long sequence) => _replay.Check((ulong)sequence) == Srtp.SrtpResult.Ok;

    private void MarkSeen(long sequence) => _replay.Accept((ulong)sequence);

    /// <summary>
    /// Encrypts one record of <paramref name="type"/> (epoch 1, the next sequence number) and hands it to
    /// <paramref name="send"/> on this thread. False when closed, when another thread is sending on this layer right now,
    /// or when the sequence numbers are exhausted. A <paramref name="send"/> that throws is a lost datagram (true).
    /// </summary>
    public bool Send(byte type, ReadOnlySpan<byte> data, DtlsSend send)
    {
        if (data.Length > MaxPlaintextLength) throw new ArgumentException($"at most {MaxPlaintextLength} bytes, not {data.Length}", nameof(data));
        if (Interlocked.CompareExchange(ref _sendBusy, 1, 0) != 0) return false;
        try
        {
            _sendOwner = Environment.CurrentManagedThreadId;
            return !_sendClosed && SendLocked(type, data, send);
        }
        finally
        {
            Volatile.Write(ref _sendBusy, 0);
        }
    }

    private bool SendLocked(byte type, ReadOnlySpan<byte> data, DtlsSend send)
    {
        var sequence = _writeSequence;
        if (sequence > MaxSequence) return false; // RFC 6347 §4.1: never wrap; 2^48 records is years of anything
        Volatile.Write(ref _writeSequence, sequence + 1);

        var record = _sendBuffer.AsSpan(0, HeaderLength + _explicitNonceLength + data.Length + TagLength);
        record[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(record[1..], Dtls12);
        BinaryPrimitives.WriteUInt16BigEndian(record[3..], 1); // epoch
        WriteUInt48(record[5..], sequence);
        BinaryPrimitives.WriteUInt16BigEndian(record[11..], (ushort)(record.Length - HeaderLength));

        Span<byte> aad = stackalloc byte[13];
        record[3..11].CopyTo(aad); // epoch + sequence number
        aad[8] = type;
        BinaryPrimitives.WriteUInt16BigEndian(aad[9..], Dtls12);
        BinaryPrimitives.WriteUInt16BigEndian(aad[11..], (ushort)data.Length);
        Span<byte> nonce = stackalloc byte[12];
        var ciphertext = record.Slice(HeaderLength + _explicitNonceLength, data.Length);
        var tag = record[^TagLength..];
        if (_chachaWrite is { } chacha)
        {
            ChaChaNonce(_writeIv, record[3..11], nonce);
            chacha.Encrypt(nonce, data, ciphertext, tag, aad);
        }
        else
        {
            // RFC 5288 §3: the explicit nonce must not repeat under a key; epoch + sequence number never does.
            record[3..11].CopyTo(record[HeaderLength..]);
            _writeIv.CopyTo(nonce);
            record[3..11].CopyTo(nonce[4..]);
            _gcmWrite!.Encrypt(nonce, data, ciphertext, tag, aad);
        }
        try
        {
            send(record);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _sendErrors); // a lost datagram; SCTP above retransmits
        }
        return true;
    }

    /// <summary>
    /// Stops sending for good, optionally after one last alert (close_notify). Waits a moment for a send in progress on
    /// another thread; if it does not end (a send on this very thread, from inside its own <see cref="DtlsSend"/>), just
    /// closes without the alert. Idempotent.
    /// </summary>
    public void CloseSending(DtlsSend send, ReadOnlySpan<byte> finalAlert = default)
    {
        _sendClosed = true;
        if (Interlocked.Exchange(ref _closing, 1) == 1) return;
        var deadline = Environment.TickCount64 + (long)CloseWait.TotalMilliseconds;
        var spin = new SpinWait();
        while (Interlocked.CompareExchange(ref _sendBusy, 1, 0) != 0)
        {
            // Called from inside our own send (its DtlsSend callback): waiting would wait for ourselves.
            if (Volatile.Read(ref _sendOwner) == Environment.CurrentManagedThreadId) return;
            if (Environment.TickCount64 > deadline) return; // the sender sees _sendClosed next time; the GC frees its cipher
            spin.SpinOnce();
        }
        // Ours for good: never released, so no later Send touches the cipher.
        try
        {
            if (!finalAlert.IsEmpty && (_gcmWrite is not null || _chachaWrite is not null)) SendLocked(AlertType, finalAlert, send);
        }
        catch (Exception)
        {
            // Closing is best effort.
        }
        _gcmWrite?.Dispose();
        _chachaWrite?.Dispose();
    }

    /// <summary>Frees the receive cipher; <see cref="Next"/> must not run at the same time (the endpoint's receive lock).</summary>
    public void Dispose()
    {
        _gcmRead?.Dispose();
        _chachaRead?.Dispose();
    }

    private static void ChaChaNonce(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> epochAndSequence, Span<byte> nonce)
    {
        // RFC 7905 §2: the 64-bit record sequence number, left-padded with zeros to 12 bytes, XOR the IV.
        iv.CopyTo(nonce);
        for (var i = 0; i < 8; i++) nonce[4 + i] ^= epochAndSequence[i];
    }

    private static long ReadUInt48(ReadOnlySpan<byte> b) =>
        ((long)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);

    private static void WriteUInt48(Span<byte> b, long value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)(value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(b[2..], (uint)value);
    }

    /// <summary>Reads a record header: false when fewer than 13 bytes or the length runs past the datagram.</summary>
    internal static bool TryReadHeader(ReadOnlySpan<byte> datagram, ref int offset, out byte type, out int epoch, out long sequence)
    {
        type = 0;
        epoch = 0;
        sequence = 0;
        if ((uint)offset >= (uint)datagram.Length) return false;
        var rest = datagram[offset..];
        if (rest.Length < HeaderLength) return false;
        var length = BinaryPrimitives.ReadUInt16BigEndian(rest[11..]);
        if (HeaderLength + length > rest.Length) return false;
        type = rest[0];
        epoch = BinaryPrimitives.ReadUInt16BigEndian(rest[3..]);
        sequence = ReadUInt48(rest[5..]);
        offset += HeaderLength + length;
        return true;
    }
}
