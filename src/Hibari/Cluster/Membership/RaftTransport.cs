using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Hibari.Cluster.Membership;

/// <summary>
/// Raft's network transport (D-42): TCP with mutual TLS keyed by `cluster_secret` (<see cref="RaftTransportSecurity"/>),
/// like DotNext's built-in TCP transport, but every outbound connection leaves from the node's own address (bound to
/// `listen_address` before connecting). DotNext's transport connects unbound, so on a host with several addresses a
/// node's Raft traffic left from whichever address the kernel picked (127.0.0.1 for every loopback node), and a cut of
/// one node's address did not cut its Raft traffic. Plugged into DotNext through its custom-transport configuration.
/// </summary>
internal static class RaftTransport
{
    /// <summary>A TLS handshake on the Raft port must finish within this, or the connection is dropped.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Outbound: bind to <paramref name="local"/> (port 0), connect, TLS as client.</summary>
    public sealed class Connector(IPAddress local, SslClientAuthenticationOptions tls) : IConnectionFactory
    {
        public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(HandshakeTimeout);
                    await ssl.AuthenticateAsClientAsync(tls, timeout.Token).ConfigureAwait(false);
                }
                catch
                {
                    await ssl.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
                return new TlsConnection(ssl, socket.LocalEndPoint, socket.RemoteEndPoint);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    /// <summary>Inbound: listen on the node's Raft end point; each accepted connection's TLS handshake runs on its own.</summary>
    public sealed class ListenerFactory(SslServerAuthenticationOptions tls, ILogger log) : IConnectionListenerFactory
    {
        private long _refused;

        /// <summary>Inbound connections whose TLS handshake failed or timed out (wrong secret, garbage, silence).</summary>
        public long RefusedHandshakes => Interlocked.Read(ref _refused);

        internal void CountRefused() => Interlocked.Increment(ref _refused);

        public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
        {
            var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(endpoint);
                socket.Listen(64);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            return new ValueTask<IConnectionListener>(new Listener(socket, tls, log, this));
        }
    }

    private sealed class Listener : IConnectionListener
    {
        private readonly Socket _socket;
        private readonly SslServerAuthenticationOptions _tls;
        private readonly ILogger _log;
        private readonly CancellationTokenSource _stop = new();
        // Handshaken connections wait here for DotNext's accept loop; a bound keeps a flood from piling up.
        private readonly Channel<ConnectionContext> _ready = Channel.CreateBounded<ConnectionContext>(new BoundedChannelOptions(64)
        {
            FullMode = BoundedChannelFullMode.Wait,
        });
        private readonly Task _accepting;

        private readonly ListenerFactory _factory;

        public Listener(Socket socket, SslServerAuthenticationOptions tls, ILogger log, ListenerFactory factory)
        {
            _factory = factory;
            _socket = socket;
            _tls = tls;
            _log = log;
            _accepting = Task.Run(AcceptLoopAsync);
        }

        public EndPoint EndPoint => _socket.LocalEndPoint!;

        private async Task AcceptLoopAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
                    client.NoDelay = true;
                    _ = HandshakeAsync(client); // a slow or hostile peer must not hold up the next one
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // unbound or disposed
            }
            finally
            {
                _ready.Writer.TryComplete();
            }
        }

        private async Task HandshakeAsync(Socket client)
        {
            var remote = client.RemoteEndPoint;
            var ssl = new SslStream(new NetworkStream(client, ownsSocket: true));
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(HandshakeTimeout);
                await ssl.AuthenticateAsServerAsync(_tls, timeout.Token).ConfigureAwait(false);
                var connection = new TlsConnection(ssl, client.LocalEndPoint, remote);
                if (!_ready.Writer.TryWrite(connection) && !await WriteAsync(connection).ConfigureAwait(false))
                    await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException
                                          or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                if (!_stop.IsCancellationRequested) _factory.CountRefused();
                _log.LogDebug("Raft connection from {Remote} refused: {Error}", remote, e.Message);
                await ssl.DisposeAsync().ConfigureAwait(false);
            }
        }

        private async Task<bool> WriteAsync(ConnectionContext connection)
        {
            try
            {
                await _ready.Writer.WriteAsync(connection, _stop.Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
            {
                return false;
            }
        }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null; // the listener was unbound
            }
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            _socket.Close();
            await _accepting.ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            await UnbindAsync().ConfigureAwait(false);
            while (_ready.Reader.TryRead(out var pending)) await pending.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }
    }

    /// <summary>A TLS stream as the pipe pair DotNext's custom transport reads and writes.</summary>
    private sealed class TlsConnection : ConnectionContext, IDuplexPipe
    {
        private static long _ids;
        private readonly SslStream _stream;
        private int _disposed;

        public TlsConnection(SslStream stream, EndPoint? local, EndPoint? remote)
        {
            _stream = stream;
            Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
            Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
            LocalEndPoint = local;
            RemoteEndPoint = remote;
            ConnectionId = "raft-" + Interlocked.Increment(ref _ids).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public PipeReader Input { get; }
        public PipeWriter Output { get; }

        public override IDuplexPipe Transport
        {
            get => this;
            set => throw new NotSupportedException("the transport of a Raft connection is its TLS stream");
        }

        public override string ConnectionId { get; set; }
        public override IFeatureCollection Features { get; } = new FeatureCollection();
        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override void Abort(ConnectionAbortedException abortReason) => _stream.Dispose();

        public override async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await Input.CompleteAsync().ConfigureAwait(false);
            try
            {
                await Output.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // the peer is gone: nothing left to flush
            }
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
