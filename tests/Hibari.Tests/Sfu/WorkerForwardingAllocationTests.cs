using Hibari.Rtc;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;
using Hibari.Rtc.Transport;
using Hibari.Sdp;
using Hibari.Sfu;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hibari.Tests.Sfu;

/// <summary>
/// The packet path on real media workers allocates nothing per packet: a publication on worker 0 forwards to a
/// subscriber on worker 0 and hands each packet to worker 1, which forwards to its own subscriber; both encrypt into
/// their sendmmsg batch. Allocation is measured on each worker's own thread.
/// </summary>
public sealed class WorkerForwardingAllocationTests
{
    private sealed class NoKeyFrames : IKeyFrameTarget
    {
        public void SendPli(uint mediaSsrc) { }
    }

    private static readonly DtlsCertificate Certificate = DtlsCertificate.Generate();

    private static PeerTransport Subscriber(MediaWorker worker, SocketAddress sink)
    {
        var t = new PeerTransport(Guid.NewGuid().ToString("n")[..26], worker, Certificate, new SfuCounters(), NullLogger.Instance, 1, 1_000_000);
        var material = new byte[DtlsSrtpKeyingMaterial.Length(SrtpProfile.AeadAes128Gcm)];
        Random.Shared.NextBytes(material);
        var (send, _) = DtlsSrtpKeyingMaterial.CreateContexts(SrtpProfile.AeadAes128Gcm, material, isDtlsClient: false);
        typeof(PeerTransport).GetField("_send", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(t, send);
        typeof(PeerTransport).GetField("_remote", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(t, sink);
        return t;
    }

    private static Task<T> On<T>(MediaWorker worker, Func<T> run)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Post(() =>
        {
            try { done.SetResult(run()); }
            catch (Exception e) { done.SetException(e); }
        });
        return done.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static byte[] Vp8Packet(ushort seq, bool keyFrame)
    {
        var buffer = new byte[1200];
        var payload = new byte[1000];
        payload[0] = 0x10; // S bit
        payload[1] = keyFrame ? (byte)0x00 : (byte)0x01; // VP8 frame header: P bit clear = key frame
        var w = new RtpPacketWriter(buffer, 96, seq, seq * 3000u, 0x1234, marker: true);
        Assert.True(w.TryFinish(payload, out var length));
        return buffer[..length];
    }

    [Fact]
    public async Task Forwarding_on_the_publishers_worker_and_across_to_another_allocates_nothing_per_packet()
    {
        using var workers = new MediaWorkers(IPAddress.Loopback, 0, 2);
        workers.Start();
        using var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sink.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var sinkAddress = ((IPEndPoint)sink.LocalEndPoint!).Serialize();
        var w0 = workers[0];
        var w1 = workers[1];
        var publication = new Publication(new NoKeyFrames(), w0, "pub", "1", MediaKind.Video, CodecCatalog.Vp8, "pub-video", workerCount: 2);
        publication.LatchSsrc(0x1234);
        var local = Subscriber(w0, sinkAddress);
        var remote = Subscriber(w1, sinkAddress);
        var s0 = new Subscription(publication, local, "2", 0x5000, 0x5001, new Random(1)) { Active = true };
        var s1 = new Subscription(publication, remote, "2", 0x6000, 0x6001, new Random(2)) { Active = true };
        await On(w0, () => { local.AddSubscription(s0); return 0; });
        await On(w1, () => { remote.AddSubscription(s1); return 0; });
        // Worker 1's group attaches on worker 0 through a post: wait until worker 0 hands packets over.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await On(w0, () => publication.HandoffWorkers) == 0)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("worker 1's group never attached");
            await Task.Delay(10);
        }

        ushort seq = 1000;
        var packets = Enumerable.Range(0, 64).Select(i => Vp8Packet((ushort)(seq + i), keyFrame: i == 0)).ToArray();
        // One posted action per 64 packets, like one loop iteration of a worker that received 64 datagrams: after each,
        // worker 0 flushes its batch and wakes worker 1. Returns what this action allocated on worker 0's thread.
        long PublishOnce()
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var p in packets)
            {
                RtpHeader.SetSequenceNumber(p, seq++);
                RtpHeader.TryParse(p, out var h);
                publication.OnRtp(p, h, MediaClock.NowMicros());
            }
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // Each round waits until worker 1 has forwarded it, so no ring ever fills (a full ring drops, by design).
        // Returns the smallest allocation of a round: the runtime itself allocates on a thread now and then (tiering,
        // OSR), a per-packet allocation shows in every round (as in Allocations.Min).
        async Task<long> Publish(int rounds)
        {
            long total = long.MaxValue;
            for (var r = 0; r < rounds; r++)
            {
                var expected = s1.PacketsSent + packets.Length;
                total = Math.Min(total, await On(w0, PublishOnce));
                var until = DateTime.UtcNow.AddSeconds(20);
                while (s1.PacketsSent < expected)
                {
                    if (DateTime.UtcNow > until) Assert.Fail($"worker 1 forwarded {s1.PacketsSent} of {expected} (hand-off drops: {w1.HandoffDropped})");
                    await Task.Delay(1);
                }
            }
            return total;
        }
        await Publish(20); // warm-up: JIT, the first key frame, the ring's slot buffer, SRTP state
        var w1Before = await On(w1, () => GC.GetAllocatedBytesForCurrentThread());
        var sentBefore = s1.PacketsSent;
        var onPublisherWorker = await Publish(100);
        // Wait until worker 1 forwarded what it was handed, then read its thread's allocation.
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (s1.PacketsSent < sentBefore + 6400)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"worker 1 forwarded {s1.PacketsSent - sentBefore} of 6400 (hand-off drops: {w1.HandoffDropped})");
            await Task.Delay(10);
        }
        var onOtherWorker = await On(w1, () => GC.GetAllocatedBytesForCurrentThread()) - w1Before;

        Assert.Equal(0, onPublisherWorker);
        // Worker 1's thread ran its drains, forwards and sendmmsg flushes for 6,400 packets: one object per packet would
        // be at least 6,400 × 24 bytes; the runtime's own occasional allocations on the thread stay far below 8 per packet.
        Assert.True(onOtherWorker < 6400 * 8, $"worker 1 allocated {onOtherWorker} bytes for 6,400 forwarded packets");
        Assert.True(s0.PacketsSent >= 6400 + 20 * 64 - 64);
        Assert.True(w0.SendSystemCalls > 0 && w1.SendSystemCalls > 0);
        Assert.True(w0.DatagramsSent > w0.SendSystemCalls * 4, $"{w0.DatagramsSent} datagrams in {w0.SendSystemCalls} sendmmsg calls");
    }
}
