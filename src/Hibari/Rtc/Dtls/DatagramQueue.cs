using System.Buffers;
using System.Collections.Concurrent;
using Org.BouncyCastle.Tls;

namespace Hibari.Rtc.Dtls;

/// <summary>Thrown into BouncyCastle's receive path once the queue is closed, so a blocked handshake or receive ends.</summary>
internal sealed class DatagramQueueClosedException() : IOException("the DTLS endpoint's datagram queue is closed");

/// <summary>
/// BouncyCastle's <see cref="DatagramTransport"/> without a socket, for the handshake only: the SFU's socket thread
/// demultiplexes (RFC 7983) and <see cref="Deliver"/>s copies here; the handshake job on a <see cref="DtlsHandshakePool"/>
/// thread takes them in <see cref="Receive(Span{byte}, int)"/>, blocking for as long as BouncyCastle asks (no polling:
/// docs/dtls.md, pitfall 4). Sends go straight to the caller's <see cref="DtlsSend"/>. Once the handshake is
/// done the endpoint takes what is left with <see cref="TryTake"/> and closes it (docs/dtls.md).
/// </summary>
internal sealed class DatagramQueue(DtlsSend send, int capacity) : DatagramTransport
{
    // Pitfall 8: BouncyCastle fragments its handshake messages to fit; 1200 B passes any path WebRTC runs on.
    internal const int SendLimit = 1200;
    internal const int ReceiveLimit = 1500;

    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _queue = new();
    private readonly SemaphoreSlim _available = new(0);
    private int _count;
    private long _dropped;
    private long _sendErrors;
    private volatile bool _closed;

    public long Dropped => Interlocked.Read(ref _dropped);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    public bool IsClosed => _closed;

    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    /// <summary>Queues a copy; never blocks. False (and counted) when full, closed, empty or oversized.</summary>
    public bool Deliver(ReadOnlySpan<byte> datagram)
    {
        if (_closed || datagram.IsEmpty || datagram.Length > ReceiveLimit) return Drop();
        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return Drop();
        }
        var buffer = ArrayPool<byte>.Shared.Rent(datagram.Length);
        datagram.CopyTo(buffer);
        _queue.Enqueue((buffer, datagram.Length));
        _available.Release();
        return true;
    }

    private bool Drop()
    {
        Interlocked.Increment(ref _dropped);
        return false;
    }

    public int GetReceiveLimit() => ReceiveLimit;

    public int GetSendLimit() => SendLimit;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    /// <summary>One datagram, or -1 when none came within <paramref name="waitMillis"/> (0 = wait without limit, as BouncyCastle means it).</summary>
    public int Receive(Span<byte> buffer, int waitMillis)
    {
        if (_closed) throw new DatagramQueueClosedException();
        if (!_available.Wait(waitMillis <= 0 ? Timeout.Infinite : waitMillis)) return -1;
        if (_closed) throw new DatagramQueueClosedException();
        if (!_queue.TryDequeue(out var item)) return -1;
        Interlocked.Decrement(ref _count);
        try
        {
            if (item.Length > buffer.Length)
            {
                Interlocked.Increment(ref _dropped);
                return -1;
            }
            item.Buffer.AsSpan(0, item.Length).CopyTo(buffer);
            return item.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    /// <summary>Takes one queued datagram without waiting; false when none is left (or it does not fit, then dropped).</summary>
    public bool TryTake(Span<byte> buffer, out int length)
    {
        length = 0;
        while (_queue.TryDequeue(out var item))
        {
            Interlocked.Decrement(ref _count);
            try
            {
                if (item.Length > buffer.Length)
                {
                    Interlocked.Increment(ref _dropped);
                    continue;
                }
                item.Buffer.AsSpan(0, item.Length).CopyTo(buffer);
                length = item.Length;
                return true;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(item.Buffer);
            }
        }
        return false;
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        if (_closed) return;
        try
        {
            send(buffer);
        }
        catch (Exception)
        {
            // A failed UDP send is a lost datagram; DTLS retransmits. It must not abort the handshake.
            Interlocked.Increment(ref _sendErrors);
        }
    }

    /// <summary>Wakes the reader, which then throws <see cref="DatagramQueueClosedException"/>. Idempotent.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        _available.Release();
    }
}
