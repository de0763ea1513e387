using System.Net;
using Hibari.Api;

namespace Hibari.Tests.Api;

/// <summary>D-44: API requests per second per address, a token bucket of one second's worth.</summary>
public sealed class ApiRateLimiterTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1"), B = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void A_seconds_worth_passes_then_429s_until_tokens_come_back_at_the_configured_rate()
    {
        long now = 1_000; // ms
        var limiter = new ApiRateLimiter(10, () => now);
        for (var i = 0; i < 10; i++) Assert.True(limiter.TryAcquire(A), $"request {i}");
        Assert.False(limiter.TryAcquire(A));
        Assert.True(limiter.TryAcquire(B)); // another address has its own bucket
        Assert.Equal(1, limiter.Refused);
        now += 100; // 10/s: one token back
        Assert.True(limiter.TryAcquire(A));
        Assert.False(limiter.TryAcquire(A));
        now += 5_000; // never more than one second's worth
        for (var i = 0; i < 10; i++) Assert.True(limiter.TryAcquire(A));
        Assert.False(limiter.TryAcquire(A));
        Assert.Equal(3, limiter.Refused);
    }

    [Fact]
    public void Zero_is_no_limit_and_idle_addresses_are_forgotten()
    {
        long now = 0;
        var unlimited = new ApiRateLimiter(0, () => now);
        Assert.True(Enumerable.Range(0, 100_000).All(_ => unlimited.TryAcquire(A)));
        Assert.Equal(0, unlimited.Refused);
        var limiter = new ApiRateLimiter(5, () => now);
        for (var i = 0; i < 100; i++) limiter.TryAcquire(IPAddress.Parse($"198.51.100.{i}"));
        Assert.Equal(100, limiter.Addresses);
        now += 61_000;
        Assert.True(limiter.TryAcquire(A)); // sweeps the idle ones
        Assert.Equal(1, limiter.Addresses);
    }
}
