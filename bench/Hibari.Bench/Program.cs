using BenchmarkDotNet.Running;

namespace Hibari.Bench;

/// <summary>
/// <c>dotnet bench/Hibari.Bench/bin/Release/net10.0/Hibari.Bench.dll --filter '*'</c> runs everything;
/// <c>--job short</c> for a quick pass; <c>--list flat</c> lists the benchmarks.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
