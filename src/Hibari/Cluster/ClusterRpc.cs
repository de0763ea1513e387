using Hibari.Cluster.State;

namespace Hibari.Cluster;

/// <summary>
/// Requests that nodes send each other over node links: <c>[0x52 'R'][version 1][op][fields…]</c>.
/// Errors travel back as the remote handler's exception message (NodeLinkException on the caller).
/// </summary>
internal static class ClusterRpc
{
    private const byte Magic = 0x52;
    private const byte Version = 1;

    public enum Op : byte
    {
        /// <summary>→ the node's own <see cref="MemberRecord"/> and whether it is a member already.</summary>
        Identify = 1,
        /// <summary>InitCluster phase 2: the full list of regular members; the receiver bootstraps Raft with it.</summary>
        Bootstrap,
        /// <summary>A state command, executed by the leader (the receiver must be the leader).</summary>
        Execute,
        /// <summary>RegisterClusterNode at the contact node: forwarded to the leader, which adds the member.</summary>
        Join,
        /// <summary>The leader adds the member (regular: Raft AddMember + state; temporary: state lease).</summary>
        JoinAtLeader,
        /// <summary>The leader purges a regular member (Raft RemoveMember + purged name).</summary>
        PurgeAtLeader,
        /// <summary>→ quorum flag, leader name, and the state when newer than the caller's version (temporary nodes).</summary>
        GetState,
        /// <summary>A channel-scoped API operation for the receiver's own connections only (C-API-1 across owners): target, body → status, body.</summary>
        LocalApi,
    }

    public static byte[] Request(Op op, Action<WireWriter>? body = null)
    {
        var w = new WireWriter().Byte(Magic).Byte(Version).Byte((byte)op);
        body?.Invoke(w);
        return w.ToArray();
    }

    public static bool TryParseHeader(ref WireReader r, out Op op)
    {
        op = 0;
        if (!r.Byte(out var m) || m != Magic || !r.Byte(out var v) || v != Version || !r.Byte(out var o)) return false;
        op = (Op)o;
        return Enum.IsDefined(op);
    }

    public static byte[] EncodeMember(MemberRecord m)
    {
        var w = new WireWriter();
        ClusterCommand.WriteMember(w, m);
        return w.ToArray();
    }

    public static byte[] EncodeResult(CommandResult r) =>
        new WireWriter().Bool(r.Ok).NullableString(r.Error).NullableString(r.Value).Bool(r.Created).ToArray();

    public static CommandResult? DecodeResult(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        return r.Bool(out var ok) && r.NullableString(out var err) && r.NullableString(out var val) && r.Bool(out var created) && r.AtEnd
            ? new CommandResult(ok, err, val, created)
            : null;
    }
}

/// <summary>A cluster operation failed in a way the API reports as an error (not a bug).</summary>
public sealed class ClusterOperationException(string errorType, string message, int status = 400) : Exception(message)
{
    public string ErrorType { get; } = errorType;
    public int Status { get; } = status;
}
