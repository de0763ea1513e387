using Hibari.Rtc.Sctp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Rtc.DataChannels;

/// <summary>
/// WebRTC data channels (RFC 8831) with DCEP (RFC 8832) on one <see cref="ISctpAssociation"/>. Single-threaded like the
/// association: call it from the connection loop; its events are raised synchronously from inside the association's
/// Receive/Tick/Send calls (and from <see cref="Open"/>/<see cref="DataChannel.Close"/> where noted). No threads, no timers.
/// Malformed or unexpected peer input never throws out of here: it is dropped, counted in <see cref="ProtocolErrors"/>
/// and logged at debug. Exceptions thrown by event handlers are caught and logged (warning).
/// </summary>
public sealed class DataChannelEndpoint : IDisposable
{
    /// <summary>Highest stream id we open (65535 is not a valid data channel id).</summary>
    public const ushort DefaultMaxStreamId = 65534;

    private readonly ISctpAssociation _sctp;
    private readonly ILogger _log;
    private readonly Dictionary<ushort, DataChannel> _channels = new();
    /// <summary>
    /// Ids we reset our outgoing stream for and that no channel uses since. SCTP may still be resetting them (it refuses
    /// sends until the peer confirms), and a second reset from the peer on them is not answered again (no reset ping-pong).
    /// </summary>
    private readonly HashSet<ushort> _resetByUs = new();
    private static readonly byte[] OneZeroByte = [0];
    private bool _disposed;

    public DataChannelEndpoint(ISctpAssociation sctp, bool isDtlsClient, ILogger? log = null)
        : this(sctp, isDtlsClient, log, DefaultMaxStreamId) { }

    /// <param name="maxStreamId">Highest id <see cref="Open"/> uses (e.g. the negotiated outbound streams − 1).</param>
    public DataChannelEndpoint(ISctpAssociation sctp, bool isDtlsClient, ILogger? log, ushort maxStreamId)
    {
        ArgumentNullException.ThrowIfNull(sctp);
        _sctp = sctp;
        IsDtlsClient = isDtlsClient;
        MaxStreamId = maxStreamId;
        _log = log ?? NullLogger.Instance;
        _sctp.MessageReceived += OnSctpMessage;
        _sctp.StreamReset += OnSctpStreamReset;
        _sctp.Closed += OnSctpClosed;
    }

    /// <summary>DTLS client opens even stream ids, the DTLS server odd ones (RFC 8832 §6).</summary>
    public bool IsDtlsClient { get; }
    public ushort MaxStreamId { get; }
    /// <summary>Channels not yet Closed (Connecting, Open, Closing), in stream id order; a snapshot.</summary>
    public IReadOnlyCollection<DataChannel> Channels => _channels.Values.OrderBy(c => c.StreamId).ToArray();
    public long ProtocolErrors { get; private set; }
    /// <summary>Exceptions of our own code caught at the association boundary (a bug if not zero).</summary>
    internal long InternalErrors { get; private set; }
    internal long BufferedAmount => _sctp.BufferedAmount;

    /// <summary>Ours: when its DATA_CHANNEL_ACK (or any peer message on it) arrives. The peer's: when its OPEN arrived and we sent the ACK.</summary>
    public event Action<DataChannel>? ChannelOpen;
    public event Action<DataChannel, DataChannelMessage>? MessageReceived;
    /// <summary>Once per channel: after both directions are reset (for a peer-initiated close: when we have answered with
    /// our reset), when the association closes, or at once when <see cref="DataChannel.Close"/> finds no association.</summary>
    public event Action<DataChannel>? ChannelClosed;

    /// <summary>An open or connecting channel with this label (the lowest stream id if several), else null.</summary>
    public DataChannel? Find(string label)
    {
        DataChannel? found = null;
        foreach (var c in _channels.Values)
            if (c.Label == label && c.State is DataChannelState.Open or DataChannelState.Connecting && (found is null || c.StreamId < found.StreamId))
                found = c;
        return found;
    }

    /// <summary>
    /// Opens a channel on the lowest free stream id of our parity and sends DATA_CHANNEL_OPEN (PPID 50, ordered,
    /// reliable). The channel is Connecting until the peer's ACK (or any message of the peer on it) arrives; it may send
    /// meanwhile (ordered). <see cref="ArgumentException"/> for bad options or a label/protocol over 65,535 UTF-8 bytes;
    /// <see cref="InvalidOperationException"/> when the association is not established, no id is free, or SCTP refuses
    /// the OPEN (send buffer full).
    /// </summary>
    public DataChannel Open(string label, DataChannelOptions options)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(label);
        ArgumentNullException.ThrowIfNull(options);
        var open = Dcep.OpenFor(label, options); // validates options
        var payload = Dcep.WriteOpen(open);      // validates lengths
        if (_sctp.State != SctpState.Established)
            throw new InvalidOperationException($"the SCTP association is not established ({_sctp.State})");
        for (int id = IsDtlsClient ? 0 : 1; id <= MaxStreamId; id += 2)
        {
            var sid = (ushort)id;
            if (_channels.ContainsKey(sid)) continue;
            if (!_sctp.Send(sid, DataChannelPpid.Dcep, payload, default))
            {
                // A stream we reset may still be resetting (SCTP refuses it until the peer confirms): take the next one.
                if (_resetByUs.Contains(sid)) continue;
                throw new InvalidOperationException($"SCTP refused the DATA_CHANNEL_OPEN on stream {sid} (send buffer full)");
            }
            _resetByUs.Remove(sid);
            var channel = new DataChannel(this, sid, label, options, locallyOpened: true);
            _channels.Add(sid, channel);
            DataChannelLog.ChannelEvent(_log, "OPEN sent", sid, label);
            return channel;
        }
        throw new InvalidOperationException($"no free stream id of our parity up to {MaxStreamId}");
    }

    internal bool SendOn(DataChannel channel, ReadOnlySpan<byte> data, bool binary)
    {
        if (_disposed || !IsCurrent(channel)) return false;
        if (channel.State != DataChannelState.Open && !(channel.State == DataChannelState.Connecting && channel.LocallyOpened)) return false;
        var o = channel.Options;
        var options = new SctpSendOptions(
            Unordered: !o.Ordered && channel.PeerHeard, // ordered until the peer was heard (RFC 8832 §6)
            MaxRetransmits: o.MaxRetransmits,
            MaxLifetime: o.MaxPacketLifeTimeMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null);
        return data.IsEmpty
            ? _sctp.Send(channel.StreamId, binary ? DataChannelPpid.BinaryEmpty : DataChannelPpid.StringEmpty, OneZeroByte, options)
            : _sctp.Send(channel.StreamId, binary ? DataChannelPpid.Binary : DataChannelPpid.String, data, options);
    }

    internal void CloseChannel(DataChannel channel)
    {
        if (_disposed || !IsCurrent(channel) || channel.State is DataChannelState.Closing or DataChannelState.Closed) return;
        if (_sctp.State != SctpState.Established)
        {
            // Nothing to reset over (not established, shutting down or closed): closed at once.
            Finish(channel, "closed without an association");
            return;
        }
        channel.State = DataChannelState.Closing;
        DataChannelLog.ChannelEvent(_log, "closing (outgoing reset)", channel.StreamId, channel.Label);
        _sctp.ResetStream(channel.StreamId);
        _resetByUs.Add(channel.StreamId);
    }

    private bool IsCurrent(DataChannel channel) => _channels.TryGetValue(channel.StreamId, out var c) && ReferenceEquals(c, channel);

    // ------------------------------------------------------------------ from the association

    private void OnSctpMessage(SctpMessage m)
    {
        if (_disposed) return;
        try
        {
            switch (m.Ppid)
            {
                case DataChannelPpid.Dcep: OnDcep(m); break;
                case DataChannelPpid.String or DataChannelPpid.Binary or DataChannelPpid.StringEmpty or DataChannelPpid.BinaryEmpty: OnUserMessage(m); break;
                default: Error(m.StreamId, $"unknown PPID {m.Ppid} ({m.Data.Length} bytes)"); break;
            }
        }
        catch (Exception e)
        {
            InternalErrors++;
            _log.LogWarning(e, "Data channels: unexpected exception on a message of stream {StreamId}", m.StreamId);
        }
    }

    private void OnDcep(SctpMessage m)
    {
        if (!Dcep.TryParse(m.Data, out var open, out var isAck, out var error)) { Error(m.StreamId, error ?? "bad DCEP message"); return; }
        _channels.TryGetValue(m.StreamId, out var channel);
        if (isAck)
        {
            if (channel is null) { Error(m.StreamId, "DATA_CHANNEL_ACK on a stream without a channel"); return; }
            if (!channel.LocallyOpened) { Error(m.StreamId, "DATA_CHANNEL_ACK on a channel the peer opened"); return; }
            if (channel.AckReceived) { Error(m.StreamId, "second DATA_CHANNEL_ACK"); return; }
            channel.AckReceived = true;
            PeerHeard(channel);
            return;
        }
        var o = open!.Value;
        if (IsOurParity(m.StreamId)) { Error(m.StreamId, $"DATA_CHANNEL_OPEN '{o.Label}' on a stream id of our parity"); return; }
        if (channel is not null) { Error(m.StreamId, $"DATA_CHANNEL_OPEN '{o.Label}' on a stream in use by '{channel.Label}'"); return; }
        var peerChannel = new DataChannel(this, m.StreamId, o.Label, Dcep.OptionsFor(o), locallyOpened: false) { State = DataChannelState.Open };
        _channels.Add(m.StreamId, peerChannel);
        _resetByUs.Remove(m.StreamId);
        if (!_sctp.Send(m.StreamId, DataChannelPpid.Dcep, Dcep.WriteAck(), default))
            DataChannelLog.Note(_log, "SCTP refused the DATA_CHANNEL_ACK (our first message will acknowledge instead)", m.StreamId);
        DataChannelLog.ChannelEvent(_log, "OPEN received, ACK sent", m.StreamId, o.Label);
        Raise(ChannelOpen, peerChannel, "ChannelOpen");
    }

    private void OnUserMessage(SctpMessage m)
    {
        if (!_channels.TryGetValue(m.StreamId, out var channel)) { Error(m.StreamId, $"message (PPID {m.Ppid}) on a stream without a channel"); return; }
        if (channel.State == DataChannelState.Connecting) PeerHeard(channel); // implicit ACK (RFC 8832 §6)
        if (_disposed || channel.State != DataChannelState.Open) return;   // Closing: the peer has not seen our reset yet; dropped
        var binary = m.Ppid is DataChannelPpid.Binary or DataChannelPpid.BinaryEmpty;
        var data = m.Ppid is DataChannelPpid.StringEmpty or DataChannelPpid.BinaryEmpty ? [] : m.Data;
        var handler = MessageReceived;
        if (handler is null) return;
        try { handler(channel, new DataChannelMessage(data, binary)); }
        catch (Exception e) { DataChannelLog.HandlerThrew(_log, "MessageReceived", e); }
    }

    /// <summary>Our channel heard from the peer (ACK or a message): Connecting → Open; messages may now go unordered.</summary>
    private void PeerHeard(DataChannel channel)
    {
        channel.PeerHeard = true;
        if (channel.State != DataChannelState.Connecting) return;
        channel.State = DataChannelState.Open;
        DataChannelLog.ChannelEvent(_log, channel.AckReceived ? "ACK received" : "peer message before the ACK", channel.StreamId, channel.Label);
        Raise(ChannelOpen, channel, "ChannelOpen");
    }

    private void OnSctpStreamReset(ushort streamId)
    {
        if (_disposed) return;
        try
        {
            if (!_channels.TryGetValue(streamId, out var channel))
            {
                // No channel (e.g. an OPEN we refused): answer once so the peer's channel can close, but never answer our own answer.
                if (_resetByUs.Add(streamId)) _sctp.ResetStream(streamId);
                DataChannelLog.Note(_log, "peer reset a stream without a channel", streamId);
                return;
            }
            if (channel.State != DataChannelState.Closing)
            {
                _sctp.ResetStream(streamId); // RFC 8831 §6.7: answer with our outgoing reset
                _resetByUs.Add(streamId);
            }
            Finish(channel, "peer reset");
        }
        catch (Exception e)
        {
            InternalErrors++;
            _log.LogWarning(e, "Data channels: unexpected exception on a reset of stream {StreamId}", streamId);
        }
    }

    private void OnSctpClosed(string reason)
    {
        if (_disposed) return;
        var all = _channels.Values.OrderBy(c => c.StreamId).ToArray();
        _resetByUs.Clear();
        foreach (var c in all)
            if (IsCurrent(c)) Finish(c, "association closed: " + reason);
    }

    private void Finish(DataChannel channel, string why)
    {
        channel.State = DataChannelState.Closed;
        _channels.Remove(channel.StreamId);
        DataChannelLog.ChannelEvent(_log, "closed (" + why + ")", channel.StreamId, channel.Label);
        Raise(ChannelClosed, channel, "ChannelClosed");
    }

    private bool IsOurParity(ushort streamId) => (streamId % 2 == 0) == IsDtlsClient;

    private void Error(ushort streamId, string reason)
    {
        ProtocolErrors++;
        DataChannelLog.ProtocolError(_log, streamId, reason);
    }

    private void Raise(Action<DataChannel>? handler, DataChannel channel, string name)
    {
        if (handler is null) return;
        try { handler(channel); }
        catch (Exception e) { DataChannelLog.HandlerThrew(_log, name, e); }
    }

    /// <summary>Detaches from the association (which it does not own) and marks every channel Closed without events.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _sctp.MessageReceived -= OnSctpMessage;
        _sctp.StreamReset -= OnSctpStreamReset;
        _sctp.Closed -= OnSctpClosed;
        foreach (var c in _channels.Values) c.State = DataChannelState.Closed;
        _channels.Clear();
    }
}
