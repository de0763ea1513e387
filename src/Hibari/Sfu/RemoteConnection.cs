namespace Hibari.Sfu;

/// <summary>
/// A connection of a relayed session on another node: what notifies and offers need of it, and its tracks here.
/// Changed under the SFU's topology lock (<c>SfuEngine._gate</c>); its publications live on their media workers.
/// </summary>
internal sealed class RemoteConnection(ConnectionInfo info, string node)
{
    /// <summary>Replaced (under the engine's lock) when the connection's metadata-extension value changes (D-52).</summary>
    public ConnectionInfo Info { get; set; } = info;
    public string Node { get; } = node;
    public List<Publication> Publications { get; } = [];
}
