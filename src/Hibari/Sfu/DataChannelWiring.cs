using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// A connection's data channels seen from the SFU: which channels the node opens once SCTP is up, where their
/// messages go (signaling, messaging) and what their closing means. Holds no state of its own. Threads
/// (docs/threads.md): the data channels belong to the connection's media worker, so their events run there and
/// sends and closes are posted to it; a closing that ends the connection goes through the control queue.
/// </summary>
internal sealed class DataChannelWiring(SfuContext ctx, Messaging.MessageRouter messages, Action<string, string> leave)
{
    private readonly ILogger _log = ctx.Log;

    /// <summary>
    /// Once SCTP is up the node opens the connection's channels: the system labels for data-channel signaling, and
    /// each messaging label with its reliability. Messages on system labels go to signaling; `#` labels to messaging.
    /// A connection that signals over data channels ends when they go.
    /// </summary>
    public void AttachDataChannels(Connection c, PeerDataChannels dc)
    {
        dc.Established += () => dc.OpenAll(ChannelsToOpen(c.Info));
        dc.AllOpen += c.Signaling.DataChannelsOpen;
        dc.MessageReceived += (label, message) =>
        {
            if (DataChannelLabels.IsMessaging(label))
            {
                messages.FromClient(c, label, message);
                return;
            }
            if (!DataChannelLabels.IsSystem(label) || !dc.Has(label)) return;
            var data = message.Data;
            if (c.Info.DataChannel(label)?.Compress == true && !Messaging.Zlib.TryDecompress(data, PeerDataChannels.MaxMessageSize, out data))
            {
                _log.LogDebug("Connection {Id}: a message on {Label} is not a zlib stream: dropped", c.ConnectionId, label);
                return;
            }
            c.Signaling.DataChannelMessage(label, data);
        };
        dc.ChannelClosed += label =>
        {
            // The SDKs treat any of their channels closing as the end of the connection; so does the node.
            if (c.Info.DataChannelSignaling && DataChannelLabels.IsSystem(label) && !dc.Closing)
                ctx.Control.Post(() => leave(c.ConnectionId, "DATA-CHANNEL-CLOSED"));
        };
        dc.Closed += reason =>
        {
            _log.LogInformation("Connection {Id}: SCTP association closed: {Reason}", c.ConnectionId, reason);
            if (c.Info.DataChannelSignaling) ctx.Control.Post(() => leave(c.ConnectionId, "DATA-CHANNEL-CLOSED"));
        };
    }

    private static List<(string, Rtc.DataChannels.DataChannelOptions)> ChannelsToOpen(ConnectionInfo info)
    {
        var list = new List<(string, Rtc.DataChannels.DataChannelOptions)>();
        if (info.DataChannelSignaling)
            foreach (var label in DataChannelLabels.SystemOf(true, info.RpcMethods.Count > 0)) list.Add((label, new Rtc.DataChannels.DataChannelOptions()));
        foreach (var d in info.DataChannels)
        {
            if (!d.IsMessaging) continue;
            list.Add((d.Label, new Rtc.DataChannels.DataChannelOptions
            {
                Ordered = d.Ordered,
                MaxRetransmits = d.MaxRetransmits,
                MaxPacketLifeTimeMs = d.MaxPacketLifeTime,
                Protocol = d.Protocol ?? "",
            }));
        }
        return list;
    }

    /// <summary>Sends a signaling JSON message on one of the connection's system channels (compressed if that label is). Any thread.</summary>
    public void SendOnDataChannel(Connection c, string label, byte[] utf8)
    {
        var compress = c.Info.DataChannel(label)?.Compress == true;
        c.Transport.Worker.Post(() =>
        {
            if (c.Transport.DataChannels is not { } dc) return;
            var ok = compress ? dc.Send(label, Messaging.Zlib.Compress(utf8), binary: true) : dc.Send(label, utf8, binary: false);
            if (!ok) _log.LogInformation("Connection {Id}: a signaling message on {Label} could not be sent (channel not open or full)", c.ConnectionId, label);
        });
    }

    /// <summary>
    /// Closes the connection's data channels by stream reset and waits (at most <paramref name="timeout"/>) until the
    /// client closed them too: how Sora answers a `disconnect` on DC:signaling (the SDK waits for every channel's close).
    /// </summary>
    public async Task CloseDataChannelsAsync(Connection c, TimeSpan timeout)
    {
        var closed = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        c.Transport.Worker.Post(() => closed.TrySetResult(c.Transport.DataChannels?.CloseChannels() ?? Task.CompletedTask));
        try
        {
            var all = await closed.Task.WaitAsync(timeout).ConfigureAwait(false);
            await all.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogDebug("Connection {Id}: data channels not all closed within {Ms} ms", c.ConnectionId, (int)timeout.TotalMilliseconds);
        }
    }
}
