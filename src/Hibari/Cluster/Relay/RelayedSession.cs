using System.Collections.Concurrent;
using Hibari.Sdp;
using Hibari.Sfu;

namespace Hibari.Cluster.Relay;

/// <summary>
/// A session this node has a part of, and the peers it is relayed with. As the session's <see cref="IRelayFanout"/>
/// it sends each local packet once per joined peer (media thread), announcing a track (TrackUp) before its first packet
/// and only after its connection was announced to that peer.
/// </summary>
internal sealed class RelayedSession(RelayService relay, string channelId, string sessionId) : IRelayFanout
{
    private readonly Lock _gate = new();
    private string[] _joined = [];
    private readonly byte[] _id16 = Id16(sessionId);
    private readonly ConcurrentDictionary<(string Peer, string Connection), bool> _announcedConnections = new();
    private readonly ConcurrentDictionary<(string Peer, string Track), uint> _announcedTracks = new();

    public string ChannelId { get; } = channelId;
    public string SessionId { get; } = sessionId;
    public ConcurrentDictionary<string, DateTime> LastJoinSent { get; } = new(StringComparer.Ordinal);
    public string[] JoinedPeers => Volatile.Read(ref _joined);

    public bool IsJoined(string peer) => Array.IndexOf(JoinedPeers, peer) >= 0;

    public bool Join(string peer)
    {
        lock (_gate)
        {
            if (Array.IndexOf(_joined, peer) >= 0) return false;
            _joined = [.. _joined, peer];
            return true;
        }
    }

    public void Unjoin(string peer)
    {
        lock (_gate) _joined = _joined.Where(p => p != peer).ToArray();
        foreach (var k in _announcedConnections.Keys.Where(k => k.Peer == peer).ToList()) _announcedConnections.TryRemove(k, out _);
        foreach (var k in _announcedTracks.Keys.Where(k => k.Peer == peer).ToList()) _announcedTracks.TryRemove(k, out _);
        LastJoinSent.TryRemove(peer, out _);
    }

    public void ConnectionAnnounced(string peer, string connectionId) => _announcedConnections[(peer, connectionId)] = true;

    public void ForgetConnection(string peer, string connectionId)
    {
        _announcedConnections.TryRemove((peer, connectionId), out _);
        foreach (var k in _announcedTracks.Keys.Where(k => k.Peer == peer && k.Track.StartsWith(connectionId, StringComparison.Ordinal)).ToList())
            _announcedTracks.TryRemove(k, out _);
    }

    /// <summary>The publisher's sender report, to every joined peer that takes them and already knows the track.</summary>
    public void SenderReport(Publication publication, ulong ntp, uint rtp)
    {
        foreach (var peer in JoinedPeers)
        {
            var p = relay.Peer(peer);
            if ((p.Shared & RelayCapabilities.SenderReports) == 0) continue;
            if (!_announcedTracks.TryGetValue((peer, publication.TrackId), out var announced) || announced != publication.Ssrc) continue;
            relay.SendFrame(p, new RelaySenderReport(SessionId, publication.Ssrc, ntp, rtp));
        }
    }

    public void Relay(Publication publication, ReadOnlySpan<byte> packet)
    {
        var joined = JoinedPeers;
        if (joined.Length == 0 || publication.Ssrc == 0) return;
        var now = RelayProtocol.NowMicros();
        foreach (var peer in joined)
        {
            var p = relay.Peer(peer);
            if (p.Version is not { } v || !_announcedConnections.ContainsKey((peer, publication.ConnectionId))) continue;
            if (!_announcedTracks.TryGetValue((peer, publication.TrackId), out var announced) || announced != publication.Ssrc)
            {
                var up = new RelayTrackUp(SessionId, publication.ConnectionId, publication.TrackId, publication.Kind == MediaKind.Audio ? (byte)0 : (byte)1,
                    publication.Ssrc, publication.RtxSsrc, RelayService.FrameCodec(publication.Codec));
                if (!relay.SendFrame(p, up)) continue;
                _announcedTracks[(peer, publication.TrackId)] = publication.Ssrc;
            }
            relay.SendRtp(p, publication.Worker, _id16, publication.Ssrc, now, packet, v);
        }
    }

    private static byte[] Id16(string sessionId)
    {
        var b = new byte[16];
        Signaling.Messages.SoraId.TryDecode(sessionId, b);
        return b;
    }
}
