namespace Hibari.Rtc.Srtp;

/// <summary>
/// Splits the DTLS exporter output ("EXTRACTOR-dtls_srtp", RFC 5764 §4.2) into the master keys of both directions:
/// client_write_key ‖ server_write_key ‖ client_write_salt ‖ server_write_salt.
/// </summary>
public static class DtlsSrtpKeyingMaterial
{
    /// <summary>Bytes to export for <paramref name="profile"/>: 2 × (master key + master salt).</summary>
    public static int Length(SrtpProfile profile) =>
        2 * (SrtpProfileInfo.MasterKeyLength(profile) + SrtpProfileInfo.MasterSaltLength(profile));

    /// <summary>
    /// The context that protects what this side sends and the one that unprotects what it receives. The DTLS
    /// client writes with the client keys, so a DTLS server (Hibari always is one) sends with the server keys.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="material"/> is not <see cref="Length"/> bytes.</exception>
    public static (SrtpContext Send, SrtpContext Receive) CreateContexts(SrtpProfile profile, ReadOnlySpan<byte> material, bool isDtlsClient)
    {
        if (material.Length != Length(profile))
            throw new ArgumentException($"keying material must be {Length(profile)} bytes for {profile}", nameof(material));
        var k = SrtpProfileInfo.MasterKeyLength(profile);
        var s = SrtpProfileInfo.MasterSaltLength(profile);
        var clientKey = material[..k];
        var serverKey = material.Slice(k, k);
        var clientSalt = material.Slice(2 * k, s);
        var serverSalt = material.Slice(2 * k + s, s);
        var client = new SrtpContext(profile, clientKey, clientSalt);
        var server = new SrtpContext(profile, serverKey, serverSalt);
        return isDtlsClient ? (client, server) : (server, client);
    }
}
