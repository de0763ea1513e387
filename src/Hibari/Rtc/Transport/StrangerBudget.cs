namespace Hibari.Rtc.Transport;

/// <summary>
/// How many datagrams per second a source address (its IP, any port) may send to a media port before ICE authenticated
/// it for a connection: binding requests that fail authentication and DTLS/RTP from addresses no connection knows
/// (`rtc_max_unauthenticated_per_address`, docs/decisions.md D-47). An address over its budget is dropped before any work
/// is done for it (no STUN parsing, no integrity check, no error response sent back): a flood from one address costs
/// the worker a table lookup per datagram, not a response each. Authenticated endpoints are never charged: a
/// connection's consent checks and media go round this.
/// <para>
/// One fixed table per media worker, owned by its thread (docs/threads.md): <see cref="Slots"/> entries indexed by a
/// hash of the IP, each a one-second window. Two addresses that hash to the same slot take it from each other (the
/// newcomer starts a fresh window): memory stays bounded whatever a spoofed flood sends, at the price that two
/// colliding attackers reset each other's count; one address alone can never exceed the budget.
/// </para>
/// </summary>
public sealed class StrangerBudget
{
    /// <summary>Table size (a power of two).</summary>
    public const int Slots = 4096;
    private const long WindowMicros = 1_000_000;

    private readonly int _perSecond;
    private readonly Slot[] _slots;
    private long _dropped;

    /// <param name="perSecond">Datagrams per address per second; 0 turns the budget off.</param>
    public StrangerBudget(int perSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(perSecond);
        _perSecond = perSecond;
        _slots = perSecond == 0 ? [] : new Slot[Slots];
    }

    /// <summary>Datagrams dropped because their address had spent its budget (read from any thread).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Whether <paramref name="source"/>'s address has spent this second's budget; counts the datagram as dropped when so.
    /// </summary>
    public bool Exhausted(in EndpointKey source, long nowMicros)
    {
        if (_perSecond == 0) return false;
        ref var slot = ref _slots[Index(source)];
        if (slot.High != source.High || slot.Low != source.Low || nowMicros - slot.WindowStart >= WindowMicros) return false;
        if (slot.Count < _perSecond) return false;
        Interlocked.Increment(ref _dropped);
        return true;
    }

    /// <summary>Charges one unauthenticated datagram to <paramref name="source"/>'s address.</summary>
    public void Charge(in EndpointKey source, long nowMicros)
    {
        if (_perSecond == 0) return;
        ref var slot = ref _slots[Index(source)];
        if (slot.High != source.High || slot.Low != source.Low || nowMicros - slot.WindowStart >= WindowMicros)
        {
            slot.High = source.High;
            slot.Low = source.Low;
            slot.WindowStart = nowMicros;
            slot.Count = 0;
        }
        if (slot.Count < int.MaxValue) slot.Count++;
    }

    internal static int Index(in EndpointKey key)
    {
        var h = (key.High ^ key.Low) * 0x9E37_79B9_7F4A_7C15UL;
        return (int)(h >> 52) & (Slots - 1);
    }

    private struct Slot
    {
        public ulong High, Low;
        public long WindowStart;
        public int Count;
    }
}
