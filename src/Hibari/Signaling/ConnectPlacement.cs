using Hibari.Sfu;
using Hibari.Signaling.Messages;

namespace Hibari.Signaling;

/// <summary>Where a connect is served: here, on another node (signaling `redirect`), or nowhere (a close with a reason).</summary>
internal readonly record struct PlacementDecision(string? RedirectTo, SignalingClose? Refuse)
{
    public static readonly PlacementDecision Serve = new(null, null);
    public static PlacementDecision Redirect(string location) => new(location, null);
    public static PlacementDecision Refused(SignalingClose close) => new(null, close);
}

/// <summary>
/// The two placement points of a connect (docs/protocol-notes.md, "The two placement points"): before the auth webhook (relay off, node full, modes) and
/// after it (affinity). The cluster's placement plugs in here; a single node serves everything it admits.
/// </summary>
internal interface IConnectPlacement
{
    PlacementDecision BeforeAuth(ConnectRequest connect);
    PlacementDecision AfterAuth(ConnectRequest connect, ConnectionInfo info);
    /// <summary>The session must live on one node and <paramref name="owner"/> holds it (relay off, C-NOREL-2).</summary>
    PlacementDecision SessionElsewhere(ConnectRequest connect, string owner);
}

/// <summary>A node outside a cluster: every admitted connect is served here.</summary>
internal sealed class ServeHere : IConnectPlacement
{
    public static readonly ServeHere Instance = new();
    public PlacementDecision BeforeAuth(ConnectRequest connect) => PlacementDecision.Serve;
    public PlacementDecision AfterAuth(ConnectRequest connect, ConnectionInfo info) => PlacementDecision.Serve;
    public PlacementDecision SessionElsewhere(ConnectRequest connect, string owner) => PlacementDecision.Refused(SignalingCloses.SessionOnAnotherNode);
}
