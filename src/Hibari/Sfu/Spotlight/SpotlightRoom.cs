namespace Hibari.Sfu.Spotlight;

/// <summary>
/// A spotlight session on this node (D-37): who is focused, in which slot, and what the spotlight APIs changed.
/// Control context (under <see cref="SfuContext.Gate"/>): the focus is decided on the control side from the audio levels
/// the publishers' workers publish (<see cref="Publication.AudioLevelSample"/>), and applied to the receivers'
/// subscriptions by posts to their workers.
/// </summary>
internal sealed class SpotlightRoom(int spotlightNumber)
{
    public SpotlightSelector Selector { get; } = new(spotlightNumber);
    /// <summary>The focused senders as applied, by slot (null = a free slot); `spotlight.changed` names the slot.</summary>
    public string?[] Slots { get; } = new string?[SpotlightSelector.MaxSpotlightNumber];
    /// <summary>The focused set as applied to the subscriptions (the selector's answer of the last change).</summary>
    public HashSet<string> Focused { get; } = new(StringComparer.Ordinal);
    /// <summary>The senders the selector was told about (so that the ones gone are removed from it).</summary>
    public HashSet<string> KnownSenders { get; } = new(StringComparer.Ordinal);
    /// <summary>When the decider last sent its focus to the other nodes (media clock, µs; D-40).</summary>
    public long LastBroadcastMicros { get; set; }

    public bool IsFocused(string connectionId) => Focused.Contains(connectionId);

    /// <summary>
    /// Takes the selector's new focus set: who gained and who lost focus, each gainer placed in the lowest free slot (a
    /// sender keeps its slot while focused, so a slot's occupant changes only when its sender loses focus).
    /// </summary>
    public (List<(string Id, int Slot)> Gained, List<string> Lost) Apply(IReadOnlyList<string> focused)
    {
        var now = new HashSet<string>(focused, StringComparer.Ordinal);
        var lost = Focused.Where(id => !now.Contains(id)).ToList();
        foreach (var id in lost)
        {
            Focused.Remove(id);
            var slot = Array.IndexOf(Slots, id);
            if (slot >= 0) Slots[slot] = null;
        }
        var gained = new List<(string, int)>();
        foreach (var id in focused)
        {
            if (!Focused.Add(id)) continue;
            var slot = Array.IndexOf(Slots, null);
            if (slot < 0) slot = 0; // cannot happen: the selector keeps at most MaxSpotlightNumber
            Slots[slot] = id;
            gained.Add((id, slot));
        }
        return (gained, lost);
    }
}
