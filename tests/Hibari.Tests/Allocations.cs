namespace Hibari.Tests;

/// <summary>
/// Measures managed allocation of a hot path on the calling thread. The runtime itself occasionally allocates on the
/// thread (tiered re-compilation, OSR) during a measured loop; a real per-call allocation shows in every attempt, so the
/// smallest of a few attempts is what the code allocates.
/// </summary>
public static class Allocations
{
    public static long Min(Action run, int attempts = 3)
    {
        var min = long.MaxValue;
        for (var i = 0; i < attempts && min > 0; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            run();
            min = Math.Min(min, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return min;
    }
}
