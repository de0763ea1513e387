namespace Hibari.Rtc.Sctp;

/// <summary>
/// One SCTP association over DTLS (RFC 8261), the boundary the SFU and the DTLS layer use.
/// Not thread-safe: the caller serialises <see cref="Receive"/>, <see cref="Tick"/>, <see cref="Send"/> and
/// <see cref="ResetStream"/> (one connection loop); events are raised synchronously from inside those calls.
/// </summary>
public interface ISctpAssociation : IDisposable
{
    /// <summary>An SCTP packet that came out of DTLS (application data). Never throws on bad input.</summary>
    void Receive(ReadOnlySpan<byte> packet);
    /// <summary>Packets to send over DTLS (set before Start).</summary>
    Action<ReadOnlyMemory<byte>>? Output { get; set; }
    /// <summary>Drives timers (T1/T3/delayed SACK/heartbeat/reconfig); call every ~10 ms with a monotonic µs clock.</summary>
    void Tick(long nowMicros);
    /// <summary>Passive (server) or active open. The SFU is DTLS server: it accepts the peer's INIT whenever it comes, and may also send its own INIT (then handle the collision per RFC 9260 §5.2).</summary>
    void Start(bool sendInit);
    SctpState State { get; }
    event Action? Established;
    event Action<string>? Closed;                 // reason (ABORT, SHUTDOWN, max retransmissions)
    /// <summary>Queue one message; false when the send buffer is full (back-pressure) or not established.</summary>
    bool Send(ushort streamId, uint ppid, ReadOnlySpan<byte> message, SctpSendOptions options);
    event Action<SctpMessage>? MessageReceived;   // whole, reassembled messages
    /// <summary>Reset our outgoing stream (data channel close); the peer resets its own in answer.</summary>
    void ResetStream(ushort streamId);
    event Action<ushort>? StreamReset;            // the peer reset its outgoing stream (close)
    long BufferedAmount { get; }                  // bytes queued and unacknowledged
}

public readonly record struct SctpSendOptions(bool Unordered = false, int? MaxRetransmits = null, TimeSpan? MaxLifetime = null);

public sealed record SctpMessage(ushort StreamId, uint Ppid, byte[] Data);

public enum SctpState { Closed, CookieWait, CookieEchoed, Established, ShutdownPending, ShutdownSent, ShutdownReceived, ShutdownAckSent }

/// <summary>Settings of one association; defaults are what WebRTC data channels use.</summary>
public sealed record SctpOptions
{
    public ushort LocalPort { get; init; } = 5000;
    public ushort RemotePort { get; init; } = 5000;
    /// <summary>a=max-message-size (RFC 8841 §6): larger incoming messages are dropped.</summary>
    public int MaxMessageSize { get; init; } = 262_144;
    /// <summary>Receive window advertised as a_rwnd (bytes).</summary>
    public int ReceiveWindow { get; init; } = 1024 * 1024;
    /// <summary>Send buffer limit: <see cref="ISctpAssociation.Send"/> returns false beyond it.</summary>
    public int SendBufferSize { get; init; } = 2 * 1024 * 1024;
    /// <summary>Largest SCTP packet (before DTLS); 1,200 keeps the DTLS record in a 1,280-byte IPv6 path.</summary>
    public int Mtu { get; init; } = 1200;
    public ushort Streams { get; init; } = 65535;
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Association.Max.Retrans (RFC 9260 §16): consecutive timeouts before the association is closed.</summary>
    public int MaxRetransmissions { get; init; } = 10;
    public int MaxInitRetransmissions { get; init; } = 8;
    public TimeSpan DelayedAck { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan CookieLifetime { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Source of verification tags and initial TSNs (seed it in tests).</summary>
    public Random Random { get; init; } = Random.Shared;
}
