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
    // Per peer and simulcast track (layer 0's SSRC): the layers that node needs (LayerDemand, D-39); r0 until it says.
    private readonly ConcurrentDictionary<(string Peer, uint Ssrc), byte> _demand = new();
    // Per peer and simulcast track: the layer SSRCs its last TrackLayers named (0 = not sent by the publisher yet).
    private readonly ConcurrentDictionary<(string Peer, string Track), UInt128> _announcedLayers = new();

    private static UInt128 LayerSsrcs(Publication[] layers)
    {
        UInt128 key = 0;
        foreach (var l in layers) key = (key << 32) | l.Ssrc;
        return key;
    }

    /// <summary>A peer's layer needs for the simulcast track announced with <paramref name="ssrc"/> (control context).</summary>
    public void SetDemand(string peer, uint ssrc, byte mask) => _demand[(peer, ssrc)] = mask;

    /// <summary>
    /// Whether layer <paramref name="layer"/> of a simulcast track goes to <paramref name="peer"/>: one of the layers it
    /// needs, or, for a needed layer that does not flow here, the one a local receiver would fall back to (the best lower
    /// flowing layer, else the lowest higher one) — the same choice <see cref="Subscription"/> makes (D-35, D-39).
    /// </summary>
    private bool Wanted(string peer, Publication layer, long nowMicros)
    {
        var layers = layer.Layers!;
        var mask = _demand.TryGetValue((peer, layers[0].Ssrc), out var m) ? m : (byte)1;
        for (var want = 0; want < layers.Length; want++)
        {
            if ((mask & (1 << want)) == 0) continue;
            var sent = want;
            if (!Subscription.Flows(layers[want], nowMicros))
            {
                sent = -1;
                for (var i = want - 1; i >= 0 && sent < 0; i--) if (Subscription.Flows(layers[i], nowMicros)) sent = i;
                for (var i = want + 1; i < layers.Length && sent < 0; i++) if (Subscription.Flows(layers[i], nowMicros)) sent = i;
            }
            if (sent == layer.LayerIndex) return true;
        }
        return false;
    }
    public string ChannelId { get; } = channelId;
    public string SessionId { get; } = sessionId;
    public ConcurrentDictionary<string, DateTime> LastJoinSent { get; } = new(StringComparer.Ordinal);
    public string[] JoinedPeers => Volatile.Read(ref _joined);

    public bool IsJoined(string peer) => Array.IndexOf(JoinedPeers, peer) >= 0;

    /// <inheritdoc/>
    public bool DecidesSpotlight
    {
        get
        {
            foreach (var peer in JoinedPeers)
                if ((relay.Peer(peer).Shared & RelayCapabilities.Spotlight) != 0 && string.CompareOrdinal(peer, relay.NodeName) < 0) return false;
            return true;
        }
    }

    /// <inheritdoc/>
    public void SpotlightFocus(int number, IReadOnlyList<(string ConnectionId, bool Fixed)> focused)
    {
        var frame = new RelaySpotlightFocus(SessionId, (byte)Math.Clamp(number, 1, RelayFrames.MaxFocus),
            focused.Take(RelayFrames.MaxFocus).Select(f => new RelayFocus(f.ConnectionId, f.Fixed)).ToList());
        foreach (var peer in JoinedPeers)
        {
            var p = relay.Peer(peer);
            if ((p.Shared & RelayCapabilities.Spotlight) != 0) relay.SendFrame(p, frame);
        }
    }

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
        foreach (var k in _demand.Keys.Where(k => k.Peer == peer).ToList()) _demand.TryRemove(k, out _);
        foreach (var k in _announcedLayers.Keys.Where(k => k.Peer == peer).ToList()) _announcedLayers.TryRemove(k, out _);
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
            // A simulcast layer above r0 is relayed (and reported) with its own SSRC only where layers are shared (D-39).
            var track = publication.Layers is { } layers ? layers[0] : publication;
            if (publication.LayerIndex > 0 && (p.Shared & RelayCapabilities.SimulcastLayers) == 0) continue;
            if (!_announcedTracks.TryGetValue((peer, track.TrackId), out var announced) || announced != track.Ssrc) continue;
            relay.SendFrame(p, new RelaySenderReport(SessionId, publication.Ssrc, ntp, rtp));
        }
    }

    /// <summary>
    /// A local packet (the publication's worker). A simulcast track goes to peers sharing
    /// <see cref="RelayCapabilities.SimulcastLayers"/> layer by layer, each with its own SSRC and only the layers the peer
    /// needs (D-39); to the others as its layer 0 only (D-35).
    /// </summary>
    public void Relay(Publication publication, ReadOnlySpan<byte> packet)
    {
        var joined = JoinedPeers;
        if (joined.Length == 0 || publication.Ssrc == 0) return;
        var now = RelayProtocol.NowMicros();
        var mediaNow = publication.LastPacketMicros;
        var track = publication.Layers is { } layers ? layers[0] : publication;
        foreach (var peer in joined)
        {
            var p = relay.Peer(peer);
            if (p.Version is not { } v || !_announcedConnections.ContainsKey((peer, publication.ConnectionId))) continue;
            var layered = publication.Layers is not null && (p.Shared & RelayCapabilities.SimulcastLayers) != 0;
            // Announced whatever the peer needs now: it can only say what it needs of a track it knows.
            if (!_announcedTracks.TryGetValue((peer, track.TrackId), out var announced) || announced != track.Ssrc)
            {
                if (track.Ssrc == 0 || !Announce(p, track, layered)) continue;
                _announcedTracks[(peer, track.TrackId)] = track.Ssrc;
                _demand.TryRemove((peer, track.Ssrc), out _); // a new announcement: layer 0 until the peer says again
            }
            else if (layered && _announcedLayers.TryGetValue((peer, track.TrackId), out var named) && named != LayerSsrcs(track.Layers!))
            {
                // A layer the publisher had not sent when the track was announced has its SSRC now: named again.
                if (!SendLayers(p, track)) continue;
            }
            if (publication.Layers is not null && (layered ? !Wanted(peer, publication, mediaNow) : publication.LayerIndex != 0)) continue;
            if (relay.SendRtp(p, publication.Worker, _id16, publication.Ssrc, now, packet, v) && publication.Rid is not null && publication.LayerIndex < 3)
                Interlocked.Increment(ref p.LayerRtpSent[publication.LayerIndex]);
        }
    }

    /// <summary>TrackUp for a track (layer 0 of a simulcast one), preceded by its TrackLayers where layers are shared.</summary>
    private bool Announce(RelayPeer p, Publication track, bool layered)
    {
        if (layered && !SendLayers(p, track)) return false;
        var up = new RelayTrackUp(SessionId, track.ConnectionId, track.TrackId, track.Kind == MediaKind.Audio ? (byte)0 : (byte)1,
            track.Ssrc, track.RtxSsrc, RelayService.FrameCodec(track.Codec));
        return relay.SendFrame(p, up);
    }

    /// <summary>
    /// TrackLayers: every layer with its SSRC, 0 for one the publisher has not sent yet (a browser starts its top layer
    /// once its bandwidth allows; sent again when it appears). Remembers what it named.
    /// </summary>
    private bool SendLayers(RelayPeer p, Publication track)
    {
        var layers = track.Layers!;
        var list = layers.Select(l => new RelayLayer(l.Rid ?? $"r{l.LayerIndex}", l.Ssrc, l.RtxSsrc)).ToList();
        if (!relay.SendFrame(p, new RelayTrackLayers(SessionId, track.ConnectionId, track.TrackId, list))) return false;
        _announcedLayers[(p.Name, track.TrackId)] = LayerSsrcs(layers);
        return true;
    }

    private static byte[] Id16(string sessionId)
    {
        var b = new byte[16];
        Signaling.Messages.SoraId.TryDecode(sessionId, b);
        return b;
    }
}
