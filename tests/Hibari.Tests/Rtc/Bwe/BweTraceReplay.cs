using System.Globalization;
using System.IO.Compression;
using Hibari.Rtc.Bwe;
using Hibari.Rtc.Rtp;
using Hibari.Sfu;

namespace Hibari.Tests.Rtc.Bwe;

/// <summary>
/// Replays a recorded <see cref="BweTrace"/> (Traces/*.bwe.gz: real Chromium receivers behind a tc limit, see
/// Traces/README.md) through a fresh estimator configured as <see cref="DownlinkBandwidth"/> configures its own. Open
/// loop: the packets are the ones the node sent then, whatever the replayed estimate decides.
/// </summary>
internal sealed class BweTraceReplay
{
    public readonly record struct Sample(long Micros, long EstimateBps, long DelayBasedBps, long LossBasedBps, double LossFraction, BandwidthUsage Usage, double Trend, double ThresholdMs);

    public List<Sample> Samples { get; } = [];
    /// <summary>Named marks (µs on the trace's clock) from Traces/README.md, e.g. "limit" and "lift".</summary>
    public Dictionary<string, long> Marks { get; } = [];
    public int Feedbacks { get; private set; }
    public int Sent { get; private set; }

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Rtc", "Bwe", "Traces", name);

    public static BweTraceReplay Run(string name, Action<SendSideBandwidthEstimator, long>? afterFeedback = null)
    {
        var estimator = new SendSideBandwidthEstimator(DownlinkBandwidth.InitialBps, DownlinkBandwidth.MinBps, DownlinkBandwidth.MaxBps);
        estimator.Probe.DurationMicros = DownlinkBandwidth.ProbeDurationMicros;
        var replay = new BweTraceReplay();
        using var file = File.OpenRead(PathOf(name));
        using var reader = new StreamReader(new GZipStream(file, CompressionMode.Decompress));
        Assert.Equal(BweTrace.Header, reader.ReadLine());
        long origin = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            var f = line.Split(' ');
            switch (f[0])
            {
                case "#" when f.Length == 3 && f[1] == "origin-unix-micros":
                    origin = long.Parse(f[2], CultureInfo.InvariantCulture);
                    break;
                case "#" when f.Length == 4 && f[1] == "mark":
                    // "# mark NAME UNIX_MICROS": a change made outside the node (the test's tc), on the wall clock.
                    replay.Marks[f[2]] = long.Parse(f[3], CultureInfo.InvariantCulture) - origin;
                    break;
                case "#":
                    break;
                case "S":
                    estimator.OnPacketSent(ushort.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                        long.Parse(f[1], CultureInfo.InvariantCulture), f[4] == "1");
                    replay.Sent++;
                    break;
                case "F":
                    var now = long.Parse(f[1], CultureInfo.InvariantCulture);
                    var bytes = Convert.FromHexString(f[2]);
                    var rtcp = new RtcpReader(bytes);
                    Assert.Equal(RtcpReadResult.Packet, rtcp.TryReadNext(out var packet));
                    Assert.True(TransportCcFeedback.TryParse(packet, out var feedback), $"feedback at {now} µs does not parse");
                    estimator.OnFeedback(feedback, now);
                    replay.Feedbacks++;
                    replay.Samples.Add(new(now, estimator.EstimateBps, estimator.DelayBasedBps, estimator.LossBasedBps, estimator.LossFraction, estimator.Usage, estimator.DelayTrend, estimator.DelayThresholdMs));
                    afterFeedback?.Invoke(estimator, now);
                    break;
                default:
                    Assert.Fail($"unknown trace line '{line}'");
                    break;
            }
        }
        return replay;
    }

    /// <summary>The first sample at or after <paramref name="from"/> that satisfies <paramref name="condition"/>.</summary>
    public Sample? First(long from, Func<Sample, bool> condition) =>
        Samples.Where(s => s.Micros >= from).Cast<Sample?>().FirstOrDefault(s => condition(s!.Value));
}
