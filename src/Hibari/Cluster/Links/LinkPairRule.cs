namespace Hibari.Cluster.Links;

/// <summary>
/// At most one link per pair of nodes. When both nodes dialled, each end sees two authenticated links and must
/// keep the same one without talking about it, so the choice depends only on what both ends know: the link
/// whose dialer has the ordinally smaller node name is kept. Two links dialled by the same node mean the dialer
/// gave up on the older one (it only re-dials a peer it considers down), so the newer is kept.
/// </summary>
internal static class LinkPairRule
{
    /// <summary>True if a new link dialled by <paramref name="candidateDialer"/> replaces the incumbent.</summary>
    public static bool Replaces(string candidateDialer, string incumbentDialer) =>
        string.CompareOrdinal(candidateDialer, incumbentDialer) <= 0;
}
