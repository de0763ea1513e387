using System.Net;
using Hibari.Config;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Transport;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// What the parts of <see cref="SfuEngine"/> share: the one topology lock (<see cref="Gate"/>, the engine's
/// <c>_gate</c>), the control queue, the options and clock, and — from <see cref="SfuEngine.Start"/> on — the media
/// workers, their counters and load, the DTLS certificate and the address the offers' candidates name. Threads
/// (docs/threads.md): <see cref="WorkerLoad"/> is read and written under <see cref="Gate"/>; the rest is set once at
/// start; workers never take <see cref="Gate"/>.
/// </summary>
internal sealed class SfuContext
{
    public SfuContext(object gate, HibariOptions options, TimeProvider time, ILogger log)
    {
        Gate = gate;
        Options = options;
        Time = time;
        Log = log;
        Control = new ControlQueue(log);
    }

    /// <summary>The topology lock: sessions, connections, offers and remote connections change only under it.</summary>
    public object Gate { get; }

    /// <summary>
    /// Debug builds: the caller is in the control context — it holds <see cref="Gate"/> (docs/threads.md, D-32). Every
    /// method documented "under the lock" checks it on entry.
    /// </summary>
    [System.Diagnostics.Conditional("DEBUG")]
    public void AssertOwner() => OwnerChecks.Check(Monitor.IsEntered(Gate), "SFU topology touched outside the control context (SfuContext.Gate)");
    public HibariOptions Options { get; }
    public TimeProvider Time { get; }
    public ILogger Log { get; }
    /// <summary>Where facts from the workers are handled (docs/threads.md): never on a worker's thread.</summary>
    public ControlQueue Control { get; }

    private MediaWorkers? _workers;
    public MediaWorkers Workers
    {
        get => _workers ?? throw new InvalidOperationException("SFU not started");
        set => _workers = value;
    }
    public MediaWorkers? WorkersIfStarted => _workers;
    /// <summary>One per worker, written by that worker only.</summary>
    public SfuCounters[] WorkerCounters { get; set; } = [];
    /// <summary>Connections per media worker (under the lock): a new connection goes to the least loaded one.</summary>
    public int[] WorkerLoad { get; set; } = [];
    public DtlsCertificate? Certificate { get; set; }
    public IPAddress CandidateAddress { get; set; } = IPAddress.Loopback;

    /// <summary>The worker with the fewest connections (D-29). Under the lock.</summary>
    public MediaWorker LeastLoadedWorker()
    {
        AssertOwner();
        var best = 0;
        for (var i = 1; i < WorkerLoad.Length; i++)
            if (WorkerLoad[i] < WorkerLoad[best]) best = i;
        return Workers[best];
    }
}
