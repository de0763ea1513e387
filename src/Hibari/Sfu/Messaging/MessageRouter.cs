using System.Text;
using Hibari.Rtc.DataChannels;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu.Messaging;

/// <summary>One messaging message as the node sees it: decompressed, without any header, with who sent it.</summary>
public sealed record MessagingMessage(string ChannelId, string SessionId, string SenderConnectionId, string SenderBundleId,
    string Label, byte[] Payload, bool Binary);

/// <summary>
/// Where a message goes besides this node's connections: the relay (issue 6) implements it to carry messages to
/// the session's other nodes, which hand them to their own <see cref="MessageRouter.DeliverLocal"/>.
/// </summary>
public interface IMessageRelay
{
    /// <summary>Called on the sender's media worker for every message a local client sent; must not block.</summary>
    void Relay(MessagingMessage message);
}

/// <summary>
/// Messaging (docs/protocol-notes.md, "Messaging"): a message a client sends on its `#label` (direction sendonly or sendrecv) goes to
/// every other connection of the session that has `#label` with direction recvonly or sendrecv, except connections
/// with the sender's bundle_id. Each receiver gets it in its own label's form: with the 26-byte sender connection id
/// in front when its `header` asks for it, zlib-compressed when its `compress` is on. Runs on the sender's media worker
/// (or the worker a relayed message was posted to); a receiver on another worker gets its copy posted to that worker,
/// which alone touches its data channels. Counters are atomic: several workers route at once.
/// </summary>
internal sealed class MessageRouter(SfuCounters counters, ILogger log)
{
    public IMessageRelay? Relay { get; set; }

    /// <summary>A message from a local client's data channel.</summary>
    public void FromClient(Connection sender, string label, DataChannelMessage message)
    {
        var spec = sender.Info.DataChannel(label);
        Interlocked.Increment(ref counters.MessagesReceived);
        Interlocked.Add(ref counters.MessagesReceivedBytes, message.Data.Length);
        if (spec is null || !spec.IsMessaging || !spec.Sends)
        {
            Interlocked.Increment(ref counters.MessagesDropped);
            log.LogDebug("Connection {Id}: message on {Label} dropped (not a sending messaging label of this connection)", sender.ConnectionId, label);
            return;
        }
        var payload = message.Data;
        if (spec.Compress && !Zlib.TryDecompress(message.Data, PeerDataChannels.MaxMessageSize, out payload))
        {
            Interlocked.Increment(ref counters.MessagesDropped);
            log.LogDebug("Connection {Id}: message on {Label} dropped (not a zlib stream within {Max} bytes)", sender.ConnectionId, label, PeerDataChannels.MaxMessageSize);
            return;
        }
        var m = new MessagingMessage(sender.Info.ChannelId, sender.Info.SessionId, sender.ConnectionId, sender.Info.BundleId, label,
            payload, message.Binary || spec.Compress);
        DeliverLocal(sender.Session, m);
        Relay?.Relay(m);
    }

    /// <summary>Delivers to this node's receivers of the session (also the entry point for messages relayed from other nodes).</summary>
    internal void DeliverLocal(Session session, MessagingMessage m)
    {
        byte[]? plain = null, headed = null, plainZ = null, headedZ = null;
        foreach (var r in session.MembersSnapshot)
        {
            if (r.ConnectionId == m.SenderConnectionId || r.Info.BundleId == m.SenderBundleId) continue;
            var spec = r.Info.DataChannel(m.Label);
            if (spec is null || !spec.Receives) continue;
            byte[] bytes;
            if (spec.SenderConnectionIdHeader)
            {
                headed ??= WithHeader(m);
                bytes = spec.Compress ? headedZ ??= Zlib.Compress(headed) : headed;
            }
            else
            {
                plain ??= m.Payload;
                bytes = spec.Compress ? plainZ ??= Zlib.Compress(plain) : plain;
            }
            var binary = m.Binary || spec.Compress;
            var worker = r.Transport.Worker;
            if (worker.IsOwnerThread) Send(r, m.Label, bytes, binary);
            else worker.Post(() => Send(r, m.Label, bytes, binary));
        }
    }

    // On the receiver's worker.
    private void Send(Connection r, string label, byte[] bytes, bool binary)
    {
        if (r.Transport.DataChannels is { } dc && dc.Send(label, bytes, binary))
        {
            Interlocked.Increment(ref counters.MessagesSent);
            Interlocked.Add(ref counters.MessagesSentBytes, bytes.Length);
        }
        else
        {
            Interlocked.Increment(ref counters.MessagesDropped);
        }
    }

    private static byte[] WithHeader(MessagingMessage m)
    {
        var bytes = new byte[Signaling.Messages.SoraId.Length + m.Payload.Length];
        Encoding.ASCII.GetBytes(m.SenderConnectionId, bytes);
        m.Payload.CopyTo(bytes, Signaling.Messages.SoraId.Length);
        return bytes;
    }
}
