// Mirrors src/Hibari/Rtc/Sctp/ISctpAssociation.cs (namespace Hibari.Rtc.Sctp, branch `sctp`) type for type, so that the
// usrsctp oracle and the managed association can be wired together later by replacing this file with
// `using Hibari.Rtc.Sctp;`. Keep the two IDENTICAL; test-only, never referenced by src/.
namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

public interface ISctpAssociation : IDisposable
{
    void Receive(ReadOnlySpan<byte> packet);                 // an SCTP packet from the peer (as out of DTLS)
    Action<ReadOnlyMemory<byte>>? Output { get; set; }       // packets to send to the peer
    void Tick(long nowMicros);                               // timers
    void Start(bool sendInit);
    SctpState State { get; }
    event Action? Established;
    event Action<string>? Closed;
    bool Send(ushort streamId, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options);
    event Action<SctpMessage>? MessageReceived;              // whole messages
    void ResetStream(ushort streamId);
    event Action<ushort>? StreamReset;
    long BufferedAmount { get; }
}

public readonly record struct SctpSendOptions(bool Unordered = false, int? MaxRetransmits = null, TimeSpan? MaxLifetime = null);

public sealed record SctpMessage(ushort StreamId, uint Ppid, byte[] Data);

public enum SctpState { Closed, CookieWait, CookieEchoed, Established, ShutdownPending, ShutdownSent, ShutdownReceived, ShutdownAckSent }
