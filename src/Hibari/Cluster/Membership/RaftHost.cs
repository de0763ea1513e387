using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Hibari.Cluster.State;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Membership;

/// <summary>Raft timings. Conservative on purpose: 150–300 ms caused spurious elections on 2 vCPUs (docs/protocol-notes.md, "Problems seen in multi-process tests" 3).</summary>
public sealed record RaftTimings
{
    public int LowerElectionTimeoutMs { get; init; } = 1000;
    public int UpperElectionTimeoutMs { get; init; } = 2000;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMilliseconds(800);
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// One node's Raft voter (regular nodes only): DotNext's RaftCluster over Hibari's TCP + TLS transport (D-42) with a
/// write-ahead log in data_dir.
/// Speaks of commands and members; the rest of Hibari never sees log entries.
/// </summary>
internal sealed class RaftHost : IAsyncDisposable
{
    private readonly IPEndPoint _endPoint;
    private readonly string _dir;
    private readonly ClusterState _state;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly RaftTimings _timings;
    private RaftCluster? _cluster;
    private WriteAheadLog? _wal;
    private RaftStateMachine? _machine;

    private readonly string _secret;

    public RaftHost(IPEndPoint endPoint, string dataDir, ClusterState state, RaftTimings timings, string secret, ILoggerFactory loggerFactory)
    {
        _secret = secret;
        _endPoint = endPoint;
        _dir = Path.Combine(dataDir, "raft");
        _state = state;
        _timings = timings;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("Hibari.Raft");
    }

    public IPEndPoint EndPoint => _endPoint;
    private string MembersFile => Path.Combine(_dir, "members.bin");

    /// <summary>Whether this data_dir holds a Raft membership, i.e. the node has been a member before (C-MEM-3).</summary>
    public static bool HasMembership(string dataDir) => File.Exists(Path.Combine(dataDir, "raft", "members.bin"));

    /// <summary>Forgets every Raft file (used before InitCluster rebuilds a cluster, and after a purge).</summary>
    public static void Wipe(string dataDir)
    {
        var dir = Path.Combine(dataDir, "raft");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    public bool Started => _cluster is not null;

    public bool IsLeader => _cluster is { } c && !c.LeadershipToken.IsCancellationRequested;

    /// <summary>Raft's majority (C-MAJ-1): leader, or a follower that currently follows a leader.</summary>
    public bool HasQuorum => _cluster is { } c && (!c.LeadershipToken.IsCancellationRequested ||
                                                   (!c.ConsensusToken.IsCancellationRequested && c.Leader is not null));

    public EndPoint? LeaderEndPoint => _cluster?.Leader?.EndPoint;

    public long Term => _cluster?.AuditTrail.Term ?? 0;
    public long CommitIndex => _wal?.LastCommittedEntryIndex ?? 0;
    public long SkippedEntries => _state.SkippedEntries;

    public string StateName => _cluster is null ? "none" : IsLeader ? "leader" : _cluster.Leader is not null ? "follower" : "candidate";

    public IReadOnlyList<EndPoint> MemberEndPoints => _cluster?.Members.Select(m => m.EndPoint).ToArray() ?? [];

    /// <summary>Static bootstrap (docs/protocol-notes.md, "Mapping the cluster onto Raft"): the same member list written on every node, then a not-cold start.</summary>
    public async Task BootstrapAsync(IReadOnlyCollection<IPEndPoint> members, CancellationToken ct)
    {
        Directory.CreateDirectory(_dir);
        using (var storage = new EndPointMembershipStorage(MembersFile))
        {
            IClusterConfigurationStorage<EndPoint> typed = storage;
            var config = await typed.LoadConfigurationAsync(ct).ConfigureAwait(false);
            foreach (var ep in members) config = config.Add(ep);
            await ((IClusterConfigurationStorage)storage).SaveConfigurationAsync(config, 0L, ct).ConfigureAwait(false);
        }
        await StartAsync(ct).ConfigureAwait(false);
    }

    private RaftTransport.ListenerFactory? _listener;

    /// <summary>Inbound Raft connections refused at the TLS handshake (another secret, garbage, silence).</summary>
    public long RefusedTlsHandshakes => _listener?.RefusedHandshakes ?? 0;

    /// <summary>Starts from the membership and log in data_dir (restart), or with an empty membership, waiting to be added (join).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_dir);
        _machine = new RaftStateMachine(new DirectoryInfo(Path.Combine(_dir, "state")), _state, _logger);
        await _machine.RestoreAsync(ct).ConfigureAwait(false); // must finish before the WAL is built
        _wal = new WriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(_dir, "wal") }, _machine);
        // Mutual TLS keyed by cluster_secret, outbound connections bound to this node's address (D-42).
        var tls = RaftTransportSecurity.Create(_secret);
        _listener = new RaftTransport.ListenerFactory(tls.ServerOptions, _logger);
        var config = new RaftCluster.CustomTransportConfiguration(_endPoint, _listener, new RaftTransport.Connector(_endPoint.Address, tls.ClientOptions))
        {
            ColdStart = false,
            LowerElectionTimeout = _timings.LowerElectionTimeoutMs,
            UpperElectionTimeout = _timings.UpperElectionTimeoutMs,
            RequestTimeout = _timings.RequestTimeout,
            ConnectTimeout = _timings.ConnectTimeout,
            IsLeaderLeaseEnabled = true,
            ConfigurationStorage = new EndPointMembershipStorage(MembersFile),
            LoggerFactory = _loggerFactory,
        };
        _cluster = new RaftCluster(config) { AuditTrail = _wal };
        _cluster.LeaderChanged += (_, leader) => _logger.LogInformation("Raft leader is now {Leader}", leader?.EndPoint?.ToString() ?? "none");
        await _cluster.StartAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Replicates one command through the majority and returns its result. Leader only.</summary>
    public async Task<CommandResult> ReplicateAsync(ClusterCommand command, TimeSpan timeout, CancellationToken ct)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("Raft is not running on this node");
        if (!IsLeader) throw new NotLeaderException();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        var tcs = new TaskCompletionSource<CommandResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await cluster.ReplicateAsync(new ReadOnlyMemory<byte>(command.Encode()), tcs, cts.Token).ConfigureAwait(false);
        var result = await tcs.Task.WaitAsync(cts.Token).ConfigureAwait(false);
        return result ?? CommandResult.Fail("the command was not understood by the state machine");
    }

    public async Task<bool> AddMemberAsync(IPEndPoint member, CancellationToken ct)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("Raft is not running on this node");
        if (!IsLeader) throw new NotLeaderException();
        return await cluster.AddMemberAsync(member, ct).ConfigureAwait(false);
    }

    public async Task<bool> RemoveMemberAsync(IPEndPoint member, CancellationToken ct)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("Raft is not running on this node");
        if (!IsLeader) throw new NotLeaderException();
        return await cluster.RemoveMemberAsync(member, ct).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is { } c)
        {
            try { await c.StopAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) { _logger.LogDebug(e, "Raft stop"); }
            c.Dispose();
        }
        if (_wal is not null) await _wal.DisposeAsync().ConfigureAwait(false);
        if (_machine is not null) await _machine.DisposeAsync().ConfigureAwait(false);
        _cluster = null;
        _wal = null;
        _machine = null;
    }
}

/// <summary>A write reached a node that is not the Raft leader.</summary>
public sealed class NotLeaderException() : Exception("this node is not the Raft leader");
