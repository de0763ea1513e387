using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hibari.Rtc.Transport;

namespace Hibari.Bench;

/// <summary>
/// <c>dotnet bench/Hibari.Bench/bin/Release/net10.0/Hibari.Bench.dll udp-batch [options]</c> (Linux): the CPU cost of
/// sending SFU-shaped traffic from one thread on loopback — frames of <c>--packets</c> × <c>--size</c>-byte packets to
/// each of <c>--dests</c> receiver sockets — three ways:
/// <list type="bullet">
/// <item><c>sendto</c>: one Socket.SendTo per datagram, as Rtc.Transport.MediaSocket.Send does;</item>
/// <item><c>sendmmsg</c>: <see cref="UdpSendBatch"/> (one sendmmsg per <c>--capacity</c> datagrams);</item>
/// <item><c>gso</c>: the same with GSO on (one UDP_SEGMENT message per destination's run of packets).</item>
/// </list>
/// Datagrams go out in one of two orders: <c>packet</c>-major (each packet to every subscriber, as the forwarding loop
/// does today) or <c>dest</c>-major (the whole frame to one subscriber, then the next). One round sends one frame to
/// every destination; only the sending is timed (CLOCK_THREAD_CPUTIME_ID: CPU of the sending thread, user and system,
/// which on loopback includes the receive path the kernel runs in its context; the user/system split is getrusage's), then every receiver is drained untimed with
/// <see cref="UdpReceiveBatch"/> and the datagrams are counted: a round that lost any is reported. Options:
/// <c>--dests 50,200 --packets 8 --size 1100 --capacity 128[,1024] --datagrams 400000 --repeat 3 --modes sendto,sendmmsg,gso
/// --orders packet,dest</c>.
/// </summary>
public static class UdpBatchBench
{
    public static int Run(string[] args)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("udp-batch: Linux only (getrusage, sendmmsg)");
            return 2;
        }
        var o = Options.Parse(args);
        Console.WriteLine($"# udp-batch: packets {o.Packets} × {o.Size} B per frame, capacity {string.Join(",", o.Capacities)}, ~{o.Datagrams:N0} datagrams per run, {o.Repeat} runs; loadavg {File.ReadAllText("/proc/loadavg").Trim()}");
        var results = new Dictionary<(string Mode, string Order, int Capacity, int Dests), List<Sample>>();
        for (var rep = 0; rep < o.Repeat; rep++)
            foreach (var dests in o.Dests)
                foreach (var capacity in o.Capacities)
                foreach (var order in o.Orders)
                    foreach (var mode in o.Modes)
                    {
                        // sendto: one datagram per call whatever the order and capacity.
                        if (mode == "sendto" && (order != o.Orders[0] || capacity != o.Capacities[0])) continue;
                        var s = Measure(mode, order, dests, capacity, o);
                        var key = (mode, mode == "sendto" ? "any" : order, mode == "sendto" ? 1 : capacity, dests);
                        if (!results.TryGetValue(key, out var list)) results[key] = list = [];
                        list.Add(s);
                        Console.WriteLine($"  run {rep + 1}: {mode,-8} {key.Item2,-6} cap {key.Item3,4} {dests,4} dests: {s.CpuMicros:F3} µs CPU/datagram (user {s.UserMicros:F3}, sys {s.SysMicros:F3}), wall {s.WallMicros:F3} µs, {s.SyscallsPerDatagram:F4} syscalls/datagram, {s.DatagramsPerGsoMessage:F1} datagrams/GSO message, lost {s.Lost}");
                    }
        Console.WriteLine($"# loadavg after {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine();
        Console.WriteLine("| mode | order | capacity | dests | CPU µs/datagram (median) | min | user | sys | wall µs/datagram (median) | syscalls/datagram | datagrams per GSO msg | lost |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var ((mode, order, capacity, dests), list) in results.OrderBy(r => r.Key.Dests).ThenBy(r => Array.IndexOf(o.Modes, r.Key.Mode)).ThenBy(r => r.Key.Capacity).ThenBy(r => r.Key.Order))
        {
            var sorted = list.OrderBy(s => s.CpuMicros).ToArray();
            var med = sorted[sorted.Length / 2];
            Console.WriteLine($"| {mode} | {order} | {(mode == "sendto" ? "–" : capacity.ToString())} | {dests} | {med.CpuMicros:F3} | {sorted[0].CpuMicros:F3} | {med.UserMicros:F3} | {med.SysMicros:F3} | {list.OrderBy(s => s.WallMicros).ElementAt(list.Count / 2).WallMicros:F3} | {med.SyscallsPerDatagram:F4} | {(med.DatagramsPerGsoMessage > 0 ? med.DatagramsPerGsoMessage.ToString("F1") : "–")} | {list.Sum(s => s.Lost)} |");
        }
        return 0;
    }

    private sealed record Sample(double CpuMicros, double UserMicros, double SysMicros, double WallMicros, double SyscallsPerDatagram, double DatagramsPerGsoMessage, long Lost);

    private static Sample Measure(string mode, string order, int dests, int capacity, Options o)
    {
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.SendBufferSize = 4 * 1024 * 1024;
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var receivers = new Socket[dests];
        var drains = new UdpReceiveBatch[dests];
        var to = new SocketAddress[dests];
        try
        {
            for (var d = 0; d < dests; d++)
            {
                receivers[d] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                receivers[d].ReceiveBufferSize = 1024 * 1024;
                receivers[d].Bind(new IPEndPoint(IPAddress.Loopback, 0));
                drains[d] = new UdpReceiveBatch(receivers[d], capacity: 64);
                to[d] = receivers[d].LocalEndPoint!.Serialize();
            }
            var batch = new UdpSendBatch(sender, capacity, gso: mode == "gso");
            if (mode != "sendto" && !batch.IsNative) throw new InvalidOperationException("sendmmsg is not available");
            if (mode == "gso" && !batch.GsoEnabled) throw new InvalidOperationException("GSO is not available");
            // The frame: packets - 1 full-size ones and a last one 60 % as long (a frame rarely divides evenly).
            var frame = Enumerable.Range(0, o.Packets)
                .Select(p => Enumerable.Range(0, p < o.Packets - 1 ? o.Size : o.Size * 6 / 10).Select(k => (byte)(p + k)).ToArray()).ToArray();
            var scratch = new byte[UdpSendBatch.SlotSize];
            var perRound = (long)dests * o.Packets;
            var rounds = (int)Math.Max(20, o.Datagrams / perRound);
            var warmup = Math.Max(5, rounds / 10);
            long lost = 0;
            double cpu = 0, user = 0, sys = 0; // µs
            var wall = new Stopwatch();
            long sys0 = 0, sent0 = 0, gso0 = 0, msg0 = 0;

            void Send(int p, int d)
            {
                var packet = frame[p];
                if (mode == "sendto")
                {
                    // The packet is written (encrypted) into a buffer and sent from it, as MediaSocket.Send does.
                    packet.CopyTo(scratch, 0);
                    sender.SendTo(scratch.AsSpan(0, packet.Length), SocketFlags.None, to[d]);
                }
                else
                {
                    packet.CopyTo(batch.NextSlot());
                    batch.Commit(packet.Length, to[d]);
                }
            }

            for (var round = 0; round < warmup + rounds; round++)
            {
                if (round == warmup)
                {
                    sys0 = batch.SystemCalls;
                    sent0 = batch.DatagramsSent;
                    gso0 = batch.GsoMessages;
                    msg0 = batch.MessagesSent;
                }
                var measured = round >= warmup;
                var before = Rusage.Thread();
                if (measured) wall.Start();
                if (order == "packet")
                {
                    for (var p = 0; p < o.Packets; p++)
                        for (var d = 0; d < dests; d++) Send(p, d);
                }
                else
                {
                    for (var d = 0; d < dests; d++)
                        for (var p = 0; p < o.Packets; p++) Send(p, d);
                }
                if (mode != "sendto") batch.Flush();
                if (measured)
                {
                    wall.Stop();
                    var after = Rusage.Thread();
                    cpu += after.Cpu - before.Cpu;
                    user += after.User - before.User;
                    sys += after.Sys - before.Sys;
                }
                // Untimed: take everything back and check it all arrived.
                long got = 0;
                for (var d = 0; d < dests; d++)
                {
                    int n;
                    while ((n = drains[d].Receive()) > 0) got += n;
                }
                lost += perRound - got;
            }
            var datagrams = (double)rounds * perRound;
            // Datagrams carried per GSO message: those not sent alone (messages − GSO messages) over the GSO messages.
            var gsoMessages = batch.GsoMessages - gso0;
            var alone = batch.MessagesSent - msg0 - gsoMessages;
            var perGso = gsoMessages > 0 ? (double)(batch.DatagramsSent - sent0 - alone) / gsoMessages : 0;
            return new Sample(
                cpu / datagrams,
                cpu / datagrams * user / Math.Max(1, user + sys),
                cpu / datagrams * sys / Math.Max(1, user + sys),
                wall.Elapsed.TotalMicroseconds / datagrams,
                mode == "sendto" ? 1.0 : (batch.SystemCalls - sys0) / datagrams,
                perGso,
                lost);
        }
        finally
        {
            foreach (var r in receivers) r?.Dispose();
        }
    }

    private sealed class Options
    {
        public int[] Dests = [50, 200];
        public int Packets = 8, Size = 1100, Repeat = 3;
        public int[] Capacities = [128];
        public long Datagrams = 400_000;
        public string[] Modes = ["sendto", "sendmmsg", "gso"];
        public string[] Orders = ["packet", "dest"];

        public static Options Parse(string[] args)
        {
            var o = new Options();
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var v = args[i + 1];
                switch (args[i])
                {
                    case "--dests": o.Dests = v.Split(',').Select(int.Parse).ToArray(); break;
                    case "--packets": o.Packets = int.Parse(v); break;
                    case "--size": o.Size = int.Parse(v); break;
                    case "--capacity": o.Capacities = v.Split(',').Select(int.Parse).ToArray(); break;
                    case "--datagrams": o.Datagrams = long.Parse(v); break;
                    case "--repeat": o.Repeat = int.Parse(v); break;
                    case "--modes": o.Modes = v.Split(','); break;
                    case "--orders": o.Orders = v.Split(','); break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            return o;
        }
    }

    private static class Rusage
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct RUsage
        {
            public long UserSec, UserMicros, SysSec, SysMicros;
            public long F0, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12, F13;
        }

        [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
        private static extern int GetRusage(int who, out RUsage usage);

        private const int RusageThread = 1;

        [StructLayout(LayoutKind.Sequential)]
        private struct TimeSpec
        {
            public long Seconds, Nanoseconds;
        }

        [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
        private static extern int ClockGetTime(int clock, out TimeSpec time);

        private const int ClockThreadCpuTime = 3;

        /// <summary>
        /// The thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID): exact, from the scheduler's runtime) and its
        /// user/system split (getrusage(RUSAGE_THREAD): tick-sampled, so only the split over many rounds means something).
        /// </summary>
        public static (double Cpu, double User, double Sys) Thread()
        {
            if (ClockGetTime(ClockThreadCpuTime, out var t) != 0) throw new InvalidOperationException($"clock_gettime: errno {Marshal.GetLastPInvokeError()}");
            if (GetRusage(RusageThread, out var u) != 0) throw new InvalidOperationException($"getrusage: errno {Marshal.GetLastPInvokeError()}");
            return (t.Seconds * 1e6 + t.Nanoseconds / 1e3, u.UserSec * 1e6 + u.UserMicros, u.SysSec * 1e6 + u.SysMicros);
        }
    }
}
