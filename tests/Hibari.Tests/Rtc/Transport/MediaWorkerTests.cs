using System.Collections.Concurrent;
using System.Net;
using Hibari.Rtc.Transport;

namespace Hibari.Tests.Rtc.Transport;

/// <summary>Media workers on real threads: hand-offs between workers and from outside producers run on the receiver's thread, in order.</summary>
public sealed class MediaWorkerTests
{
    private sealed class Recorder : IHandoffTarget
    {
        public ConcurrentQueue<(string? Thread, byte First, long Stamp)> Got { get; } = new();
        public void OnHandoff(Span<byte> packet, long stamp) => Got.Enqueue((Thread.CurrentThread.Name, packet[0], stamp));
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for: " + what);
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_worker_hands_packets_to_another_which_gets_them_on_its_own_thread_in_order()
    {
        using var workers = new MediaWorkers(IPAddress.Loopback, 0, 2);
        workers.Start();
        Assert.NotEqual(workers[0].LocalEndPoint.Port, workers[1].LocalEndPoint.Port);
        var target = new Recorder();
        var refused = 0;
        workers[0].Post(() =>
        {
            for (var i = 0; i < 200; i++)
                if (!workers[0].Handoff(workers[1], target, [(byte)i], i)) refused++;
        });
        await Until(() => target.Got.Count == 200, "200 hand-offs arrive");
        Assert.Equal(0, refused);
        Assert.All(target.Got, g => Assert.Equal("hibari-media-1", g.Thread));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => (long)i), target.Got.Select(g => g.Stamp));
        Assert.Equal(200, workers[0].HandedOff);
        Assert.Equal(0, workers[1].HandoffDropped);
    }

    [Fact]
    public async Task An_outside_producer_ring_is_drained_by_the_worker_after_a_wake()
    {
        using var workers = new MediaWorkers(IPAddress.Loopback, 0, 1);
        workers.Start();
        var worker = workers[0];
        var ring = worker.AddExternalRing(64);
        var target = new Recorder();
        for (var i = 0; i < 50; i++)
        {
            Assert.True(ring.TryEnqueue(target, [(byte)i], i));
            worker.Wake();
        }
        await Until(() => target.Got.Count == 50, "50 packets from the outside ring");
        Assert.All(target.Got, g => Assert.Equal("hibari-media-0", g.Thread));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (byte)i), target.Got.Select(g => g.First));
        // Removing the ring hands over what is still in it, then stops draining it.
        Assert.True(ring.TryEnqueue(target, [99], 99));
        worker.RemoveExternalRing(ring);
        var removed = 0;
        worker.Post(() => removed = 1); // posts run in order: after this one, the removal has run
        await Until(() => Volatile.Read(ref removed) == 1, "the removal ran");
        Assert.Equal(51, target.Got.Count);
        Assert.True(ring.TryEnqueue(target, [100], 100));
        // The worker drains its rings before it runs posted actions in each loop: once this post has run, a ring still
        // registered would have been drained.
        var ran = 0;
        worker.Post(() => ran = 1);
        await Until(() => Volatile.Read(ref ran) == 1, "a later post ran");
        Assert.Equal(51, target.Got.Count);
        Assert.Equal(1, ring.Count);
    }

    [Fact]
    public void Worker_count_and_port_range_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MediaWorkers(IPAddress.Loopback, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MediaWorkers(IPAddress.Loopback, 0, MediaWorker.MaxWorkers + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MediaWorkers(IPAddress.Loopback, 65535, 2));
    }
}
