using Hibari.Rtc;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu.Spotlight;

/// <summary>
/// Spotlight on this node (D-37): every 100 ms, on the control context, each spotlight session's audio levels (sampled
/// from its audio publications, local and relayed) go to its <see cref="SpotlightSelector"/>; a new focus set is applied
/// to every receiver's subscriptions (<see cref="Connection.DesiredRidFor"/>) and told with `spotlight.*` notifies. The
/// spotlight APIs act on the same state. The timer runs only while some session has spotlight connections.
/// </summary>
internal sealed class SpotlightService : IDisposable
{
    public const int TickMillis = 100;

    private readonly SfuContext _ctx;
    private readonly object _gate;
    private readonly HashSet<Session> _rooms = [];
    private Timer? _timer;
    private readonly SfuCounters _counters;

    public SpotlightService(SfuContext ctx, SfuCounters counters)
    {
        _counters = counters;
        _ctx = ctx;
        _gate = ctx.Gate;
    }

    /// <summary>A connection joins (under the lock, before its subscriptions are made): a spotlight one opens the session's room.</summary>
    public void Joined(Connection c)
    {
        _ctx.AssertOwner();
        if (!c.Info.Spotlight) return;
        c.Session.Spotlight ??= new SpotlightRoom(c.Session.SpotlightNumber ?? c.Info.SpotlightNumber ?? 1);
        if (_rooms.Add(c.Session) && _timer is null)
            _timer = new Timer(_ => _ctx.Control.Post(Tick), null, TickMillis, TickMillis);
    }

    private void Tick()
    {
        lock (_gate)
        {
            var now = MediaClock.NowMicros();
            foreach (var session in _rooms.ToList())
            {
                if (session.Connections.Count == 0)
                {
                    session.Spotlight = null;
                    _rooms.Remove(session);
                    continue;
                }
                Update(session, now);
            }
            if (_rooms.Count == 0)
            {
                _timer?.Dispose();
                _timer = null;
            }
        }
    }

    /// <summary>Senders in, levels in, the selector's decision out. Under the lock.</summary>
    private void Update(Session session, long now)
    {
        var room = session.Spotlight!;
        var senders = Senders(session).ToDictionary(s => s.Info.ConnectionId, StringComparer.Ordinal);
        foreach (var id in senders.Keys) room.Selector.AddSender(id, now);
        foreach (var id in room.Focused.Concat(room.KnownSenders).Where(id => !senders.ContainsKey(id)).ToList())
            room.Selector.RemoveSender(id);
        room.KnownSenders.Clear();
        room.KnownSenders.UnionWith(senders.Keys);
        foreach (var (id, s) in senders)
            foreach (var p in s.Publications)
                if (p.Kind == Sdp.MediaKind.Audio && p.AudioLevelSample(now) is { } level)
                    room.Selector.OnAudioLevel(id, level.Level, level.Voice, now);
        // Across nodes one node decides (D-40); the others keep their selector fed (to take over) and apply its focus.
        if (session.Relay is { DecidesSpotlight: false }) return;
        Decide(session, now);
        if (session.Relay is { } relay && now - room.LastBroadcastMicros >= BroadcastMicros) Broadcast(session, relay, now);
    }

    /// <summary>The decider repeats its focus this often (a node that joined or missed a frame converges).</summary>
    public const long BroadcastMicros = 2_000_000;

    private static void Broadcast(Session session, IRelayFanout relay, long now)
    {
        var room = session.Spotlight!;
        room.LastBroadcastMicros = now;
        relay.SpotlightFocus(room.Selector.SpotlightNumber, room.Slots.Where(id => id is not null).Select(id => (id!, room.Selector.IsFixed(id!))).ToList());
    }

    /// <summary>
    /// The decider's focus arrived from another node (D-40): applied here as if decided here. Under the lock (control
    /// context). Ignored when this node has no spotlight session of that id or decides itself.
    /// </summary>
    public void ApplyRemote(SessionRegistry sessions, string sessionId, int number, IReadOnlyList<(string ConnectionId, bool Fixed)> focused)
    {
        lock (_gate)
        {
            if (sessions.ById.GetValueOrDefault(sessionId) is not { Spotlight: { } room } session) return;
            if (session.Relay is not { DecidesSpotlight: false }) return;
            if (number != room.Selector.SpotlightNumber) room.Selector.SpotlightNumber = Math.Clamp(number, 1, SpotlightSelector.MaxSpotlightNumber);
            // Only senders this node knows with their tracks, filtered before the room takes the set: one whose
            // ConnectionUp/TrackUp has not arrived yet would otherwise count as focused without its notifies ever being
            // sent; left out now, it is gained (and told) when the decider repeats its focus (every 2 s).
            var known = Senders(session).Select(s => s.Info.ConnectionId).ToHashSet(StringComparer.Ordinal);
            focused = focused.Where(f => known.Contains(f.ConnectionId)).ToList();
            var (gained, lost) = room.Apply(focused.Select(f => f.ConnectionId).ToList());
            Interlocked.Increment(ref _counters.SpotlightRemoteFocus);
            var fixedIds = focused.Where(f => f.Fixed).Select(f => f.ConnectionId).ToHashSet(StringComparer.Ordinal);
            Publish(session, gained, lost, id => fixedIds.Contains(id));
        }
    }

    /// <summary>Evaluates the selector and applies a change. Under the lock.</summary>
    private void Decide(Session session, long now)
    {
        var room = session.Spotlight!;
        if (!room.Selector.Evaluate(now, out var focused)) return;
        var (gained, lost) = room.Apply(focused);
        if (gained.Count == 0 && lost.Count == 0) return;
        Interlocked.Increment(ref _counters.SpotlightChanges);
        Publish(session, gained, lost, room.Selector.IsFixed);
        if (session.Relay is { } relay) Broadcast(session, relay, now);
    }

    /// <summary>A focus change: the receivers' subscriptions follow, and every connection with notifies is told. Under the lock.</summary>
    private void Publish(Session session, List<(string Id, int Slot)> gained, List<string> lost, Func<string, bool> isFixed)
    {
        if (gained.Count == 0 && lost.Count == 0) return;
        var room = session.Spotlight!;
        var changed = gained.Select(g => g.Id).Concat(lost).ToList();
        foreach (var c in session.Connections)
            if (c.Info.Spotlight)
                foreach (var id in changed) c.ApplyDesiredRids(id);
        var infos = Senders(session).ToDictionary(s => s.Info.ConnectionId, s => s.Info, StringComparer.Ordinal);
        _ctx.Log.LogDebug("Spotlight {Channel}: focused {Focused} (+{Gained} -{Lost})", session.ChannelId,
            string.Join(",", room.Focused), string.Join(",", gained.Select(g => g.Id)), string.Join(",", lost));
        foreach (var c in session.Connected)
        {
            if (!c.Info.SignalingNotify) continue;
            foreach (var id in lost)
                if (infos.TryGetValue(id, out var who)) c.Signaling.SendSpotlight("spotlight.unfocused", who, fixedFocus: false, slot: null);
            foreach (var (id, slot) in gained)
            {
                if (!infos.TryGetValue(id, out var who)) continue;
                var fixedFocus = isFixed(id);
                c.Signaling.SendSpotlight("spotlight.focused", who, fixedFocus, slot: null);
                c.Signaling.SendSpotlight("spotlight.changed", who, fixedFocus, slot);
            }
        }
    }

    /// <summary>The session's publishers here and on other nodes, with their tracks.</summary>
    private static IEnumerable<(ConnectionInfo Info, IReadOnlyList<Publication> Publications)> Senders(Session session) =>
        session.Connected.Where(c => c.Publications.Count > 0).Select(c => (c.Info, (IReadOnlyList<Publication>)c.Publications))
            .Concat(session.Remote.Values.Where(r => r.Publications.Count > 0).Select(r => (r.Info, (IReadOnlyList<Publication>)r.Publications)));

    // --- the spotlight APIs (D-37); false/null when the channel has no spotlight session or the connection is unknown ---

    private Session? Room(string channelId, SessionRegistry sessions) =>
        sessions.ByChannel.GetValueOrDefault(channelId) is { Spotlight: not null } s ? s : null;

    /// <summary>FocusSpotlight / FocusSpotlightFixed: the sender takes a focus at once (and keeps it, if fixed).</summary>
    public SpotlightResult Focus(SessionRegistry sessions, string channelId, string connectionId, bool @fixed)
    {
        lock (_gate)
        {
            if (Room(channelId, sessions) is not { } s) return SpotlightResult.NoChannel;
            var now = MediaClock.NowMicros();
            if (!IsSender(s, connectionId)) return SpotlightResult.NoConnection;
            if (s.Relay is { DecidesSpotlight: false }) return SpotlightResult.Ok; // the decider acts: the call reaches every owner (D-40)
            s.Spotlight!.Selector.AddSender(connectionId, now);
            s.Spotlight.KnownSenders.Add(connectionId);
            if (!s.Spotlight.Selector.Focus(connectionId, @fixed)) return SpotlightResult.Refused;
            Decide(s, now);
            return SpotlightResult.Ok;
        }
    }

    /// <summary>UnfocusSpotlight: the sender loses its focus (a fixed one too).</summary>
    public SpotlightResult Unfocus(SessionRegistry sessions, string channelId, string connectionId)
    {
        lock (_gate)
        {
            if (Room(channelId, sessions) is not { } s) return SpotlightResult.NoChannel;
            if (!IsSender(s, connectionId)) return SpotlightResult.NoConnection;
            if (s.Relay is { DecidesSpotlight: false }) return SpotlightResult.Ok;
            s.Spotlight!.Selector.Unfocus(connectionId);
            Decide(s, MediaClock.NowMicros());
            return SpotlightResult.Ok;
        }
    }

    /// <summary>
    /// The session.created webhook answered `spotlight_number` (D-55): the session's number from now on — its room
    /// changes at once if it exists, and a room opened later starts with it. False when the session is gone.
    /// </summary>
    public bool SetSessionNumber(SessionRegistry sessions, string channelId, string sessionId, int number)
    {
        lock (_gate)
        {
            if (!sessions.ByChannel.TryGetValue(channelId, out var s) || s.SessionId != sessionId) return false;
            s.SpotlightNumber = number;
            if (s.Spotlight is not null && s.Relay is not { DecidesSpotlight: false })
            {
                s.Spotlight.Selector.SpotlightNumber = number;
                Decide(s, MediaClock.NowMicros());
            }
            return true;
        }
    }

    /// <summary>ChangeSpotlightNumber (1–8).</summary>
    public SpotlightResult ChangeNumber(SessionRegistry sessions, string channelId, int number)
    {
        lock (_gate)
        {
            if (Room(channelId, sessions) is not { } s) return SpotlightResult.NoChannel;
            if (s.Relay is { DecidesSpotlight: false }) return SpotlightResult.Ok;
            s.Spotlight!.Selector.SpotlightNumber = number;
            Decide(s, MediaClock.NowMicros());
            return SpotlightResult.Ok;
        }
    }

    /// <summary>
    /// RequestSpotlightRid / ResetSpotlightRid / BatchRequestSpotlightRid: the rids a receiver gets from focused and
    /// unfocused senders, for every sender or one (<paramref name="senderId"/>); null rids = back to the connect's.
    /// </summary>
    public SpotlightResult RequestRid(SessionRegistry sessions, string channelId, string receiverId, string? senderId, string? focusRid, string? unfocusRid)
    {
        lock (_gate)
        {
            if (Room(channelId, sessions) is null) return SpotlightResult.NoChannel;
            if (!sessions.Connections.TryGetValue(receiverId, out var c) || c.Info.ChannelId != channelId || c.State == ConnectionState.Closed)
                return SpotlightResult.NoConnection;
            if (senderId is null)
            {
                c.SpotlightFocusRid = focusRid ?? c.Info.SpotlightFocusRid;
                c.SpotlightUnfocusRid = unfocusRid ?? c.Info.SpotlightUnfocusRid;
                c.SpotlightRidsBySender.Clear();
            }
            else if (focusRid is null || unfocusRid is null) c.SpotlightRidsBySender.Remove(senderId);
            else c.SpotlightRidsBySender[senderId] = (focusRid, unfocusRid);
            c.ApplyDesiredRids(senderId);
            return SpotlightResult.Ok;
        }
    }

    private static bool IsSender(Session s, string connectionId) =>
        Senders(s).Any(x => x.Info.ConnectionId == connectionId);

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }
}

/// <summary>What a spotlight API call found.</summary>
internal enum SpotlightResult { Ok, NoChannel, NoConnection, Refused }
