using System.Globalization;
using System.Text;

namespace Hibari.Rtc.Bwe;

/// <summary>
/// A record of what one receiver's bandwidth estimate was fed (D-38): every packet sent with a transport-wide sequence
/// number and every transport-cc feedback packet as it arrived, so the estimator can be replayed on real traffic (the
/// tests replay traces recorded with Chromium, docs/operations.md "Recording bandwidth traces"). Owned by the
/// transport's media worker; kept in memory (at most <see cref="MaxEvents"/> events) and written when the transport
/// closes. Text, one event per line, times in µs since the first event:
/// <code>
/// S &lt;micros&gt; &lt;transport seq&gt; &lt;bytes on the wire&gt; &lt;1 if sent while probing, else 0&gt;
/// F &lt;micros&gt; &lt;the RTCP transport-cc packet in hex, header included&gt;
/// </code>
/// The line after the header, <c># origin-unix-micros N</c>, is the wall-clock time of time 0, so that the times of
/// changes made elsewhere (a test's network limit) can be placed on the trace.
/// </summary>
public sealed class BweTrace
{
    public const string Header = "# hibari bwe trace v1";
    /// <summary>About 13 minutes of a 2.5 Mbit/s downlink; later events are not kept.</summary>
    public const int MaxEvents = 250_000;

    private readonly StringBuilder _text = new(Header + "\n");
    private long _origin = long.MinValue;
    private int _events;

    /// <summary>Events not kept because the trace was full.</summary>
    public long Dropped { get; private set; }

    private bool Begin(long micros)
    {
        if (_events >= MaxEvents) { Dropped++; return false; }
        if (_origin == long.MinValue)
        {
            // The wall-clock time of event time 0, so marks taken elsewhere (a test's log) can be placed in the trace.
            _origin = micros;
            _text.Append(CultureInfo.InvariantCulture, $"# origin-unix-micros {(DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10}\n");
        }
        _events++;
        return true;
    }

    public void Sent(ushort sequence, int size, long micros, bool probing)
    {
        if (!Begin(micros)) return;
        _text.Append(CultureInfo.InvariantCulture, $"S {micros - _origin} {sequence} {size} {(probing ? 1 : 0)}\n");
    }

    public void Feedback(ReadOnlySpan<byte> rtcp, long micros)
    {
        if (!Begin(micros)) return;
        _text.Append(CultureInfo.InvariantCulture, $"F {micros - _origin} ").Append(Convert.ToHexString(rtcp)).Append('\n');
    }

    public override string ToString() => _text.ToString();

    /// <summary>A file name for a connection's trace: its id and the time the trace was written.</summary>
    public static string FileName(string connectionId, DateTime utc) =>
        $"{utc:yyyyMMdd'T'HHmmss}-{connectionId}.bwe";
}
