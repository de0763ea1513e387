using Hibari.Rtc.Srtp;

namespace Hibari.Rtc.Dtls;

/// <summary>Settings of one DTLS endpoint; checked when an endpoint is constructed.</summary>
public sealed class DtlsOptions
{
    /// <summary>
    /// The whole handshake must finish within this time, counted from Start (time queued for a
    /// <see cref="DtlsHandshakePool"/> thread included). BouncyCastle's default is to wait forever, which would pin a
    /// pool thread per vanished browser (docs/dtls.md, pitfall 3).
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First retransmission of an unanswered flight; BouncyCastle doubles it after each one (RFC 6347 §4.2.4.1).</summary>
    public TimeSpan RetransmitTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// SRTP profiles, most preferred first. A server picks the first one the client offers and refuses a client that
    /// offers none; a client offers them in this order (empty: offers no use_srtp at all, to test a server's refusal).
    /// </summary>
    public IReadOnlyList<SrtpProfile> SrtpProfiles { get; init; } = [SrtpProfile.AeadAes128Gcm, SrtpProfile.AesCm128HmacSha1_80];

    /// <summary>
    /// Datagrams held for the handshake job until it reads them; more are dropped (and counted) rather than block the
    /// socket thread. Unused after the handshake (records are decrypted in Deliver).
    /// </summary>
    public int ReceiveQueueCapacity { get; init; } = 256;

    /// <summary>
    /// Where the handshake runs; null: <see cref="DtlsHandshakePool.Default"/> for a server,
    /// <see cref="DtlsHandshakePool.DefaultClient"/> for a client (docs/dtls.md).
    /// </summary>
    public DtlsHandshakePool? HandshakePool { get; init; }

    public static DtlsOptions Default { get; } = new();

    internal void Validate(bool isServer)
    {
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout.TotalMilliseconds > int.MaxValue)
            throw new ArgumentException($"{nameof(HandshakeTimeout)} must be positive, was {HandshakeTimeout}", nameof(HandshakeTimeout));
        if (RetransmitTimeout < TimeSpan.FromMilliseconds(1) || RetransmitTimeout > HandshakeTimeout)
            throw new ArgumentException($"{nameof(RetransmitTimeout)} must be between 1 ms and {nameof(HandshakeTimeout)}, was {RetransmitTimeout}", nameof(RetransmitTimeout));
        if (ReceiveQueueCapacity < 1)
            throw new ArgumentException($"{nameof(ReceiveQueueCapacity)} must be at least 1, was {ReceiveQueueCapacity}", nameof(ReceiveQueueCapacity));
        ArgumentNullException.ThrowIfNull(SrtpProfiles, nameof(SrtpProfiles));
        if (isServer && SrtpProfiles.Count == 0)
            throw new ArgumentException($"{nameof(SrtpProfiles)} must name at least one profile for a server", nameof(SrtpProfiles));
        foreach (var p in SrtpProfiles)
        {
            if (!Enum.IsDefined(p))
                throw new ArgumentException($"{nameof(SrtpProfiles)} contains an unsupported profile {p}", nameof(SrtpProfiles));
        }
        if (SrtpProfiles.Distinct().Count() != SrtpProfiles.Count)
            throw new ArgumentException($"{nameof(SrtpProfiles)} names a profile twice", nameof(SrtpProfiles));
    }
}
