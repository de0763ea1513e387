using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;

namespace Hibari.Tests.Rtc.Turn;

/// <summary>
/// A browser-like TURN client for the tests, written apart from the core's codec: requests are built with the ICE
/// code's <see cref="StunMessageWriter"/>, MESSAGE-INTEGRITY is HMAC-SHA1 keyed with MD5(username:realm:password) as
/// libwebrtc computes it, and it answers 401/438 challenges the way a browser does (take REALM and NONCE, retry).
/// </summary>
internal sealed class TurnTestClient(TurnServerCore core, TurnClientKey key, string username, string password)
{
    private static int _txCounter;

    public TurnServerCore Core { get; } = core;
    public TurnClientKey Key { get; set; } = key;
    public string Username { get; set; } = username;
    public string Password { get; set; } = password;
    public string? Realm { get; set; }
    public string? Nonce { get; set; }
    public bool UseSha256 { get; set; }
    public bool AddFingerprint { get; set; } = true;
    /// <summary>Microseconds passed to the core.</summary>
    public long Now { get; set; } = 1_000_000;

    public static byte[] Md5Key(string username, string realm, string password) =>
        MD5.HashData(Encoding.UTF8.GetBytes($"{username}:{realm}:{password}"));

    public static byte[] NewTransactionId()
    {
        var tx = new byte[12];
        BinaryPrimitives.WriteInt32BigEndian(tx, Interlocked.Increment(ref _txCounter));
        RandomNumberGenerator.Fill(tx.AsSpan(4));
        return tx;
    }

    /// <summary>XOR-*-ADDRESS value bytes, computed here rather than by the core's <see cref="TurnAddress"/>.</summary>
    public static byte[] XorAddress(IPEndPoint endPoint, ReadOnlySpan<byte> transactionId)
    {
        var ip = endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address;
        var address = ip.GetAddressBytes();
        var value = new byte[4 + address.Length];
        value[1] = address.Length == 4 ? (byte)1 : (byte)2;
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(2), (ushort)(endPoint.Port ^ 0x2112));
        var mask = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, 0x2112A442);
        transactionId.CopyTo(mask.AsSpan(4));
        for (var i = 0; i < address.Length; i++) value[4 + i] = (byte)(address[i] ^ mask[i]);
        return value;
    }

    public static IPEndPoint ReadXorAddress(ReadOnlySpan<byte> value, ReadOnlySpan<byte> transactionId)
    {
        var length = value[1] == 1 ? 4 : 16;
        var mask = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, 0x2112A442);
        transactionId.CopyTo(mask.AsSpan(4));
        var address = new byte[length];
        for (var i = 0; i < length; i++) address[i] = (byte)(value[4 + i] ^ mask[i]);
        return new IPEndPoint(new IPAddress(address), BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ 0x2112);
    }

    public static byte[] UInt32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    /// <summary>
    /// A request of <paramref name="method"/> with <paramref name="attributes"/> (value computed from the transaction id),
    /// signed with the current realm/nonce when the client has been challenged.
    /// </summary>
    public byte[] Build(ushort method, Action<StunMessageWriter, byte[]>? attributes = null, bool sign = true, byte[]? transactionId = null,
        StunClass cls = StunClass.Request)
    {
        var tx = transactionId ?? NewTransactionId();
        var w = new StunMessageWriter(method, cls, tx);
        attributes?.Invoke(w, tx);
        if (sign && Realm is not null && Nonce is not null)
        {
            w.AddUsername(Username).Add(StunAttributeType.Realm, Encoding.UTF8.GetBytes(Realm)).Add(StunAttributeType.Nonce, Encoding.UTF8.GetBytes(Nonce));
            var key = Md5Key(Username, Realm, Password);
            if (!UseSha256) w.AddMessageIntegrity(key);
            else return Finish(AppendSha256(w.ToArray(), key));
        }
        return AddFingerprint && cls != StunClass.Indication ? w.AddFingerprint().ToArray() : w.ToArray();

        byte[] Finish(byte[] message) => AddFingerprint ? AppendFingerprint(message) : message;
    }

    /// <summary>Appends MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), truncated to <paramref name="length"/> bytes.</summary>
    public static byte[] AppendSha256(byte[] message, byte[] key, int length = 32)
    {
        var result = new byte[message.Length + 4 + length];
        message.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)(result.Length - 20));
        var mac = HMACSHA256.HashData(key, result.AsSpan(0, message.Length));
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(message.Length), 0x001C);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(message.Length + 2), (ushort)length);
        mac.AsSpan(0, length).CopyTo(result.AsSpan(message.Length + 4));
        return result;
    }

    public static byte[] AppendFingerprint(byte[] message)
    {
        var result = new byte[message.Length + 8];
        message.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)(result.Length - 20));
        var crc = System.IO.Hashing.Crc32.HashToUInt32(result.AsSpan(0, message.Length)) ^ 0x5354554E;
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(message.Length), 0x8028);
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(message.Length + 2), 4);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(message.Length + 4), crc);
        return result;
    }

    /// <summary>One message to the core; the response parsed with the ICE code's <see cref="StunMessage"/> (null if none).</summary>
    public (TurnAction Action, StunMessage? Response, byte[] Bytes) Send(byte[] message)
    {
        var buffer = new byte[1500];
        var action = Core.HandleFromClient(Key, message, buffer, Now);
        if (action.Kind is not (TurnActionKind.Respond or TurnActionKind.RespondAndClose) || action.ResponseLength == 0)
            return (action, null, []);
        var bytes = buffer[..action.ResponseLength];
        var parsed = StunMessage.Parse(bytes);
        Assert.True(parsed.Success, $"response does not parse: {parsed.Error}");
        return (action, parsed.Message, bytes);
    }

    /// <summary>
    /// A request as a browser sends it: first unsigned unless already challenged; on 401 or 438 it takes REALM and
    /// NONCE and retries once (twice for 401 then 438). Returns the final response.
    /// </summary>
    public StunMessage Request(ushort method, Action<StunMessageWriter, byte[]>? attributes = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (_, response, _) = Send(Build(method, attributes));
            Assert.NotNull(response);
            if (attempt < 2 && response.Class == StunClass.ErrorResponse && response.TryGetErrorCode(out var code, out _)
                && (code == 438 || code == 401 && Nonce is null))
            {
                TakeChallenge(response);
                continue;
            }
            return response;
        }
    }

    public void TakeChallenge(StunMessage response)
    {
        Assert.True(response.TryGetAttribute(StunAttributeType.Realm, out var realm));
        Assert.True(response.TryGetAttribute(StunAttributeType.Nonce, out var nonce));
        Realm = Encoding.UTF8.GetString(realm);
        Nonce = Encoding.UTF8.GetString(nonce);
    }

    /// <summary>
    /// Checks a response to a signed request: MESSAGE-INTEGRITY with the client's key, and for a client using
    /// MESSAGE-INTEGRITY-SHA256 that attribute as well (after MESSAGE-INTEGRITY, where the ICE parser does not look).
    /// </summary>
    public void AssertSigned(StunMessage response)
    {
        var key = Md5Key(Username, Realm!, Password);
        Assert.True(response.VerifyIntegrity(key), "MESSAGE-INTEGRITY of the response");
        var raw = response.Raw.ToArray();
        var sha = FindAttribute(raw, StunAttributeType.MessageIntegritySha256);
        Assert.Equal(UseSha256, sha >= 0);
        if (sha < 0) return;
        int length = BinaryPrimitives.ReadUInt16BigEndian(raw.AsSpan(sha + 2));
        var prefix = raw[..sha];
        BinaryPrimitives.WriteUInt16BigEndian(prefix.AsSpan(2), (ushort)(sha - 20 + 4 + length));
        Assert.Equal(HMACSHA256.HashData(key, prefix)[..length], raw[(sha + 4)..(sha + 4 + length)]);
    }

    /// <summary>Header offset of the first attribute of this type, walking the raw message; -1 if none.</summary>
    public static int FindAttribute(byte[] message, ushort type)
    {
        for (var at = 20; at + 4 <= message.Length; at += 4 + ((BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(at + 2)) + 3) & ~3))
            if (BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(at)) == type) return at;
        return -1;
    }

    public StunMessage Allocate(uint? lifetime = null, Action<StunMessageWriter, byte[]>? extra = null) =>
        Request(TurnMethod.Allocate, (w, tx) =>
        {
            w.Add(TurnAttributeType.RequestedTransport, [17, 0, 0, 0]);
            if (lifetime is { } l) w.Add(TurnAttributeType.Lifetime, UInt32(l));
            extra?.Invoke(w, tx);
        });

    public StunMessage Refresh(uint? lifetime = null) =>
        Request(TurnMethod.Refresh, (w, _) => { if (lifetime is { } l) w.Add(TurnAttributeType.Lifetime, UInt32(l)); });

    public StunMessage CreatePermission(params IPEndPoint[] peers) =>
        Request(TurnMethod.CreatePermission, (w, tx) => { foreach (var p in peers) w.Add(TurnAttributeType.XorPeerAddress, XorAddress(p, tx)); });

    public StunMessage ChannelBind(ushort channel, IPEndPoint peer) =>
        Request(TurnMethod.ChannelBind, (w, tx) =>
        {
            w.Add(TurnAttributeType.ChannelNumber, UInt32((uint)channel << 16));
            w.Add(TurnAttributeType.XorPeerAddress, XorAddress(peer, tx));
        });

    public byte[] SendIndication(IPEndPoint peer, byte[] data) =>
        Build(TurnMethod.Send, (w, tx) =>
        {
            w.Add(TurnAttributeType.XorPeerAddress, XorAddress(peer, tx));
            w.Add(TurnAttributeType.Data, data);
        }, sign: false, cls: StunClass.Indication);

    public static byte[] ChannelData(ushort channel, byte[] data, bool pad)
    {
        var length = 4 + (pad ? (data.Length + 3) & ~3 : data.Length);
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, channel);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)data.Length);
        data.CopyTo(bytes, 4);
        return bytes;
    }

    public static IPEndPoint Relayed(StunMessage allocateSuccess)
    {
        Assert.True(allocateSuccess.TryGetAttribute(TurnAttributeType.XorRelayedAddress, out var v));
        return ReadXorAddress(v, allocateSuccess.TransactionId);
    }

    public static uint Lifetime(StunMessage response)
    {
        Assert.True(response.TryGetAttribute(TurnAttributeType.Lifetime, out var v));
        return BinaryPrimitives.ReadUInt32BigEndian(v);
    }

    public static int ErrorCode(StunMessage response)
    {
        Assert.Equal(StunClass.ErrorResponse, response.Class);
        Assert.True(response.TryGetErrorCode(out var code, out _));
        return code;
    }
}

/// <summary>A node's TURN core with a few issued credentials, its media addresses as the allowed peers, and a settable clock.</summary>
internal sealed class TurnFixture : ITurnCredentials
{
    public const string Realm = "hibari.test";
    public static readonly IPEndPoint Media0 = new(IPAddress.Parse("198.51.100.1"), 5000);
    public static readonly IPEndPoint Media1 = new(IPAddress.Parse("198.51.100.1"), 5001);
    public static readonly IPEndPoint MediaV6 = new(IPAddress.Parse("2001:db8::1"), 5000);
    public static readonly IPEndPoint Outsider = new(IPAddress.Parse("192.0.2.66"), 5000);
    public static readonly IPEndPoint SameHostOtherPort = new(IPAddress.Parse("198.51.100.1"), 22);

    public readonly Dictionary<string, string> Passwords = new() { ["alice"] = "alice-secret-1", ["bob"] = "bob-secret-22" };
    public readonly List<TurnAllocationInfo> Created = [];
    public readonly List<TurnAllocationInfo> Removed = [];
    public TurnServerCore Core { get; }
    public TurnServerOptions Options { get; }

    public TurnFixture(int portMin = 50000, int portMax = 50099, int maxPerUser = 4, int maxAllocations = 10_000,
        long bytesPerSecond = 4_000_000, long nonceLifetime = 600_000_000, string relayAddress = "203.0.113.5", byte[]? nonceKey = null)
    {
        var allowed = new HashSet<EndpointKey> { EndpointKey.From(Media0), EndpointKey.From(Media1), EndpointKey.From(MediaV6) };
        Options = new TurnServerOptions
        {
            Realm = Realm,
            RelayAddress = IPAddress.Parse(relayAddress),
            RelayPortMin = portMin,
            RelayPortMax = portMax,
            IsAllowedPeer = allowed.Contains,
            MaxAllocationsPerUser = maxPerUser,
            MaxAllocations = maxAllocations,
            MaxBytesPerSecondPerAllocation = bytesPerSecond,
            NonceLifetimeMicros = nonceLifetime,
            NonceKey = nonceKey ?? Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(),
            Software = "hibari-test",
        };
        Core = new TurnServerCore(Options, this);
        Core.AllocationCreated += Created.Add;
        Core.AllocationRemoved += Removed.Add;
    }

    public bool TryGetPassword(string username, out string password) => Passwords.TryGetValue(username, out password!);

    public static TurnClientKey Udp(string address = "192.0.2.10", int port = 40000) =>
        new(TurnTransport.Udp, EndpointKey.From(new IPEndPoint(IPAddress.Parse(address), port)), 0);

    public static TurnClientKey Tcp(long connection, string address = "192.0.2.10", int port = 40000) =>
        new(TurnTransport.Tcp, EndpointKey.From(new IPEndPoint(IPAddress.Parse(address), port)), connection);

    public TurnTestClient Client(TurnClientKey? key = null, string username = "alice") =>
        new(Core, key ?? Udp(), username, Passwords.GetValueOrDefault(username, "nope"));
}

internal static class TurnFixtureExtensions
{
    public static TurnCounters Counters(this TurnFixture f) => f.Core.Counters;
}
