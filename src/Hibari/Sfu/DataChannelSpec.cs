namespace Hibari.Sfu;

/// <summary>`direction` of a messaging label, seen from the client: sendonly clients only send on it.</summary>
public enum DataChannelDirection { SendRecv, SendOnly, RecvOnly }

/// <summary>
/// One effective `data_channels` entry of a connection (docs/protocol-notes.md, "Messaging"): a messaging label (`#…`) with its
/// direction and SCTP reliability, or a system label (signaling, notify, push, stats) with only `compress`.
/// </summary>
public sealed record DataChannelSpec
{
    public required string Label { get; init; }
    public DataChannelDirection Direction { get; init; } = DataChannelDirection.SendRecv;
    public bool Ordered { get; init; } = true;
    public int? MaxPacketLifeTime { get; init; }
    public int? MaxRetransmits { get; init; }
    public string? Protocol { get; init; }
    /// <summary>Payloads on this label are zlib (RFC 1950) streams between the client and the node.</summary>
    public bool Compress { get; init; }
    /// <summary>`header: [{"type":"sender_connection_id"}]`: each delivered message starts with the sender's 26-byte connection id.</summary>
    public bool SenderConnectionIdHeader { get; init; }

    public bool IsMessaging => DataChannelLabels.IsMessaging(Label);
    public bool Sends => Direction != DataChannelDirection.RecvOnly;
    public bool Receives => Direction != DataChannelDirection.SendOnly;
}

/// <summary>The labels Hibari creates for data-channel signaling, and the rule for messaging labels.</summary>
public static class DataChannelLabels
{
    public const string Signaling = "signaling";
    public const string Notify = "notify";
    public const string Push = "push";
    public const string Stats = "stats";
    /// <summary>JSON-RPC 2.0 requests of the client (D-36); opened only for a connection with `rpc_methods`.</summary>
    public const string Rpc = "rpc";
    /// <summary>The labels every data-channel-signaling connection gets (rpc comes on top when it has methods).</summary>
    public static readonly IReadOnlyList<string> System = [Signaling, Notify, Push, Stats];
    /// <summary>Longest label accepted (DCEP carries 16 bits; Sora's limit is unconfirmed, docs/decisions.md).</summary>
    public const int MaxLabelBytes = 255;

    public static bool IsSystem(string label) => label is Signaling or Notify or Push or Stats or Rpc;

    /// <summary>The system labels of a connection: the four of data-channel signaling, and rpc when it has methods.</summary>
    public static IEnumerable<string> SystemOf(bool dataChannelSignaling, bool rpc) =>
        !dataChannelSignaling ? [] : rpc ? [.. System, Rpc] : System;
    public static bool IsMessaging(string label) => label.Length > 1 && label[0] == '#';
}
