using System.Net;
using System.Net.Sockets;

namespace Hibari.Cluster.Links;

/// <summary>A TCP connection and its frame reader, from the first handshake byte until the link ends.</summary>
internal sealed class LinkConnection : IDisposable
{
    private readonly Socket _socket;

    public LinkConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        Stream = new NetworkStream(socket, ownsSocket: true);
        Reader = new FrameReader(Stream);
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        LocalEndPoint = socket.LocalEndPoint as IPEndPoint;
    }

    public NetworkStream Stream { get; }
    public FrameReader Reader { get; }
    public IPEndPoint? RemoteEndPoint { get; }
    public IPEndPoint? LocalEndPoint { get; }

    /// <summary>Opens a connection to <paramref name="remote"/>, from <paramref name="localAddress"/> when given, so
    /// that a node on 127.0.0.2 is seen (and can be partitioned) as 127.0.0.2 by the others.</summary>
    public static async Task<LinkConnection> ConnectAsync(IPEndPoint remote, IPAddress? localAddress, CancellationToken cancellationToken)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (localAddress is not null && localAddress.AddressFamily == remote.AddressFamily
                && !localAddress.Equals(IPAddress.Any) && !localAddress.Equals(IPAddress.IPv6Any))
            {
                try { socket.Bind(new IPEndPoint(localAddress, 0)); }
                catch (SocketException) { /* the address cannot be a source here; let the kernel choose */ }
            }
            await socket.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
            return new LinkConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Writes one frame directly (handshake only: before a link's writer loop owns the stream).</summary>
    public ValueTask WriteFrameAsync(in Frame frame, CancellationToken cancellationToken) =>
        Stream.WriteAsync(NodeLinkFrameCodec.EncodeToArray(frame), cancellationToken);

    /// <summary>Ends our sending direction (FIN) after everything queued was written.</summary>
    public void ShutdownSend()
    {
        try { _socket.Shutdown(SocketShutdown.Send); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>Closes the socket. Only after reads have completed: the reader's buffer goes back to the pool.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        Reader.Dispose();
    }

    /// <summary>Closes the socket only, so pending reads and writes fail; the buffers are released later by <see cref="Dispose"/>.</summary>
    public void Abort()
    {
        try { _socket.Dispose(); }
        catch (ObjectDisposedException) { }
    }
}
