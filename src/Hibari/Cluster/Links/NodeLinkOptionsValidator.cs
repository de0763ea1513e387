namespace Hibari.Cluster.Links;

/// <summary>Start-up checks of <see cref="NodeLinkOptions"/>; each error names the offending setting.</summary>
internal static class NodeLinkOptionsValidator
{
    /// <summary>Smallest MaxFrameBytes: every control frame must fit.</summary>
    public const int MinFrameBytes = NodeLinkFrameCodec.HandshakeMaxPayload;

    public static void Validate(NodeLinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrEmpty(options.NodeName) || !NodeLinkFrameCodec.IsValidName(options.NodeName))
            errors.Add($"{nameof(NodeLinkOptions.NodeName)} (node_name) must be 1..{NodeLinkFrameCodec.MaxNameBytes} UTF-8 bytes without control characters, got '{options.NodeName}'");
        if (string.IsNullOrEmpty(options.Secret))
            errors.Add($"{nameof(NodeLinkOptions.Secret)} (cluster_secret) must not be empty");
        Positive(options.HeartbeatInterval, nameof(NodeLinkOptions.HeartbeatInterval), errors);
        Positive(options.HandshakeTimeout, nameof(NodeLinkOptions.HandshakeTimeout), errors);
        Positive(options.RedialInterval, nameof(NodeLinkOptions.RedialInterval), errors);
        Positive(options.DiscoveryProbeTimeout, nameof(NodeLinkOptions.DiscoveryProbeTimeout), errors);
        if (options.DeadAfter <= options.HeartbeatInterval)
            errors.Add($"{nameof(NodeLinkOptions.DeadAfter)} ({options.DeadAfter}) must be longer than {nameof(NodeLinkOptions.HeartbeatInterval)} ({options.HeartbeatInterval})");
        if (options.MaxFrameBytes < MinFrameBytes || options.MaxFrameBytes > Array.MaxLength - NodeLinkFrameCodec.HeaderSize)
            errors.Add($"{nameof(NodeLinkOptions.MaxFrameBytes)} must be between {MinFrameBytes} and {Array.MaxLength - NodeLinkFrameCodec.HeaderSize}, got {options.MaxFrameBytes}");
        if (options.SendQueueLimitBytes <= 0)
            errors.Add($"{nameof(NodeLinkOptions.SendQueueLimitBytes)} must be positive, got {options.SendQueueLimitBytes}");
        if (options.MaxPendingHandshakes <= 0)
            errors.Add($"{nameof(NodeLinkOptions.MaxPendingHandshakes)} must be positive, got {options.MaxPendingHandshakes}");
        if (errors.Count > 0) throw new ArgumentException("Invalid node-link options: " + string.Join("; ", errors), nameof(options));
    }

    private static void Positive(TimeSpan value, string name, List<string> errors)
    {
        if (value <= TimeSpan.Zero) errors.Add($"{name} must be positive, got {value}");
    }
}
