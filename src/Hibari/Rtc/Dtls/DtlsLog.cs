using Microsoft.Extensions.Logging;

namespace Hibari.Rtc.Dtls;

internal static partial class DtlsLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "DTLS {Role} {Name}: handshake started on {Thread} after {Milliseconds} ms (queued for the handshake pool)")]
    public static partial void HandshakeStarted(ILogger logger, string role, string name, long milliseconds, string? thread);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DTLS {Role} {Name}: handshake done in {Milliseconds} ms, {Profile}, {CipherSuite}, peer {Fingerprint}")]
    public static partial void HandshakeDone(ILogger logger, string role, string name, long milliseconds, Hibari.Rtc.Srtp.SrtpProfile profile, string fingerprint, string cipherSuite);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DTLS {Role} {Name}: the peer repeated its last flight, sent ours again ({Datagrams} datagrams)")]
    public static partial void FinalFlightResent(ILogger logger, string role, string name, int datagrams);

    [LoggerMessage(Level = LogLevel.Information, Message = "DTLS {Role} {Name}: handshake failed ({Failure}): {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string role, string name, DtlsHandshakeFailure failure, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "DTLS {Role} {Name}: connection ended ({State}): {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string role, string name, DtlsState state, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DTLS {Role} {Name}: the application data handler threw")]
    public static partial void HandlerThrew(ILogger logger, string role, string name, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "DTLS {Role} {Name}: the handshake job did not end within {Milliseconds} ms of Dispose")]
    public static partial void JobDidNotEnd(ILogger logger, string role, string name, long milliseconds);
}
