using System.Collections.Concurrent;

namespace Hibari.Api;

/// <summary>Which operation answers which `x-sora-target`: exact, ordinal match of the whole target.</summary>
public sealed class ApiRouter
{
    private readonly ConcurrentDictionary<string, ApiOperation> _operations = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="operation"/> for <paramref name="target"/>; a malformed or already registered target is an <see cref="ArgumentException"/>.</summary>
    public void Register(string target, ApiOperation operation)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(operation);
        if (!ApiTarget.IsWellFormed(target))
            throw new ArgumentException($"'{target}' is not a target of the form Sora_YYYYMMDD.Name", nameof(target));
        if (!_operations.TryAdd(target, operation))
            throw new ArgumentException($"an operation is already registered for '{target}'", nameof(target));
    }

    public bool TryGet(string target, out ApiOperation operation) => _operations.TryGetValue(target, out operation!);

    /// <summary>Registered targets, ordinally sorted (a snapshot).</summary>
    public IReadOnlyCollection<string> Targets
    {
        get
        {
            var targets = _operations.Keys.ToArray();
            Array.Sort(targets, StringComparer.Ordinal);
            return targets;
        }
    }
}
