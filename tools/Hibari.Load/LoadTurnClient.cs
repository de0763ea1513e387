using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Transport;
using Hibari.Rtc.Turn;

namespace Hibari.Load;

/// <summary>How the load client reaches the node's media port: directly, or through the node's TURN server (issue 15).</summary>
public enum LoadTurnMode { None, Udp, Tcp }

/// <summary>
/// A minimal TURN client (RFC 8656) for the load tool: allocates on the node's TURN server with the credentials of the
/// offer's `config.iceServers`, binds a channel to the node's media address and then carries every datagram of the
/// client in ChannelData messages (over UDP, or over one TCP connection with RFC 8656 §12.5 framing). What arrives is
/// unwrapped and handed to <see cref="OnPeerData"/>, as if it had come straight from the node.
/// </summary>
public sealed class LoadTurnClient : IDisposable
{
    public const ushort Channel = 0x4000;
    private const ushort AllocateMethod = 0x003, RefreshMethod = 0x004, CreatePermissionMethod = 0x008, ChannelBindMethod = 0x009;
    private const ushort DataIndicationMethod = 0x007;
    private const ushort XorPeerAddress = 0x0012, Data = 0x0013, XorRelayedAddress = 0x0016, RequestedTransport = 0x0019,
        Lifetime = 0x000D, ChannelNumber = 0x000C;

    private readonly LoadTurnMode _mode;
    private readonly IPEndPoint _turnServer;
    private readonly string _username, _password;
    private readonly Socket _udp;
    private TcpClient? _tcp;
    private NetworkStream? _stream;
    private readonly SemaphoreSlim _tcpWrite = new(1, 1);
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<string, TaskCompletionSource<StunMessage>> _pending = new();
    private string _realm = "", _nonce = "";
    private byte[] _key = [];
    private IPEndPoint? _peer;
    private Thread? _tcpReader;
    private volatile bool _disposed;

    /// <param name="udp">The client's UDP socket (used for TURN over UDP; its receive loop calls <see cref="OnUdpDatagram"/>).</param>
    public LoadTurnClient(LoadTurnMode mode, IPEndPoint turnServer, string username, string password, Socket udp)
    {
        _mode = mode;
        _turnServer = turnServer;
        _username = username;
        _password = password;
        _udp = udp;
    }

    /// <summary>A datagram from the node (unwrapped from ChannelData or a Data indication). Called on the receiving thread.</summary>
    public Action<byte[], int>? OnPeerData { get; set; }
    public IPEndPoint? RelayedAddress { get; private set; }
    public long Sent => Interlocked.Read(ref _sent);
    public long Received => Interlocked.Read(ref _received);
    private long _sent, _received;

    /// <summary>
    /// Picks the URL of <paramref name="transport"/> ("udp" or "tcp") from a turn: URL list as the offer carries it.
    /// </summary>
    public static IPEndPoint? ServerFromUrls(IEnumerable<string> urls, string transport)
    {
        foreach (var url in urls)
        {
            if (!url.StartsWith("turn:", StringComparison.Ordinal) || !url.EndsWith("?transport=" + transport, StringComparison.Ordinal)) continue;
            var hostPort = url["turn:".Length..url.IndexOf('?')];
            var colon = hostPort.LastIndexOf(':');
            if (colon < 0 || !IPAddress.TryParse(hostPort[..colon].Trim('[', ']'), out var ip)) continue;
            if (int.TryParse(hostPort[(colon + 1)..], out var port)) return new IPEndPoint(ip, port);
        }
        return null;
    }

    /// <summary>Allocates (answering the 401 challenge) and binds <see cref="Channel"/> to <paramref name="peer"/>.</summary>
    public async Task StartAsync(IPEndPoint peer, CancellationToken ct)
    {
        if (_mode == LoadTurnMode.Tcp)
        {
            _tcp = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
            await _tcp.ConnectAsync(_turnServer, ct).ConfigureAwait(false);
            _stream = _tcp.GetStream();
            _tcpReader = new Thread(TcpReadLoop) { IsBackground = true, Name = "load-turn-tcp" };
            _tcpReader.Start();
        }
        // RFC 8656 §7.1: the first Allocate has no credentials; the 401 brings realm and nonce.
        var first = await RequestAsync(AllocateMethod, w => w.Add(RequestedTransport, [17, 0, 0, 0]), authenticate: false, ct).ConfigureAwait(false);
        if (first.Class != StunClass.ErrorResponse || !first.TryGetErrorCode(out var code, out _) || code != 401)
            throw new InvalidOperationException("TURN: the first Allocate was not challenged with 401");
        TakeRealmAndNonce(first);
        _key = MD5.HashData(Encoding.UTF8.GetBytes($"{_username}:{_realm}:{_password}"));
        var allocated = await RequestAsync(AllocateMethod, w => w.Add(RequestedTransport, [17, 0, 0, 0]), authenticate: true, ct).ConfigureAwait(false);
        Expect(allocated, "Allocate");
        RelayedAddress = ReadXorAddress(allocated, XorRelayedAddress);
        _peer = peer;
        var bound = await ChannelBindAsync(peer, Channel, ct).ConfigureAwait(false);
        Expect(bound, "ChannelBind");
    }

    /// <summary>CreatePermission toward <paramref name="peer"/>: the response (success, or an error such as 403).</summary>
    public Task<StunMessage> CreatePermissionAsync(IPEndPoint peer, CancellationToken ct) =>
        RequestAsync(CreatePermissionMethod, w => AddXorAddress(w, XorPeerAddress, peer), authenticate: true, ct);

    public Task<StunMessage> ChannelBindAsync(IPEndPoint peer, ushort channel, CancellationToken ct) =>
        RequestAsync(ChannelBindMethod, w =>
        {
            w.Add(ChannelNumber, [(byte)(channel >> 8), (byte)channel, 0, 0]);
            AddXorAddress(w, XorPeerAddress, peer);
        }, authenticate: true, ct);

    /// <summary>Refresh with LIFETIME 0: the allocation goes.</summary>
    public Task<StunMessage> ReleaseAsync(CancellationToken ct) =>
        RequestAsync(RefreshMethod, w => w.Add(Lifetime, [0, 0, 0, 0]), authenticate: true, ct);

    /// <summary>Sends one datagram to the node through the channel.</summary>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        var padded = _mode == LoadTurnMode.Tcp ? (datagram.Length + 3) & ~3 : datagram.Length;
        var frame = new byte[4 + padded];
        BinaryPrimitives.WriteUInt16BigEndian(frame, Channel);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)datagram.Length);
        datagram.CopyTo(frame.AsSpan(4));
        Transmit(frame);
        Interlocked.Increment(ref _sent);
    }

    private void Transmit(byte[] frame)
    {
        try
        {
            if (_mode == LoadTurnMode.Udp) _udp.SendTo(frame, SocketFlags.None, _turnServer);
            else
            {
                _tcpWrite.Wait();
                try { _stream!.Write(frame); }
                finally { _tcpWrite.Release(); }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException) { }
    }

    /// <summary>A datagram that arrived on the client's UDP socket from the TURN server (TURN over UDP).</summary>
    public void OnUdpDatagram(byte[] buffer, int length) => OnFrame(buffer, 0, length);

    private void TcpReadLoop()
    {
        var buffer = new byte[70_000];
        var filled = 0;
        try
        {
            while (!_disposed)
            {
                var n = _stream!.Read(buffer, filled, buffer.Length - filled);
                if (n == 0) return;
                filled += n;
                var offset = 0;
                while (filled - offset >= 4)
                {
                    var first = buffer[offset];
                    int frame;
                    if (first < 0x40) frame = 20 + BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(offset + 2));
                    else frame = 4 + ((BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(offset + 2)) + 3) & ~3);
                    if (filled - offset < frame) break;
                    OnFrame(buffer, offset, frame);
                    offset += frame;
                }
                Buffer.BlockCopy(buffer, offset, buffer, 0, filled - offset);
                filled -= offset;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
    }

    private void OnFrame(byte[] buffer, int offset, int length)
    {
        if (length < 4) return;
        var first = buffer[offset];
        if (first is >= 0x40 and <= 0x4F)
        {
            var size = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(offset + 2));
            if (4 + size > length) return;
            Interlocked.Increment(ref _received);
            OnPeerData?.Invoke(buffer.AsSpan(offset + 4, size).ToArray(), size);
            return;
        }
        if (first > 3) return;
        var parsed = StunMessage.Parse(buffer.AsSpan(offset, length));
        if (parsed.Message is not { } m) return;
        if (m.Method == DataIndicationMethod && m.Class == StunClass.Indication)
        {
            if (m.TryGetAttribute(Data, out var data))
            {
                Interlocked.Increment(ref _received);
                OnPeerData?.Invoke(data.ToArray(), data.Length);
            }
            return;
        }
        var key = Convert.ToHexString(m.TransactionId);
        TaskCompletionSource<StunMessage>? waiter;
        lock (_pendingLock) _pending.Remove(key, out waiter);
        waiter?.TrySetResult(m);
    }

    private async Task<StunMessage> RequestAsync(ushort method, Action<StunMessageWriter> attributes, bool authenticate, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var tx = RandomNumberGenerator.GetBytes(12);
            var writer = new StunMessageWriter(method, StunClass.Request, tx);
            attributes(writer);
            if (authenticate)
            {
                writer.AddUsername(_username);
                writer.Add(StunAttributeType.Realm, Encoding.UTF8.GetBytes(_realm));
                writer.Add(StunAttributeType.Nonce, Encoding.UTF8.GetBytes(_nonce));
                writer.AddMessageIntegrity(_key);
            }
            writer.AddFingerprint();
            var waiter = new TaskCompletionSource<StunMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            var key = Convert.ToHexString(tx);
            lock (_pendingLock) _pending[key] = waiter;
            var bytes = writer.ToArray();
            StunMessage? answer = null;
            // UDP may lose a request: retransmit a few times (RFC 8489 §6.2.1, shortened for loopback).
            for (var i = 0; i < 8 && answer is null; i++)
            {
                Transmit(bytes);
                try { answer = await waiter.Task.WaitAsync(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false); }
                catch (TimeoutException) { if (_mode == LoadTurnMode.Tcp && i >= 3) break; }
            }
            lock (_pendingLock) _pending.Remove(key);
            if (answer is null) throw new TimeoutException($"TURN: no answer to method 0x{method:x3}");
            // 438 Stale Nonce: take the new nonce and try once more.
            if (authenticate && answer.Class == StunClass.ErrorResponse && answer.TryGetErrorCode(out var code, out _) && code == 438 && attempt == 0)
            {
                TakeRealmAndNonce(answer);
                continue;
            }
            return answer;
        }
        throw new InvalidOperationException("unreachable");
    }

    private void TakeRealmAndNonce(StunMessage m)
    {
        if (m.TryGetAttribute(StunAttributeType.Realm, out var realm)) _realm = Encoding.UTF8.GetString(realm);
        if (m.TryGetAttribute(StunAttributeType.Nonce, out var nonce)) _nonce = Encoding.UTF8.GetString(nonce);
    }

    private static void Expect(StunMessage m, string what)
    {
        if (m.Class == StunClass.SuccessResponse) return;
        var detail = m.TryGetErrorCode(out var code, out var reason) ? $"{code} {reason}" : "no error code";
        throw new InvalidOperationException($"TURN {what} failed: {detail}");
    }

    /// <summary>Writes an XOR-…-ADDRESS attribute of <paramref name="type"/> with the TURN core's codec.</summary>
    private static void AddXorAddress(StunMessageWriter w, ushort type, IPEndPoint endPoint)
    {
        var key = EndpointKey.From(endPoint);
        var value = new byte[TurnAddress.ValueLength(key)];
        TurnAddress.WriteXor(value, key, w.TransactionId);
        w.Add(type, value);
    }

    private static IPEndPoint ReadXorAddress(StunMessage m, ushort type)
    {
        if (!m.TryGetAttribute(type, out var v) || !TurnAddress.TryReadXor(v, m.TransactionId, out var key, out _))
            throw new InvalidOperationException("TURN: no relayed address");
        return key.ToEndPoint();
    }

    public void Dispose()
    {
        _disposed = true;
        _stream?.Dispose();
        _tcp?.Dispose();
    }
}
