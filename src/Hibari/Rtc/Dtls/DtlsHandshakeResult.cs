using Hibari.Rtc.Srtp;

namespace Hibari.Rtc.Dtls;

/// <summary>
/// What a finished handshake yields for SRTP: the negotiated profile and the exporter output
/// ("EXTRACTOR-dtls_srtp", <see cref="DtlsSrtpKeyingMaterial.Length"/> bytes) to hand to
/// <see cref="DtlsSrtpKeyingMaterial.CreateContexts"/>, the SHA-256 fingerprint of the certificate the peer proved, and
/// the time from <see cref="DtlsEndpoint.Start"/> to the end of the handshake.
/// </summary>
public sealed record DtlsHandshakeResult(SrtpProfile Profile, byte[] KeyingMaterial, string RemoteFingerprint, TimeSpan Duration);

public enum DtlsState
{
    /// <summary>Constructed or started, handshake not finished yet.</summary>
    Handshaking,
    /// <summary>Handshake done; application data flows.</summary>
    Connected,
    /// <summary>The handshake or the connection failed (timeout, alert, rejected peer).</summary>
    Failed,
    /// <summary>Closed by <see cref="DtlsEndpoint.Dispose"/> or by the peer's close_notify.</summary>
    Closed,
}

public enum DtlsHandshakeFailure
{
    /// <summary>No complete handshake within <see cref="DtlsOptions.HandshakeTimeout"/>.</summary>
    Timeout,
    /// <summary>The peer's certificate is missing or its SHA-256 is not the fingerprint from its SDP.</summary>
    FingerprintMismatch,
    /// <summary>No SRTP protection profile both sides support (or no use_srtp at all).</summary>
    NoCommonSrtpProfile,
    /// <summary>The peer sent a fatal alert (see <see cref="DtlsHandshakeException.Alert"/>).</summary>
    AlertReceived,
    /// <summary>Any other protocol failure (see <see cref="DtlsHandshakeException.Alert"/> and the inner exception).</summary>
    ProtocolError,
    /// <summary>The endpoint was disposed before the handshake finished.</summary>
    Closed,
}

/// <summary>Why <see cref="DtlsEndpoint.Handshake"/> failed.</summary>
public sealed class DtlsHandshakeException(DtlsHandshakeFailure failure, string message, short? alert = null, Exception? inner = null)
    : Exception(message, inner)
{
    public DtlsHandshakeFailure Failure { get; } = failure;

    /// <summary>The TLS alert description (RFC 5246 §7.2) sent or received, when one was.</summary>
    public short? Alert { get; } = alert;
}

/// <summary>Sends one datagram to the peer (on the shared UDP socket). Must not keep <paramref name="datagram"/>.</summary>
public delegate void DtlsSend(ReadOnlySpan<byte> datagram);
