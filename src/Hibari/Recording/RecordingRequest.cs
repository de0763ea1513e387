using System.Text.Json;

namespace Hibari.Recording;

/// <summary>
/// What a recording was asked to do: `Sora_20231220.StartRecording`'s body, or the `recording_*` fields of the
/// session.created webhook's answer (docs/decisions.md D-58). Validated here with the ranges Sora documents.
/// </summary>
internal sealed record RecordingRequest
{
    /// <summary>Seconds after the start when the recording stops by itself (1–86400; null: until stopped or the session ends).</summary>
    public int? ExpireTime { get; init; }
    /// <summary>Seconds per split file (1–86400; null: no split files).</summary>
    public int? SplitDuration { get; init; }
    /// <summary>Only split files (needs <see cref="SplitDuration"/>).</summary>
    public bool SplitOnly { get; init; }
    /// <summary>The request's `metadata` (a JSON object), copied into the report as `recording_metadata`.</summary>
    public JsonElement? Metadata { get; init; }

    public const int MaxSeconds = 86_400;

    /// <summary>Reads the API body's fields (channel_id is the caller's). Error: a message naming the field.</summary>
    public static RecordingRequest? FromApi(JsonElement body, int maxExpire, int maxSplit, out string? error) =>
        Read(body, "expire_time", "split_duration", "split_only", "metadata", maxExpire, maxSplit, out error);

    /// <summary>Reads the session.created answer's `recording_expire_time`, `recording_split_duration`, `recording_split_only`, `recording_metadata`.</summary>
    public static RecordingRequest? FromSessionAnswer(JsonElement answer, int maxExpire, int maxSplit, out string? error) =>
        Read(answer, "recording_expire_time", "recording_split_duration", "recording_split_only", "recording_metadata", maxExpire, maxSplit, out error);

    private static RecordingRequest? Read(JsonElement o, string expireKey, string splitKey, string splitOnlyKey, string metadataKey,
        int maxExpire, int maxSplit, out string? error)
    {
        error = null;
        if (!Seconds(o, expireKey, maxExpire, out var expire, ref error) || !Seconds(o, splitKey, maxSplit, out var split, ref error)) return null;
        var splitOnly = false;
        if (o.TryGetProperty(splitOnlyKey, out var so) && so.ValueKind != JsonValueKind.Null)
        {
            if (so.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                error = $"{splitOnlyKey} must be a boolean";
                return null;
            }
            splitOnly = so.GetBoolean();
        }
        if (splitOnly && split is null)
        {
            error = $"{splitOnlyKey} needs {splitKey}";
            return null;
        }
        JsonElement? metadata = null;
        if (o.TryGetProperty(metadataKey, out var md) && md.ValueKind != JsonValueKind.Null)
        {
            if (md.ValueKind != JsonValueKind.Object)
            {
                error = $"{metadataKey} must be a JSON object";
                return null;
            }
            metadata = md.Clone();
        }
        return new RecordingRequest { ExpireTime = expire, SplitDuration = split, SplitOnly = splitOnly, Metadata = metadata };
    }

    private static bool Seconds(JsonElement o, string key, int max, out int? value, ref string? error)
    {
        value = null;
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return true;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < 1 || n > max)
        {
            error = $"{key} must be an integer from 1 to {max} (seconds)";
            return false;
        }
        value = n;
        return true;
    }
}
