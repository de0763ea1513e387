using Hibari.Cluster.State;

namespace Hibari.Cluster.Load;

/// <summary>
/// A node's load as it tells the others (soft state, docs/protocol-notes.md, "Cluster shape"): its connection count and its connections per
/// channel. Sent over the node links every <see cref="LoadBoard.Interval"/>, never through the Raft log.
/// </summary>
public sealed record LoadReport(int Connections, IReadOnlyDictionary<string, int> ChannelConnections)
{
    public static readonly LoadReport Empty = new(0, new Dictionary<string, int>(StringComparer.Ordinal));

    private const byte Version = 1;
    /// <summary>More channels than this in one report is corrupt by definition (a node holds far fewer).</summary>
    public const int MaxChannels = 100_000;

    public byte[] Encode()
    {
        var w = new WireWriter().Byte(Version).Int32(Connections).Int32(ChannelConnections.Count);
        foreach (var (channel, count) in ChannelConnections) w.String(channel).Int32(count);
        return w.ToArray();
    }

    /// <summary>Decodes a report; null for anything malformed (a newer version, truncation, negative counts).</summary>
    public static LoadReport? Decode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        if (!r.Byte(out var version) || version != Version) return null;
        if (!r.Int32(out var connections) || connections < 0) return null;
        if (!r.Int32(out var n) || n < 0 || n > MaxChannels || n > r.Remaining / 8) return null;
        var channels = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            if (!r.String(out var channel) || !r.Int32(out var count) || count < 0) return null;
            channels[channel] = count;
        }
        return r.AtEnd ? new LoadReport(connections, channels) : null;
    }
}

/// <summary>
/// The latest load report of every peer, with its age. A report older than <see cref="StaleAfter"/> is ignored
/// (the peer's load is unknown: placement treats the node as unusable until it reports again).
/// </summary>
public sealed class LoadBoard(TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMilliseconds(1500);

    private readonly Dictionary<string, (LoadReport Report, long At)> _reports = new(StringComparer.Ordinal);

    /// <summary>Malformed reports received (counted, dropped).</summary>
    public long Malformed { get; private set; }

    public void OnReport(string peer, ReadOnlySpan<byte> payload)
    {
        var report = LoadReport.Decode(payload);
        lock (_reports)
        {
            if (report is null) { Malformed++; return; }
            _reports[peer] = (report, time.GetTimestamp());
        }
    }

    public void Forget(string peer)
    {
        lock (_reports) _reports.Remove(peer);
    }

    /// <summary>The peer's current report, or null if none arrived within <see cref="StaleAfter"/>.</summary>
    public LoadReport? Of(string peer)
    {
        lock (_reports)
        {
            if (!_reports.TryGetValue(peer, out var e)) return null;
            return time.GetElapsedTime(e.At) <= StaleAfter ? e.Report : null;
        }
    }

    /// <summary>Age of the peer's last report (for the staleness measurement), or null.</summary>
    public TimeSpan? AgeOf(string peer)
    {
        lock (_reports) return _reports.TryGetValue(peer, out var e) ? time.GetElapsedTime(e.At) : null;
    }
}
