using System.Diagnostics;
using Hibari.Rtc.Dtls;

namespace Hibari.Tests.Rtc.Dtls;

public sealed class DatagramQueueTests
{
    [Fact]
    public void Receive_returns_datagrams_in_order_with_their_boundaries()
    {
        var queue = new DatagramQueue(_ => { }, 8);
        Assert.True(queue.Deliver([1, 2, 3]));
        Assert.True(queue.Deliver([4]));
        var buffer = new byte[1500];
        Assert.Equal(3, queue.Receive(buffer, 1000));
        Assert.Equal([1, 2, 3], buffer[..3]);
        Assert.Equal(1, queue.Receive(buffer.AsSpan(), 1000));
        Assert.Equal(4, buffer[0]);
    }

    [Fact]
    public void Receive_returns_minus_one_after_the_wait_BouncyCastle_asked_for()
    {
        var queue = new DatagramQueue(_ => { }, 8);
        var started = Stopwatch.StartNew();
        Assert.Equal(-1, queue.Receive(new byte[1500], 0, 1500, 100));
        Assert.True(started.Elapsed >= TimeSpan.FromMilliseconds(90), $"returned after {started.Elapsed}");
    }

    [Fact]
    public async Task Zero_wait_means_without_limit_and_Close_wakes_the_reader()
    {
        var queue = new DatagramQueue(_ => { }, 8);
        var reader = Task.Factory.StartNew(() => queue.Receive(new byte[1500], 0), TaskCreationOptions.LongRunning);
        Assert.False(reader.Wait(200), "a zero wait must not return at once");
        queue.Close();
        await Assert.ThrowsAsync<DatagramQueueClosedException>(() => reader.WaitAsync(DtlsPair.Patience));
        Assert.False(queue.Deliver([1]));
    }

    [Fact]
    public async Task A_datagram_wakes_a_waiting_reader()
    {
        var queue = new DatagramQueue(_ => { }, 8);
        var reader = Task.Factory.StartNew(() => queue.Receive(new byte[1500], 0), TaskCreationOptions.LongRunning);
        queue.Deliver([9, 9]);
        Assert.Equal(2, await reader.WaitAsync(DtlsPair.Patience));
    }

    [Fact]
    public void A_full_queue_drops_and_counts_and_frees_room_as_it_drains()
    {
        var queue = new DatagramQueue(_ => { }, 2);
        Assert.True(queue.Deliver([1]));
        Assert.True(queue.Deliver([2]));
        Assert.False(queue.Deliver([3]));
        Assert.Equal(1, queue.Dropped);
        Assert.Equal(1, queue.Receive(new byte[1500], 10));
        Assert.True(queue.Deliver([4]));
        Assert.Equal(1, queue.Dropped);
    }

    [Fact]
    public void A_throwing_send_delegate_counts_as_a_lost_datagram()
    {
        var queue = new DatagramQueue(_ => throw new InvalidOperationException("socket gone"), 2);
        queue.Send(new byte[10]);
        Assert.Equal(1, queue.SendErrors);
        Assert.Equal(1200, queue.GetSendLimit());
        Assert.True(queue.GetReceiveLimit() >= 1500);
    }
}
