using System.Collections.Concurrent;
using System.Net;

namespace Hibari.Signaling;

/// <summary>
/// Bounds the signaling connections that are still being set up — WebSocket open, `connect` not yet sent, auth webhook,
/// answer, ICE, DTLS — in total and per client address (docs/decisions.md D-44). A connection stops counting when it
/// reaches `connected` or ends. A WebSocket beyond a limit is closed at once with 4429 and counted, so a flood of
/// half-open connections cannot queue up DTLS handshakes and memory ahead of real clients (issue 13 part 4).
/// Called from Kestrel's request threads: the counters are lock-free (interlocked / compare-and-swap).
/// </summary>
public sealed class SignalingAdmission(int maxPending, int maxPendingPerAddress)
{
    private readonly ConcurrentDictionary<IPAddress, int> _byAddress = new();
    private int _pending;
    private long _refusedTotal, _refusedPerAddress;

    /// <summary>Connections being set up now.</summary>
    public int Pending => Volatile.Read(ref _pending);
    /// <summary>WebSockets refused because <c>signaling_max_pending</c> connections were being set up.</summary>
    public long RefusedTotal => Interlocked.Read(ref _refusedTotal);
    /// <summary>WebSockets refused because their address had <c>signaling_max_pending_per_address</c> being set up.</summary>
    public long RefusedPerAddress => Interlocked.Read(ref _refusedPerAddress);
    /// <summary>Addresses with a connection being set up (bounded by <see cref="Pending"/>).</summary>
    public int Addresses => _byAddress.Count;

    /// <summary>
    /// Takes a slot for a new WebSocket from <paramref name="address"/>; null (and counted) when a limit is reached.
    /// The slot must be released exactly once (<see cref="Slot.Release"/> is idempotent).
    /// </summary>
    public Slot? TryEnter(IPAddress address)
    {
        if (Interlocked.Increment(ref _pending) > maxPending && maxPending > 0)
        {
            Interlocked.Decrement(ref _pending);
            Interlocked.Increment(ref _refusedTotal);
            return null;
        }
        while (true)
        {
            var current = _byAddress.GetValueOrDefault(address);
            if (maxPendingPerAddress > 0 && current >= maxPendingPerAddress)
            {
                Interlocked.Decrement(ref _pending);
                Interlocked.Increment(ref _refusedPerAddress);
                return null;
            }
            if (current == 0 ? _byAddress.TryAdd(address, 1) : _byAddress.TryUpdate(address, current + 1, current))
                return new Slot(this, address);
        }
    }

    private void Leave(IPAddress address)
    {
        while (true)
        {
            if (!_byAddress.TryGetValue(address, out var current)) break; // cannot happen: every slot entered once
            if (current <= 1 ? _byAddress.TryRemove(KeyValuePair.Create(address, current)) : _byAddress.TryUpdate(address, current - 1, current))
                break;
        }
        Interlocked.Decrement(ref _pending);
    }

    /// <summary>One connection's place among those being set up.</summary>
    public sealed class Slot(SignalingAdmission owner, IPAddress address)
    {
        private int _released;

        /// <summary>The connection reached `connected` or ended: it no longer counts. Any thread, any number of times.</summary>
        public void Release()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Leave(address);
        }
    }
}

/// <summary>
/// Signaling closes sent by this node, by code (/metrics). By code only: each 4xxx code has one meaning
/// (<see cref="SignalingCloses"/>), while reasons can carry free text (an auth webhook's reason, a disconnect reason).
/// </summary>
public sealed class SignalingCloseCounters
{
    private readonly ConcurrentDictionary<int, long> _counts = new();

    public void Count(SignalingClose close) => _counts.AddOrUpdate(close.Code, 1, (_, n) => n + 1);

    public IReadOnlyList<(int Code, long Count)> Snapshot() => [.. _counts.Select(kv => (kv.Key, kv.Value)).OrderBy(e => e.Item1)];
}
