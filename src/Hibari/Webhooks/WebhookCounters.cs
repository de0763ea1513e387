namespace Hibari.Webhooks;

/// <summary>
/// GetStatsReport webhook counters (docs/protocol-notes.md, "Webhook basics", "GetStatsReport and exporter counters") plus Hibari's own drop counters.
/// "ignored" = no URL configured; "dropped" = the delivery or log queue was full.
/// </summary>
public sealed record WebhookCountersSnapshot(
    long TotalAuthWebhookAllowed,
    long TotalAuthWebhookDenied,
    long TotalSuccessfulAuthWebhook,
    long TotalFailedAuthWebhook,
    long TotalSuccessfulSessionWebhook,
    long TotalFailedSessionWebhook,
    long TotalIgnoredSessionWebhook,
    long TotalSuccessfulEventWebhook,
    long TotalFailedEventWebhook,
    long TotalIgnoredEventWebhook,
    long TotalDroppedWebhook,
    long TotalDroppedLogLine);

internal sealed class WebhookCounters
{
    public long AuthAllowed, AuthDenied, AuthSuccessful, AuthFailed;
    public long SessionSuccessful, SessionFailed, SessionIgnored;
    public long EventSuccessful, EventFailed, EventIgnored;
    public long DroppedWebhook, DroppedLogLine;

    public static void Add(ref long counter) => Interlocked.Increment(ref counter);

    public WebhookCountersSnapshot Snapshot() => new(
        Volatile.Read(ref AuthAllowed), Volatile.Read(ref AuthDenied),
        Volatile.Read(ref AuthSuccessful), Volatile.Read(ref AuthFailed),
        Volatile.Read(ref SessionSuccessful), Volatile.Read(ref SessionFailed), Volatile.Read(ref SessionIgnored),
        Volatile.Read(ref EventSuccessful), Volatile.Read(ref EventFailed), Volatile.Read(ref EventIgnored),
        Volatile.Read(ref DroppedWebhook), Volatile.Read(ref DroppedLogLine));
}
