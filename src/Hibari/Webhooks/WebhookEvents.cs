using System.Text.Json;
using Hibari.Signaling.Messages;

namespace Hibari.Webhooks;

/// <summary>`session.created` / `session.destroyed` (docs/protocol-notes.md, "Session webhook").</summary>
public enum SessionWebhookType { Created, Destroyed }

/// <summary>A session webhook. The destroyed-only members are written only for <see cref="SessionWebhookType.Destroyed"/>.</summary>
public sealed record SessionWebhookEvent
{
    public required SessionWebhookType Type { get; init; }
    public required string ChannelId { get; init; }
    public required string SessionId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? DestroyedAt { get; init; }
    /// <summary>Connections the session ever had.</summary>
    public int TotalConnections { get; init; }
    /// <summary>Largest number of simultaneous connections.</summary>
    public int MaxConnections { get; init; }
}

/// <summary>`connection.created` / `connection.updated` / `connection.destroyed` (docs/protocol-notes.md, "Event webhook").</summary>
public enum ConnectionWebhookType { Created, Updated, Destroyed }

/// <summary>A connection event webhook.</summary>
public sealed record ConnectionWebhookEvent
{
    public required ConnectionWebhookType Type { get; init; }
    public required string ChannelId { get; init; }
    public required string SessionId { get; init; }
    public required string ClientId { get; init; }
    public required string BundleId { get; init; }
    public required string ConnectionId { get; init; }
    public required Role Role { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public bool Simulcast { get; init; }
    public bool Spotlight { get; init; }
    public bool Audio { get; init; }
    public bool Video { get; init; }
    /// <summary>The auth webhook's `event_metadata`; written only when set.</summary>
    public JsonElement? EventMetadata { get; init; }
    public int Minutes { get; init; }
    public ChannelCounts ChannelConnections { get; init; }
    public string TurnTransportType { get; init; } = "udp";
    /// <summary>connection.destroyed only: why it ended (e.g. the client's disconnect reason or a close reason).</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// A recording webhook (docs/decisions.md D-58): `recording.started` / `recording.report` go to the session webhook,
/// `archive.*` / `split-archive.*` to the event webhook. <see cref="Data"/> is the body's `data` object, written by the
/// recording; the envelope (type, id, timestamp, label, version, node_name, ids) is written here like the others'.
/// </summary>
public sealed record RecordingWebhookEvent
{
    public required bool ToSessionWebhook { get; init; }
    public required string Type { get; init; }
    public required string ChannelId { get; init; }
    public required string SessionId { get; init; }
    public string? ClientId { get; init; }
    public string? BundleId { get; init; }
    public string? ConnectionId { get; init; }
    public JsonElement? EventMetadata { get; init; }
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    public required System.Text.Json.Nodes.JsonObject Data { get; init; }
}
