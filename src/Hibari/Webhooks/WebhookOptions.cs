using Hibari.Config;

namespace Hibari.Webhooks;

/// <summary>What the webhook client needs from the node configuration (docs/protocol-notes.md, "Webhook basics"). A null URL disables that webhook.</summary>
public sealed record WebhookOptions
{
    public string? AuthWebhookUrl { get; init; }
    public string? SessionWebhookUrl { get; init; }
    public string? EventWebhookUrl { get; init; }
    public TimeSpan AuthWebhookTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Folder of the JSON-lines logs; null or empty = no log files.</summary>
    public string? LogDir { get; init; }
    /// <summary>`node_name` of every body (Sora: Erlang-style `name@host`).</summary>
    public string NodeName { get; init; } = "hibari@127.0.0.1";
    public string Version { get; init; } = HibariVersion.Value;
    /// <summary>Session + event webhooks waiting for delivery; beyond it new ones are dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 10_000;
    /// <summary>Log lines waiting for the writer; beyond it new ones are dropped and counted.</summary>
    public int LogQueueCapacity { get; init; } = 10_000;
    /// <summary>How long <see cref="WebhookClient.DisposeAsync"/> waits for queued webhooks and log lines.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>`skip_redact_sensitive_data`: metadata written into the (non-error) webhook logs as it is (D-55).</summary>
    public bool SkipRedact { get; init; }

    public static WebhookOptions From(HibariOptions o) => new()
    {
        AuthWebhookUrl = NullIfEmpty(o.AuthWebhookUrl),
        SessionWebhookUrl = NullIfEmpty(o.SessionWebhookUrl),
        EventWebhookUrl = NullIfEmpty(o.EventWebhookUrl),
        AuthWebhookTimeout = TimeSpan.FromMilliseconds(o.AuthWebhookTimeoutMs),
        WebhookTimeout = TimeSpan.FromMilliseconds(o.WebhookTimeoutMs),
        LogDir = NullIfEmpty(o.LogDir),
        NodeName = o.NodeName ?? $"hibari@{o.ListenAddress}",
        SkipRedact = o.SkipRedactSensitiveData,
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
