namespace Hibari.Cluster.Placement;

/// <summary>Where a connect goes: served here, redirected to another node, or refused with a reason.</summary>
public abstract record Decision
{
    private Decision() { }

    /// <summary>Serve on this node (before auth: go on to the auth webhook here).</summary>
    public sealed record Serve : Decision
    {
        public static readonly Serve Instance = new();
    }

    /// <summary>Send `{"type":"redirect","location": SignalingUrl}` and close; the client reconnects to <paramref name="NodeName"/>.</summary>
    public sealed record Redirect(string NodeName, string SignalingUrl) : Decision;

    /// <summary>Refuse the connect; <paramref name="Reason"/> is one of <see cref="RefuseReasons"/>.</summary>
    public sealed record Refuse(string Reason) : Decision;
}

/// <summary>
/// Why a connect is refused, as the signaling close reason. Where Signaling/SignalingCloses already has a close for the
/// case, the reason string is the same (MODE-*, LICENSE-MAX-CONNECTIONS-REACHED, SESSION-ON-ANOTHER-NODE).
/// </summary>
public static class RefuseReasons
{
    /// <summary>This node is not (yet) a member in the majority group (C-CONF-1, C-MAJ-2).</summary>
    public const string ClusterUnavailable = "CLUSTER-UNAVAILABLE";
    /// <summary>
    /// This node is at capacity and the connect may not go elsewhere (cluster off, C-PLACE-0; or a redirected connect).
    /// Same reason as Signaling's LicenseMaxConnectionsReached close.
    /// </summary>
    public const string NodeFull = "LICENSE-MAX-CONNECTIONS-REACHED";
    /// <summary>This node is in block_new_session and the connect would start a session here that may not go elsewhere (C-MODE-1).</summary>
    public const string ModeBlockNewSession = "MODE-BLOCK-NEW-SESSION";
    /// <summary>This node is in block_new_connection and the connect may not go elsewhere (C-MODE-1).</summary>
    public const string ModeBlockNewConnection = "MODE-BLOCK-NEW-CONNECTION";
    /// <summary>Relay off: the node holding the session is at capacity (C-NOREL-2).</summary>
    public const string SessionNodeFull = "SESSION-NODE-FULL";
    /// <summary>Relay off: the node holding the session is in block_new_connection (C-MODE-1).</summary>
    public const string SessionNodeBlocked = "SESSION-NODE-BLOCKED";
    /// <summary>Relay off: the node holding the session is not alive (a session cannot move without relay).</summary>
    public const string SessionNodeUnavailable = "SESSION-NODE-UNAVAILABLE";
    /// <summary>
    /// Relay off: a redirected connect reached a node that does not hold the session (never redirected twice).
    /// Same reason as Signaling's SessionOnAnotherNode close.
    /// </summary>
    public const string SessionOnAnotherNode = "SESSION-ON-ANOTHER-NODE";
    /// <summary>No alive node may take the connect (all full or blocked).</summary>
    public const string NoNodeAvailable = "NO-NODE-AVAILABLE";
}

/// <summary>Where an HTTP API call naming a channel is handled (C-API-1).</summary>
public abstract record ApiRoute
{
    private ApiRoute() { }

    /// <summary>This node owns the channel: handle the call here.</summary>
    public sealed record Here : ApiRoute
    {
        public static readonly Here Instance = new();
    }

    /// <summary>Answer `307 Temporary Redirect` with `Location: ApiUrl` (the owner's external_api_url).</summary>
    public sealed record Redirect(string NodeName, string ApiUrl) : ApiRoute;

    /// <summary>No alive node owns the channel.</summary>
    public sealed record Unknown : ApiRoute
    {
        public static readonly Unknown Instance = new();
    }
}
