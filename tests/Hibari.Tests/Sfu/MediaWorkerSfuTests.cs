using System.Reflection;
using Hibari.Load;
using Hibari.Rtc.Dtls;
using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

/// <summary>
/// A node with two media workers (docs/decisions.md D-29): one channel's subscribers spread over both, the published
/// packets decrypted once on the publisher's worker and handed to the other, every packet reaching every subscriber
/// under its own SSRC, and the packet path never waiting for the SFU's topology lock.
/// </summary>
[Collection("sfu")]
public sealed class MediaWorkerSfuTests
{
    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    [Fact]
    public async Task Subscribers_on_two_workers_each_get_every_packet_under_their_own_rewritten_ssrc()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { MediaWorkers = 2 });
        var subs = new List<SyntheticClient>();
        try
        {
            for (var i = 0; i < 6; i++)
            {
                var s = new SyntheticClient(node.SignalingUrl, "workers", new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate });
                subs.Add(s);
                await s.ConnectAsync();
            }
            await using var pub = new SyntheticClient(node.SignalingUrl, "workers", new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate });
            await pub.ConnectAsync();
            var workers = node.Node.Sfu.Workers;
            Assert.Equal(2, workers.Count);
            // The offers name the worker's port: both workers serve subscribers of the channel.
            var ports = subs.Select(s => s.ServerEndPoint!.Port).ToHashSet();
            Assert.Equal(workers.All.Select(w => w.LocalEndPoint.Port).ToHashSet(), ports);

            using var stop = new CancellationTokenSource();
            var publishing = pub.PublishAsync(1000, 1000, stop.Token);
            await InProcessNode.EventuallyAsync("every subscriber receives", () => subs.All(s => s.PacketsReceived > 20), TimeSpan.FromSeconds(20));
            var sentBefore = pub.PacketsSent;
            var receivedBefore = subs.Select(s => s.PacketsReceived).ToArray();
            await InProcessNode.EventuallyAsync("the publisher sends 300 more packets", () => pub.PacketsSent > sentBefore + 300, TimeSpan.FromSeconds(20));
            await stop.CancelAsync();
            await publishing.ContinueWith(_ => { });
            var sent = pub.PacketsSent - sentBefore;
            // Every packet sent after the snapshot reaches every subscriber (some sent just before it may also count).
            await InProcessNode.EventuallyAsync("every packet reached every subscriber",
                () => subs.Select((s, i) => s.PacketsReceived - receivedBefore[i]).All(n => n >= sent), TimeSpan.FromSeconds(20));
            var ssrcs = new HashSet<uint>();
            foreach (var s in subs)
            {
                Assert.Equal(0, s.DecryptFailures);
                Assert.Equal(0, s.PacketsLost);
                var ssrc = Assert.Single(s.ReceivedSsrcs);
                Assert.NotEqual(pub.VideoSsrc, ssrc);
                Assert.True(ssrcs.Add(ssrc), $"SSRC {ssrc} given to two subscribers");
            }
            // The publisher's worker decrypted each packet once and handed it to the other worker, which forwarded it.
            Assert.True(workers.All.Sum(w => w.HandedOff) >= sent, $"handed off: {string.Join(",", workers.All.Select(w => w.HandedOff))}");
            Assert.Equal(0, workers.All.Sum(w => w.HandoffDropped));
        }
        finally
        {
            foreach (var s in subs) await s.DisposeAsync();
        }
    }

    [Fact]
    public async Task Media_keeps_flowing_on_both_workers_while_the_topology_lock_is_held()
    {
        await using var node = await InProcessNode.StartAsync(o => o with { MediaWorkers = 2 });
        await using var a = new SyntheticClient(node.SignalingUrl, "nolock", new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate });
        await using var b = new SyntheticClient(node.SignalingUrl, "nolock", new SyntheticClientOptions { Role = "recvonly", Certificate = Certificate });
        await a.ConnectAsync();
        await b.ConnectAsync();
        await using var pub = new SyntheticClient(node.SignalingUrl, "nolock", new SyntheticClientOptions { Role = "sendonly", Certificate = Certificate });
        await pub.ConnectAsync();
        Assert.NotEqual(a.ServerEndPoint!.Port, b.ServerEndPoint!.Port);
        using var stop = new CancellationTokenSource();
        var publishing = pub.PublishAsync(500, 1000, stop.Token);
        await InProcessNode.EventuallyAsync("both receive", () => a.PacketsReceived > 10 && b.PacketsReceived > 10, TimeSpan.FromSeconds(20));

        // Another thread takes the SFU's topology lock and keeps it while the subscribers' counts are watched.
        var gate = typeof(SfuEngine).GetField("_gate", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(node.Node.Sfu)!;
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                held.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            }
        });
        holder.Start();
        held.Wait();
        try
        {
            var (ra, rb) = (a.PacketsReceived, b.PacketsReceived);
            await InProcessNode.EventuallyAsync("packets keep arriving at both while the lock is held",
                () => a.PacketsReceived > ra + 100 && b.PacketsReceived > rb + 100, TimeSpan.FromSeconds(20));
        }
        finally
        {
            release.Set();
            holder.Join();
        }
        await stop.CancelAsync();
        await publishing.ContinueWith(_ => { });
        Assert.Equal(0, a.DecryptFailures + b.DecryptFailures);
    }
}
