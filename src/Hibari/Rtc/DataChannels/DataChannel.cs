using System.Text;

namespace Hibari.Rtc.DataChannels;

/// <summary>
/// One WebRTC data channel (RFC 8831): a bidirectional SCTP stream pair with the same id, opened with DCEP (RFC 8832).
/// Created by <see cref="DataChannelEndpoint.Open"/> or by the peer's DATA_CHANNEL_OPEN; not thread-safe (the
/// association's thread).
/// </summary>
public sealed class DataChannel
{
    private readonly DataChannelEndpoint _endpoint;

    internal DataChannel(DataChannelEndpoint endpoint, ushort streamId, string label, DataChannelOptions options, bool locallyOpened)
    {
        _endpoint = endpoint;
        StreamId = streamId;
        Label = label;
        Options = options;
        LocallyOpened = locallyOpened;
        // The peer's channel: we have its OPEN, so our messages may follow its options at once.
        PeerHeard = !locallyOpened;
    }

    public ushort StreamId { get; }
    public string Label { get; }
    /// <summary>For peer-opened channels: decoded from its OPEN.</summary>
    public DataChannelOptions Options { get; }
    public string Protocol => Options.Protocol;
    public DataChannelState State { get; internal set; } = DataChannelState.Connecting;
    public bool LocallyOpened { get; }
    /// <summary>Best effort: the association's bytes queued and unacknowledged (all channels together).</summary>
    public long BufferedAmount => _endpoint.BufferedAmount;

    /// <summary>
    /// Set once the peer's ACK or any peer message arrived on this channel (always set for peer-opened channels).
    /// Until then our messages go ordered (RFC 8832 §6).
    /// </summary>
    internal bool PeerHeard { get; set; }
    /// <summary>Whether the DATA_CHANNEL_ACK itself arrived (a second one is a protocol error).</summary>
    internal bool AckReceived { get; set; }

    /// <summary>
    /// Sends one message: PPID 53 (binary) or 51 (text); an empty one as PPID 57/56 with one zero byte (RFC 8831 §6.6).
    /// False when the channel is not Open (or Connecting and ours), or when SCTP refuses (send buffer full, message
    /// larger than the association's maximum, association not established).
    /// </summary>
    public bool Send(ReadOnlySpan<byte> data, bool binary) => _endpoint.SendOn(this, data, binary);

    /// <summary>Sends a text message (UTF-8, PPID 51 or 56).</summary>
    public bool Send(string text) => Send(Encoding.UTF8.GetBytes(text), binary: false);

    /// <summary>
    /// Closes the channel (RFC 8831 §6.7): resets our outgoing stream; the state becomes Closing and then Closed when the
    /// peer's reset of its outgoing stream arrives. Closed at once when the association is not established.
    /// Does nothing when already Closing or Closed.
    /// </summary>
    public void Close() => _endpoint.CloseChannel(this);

    public override string ToString() => $"data channel {StreamId} '{Label}' ({State})";
}
