using System.Threading.Channels;
using Hibari.Rtc.DataChannels;
using Hibari.Rtc.Sctp;

namespace Hibari.Load;

/// <summary>
/// A synthetic client's data channels, as a browser has them: the managed SCTP association over the client's DTLS
/// (it is the DTLS client, so it sends the INIT and its own channels would use even ids), channels the server opens
/// (ondatachannel), and the messages they carry. Calls come from the DTLS thread, a 10 ms timer and the test; one
/// lock serialises them, and events only queue, so nothing runs user code under the lock.
/// </summary>
public sealed class ClientDataChannels : IDisposable
{
    private readonly object _gate = new();
    private readonly SctpAssociation _sctp;
    private readonly DataChannelEndpoint _endpoint;
    private readonly Dictionary<string, DataChannel> _byLabel = new(StringComparer.Ordinal);
    private readonly Channel<(string Label, DataChannelMessage Message)> _received = Channel.CreateUnbounded<(string, DataChannelMessage)>();
    private readonly Timer _timer;
    private readonly long _epoch = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    public ClientDataChannels(Action<ReadOnlyMemory<byte>> output)
    {
        _sctp = new SctpAssociation(new SctpOptions { Mtu = 1100, MaxMessageSize = 262_144 }) { Output = output };
        _endpoint = new DataChannelEndpoint(_sctp, isDtlsClient: true);
        _sctp.Established += () => _established.TrySetResult();
        _sctp.Closed += reason => { _established.TrySetException(new InvalidOperationException("SCTP closed: " + reason)); _received.Writer.TryComplete(); };
        _endpoint.ChannelOpen += ch => _byLabel[ch.Label] = ch;
        _endpoint.ChannelClosed += ch =>
        {
            if (_byLabel.TryGetValue(ch.Label, out var c) && c == ch) _byLabel.Remove(ch.Label);
            ClosedLabels.Enqueue(ch.Label);
        };
        _endpoint.MessageReceived += (ch, m) => _received.Writer.TryWrite((ch.Label, m));
        lock (_gate)
        {
            _sctp.Tick(Now());
            _sctp.Start(sendInit: true);
        }
        _timer = new Timer(_ => Tick(), null, 10, 10);
    }

    public Task Established => _established.Task;
    /// <summary>Messages on every channel, in arrival order.</summary>
    public ChannelReader<(string Label, DataChannelMessage Message)> Received => _received.Reader;
    /// <summary>Labels whose channel closed, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> ClosedLabels { get; } = new();

    public IReadOnlyList<string> OpenLabels
    {
        get { lock (_gate) return _byLabel.Keys.ToList(); }
    }

    public DataChannelOptions? OptionsOf(string label)
    {
        lock (_gate) return _byLabel.TryGetValue(label, out var c) ? c.Options : null;
    }

    public long BufferedAmount
    {
        get { lock (_gate) return _sctp.BufferedAmount; }
    }

    public void Receive(ReadOnlySpan<byte> packet)
    {
        lock (_gate)
        {
            if (_disposed) return;
            _sctp.Tick(Now());
            _sctp.Receive(packet);
        }
    }

    /// <summary>False when the label has no open channel or the send buffer is full.</summary>
    public bool Send(string label, ReadOnlySpan<byte> data, bool binary)
    {
        lock (_gate)
        {
            if (_disposed || !_byLabel.TryGetValue(label, out var channel)) return false;
            _sctp.Tick(Now());
            return channel.Send(data, binary);
        }
    }

    public void Close(string label)
    {
        lock (_gate)
            if (_byLabel.TryGetValue(label, out var channel)) channel.Close();
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (!_disposed) _sctp.Tick(Now());
        }
    }

    private long Now() => (long)System.Diagnostics.Stopwatch.GetElapsedTime(_epoch).TotalMicroseconds + 1_000_000;

    public void Dispose()
    {
        _timer.Dispose();
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _endpoint.Dispose();
            _sctp.Dispose();
        }
        _received.Writer.TryComplete();
    }
}
