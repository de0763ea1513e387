using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Hibari.Bench;

/// <summary>
/// <c>dotnet bench/Hibari.Bench/bin/Release/net10.0/Hibari.Bench.dll --filter '*'</c> runs everything;
/// <c>--job short</c> for a quick pass; <c>--list flat</c> lists the benchmarks. Reports go to
/// bench/Hibari.Bench/BenchmarkDotNet.Artifacts (git-ignored) unless <c>--artifacts</c> says otherwise.
/// <c>... Hibari.Bench.dll udp-batch</c> runs the batched-UDP send measurement instead (UDP-BATCH.md).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Not BenchmarkDotNet: CPU time per datagram of batched UDP sends (see UdpBatchBench.cs, UDP-BATCH.md).
        if (args.Length > 0 && args[0] == "udp-batch") return UdpBatchBench.Run(args[1..]);
        // Min and median next to the mean: the machine is shared, and the minimum is the best estimate of the
        // uncontended cost while the median resists preemption spikes.
        var artifacts = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "BenchmarkDotNet.Artifacts"));
        var config = DefaultConfig.Instance
            .AddColumn(StatisticColumn.Min, StatisticColumn.Median)
            .WithArtifactsPath(artifacts);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return 0;
    }
}
