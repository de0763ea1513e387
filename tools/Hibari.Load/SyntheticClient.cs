using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Ice;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;
using Hibari.Sdp;

namespace Hibari.Load;

public sealed record SyntheticClientOptions
{
    /// <summary>sendrecv, sendonly or recvonly.</summary>
    public string Role { get; init; } = "recvonly";
    public string VideoCodecType { get; init; } = "VP8";
    /// <summary>Client certificate; share one across many clients (generating one costs ~1.5 ms).</summary>
    public DtlsCertificate? Certificate { get; init; }
    /// <summary>Extra members merged into the connect message (e.g. metadata).</summary>
    public JsonObject? ConnectExtra { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(20);
    /// <summary>Drop every Nth received media packet (0: none) and NACK it, to exercise the SFU's RTX repair.</summary>
    public int DropEveryNth { get; init; }
    /// <summary>Run SCTP over DTLS and accept the server's data channels (data-channel signaling, messaging).</summary>
    public bool DataChannels { get; init; }
    /// <summary>Publish simulcast: connect with `simulcast: true`, answer these offered rids as `a=rid:rN send` +
    /// `a=simulcast:send`, and send one SSRC per layer, every packet with the MID (id 1) and RID (id 2) extensions.</summary>
    public IReadOnlyList<string>? SimulcastRids { get; init; }
    /// <summary>Ignore the node's key-frame requests (PLI/FIR): key frames only every 60 frames (2 s), like an encoder
    /// that is slow to answer them — for tests of what the node does while it waits.</summary>
    public bool IgnoreKeyFrameRequests { get; init; }
    /// <summary>Answer without transport-wide congestion control (no transport-cc extension or feedback), like a client
    /// that does not implement it: the node then has no downlink estimate for this client (D-38).</summary>
    public bool NoTransportCc { get; init; }
    /// <summary>Where this client's DTLS handshake runs (null: the process's default client pool of 8 threads). A client
    /// holds its thread until the server answers or the 10 s timeout, so clients of a node that died can starve the
    /// others of a shared pool; a storm toward failing nodes wants a pool with a thread per client.</summary>
    public DtlsHandshakePool? HandshakePool { get; init; }
    /// <summary>Stop after ICE: no DTLS handshake (fuzzing: the test sends its own DTLS records with <see cref="SyntheticClient.SendRaw"/>).</summary>
    public bool StopAfterIce { get; init; }
    /// <summary>Reach the node's media port through its TURN server (over UDP or TCP) with the offer's credentials (issue 15).</summary>
    public LoadTurnMode Turn { get; init; }
}

/// <summary>
/// One synthetic WebRTC client speaking Sora's signaling to a Hibari node, with its own ICE (controlling, like a
/// browser), DTLS client role and SRTP. It publishes synthetic VP8-shaped RTP whose payload ends with the send time,
/// and measures what it receives: packets, bytes, sequence gaps and added latency. Used by the load tool and by the
/// in-process integration tests.
/// </summary>
public sealed class SyntheticClient : IAsyncDisposable
{
    private const uint LatencyMagic = 0x48424C54; // "HBLT"
    private const int TrailerLength = 12;

    private readonly Uri _url;
    private readonly string _channelId;
    private readonly SyntheticClientOptions _options;
    private ClientWebSocket _ws = new();
    private readonly Socket _udp;
    private readonly DtlsCertificate _certificate;
    private readonly string _ufrag = RandomToken(8), _pwd = RandomToken(24);
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _iceDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<uint, StreamStats> _received = new();
    private readonly ConcurrentQueue<JsonObject> _messages = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly uint _videoSsrc = RandomSsrc();
    // Simulcast publishing: the answered rids, one SSRC, key-frame request and sent counter per layer.
    private string[] _layerRids = [];
    private uint[] _layerSsrcs = [];
    private int[] _layerKeyRequested = [];
    private long[] _layerSent = [];
    private string _videoMid = "";
    private Thread? _receiveThread;
    private Task? _signalingLoop;
    private DtlsClientEndpoint? _dtls;
    private volatile SrtpContext? _send, _receive;
    private IPEndPoint? _server;
    private string _serverUfrag = "", _serverPwd = "", _serverFingerprint = "";
    private byte _videoPayloadType;
    private string _videoCodec = "VP8";
    private volatile bool _keyFrameRequested = true;
    private long _decryptFailures, _rtcpReceived, _pliReceived, _sent;
    private readonly LatencyRecorder _latency = new();
    private readonly ConcurrentDictionary<uint, uint> _rtxToMedia = new();   // from the offers' ssrc-group FID lines
    private readonly ConcurrentDictionary<(uint Ssrc, ushort Seq), byte> _nacked = new();
    private readonly byte[] _rtcpBuffer = new byte[256];
    private long _dropped, _rtxReceived, _rtxRepaired;
    private volatile ClientDataChannels? _dc;
    private volatile bool _switched;
    private readonly ConcurrentQueue<(string Label, byte[] Data)> _appMessages = new();
    private long _appMessagesReceived, _appBytesReceived;
    private readonly LatencyRecorder _messageLatency = new();
    private const uint MessageMagic = 0x48424C4D; // "HBLM": a load message's first 4 bytes, then its send time

    public SyntheticClient(Uri signalingUrl, string channelId, SyntheticClientOptions? options = null)
    {
        _url = signalingUrl;
        ConnectedUrl = signalingUrl;
        _channelId = channelId;
        _options = options ?? new SyntheticClientOptions();
        _certificate = _options.Certificate ?? DtlsCertificate.Generate();
        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _udp.ReceiveBufferSize = 4 * 1024 * 1024;
    }

    public string? ConnectionId { get; private set; }
    public string? SessionId { get; private set; }
    public SrtpProfile? Profile { get; private set; }
    public TimeSpan ConnectToOffer { get; private set; }
    public TimeSpan ConnectToConnected { get; private set; }
    public long PacketsSent => Interlocked.Read(ref _sent);
    /// <summary>Pings that asked for stats (`stats: true`), each answered with a report.</summary>
    public long StatsRequests => Interlocked.Read(ref _statsRequests);
    private long _statsRequests;
    /// <summary>Simulcast: the rids this client answered (empty: one layer).</summary>
    public IReadOnlyList<string> LayerRids => _layerRids;
    /// <summary>Simulcast: packets sent on layer <paramref name="index"/>.</summary>
    public long LayerPacketsSent(int index) => Interlocked.Read(ref _layerSent[index]);
    public long DecryptFailures => Interlocked.Read(ref _decryptFailures);
    public long RtcpReceived => Interlocked.Read(ref _rtcpReceived);
    public long PliReceived => Interlocked.Read(ref _pliReceived);
    public long PacketsReceived => _received.Values.Sum(s => s.Packets);
    public long BytesReceived => _received.Values.Sum(s => s.Bytes);
    /// <summary>Packets missing from the received sequence ranges (loss on the way, or never forwarded).</summary>
    public long PacketsLost => _received.Values.Sum(s => s.Lost);
    /// <summary>The SSRC this client publishes video with.</summary>
    public uint VideoSsrc => _videoSsrc;
    /// <summary>The media address of the offer's candidate (which media worker of the node serves this client).</summary>
    public IPEndPoint? ServerEndPoint => _server;
    /// <summary>Media packets received so far on one SSRC (0 when none).</summary>
    public long PacketsReceivedOn(uint ssrc) => _received.TryGetValue(ssrc, out var s) ? s.Packets : 0;
    public IReadOnlyCollection<uint> ReceivedSsrcs => _received.Keys.Where(k => !_rtxToMedia.ContainsKey(k)).ToList();
    /// <summary>Packets dropped on purpose (<see cref="SyntheticClientOptions.DropEveryNth"/>) and NACKed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>RTX packets received, and those that carried a sequence number this client had NACKed.</summary>
    public long RtxReceived => Interlocked.Read(ref _rtxReceived);
    public long RtxRepaired => Interlocked.Read(ref _rtxRepaired);
    public LatencyRecorder Latency => _latency;
    /// <summary>Every signaling message received (offer, re-offer, notify, push, ping, ...), in order.</summary>
    public IReadOnlyList<JsonObject> Messages => _messages.ToList();
    public WebSocketCloseStatus? CloseStatus => _ws.CloseStatus;
    /// <summary>The `location` of the `redirect` this client followed (null: served where it connected first).</summary>
    public Uri? RedirectedTo { get; private set; }
    /// <summary>The signaling URL that delivered the offer.</summary>
    public Uri ConnectedUrl { get; private set; }
    public string? CloseReason => _ws.CloseStatusDescription;
    /// <summary>The data channels (null without <see cref="SyntheticClientOptions.DataChannels"/> or before DTLS).</summary>
    public ClientDataChannels? DataChannels => _dc;
    /// <summary>`switched` arrived: signaling goes on DC:signaling.</summary>
    public bool Switched => _switched;
    /// <summary>Messages on `#` labels (the first 10,000), and counts of all of them.</summary>
    public IReadOnlyList<(string Label, byte[] Data)> AppMessages => _appMessages.ToList();
    public long AppMessagesReceived => Interlocked.Read(ref _appMessagesReceived);
    public long AppBytesReceived => Interlocked.Read(ref _appBytesReceived);
    /// <summary>One-way latency of messages made by <see cref="LoadMessage"/> (same process, same clock).</summary>
    public LatencyRecorder MessageLatency => _messageLatency;
    public WebSocketState WebSocketState => _ws.State;

    /// <summary>Connects: signaling, offer/answer, ICE, DTLS. Throws with the close code and reason if the server refuses.</summary>
    public async Task ConnectAsync(CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        timeout.CancelAfter(_options.Timeout);
        var started = Stopwatch.StartNew();
        await _ws.ConnectAsync(_url, timeout.Token).ConfigureAwait(false);
        var connect = new JsonObject
        {
            ["type"] = "connect",
            ["role"] = _options.Role,
            ["channel_id"] = _channelId,
            ["audio"] = false,
            ["video"] = new JsonObject { ["codec_type"] = _options.VideoCodecType },
            ["sora_client"] = "Hibari Load",
        };
        if (_options.SimulcastRids is { Count: > 0 } && _options.Role != "recvonly") connect["simulcast"] = true;
        if (_options.ConnectExtra is { } extra)
            foreach (var (k, v) in extra) connect[k] = v?.DeepClone();
        await SendJsonAsync(connect, timeout.Token).ConfigureAwait(false);
        var offer = await ReceiveJsonAsync(timeout.Token).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"closed before the offer: {(int?)_ws.CloseStatus} {_ws.CloseStatusDescription}");
        if ((string?)offer["type"] == "redirect")
        {
            // As sora-js-sdk: close this socket, connect to `location`, send the connect again with "redirect": true.
            RedirectedTo = new Uri((string)offer["location"]!);
            _messages.Enqueue(offer);
            try { await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token).ConfigureAwait(false); }
            catch (WebSocketException) { }
            _ws.Dispose();
            _ws = new ClientWebSocket();
            await _ws.ConnectAsync(RedirectedTo, timeout.Token).ConfigureAwait(false);
            ConnectedUrl = RedirectedTo;
            connect["redirect"] = true;
            await SendJsonAsync(connect, timeout.Token).ConfigureAwait(false);
            offer = await ReceiveJsonAsync(timeout.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"closed before the offer after the redirect to {RedirectedTo}: {(int?)_ws.CloseStatus} {_ws.CloseStatusDescription}");
        }
        if ((string?)offer["type"] != "offer") throw new InvalidOperationException($"expected an offer, got {offer.ToJsonString()}");
        ConnectToOffer = started.Elapsed;
        _messages.Enqueue(offer);
        ConnectionId = (string?)offer["connection_id"];
        SessionId = (string?)offer["session_id"];
        var answer = Answer((string)offer["sdp"]!, initial: true);
        await SendJsonAsync(new JsonObject { ["type"] = "answer", ["sdp"] = answer }, timeout.Token).ConfigureAwait(false);
        _receiveThread = new Thread(ReceiveLoop) { IsBackground = true, Name = "load-udp" };
        _receiveThread.Start();
        if (_options.Turn != LoadTurnMode.None) await StartTurnAsync(offer, timeout.Token).ConfigureAwait(false);
        _signalingLoop = Task.Run(() => SignalingLoopAsync(_stop.Token));
        _ = Task.Run(() => IceLoopAsync(_stop.Token));
        await _iceDone.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        if (_options.StopAfterIce) return;
        _dtls = new DtlsClientEndpoint(_certificate, _serverFingerprint, d => SendToServer(d),
            _options.HandshakePool is { } pool ? new DtlsOptions { HandshakePool = pool } : null);
        _dtls.ApplicationData = d => _dc?.Receive(d.Span);
        _dtls.Start();
        var result = await _dtls.Handshake.WaitAsync(timeout.Token).ConfigureAwait(false);
        if (_options.DataChannels)
        {
            var dtls = _dtls;
            _dc = new ClientDataChannels(p => dtls.SendApplicationData(p.Span));
            _ = Task.Run(() => DataChannelLoopAsync(_dc, _stop.Token));
        }
        var (send, receive) = DtlsSrtpKeyingMaterial.CreateContexts(result.Profile, result.KeyingMaterial, isDtlsClient: true);
        _send = send;
        _receive = receive;
        Profile = result.Profile;
        ConnectToConnected = started.Elapsed;
        _connected.TrySetResult();
    }

    /// <summary>Waits until a message matching <paramref name="match"/> has arrived.</summary>
    public async Task<JsonObject> WaitForMessageAsync(Func<JsonObject, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var m in _messages) if (match(m)) return m;
            await Task.Delay(20).ConfigureAwait(false);
        }
        throw new TimeoutException("no matching signaling message within " + timeout);
    }

    /// <summary>Publishes synthetic video at <paramref name="bitrateKbps"/> in packets of <paramref name="packetSize"/> bytes, 30 frames/s.</summary>
    public Task PublishAsync(int bitrateKbps, int packetSize, CancellationToken ct)
    {
        if (_videoPayloadType == 0) throw new InvalidOperationException("this client has no sending video m-line");
        return Task.Factory.StartNew(() => PublishLoop(bitrateKbps, Math.Clamp(packetSize, 64, 1200), ct), ct,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Publishes every simulcast layer at its own rate (<paramref name="layerKbps"/>, by layer index; the last
    /// value repeats), 30 frames/s, key frames every 2 s or on a PLI for that layer's SSRC.</summary>
    public Task PublishSimulcastAsync(IReadOnlyList<int> layerKbps, int packetSize, CancellationToken ct)
    {
        if (_videoPayloadType == 0) throw new InvalidOperationException("this client has no sending video m-line");
        if (_layerRids.Length == 0) throw new InvalidOperationException("the answer has no simulcast layers (did the offer say a=simulcast:recv?)");
        return Task.Factory.StartNew(() => SimulcastLoop(layerKbps, Math.Clamp(packetSize, 64, 1200), ct), ct,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void SimulcastLoop(IReadOnlyList<int> layerKbps, int packetSize, CancellationToken ct)
    {
        var layers = _layerRids.Length;
        var perFrame = new int[layers];
        var seqs = new ushort[layers];
        var tss = new uint[layers];
        for (var l = 0; l < layers; l++)
        {
            var kbps = layerKbps[Math.Min(l, layerKbps.Count - 1)];
            perFrame[l] = Math.Max(1, (int)Math.Round(Math.Max(30.0, kbps * 1000.0 / 8 / packetSize) / 30));
            seqs[l] = (ushort)Random.Shared.Next(1 << 16);
            tss[l] = (uint)Random.Shared.NextInt64(1L << 32);
        }
        var buffer = new byte[1500];
        var payload = new byte[packetSize];
        var clock = Stopwatch.StartNew();
        long frame = 0;
        while (!ct.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            for (var l = 0; l < layers; l++)
            {
                var keyFrame = Interlocked.Exchange(ref _layerKeyRequested[l], 0) != 0 || frame % 60 == 0;
                for (var i = 0; i < perFrame[l]; i++)
                {
                    var n = WriteVp8Payload(payload, first: i == 0, keyFrame);
                    ShapePayload(payload, first: i == 0, keyFrame);
                    var w = new RtpPacketWriter(buffer, _videoPayloadType, seqs[l]++, tss[l], _layerSsrcs[l], marker: i == perFrame[l] - 1);
                    w.AddString(1, _videoMid);
                    w.AddString(2, _layerRids[l]);
                    if (!w.TryFinish(payload.AsSpan(0, n), out var length)) continue;
                    SendRtp(buffer, length);
                    Interlocked.Increment(ref _layerSent[l]);
                }
                tss[l] += 3000;
            }
            frame++;
            var due = frame * 1000.0 / 30;
            var wait = due - clock.Elapsed.TotalMilliseconds;
            if (wait > 1) Thread.Sleep((int)wait);
        }
    }

    private void PublishLoop(int bitrateKbps, int packetSize, CancellationToken ct)
    {
        var packetsPerSecond = Math.Max(30.0, bitrateKbps * 1000.0 / 8 / packetSize);
        var perFrame = Math.Max(1, (int)Math.Round(packetsPerSecond / 30));
        var buffer = new byte[1500];
        var payload = new byte[packetSize];
        ushort seq = (ushort)Random.Shared.Next(1 << 16);
        var ts = (uint)Random.Shared.NextInt64(1L << 32);
        var clock = Stopwatch.StartNew();
        long frame = 0;
        while (!ct.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            var keyFrame = _keyFrameRequested || frame % 60 == 0;
            _keyFrameRequested = false;
            for (var i = 0; i < perFrame; i++)
            {
                var n = WriteVp8Payload(payload, first: i == 0, keyFrame);
                ShapePayload(payload, first: i == 0, keyFrame);
                var w = new RtpPacketWriter(buffer, _videoPayloadType, seq++, ts, _videoSsrc, marker: i == perFrame - 1);
                if (!w.TryFinish(payload.AsSpan(0, n), out var length)) continue;
                SendRtp(buffer, length);
            }
            Volatile.Write(ref _nextVideoSequence, seq);
            frame++;
            ts += 3000;
            // Pace to 30 frames/s against the clock, so a slow iteration does not lower the rate.
            var due = frame * 1000.0 / 30;
            var wait = due - clock.Elapsed.TotalMilliseconds;
            if (wait > 1) Thread.Sleep((int)wait);
        }
    }

    /// <summary>
    /// The first bytes of a synthetic video packet as the negotiated codec's payload format has them, so the node finds
    /// key frames as in real traffic: VP8 as written; H.264 an IDR or non-IDR NAL header (RFC 6184); H.265 an IRAP or
    /// TRAIL NAL header (RFC 7798); AV1 an aggregation header (N on a key frame's first packet, Z on continuations, one
    /// element) and a sequence-header or frame OBU header (AV1 RTP specification §4.4).
    /// </summary>
    private void ShapePayload(byte[] payload, bool first, bool keyFrame)
    {
        switch (_videoCodec)
        {
            case "H264":
                payload[0] = first && keyFrame ? (byte)0x65 : (byte)0x41;
                break;
            case "H265":
                (payload[0], payload[1]) = first && keyFrame ? ((byte)(19 << 1), (byte)1) : ((byte)(1 << 1), (byte)1);
                break;
            case "AV1":
                (payload[0], payload[1]) = !first ? ((byte)0x90, (byte)(6 << 3)) : keyFrame ? ((byte)0x18, (byte)(1 << 3)) : ((byte)0x10, (byte)(6 << 3));
                break;
        }
    }

    /// <summary>VP8 payload descriptor + frame header (RFC 7741) so the SFU sees key frames; the last 12 bytes carry the send time.</summary>
    private static int WriteVp8Payload(byte[] payload, bool first, bool keyFrame)
    {
        Array.Clear(payload);
        payload[0] = first ? (byte)0x10 : (byte)0x00; // S bit, partition 0
        if (first)
        {
            payload[1] = keyFrame ? (byte)0x10 : (byte)0x11; // P bit 0 = key frame; show_frame set
            if (keyFrame)
            {
                payload[4] = 0x9d; payload[5] = 0x01; payload[6] = 0x2a; // start code
                payload[7] = 0x40; payload[8] = 0x01; payload[9] = 0xf0; payload[10] = 0x00; // 320x240
            }
        }
        var at = payload.Length - TrailerLength;
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(at), LatencyMagic);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(at + 4), Stopwatch.GetTimestamp());
        return payload.Length;
    }

    private void SendRtp(byte[] buffer, int length)
    {
        var send = _send;
        if (send is null || _server is null) return;
        lock (send)
        {
            if (send.ProtectRtp(buffer, length, out var protectedLength) != SrtpResult.Ok) return;
            SendToServer(buffer.AsSpan(0, protectedLength));
        }
        Interlocked.Increment(ref _sent);
    }

    /// <summary>The sequence number of the next video packet <see cref="PublishAsync"/> sends (updated once per frame).</summary>
    public ushort NextVideoSequence => (ushort)Volatile.Read(ref _nextVideoSequence);
    private int _nextVideoSequence;

    /// <summary>Sends <paramref name="datagram"/> as it is from this client's socket to the node (fuzzing: garbage from a known peer).</summary>
    public void SendRaw(ReadOnlySpan<byte> datagram)
    {
        if (_server is not null) SendToServer(datagram);
    }

    /// <summary>
    /// Protects <paramref name="packet"/> with this client's SRTP keys — as SRTCP when its second byte is an RTCP packet
    /// type (192–223), else as SRTP — and sends it (fuzzing what the node parses behind SRTP). False when it could not
    /// be protected (no keys yet, or a header SRTP cannot read).
    /// </summary>
    public bool SendProtected(ReadOnlySpan<byte> packet)
    {
        var send = _send;
        if (send is null || _server is null) return false;
        var buffer = new byte[packet.Length + 64];
        packet.CopyTo(buffer);
        lock (send)
        {
            var rtcp = packet.Length >= 2 && packet[1] is >= 192 and <= 223;
            var result = rtcp ? send.ProtectRtcp(buffer, packet.Length, out var n) : send.ProtectRtp(buffer, packet.Length, out n);
            if (result != SrtpResult.Ok) return false;
            SendToServer(buffer.AsSpan(0, n));
        }
        return true;
    }

    private void SendNack(uint mediaSsrc, ushort seq)
    {
        var send = _send;
        if (send is null || _server is null) return;
        lock (send)
        {
            var n = RtcpWriter.WriteNack(_rtcpBuffer, _videoSsrc, mediaSsrc, [seq]);
            if (n == 0 || send.ProtectRtcp(_rtcpBuffer, n, out var protectedLength) != SrtpResult.Ok) return;
            SendToServer(_rtcpBuffer.AsSpan(0, protectedLength));
        }
    }

    private string Answer(string sdp, bool initial)
    {
        if (!SdpDocument.TryParse(sdp, out var offer, out var error)) throw new InvalidOperationException("bad offer SDP: " + error);
        foreach (var group in offer.Media.SelectMany(m => m.All("ssrc-group")))
            if (group.Value?.Split(' ') is ["FID", var media, var rtx])
                _rtxToMedia[uint.Parse(rtx, System.Globalization.CultureInfo.InvariantCulture)] = uint.Parse(media, System.Globalization.CultureInfo.InvariantCulture);
        if (initial)
        {
            _serverUfrag = offer.Get("ice-ufrag") ?? offer.Media.Select(m => m.Get("ice-ufrag")).FirstOrDefault(u => u is not null) ?? "";
            _serverPwd = offer.Get("ice-pwd") ?? offer.Media.Select(m => m.Get("ice-pwd")).FirstOrDefault(u => u is not null) ?? "";
            var fp = offer.Get("fingerprint") ?? offer.Media.Select(m => m.Get("fingerprint")).FirstOrDefault(u => u is not null) ?? "";
            _serverFingerprint = fp.Split(' ', 2) is [_, var v] ? v : "";
            var candidate = offer.Media.SelectMany(m => m.All("candidate")).Concat(offer.All("candidate")).Select(a => a.Value)
                .FirstOrDefault(v => v is not null && v.Contains(" udp ", StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException("offer has no UDP candidate");
            var parts = candidate.Split(' ');
            _server = new IPEndPoint(IPAddress.Parse(parts[4]), int.Parse(parts[5], System.Globalization.CultureInfo.InvariantCulture));
        }
        var publishes = _options.Role != "recvonly";
        var (answer, lines) = AnswerBuilder.Build(offer, _ufrag, _pwd, _certificate.Fingerprint, kind => publishes && kind == "video", _ => _videoSsrc,
            publishes ? _options.SimulcastRids : null);
        if (_options.NoTransportCc)
            answer = string.Join("\r\n", answer.Split("\r\n").Where(l => !l.Contains("transport-wide-cc", StringComparison.Ordinal)
                && !l.EndsWith(" transport-cc", StringComparison.Ordinal)));
        if (initial && lines.FirstOrDefault(l => l.Sending) is { } video)
        {
            _videoMid = video.Mid;
            if (_options.SimulcastRids is { Count: > 0 } && publishes)
            {
                // The rids the answer lists (AnswerBuilder kept those the offer asked for, in its order).
                var rids = answer.Split("\r\n").Where(l => l.StartsWith("a=rid:", StringComparison.Ordinal) && l.EndsWith(" send", StringComparison.Ordinal))
                    .Select(l => l["a=rid:".Length..^" send".Length]).ToArray();
                _layerSsrcs = rids.Select((_, i) => i == 0 ? _videoSsrc : RandomSsrc()).ToArray();
                _layerKeyRequested = new int[rids.Length];
                _layerSent = new long[rids.Length];
                _layerRids = rids;
            }
            var m = offer.Media.First(x => x.Get("mid") == video.Mid);
            _videoPayloadType = byte.Parse(m.Formats[0], System.Globalization.CultureInfo.InvariantCulture);
            _videoCodec = m.RtpMaps().FirstOrDefault(r => r.PayloadType == _videoPayloadType)?.EncodingName.ToUpperInvariant() ?? "VP8";
        }
        return answer;
    }

    private async Task IceLoopAsync(CancellationToken ct)
    {
        var tieBreaker = (ulong)Random.Shared.NextInt64();
        var key = Encoding.UTF8.GetBytes(_serverPwd);
        while (!ct.IsCancellationRequested)
        {
            var tx = RandomNumberGenerator.GetBytes(12);
            var request = new StunMessageWriter(StunMessage.BindingMethod, StunClass.Request, tx)
                .AddUsername($"{_serverUfrag}:{_ufrag}").AddPriority(1853824767).AddIceControlling(tieBreaker).AddUseCandidate()
                .AddMessageIntegrity(key).AddFingerprint().ToArray();
            try { SendToServer(request); } catch (SocketException) { }
            catch (ObjectDisposedException) { return; }
            // Checks every 50 ms until the first success, then consent freshness every 2 s (RFC 7675).
            try { await Task.Delay(_iceDone.Task.IsCompleted ? 2000 : 50, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>Every datagram to the node: straight to its media address, or through the TURN allocation (issue 15).</summary>
    private void SendToServer(ReadOnlySpan<byte> datagram)
    {
        if (_turn is { } turn) turn.Send(datagram);
        else _udp.SendTo(datagram, SocketFlags.None, _server!);
    }

    /// <summary>The TURN client when <see cref="SyntheticClientOptions.Turn"/> is set (null before the offer).</summary>
    public LoadTurnClient? Turn => _turn;
    private LoadTurnClient? _turn;

    /// <summary>Sets up the TURN path from the offer's `config.iceServers` (the node's TURN server and this connection's credentials).</summary>
    private async Task StartTurnAsync(JsonObject offer, CancellationToken ct)
    {
        var server = offer["config"]?["iceServers"]?[0] as JsonObject
            ?? throw new InvalidOperationException("the offer has no config.iceServers: is TURN on?");
        var urls = (server["urls"] as JsonArray ?? []).Select(u => (string?)u ?? "").ToList();
        var transport = _options.Turn == LoadTurnMode.Tcp ? "tcp" : "udp";
        var address = LoadTurnClient.ServerFromUrls(urls, transport)
            ?? throw new InvalidOperationException($"the offer has no turn: URL over {transport}: {string.Join(", ", urls)}");
        var turn = new LoadTurnClient(_options.Turn, address, (string)server["username"]!, (string)server["credential"]!, _udp);
        turn.OnPeerData = (bytes, n) => HandleDatagram(bytes.AsSpan(0, n));
        _turnServer = address;
        _turn = turn;
        await turn.StartAsync(_server!, ct).ConfigureAwait(false);
    }
    private IPEndPoint? _turnServer;

    private void ReceiveLoop()
    {
        var buffer = new byte[2048];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try { n = _udp.ReceiveFrom(buffer, ref from); }
            catch (SocketException) { continue; }
            catch (ObjectDisposedException) { return; }
            if (n == 0) continue;
            if (_turn is { } turn && _options.Turn == LoadTurnMode.Udp && from.Equals(_turnServer))
            {
                turn.OnUdpDatagram(buffer, n);
                continue;
            }
            HandleDatagram(buffer.AsSpan(0, n));
        }
    }

    /// <summary>A datagram from the node (off the socket, or unwrapped by the TURN client).</summary>
    private void HandleDatagram(Span<byte> datagram)
    {
        if (datagram.Length == 0) return;
        var first = datagram[0];
        if (first <= 3)
        {
            var parsed = StunMessage.Parse(datagram);
            if (parsed.Message is { } m && m.Class == StunClass.SuccessResponse) _iceDone.TrySetResult();
        }
        else if (first is >= 20 and <= 63) _dtls?.Deliver(datagram);
        else if (first is >= 128 and <= 191) OnSrtp(datagram);
    }

    private void OnSrtp(Span<byte> datagram)
    {
        var receive = _receive;
        if (receive is null) return;
        var now = Stopwatch.GetTimestamp();
        if (datagram.Length >= 2 && datagram[1] is >= 192 and <= 223)
        {
            if (receive.UnprotectRtcp(datagram, out var rl) != SrtpResult.Ok) { Interlocked.Increment(ref _decryptFailures); return; }
            Interlocked.Increment(ref _rtcpReceived);
            var reader = new RtcpReader(datagram[..rl]);
            while (reader.TryReadNext(out var p) == RtcpReadResult.Packet)
            {
                if (p.Type == RtcpPacketType.PayloadFeedback && p.Format is RtcpPacketType.PliFormat or RtcpPacketType.FirFormat
                    && !_options.IgnoreKeyFrameRequests)
                {
                    Interlocked.Increment(ref _pliReceived);
                    _keyFrameRequested = true;
                    // PLI: media SSRC after the sender's; FIR: in the FCI.
                    var at = p.Format == RtcpPacketType.PliFormat ? 4 : 8;
                    if (_layerSsrcs.Length > 0 && p.Body.Length >= at + 4)
                    {
                        var media = BinaryPrimitives.ReadUInt32BigEndian(p.Body[at..]);
                        var layer = Array.IndexOf(_layerSsrcs, media);
                        if (layer >= 0) Interlocked.Exchange(ref _layerKeyRequested[layer], 1);
                    }
                }
            }
            return;
        }
        if (receive.UnprotectRtp(datagram, out var length) != SrtpResult.Ok) { Interlocked.Increment(ref _decryptFailures); return; }
        var packet = datagram[..length];
        if (!RtpHeader.TryParse(packet, out var header)) return;
        if (_rtxToMedia.TryGetValue(header.Ssrc, out var mediaSsrc))
        {
            Interlocked.Increment(ref _rtxReceived);
            var payloadOf = header.GetPayload(packet);
            if (payloadOf.Length >= 2 && _nacked.TryRemove((mediaSsrc, BinaryPrimitives.ReadUInt16BigEndian(payloadOf)), out _))
                Interlocked.Increment(ref _rtxRepaired);
            return;
        }
        if (_options.DropEveryNth > 0 && header.SequenceNumber % _options.DropEveryNth == 0 && !_nacked.ContainsKey((header.Ssrc, header.SequenceNumber)))
        {
            Interlocked.Increment(ref _dropped);
            _nacked[(header.Ssrc, header.SequenceNumber)] = 0;
            SendNack(header.Ssrc, header.SequenceNumber);
            return;
        }
        var stats = _received.GetOrAdd(header.Ssrc, _ => new StreamStats());
        stats.OnPacket(header.SequenceNumber, length);
        var payload = header.GetPayload(packet);
        if (payload.Length >= TrailerLength && BinaryPrimitives.ReadUInt32BigEndian(payload[^TrailerLength..]) == LatencyMagic)
        {
            var sentAt = BinaryPrimitives.ReadInt64BigEndian(payload[(payload.Length - 8)..]);
            _latency.Add((now - sentAt) * 1_000_000 / Stopwatch.Frequency);
        }
    }

    private async Task SignalingLoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var m = await ReceiveJsonAsync(ct).ConfigureAwait(false);
                if (m is null)
                {
                    // Complete the close handshake the server started.
                    if (_ws.State == WebSocketState.CloseReceived)
                        await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", ct).ConfigureAwait(false);
                    return;
                }
                _messages.Enqueue(m);
                switch ((string?)m["type"])
                {
                    case "re-offer":
                        await ReAnswerAsync(m, ct).ConfigureAwait(false);
                        break;
                    case "switched":
                        _switched = true;
                        // As sora-js-sdk: with ignore_disconnect_websocket the client drops its WebSocket at once.
                        if ((bool?)m["ignore_disconnect_websocket"] == true)
                        {
                            await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", ct).ConfigureAwait(false);
                            return;
                        }
                        break;
                    case "ping":
                        // As the SDKs: `stats: true` asks for an RTCStats report with the pong; this client reports its own counters.
                        var pong = new JsonObject { ["type"] = "pong" };
                        if ((bool?)m["stats"] == true)
                        {
                            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                            pong["stats"] = new JsonArray(
                                new JsonObject { ["id"] = "IT01V", ["type"] = "inbound-rtp", ["kind"] = "video", ["timestamp"] = now,
                                    ["packetsReceived"] = PacketsReceived, ["bytesReceived"] = BytesReceived },
                                new JsonObject { ["id"] = "OT01V", ["type"] = "outbound-rtp", ["kind"] = "video", ["timestamp"] = now, ["packetsSent"] = PacketsSent });
                            Interlocked.Increment(ref _statsRequests);
                        }
                        await SendJsonAsync(pong, ct).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
    }

    /// <summary>Answers a `re-offer` (from the WebSocket or DC:signaling) where sora-js-sdk would.</summary>
    private Task ReAnswerAsync(JsonObject reOffer, CancellationToken ct) =>
        SendSignalingAsync(new JsonObject { ["type"] = "re-answer", ["sdp"] = Answer((string)reOffer["sdp"]!, initial: false) }, ct);

    /// <summary>As sora-js-sdk's sendSignalingMessage: DC:signaling once the server opened it, else the WebSocket.</summary>
    private async Task SendSignalingAsync(JsonObject message, CancellationToken ct)
    {
        if (_dc is { } dc && dc.OpenLabels.Contains("signaling"))
        {
            if (!dc.Send("signaling", Encoding.UTF8.GetBytes(message.ToJsonString()), binary: false))
                throw new InvalidOperationException("DC:signaling refused the message");
            return;
        }
        await SendJsonAsync(message, ct).ConfigureAwait(false);
    }

    /// <summary>Messages of the server's data channels: signaling, notify and push go where WebSocket ones go (tagged `_via`).</summary>
    private async Task DataChannelLoopAsync(ClientDataChannels dc, CancellationToken ct)
    {
        try
        {
            await foreach (var (label, message) in dc.Received.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (label.StartsWith('#'))
                {
                    Interlocked.Increment(ref _appMessagesReceived);
                    Interlocked.Add(ref _appBytesReceived, message.Data.Length);
                    if (_appMessages.Count < 10_000) _appMessages.Enqueue((label, message.Data));
                    var d = message.Data;
                    for (var at = 0; at <= 26 && at + 12 <= d.Length; at += 26) // with or without a 26-byte header
                    {
                        if (BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(at)) != MessageMagic) continue;
                        var sent = BinaryPrimitives.ReadInt64BigEndian(d.AsSpan(at + 4));
                        _messageLatency.Add((long)Stopwatch.GetElapsedTime(sent).TotalMicroseconds);
                        break;
                    }
                    continue;
                }
                JsonObject? m;
                try { m = JsonNode.Parse(message.Data) as JsonObject; }
                catch (System.Text.Json.JsonException) { continue; }
                if (m is null) continue;
                m["_via"] = "datachannel:" + label;
                _messages.Enqueue(m);
                switch ((string?)m["type"])
                {
                    case "re-offer":
                        await ReAnswerAsync(m, ct).ConfigureAwait(false);
                        break;
                    case "req-stats":
                        dc.Send("stats", """{"type":"stats","reports":[]}"""u8, binary: false);
                        break;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (InvalidOperationException) { }
    }

    /// <summary>A message for load runs: magic, send time, then <paramref name="size"/> − 12 filler bytes.</summary>
    public static byte[] LoadMessage(int size)
    {
        var b = new byte[Math.Max(12, size)];
        BinaryPrimitives.WriteUInt32BigEndian(b, MessageMagic);
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(4), Stopwatch.GetTimestamp());
        return b;
    }

    /// <summary>Sends on a `#` label (false: not open or the send buffer is full).</summary>
    public bool SendMessage(string label, ReadOnlySpan<byte> data, bool binary = true) => _dc?.Send(label, data, binary) ?? false;

    /// <summary>
    /// Sends <paramref name="message"/> on the signaling WebSocket exactly as given, as one message of
    /// <paramref name="type"/>: for fuzzing a node with what no SDK would send (the tests of issue 13).
    /// </summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken ct = default)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try { await _ws.SendAsync(message, type, true, ct).ConfigureAwait(false); }
        finally { _sendLock.Release(); }
    }

    private async Task SendJsonAsync(JsonObject message, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try { await _ws.SendAsync(bytes, WebSocketMessageType.Text, true, ct).ConfigureAwait(false); }
        finally { _sendLock.Release(); }
    }

    private async Task<JsonObject?> ReceiveJsonAsync(CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        using var ms = new MemoryStream();
        while (true)
        {
            var r = await _ws.ReceiveAsync(buffer, ct).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close) return null;
            ms.Write(buffer, 0, r.Count);
            if (r.EndOfMessage) break;
        }
        return JsonNode.Parse(ms.ToArray()) as JsonObject;
    }

    /// <summary>Sends `disconnect` and waits (bounded) for the server's close.</summary>
    public async Task DisconnectAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            if (_switched && _dc is { } dc)
            {
                // As sora-js-sdk: disconnect on DC:signaling, then wait for the server to close the channels.
                await SendSignalingAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = "NO-ERROR" }, cts.Token).ConfigureAwait(false);
                while (dc.OpenLabels.Count > 0 && !cts.IsCancellationRequested) await Task.Delay(10, cts.Token).ConfigureAwait(false);
                return;
            }
            await SendJsonAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = "NO-ERROR" }, cts.Token).ConfigureAwait(false);
            if (_signalingLoop is { } loop) await loop.WaitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or TimeoutException or ObjectDisposedException or InvalidOperationException) { }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            if (_ws.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
        _dc?.Dispose();
        _dtls?.Dispose();
        _udp.Dispose();
        _ws.Dispose();
        _receiveThread?.Join(TimeSpan.FromSeconds(2));
    }

    private static string RandomToken(int length) =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", length);

    private static uint RandomSsrc() => (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);

    private sealed class StreamStats
    {
        private bool _started;
        private int _highest; // extended
        private int _first;
        private long _packets, _bytes;

        public long Packets => Interlocked.Read(ref _packets);
        public long Bytes => Interlocked.Read(ref _bytes);
        public long Lost { get { lock (this) return _started ? Math.Max(0, _highest - _first + 1 - _packets) : 0; } }

        public void OnPacket(ushort seq, int length)
        {
            lock (this)
            {
                if (!_started)
                {
                    _started = true;
                    _first = _highest = seq;
                }
                else
                {
                    var delta = (short)(seq - (ushort)_highest);
                    if (delta > 0) _highest += delta;
                }
                _packets++;
                _bytes += length;
            }
        }
    }
}

/// <summary>Added-latency samples in microseconds (send time to receive time, through the SFU).</summary>
public sealed class LatencyRecorder
{
    private readonly List<long> _samples = [];

    public void Add(long micros)
    {
        lock (_samples) if (_samples.Count < 2_000_000) _samples.Add(micros);
    }

    public int Count { get { lock (_samples) return _samples.Count; } }

    public void Clear()
    {
        lock (_samples) _samples.Clear();
    }

    public long[] Snapshot()
    {
        lock (_samples) return [.. _samples];
    }

    public static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
