namespace Hibari.Signaling;

/// <summary>A WebSocket close code and reason, defined once for every way a node refuses or ends signaling.</summary>
public readonly record struct SignalingClose(int Code, string Reason);

/// <summary>
/// Close codes of the signaling WebSocket. 1000 is a normal server close; errors are 4xxx with an upper-case reason
/// (sora-protocol.md §1.7: Sora's exact codes are unconfirmed; ours are listed in docs/decisions.md).
/// </summary>
public static class SignalingCloses
{
    public static readonly SignalingClose Normal = new(1000, "NORMAL");
    /// <summary>No `connect` within the timeout after the WebSocket opened.</summary>
    public static readonly SignalingClose ConnectTimeout = new(4010, "SIGNALING-TIMEOUT");
    /// <summary>The first message is not a valid `connect`.</summary>
    public static readonly SignalingClose InvalidMessage = new(4400, "INVALID-SIGNALING-MESSAGE");
    /// <summary>C-CONF-1: cluster = true and the node is neither initialised nor joined.</summary>
    public static readonly SignalingClose ClusterNotInitialized = new(4501, "CLUSTER-NOT-INITIALIZED");
    /// <summary>C-MAJ-2: the node is in a group of half or fewer of the regular nodes.</summary>
    public static readonly SignalingClose ClusterMajorityLost = new(4502, "CLUSTER-MAJORITY-LOST");
}
