using System.Diagnostics;

namespace Hibari.Rtc.Dtls;

/// <summary>
/// One in-memory client↔server handshake at start-up, so the first browser does not wait for BouncyCastle's JIT
/// (~150–300 ms cold; Chrome retransmits meanwhile: docs/dtls.md, pitfall 7).
/// </summary>
public static class DtlsWarmup
{
    /// <summary>Runs the handshake (BouncyCastle) and one record each way (the managed record layer); returns how long it took.</summary>
    /// <exception cref="InvalidOperationException">The handshake did not complete (with the cause inside).</exception>
    public static TimeSpan Run(TimeSpan? timeout = null)
    {
        var started = Stopwatch.GetTimestamp();
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var serverCertificate = DtlsCertificate.Generate();
        var clientCertificate = DtlsCertificate.Generate();
        var options = new DtlsOptions { HandshakeTimeout = limit };
        // The client gets a pool of its own: while it waits for the server it holds its thread, and the server's job
        // must not queue behind it (a default pool of one thread would deadlock until the timeout).
        using var clientPool = new DtlsHandshakePool(1, "DTLS warm-up client");
        var clientOptions = new DtlsOptions { HandshakeTimeout = limit, HandshakePool = clientPool };
        DtlsClientEndpoint? client = null;
        using var server = new DtlsServerEndpoint(serverCertificate, clientCertificate.Fingerprint, d => client!.Deliver(d), options);
        using (client = new DtlsClientEndpoint(clientCertificate, serverCertificate.Fingerprint, d => server.Deliver(d), clientOptions))
        {
            using var received = new CountdownEvent(2);
            server.ApplicationData = _ => received.Signal();
            client.ApplicationData = _ => received.Signal();
            server.Start();
            client.Start();
            try
            {
                if (!Task.WaitAll([server.Handshake, client.Handshake], limit))
                    throw new TimeoutException($"no warm-up handshake within {limit}");
            }
            catch (AggregateException e)
            {
                throw new InvalidOperationException("the DTLS warm-up handshake failed", e.InnerException);
            }
            catch (TimeoutException e)
            {
                throw new InvalidOperationException("the DTLS warm-up handshake failed", e);
            }
            Span<byte> record = stackalloc byte[64];
            server.SendApplicationData(record);
            client.SendApplicationData(record);
            received.Wait(limit);
        }
        return Stopwatch.GetElapsedTime(started);
    }
}
