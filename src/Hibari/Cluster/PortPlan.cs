using System.Net;
using System.Net.Sockets;

namespace Hibari.Cluster;

/// <summary>
/// This node's two TCP ports in the cluster range (C-CONF-8): one for node links, one for Raft. Chosen once, saved in
/// data_dir (the Raft endpoint is the node's identity) and held by bound listeners until their owners take them,
/// so two nodes on one host never race for a port (docs/protocol-notes.md, "Problems seen in multi-process tests" 6).
/// </summary>
internal sealed class PortPlan : IDisposable
{
    private const string FileName = "cluster-ports";

    private PortPlan(TcpListener link, TcpListener raft)
    {
        LinkListener = link;
        RaftHold = raft;
    }

    /// <summary>Started listener of the node-link port; handed to the link host.</summary>
    public TcpListener LinkListener { get; }
    /// <summary>Listener holding the Raft port until Raft binds it (it accepts nothing; Raft peers retry).</summary>
    public TcpListener? RaftHold { get; private set; }
    public int LinkPort => ((IPEndPoint)LinkListener.LocalEndpoint).Port;
    public int RaftPort { get; private init; }

    public static PortPlan Reserve(IPAddress address, int min, int max, string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var file = Path.Combine(dataDir, FileName);
        if (File.Exists(file))
        {
            var saved = File.ReadAllLines(file).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
                .ToDictionary(p => p[0].Trim(), p => int.TryParse(p[1].Trim(), out var v) ? v : -1);
            if (saved.TryGetValue("link", out var lp) && saved.TryGetValue("raft", out var rp) && lp > 0 && rp > 0)
            {
                var link = TryBind(address, lp) ?? throw new InvalidOperationException(
                    $"cluster port {lp} saved in {file} is in use on {address}: stop whatever holds it (the node's identity depends on it)");
                var raft = TryBind(address, rp);
                if (raft is null)
                {
                    link.Server.Dispose();
                    throw new InvalidOperationException($"cluster port {rp} saved in {file} is in use on {address}: stop whatever holds it");
                }
                return new PortPlan(link, raft) { RaftPort = rp };
            }
        }
        TcpListener? l = null, r = null;
        for (var p = min; p <= max && (l is null || r is null); p++)
        {
            var bound = TryBind(address, p);
            if (bound is null) continue;
            if (l is null) l = bound; else r = bound;
        }
        if (l is null || r is null)
        {
            l?.Server.Dispose();
            throw new InvalidOperationException(
                $"no two free TCP ports in cluster_listen_min_port..cluster_listen_max_port ({min}..{max}) on {address}");
        }
        var raftPort = ((IPEndPoint)r.LocalEndpoint).Port;
        File.WriteAllText(file, $"link={((IPEndPoint)l.LocalEndpoint).Port}\nraft={raftPort}\n");
        return new PortPlan(l, r) { RaftPort = raftPort };
    }

    /// <summary>Gives the Raft port up, right before Raft binds it.</summary>
    public void ReleaseRaftPort()
    {
        RaftHold?.Stop();
        RaftHold = null;
    }

    private const int SolSocket = 1, SoReuseAddr = 2; // Linux <sys/socket.h>

    private static TcpListener? TryBind(IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        // SO_REUSEADDR lets a restarted node bind while old connections of the port are in TIME_WAIT. On Linux it
        // still refuses a port that another socket *listens* on, so both holds listen: a merely bound socket would
        // not stop a second node on the same IP from taking the same port.
        // Plain SO_REUSEADDR only: .NET's ReuseAddress option also sets SO_REUSEPORT on Linux, which would let two
        // nodes listen on one port.
        if (OperatingSystem.IsLinux()) listener.Server.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        try
        {
            listener.Start(16);
            return listener;
        }
        catch (SocketException)
        {
            listener.Server.Dispose();
            return null;
        }
    }

    public void Dispose()
    {
        ReleaseRaftPort();
        LinkListener.Stop();
    }
}
