using System.Diagnostics;

namespace Hibari;

/// <summary>
/// Debug builds' checks that state is touched by its owner (docs/threads.md): a media worker's state on its thread, the
/// SFU's topology in the control context. A failed check asserts and is also counted, because it may fire on a worker
/// or in a queued work item whose loop logs errors and carries on: tests read <see cref="Violations"/> at the end.
/// </summary>
public static class OwnerChecks
{
    private static int _violations;
    private static string? _first;

    /// <summary>The first failed check: what was touched, on which thread, and the stack (null: none yet).</summary>
    public static string? First => Volatile.Read(ref _first);

    /// <summary>Failed checks since the process started (always 0 in Release builds: the checks are compiled out).</summary>
    public static int Violations => Volatile.Read(ref _violations);

    [Conditional("DEBUG")]
    public static void Check(bool owner, string what)
    {
        if (owner) return;
        Interlocked.CompareExchange(ref _first, $"{what} (thread '{Thread.CurrentThread.Name}')\n{Environment.StackTrace}", null);
        Interlocked.Increment(ref _violations);
        Debug.Fail(what);
    }
}
