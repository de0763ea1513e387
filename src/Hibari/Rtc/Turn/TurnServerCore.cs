using Hibari.Rtc.Transport;

namespace Hibari.Rtc.Turn;

/// <summary>The TURN server's protocol state (RFC 8656). Single-threaded: the host serialises every call.</summary>
public sealed class TurnServerCore
{
    private readonly TurnServerOptions _options;
    private readonly ITurnCredentials _credentials;

    public TurnServerCore(TurnServerOptions options, ITurnCredentials credentials)
    {
        _options = options;
        _credentials = credentials;
    }

    public event Action<TurnAllocationInfo>? AllocationCreated;
    public event Action<TurnAllocationInfo>? AllocationRemoved;
    public int AllocationCount => 0;
    public TurnCounters Counters { get; } = new();

    public TurnAction HandleFromClient(TurnClientKey client, ReadOnlySpan<byte> input, Span<byte> responseBuffer, long nowMicros) => TurnAction.None;

    public bool WrapFromPeer(EndpointKey relayed, EndpointKey peer, ReadOnlySpan<byte> payload, Span<byte> output, long nowMicros, out TurnClientKey client, out int length)
    {
        client = default;
        length = 0;
        return false;
    }

    public void Expire(long nowMicros) { }
    public void RevokeUser(string username) { }
    public void CloseClient(TurnClientKey client) { }

    private void Raise(TurnAllocationInfo info, bool created) => (created ? AllocationCreated : AllocationRemoved)?.Invoke(info);
}
