using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;

namespace Hibari.Bench;

/// <summary>
/// One Socket.SendTo(span, SocketFlags.None, SocketAddress) of a 1200-byte datagram on loopback, as
/// Rtc.Transport.MediaSocket.Send does. Both sockets bind 127.0.0.1 port 0 (no fixed ports).
/// <see cref="Drained"/> true: a background thread receives everything (datagrams are delivered, the receiver is
/// woken — the realistic case, but that thread competes for the same cores); false: nobody reads, the receive queue
/// is full after a few hundred datagrams and the kernel drops at the receiver (sendto still succeeds).
/// </summary>
[MemoryDiagnoser]
public class UdpSendTo
{
    public const int Size = 1200;
    private Socket _sender = null!;
    private Socket _receiver = null!;
    private SocketAddress _remote = null!;
    private byte[] _datagram = null!;
    private Thread? _drain;
    private volatile bool _stop;
    private long _received;

    [Params(true, false)]
    public bool Drained { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _receiver.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _remote = _receiver.LocalEndPoint!.Serialize();
        _datagram = new byte[Size];
        new Random(1).NextBytes(_datagram);

        // Sanity: a datagram arrives, whole.
        _sender.SendTo(_datagram, SocketFlags.None, _remote);
        var got = new byte[2048];
        _receiver.ReceiveTimeout = 2000;
        if (_receiver.Receive(got) != Size) throw new InvalidOperationException("loopback datagram did not arrive");
        _receiver.ReceiveTimeout = 0;

        if (Drained)
        {
            _receiver.ReceiveTimeout = 200;
            _drain = new Thread(() =>
            {
                var buffer = new byte[2048];
                while (!_stop)
                {
                    try { if (_receiver.Receive(buffer) > 0) _received++; }
                    catch (SocketException) { }
                }
            }) { IsBackground = true, Name = "bench-drain" };
            _drain.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _drain?.Join();
        _sender.Dispose();
        _receiver.Dispose();
    }

    [Benchmark]
    public int SendTo() => _sender.SendTo((ReadOnlySpan<byte>)_datagram, SocketFlags.None, _remote);
}
