namespace Hibari.Cluster.State;

/// <summary>
/// The commands of the replicated state machine. Each encodes to
/// <c>[0x48 'H'][version 1][opcode][fields…]</c>; anything else in the log is skipped and counted, never thrown on.
/// </summary>
public abstract record ClusterCommand
{
    internal const byte Magic = 0x48;
    internal const byte FormatVersion = 1;

    /// <summary>Add or update a member. Refused when the name was purged (C-MEM-4) or the cluster is full (C-MEM-8).</summary>
    public sealed record AddMember(MemberRecord Member, int MaxNodes) : ClusterCommand;
    /// <summary>Remove a member and its channel ownerships; with <see cref="Purge"/> the name can never come back.</summary>
    public sealed record RemoveMember(string Name, bool Purge) : ClusterCommand;
    public sealed record SetMode(string Name, string Mode) : ClusterCommand;
    /// <summary>Set-if-absent: the first claim of a channel creates its session; later claims join it. Returns the winning session id.</summary>
    public sealed record ClaimSession(string ChannelId, string SessionId, string Owner, long CreatedUnixMs) : ClusterCommand;
    public sealed record AddOwner(string ChannelId, string SessionId, string Owner) : ClusterCommand;
    public sealed record RemoveOwner(string ChannelId, string SessionId, string Owner) : ClusterCommand;
    /// <summary>Destroys the session if it is still the channel's current one.</summary>
    public sealed record DestroySession(string ChannelId, string SessionId) : ClusterCommand;
    /// <summary>
    /// Set-if-absent for a session that must live on one node (relay off, C-NOREL-2, C-MAJ-4): the claim joins an
    /// existing session only if no other node owns it; otherwise it fails with the owner's name as its value.
    /// </summary>
    public sealed record ClaimExclusive(string ChannelId, string SessionId, string Owner, long CreatedUnixMs) : ClusterCommand;
    /// <summary>This node's last connection of the session left: it stops owning it, and the last owner destroys it.</summary>
    public sealed record ReleaseSession(string ChannelId, string SessionId, string Owner) : ClusterCommand;

    /// <summary>
    /// Written by every new leader: committing an entry of its own term also commits (and so applies everywhere) the
    /// entries of earlier terms, e.g. after the whole cluster restarted.
    /// </summary>
    public sealed record Barrier(long Term) : ClusterCommand;

    private enum Op : byte { AddMember = 1, RemoveMember, SetMode, ClaimSession, AddOwner, RemoveOwner, DestroySession, Barrier, ClaimExclusive, ReleaseSession }

    public byte[] Encode()
    {
        var w = new WireWriter().Byte(Magic).Byte(FormatVersion);
        switch (this)
        {
            case AddMember c: w.Byte((byte)Op.AddMember); WriteMember(w, c.Member); w.Int32(c.MaxNodes); break;
            case RemoveMember c: w.Byte((byte)Op.RemoveMember).String(c.Name).Bool(c.Purge); break;
            case SetMode c: w.Byte((byte)Op.SetMode).String(c.Name).String(c.Mode); break;
            case ClaimSession c: w.Byte((byte)Op.ClaimSession).String(c.ChannelId).String(c.SessionId).String(c.Owner).Int64(c.CreatedUnixMs); break;
            case AddOwner c: w.Byte((byte)Op.AddOwner).String(c.ChannelId).String(c.SessionId).String(c.Owner); break;
            case RemoveOwner c: w.Byte((byte)Op.RemoveOwner).String(c.ChannelId).String(c.SessionId).String(c.Owner); break;
            case DestroySession c: w.Byte((byte)Op.DestroySession).String(c.ChannelId).String(c.SessionId); break;
            case ClaimExclusive c: w.Byte((byte)Op.ClaimExclusive).String(c.ChannelId).String(c.SessionId).String(c.Owner).Int64(c.CreatedUnixMs); break;
            case ReleaseSession c: w.Byte((byte)Op.ReleaseSession).String(c.ChannelId).String(c.SessionId).String(c.Owner); break;
            case Barrier c: w.Byte((byte)Op.Barrier).Int64(c.Term); break;
            default: throw new InvalidOperationException("unknown command " + GetType().Name);
        }
        return w.ToArray();
    }

    /// <summary>Decodes a command; null for anything that is not a well-formed command of this format.</summary>
    public static ClusterCommand? TryDecode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        if (!r.Byte(out var magic) || magic != Magic || !r.Byte(out var version) || version != FormatVersion || !r.Byte(out var op))
            return null;
        ClusterCommand? cmd = (Op)op switch
        {
            Op.AddMember => ReadMember(ref r, out var m) && r.Int32(out var max) ? new AddMember(m!, max) : null,
            Op.RemoveMember => r.String(out var n) && r.Bool(out var p) ? new RemoveMember(n, p) : null,
            Op.SetMode => r.String(out var n) && r.String(out var mode) ? new SetMode(n, mode) : null,
            Op.ClaimSession => r.String(out var ch) && r.String(out var s) && r.String(out var o) && r.Int64(out var t) ? new ClaimSession(ch, s, o, t) : null,
            Op.AddOwner => r.String(out var ch) && r.String(out var s) && r.String(out var o) ? new AddOwner(ch, s, o) : null,
            Op.RemoveOwner => r.String(out var ch) && r.String(out var s) && r.String(out var o) ? new RemoveOwner(ch, s, o) : null,
            Op.DestroySession => r.String(out var ch) && r.String(out var s) ? new DestroySession(ch, s) : null,
            Op.Barrier => r.Int64(out var term) ? new Barrier(term) : null,
            Op.ClaimExclusive => r.String(out var ch) && r.String(out var s) && r.String(out var o) && r.Int64(out var t) ? new ClaimExclusive(ch, s, o, t) : null,
            Op.ReleaseSession => r.String(out var ch) && r.String(out var s) && r.String(out var o) ? new ReleaseSession(ch, s, o) : null,
            _ => null,
        };
        return cmd is not null && r.AtEnd ? cmd : null;
    }

    internal static void WriteMember(WireWriter w, MemberRecord m) =>
        w.String(m.Name).Bool(m.Temporary).NullableString(m.RaftEndPoint).String(m.LinkEndPoint)
         .NullableString(m.ExternalSignalingUrl).NullableString(m.ExternalApiUrl)
         .Int32(m.LicenseMaxConnections).Int32(m.LicenseMaxNodes).String(m.LicenseSerialCode).String(m.LicenseType)
         .String(m.Version).String(m.Mode).Int64(m.MemberSinceUnixMs).String(m.Incarnation);

    internal static bool ReadMember(ref WireReader r, out MemberRecord? m)
    {
        m = null;
        if (!r.String(out var name) || !r.Bool(out var temp) || !r.NullableString(out var raft) || !r.String(out var link)
            || !r.NullableString(out var sig) || !r.NullableString(out var api) || !r.Int32(out var maxConn) || !r.Int32(out var maxNodes)
            || !r.String(out var serial) || !r.String(out var type) || !r.String(out var version) || !r.String(out var mode)
            || !r.Int64(out var since) || !r.String(out var incarnation))
            return false;
        m = new MemberRecord
        {
            Name = name, Temporary = temp, RaftEndPoint = raft, LinkEndPoint = link, ExternalSignalingUrl = sig, ExternalApiUrl = api,
            LicenseMaxConnections = maxConn, LicenseMaxNodes = maxNodes, LicenseSerialCode = serial, LicenseType = type,
            Version = version, Mode = mode, MemberSinceUnixMs = since, Incarnation = incarnation,
        };
        return true;
    }
}
