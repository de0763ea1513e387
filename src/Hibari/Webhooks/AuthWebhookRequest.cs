using Hibari.Signaling.Messages;

namespace Hibari.Webhooks;

/// <summary>Connection counts of a channel as seen when the connect arrived (auth webhook `channel_*_connections`).</summary>
public readonly record struct ChannelCounts(int Sendrecv, int Sendonly, int Recvonly)
{
    public int Total => Sendrecv + Sendonly + Recvonly;
}

/// <summary>Input of one auth webhook call (docs/protocol-notes.md, "Auth webhook"): the validated connect plus what the node minted.</summary>
public sealed record AuthWebhookRequest
{
    public required ConnectRequest Connect { get; init; }
    public required string ConnectionId { get; init; }
    /// <summary>Set when the channel already has a session.</summary>
    public string? SessionId { get; init; }
    public ChannelCounts ChannelConnections { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
}
