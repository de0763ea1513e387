using System.Net;
using Hibari.Cluster.State;
using Hibari.Config;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Transport;
using Hibari.Sdp;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>Why the SFU refuses a connect before it has an offer (mapped to close codes by the signaling layer).</summary>
public enum AdmissionRefusal { None, BlockNewConnection, BlockNewSession, MaxConnections }

/// <summary>
/// The node's SFU (mediasoup's Routers): sessions by channel, their connections, the media workers and the DTLS
/// certificate. Topology changes (join, answer, leave) take one lock; packets never do — they stay on the media
/// workers (<see cref="MediaWorker"/>), each of which owns the connections placed on it. Facts from the workers reach
/// this class through its control queue, never on a worker's thread (docs/threads.md).
/// </summary>
public sealed class SfuEngine : IDisposable
{
    private static readonly TimeSpan DtlsHandshakeTimeout = TimeSpan.FromSeconds(20);

    private readonly HibariOptions _options;
    private readonly Func<string> _mode;
    private readonly ILogger _log;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Connection> _connections = new(StringComparer.Ordinal);
    private readonly Dictionary<Connection, OfferSpec> _lastOffer = [];
    private readonly Dictionary<string, Session> _sessionsById = new(StringComparer.Ordinal);
    // Relayed tracks by (session, publisher SSRC): written under the lock, read by relay link readers without it.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(UInt128, uint), Publication> _relayed = new();
    // Connections per media worker (under the lock): a new connection goes to the least loaded one.
    private int[] _workerLoad = [];
    private SfuCounters[] _workerCounters = [];
    private readonly ControlQueue _control;
    private readonly Random _random = new();
    private readonly ulong _sdpSessionBase = (ulong)Random.Shared.NextInt64(1, long.MaxValue / 2);
    private readonly ISessionStore _store;
    private readonly Messaging.MessageRouter _messages;
    private MediaWorkers? _workers;
    private DtlsCertificate? _certificate;
    private IPAddress _candidateAddress = IPAddress.Loopback;

    public SfuEngine(HibariOptions options, Func<string> mode, ILoggerFactory loggerFactory, TimeProvider? time = null,
        ISessionStore? sessions = null)
    {
        _store = sessions ?? LocalSessionStore.Instance;
        _options = options;
        _mode = mode;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger("Hibari.Sfu");
        _time = time ?? TimeProvider.System;
        _messages = new Messaging.MessageRouter(Counters, loggerFactory.CreateLogger("Hibari.Messaging"));
        _control = new ControlQueue(_log);
    }

    /// <summary>Where local clients' messaging messages go besides this node (the relay, issue 6).</summary>
    public Messaging.IMessageRelay? MessageRelay
    {
        get => _messages.Relay;
        set => _messages.Relay = value;
    }

    /// <summary>Counters kept off the media workers (DTLS failures, messaging, client stats); see <see cref="CountersSnapshot"/> for the node's totals.</summary>
    public SfuCounters Counters { get; } = new();
    public MediaWorkers Workers => _workers ?? throw new InvalidOperationException("SFU not started");

    /// <summary>The node's media counters: the control side's plus every worker's (each written by its worker only).</summary>
    public SfuCounters CountersSnapshot()
    {
        var sum = new SfuCounters();
        sum.Add(Counters);
        foreach (var c in _workerCounters) sum.Add(c);
        return sum;
    }
    public string Fingerprint => _certificate?.Fingerprint ?? "";

    /// <summary>A session was created on this node (first connection of a channel): session.created webhook.</summary>
    public event Action<SessionEvent>? SessionCreated;
    /// <summary>A session ended, session_destroy_delay_ms after its last connection left: session.destroyed webhook.</summary>
    public event Action<SessionEvent>? SessionDestroyed;
    /// <summary>This node joined or created a channel's session (it has or will have clients of it): (channel, session).</summary>
    public event Action<string, string>? SessionOpened;
    /// <summary>This node's part of a session ended (no connections here or on relayed nodes for the destroy delay).</summary>
    public event Action<string, string>? SessionClosed;
    /// <summary>A connection became connected (ICE + DTLS up): event webhook connection.created.</summary>
    public event Action<ConnectionInfo>? ConnectionCreated;
    /// <summary>A connection ended (after it was created, or while it was being set up when <c>failed</c> is true).</summary>
    public event Action<ConnectionInfo, string, bool>? ConnectionDestroyed;

    public void Start()
    {
        Directory.CreateDirectory(_options.DataDir);
        _certificate = DtlsCertificate.LoadOrCreate(_options.DataDir);
        var warm = DtlsWarmup.Run(); // docs/protocol-notes.md, "DTLS pitfalls" 7: the first handshake pays the JIT
        _log.LogInformation("DTLS warm-up handshake took {Ms} ms", (int)warm.TotalMilliseconds);
        _candidateAddress = _options.RtcPublicAddress ?? _options.ListenAddress;
        if (_candidateAddress.Equals(IPAddress.Any) || _candidateAddress.Equals(IPAddress.IPv6Any))
            throw new InvalidOperationException("listen_address is a wildcard: set rtc_public_address to the IP clients reach");
        var count = _options.MediaWorkers;
        _workers = new MediaWorkers(_options.ListenAddress, _options.RtcUdpPort, count, _loggerFactory, _time);
        _workerCounters = Enumerable.Range(0, count).Select(_ => new SfuCounters()).ToArray();
        _workerLoad = new int[count];
        _workers.Start();
        _log.LogInformation("Media: {Count} worker(s) on udp {EndPoints}, candidates advertise {Address}", count,
            string.Join(", ", _workers.All.Select(w => w.LocalEndPoint.ToString())), _candidateAddress);
    }

    /// <summary>Connections on this node, set up or connected (what license_max_connections limits, C-PLACE-0).</summary>
    public int ConnectionCount { get { lock (_gate) return _connections.Count; } }
    public int SessionCount { get { lock (_gate) return _sessions.Count; } }

    /// <summary>Mode and licence checks before anything else happens (C-PLACE-0, C-MODE).</summary>
    public AdmissionRefusal Admit(string channelId)
    {
        var mode = _mode();
        if (mode == NodeModes.BlockNewConnection) return AdmissionRefusal.BlockNewConnection;
        lock (_gate)
        {
            if (mode == NodeModes.BlockNewSession && !_sessions.ContainsKey(channelId)) return AdmissionRefusal.BlockNewSession;
            if (_connections.Count >= _options.LicenseMaxConnections) return AdmissionRefusal.MaxConnections;
        }
        return AdmissionRefusal.None;
    }

    /// <summary>The channel's current session id on this node, if any (for the auth webhook).</summary>
    public string? SessionIdOf(string channelId)
    {
        lock (_gate) return _sessions.GetValueOrDefault(channelId)?.SessionId;
    }

    /// <summary>Connections per channel on this node (for the cluster's load reports).</summary>
    public Dictionary<string, int> ChannelConnectionCounts()
    {
        lock (_gate)
        {
            var d = new Dictionary<string, int>(_sessions.Count, StringComparer.Ordinal);
            foreach (var (channel, session) in _sessions) d[channel] = session.Connections.Count;
            return d;
        }
    }

    public ChannelCounts CountsOf(string channelId)
    {
        lock (_gate) return _sessions.GetValueOrDefault(channelId)?.Counts() ?? default;
    }

    /// <summary>
    /// Makes sure the channel has a session on this node: joins the channel's session in the store (creating it there
    /// if the channel has none), or reports the node that holds it when it may not span nodes. Cancels a pending
    /// destroy. Raises <see cref="SessionCreated"/> when this created the session.
    /// </summary>
    public async Task<SessionJoin> EnsureSessionAsync(string channelId, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(channelId, out var local))
            {
                local.PendingDestroy?.Cancel();
                local.PendingDestroy = null;
                return new SessionJoin(local.SessionId, false, null);
            }
        }
        var join = await _store.JoinAsync(channelId, Signaling.Messages.SoraId.New(), ct).ConfigureAwait(false);
        if (join.SessionId is not { } id) return join;
        lock (_gate)
        {
            // Two connects of this node may race here; the store gave both the same id.
            if (_sessions.TryGetValue(channelId, out var local)) return new SessionJoin(local.SessionId, false, null);
            var opened = new Session(channelId, id, _time.GetUtcNow());
            _sessions[channelId] = opened;
            _sessionsById[id] = opened;
        }
        SessionOpened?.Invoke(channelId, id);
        if (join.Created) SessionCreated?.Invoke(new SessionEvent(channelId, id, _time.GetUtcNow(), null, 0, 0));
        return join;
    }

    /// <summary>
    /// Joins the channel's session (see <see cref="EnsureSessionAsync"/>) and builds the connection's first offer: its own sending m-lines,
    /// the data-channel m-line, and one m-line per track of every connected publisher it may receive.
    /// </summary>
    public JoinResult Join(ConnectionInfo requested, IConnectionSignaling signaling)
    {
        // The codec must be one the client's throw-away offer shows it can do (none sent: trust the request).
        var client = requested.ClientSdp is { } clientSdp ? ClientOfferReader.Read(clientSdp).Value : null;
        RtpCodec? audioCodec = null, videoCodec = null;
        if (requested.Publishes && requested.Audio)
        {
            var a = CodecCatalog.Select(requested.AudioCodecType ?? "OPUS", client);
            if (!a.IsOk) return JoinResult.Fail(a.Error!);
            audioCodec = a.Value;
        }
        if (requested.Publishes && requested.Video)
        {
            var v = CodecCatalog.Select(requested.VideoCodecType ?? _options.DefaultVideoCodecType, client);
            if (!v.IsOk) return JoinResult.Fail(v.Error!);
            videoCodec = v.Value;
        }
        var now = _time.GetUtcNow();
        Connection connection;
        string sdp;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(requested.ChannelId, out var session))
                return JoinResult.Fail("the channel has no session on this node (call EnsureSessionAsync first)", noSession: true);
            session.PendingDestroy?.Cancel();
            session.PendingDestroy = null;
            var info = requested with { SessionId = session.SessionId, CreatedAt = now };
            var bitrate = (uint)Math.Max(100, (info.VideoBitRate ?? _options.DefaultVideoBitRate) + (info.AudioBitRate ?? 64)) * 1000;
            var worker = LeastLoadedWorker();
            _workerLoad[worker.Index]++;
            var transport = new PeerTransport(info.ConnectionId, worker, _certificate!, _workerCounters[worker.Index], _log, SfuIds.Ssrc(), bitrate);
            connection = new Connection(info, session, signaling, transport, audioCodec, videoCodec);
            if (audioCodec is not null) connection.AudioSection = connection.Layout.AddClientSend(MediaKind.Audio);
            if (videoCodec is not null) connection.VideoSection = connection.Layout.AddClientSend(MediaKind.Video);
            connection.Layout.AddApplication();
            if (info.Receives) SyncLayout(connection);
            session.Connections.Add(connection);
            session.TotalConnections++;
            session.MaxConnections = Math.Max(session.MaxConnections, session.Connections.Count);
            _connections[info.ConnectionId] = connection;
            sdp = WriteOffer(connection);
        }
        // Facts from the worker (or a DTLS pool thread) are handled in the control context, never on the worker.
        connection.Transport.Connected += (t, e) => _control.Post(() => OnTransportConnected(t, e));
        connection.Transport.Lost += t => _control.Post(() => Leave(t.ConnectionId, "ICE-CONSENT-EXPIRED"));
        connection.Transport.DtlsClosed += t => _control.Post(() => Leave(t.ConnectionId, "DTLS-CLOSED"));
        connection.Transport.DataChannelsCreated = dc => AttachDataChannels(connection, dc);
        return new JoinResult(connection, sdp, null);
    }

    /// <summary>Applies the client's answer: learns its SSRCs and fingerprint, starts ICE and the DTLS server.</summary>
    public string? ApplyAnswer(Connection connection, string sdp)
    {
        lock (_gate)
        {
            if (connection.State != ConnectionState.Offered) return "answer in the wrong state";
            var offer = _lastOffer[connection];
            var read = SdpAnswerReader.Read(sdp, offer);
            if (!read.IsOk) return read.Error;
            var answer = read.Value!;
            if (!answer.Fingerprint.Algorithm.Equals("sha-256", StringComparison.OrdinalIgnoreCase))
                return $"fingerprint algorithm {answer.Fingerprint.Algorithm} is not supported (sha-256 expected)";
            connection.State = ConnectionState.Answered;
            CreatePublications(connection, answer);
            ActivateSubscriptions(connection, answer);
            connection.Transport.StartDtls(answer.IceUfrag, answer.Fingerprint.Value, DtlsHandshakeTimeout);
            return null;
        }
    }

    /// <summary>Applies a re-answer: activates the m-lines it accepted, then sends the next re-offer if changes piled up.</summary>
    public string? ApplyReAnswer(Connection connection, string sdp)
    {
        lock (_gate)
        {
            if (connection.State != ConnectionState.Connected || !connection.AwaitingReAnswer) return null; // stale: ignore
            var read = SdpAnswerReader.Read(sdp, _lastOffer[connection]);
            if (!read.IsOk) return read.Error;
            connection.AwaitingReAnswer = false;
            ActivateSubscriptions(connection, read.Value!);
            if (connection.Dirty) Renegotiate(connection);
            return null;
        }
    }

    private void CreatePublications(Connection c, AnswerInfo answer)
    {
        foreach (var (section, codec) in new[] { (c.AudioSection, c.AudioCodec), (c.VideoSection, c.VideoCodec) })
        {
            if (section is null || codec is null) continue;
            var answered = answer.Section(section.Mid);
            if (answered is null || answered.Rejected || answered.Direction is MediaDirection.Inactive or MediaDirection.RecvOnly) continue;
            var p = new Publication(c.Transport, c.Transport.Worker, c.ConnectionId, section.Mid, section.Kind, codec,
                $"{c.ConnectionId}-{section.Kind.Name()}", workerCount: Workers.Count)
            {
                LocalSession = c.Session,
                BitrateKbps = section.Kind == MediaKind.Video ? c.Info.VideoBitRate ?? _options.DefaultVideoBitRate : c.Info.AudioBitRate ?? 64,
            };
            if (answered.Ssrcs.Count > 0)
            {
                p.LatchSsrc(answered.Ssrcs[0].Media);
                if (answered.Ssrcs[0].Rtx is { } rtx) p.RtxSsrc = rtx;
            }
            c.Publications.Add(p);
            c.Transport.Worker.Post(() => c.Transport.AddPublication(p));
        }
    }

    private void ActivateSubscriptions(Connection c, AnswerInfo answer)
    {
        foreach (var s in c.Layout.Sections)
        {
            if (s.Subscription is not { } sub) continue;
            var answered = answer.Section(s.Mid);
            if (answered is null || answered.Rejected) continue;
            var rtx = sub.Publication.Codec.RtxPayloadType is { } pt && answered.PayloadTypes.Contains(pt);
            c.Transport.Worker.Post(() =>
            {
                sub.RtxAccepted = rtx;
                if (sub.Active) return;
                sub.Active = true;
                sub.Publication.RequestKeyFrame(MediaClock.NowMicros());
            });
        }
    }

    private void OnTransportConnected(PeerTransport transport, Exception? error)
    {
        Connection? c;
        lock (_gate) c = _connections.GetValueOrDefault(transport.ConnectionId);
        if (c is null) return;
        if (error is not null)
        {
            _log.LogInformation("Connection {Id}: DTLS failed: {Error}", c.ConnectionId, error.Message);
            Leave(c.ConnectionId, "DTLS-FAILED");
            return;
        }
        List<(Connection To, bool Self)> notify = [];
        ChannelCounts counts;
        List<ConnectionInfo> present;
        lock (_gate)
        {
            if (c.State != ConnectionState.Answered) return;
            c.State = ConnectionState.Connected;
            c.ConnectedAt = _time.GetUtcNow();
            var session = c.Session;
            session.ConnectedSnapshot = session.Connected.ToArray();
            counts = session.Counts();
            present = session.Connected.Where(o => o != c).Select(o => o.Info).ToList();
            foreach (var other in session.Connected)
            {
                if (other != c && SeesEachOther(c, other)) Renegotiate(other);
                notify.Add((other, other == c));
            }
            // Publishers that connected while this one was being set up.
            if (c.Info.Receives) Renegotiate(c);
        }
        foreach (var (to, self) in notify)
        {
            if (!to.Info.SignalingNotify) continue;
            to.Signaling.SendConnectionCreated(c.Info, counts, self ? present : null, 0);
        }
        ConnectionCreated?.Invoke(c.Info);
    }

    // --- data channels (media thread) ---

    /// <summary>
    /// Once SCTP is up the node opens the connection's channels: the system labels for data-channel signaling, and
    /// each messaging label with its reliability. Messages on system labels go to signaling; `#` labels to messaging.
    /// A connection that signals over data channels ends when they go.
    /// </summary>
    private void AttachDataChannels(Connection c, PeerDataChannels dc)
    {
        dc.Established += () => dc.OpenAll(ChannelsToOpen(c.Info));
        dc.AllOpen += c.Signaling.DataChannelsOpen;
        dc.MessageReceived += (label, message) =>
        {
            if (DataChannelLabels.IsMessaging(label))
            {
                _messages.FromClient(c, label, message);
                return;
            }
            if (!DataChannelLabels.IsSystem(label) || !dc.Has(label)) return;
            var data = message.Data;
            if (c.Info.DataChannel(label)?.Compress == true && !Messaging.Zlib.TryDecompress(data, PeerDataChannels.MaxMessageSize, out data))
            {
                _log.LogDebug("Connection {Id}: a message on {Label} is not a zlib stream: dropped", c.ConnectionId, label);
                return;
            }
            c.Signaling.DataChannelMessage(label, data);
        };
        dc.ChannelClosed += label =>
        {
            // The SDKs treat any of their channels closing as the end of the connection; so does the node.
            if (c.Info.DataChannelSignaling && DataChannelLabels.IsSystem(label) && !dc.Closing)
                _control.Post(() => Leave(c.ConnectionId, "DATA-CHANNEL-CLOSED"));
        };
        dc.Closed += reason =>
        {
            _log.LogInformation("Connection {Id}: SCTP association closed: {Reason}", c.ConnectionId, reason);
            if (c.Info.DataChannelSignaling) _control.Post(() => Leave(c.ConnectionId, "DATA-CHANNEL-CLOSED"));
        };
    }

    private static List<(string, Rtc.DataChannels.DataChannelOptions)> ChannelsToOpen(ConnectionInfo info)
    {
        var list = new List<(string, Rtc.DataChannels.DataChannelOptions)>();
        if (info.DataChannelSignaling)
            foreach (var label in DataChannelLabels.System) list.Add((label, new Rtc.DataChannels.DataChannelOptions()));
        foreach (var d in info.DataChannels)
        {
            if (!d.IsMessaging) continue;
            list.Add((d.Label, new Rtc.DataChannels.DataChannelOptions
            {
                Ordered = d.Ordered,
                MaxRetransmits = d.MaxRetransmits,
                MaxPacketLifeTimeMs = d.MaxPacketLifeTime,
                Protocol = d.Protocol ?? "",
            }));
        }
        return list;
    }

    /// <summary>Sends a signaling JSON message on one of the connection's system channels (compressed if that label is). Any thread.</summary>
    public void SendOnDataChannel(Connection c, string label, byte[] utf8)
    {
        var compress = c.Info.DataChannel(label)?.Compress == true;
        c.Transport.Worker.Post(() =>
        {
            if (c.Transport.DataChannels is not { } dc) return;
            var ok = compress ? dc.Send(label, Messaging.Zlib.Compress(utf8), binary: true) : dc.Send(label, utf8, binary: false);
            if (!ok) _log.LogInformation("Connection {Id}: a signaling message on {Label} could not be sent (channel not open or full)", c.ConnectionId, label);
        });
    }

    /// <summary>
    /// Closes the connection's data channels by stream reset and waits (at most <paramref name="timeout"/>) until the
    /// client closed them too: how Sora answers a `disconnect` on DC:signaling (the SDK waits for every channel's close).
    /// </summary>
    public async Task CloseDataChannelsAsync(Connection c, TimeSpan timeout)
    {
        var closed = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        c.Transport.Worker.Post(() => closed.TrySetResult(c.Transport.DataChannels?.CloseChannels() ?? Task.CompletedTask));
        try
        {
            var all = await closed.Task.WaitAsync(timeout).ConfigureAwait(false);
            await all.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogDebug("Connection {Id}: data channels not all closed within {Ms} ms", c.ConnectionId, (int)timeout.TotalMilliseconds);
        }
    }

    /// <summary>Whether two connections exchange media: not themselves, not the same bundle_id (docs/protocol-notes.md, "Identifiers and terms").</summary>
    private static bool SeesEachOther(Connection a, Connection b) => a != b && a.Info.BundleId != b.Info.BundleId;

    /// <summary>Sends a re-offer if the connection's layout changed, or remembers to once the pending re-answer arrives.</summary>
    private void Renegotiate(Connection c)
    {
        if (c.State != ConnectionState.Connected || !c.Info.Receives) return;
        if (c.AwaitingReAnswer)
        {
            c.Dirty = true;
            return;
        }
        c.Dirty = false;
        if (!SyncLayout(c)) return;
        c.AwaitingReAnswer = true;
        c.Signaling.SendReOffer(WriteOffer(c));
    }

    private bool SyncLayout(Connection c)
    {
        var wanted = c.Session.Connected.Where(o => SeesEachOther(c, o)).SelectMany(o => o.Publications)
            .Concat(c.Session.Remote.Values.Where(r => r.Info.BundleId != c.Info.BundleId).SelectMany(r => r.Publications)).ToList();
        return c.Layout.Sync(wanted,
            (p, mid) =>
            {
                var sub = new Subscription(p, c.Transport, mid, SfuIds.Ssrc(), p.Codec.RtxPayloadType is null ? 0 : SfuIds.Ssrc(), _random);
                c.Transport.Worker.Post(() => c.Transport.AddSubscription(sub));
                return sub;
            },
            sub => c.Transport.Worker.Post(() => c.Transport.RemoveSubscription(sub)));
    }

    private string WriteOffer(Connection c)
    {
        var sections = new List<OfferSection>();
        foreach (var s in c.Layout.Sections)
        {
            switch (s.Use)
            {
                case SectionUse.Application:
                    sections.Add(new OfferSection { Mid = s.Mid, Kind = MediaKind.Application, Direction = MediaDirection.SendRecv });
                    break;
                case SectionUse.ClientSend:
                    var codec = s.Kind == MediaKind.Audio ? c.AudioCodec! : c.VideoCodec!;
                    sections.Add(new OfferSection { Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.RecvOnly, Codecs = [codec] });
                    break;
                case SectionUse.ServerSend when s.Subscription is { } sub:
                    sections.Add(new OfferSection
                    {
                        Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.SendOnly, Codecs = [sub.Publication.Codec],
                        Stream = new OfferedStream(sub.Ssrc, sub.RtxSsrc == 0 ? null : sub.RtxSsrc, sub.Publication.ConnectionId,
                            sub.Publication.ConnectionId, sub.Publication.TrackId),
                    });
                    break;
                default:
                    sections.Add(new OfferSection { Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.Inactive, Rejected = true,
                        Codecs = [s.LastCodec ?? (s.Kind == MediaKind.Audio ? CodecCatalog.Opus : CodecCatalog.Vp8)] });
                    break;
            }
        }
        var spec = new OfferSpec
        {
            SessionId = _sdpSessionBase + (ulong)(uint)c.ConnectionId.GetHashCode(),
            SessionVersion = (ulong)c.Layout.Version,
            IceUfrag = c.Transport.LocalUfrag,
            IcePwd = c.Transport.LocalPassword,
            Fingerprint = new SdpFingerprint("sha-256", _certificate!.Fingerprint),
            CandidateAddress = _candidateAddress,
            CandidatePort = c.Transport.Worker.LocalEndPoint.Port,
            Sections = sections,
        };
        _lastOffer[c] = spec;
        return SfuOffer.Write(spec);
    }

    /// <summary>Ends a connection (client disconnect, WebSocket gone, API, ICE/DTLS failure); idempotent.</summary>
    public void Leave(string connectionId, string reason)
    {
        Connection? c;
        List<Connection> others = [];
        ChannelCounts counts;
        bool wasConnected;
        Session session;
        lock (_gate)
        {
            if (!_connections.Remove(connectionId, out c)) return;
            _lastOffer.Remove(c);
            wasConnected = c.State == ConnectionState.Connected;
            c.State = ConnectionState.Closed;
            c.DisconnectReason = reason;
            session = c.Session;
            session.Connections.Remove(c);
            session.ConnectedSnapshot = session.Connected.ToArray();
            foreach (var p in c.Publications) p.Worker.Post(p.Close);
            _workerLoad[c.Transport.Worker.Index]--;
            foreach (var other in session.Connected)
            {
                others.Add(other);
                if (wasConnected && SeesEachOther(c, other)) Renegotiate(other);
            }
            counts = session.Counts();
            if (session.Connections.Count == 0) ScheduleDestroy(session);
        }
        c.Transport.Dispose();
        if (wasConnected)
        {
            foreach (var o in others)
                if (o.Info.SignalingNotify) o.Signaling.SendConnectionDestroyed(c.Info, counts, Minutes(c));
        }
        c.Signaling.Ended(reason);
        ConnectionDestroyed?.Invoke(c.Info, reason, !wasConnected);
    }

    // Under the lock.
    private MediaWorker LeastLoadedWorker()
    {
        var best = 0;
        for (var i = 1; i < _workerLoad.Length; i++)
            if (_workerLoad[i] < _workerLoad[best]) best = i;
        return Workers[best];
    }

    private int Minutes(Connection c) => c.ConnectedAt is { } t ? (int)(_time.GetUtcNow() - t).TotalMinutes : 0;

    private void ScheduleDestroy(Session session)
    {
        var cts = new CancellationTokenSource();
        session.PendingDestroy = cts;
        _ = DestroyLaterAsync(session, cts.Token);
    }

    private async Task DestroyLaterAsync(Session session, CancellationToken ct)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(_options.SessionDestroyDelayMs), _time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        SessionEvent e;
        lock (_gate)
        {
            if (ct.IsCancellationRequested || session.Connections.Count > 0) return;
            if (_sessions.GetValueOrDefault(session.ChannelId) != session) return;
            // C-RELAY-3: a relayed session lives on here while it has connections on other nodes.
            if (session.Remote.Count > 0) { ScheduleDestroy(session); return; }
            _sessions.Remove(session.ChannelId);
            _sessionsById.Remove(session.SessionId);
            e = new SessionEvent(session.ChannelId, session.SessionId, session.CreatedAt, _time.GetUtcNow(), session.TotalConnections, session.MaxConnections);
        }
        SessionClosed?.Invoke(session.ChannelId, session.SessionId); // this node's part is gone, whatever the store says
        bool ended;
        try
        {
            ended = await _store.LeaveAsync(session.ChannelId, session.SessionId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The leader will not see this node's release now; the ownership goes when the node leaves or restarts.
            _log.LogWarning("Session {Session} of {Channel}: could not release it in the cluster: {Error}", session.SessionId, session.ChannelId, ex.Message);
            return;
        }
        if (ended) SessionDestroyed?.Invoke(e);
    }

    // --- relay: the session's connections and tracks on other nodes ---

    /// <summary>The local session with this id (null: this node has no part of it).</summary>
    internal Session? SessionById(string sessionId)
    {
        lock (_gate) return _sessionsById.GetValueOrDefault(sessionId);
    }

    /// <summary>The connected local connections of a session (what a newly relayed node must hear about).</summary>
    public IReadOnlyList<ConnectionInfo> LocalConnections(string sessionId)
    {
        lock (_gate) return _sessionsById.GetValueOrDefault(sessionId)?.Connected.Select(c => c.Info).ToList() ?? [];
    }

    /// <summary>Sets where a session's local tracks are relayed (null: nowhere).</summary>
    internal void SetRelay(string sessionId, IRelayFanout? relay)
    {
        lock (_gate)
            if (_sessionsById.GetValueOrDefault(sessionId) is { } s) s.Relay = relay;
    }

    /// <summary>A connection of the session on <paramref name="node"/> (connection.created for the local ones).</summary>
    public void AddRemoteConnection(string node, string sessionId, ConnectionInfo info)
    {
        List<Connection> notify;
        ChannelCounts counts;
        lock (_gate)
        {
            if (_sessionsById.GetValueOrDefault(sessionId) is not { } session || session.Remote.ContainsKey(info.ConnectionId)) return;
            if (session.Connections.Any(c => c.ConnectionId == info.ConnectionId)) return;
            session.Remote[info.ConnectionId] = new RemoteConnection(info with { SessionId = sessionId }, node);
            session.PendingDestroy?.Cancel();
            session.PendingDestroy = null;
            counts = session.Counts();
            notify = session.Connected.ToList();
        }
        foreach (var c in notify)
            if (c.Info.SignalingNotify) c.Signaling.SendConnectionCreated(info, counts, null, 0);
    }

    /// <summary>A connection of the session on another node left: its tracks go (re-offers), connection.destroyed here.</summary>
    public void RemoveRemoteConnection(string sessionId, string connectionId, int minutes)
    {
        RemoteConnection? gone;
        List<Connection> notify;
        ChannelCounts counts;
        lock (_gate)
        {
            if (_sessionsById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.Remove(connectionId, out gone)) return;
            RemoveRemoteTracks(session, gone, gone.Publications.ToList());
            counts = session.Counts();
            notify = session.Connected.ToList();
            if (session.Connections.Count == 0 && session.Remote.Count == 0 && session.PendingDestroy is null) ScheduleDestroy(session);
        }
        foreach (var c in notify)
            if (c.Info.SignalingNotify) c.Signaling.SendConnectionDestroyed(gone.Info, counts, minutes);
    }

    /// <summary>Everything relayed from a node that went away (its link died, or it left the session).</summary>
    public void DropRemoteNode(string node, string? sessionId = null)
    {
        List<(string Session, string Connection)> gone;
        lock (_gate)
            gone = _sessionsById.Values.Where(s => sessionId is null || s.SessionId == sessionId)
                .SelectMany(s => s.Remote.Values.Where(r => r.Node == node).Select(r => (s.SessionId, r.Info.ConnectionId))).ToList();
        foreach (var (session, connection) in gone) RemoveRemoteConnection(session, connection, 0);
    }

    /// <summary>A track of a remote connection: local receivers get it by re-offer, like a local publisher's.</summary>
    internal void AddRemoteTrack(string sessionId, string connectionId, string trackId, MediaKind kind, uint ssrc, RtpCodec codec, IKeyFrameTarget keyFrames)
    {
        lock (_gate)
        {
            if (_sessionsById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.TryGetValue(connectionId, out var remote)) return;
            var existing = remote.Publications.Where(p => p.TrackId == trackId).ToList();
            if (existing.Count == 1 && existing[0].Ssrc == ssrc && existing[0].Codec == codec) return;
            RemoveRemoteTracks(session, remote, existing);
            // A relayed track lives on a worker like a local publisher's: the one with the fewest connections.
            var p = new Publication(keyFrames, LeastLoadedWorker(), connectionId, "", kind, codec, trackId, remote.Node, Workers.Count);
            p.LatchSsrc(ssrc);
            remote.Publications.Add(p);
            _relayed[(session.Key, ssrc)] = p;
            foreach (var c in session.Connected)
                if (c.Info.BundleId != remote.Info.BundleId) Renegotiate(c);
        }
    }

    internal void RemoveRemoteTrack(string sessionId, string connectionId, string trackId)
    {
        lock (_gate)
        {
            if (_sessionsById.GetValueOrDefault(sessionId) is not { } session || !session.Remote.TryGetValue(connectionId, out var remote)) return;
            RemoveRemoteTracks(session, remote, remote.Publications.Where(p => p.TrackId == trackId).ToList());
        }
    }

    // Under the lock.
    private void RemoveRemoteTracks(Session session, RemoteConnection remote, List<Publication> tracks)
    {
        if (tracks.Count == 0) return;
        foreach (var p in tracks)
        {
            remote.Publications.Remove(p);
            _relayed.TryRemove(new KeyValuePair<(UInt128, uint), Publication>((session.Key, p.Ssrc), p));
            p.Worker.Post(p.Close);
        }
        foreach (var c in session.Connected)
            if (c.Info.BundleId != remote.Info.BundleId) Renegotiate(c);
    }

    /// <summary>
    /// A relayed RTP packet (a link reader's thread): handed to the worker that owns the relayed track, which fans it out
    /// to local subscribers like a local publisher's. False: unknown track.
    /// </summary>
    internal bool PostRelayedRtp(UInt128 session, uint ssrc, byte[] rtp)
    {
        if (!_relayed.TryGetValue((session, ssrc), out var p) || p.Closed) return false;
        p.Worker.Post(() =>
        {
            if (!p.Closed && Rtc.Rtp.RtpHeader.TryParse(rtp, out var header)) p.OnRtp(rtp, header, MediaClock.NowMicros());
        });
        return true;
    }

    /// <summary>A relayed track's sender report (a link reader's thread): its subscribers here get their own sender reports from it.</summary>
    internal void PostRelayedSenderReport(UInt128 session, uint ssrc, ulong ntp, uint rtp)
    {
        if (_relayed.TryGetValue((session, ssrc), out var p) && !p.Closed)
            p.Worker.Post(() => { if (!p.Closed) p.OnSenderReport(ntp, rtp, MediaClock.NowMicros()); });
    }

    /// <summary>A subscriber on another node needs a key frame of a local track (rate-limited per publication).</summary>
    internal void RequestKeyFrame(string sessionId, uint ssrc)
    {
        Publication? p;
        lock (_gate)
            p = _sessionsById.GetValueOrDefault(sessionId)?.Connections.SelectMany(c => c.Publications).FirstOrDefault(x => x.Ssrc == ssrc);
        p?.RequestKeyFrame(MediaClock.NowMicros()); // thread-safe: posted to the publication's worker
    }

    /// <summary>A messaging message relayed from another node: local receivers get it (media thread).</summary>
    public void DeliverRelayedMessage(Messaging.MessagingMessage m)
    {
        var session = SessionById(m.SessionId);
        if (session is null) return;
        Workers[0].Post(() => _messages.DeliverLocal(session, m)); // receivers on other workers get it posted there
    }

    // --- the HTTP API's view ---

    public IReadOnlyList<ConnectionInfo> ListConnections(string? channelId = null)
    {
        lock (_gate)
            return _connections.Values.Where(c => c.State == ConnectionState.Connected && (channelId is null || c.Info.ChannelId == channelId))
                .OrderBy(c => c.Info.CreatedAt).Select(c => c.Info).ToList();
    }

    /// <summary>The connected connections matching the filter (channel, and optionally connection or client id).</summary>
    private List<Connection> Select(string channelId, string? connectionId, string? clientId)
    {
        lock (_gate)
            return _connections.Values.Where(c => c.State == ConnectionState.Connected && c.Info.ChannelId == channelId
                && (connectionId is null || c.ConnectionId == connectionId) && (clientId is null || c.Info.ClientId == clientId)).ToList();
    }

    /// <summary>Server-side disconnect (DisconnectChannel/Connection/Client); returns how many were closed.</summary>
    public int Disconnect(string channelId, string? connectionId, string? clientId, string reason)
    {
        var targets = Select(channelId, connectionId, clientId);
        foreach (var c in targets)
        {
            if (!c.Signaling.Disconnect(reason)) Leave(c.ConnectionId, reason);
        }
        return targets.Count;
    }

    /// <summary>PushChannel/Connection/Client: `{"type":"push","data":...}` to the matching connections.</summary>
    public int Push(string channelId, string? connectionId, string? clientId, System.Text.Json.JsonElement data)
    {
        var targets = Select(channelId, connectionId, clientId);
        foreach (var c in targets) c.Signaling.SendPush(data);
        return targets.Count;
    }

    /// <summary>Closes every connection (node unavailable or shutting down).</summary>
    public void DisconnectAll(string reason)
    {
        List<Connection> all;
        lock (_gate) all = _connections.Values.ToList();
        foreach (var c in all)
        {
            c.Signaling.Disconnect(reason);
            Leave(c.ConnectionId, reason);
        }
    }

    public void Dispose()
    {
        DisconnectAll("SHUTDOWN");
        _control.Dispose();
        _workers?.Dispose();
    }
}

public readonly record struct JoinResult(Connection? Connection, string? OfferSdp, string? Error, bool NoSession = false)
{
    /// <param name="noSession">The session ended between EnsureSessionAsync and Join (its destroy delay ran out): ensure again.</param>
    public static JoinResult Fail(string error, bool noSession = false) => new(null, null, error, noSession);
}

public sealed record SessionEvent(string ChannelId, string SessionId, DateTimeOffset CreatedAt, DateTimeOffset? DestroyedAt,
    long TotalConnections, long MaxConnections);
