using System.Diagnostics;
using Hibari.Rtc.Dtls;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DtlsHandshakePoolTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_hundred_concurrent_handshakes_use_at_most_the_pools_threads_and_all_complete()
    {
        const int pairs = 200, threads = 4;
        using var serverPool = new DtlsHandshakePool(threads, "test server handshake");
        using var clientPool = new DtlsHandshakePool(threads, "test client handshake");
        var options = new DtlsOptions { HandshakeTimeout = TimeSpan.FromMinutes(2), HandshakePool = serverPool };
        var clientOptions = DtlsPair.WithPool(options, clientPool);
        var all = Enumerable.Range(0, pairs).Select(_ => new DtlsPair(options, clientOptions)).ToList();
        var handshakeThreads = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>();
        var started = Stopwatch.StartNew();
        try
        {
            foreach (var pair in all) pair.Start();
            var done = Task.WhenAll(all.SelectMany(p => new Task[] { p.Server.Handshake, p.Client.Handshake }));
            while (!done.IsCompleted)
            {
                Assert.True(started.Elapsed < TimeSpan.FromMinutes(3), "the handshakes did not finish");
                await Task.WhenAny(done, Task.Delay(5));
            }
            await done;
            // Measured by the pools at each enqueue: polling from here could miss the queue on a loaded machine.
            var peakQueued = serverPool.PeakQueued + clientPool.PeakQueued;
            output.WriteLine($"{pairs} handshakes in {started.Elapsed.TotalMilliseconds:F0} ms, peak queued {peakQueued}");

            Assert.InRange(serverPool.ThreadsStarted, 1, threads);
            Assert.InRange(clientPool.ThreadsStarted, 1, threads);
            Assert.InRange(serverPool.PeakRunning, 1, threads);
            Assert.InRange(clientPool.PeakRunning, 1, threads);
            Assert.True(peakQueued > 0, "excess handshakes waited in the queue");
            Assert.Equal(pairs, serverPool.Completed);
            Assert.Equal(pairs, clientPool.Completed);

            // Connected, no thread of their own: a record each way arrives on the sending thread.
            var received = 0;
            foreach (var pair in all)
            {
                pair.Server.ApplicationData = _ => received++;
                pair.Client.ApplicationData = _ => received++;
                Assert.True(pair.Client.SendApplicationData([1]));
                Assert.True(pair.Server.SendApplicationData([2]));
            }
            Assert.Equal(2 * pairs, received);
        }
        finally
        {
            foreach (var pair in all) pair.Dispose();
        }
    }

    [Fact]
    public async Task Servers_that_never_get_a_ClientHello_hold_no_thread_and_time_out()
    {
        using var pool = new DtlsHandshakePool(2, "test silent");
        var options = new DtlsOptions
        {
            HandshakeTimeout = TimeSpan.FromMilliseconds(300), RetransmitTimeout = TimeSpan.FromMilliseconds(100), HandshakePool = pool,
        };
        var servers = Enumerable.Range(0, 50)
            .Select(_ => new DtlsServerEndpoint(DtlsPair.ServerCertificate, DtlsPair.ClientCertificate.Fingerprint, _ => { }, options))
            .ToList();
        try
        {
            foreach (var s in servers) s.Start();
            // A stray datagram that does not begin a handshake does not start the job either.
            foreach (var s in servers) s.Deliver([23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0]);
            foreach (var s in servers)
            {
                var e = await DtlsPair.FailureOf(s.Handshake);
                Assert.Equal(DtlsHandshakeFailure.Timeout, e.Failure);
                await s.Stopped.WaitAsync(DtlsPair.Patience);
                Assert.Equal(DtlsState.Failed, s.State);
            }
            Assert.Equal(0, pool.ThreadsStarted);
        }
        finally
        {
            foreach (var s in servers) s.Dispose();
        }
    }

    [Fact]
    public async Task The_handshake_timeout_counts_from_Start_including_the_wait_for_a_pool_thread()
    {
        using var pool = new DtlsHandshakePool(1, "test busy");
        using var release = new ManualResetEventSlim();
        Assert.True(pool.TryQueue(() => release.Wait(DtlsPair.Patience))); // the only thread is busy
        await DtlsPair.Eventually(() => pool.Running == 1, "the blocker runs");
        var options = new DtlsOptions
        {
            HandshakeTimeout = TimeSpan.FromMilliseconds(300), RetransmitTimeout = TimeSpan.FromMilliseconds(100), HandshakePool = pool,
        };
        using var client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, _ => { }, options);
        var started = Stopwatch.StartNew();
        client.Start();
        Assert.Equal(1, pool.Queued);
        var e = await DtlsPair.FailureOf(client.Handshake);
        Assert.Equal(DtlsHandshakeFailure.Timeout, e.Failure);
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(250), $"failed after {started.Elapsed}");
        await client.Stopped.WaitAsync(DtlsPair.Patience);
        release.Set();
        await DtlsPair.Eventually(() => pool.Completed == 2, "the timed-out job is taken off the queue and does nothing");
        Assert.Equal(DtlsState.Failed, client.State);
    }

    [Fact]
    public async Task Dispose_while_queued_ends_the_endpoint_at_once()
    {
        using var pool = new DtlsHandshakePool(1, "test queued");
        using var release = new ManualResetEventSlim();
        Assert.True(pool.TryQueue(() => release.Wait(DtlsPair.Patience)));
        var client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, _ => { },
            new DtlsOptions { HandshakePool = pool });
        client.Start();
        client.Dispose();
        Assert.True(client.Stopped.IsCompleted);
        Assert.Equal(DtlsHandshakeFailure.Closed, (await DtlsPair.FailureOf(client.Handshake)).Failure);
        release.Set();
    }

    [Fact]
    public async Task A_disposed_pool_fails_the_handshakes_given_to_it()
    {
        var pool = new DtlsHandshakePool(1, "test disposed");
        pool.Dispose();
        using var client = new DtlsClientEndpoint(DtlsPair.ClientCertificate, DtlsPair.ServerCertificate.Fingerprint, _ => { },
            new DtlsOptions { HandshakePool = pool });
        client.Start();
        Assert.Equal(DtlsHandshakeFailure.ProtocolError, (await DtlsPair.FailureOf(client.Handshake)).Failure);
        Assert.Equal(0, pool.ThreadsStarted);
    }

    [Fact]
    public void The_default_pools_for_servers_and_clients_are_apart_with_eight_threads_each_and_pools_refuse_silly_sizes()
    {
        Assert.Equal(DtlsHandshakePool.DefaultThreadCount, DtlsHandshakePool.Default.ThreadCount);
        Assert.Equal(DtlsHandshakePool.DefaultThreadCount, DtlsHandshakePool.DefaultClient.ThreadCount);
        Assert.NotSame(DtlsHandshakePool.Default, DtlsHandshakePool.DefaultClient);
        Assert.Equal(8, DtlsHandshakePool.DefaultThreadCount);
        Assert.Throws<InvalidOperationException>(() => DtlsHandshakePool.DefaultThreadCount = 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DtlsHandshakePool(0));
    }

    [Fact]
    public async Task Idle_threads_end_after_the_idle_timeout_and_later_work_starts_new_ones()
    {
        using var pool = new DtlsHandshakePool(4, "test idle", TimeSpan.FromMilliseconds(200));
        using var release = new ManualResetEventSlim();
        var done = 0;
        // A burst of four blocking jobs runs at once: each gets its own thread (none waits for a busy one).
        for (var i = 0; i < 4; i++) Assert.True(pool.TryQueue(() => { release.Wait(DtlsPair.Patience); Interlocked.Increment(ref done); }));
        await DtlsPair.Eventually(() => pool.Running == 4, "four jobs run at once");
        Assert.Equal(4, pool.ThreadsAlive);
        release.Set();
        await DtlsPair.Eventually(() => Volatile.Read(ref done) == 4, "the jobs end");
        await DtlsPair.Eventually(() => pool.ThreadsAlive == 0, "idle threads end");
        // Work after that is still done, on a new thread.
        using var ran = new ManualResetEventSlim();
        Assert.True(pool.TryQueue(ran.Set));
        Assert.True(ran.Wait(DtlsPair.Patience), "a job queued after the threads ended never ran");
        Assert.True(pool.ThreadsStarted >= 5);
        Assert.InRange(pool.ThreadsAlive, 0, 1);
    }

    [Fact]
    public async Task Jobs_queued_while_threads_time_out_are_never_stranded()
    {
        // An idle timeout so short that threads keep ending while jobs arrive: every job must still run.
        using var pool = new DtlsHandshakePool(2, "test race", TimeSpan.FromMilliseconds(1));
        var ran = 0;
        for (var round = 0; round < 200; round++)
        {
            Assert.True(pool.TryQueue(() => Interlocked.Increment(ref ran)));
            if (round % 10 == 0) await Task.Delay(2);
        }
        await DtlsPair.Eventually(() => Volatile.Read(ref ran) == 200, "all 200 jobs ran");
        Assert.InRange(pool.ThreadsAlive, 0, 2);
    }
}
