using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Hibari.Api;

/// <summary>
/// Requests per second per client address (`api_max_requests_per_second`, D-44): a token bucket per address holding
/// one second's worth, refilled continuously. A request without a token is answered 429 and counted. Buckets of
/// addresses idle for a minute are dropped, and the table is capped, so a flood from many addresses cannot grow it
/// without bound (beyond the cap, new addresses share one bucket). Called from Kestrel's request threads.
/// </summary>
public sealed class ApiRateLimiter(int perSecond, Func<long>? clock = null)
{
    private const int MaxAddresses = 65536;
    private static readonly IPAddress Overflow = IPAddress.IPv6None;
    private readonly ConcurrentDictionary<IPAddress, Bucket> _buckets = new();
    private readonly Func<long> _clock = clock ?? Stopwatch.GetTimestamp;
    private readonly long _frequency = clock is null ? Stopwatch.Frequency : 1000; // a test clock counts milliseconds
    private long _lastSweep;
    private long _refused;

    /// <summary>Requests answered 429.</summary>
    public long Refused => Interlocked.Read(ref _refused);
    /// <summary>Addresses with a bucket now.</summary>
    public int Addresses => _buckets.Count;

    /// <summary>True when a request from <paramref name="address"/> may run now (it takes a token); false is counted.</summary>
    public bool TryAcquire(IPAddress address)
    {
        if (perSecond <= 0) return true;
        var now = _clock();
        if (now - Volatile.Read(ref _lastSweep) > 10 * _frequency) Sweep(now);
        if (!_buckets.TryGetValue(address, out var bucket))
            bucket = _buckets.Count >= MaxAddresses ? _buckets.GetOrAdd(Overflow, _ => new Bucket(perSecond, now))
                : _buckets.GetOrAdd(address, _ => new Bucket(perSecond, now));
        if (bucket.TryTake(perSecond, now, _frequency)) return true;
        Interlocked.Increment(ref _refused);
        return false;
    }

    private void Sweep(long now)
    {
        Volatile.Write(ref _lastSweep, now);
        foreach (var (address, bucket) in _buckets)
            if (now - bucket.LastUsed > 60 * _frequency) _buckets.TryRemove(KeyValuePair.Create(address, bucket));
    }

    private sealed class Bucket(int capacity, long now)
    {
        private readonly Lock _gate = new();
        private double _tokens = capacity;
        private long _refilled = now;
        public long LastUsed => Volatile.Read(ref _refilled);

        public bool TryTake(int perSecond, long now, long frequency)
        {
            lock (_gate)
            {
                if (now > _refilled)
                {
                    _tokens = Math.Min(perSecond, _tokens + (double)(now - _refilled) * perSecond / frequency);
                    Volatile.Write(ref _refilled, now);
                }
                if (_tokens < 1) return false;
                _tokens -= 1;
                return true;
            }
        }
    }
}
