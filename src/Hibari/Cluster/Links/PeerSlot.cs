using System.Net;

namespace Hibari.Cluster.Links;

/// <summary>
/// Everything the host knows about one peer name: its current link, whether the handler was told it is up,
/// and (if the peer is in SetPeers) where and how it is being dialled. Link and transition fields change only
/// under <see cref="Gate"/>; handler transitions are called under it too, so they reach the handler in order.
/// </summary>
internal sealed class PeerSlot(string name)
{
    private NodeLink? _current;

    public string Name { get; } = name;
    public Lock Gate { get; } = new();

    /// <summary>The link in use (read without the gate).</summary>
    public NodeLink? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value);
    }

    /// <summary>OnPeerUp was the last transition reported.</summary>
    public bool ReportedUp { get; set; }

    /// <summary>Pending "down unless a successor arrives" timer after the peer superseded our link.</summary>
    public ITimer? Grace { get; set; }
    public long GraceGeneration { get; set; }

    // Membership (SetPeers), changed under the host's membership lock.
    public IPEndPoint? EndPoint { get; set; }
    public CancellationTokenSource? Dialing { get; set; }
}
