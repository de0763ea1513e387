using Hibari.Rtc.Sctp;

namespace Hibari.Tests.Rtc.DataChannels;

/// <summary>An <see cref="ISctpAssociation"/> without a wire: records sends and resets, and lets a test play the peer.</summary>
internal sealed class FakeSctpAssociation : ISctpAssociation
{
    public readonly List<(ushort StreamId, uint Ppid, byte[] Data, SctpSendOptions Options)> Sent = new();
    public readonly List<ushort> Resets = new();
    /// <summary>Streams whose outgoing reset is "in flight": sends on them are refused, like the real association.</summary>
    public readonly HashSet<ushort> Resetting = new();
    public bool RefuseSends { get; set; }

    public Action<ReadOnlyMemory<byte>>? Output { get; set; }
    public SctpState State { get; set; } = SctpState.Established;
    public long BufferedAmount { get; set; }
    public event Action? Established;
    public event Action<string>? Closed;
    public event Action<SctpMessage>? MessageReceived;
    public event Action<ushort>? StreamReset;

    public void Receive(ReadOnlySpan<byte> packet) { }
    public void Tick(long nowMicros) { }
    public void Start(bool sendInit) => Established?.Invoke();

    public bool Send(ushort streamId, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options)
    {
        if (State != SctpState.Established || RefuseSends || Resetting.Contains(streamId)) return false;
        Sent.Add((streamId, ppid, message.ToArray(), options));
        return true;
    }

    public void ResetStream(ushort streamId)
    {
        if (State != SctpState.Established) return;
        Resets.Add(streamId);
        Resetting.Add(streamId);
    }

    public void Dispose() { }

    // --- the peer
    public void Deliver(ushort streamId, uint ppid, byte[] data) => MessageReceived?.Invoke(new SctpMessage(streamId, ppid, data));
    public void PeerResets(ushort streamId) => StreamReset?.Invoke(streamId);
    /// <summary>The peer confirmed our reset: the stream may be used again.</summary>
    public void ConfirmReset(ushort streamId) => Resetting.Remove(streamId);
    public void Close(string reason) { State = SctpState.Closed; Closed?.Invoke(reason); }
}
