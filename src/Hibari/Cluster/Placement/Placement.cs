using Hibari.Cluster.State;

namespace Hibari.Cluster.Placement;

/// <summary>
/// Placement of a signaling connect (docs/requirements.md, section 5), a pure function of the cluster view, this node's configuration,
/// the connect and the auth result: no I/O, no clock, no randomness. Ties are broken by this node, then by ordinal
/// node name, so every node computes the same answer from the same view. See README.md in this folder for the rules
/// and how the specification's ambiguities were resolved.
/// </summary>
public static class Placement
{
    /// <summary>
    /// Decides where <paramref name="connect"/> goes. Call it <see cref="PlacementStage.BeforeAuth"/> on receipt of the
    /// connect and again <see cref="PlacementStage.AfterAuth"/> with the auth webhook's `cluster_affinity` (null when
    /// the webhook did not say, or there is no webhook). Before auth only what the auth answer cannot change is
    /// decided; <paramref name="authClusterAffinity"/> is ignored there.
    /// </summary>
    public static Decision Decide(PlacementView view, PlacementConfig config, PlacementRequest connect, PlacementStage stage,
        bool? authClusterAffinity = null)
    {
        var self = view.Find(config.Self);
        if (!config.Cluster)
            return Standalone(self ?? throw new ArgumentException($"the view has no node named {config.Self}", nameof(view)), view, connect);
        if (self is null || !self.Alive) return Refuse(RefuseReasons.ClusterUnavailable);
        if (!config.EffectiveRelay) return WithoutRelay(view, self, connect); // C-NOREL: the same before and after auth
        if (stage == PlacementStage.AfterAuth)
            return WithRelay(view, config, self, connect, config.EffectiveAffinity(authClusterAffinity));

        // Before auth the webhook may still turn affinity on or off (C-AFF-6): decide now only when both agree
        // (this node full or blocked, C-REL-2; a new session this node may not take), otherwise go on to auth (C-AFF-5).
        var withAffinity = WithRelay(view, config, self, connect, affinity: true);
        var withoutAffinity = WithRelay(view, config, self, connect, affinity: false);
        return withAffinity == withoutAffinity ? withAffinity : Decision.Serve.Instance;
    }

    /// <summary>
    /// C-API-1: whether this node handles an API call naming <paramref name="channelId"/>, or which owner's
    /// external_api_url to redirect it to (an alive owner, the first by name), or that no alive node owns it.
    /// </summary>
    public static ApiRoute ApiOwner(PlacementView view, string self, string channelId)
    {
        PlacementNode? target = null;
        foreach (var n in view.Nodes)
        {
            if (!Holds(view, n, channelId)) continue;
            if (n.Name == self) return ApiRoute.Here.Instance;
            if (n.Alive && !string.IsNullOrEmpty(n.ExternalApiUrl) && (target is null || string.CompareOrdinal(n.Name, target.Name) < 0))
                target = n;
        }
        return target is null ? ApiRoute.Unknown.Instance : new ApiRoute.Redirect(target.Name, target.ExternalApiUrl!);
    }

    // C-PLACE-0: the cluster is off; serve here unless full (or this node's own mode forbids it).
    private static Decision Standalone(PlacementNode self, PlacementView view, PlacementRequest connect) =>
        CanTake(view, self, self, connect.ChannelId) ? Decision.Serve.Instance : Refuse(WhyNot(view, self, connect.ChannelId));

    // C-NOREL-1..3: a session lives on one node. Decided before auth (the auth answer changes nothing here).
    private static Decision WithoutRelay(PlacementView view, PlacementNode self, PlacementRequest connect)
    {
        var channel = connect.ChannelId;
        var owner = SessionNode(view, self, channel);
        if (owner is null) // new session: C-NOREL-1, C-NOREL-3
        {
            if (connect.Redirected)
                return CanTake(view, self, self, channel) ? Decision.Serve.Instance : Refuse(WhyNot(view, self, channel));
            return MostSpare(Eligible(view, self, channel), self);
        }
        if (owner.Name == self.Name)
            return CanTake(view, self, self, channel) ? Decision.Serve.Instance
                : Refuse(self.Mode == NodeModes.BlockNewConnection ? RefuseReasons.ModeBlockNewConnection : RefuseReasons.SessionNodeFull);
        if (!owner.Alive || string.IsNullOrEmpty(owner.ExternalSignalingUrl)) return Refuse(RefuseReasons.SessionNodeUnavailable);
        if (connect.Redirected) return Refuse(RefuseReasons.SessionOnAnotherNode); // never redirected twice
        if (owner.Mode == NodeModes.BlockNewConnection) return Refuse(RefuseReasons.SessionNodeBlocked);
        if (owner.Full) return Refuse(RefuseReasons.SessionNodeFull); // C-NOREL-2: no relay, no second node
        return new Decision.Redirect(owner.Name, owner.ExternalSignalingUrl!);
    }

    // Relay on: C-REL-1..2 without affinity, C-AFF-1..4 with it.
    private static Decision WithRelay(PlacementView view, PlacementConfig config, PlacementNode self, PlacementRequest connect, bool affinity)
    {
        var channel = connect.ChannelId;
        if (connect.Redirected) // served here or refused, never redirected again
            return CanTake(view, self, self, channel) ? Decision.Serve.Instance : Refuse(WhyNot(view, self, channel));

        // The contact node is full (or takes no connections at all): the most spare node, whatever the session
        // (the tables' "ライセンス上限に達している場合" rows of both relay tables).
        if (self.Full || self.Mode == NodeModes.BlockNewConnection) return MostSpare(Eligible(view, self, channel), self);

        if (!affinity) // C-REL-1, C-AFF-6 false: serve here; C-REL-2 if this node cannot
            return CanTake(view, self, self, channel) ? Decision.Serve.Instance : MostSpare(Eligible(view, self, channel), self);

        var eligible = Eligible(view, self, channel);
        var threshold = config.ClusterAffinityThreshold;
        var owners = new List<PlacementNode>();
        foreach (var n in eligible)
            if (Holds(view, n, channel) && n.ConnectionsOf(channel) <= threshold) owners.Add(n);
        var anyAliveOwner = false;
        foreach (var n in view.Nodes) anyAliveOwner |= n.Alive && Holds(view, n, channel);

        if (!anyAliveOwner) return MostSpare(eligible, self); // C-AFF-1: new session (dead owners are ignored)
        if (owners.Count > 0) // C-AFF-2: an owner under the threshold with room (C-AFF-3, C-AFF-4); this node first
            return owners.Exists(n => n.Name == self.Name) ? Decision.Serve.Instance : MostSpare(owners, self);

        // C-AFF-3: every owner is over the threshold (or full, C-AFF-4): another node under it, the most spare;
        // if every node is over it, the most spare node of all.
        var under = new List<PlacementNode>();
        foreach (var n in eligible) if (n.ConnectionsOf(channel) <= threshold) under.Add(n);
        return MostSpare(under.Count > 0 ? under : eligible, self);
    }

    /// <summary>
    /// The node that holds the session with relay off: this node if it holds it, else the first holder by name that
    /// is alive, else the first holder by name; null when the channel has no session.
    /// </summary>
    private static PlacementNode? SessionNode(PlacementView view, PlacementNode self, string channel)
    {
        if (Holds(view, self, channel)) return self;
        PlacementNode? best = null;
        foreach (var n in view.Nodes)
        {
            if (!Holds(view, n, channel)) continue;
            if (best is null || (n.Alive && !best.Alive) || (n.Alive == best.Alive && string.CompareOrdinal(n.Name, best.Name) < 0)) best = n;
        }
        if (best is not null) return best;
        // Owners named in the replicated state but absent from the view: a session exists on an unknown (dead) node.
        return view.ChannelOwners.TryGetValue(channel, out var names) && names.Count > 0
            ? new PlacementNode(names[0], null, null, false, false, NodeModes.Normal, 0, 0, EmptyCounts)
            : null;
    }

    private static readonly IReadOnlyDictionary<string, int> EmptyCounts = new Dictionary<string, int>();

    /// <summary>Whether <paramref name="node"/> owns the channel's session (replicated owners, or connections of it).</summary>
    private static bool Holds(PlacementView view, PlacementNode node, string channel)
    {
        if (node.ConnectionsOf(channel) > 0) return true;
        if (!view.ChannelOwners.TryGetValue(channel, out var owners)) return false;
        foreach (var o in owners) if (o == node.Name) return true;
        return false;
    }

    /// <summary>
    /// Whether <paramref name="node"/> may take one more connection of the channel: alive, below capacity, not in
    /// block_new_connection, and not in block_new_session unless it already owns the session (C-MODE-1). Another
    /// node also needs a signaling URL to be redirected to.
    /// </summary>
    private static bool CanTake(PlacementView view, PlacementNode self, PlacementNode node, string channel)
    {
        if (node.Full || node.Mode == NodeModes.BlockNewConnection) return false;
        if (node.Mode == NodeModes.BlockNewSession && !Holds(view, node, channel)) return false;
        if (node.Name == self.Name) return true;
        return node.Alive && !string.IsNullOrEmpty(node.ExternalSignalingUrl);
    }

    private static string WhyNot(PlacementView view, PlacementNode self, string channel) =>
        self.Mode == NodeModes.BlockNewConnection ? RefuseReasons.ModeBlockNewConnection
        : self.Full ? RefuseReasons.NodeFull
        : self.Mode == NodeModes.BlockNewSession && !Holds(view, self, channel) ? RefuseReasons.ModeBlockNewSession
        : RefuseReasons.NoNodeAvailable;

    private static List<PlacementNode> Eligible(PlacementView view, PlacementNode self, string channel)
    {
        var list = new List<PlacementNode>();
        foreach (var n in view.Nodes) if (CanTake(view, self, n, channel)) list.Add(n);
        return list;
    }

    /// <summary>
    /// C-LB-1: the candidate with the most free capacity; ties are won by this node, then by the smaller name
    /// (determinism). Serve when that is this node.
    /// </summary>
    private static Decision MostSpare(List<PlacementNode> candidates, PlacementNode self)
    {
        PlacementNode? best = null;
        foreach (var n in candidates)
        {
            if (best is null || n.Spare > best.Spare) { best = n; continue; }
            if (n.Spare < best.Spare || best.Name == self.Name) continue;
            if (n.Name == self.Name || string.CompareOrdinal(n.Name, best.Name) < 0) best = n;
        }
        if (best is null) return Refuse(RefuseReasons.NoNodeAvailable);
        return best.Name == self.Name ? Decision.Serve.Instance : new Decision.Redirect(best.Name, best.ExternalSignalingUrl!);
    }

    private static Decision.Refuse Refuse(string reason) => new(reason);
}
