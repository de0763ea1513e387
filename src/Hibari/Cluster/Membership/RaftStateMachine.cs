using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Hibari.Cluster.State;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Membership;

/// <summary>
/// Bridges DotNext's log to <see cref="ClusterState"/>. Defensive by design (docs/protocol-notes.md, "Problems seen in multi-process tests" 2):
/// configuration entries and anything that is not one of our commands are skipped and counted, never thrown on.
/// </summary>
internal sealed class RaftStateMachine(DirectoryInfo location, ClusterState state, ILogger logger) : SimpleStateMachine(location)
{
    private const int SnapshotEvery = 512;

    protected override async ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        CommandResult? result = null;
        try
        {
            if (!entry.IsConfiguration)
            {
                byte[] bytes;
                if (entry.TryGetPayload(out var seq)) bytes = seq.ToArray();
                else bytes = await entry.ToByteArrayAsync(null, token).ConfigureAwait(false);
                result = state.ApplyRaw(bytes);
                if (result is null)
                    logger.LogWarning("Skipped log entry {Index}: not a Hibari command ({Length} bytes)", entry.Index, bytes.Length);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Skipped log entry {Index}: it could not be read", entry.Index);
        }
        if (entry.Context is TaskCompletionSource<CommandResult?> tcs)
            tcs.TrySetResult(result);
        return entry.Index % SnapshotEvery == 0;
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.Invoke(state.EncodeSnapshot(), token);

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        if (ClusterState.TryDecodeView(bytes) is { } view) state.Load(view);
        else logger.LogError("Raft snapshot {File} is corrupt ({Length} bytes); starting from the log alone", snapshotFile.FullName, bytes.Length);
    }
}
