namespace Hibari.Metrics;

/// <summary>A fixed-bucket histogram of microsecond latencies (lock-free adds; percentiles from the buckets).</summary>
public sealed class LatencyHistogram
{
    /// <summary>Adds the time since <paramref name="startTimestamp"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public void AddSince(long startTimestamp) =>
        Add((long)System.Diagnostics.Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds);

    /// <summary>
    /// Appends this histogram in Prometheus's text format as one series of <paramref name="name"/> (seconds; cumulative
    /// `_bucket` lines with `le`, `+Inf`, `_sum`, `_count`), with <paramref name="labels"/> (`key="value"` pairs, or empty).
    /// The `# HELP`/`# TYPE histogram` lines are the caller's, once per name.
    /// </summary>
    public void WriteSeries(System.Text.StringBuilder sb, string name, string labels)
    {
        var counts = Counts;
        long cumulative = 0;
        var sep = labels.Length == 0 ? "" : ",";
        for (var i = 0; i < counts.Length; i++)
        {
            cumulative += counts[i];
            var le = Bounds[i] == long.MaxValue ? "+Inf" : (Bounds[i] / 1e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            sb.Append(name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"").Append(le).Append("\"} ")
                .Append(cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        var braces = labels.Length == 0 ? "" : "{" + labels + "}";
        sb.Append(name).Append("_sum").Append(braces).Append(' ')
            .Append((SumMicros / 1e6).ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        sb.Append(name).Append("_count").Append(braces).Append(' ').Append(cumulative.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Upper bounds (µs) of the buckets; the last one takes everything above.</summary>
    public static readonly long[] Bounds = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, long.MaxValue];
    private readonly long[] _counts = new long[Bounds.Length];
    private long _sum;

    public void Add(long micros)
    {
        if (micros < 0) micros = 0;
        var i = 0;
        while (micros > Bounds[i]) i++;
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sum, micros);
    }

    public long[] Counts => _counts.Select(c => Interlocked.Read(ref c)).ToArray();
    public long Count => _counts.Sum(c => Interlocked.Read(ref c));
    public long SumMicros => Interlocked.Read(ref _sum);

    /// <summary>The bucket bound at or below which <paramref name="percent"/> % of the samples fall (0 with no samples).</summary>
    public long Percentile(double percent)
    {
        var counts = Counts;
        var total = counts.Sum();
        if (total == 0) return 0;
        var want = (long)Math.Ceiling(total * percent / 100);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= want) return Bounds[i];
        }
        return Bounds[^1];
    }
}
