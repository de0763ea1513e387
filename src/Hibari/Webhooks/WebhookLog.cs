using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Hibari.Webhooks;

/// <summary>The JSON-lines files of docs/protocol-notes.md, "Webhook basics", one per webhook kind and outcome.</summary>
internal enum WebhookLogFile { Auth, AuthError, Session, SessionError, Event, EventError }

/// <summary>
/// Appends log lines to LogDir from one background task, so a slow disk never blocks signaling. A full queue drops the
/// line and counts it. Files stay open (append, readable by others) and are flushed whenever the queue runs empty.
/// </summary>
internal sealed partial class WebhookLog : IAsyncDisposable
{
    private readonly string? _dir;
    private readonly WebhookCounters _counters;
    private readonly ILogger _logger;
    private readonly Channel<(WebhookLogFile File, byte[] Line)> _queue;
    private readonly Task _writer;
    private readonly Dictionary<WebhookLogFile, FileStream> _files = [];
    private bool _failed;

    public WebhookLog(string? dir, int capacity, WebhookCounters counters, ILogger logger)
    {
        _dir = dir;
        _counters = counters;
        _logger = logger;
        _queue = Channel.CreateBounded<(WebhookLogFile, byte[])>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting: we drop and count
        });
        _writer = dir is null ? Task.CompletedTask : Task.Run(WriteLoopAsync);
    }

    public static string FileName(WebhookLogFile f) => f switch
    {
        WebhookLogFile.Auth => "auth_webhook.jsonl",
        WebhookLogFile.AuthError => "auth_webhook_error.jsonl",
        WebhookLogFile.Session => "session_webhook.jsonl",
        WebhookLogFile.SessionError => "session_webhook_error.jsonl",
        WebhookLogFile.Event => "event_webhook.jsonl",
        _ => "event_webhook_error.jsonl",
    };

    public void Append(WebhookLogFile file, byte[] line)
    {
        if (_dir is null) return;
        if (!_queue.Writer.TryWrite((file, line))) WebhookCounters.Add(ref _counters.DroppedLogLine);
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item)) Write(item.File, item.Line);
            foreach (var f in _files.Values) Flush(f);
        }
    }

    private void Write(WebhookLogFile file, byte[] line)
    {
        if (_failed) return;
        try
        {
            if (!_files.TryGetValue(file, out var stream))
            {
                Directory.CreateDirectory(_dir!);
                stream = new FileStream(Path.Combine(_dir!, FileName(file)), FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096);
                _files[file] = stream;
            }
            stream.Write(line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // One warning, then silence: a broken log dir must not flood the node's log.
            _failed = true;
            LogWriteFailed(_logger, _dir!, e);
        }
    }

    private static void Flush(FileStream f)
    {
        try { f.Flush(); }
        catch (IOException) { }
    }

    /// <summary>Writes what is queued, waiting at most <paramref name="timeout"/>.</summary>
    public async Task CompleteAsync(TimeSpan timeout)
    {
        _queue.Writer.TryComplete();
        await Task.WhenAny(_writer, Task.Delay(timeout)).ConfigureAwait(false);
    }

    /// <summary>Closes the files; call <see cref="CompleteAsync"/> first to bound the wait for queued lines.</summary>
    public async ValueTask DisposeAsync()
    {
        await CompleteAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        if (!_writer.IsCompleted) return; // still writing: leave the files to the finaliser rather than race it
        foreach (var f in _files.Values) await f.DisposeAsync().ConfigureAwait(false);
        _files.Clear();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook logs disabled: cannot write to {Dir}")]
    private static partial void LogWriteFailed(ILogger logger, string dir, Exception e);
}
