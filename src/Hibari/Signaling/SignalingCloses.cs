namespace Hibari.Signaling;

/// <summary>A WebSocket close code and reason, defined once for every way a node refuses or ends signaling.</summary>
public readonly record struct SignalingClose(int Code, string Reason);

/// <summary>
/// Close codes of the signaling WebSocket. 1000 is a normal server close; errors are 4xxx with an upper-case reason
/// (docs/protocol-notes.md, "Errors and close codes": Sora's exact codes are unconfirmed; ours are listed in docs/decisions.md).
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

    // --- connect validation (Signaling/Messages/ConnectParser) ---
    /// <summary>`channel_id` missing, not a string, empty, or longer than 255 UTF-8 bytes.</summary>
    public static readonly SignalingClose InvalidChannelId = new(4401, "INVALID-CHANNEL-ID");
    /// <summary>`client_id` not a string or longer than 255 UTF-8 bytes.</summary>
    public static readonly SignalingClose InvalidClientId = new(4402, "INVALID-CLIENT-ID");
    /// <summary>`bundle_id` not a string or longer than 255 UTF-8 bytes.</summary>
    public static readonly SignalingClose InvalidBundleId = new(4403, "INVALID-BUNDLE-ID");
    /// <summary>`role` missing or not sendrecv / sendonly / recvonly.</summary>
    public static readonly SignalingClose InvalidRole = new(4404, "INVALID-ROLE");
    /// <summary>`audio` neither a bool nor an object of the documented shape (bit_rate out of range included).</summary>
    public static readonly SignalingClose InvalidAudio = new(4405, "INVALID-AUDIO");
    /// <summary>`video` neither a bool nor an object of the documented shape (bit_rate out of range included).</summary>
    public static readonly SignalingClose InvalidVideo = new(4406, "INVALID-VIDEO");
    /// <summary>`audio.codec_type` / `video.codec_type` names a codec Hibari does not know.</summary>
    public static readonly SignalingClose UnsupportedCodecType = new(4407, "UNSUPPORTED-CODEC-TYPE");
    /// <summary>`multistream: false`: legacy single-stream mode does not exist (multistream is the only mode).</summary>
    public static readonly SignalingClose MultistreamRequired = new(4408, "MULTISTREAM-REQUIRED");
    /// <summary>
    /// `data_channels` (connect or auth webhook) is invalid, names `#` labels while data_channel_messaging is off, or
    /// without data-channel signaling; the reason adds what is wrong after a colon.
    /// </summary>
    public static readonly SignalingClose InvalidDataChannels = new(4424, "INVALID-DATA-CHANNELS");
    /// <summary>`forwarding_filters` / `forwarding_filter` of the connect is invalid; the reason adds what after a colon (D-54).</summary>
    public static readonly SignalingClose InvalidForwardingFilter = new(4425, "INVALID-FORWARDING-FILTER");

    /// <summary>The close with ": detail" appended, cut to the 123 bytes a WebSocket close reason may carry (ASCII only).</summary>
    public static SignalingClose WithDetail(SignalingClose close, string detail)
    {
        var ascii = new string(detail.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        var reason = close.Reason + ": " + ascii;
        return close with { Reason = reason.Length <= 123 ? reason : reason[..123] };
    }
    /// <summary>The message exceeds the size limit of a signaling message.</summary>
    public static readonly SignalingClose MessageTooLarge = new(4409, "SIGNALING-MESSAGE-TOO-LARGE");

    // --- admission (later steps of the SFU) ---
    /// <summary>Auth webhook answered `allowed: false` (the close reason may be the webhook's own reason, see Webhooks/README.md).</summary>
    public static readonly SignalingClose AuthWebhookDenied = new(4410, "AUTH-WEBHOOK-DENIED");
    /// <summary>Auth webhook timed out, answered non-2xx, or answered something that is not a valid auth answer (fail closed).</summary>
    public static readonly SignalingClose AuthWebhookFailed = new(4411, "AUTH-WEBHOOK-FAILED");
    /// <summary>Mode block_new_connection (docs/protocol-notes.md, "Modes").</summary>
    public static readonly SignalingClose ModeBlockNewConnection = new(4412, "MODE-BLOCK-NEW-CONNECTION");
    /// <summary>Mode block_new_session and the connect would create a session (docs/protocol-notes.md, "Modes").</summary>
    public static readonly SignalingClose ModeBlockNewSession = new(4413, "MODE-BLOCK-NEW-SESSION");
    /// <summary>Relay off: the channel's session is held by another node, and the connect cannot be sent there.</summary>
    public static readonly SignalingClose SessionOnAnotherNode = new(4415, "SESSION-ON-ANOTHER-NODE");
    /// <summary>Relay off: the node holding the channel's session is at capacity (C-NOREL-2).</summary>
    public static readonly SignalingClose SessionNodeFull = new(4416, "SESSION-NODE-FULL");
    /// <summary>Relay off: the node holding the channel's session is in block_new_connection (C-MODE-1).</summary>
    public static readonly SignalingClose SessionNodeBlocked = new(4417, "SESSION-NODE-BLOCKED");
    /// <summary>Relay off: the node holding the channel's session is not reachable (a session cannot move without relay).</summary>
    public static readonly SignalingClose SessionNodeUnavailable = new(4418, "SESSION-NODE-UNAVAILABLE");
    /// <summary>No node of the cluster may take the connect (all full or blocked).</summary>
    public static readonly SignalingClose NoNodeAvailable = new(4419, "NO-NODE-AVAILABLE");
    /// <summary>The node already holds license_max_connections connections.</summary>
    public static readonly SignalingClose LicenseMaxConnectionsReached = new(4414, "LICENSE-MAX-CONNECTIONS-REACHED");

    // --- after the offer ---
    /// <summary>No `answer` within the timeout after the offer.</summary>
    public static readonly SignalingClose AnswerTimeout = new(4420, "ANSWER-TIMEOUT");
    /// <summary>The `answer` / `re-answer` SDP is missing or cannot be used.</summary>
    public static readonly SignalingClose InvalidAnswer = new(4421, "INVALID-ANSWER");
    /// <summary>ICE did not connect within the timeout.</summary>
    public static readonly SignalingClose IceTimeout = new(4422, "ICE-TIMEOUT");
    /// <summary>DTLS handshake failed.</summary>
    public static readonly SignalingClose DtlsFailed = new(4423, "DTLS-FAILED");
    /// <summary>
    /// More connections are being set up on this node (or from this client address) than `signaling_max_pending`
    /// (`signaling_max_pending_per_address`) allows; sent right after the WebSocket opened (D-44). Try again later.
    /// </summary>
    public static readonly SignalingClose TooManyPendingConnections = new(4429, "TOO-MANY-PENDING-CONNECTIONS");
}
