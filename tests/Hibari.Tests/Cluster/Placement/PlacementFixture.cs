using Hibari.Cluster.Placement;
using Hibari.Cluster.State;

namespace Hibari.Tests.Cluster.Placement;

/// <summary>Small builders so each test states only the part of the cluster it is about.</summary>
internal static class PlacementFixture
{
    public const string Channel = "sora";

    public static PlacementNode N(string name, int connections = 0, int capacity = 100, bool alive = true,
        string mode = NodeModes.Normal, int ofChannel = 0, bool temporary = false) =>
        new(name, $"wss://{name}.example.com/signaling", $"https://{name}.example.com/", alive, temporary, mode, capacity,
            connections, ofChannel > 0 ? new Dictionary<string, int> { [Channel] = ofChannel } : new Dictionary<string, int>());

    /// <summary>A view whose channel <see cref="Channel"/> is owned by <paramref name="owners"/> (none: no session).</summary>
    public static PlacementView View(IEnumerable<PlacementNode> nodes, params string[] owners)
    {
        var map = new Dictionary<string, IReadOnlyList<string>>();
        if (owners.Length > 0) map[Channel] = owners;
        return new PlacementView(nodes.ToList(), map);
    }

    public static PlacementConfig Cfg(bool cluster = true, bool relay = true, bool affinity = true, int threshold = 20,
        bool maxNodes = true, string self = "a") => new(self, cluster, relay, affinity, threshold, maxNodes);

    public static Decision After(PlacementView view, PlacementConfig config, bool? authAffinity = null, bool redirected = false) =>
        Hibari.Cluster.Placement.Placement.Decide(view, config, new PlacementRequest(Channel, redirected), PlacementStage.AfterAuth, authAffinity);

    public static Decision Before(PlacementView view, PlacementConfig config, bool redirected = false) =>
        Hibari.Cluster.Placement.Placement.Decide(view, config, new PlacementRequest(Channel, redirected), PlacementStage.BeforeAuth);

    /// <summary>"serve", "redirect:NODE" or "refuse:REASON": a decision as a table cell.</summary>
    public static string Show(Decision d) => d switch
    {
        Decision.Serve => "serve",
        Decision.Redirect r => $"redirect:{r.NodeName}",
        Decision.Refuse f => $"refuse:{f.Reason}",
        _ => throw new InvalidOperationException(),
    };
}
