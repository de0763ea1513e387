using System.Text.Json;

namespace Hibari.Api.Contracts;

/// <summary>Requests of the channel-scoped connection operations (docs/protocol-notes.md, "Connection operations"): the channel, optionally one target.</summary>
public sealed record ChannelTargetRequest
{
    public required string ChannelId { get; init; }
    public string? ConnectionId { get; init; }
    public string? ClientId { get; init; }
    /// <summary>`DisconnectChannelByRole`: sendrecv, sendonly or recvonly.</summary>
    public string? Role { get; init; }
    /// <summary>Free text or an object (sora-devtools sends `{"type":"normal"}`); only a string is used as the close reason.</summary>
    public JsonElement? Reason { get; init; }
}

/// <summary>`ListConnections` request: no fields are required.</summary>
public sealed record ListConnectionsRequest
{
    public string? ChannelId { get; init; }
}

/// <summary>Push requests: the target and the JSON `data` delivered as `{"type":"push","data":...}`.</summary>
public sealed record PushRequest
{
    public required string ChannelId { get; init; }
    public string? ConnectionId { get; init; }
    public string? ClientId { get; init; }
    /// <summary>`PushChannelByRole`: sendrecv, sendonly or recvonly.</summary>
    public string? Role { get; init; }
    public required JsonElement Data { get; init; }
}

/// <summary>An empty JSON object answer (`{}`) of the Disconnect*/Push* operations.</summary>
public sealed record EmptyBody;

/// <summary>One connection in `ListChannelConnections` / `ListConnections` (docs/protocol-notes.md, "Connection operations").</summary>
public sealed record ConnectionBody
{
    public required string ChannelId { get; init; }
    public required string SessionId { get; init; }
    public required string ClientId { get; init; }
    public required string BundleId { get; init; }
    public required string ConnectionId { get; init; }
    public required string Role { get; init; }
    public bool Multistream { get; init; } = true;
    public bool Simulcast { get; init; }
    public bool Spotlight { get; init; }
    /// <summary>Microseconds since the Unix epoch.</summary>
    public long CreatedTime { get; init; }
    public required string CreatedTimestamp { get; init; }
    public string? NodeName { get; init; }
    public JsonElement? EventMetadata { get; init; }
    /// <summary>`false`, or the codec (and bit rate) the client publishes with.</summary>
    public required JsonElement Audio { get; init; }
    public required JsonElement Video { get; init; }
}
