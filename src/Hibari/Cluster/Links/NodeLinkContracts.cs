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
}

/// <summary>What the mesh delivers upward. Called on link threads: implementations must not block.</summary>
public interface INodeLinkHandler
{
    /// <summary>An authenticated peer asked something; the returned bytes are its answer.</summary>
    ValueTask<byte[]> OnRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>A one-way message on channel <paramref name="channel"/> (an application-defined byte).</summary>
    void OnMessage(string peer, byte channel, ReadOnlyMemory<byte> payload);

    /// <summary>A link to <paramref name="peer"/> became usable (authenticated).</summary>
    void OnPeerUp(string peer);

    /// <summary>The link to <paramref name="peer"/> went down.</summary>
    void OnPeerDown(string peer);
}

/// <summary>A request over a node link failed: not connected, timed out, refused, or the peer's handler failed.</summary>
public sealed class NodeLinkException(string message, Exception? inner = null) : Exception(message, inner);
