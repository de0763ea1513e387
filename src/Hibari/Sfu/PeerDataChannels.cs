using Hibari.Rtc.DataChannels;
using Hibari.Rtc.Sctp;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// The data channels of one connection: the managed SCTP association over the connection's DTLS (RFC 8261), DCEP on
/// top, and the channels the node opened by label. The SFU is the DTLS server, so it opens odd stream ids and
/// accepts Chrome's INIT whenever it comes. Media thread only: every call and every event happens there.
/// </summary>
internal sealed class PeerDataChannels : IDisposable
{
    /// <summary>a=max-message-size the offer announces and the association accepts (Chrome's own limit, docs/protocol-notes.md, "SCTP for data channels").</summary>
    public const int MaxMessageSize = 262_144;
    /// <summary>
    /// Largest SCTP packet: it must fit one DTLS record inside a 1,200-byte datagram (BouncyCastle allows 1,163 bytes of
    /// application data with AES-GCM and less with AES-CM + HMAC; measured), so 1,100 leaves room for either.
    /// </summary>
    public const int SctpMtu = 1100;

    private readonly SctpAssociation _sctp;
    private readonly DataChannelEndpoint _endpoint;
    private readonly Dictionary<string, DataChannel> _opened = new(StringComparer.Ordinal);
    private readonly HashSet<string> _waiting = new(StringComparer.Ordinal);
    private readonly ILogger _log;
    private readonly string _connectionId;
    private bool _allOpenRaised;
    private TaskCompletionSource? _allClosed;

    public PeerDataChannels(string connectionId, Action<ReadOnlyMemory<byte>> output, long nowMicros, ILogger log)
    {
        _connectionId = connectionId;
        _log = log;
        _sctp = new SctpAssociation(new SctpOptions { MaxMessageSize = MaxMessageSize, Mtu = SctpMtu }) { Output = output };
        _sctp.Tick(nowMicros);
        _endpoint = new DataChannelEndpoint(_sctp, isDtlsClient: false, log);
        _sctp.Established += () => Established?.Invoke();
        _sctp.Closed += reason => Closed?.Invoke(reason);
        _endpoint.ChannelOpen += OnChannelOpen;
        _endpoint.MessageReceived += (channel, message) => MessageReceived?.Invoke(channel.Label, message);
        _endpoint.ChannelClosed += channel =>
        {
            if (_opened.TryGetValue(channel.Label, out var ours) && ours == channel) _opened.Remove(channel.Label);
            if (_opened.Count == 0) _allClosed?.TrySetResult();
            ChannelClosed?.Invoke(channel.Label);
        };
        _sctp.Start(sendInit: false);
    }

    public event Action? Established;
    /// <summary>Every channel asked for by <see cref="OpenAll"/> is open (its DCEP ACK came back).</summary>
    public event Action? AllOpen;
    public event Action<string, DataChannelMessage>? MessageReceived;
    public event Action<string>? ChannelClosed;
    public event Action<string>? Closed;

    public bool IsEstablished => _sctp.State == SctpState.Established;
    /// <summary>The node is closing the channels (<see cref="CloseChannels"/>): their closes are expected.</summary>
    public bool Closing { get; private set; }
    public long ProtocolErrors => _endpoint.ProtocolErrors;

    public void Receive(ReadOnlySpan<byte> packet)
    {
        _sctp.Receive(packet);
        Drain(); // a SACK may have made room
    }

    /// <summary>When <see cref="Tick"/> next has work (0: now, a backlog waits for room; long.MaxValue: nothing armed).</summary>
    public long NextTickMicros => _backlog.Count > 0 ? 0 : _sctp.NextTimerMicros;

    public void Tick(long nowMicros)
    {
        _sctp.Tick(nowMicros);
        Drain();
    }

    /// <summary>Opens the node's channels (system and messaging labels); <see cref="AllOpen"/> follows their ACKs.</summary>
    public void OpenAll(IEnumerable<(string Label, DataChannelOptions Options)> channels)
    {
        foreach (var (label, options) in channels)
        {
            if (_opened.ContainsKey(label)) continue;
            try
            {
                _opened[label] = _endpoint.Open(label, options);
                _waiting.Add(label);
            }
            catch (InvalidOperationException e)
            {
                _log.LogInformation("Connection {Id}: data channel {Label} not opened: {Error}", _connectionId, label, e.Message);
            }
        }
        RaiseAllOpenIfDone();
    }

    private void OnChannelOpen(DataChannel channel)
    {
        if (_opened.TryGetValue(channel.Label, out var ours) && ours == channel) _waiting.Remove(channel.Label);
        RaiseAllOpenIfDone();
    }

    private void RaiseAllOpenIfDone()
    {
        if (_allOpenRaised || _waiting.Count > 0 || _opened.Count == 0) return;
        _allOpenRaised = true;
        AllOpen?.Invoke();
    }

    /// <summary>
    /// Bytes a connection may have waiting for room in its SCTP send buffer (on top of that buffer's 2 MB): a burst
    /// toward a slower client is queued, not lost (Chrome's own limit for one channel's bufferedAmount is 16 MB).
    /// </summary>
    public const long MaxBacklogBytes = 16 * 1024 * 1024;

    private readonly Queue<(string Label, byte[] Data, bool Binary)> _backlog = new();
    private long _backlogBytes;

    public long BacklogBytes => _backlogBytes;

    /// <summary>
    /// Sends on the node's channel of that label, in order with what is already waiting; false when the label has no
    /// open channel or the backlog is full (the message is then lost to this client, and the caller counts it).
    /// </summary>
    public bool Send(string label, ReadOnlySpan<byte> data, bool binary)
    {
        if (!_opened.TryGetValue(label, out var channel) || channel.State != DataChannelState.Open) return false;
        if (_backlog.Count == 0 && channel.Send(data, binary)) return true;
        if (_backlogBytes + data.Length > MaxBacklogBytes) return false;
        _backlog.Enqueue((label, data.ToArray(), binary));
        _backlogBytes += data.Length;
        return true;
    }

    private void Drain()
    {
        while (_backlog.TryPeek(out var next))
        {
            if (_opened.TryGetValue(next.Label, out var channel) && channel.State == DataChannelState.Open)
            {
                if (!channel.Send(next.Data, next.Binary)) return;
            }
            _backlog.Dequeue(); // sent, or its channel is gone
            _backlogBytes -= next.Data.Length;
        }
    }

    public bool Has(string label) => _opened.ContainsKey(label);

    /// <summary>Closes every channel by stream reset (the peer's data channels fire close); completes when all are closed.</summary>
    public Task CloseChannels()
    {
        Closing = true;
        if (_opened.Count == 0 || !IsEstablished) return Task.CompletedTask;
        _allClosed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var channel in _opened.Values.ToList()) channel.Close();
        return _allClosed.Task;
    }

    public void Dispose()
    {
        _allClosed?.TrySetResult();
        _endpoint.Dispose();
        _sctp.Dispose(); // ABORT: the peer's channels close at once
    }
}
