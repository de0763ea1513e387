namespace Hibari.Cluster.State;

/// <summary>
/// The replicated state: members (with modes), purged names, channel → session → owners.
/// Deterministic: every node applying the same log reaches the same state. Thread-safe; readers take a <see cref="ClusterView"/>.
/// Never throws on bad input: undecodable entries are skipped and counted in <see cref="SkippedEntries"/>.
/// </summary>
public sealed class ClusterState
{
    private const byte SnapshotVersion = 1;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, MemberRecord> _members = new(StringComparer.Ordinal);
    private readonly HashSet<string> _purged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ChannelRecord> _channels = new(StringComparer.Ordinal);
    private long _version;
    private long _skipped;
    private volatile ClusterView _view = ClusterView.Empty;

    /// <summary>Raised after every change, outside the lock.</summary>
    public event Action<ClusterView>? Changed;

    public ClusterView View => _view;
    public long SkippedEntries => Interlocked.Read(ref _skipped);

    /// <summary>Applies one raw log payload. Returns null when it was skipped (not a command of ours, or corrupt).</summary>
    public CommandResult? ApplyRaw(ReadOnlySpan<byte> payload)
    {
        var cmd = ClusterCommand.TryDecode(payload);
        if (cmd is null)
        {
            Interlocked.Increment(ref _skipped);
            return null;
        }
        return Apply(cmd);
    }

    public CommandResult Apply(ClusterCommand command)
    {
        CommandResult result;
        lock (_lock)
        {
            result = ApplyLocked(command);
            _version++;
            _view = Snapshot();
        }
        Changed?.Invoke(_view);
        return result;
    }

    private CommandResult ApplyLocked(ClusterCommand command)
    {
        switch (command)
        {
            case ClusterCommand.AddMember c:
                if (_purged.Contains(c.Member.Name))
                    return CommandResult.Fail($"node {c.Member.Name} was purged from this cluster and cannot join again"); // C-MEM-4
                if (_members.TryGetValue(c.Member.Name, out var existing))
                {
                    // Re-registration (e.g. a temporary node after a restart) keeps the mode and first join time.
                    _members[c.Member.Name] = c.Member with { Mode = existing.Mode, MemberSinceUnixMs = existing.MemberSinceUnixMs };
                    return CommandResult.Success;
                }
                if (_members.Count >= c.MaxNodes)
                    return CommandResult.Fail($"license_max_nodes {c.MaxNodes} reached: the cluster already has {_members.Count} nodes"); // C-MEM-8
                _members[c.Member.Name] = c.Member;
                return new CommandResult(true, Created: true);

            case ClusterCommand.RemoveMember c:
                var had = _members.Remove(c.Name);
                if (c.Purge) _purged.Add(c.Name);
                RemoveOwnerEverywhere(c.Name);
                return had || c.Purge ? CommandResult.Success : CommandResult.Fail($"node {c.Name} is not a member");

            case ClusterCommand.SetMode c:
                if (!NodeModes.IsValid(c.Mode)) return CommandResult.Fail($"invalid mode {c.Mode}");
                if (!_members.TryGetValue(c.Name, out var member)) return CommandResult.Fail($"node {c.Name} is not a member");
                _members[c.Name] = member with { Mode = c.Mode };
                return CommandResult.Success;

            case ClusterCommand.ClaimSession c:
                if (_channels.TryGetValue(c.ChannelId, out var channel))
                {
                    if (!channel.Owners.Contains(c.Owner))
                        _channels[c.ChannelId] = channel with { Owners = [.. channel.Owners, c.Owner] };
                    return new CommandResult(true, Value: channel.SessionId, Created: false);
                }
                _channels[c.ChannelId] = new ChannelRecord(c.ChannelId, c.SessionId, c.CreatedUnixMs, [c.Owner]);
                return new CommandResult(true, Value: c.SessionId, Created: true);

            case ClusterCommand.AddOwner c:
                if (!_channels.TryGetValue(c.ChannelId, out var ch) || ch.SessionId != c.SessionId)
                    return CommandResult.Fail($"session {c.SessionId} of channel {c.ChannelId} does not exist");
                if (!ch.Owners.Contains(c.Owner))
                    _channels[c.ChannelId] = ch with { Owners = [.. ch.Owners, c.Owner] };
                return CommandResult.Success;

            case ClusterCommand.RemoveOwner c:
                if (_channels.TryGetValue(c.ChannelId, out var ch2) && ch2.SessionId == c.SessionId)
                    _channels[c.ChannelId] = ch2 with { Owners = ch2.Owners.Where(o => o != c.Owner).ToArray() };
                return CommandResult.Success;

            case ClusterCommand.DestroySession c:
                if (_channels.TryGetValue(c.ChannelId, out var ch3) && ch3.SessionId == c.SessionId)
                {
                    _channels.Remove(c.ChannelId);
                    return CommandResult.Success;
                }
                return CommandResult.Fail($"session {c.SessionId} of channel {c.ChannelId} does not exist");

            case ClusterCommand.ClaimExclusive c:
                if (_channels.TryGetValue(c.ChannelId, out var held))
                {
                    if (held.Owners.FirstOrDefault(o => o != c.Owner) is { } other)
                        return new CommandResult(false, Error: $"session of channel {c.ChannelId} is on {other}", Value: other);
                    if (!held.Owners.Contains(c.Owner))
                        _channels[c.ChannelId] = held with { Owners = [.. held.Owners, c.Owner] };
                    return new CommandResult(true, Value: held.SessionId, Created: false);
                }
                _channels[c.ChannelId] = new ChannelRecord(c.ChannelId, c.SessionId, c.CreatedUnixMs, [c.Owner]);
                return new CommandResult(true, Value: c.SessionId, Created: true);

            case ClusterCommand.ReleaseSession c:
                if (!_channels.TryGetValue(c.ChannelId, out var released) || released.SessionId != c.SessionId)
                    return CommandResult.Success;
                var remaining = released.Owners.Where(o => o != c.Owner).ToArray();
                if (remaining.Length == 0)
                {
                    _channels.Remove(c.ChannelId);
                    return new CommandResult(true, Value: "destroyed");
                }
                _channels[c.ChannelId] = released with { Owners = remaining };
                return CommandResult.Success;

            case ClusterCommand.Barrier:
                return CommandResult.Success;

            default:
                return CommandResult.Fail("unknown command");
        }
    }

    private void RemoveOwnerEverywhere(string node)
    {
        foreach (var (id, ch) in _channels.ToArray())
        {
            if (!ch.Owners.Contains(node)) continue;
            var rest = ch.Owners.Where(o => o != node).ToArray();
            if (rest.Length == 0) _channels.Remove(id);
            else _channels[id] = ch with { Owners = rest };
        }
    }

    private ClusterView Snapshot() => new(
        new Dictionary<string, MemberRecord>(_members, StringComparer.Ordinal),
        new HashSet<string>(_purged, StringComparer.Ordinal),
        new Dictionary<string, ChannelRecord>(_channels, StringComparer.Ordinal),
        _version);

    /// <summary>Serializes the whole state (Raft snapshot, and the copy sent to temporary nodes).</summary>
    public byte[] EncodeSnapshot()
    {
        lock (_lock) return EncodeView(Snapshot());
    }

    public static byte[] EncodeView(ClusterView view)
    {
        var w = new WireWriter().Byte(ClusterCommand.Magic).Byte(SnapshotVersion).Int64(view.Version);
        w.Int32(view.Members.Count);
        foreach (var m in view.Members.Values) ClusterCommand.WriteMember(w, m);
        w.Int32(view.Purged.Count);
        foreach (var p in view.Purged) w.String(p);
        w.Int32(view.Channels.Count);
        foreach (var c in view.Channels.Values)
        {
            w.String(c.ChannelId).String(c.SessionId).Int64(c.CreatedUnixMs).Int32(c.Owners.Count);
            foreach (var o in c.Owners) w.String(o);
        }
        return w.ToArray();
    }

    /// <summary>Decodes a snapshot; null when corrupt.</summary>
    public static ClusterView? TryDecodeView(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        if (!r.Byte(out var magic) || magic != ClusterCommand.Magic || !r.Byte(out var v) || v != SnapshotVersion || !r.Int64(out var version))
            return null;
        var members = new Dictionary<string, MemberRecord>(StringComparer.Ordinal);
        if (!r.Count(out var nm, 8)) return null;
        for (var i = 0; i < nm; i++)
        {
            if (!ClusterCommand.ReadMember(ref r, out var m)) return null;
            members[m!.Name] = m;
        }
        var purged = new HashSet<string>(StringComparer.Ordinal);
        if (!r.Count(out var np, 4)) return null;
        for (var i = 0; i < np; i++)
        {
            if (!r.String(out var p)) return null;
            purged.Add(p);
        }
        var channels = new Dictionary<string, ChannelRecord>(StringComparer.Ordinal);
        if (!r.Count(out var nc, 8)) return null;
        for (var i = 0; i < nc; i++)
        {
            if (!r.String(out var id) || !r.String(out var sid) || !r.Int64(out var created) || !r.Count(out var no, 4)) return null;
            var owners = new string[no];
            for (var j = 0; j < no; j++)
                if (!r.String(out owners[j])) return null;
            channels[id] = new ChannelRecord(id, sid, created, owners);
        }
        return r.AtEnd ? new ClusterView(members, purged, channels, version) : null;
    }

    /// <summary>Replaces the whole state (snapshot restore, or a temporary node's copy from a regular node).</summary>
    public void Load(ClusterView view)
    {
        lock (_lock)
        {
            _members.Clear();
            foreach (var (k, m) in view.Members) _members[k] = m;
            _purged.Clear();
            _purged.UnionWith(view.Purged);
            _channels.Clear();
            foreach (var (k, c) in view.Channels) _channels[k] = c;
            _version = view.Version;
            _view = Snapshot();
        }
        Changed?.Invoke(_view);
    }
}
