using System.Diagnostics;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DtlsWarmupTests(ITestOutputHelper output)
{
    [Fact]
    public void Warmup_completes_an_in_memory_handshake_and_reports_its_time()
    {
        var elapsed = DtlsWarmup.Run();
        Assert.True(elapsed > TimeSpan.Zero);
        output.WriteLine($"warm-up: {elapsed.TotalMilliseconds:F1} ms");
    }

    [Fact]
    public async Task Warm_in_memory_handshakes_take_milliseconds()
    {
        DtlsWarmup.Run();
        var times = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            using var pair = new DtlsPair();
            var started = Stopwatch.StartNew();
            await pair.HandshakeAsync();
            times.Add(started.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        output.WriteLine($"warm handshake: median {times[10]:F1} ms, p90 {times[18]:F1} ms, min {times[0]:F1} ms");
        Assert.True(times[10] < 2000, $"median {times[10]} ms");
    }
}
