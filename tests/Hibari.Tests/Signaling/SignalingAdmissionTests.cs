using System.Net;
using Hibari.Signaling;

namespace Hibari.Tests.Signaling;

/// <summary>D-44: connections being set up are bounded in total and per address; refusals are counted.</summary>
public sealed class SignalingAdmissionTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1"), B = IPAddress.Parse("192.0.2.2");

    [Fact]
    public void Per_address_limit_refuses_the_next_one_from_that_address_only_and_a_release_makes_room()
    {
        var admission = new SignalingAdmission(maxPending: 100, maxPendingPerAddress: 2);
        var a1 = admission.TryEnter(A);
        var a2 = admission.TryEnter(A);
        Assert.NotNull(a1);
        Assert.NotNull(a2);
        Assert.Null(admission.TryEnter(A));
        Assert.NotNull(admission.TryEnter(B));
        Assert.Equal(1, admission.RefusedPerAddress);
        Assert.Equal(0, admission.RefusedTotal);
        Assert.Equal(3, admission.Pending);
        a1!.Release();
        a1.Release(); // idempotent: established, then ended
        Assert.Equal(2, admission.Pending);
        Assert.NotNull(admission.TryEnter(A));
        Assert.Null(admission.TryEnter(A));
        Assert.Equal(2, admission.RefusedPerAddress);
    }

    [Fact]
    public void Total_limit_refuses_every_address_and_counts_apart()
    {
        var admission = new SignalingAdmission(maxPending: 3, maxPendingPerAddress: 0);
        var slots = new[] { admission.TryEnter(A), admission.TryEnter(A), admission.TryEnter(B) };
        Assert.All(slots, Assert.NotNull);
        Assert.Null(admission.TryEnter(B));
        Assert.Null(admission.TryEnter(IPAddress.Parse("192.0.2.3")));
        Assert.Equal(2, admission.RefusedTotal);
        Assert.Equal(0, admission.RefusedPerAddress);
        Assert.Equal(3, admission.Pending);
        foreach (var s in slots) s!.Release();
        Assert.Equal(0, admission.Pending);
        Assert.Equal(0, admission.Addresses);
    }

    [Fact]
    public void Zero_means_no_limit()
    {
        var admission = new SignalingAdmission(0, 0);
        var slots = Enumerable.Range(0, 5000).Select(_ => admission.TryEnter(A)).ToList();
        Assert.All(slots, Assert.NotNull);
        Assert.Equal(5000, admission.Pending);
    }

    [Fact]
    public void Concurrent_enters_and_releases_never_exceed_the_limits_and_end_at_zero()
    {
        const int PerAddress = 5, Total = 12;
        var admission = new SignalingAdmission(Total, PerAddress);
        IPAddress[] addresses = [.. Enumerable.Range(1, 4).Select(i => IPAddress.Parse($"198.51.100.{i}"))];
        var inside = new int[addresses.Length];
        var maxInside = new int[addresses.Length];
        var maxTotal = 0;
        var total = 0;
        var granted = 0L;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 20_000; i++)
            {
                var k = random.Next(addresses.Length);
                if (admission.TryEnter(addresses[k]) is not { } slot) continue;
                Interlocked.Increment(ref granted);
                var n = Interlocked.Increment(ref inside[k]);
                var t = Interlocked.Increment(ref total);
                InterlockedMax(ref maxInside[k], n);
                InterlockedMax(ref maxTotal, t);
                Interlocked.Decrement(ref inside[k]);
                Interlocked.Decrement(ref total);
                slot.Release();
            }
        });
        Assert.All(maxInside, m => Assert.True(m <= PerAddress, $"{m} inside for one address"));
        Assert.True(maxTotal <= Total, $"{maxTotal} inside in total");
        Assert.True(granted > 0);
        Assert.Equal(0, admission.Pending);
        Assert.Equal(0, admission.Addresses);
        Assert.Equal(8 * 20_000, granted + admission.RefusedPerAddress + admission.RefusedTotal);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }

    [Fact]
    public void Close_counters_count_by_code()
    {
        var counters = new SignalingCloseCounters();
        counters.Count(SignalingCloses.TooManyPendingConnections);
        counters.Count(SignalingCloses.TooManyPendingConnections);
        counters.Count(SignalingCloses.WithDetail(SignalingCloses.AuthWebhookDenied, "free text from the webhook"));
        counters.Count(SignalingCloses.Normal with { Reason = "DISCONNECTED-BY-API" });
        Assert.Equal([(1000, 1L), (4410, 1L), (4429, 2L)], counters.Snapshot());
    }
}
