using System.Collections.Concurrent;
using System.Net;
using Hibari.Cluster.Links;
using Hibari.Cluster.Membership;
using Hibari.Cluster.State;
using Hibari.Config;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster;

/// <summary>Timings of the control plane; tests may shorten them, operators normally don't touch them.</summary>
public sealed record ClusterTimings
{
    public RaftTimings Raft { get; init; } = new();
    /// <summary>A temporary node whose link to the leader is down this long is removed (C-MEM-3, expired lease).</summary>
    public TimeSpan TemporaryLeaseTtl { get; init; } = TimeSpan.FromMilliseconds(2500);
    public TimeSpan Tick { get; init; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan TemporaryPollInterval { get; init; } = TimeSpan.FromMilliseconds(300);
    /// <summary>How long a write may wait for a leader before failing with 503.</summary>
    public TimeSpan WriteDeadline { get; init; } = TimeSpan.FromSeconds(6);
}

/// <summary>
/// The cluster as one node sees it: membership over Raft (regular nodes) or leases (temporary nodes), the node-link
/// mesh, leader forwarding of writes, and the QuorumGuard. The SFU and the API talk to this class only.
/// </summary>
public sealed class ClusterService : INodeLinkHandler, IAsyncDisposable
{
    private readonly HibariOptions _o;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly ClusterTimings _timings;
    private readonly SemaphoreSlim _membershipLock = new(1, 1);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tempLastSeen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly IPAddress _advertised;
    private readonly string _incarnation = Guid.NewGuid().ToString("n");

    private PortPlan? _ports;
    private NodeLinkHost? _links;
    private RaftHost? _raft;
    private volatile bool _member;
    private volatile IReadOnlyList<MemberRecord> _bootstrapRecords = [];
    private Task? _loop;
    private bool _wasLeader;
    private int _leaderDutyRunning;
    private int _tempPollRunning;
    private DateTimeOffset _lastTempPoll;
    private DateTimeOffset? _lastQuorumConfirmation;
    private string? _tempLeaderName;
    private volatile string? _stateSource;
    private DateTimeOffset _lastPurgeCheck;

    public ClusterService(HibariOptions options, ILoggerFactory loggerFactory, TimeProvider? time = null, ClusterTimings? timings = null)
    {
        _o = options;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger("Hibari.Cluster");
        _time = time ?? TimeProvider.System;
        _timings = timings ?? new ClusterTimings();
        Guard = new QuorumGuard(_time);
        Load = new Load.LoadBoard(_time);
        _advertised = options.ListenAddress.Equals(IPAddress.Any) || options.ListenAddress.Equals(IPAddress.IPv6Any)
            ? (IPAddress.TryParse(options.NodeHost, out var ip) ? ip : IPAddress.Loopback)
            : options.ListenAddress;
        Temporary = options.Cluster && options.ClusterTemporaryNode && options.MaxNodesLicence;
    }

    public ClusterState State { get; } = new();
    public QuorumGuard Guard { get; }
    public bool Enabled => _o.Cluster;
    public bool Temporary { get; }
    public bool Member => _member;
    public string NodeName => _o.NodeName ?? "";
    public long SkippedEntries => State.SkippedEntries;
    public NodeLinkCounters? LinkCounters => _links?.Counters;

    public string RaftStateName => _raft?.StateName ?? (Temporary && _member ? "temporary" : "none");
    public long RaftTerm => _raft?.Term ?? 0;
    public long RaftCommitIndex => _raft?.CommitIndex ?? 0;
    /// <summary>Inbound Raft connections refused at the TLS handshake.</summary>
    public long RaftTlsRefused => _raft?.RefusedTlsHandshakes ?? 0;
    public bool IsLeader => _raft?.IsLeader ?? false;

    public async Task StartAsync(CancellationToken ct)
    {
        if (!_o.Cluster)
        {
            Guard.Update(new QuorumInputs(false, false, false, false, 0, 0, null));
            return;
        }
        if (_o.ClusterTemporaryNode && !_o.MaxNodesLicence)
            _log.LogWarning("cluster_temporary_node = true is ignored: temporary nodes need license_type = max_nodes; this node runs as a regular node");
        _ports = PortPlan.Reserve(_advertised, _o.ClusterListenMinPort, _o.ClusterListenMaxPort, _o.DataDir);
        _links = new NodeLinkHost(new NodeLinkOptions { NodeName = NodeName, Secret = _o.ClusterSecret ?? "" }, this, _loggerFactory, _time);
        _links.Start(_ports.LinkListener);
        _log.LogInformation("Node {Name}: node links on {Link}, Raft on {Ip}:{Raft}", NodeName, _links.LocalEndPoint, _advertised, _ports.RaftPort);

        if (!Temporary && RaftHost.HasMembership(_o.DataDir))
        {
            // C-MEM-3: a regular node that has been a member rejoins by itself from data_dir.
            _log.LogInformation("Membership found in {Dir}: rejoining the cluster", _o.DataDir);
            await StartRaftAsync(bootstrap: null, ct).ConfigureAwait(false);
            _member = true;
        }
        else if (Temporary && Directory.Exists(Path.Combine(_o.DataDir, "raft")))
        {
            RaftHost.Wipe(_o.DataDir); // a temporary node holds no Raft state
        }
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    private IPEndPoint RaftEndPoint => new(_advertised, _ports?.RaftPort ?? 0);

    private async Task StartRaftAsync(IReadOnlyCollection<IPEndPoint>? bootstrap, CancellationToken ct)
    {
        if (_raft is not null)
        {
            await _raft.DisposeAsync().ConfigureAwait(false);
            _raft = null;
        }
        _ports!.ReleaseRaftPort();
        var raft = new RaftHost(RaftEndPoint, _o.DataDir, State, _timings.Raft, _o.ClusterSecret ?? "", _loggerFactory);
        if (bootstrap is null) await raft.StartAsync(ct).ConfigureAwait(false);
        else await raft.BootstrapAsync(bootstrap, ct).ConfigureAwait(false);
        _raft = raft;
    }

    /// <summary>This node as it is recorded in the replicated state.</summary>
    public MemberRecord SelfRecord() => new()
    {
        Name = NodeName,
        Temporary = Temporary,
        RaftEndPoint = Temporary ? null : RaftEndPoint.ToString(),
        LinkEndPoint = new IPEndPoint(_advertised, _ports?.LinkPort ?? 0).ToString(),
        ExternalSignalingUrl = _o.ExternalSignalingUrl,
        ExternalApiUrl = _o.ExternalApiUrl,
        LicenseMaxConnections = _o.LicenseMaxConnections,
        LicenseMaxNodes = _o.LicenseMaxNodes,
        LicenseSerialCode = _o.LicenseSerialCode,
        LicenseType = LicenseTypeName(_o.LicenseType),
        Version = HibariVersion.Value,
        Mode = NodeModes.Normal,
        MemberSinceUnixMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        Incarnation = _incarnation,
    };

    public static string LicenseTypeName(LicenseType t) => t == Config.LicenseType.MaxNodes ? "max_nodes" : "standard";

    /// <summary>Licensed capacity of <paramref name="node"/> with takeover (C-TAKE-1..3), liveness as this node sees it.</summary>
    public int CapacityOf(string node)
    {
        var nodes = State.View.Members.Values
            .Select(m => new CapacityNode(m.Name, m.Temporary, m.LicenseMaxConnections, IsConnected(m.Name))).ToList();
        return nodes.Count == 0 ? _o.LicenseMaxConnections : Capacity.Of(node, nodes, _o.MaxNodesLicence);
    }

    /// <summary>Whether this node currently has a live link to <paramref name="node"/> (C-MEM-5 `connected`).</summary>
    public bool IsConnected(string node) => node == NodeName ? _member : _links?.IsConnected(node) ?? false;

    // ---------------------------------------------------------------- background loop

    private async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_timings.Tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                try { Tick(); }
                catch (Exception e) { _log.LogError(e, "cluster tick failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private void Tick()
    {
        var view = State.View;
        var now = _time.GetUtcNow();
        UpdatePeers(view);
        SendLoadReport(now);

        var leader = _raft?.IsLeader ?? false;
        if (leader && !_wasLeader)
        {
            // A new leader grants every temporary node a full lease before reaping (docs/protocol-notes.md, "Mapping the cluster onto Raft").
            foreach (var m in view.Members.Values.Where(m => m.Temporary)) _tempLastSeen[m.Name] = now;
        }
        _wasLeader = leader;
        if (leader && Interlocked.Exchange(ref _leaderDutyRunning, 1) == 0)
            _ = Task.Run(async () =>
            {
                try { await LeaderDutiesAsync(view, now).ConfigureAwait(false); }
                catch (Exception e) when (e is NotLeaderException or OperationCanceledException or TimeoutException) { _log.LogDebug("leader duties: {Message}", e.Message); }
                catch (Exception e) { _log.LogWarning(e, "leader duties failed"); }
                finally { Volatile.Write(ref _leaderDutyRunning, 0); }
            });

        // One poll at a time; each request has its own 1 s timeout.
        if (Temporary && _member && now - _lastTempPoll >= _timings.TemporaryPollInterval && Interlocked.Exchange(ref _tempPollRunning, 1) == 0)
        {
            _lastTempPoll = now;
            _ = Task.Run(async () =>
            {
                try { await PollStateAsTemporaryAsync().ConfigureAwait(false); }
                catch (Exception e) when (e is NodeLinkException or OperationCanceledException or TimeoutException) { _log.LogDebug("state poll: {Message}", e.Message); }
                catch (Exception e) { _log.LogWarning(e, "state poll failed"); }
                finally { Volatile.Write(ref _tempPollRunning, 0); }
            });
        }

        if (!Temporary && _member && _raft is { HasQuorum: false } && now - _lastPurgeCheck > TimeSpan.FromSeconds(3))
        {
            _lastPurgeCheck = now;
            _ = Task.Run(CheckWhetherPurgedAsync);
        }

        var regular = view.RegularMembers.Select(m => m.Name).ToList();
        if (regular.Count == 0) regular = _bootstrapRecords.Select(r => r.Name).ToList();
        var reachable = regular.Count(n => n == NodeName || (_links?.IsConnected(n) ?? false));
        if (!regular.Contains(NodeName) && !Temporary) reachable++; // counting self while our record is not written yet
        Guard.Update(new QuorumInputs(true, _member, Temporary, _raft?.HasQuorum ?? false,
            Math.Max(regular.Count, 1), reachable, _lastQuorumConfirmation));
    }

    private void UpdatePeers(ClusterView view)
    {
        if (_links is null) return;
        var peers = new Dictionary<string, IPEndPoint>(StringComparer.Ordinal);
        foreach (var r in _bootstrapRecords) AddPeer(peers, r);
        foreach (var m in view.Members.Values) AddPeer(peers, m);
        _links.SetPeers(peers);
    }

    private void AddPeer(Dictionary<string, IPEndPoint> peers, MemberRecord m)
    {
        if (m.Name != NodeName && IPEndPoint.TryParse(m.LinkEndPoint, out var ep) && ep.Port != 0) peers[m.Name] = ep;
    }

    private long _barrierTerm = -1;

    private async Task LeaderDutiesAsync(ClusterView view, DateTimeOffset now)
    {
        var term = _raft!.Term;
        if (_barrierTerm != term)
        {
            var b = await ExecuteLocalAsync(new ClusterCommand.Barrier(term)).ConfigureAwait(false);
            if (b.Ok) _barrierTerm = term;
            view = State.View;
        }
        // InitCluster's member records are written by whichever node leads first.
        foreach (var r in _bootstrapRecords)
            if (!view.Members.ContainsKey(r.Name) && !view.Purged.Contains(r.Name))
                await ExecuteLocalAsync(new ClusterCommand.AddMember(r, Math.Max(_o.LicenseMaxNodes, _bootstrapRecords.Count))).ConfigureAwait(false);
        if (_bootstrapRecords.Count > 0 && _bootstrapRecords.All(r => State.View.Members.ContainsKey(r.Name)))
            _bootstrapRecords = [];

        // Temporary-node leases: renewed by the registered process's state polls to the leader (a restarted process
        // has a new incarnation and renews nothing), expired TTL after the last renewal.
        foreach (var m in view.Members.Values.Where(m => m.Temporary))
        {
            var seen = _tempLastSeen.GetOrAdd(m.Name, now);
            if (now - seen < _timings.TemporaryLeaseTtl) continue;
            _log.LogInformation("Temporary node {Name} unreachable for {Ms} ms: removing it", m.Name, (int)(now - seen).TotalMilliseconds);
            var r = await ExecuteLocalAsync(new ClusterCommand.RemoveMember(m.Name, Purge: false)).ConfigureAwait(false);
            if (r.Ok) _tempLastSeen.TryRemove(m.Name, out _);
        }
    }

    private async Task<CommandResult> ExecuteLocalAsync(ClusterCommand command) =>
        await _raft!.ReplicateAsync(command, TimeSpan.FromSeconds(3), _stop.Token).ConfigureAwait(false);

    private async Task PollStateAsTemporaryAsync()
    {
        var view = State.View;
        var links = _links!;
        var target = _tempLeaderName is { } l && links.IsConnected(l) ? l
            : view.RegularMembers.Select(m => m.Name).FirstOrDefault(links.IsConnected);
        if (target is null) return;
        // Versions count applied commands per node, so "unchanged" only means something against the same responder.
        var known = target == _stateSource ? view.Version : -1;
        var reply = await links.RequestAsync(target, ClusterRpc.Request(ClusterRpc.Op.GetState, w => w.Int64(known).String(_incarnation)),
            TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
        if (!TryReadStateReply(reply, out var quorum, out var leaderName, out var member, out var fresh)) return;
        _tempLeaderName = leaderName;
        if (fresh is not null)
        {
            State.Load(fresh);
            _stateSource = target;
        }
        if (!quorum) return;
        if (member)
        {
            _lastQuorumConfirmation = _time.GetUtcNow();
            return;
        }
        // Only the leader's word counts (it wrote our record; a follower may not have applied it yet).
        if (leaderName != target) return;
        // C-MAJ-3: cut off long enough to lose its lease, but still running: register again by itself.
        _log.LogInformation("This temporary node is no longer in the cluster: registering again through {Target}", target);
        try
        {
            var joined = await links.RequestAsync(target, ClusterRpc.Request(ClusterRpc.Op.Join, w => ClusterCommand.WriteMember(w, SelfRecord())),
                TimeSpan.FromSeconds(10), _stop.Token).ConfigureAwait(false);
            if (ClusterState.TryDecodeView(joined) is { } v) { State.Load(v); _stateSource = null; }
        }
        catch (Exception e) when (e is NodeLinkException or OperationCanceledException)
        {
            _log.LogWarning("Registering again failed: {Message}", e.Message);
        }
    }

    private static bool TryReadStateReply(ReadOnlySpan<byte> reply, out bool quorum, out string? leader, out bool member, out ClusterView? view)
    {
        view = null;
        leader = null;
        member = false;
        var r = new WireReader(reply);
        if (!r.Bool(out quorum) || !r.NullableString(out leader) || !r.Bool(out member) || !r.Bytes(out var snap)) return false;
        if (snap.Length > 0) view = ClusterState.TryDecodeView(snap);
        return true;
    }

    private async Task CheckWhetherPurgedAsync()
    {
        var links = _links;
        if (links is null) return;
        foreach (var peer in links.ConnectedPeers)
        {
            try
            {
                var reply = await links.RequestAsync(peer, ClusterRpc.Request(ClusterRpc.Op.GetState, w => w.Int64(-1).String("")),
                    TimeSpan.FromSeconds(1), _stop.Token).ConfigureAwait(false);
                if (TryReadStateReply(reply, out var quorum, out _, out _, out var v) && quorum && v is not null && v.Purged.Contains(NodeName))
                {
                    // C-MEM-4: a purged node never comes back by auto-rejoin.
                    _log.LogError("This node ({Name}) was purged from the cluster: it stops taking part. Use a new node_name and data_dir to join again.", NodeName);
                    await _membershipLock.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        _member = false;
                        if (_raft is not null) await _raft.DisposeAsync().ConfigureAwait(false);
                        _raft = null;
                        RaftHost.Wipe(_o.DataDir);
                        State.Load(v);
                    }
                    finally { _membershipLock.Release(); }
                    return;
                }
            }
            catch (Exception e) when (e is NodeLinkException or OperationCanceledException) { }
        }
    }

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Executes a state command on the leader (locally or forwarded over a node link) and returns its result.
    /// Retries through leader changes until <see cref="ClusterTimings.WriteDeadline"/>, then fails with 503.
    /// </summary>
    public async Task<CommandResult> ExecuteAsync(ClusterCommand command, CancellationToken ct = default)
    {
        if (!_o.Cluster) throw new InvalidOperationException("cluster = false: there is no replicated state");
        var deadline = _time.GetUtcNow() + _timings.WriteDeadline;
        var payload = ClusterRpc.Request(ClusterRpc.Op.Execute, w => w.Bytes(command.Encode()));
        string? lastError = null;
        while (_time.GetUtcNow() < deadline)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (_raft is { IsLeader: true } raft)
                    return await raft.ReplicateAsync(command, TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
                if (LeaderName() is { } leader && _links is { } links && links.IsConnected(leader))
                {
                    var reply = await links.RequestAsync(leader, payload, TimeSpan.FromSeconds(3), ct).ConfigureAwait(false);
                    return ClusterRpc.DecodeResult(reply) ?? CommandResult.Fail("malformed reply from the leader");
                }
                lastError = "no Raft leader is reachable from this node";
            }
            catch (Exception e) when (e is NodeLinkException or NotLeaderException or TimeoutException
                                          || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                lastError = e.Message;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
        }
        throw new ClusterOperationException("ClusterUnavailable", $"the write could not be committed: {lastError}", 503);
    }

    /// <summary>Name of the current Raft leader as this node knows it.</summary>
    public string? LeaderName()
    {
        if (Temporary) return _tempLeaderName;
        if (_raft?.LeaderEndPoint is not { } ep) return null;
        var s = ep.ToString();
        foreach (var m in State.View.Members.Values) if (m.RaftEndPoint == s) return m.Name;
        foreach (var m in _bootstrapRecords) if (m.RaftEndPoint == s) return m.Name;
        return null;
    }

    // ---------------------------------------------------------------- API operations

    /// <summary>C-MEM-1 InitCluster: static bootstrap of the listed regular nodes; also rebuilds a broken cluster.</summary>
    public async Task<IReadOnlyList<string>> InitClusterAsync(IReadOnlyList<string> names, CancellationToken ct)
    {
        RequireCluster();
        if (Temporary) throw new ClusterOperationException("TemporaryNode", "InitCluster cannot run on a temporary node (C-MEM-7)");
        if (names.Count == 0) throw new ClusterOperationException("InvalidNodeNameList", "node_name_list must name at least one node");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw new ClusterOperationException("InvalidNodeNameList", "node_name_list names a node twice");
        if (!names.Contains(NodeName))
            throw new ClusterOperationException("InvalidNodeNameList", $"node_name_list must include the node that receives the call ({NodeName})");
        if (names.Count > _o.LicenseMaxNodes)
            throw new ClusterOperationException("LicenseMaxNodesExceeded", $"node_name_list has {names.Count} nodes; license_max_nodes is {_o.LicenseMaxNodes} (C-MEM-8)");
        foreach (var n in names)
            if (ConfigLoader.ValidateNodeName(n) is { } err)
                throw new ClusterOperationException("InvalidNodeName", err);

        await _membershipLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var records = new List<MemberRecord>();
            var endpoints = new Dictionary<string, IPEndPoint>();
            foreach (var name in names)
            {
                if (name == NodeName) { records.Add(SelfRecord()); continue; }
                var (record, ep) = await IdentifyAsync(name, ct).ConfigureAwait(false);
                if (record.Temporary)
                    throw new ClusterOperationException("TemporaryNode", $"{name} is a temporary node: temporary nodes cannot be named in InitCluster (C-MEM-7)");
                records.Add(record);
                endpoints[name] = ep;
            }
            var body = ClusterRpc.Request(ClusterRpc.Op.Bootstrap, w =>
            {
                w.Int32(records.Count);
                foreach (var r in records) ClusterCommand.WriteMember(w, r);
            });
            foreach (var (name, ep) in endpoints)
            {
                try { await _links!.RequestAsync(ep, body, TimeSpan.FromSeconds(15), ct).ConfigureAwait(false); }
                catch (NodeLinkException e)
                {
                    throw new ClusterOperationException("InitClusterFailed", $"{name} refused to bootstrap: {e.Message}");
                }
            }
            await BootstrapLocalAsync(records, ct).ConfigureAwait(false);
        }
        finally { _membershipLock.Release(); }

        // Done when a leader has written every member record.
        var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(30);
        while (_time.GetUtcNow() < deadline)
        {
            if (names.All(State.View.Members.ContainsKey)) return names;
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, ct).ConfigureAwait(false);
        }
        throw new ClusterOperationException("InitClusterTimeout", "the nodes were bootstrapped but no leader committed the member list within 30 s", 503);
    }

    private async Task<(MemberRecord Record, IPEndPoint EndPoint)> IdentifyAsync(string name, CancellationToken ct)
    {
        var host = name[(name.IndexOf('@') + 1)..];
        var found = await _links!.DiscoverAsync(host, name, _o.ClusterListenMinPort, _o.ClusterListenMaxPort, ct).ConfigureAwait(false)
            ?? throw new ClusterOperationException("NodeNotFound",
                $"node {name} does not answer on {host} ports {_o.ClusterListenMinPort}..{_o.ClusterListenMaxPort} (is it running with cluster = true and the same cluster_secret?)");
        var reply = await _links.RequestAsync(found.EndPoint, ClusterRpc.Request(ClusterRpc.Op.Identify), TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        var r = new WireReader(reply);
        if (!ClusterCommand.ReadMember(ref r, out var record) || record is null)
            throw new ClusterOperationException("NodeNotFound", $"node {name} sent a malformed identity");
        return (record, found.EndPoint);
    }

    private async Task BootstrapLocalAsync(IReadOnlyList<MemberRecord> records, CancellationToken ct)
    {
        if (Temporary) throw new ClusterOperationException("TemporaryNode", "a temporary node cannot be bootstrapped (C-MEM-7)");
        if (records.All(r => r.Name != NodeName)) throw new ClusterOperationException("InvalidNodeNameList", $"{NodeName} is not in the list");
        _log.LogInformation("InitCluster: bootstrapping Raft with {Members}", string.Join(", ", records.Select(r => r.Name)));
        _member = false;
        if (_raft is not null)
        {
            await _raft.DisposeAsync().ConfigureAwait(false);
            _raft = null;
        }
        // A (re)built cluster starts from an empty state: members of a broken cluster are not carried over.
        RaftHost.Wipe(_o.DataDir);
        State.Load(ClusterView.Empty);
        _bootstrapRecords = records;
        var eps = records.Select(r => IPEndPoint.Parse(r.RaftEndPoint!)).ToList();
        await StartRaftAsync(eps, ct).ConfigureAwait(false);
        _member = true;
    }

    /// <summary>C-MEM-2 RegisterClusterNode, called on the new node: join the cluster of the contact node.</summary>
    public async Task<IReadOnlyList<string>> RegisterAsync(string contactName, CancellationToken ct)
    {
        RequireCluster();
        if (ConfigLoader.ValidateNodeName(contactName) is { } err) throw new ClusterOperationException("InvalidNodeName", err);
        if (contactName == NodeName) throw new ClusterOperationException("InvalidContactNode", "contact_node_name must name another node");
        await _membershipLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_member && State.View.Members.ContainsKey(NodeName) && State.View.Members.ContainsKey(contactName))
                return State.View.Members.Keys.Order(StringComparer.Ordinal).ToList();
            if (_member)
                throw new ClusterOperationException("AlreadyMember", $"{NodeName} is already a member of a cluster");
            // A node that learnt it was purged says so itself: the contact node would only drop its link (unlisted).
            if (State.View.Purged.Contains(NodeName))
                throw new ClusterOperationException("NodePurged", $"{NodeName} was purged from this cluster and cannot join again (C-MEM-4)");
            var (_, ep) = await IdentifyAsync(contactName, ct).ConfigureAwait(false);
            if (!Temporary)
            {
                RaftHost.Wipe(_o.DataDir);
                State.Load(ClusterView.Empty);
                await StartRaftAsync(bootstrap: null, ct).ConfigureAwait(false); // empty membership: waits to be added
            }
            byte[] reply;
            try
            {
                reply = await _links!.RequestAsync(ep, ClusterRpc.Request(ClusterRpc.Op.Join, w => ClusterCommand.WriteMember(w, SelfRecord())),
                    TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            }
            catch (NodeLinkException e)
            {
                if (_raft is not null) { await _raft.DisposeAsync().ConfigureAwait(false); _raft = null; }
                RaftHost.Wipe(_o.DataDir);
                throw FromRemote(e, "RegisterFailed");
            }
            var view = ClusterState.TryDecodeView(reply) ?? throw new ClusterOperationException("RegisterFailed", "malformed reply from the contact node");
            if (Temporary)
            {
                _stateSource = null;
                State.Load(view);
                _lastQuorumConfirmation = _time.GetUtcNow();
            }
            _member = true;
            return view.Members.Keys.Order(StringComparer.Ordinal).ToList();
        }
        finally { _membershipLock.Release(); }
    }

    /// <summary>C-MEM-4 PurgeClusterNode: removes a stopped regular node for good.</summary>
    public async Task PurgeAsync(string target, CancellationToken ct)
    {
        RequireMember();
        if (target == NodeName) throw new ClusterOperationException("InvalidTargetNode", "a node cannot purge itself: call PurgeClusterNode on another member");
        var m = State.View.Members.GetValueOrDefault(target)
                ?? throw new ClusterOperationException("UnknownNode", $"{target} is not a member of this cluster");
        if (m.Temporary) throw new ClusterOperationException("TemporaryNode", $"{target} is a temporary node: temporary nodes cannot be purged; they leave when stopped (C-MEM-4)");
        if (IsConnected(target)) throw new ClusterOperationException("NodeStillRunning", $"{target} is still connected: stop it before purging it");
        await ToLeaderAsync(ClusterRpc.Request(ClusterRpc.Op.PurgeAtLeader, w => w.String(target)), () => PurgeAtLeaderAsync(target, ct), ct).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="local"/> when this node leads, or sends <paramref name="request"/> to the leader.</summary>
    private async Task<byte[]> ToLeaderAsync(byte[] request, Func<Task<byte[]>> local, CancellationToken ct)
    {
        var deadline = _time.GetUtcNow() + _timings.WriteDeadline;
        string? lastError = null;
        while (_time.GetUtcNow() < deadline)
        {
            try
            {
                if (_raft is { IsLeader: true }) return await local().ConfigureAwait(false);
                if (LeaderName() is { } leader && _links!.IsConnected(leader))
                    return await _links.RequestAsync(leader, request, TimeSpan.FromSeconds(20), ct).ConfigureAwait(false);
                lastError = "no Raft leader is reachable from this node";
            }
            catch (NodeLinkException e) when (e.Message.Contains("not the Raft leader", StringComparison.Ordinal))
            {
                lastError = e.Message;
            }
            catch (NotLeaderException e) { lastError = e.Message; }
            catch (NodeLinkException e) { throw FromRemote(e, "ClusterOperationFailed"); }
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, ct).ConfigureAwait(false);
        }
        throw new ClusterOperationException("ClusterUnavailable", $"no leader: {lastError}", 503);
    }

    private async Task<byte[]> PurgeAtLeaderAsync(string target, CancellationToken ct)
    {
        var m = State.View.Members.GetValueOrDefault(target) ?? throw new ClusterOperationException("UnknownNode", $"{target} is not a member");
        if (m.Temporary) throw new ClusterOperationException("TemporaryNode", $"{target} is a temporary node and cannot be purged");
        var r = await ExecuteLocalAsync(new ClusterCommand.RemoveMember(target, Purge: true)).ConfigureAwait(false);
        if (!r.Ok) throw new ClusterOperationException("PurgeFailed", r.Error ?? "purge refused");
        if (m.RaftEndPoint is { } raftEp && IPEndPoint.TryParse(raftEp, out var ep))
            await _raft!.RemoveMemberAsync(ep, ct).ConfigureAwait(false);
        _log.LogInformation("Purged {Target}", target);
        return [];
    }

    private async Task<byte[]> JoinAtLeaderAsync(MemberRecord record, CancellationToken ct)
    {
        var view = State.View;
        if (view.Purged.Contains(record.Name))
            throw new ClusterOperationException("NodePurged", $"{record.Name} was purged from this cluster and cannot join again (C-MEM-4)");
        if (!record.Temporary && view.Members.Values.Any(m => m.Name != record.Name && m.RaftEndPoint == record.RaftEndPoint))
            throw new ClusterOperationException("DuplicateEndPoint", $"another member already uses Raft endpoint {record.RaftEndPoint}");
        var r = await ExecuteLocalAsync(new ClusterCommand.AddMember(record, _o.LicenseMaxNodes)).ConfigureAwait(false);
        if (!r.Ok) throw new ClusterOperationException("RegisterRefused", r.Error ?? "refused");
        if (record.Temporary) _tempLastSeen[record.Name] = _time.GetUtcNow();
        else if (IPEndPoint.TryParse(record.RaftEndPoint ?? "", out var ep) && !_raft!.MemberEndPoints.Any(e => e.ToString() == ep.ToString()))
        {
            _log.LogInformation("Adding regular node {Name} ({Ep}) to Raft", record.Name, ep);
            bool added;
            try { added = await _raft.AddMemberAsync(ep, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is not ClusterOperationException) { _log.LogWarning(e, "AddMember {Ep}", ep); added = false; }
            if (!added)
            {
                await ExecuteLocalAsync(new ClusterCommand.RemoveMember(record.Name, Purge: false)).ConfigureAwait(false);
                throw new ClusterOperationException("RegisterFailed", $"Raft could not add {record.Name}: it did not catch up with the log");
            }
        }
        return ClusterState.EncodeView(State.View);
    }

    /// <summary>ChangeMode in a cluster: the mode is replicated and shown in ListClusterNodes (C-MODE-1).</summary>
    public async Task SetModeAsync(string mode, CancellationToken ct)
    {
        RequireMember();
        var r = await ExecuteAsync(new ClusterCommand.SetMode(NodeName, mode), ct).ConfigureAwait(false);
        if (!r.Ok) throw new ClusterOperationException("ChangeModeFailed", r.Error ?? "refused");
    }

    public string? OwnMode => State.View.Members.GetValueOrDefault(NodeName)?.Mode;

    private void RequireCluster()
    {
        if (!_o.Cluster) throw new ClusterOperationException("ClusterDisabled", "this node runs with cluster = false");
    }

    private void RequireMember()
    {
        RequireCluster();
        if (!_member) throw new ClusterOperationException("ClusterNotInitialized", "this node is not a member of a cluster yet: run InitCluster or RegisterClusterNode (C-CONF-1)", 503);
    }

    // ---------------------------------------------------------------- node-link requests

    ValueTask<byte[]> INodeLinkHandler.OnRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken ct) =>
        new(HandleRequestAsync(peer, payload, ct));

    private async Task<byte[]> HandleRequestAsync(string peer, ReadOnlyMemory<byte> payload, CancellationToken ct)
    {
        var r = new WireReader(payload.Span);
        if (!ClusterRpc.TryParseHeader(ref r, out var op)) throw new InvalidOperationException("unknown cluster request");
        try
        {
            switch (op)
            {
                case ClusterRpc.Op.Identify:
                    return ClusterRpc.EncodeMember(SelfRecord());

                case ClusterRpc.Op.Bootstrap:
                {
                    if (!r.Count(out var n, 8)) throw new InvalidOperationException("malformed bootstrap");
                    var records = new List<MemberRecord>();
                    for (var i = 0; i < n; i++)
                    {
                        if (!ClusterCommand.ReadMember(ref r, out var m)) throw new InvalidOperationException("malformed bootstrap");
                        records.Add(m!);
                    }
                    await _membershipLock.WaitAsync(ct).ConfigureAwait(false);
                    try { await BootstrapLocalAsync(records, ct).ConfigureAwait(false); }
                    finally { _membershipLock.Release(); }
                    return [];
                }

                case ClusterRpc.Op.Execute:
                {
                    if (!r.Bytes(out var bytes) || ClusterCommand.TryDecode(bytes) is not { } cmd) throw new InvalidOperationException("malformed command");
                    if (_raft is not { IsLeader: true } raft) throw new NotLeaderException();
                    return ClusterRpc.EncodeResult(await raft.ReplicateAsync(cmd, TimeSpan.FromSeconds(3), ct).ConfigureAwait(false));
                }

                case ClusterRpc.Op.Join:
                {
                    if (!ClusterCommand.ReadMember(ref r, out var m)) throw new InvalidOperationException("malformed join");
                    var forward = ClusterRpc.Request(ClusterRpc.Op.JoinAtLeader, w => ClusterCommand.WriteMember(w, m!));
                    return await ToLeaderAsync(forward, () => JoinAtLeaderAsync(m!, ct), ct).ConfigureAwait(false);
                }

                case ClusterRpc.Op.JoinAtLeader:
                {
                    if (!ClusterCommand.ReadMember(ref r, out var m)) throw new InvalidOperationException("malformed join");
                    if (_raft is not { IsLeader: true }) throw new NotLeaderException();
                    return await JoinAtLeaderAsync(m!, ct).ConfigureAwait(false);
                }

                case ClusterRpc.Op.PurgeAtLeader:
                {
                    if (!r.String(out var target)) throw new InvalidOperationException("malformed purge");
                    if (_raft is not { IsLeader: true }) throw new NotLeaderException();
                    return await PurgeAtLeaderAsync(target, ct).ConfigureAwait(false);
                }

                case ClusterRpc.Op.LocalApi:
                {
                    if (!r.String(out var target) || !r.Bytes(out var body) || !r.AtEnd) throw new InvalidOperationException("malformed local API request");
                    if (LocalApi is not { } handler) throw new InvalidOperationException("this node does not serve local API requests");
                    var (status, answer) = await handler(target, body, ct).ConfigureAwait(false);
                    return new WireWriter().Int32(status).Bytes(answer).ToArray();
                }

                case ClusterRpc.Op.GetState:
                {
                    if (!r.Int64(out var known) || !r.String(out var incarnation)) throw new InvalidOperationException("malformed state request");
                    var view = State.View;
                    if (_raft is { IsLeader: true } && view.Members.TryGetValue(peer, out var polling)
                        && polling.Temporary && polling.Incarnation == incarnation)
                        _tempLastSeen[peer] = _time.GetUtcNow(); // lease renewal
                    // The responder's QuorumGuard verdict (links + Raft): a temporary node follows it (C-MAJ-1).
                    var quorum = !Temporary && (_raft?.HasQuorum ?? false) && Guard.Available;
                    var snap = known == view.Version ? [] : ClusterState.EncodeView(view);
                    // Whether the asking process is the member on record (a restarted process has another incarnation).
                    var isMember = view.Members.TryGetValue(peer, out var rec) && rec.Incarnation == incarnation;
                    return new WireWriter().Bool(quorum).NullableString(LeaderName()).Bool(isMember).Bytes(snap).ToArray();
                }
            }
        }
        catch (ClusterOperationException e)
        {
            // The error type travels with the message, so the caller's API answers with the same error_type.
            throw new InvalidOperationException($"{e.ErrorType}{RemoteErrorSeparator}{e.Message}", e);
        }
        throw new InvalidOperationException("unsupported cluster request " + op);
    }

    private const string RemoteErrorSeparator = " | ";

    /// <summary>Turns a remote node's error back into the API error it described.</summary>
    private static ClusterOperationException FromRemote(NodeLinkException e, string fallbackType)
    {
        var m = e.Message;
        var i = m.IndexOf(RemoteErrorSeparator, StringComparison.Ordinal);
        if (i > 0)
        {
            var start = m.LastIndexOfAny([' ', ':'], i - 1) + 1;
            var type = m[start..i];
            if (type.Length > 0 && type.All(char.IsAsciiLetterOrDigit)) return new ClusterOperationException(type, m[(i + RemoteErrorSeparator.Length)..]);
        }
        return new ClusterOperationException(fallbackType, m);
    }

    /// <summary>Runs a channel-scoped API operation on this node's own connections (set by the node).</summary>
    public Func<string, byte[], CancellationToken, Task<(int Status, byte[] Body)>>? LocalApi { get; set; }

    /// <summary>Asks <paramref name="peer"/> to run a channel-scoped API operation on its own connections.</summary>
    public async Task<(int Status, byte[] Body)> CallLocalApiAsync(string peer, string target, ReadOnlyMemory<byte> body, CancellationToken ct)
    {
        if (_links is null) throw new InvalidOperationException("no node links");
        var reply = await _links.RequestAsync(peer, ClusterRpc.Request(ClusterRpc.Op.LocalApi, w => w.String(target).Bytes(body.Span)),
            TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        var r = new WireReader(reply);
        if (!r.Int32(out var status) || !r.Bytes(out var answer) || !r.AtEnd) throw new InvalidOperationException("malformed local API answer");
        return (status, answer);
    }

    /// <summary>Node-link message channels (one-way messages; RPCs have their own frames).</summary>
    internal const byte LoadChannel = 1;
    /// <summary>Relay frames (docs/relay-frames.md): media, messages and signaling facts of sessions spanning nodes.</summary>
    internal const byte RelayChannel = 2;

    /// <summary>A relay frame from a peer (on that link's reader thread: must not block).</summary>
    public event Action<string, ReadOnlyMemory<byte>>? RelayFrame;
    /// <summary>A node link came up / went down (dead or closed).</summary>
    public event Action<string>? PeerUp, PeerDown;

    /// <summary>Queues a relay frame to a peer; false when the link is down or its queue is full.</summary>
    public bool SendRelay(string peer, ReadOnlyMemory<byte> frame) => _links?.Send(peer, RelayChannel, frame) ?? false;

    /// <summary>A relay frame of <paramref name="length"/> bytes that <paramref name="write"/> encodes straight into the link's send buffer.</summary>
    public bool SendRelay<TState>(string peer, int length, scoped ref TState state, MessageBodyWriter<TState> write) where TState : allows ref struct =>
        _links?.Send(peer, RelayChannel, length, ref state, write) ?? false;

    /// <summary>Peers with a live link now.</summary>
    public IReadOnlyCollection<string> LinkedPeers => _links?.ConnectedPeers.ToList() ?? [];

    void INodeLinkHandler.OnMessage(string peer, byte channel, ReadOnlyMemory<byte> payload)
    {
        if (channel == LoadChannel) Load.OnReport(peer, payload.Span);
        else if (channel == RelayChannel) RelayFrame?.Invoke(peer, payload);
    }

    /// <summary>The other nodes' load (connections, per channel), as their last reports said.</summary>
    public Load.LoadBoard Load { get; }

    /// <summary>This node's load, reported to every linked peer every 200 ms (set by the node: the SFU knows it).</summary>
    public Func<Load.LoadReport> LocalLoad { get; set; } = () => Cluster.Load.LoadReport.Empty;

    private DateTimeOffset _lastLoadReport;

    private void SendLoadReport(DateTimeOffset now)
    {
        if (_links is null || now - _lastLoadReport < Cluster.Load.LoadBoard.Interval) return;
        _lastLoadReport = now;
        var bytes = LocalLoad().Encode();
        foreach (var peer in _links.ConnectedPeers) _links.Send(peer, LoadChannel, bytes);
    }

    void INodeLinkHandler.OnPeerUp(string peer)
    {
        _log.LogInformation("Node link to {Peer} is up", peer);
        PeerUp?.Invoke(peer);
    }

    void INodeLinkHandler.OnPeerDown(string peer)
    {
        Load.Forget(peer);
        _log.LogInformation("Node link to {Peer} is down", peer);
        PeerDown?.Invoke(peer);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null) { try { await _loop.ConfigureAwait(false); } catch { } }
        if (_raft is not null) await _raft.DisposeAsync().ConfigureAwait(false);
        if (_links is not null) await _links.DisposeAsync().ConfigureAwait(false);
        _ports?.Dispose();
    }
}
