using System.Net;

namespace Hibari.Cluster.Links;

/// <summary>Settings of the node-link mesh (one authenticated TCP connection per pair of nodes).</summary>
public sealed record NodeLinkOptions
{
    /// <summary>This node's `node_name` (name@host); sent in the handshake.</summary>
    public required string NodeName { get; init; }
    /// <summary>`cluster_secret`: both ends prove knowledge of it (HMAC challenge-response).</summary>
    public required string Secret { get; init; }
    /// <summary>Heartbeat period on every established link.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>A link on which nothing arrived for this long is down (closed and re-dialled).</summary>
    public TimeSpan DeadAfter { get; init; } = TimeSpan.FromMilliseconds(1200);
    /// <summary>Limit for the whole handshake of one connection.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Largest accepted frame payload; larger announced lengths close the connection.</summary>
    public int MaxFrameBytes { get; init; } = 16 * 1024 * 1024;
    /// <summary>Delay between dial attempts to an unreachable peer.</summary>
    public TimeSpan RedialInterval { get; init; } = TimeSpan.FromMilliseconds(300);
    /// <summary>Handshake limit of one port probe in <c>DiscoverAsync</c> (a port held by a silent service costs this much).</summary>
    public TimeSpan DiscoveryProbeTimeout { get; init; } = TimeSpan.FromMilliseconds(700);
    /// <summary>
    /// Bytes that may wait in one link's send queue. A one-way message that does not fit is dropped and counted
    /// (a frame is always accepted into an empty queue, so a single large frame still goes through).
    /// </summary>
    public int SendQueueLimitBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>Inbound connections allowed to be in their handshake at once; more are closed at once (flood guard).</summary>
    public int MaxPendingHandshakes { get; init; } = 64;
}

/// <summary>What the mesh delivers upward. Called on link threads: implementations must not block.</summary>
public interface INodeLinkHandler
{
    /// <summary>An authenticated peer asked something; the returned bytes are its answer.</summary>
    /// <remarks>Runs off the link's read loop. <paramref name="payload"/> is valid until the returned task completes.
    /// An exception's message is carried back to the requester as a <see cref="NodeLinkException"/>.</remarks>
    ValueTask<byte[]> OnRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>A one-way message on channel <paramref name="channel"/> (an application-defined byte).</summary>
    /// <remarks>Called on the link's read loop, in the order the peer sent them. <paramref name="payload"/> is a view
    /// of a pooled read buffer, valid only until this call returns: copy what must be kept.</remarks>
    void OnMessage(string peer, byte channel, ReadOnlyMemory<byte> payload);

    /// <summary>A link to <paramref name="peer"/> became usable (authenticated).</summary>
    void OnPeerUp(string peer);

    /// <summary>The link to <paramref name="peer"/> went down.</summary>
    void OnPeerDown(string peer);
}

/// <summary>A request over a node link failed: not connected, timed out, refused, or the peer's handler failed.</summary>
public sealed class NodeLinkException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Writes a message body of a known length into the link's send buffer (see <see cref="NodeLinkHost.Send{TState}"/>).</summary>
public delegate void MessageBodyWriter<TState>(Span<byte> body, scoped ref TState state) where TState : allows ref struct;
