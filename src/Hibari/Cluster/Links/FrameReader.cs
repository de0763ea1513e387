using System.Buffers;

namespace Hibari.Cluster.Links;

/// <summary>One frame as read from a stream; <see cref="Payload"/> is valid until the next read.</summary>
internal readonly record struct InboundFrame(FrameError Error, FrameType Type, ReadOnlyMemory<byte> Payload, bool EndOfStream)
{
    public static InboundFrame Closed => new(FrameError.Incomplete, default, default, EndOfStream: true);
}

/// <summary>
/// Reads whole frames from a stream into one pooled buffer, so small frames cost no allocation and few reads.
/// A frame larger than the buffer gets a larger pooled buffer for as long as it is needed; the announced length
/// is checked against the limit before that buffer is rented.
/// </summary>
internal sealed class FrameReader(Stream stream) : IDisposable
{
    private const int DefaultBufferSize = 16 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(DefaultBufferSize);
    private int _start;
    private int _end;
    private int _consumeOnNextRead;

    /// <summary>Reads the next frame of at most <paramref name="maxPayload"/> bytes. Errors other than
    /// <see cref="FrameError.UnknownType"/> leave the stream unusable (framing is lost).</summary>
    public async ValueTask<InboundFrame> ReadAsync(int maxPayload, CancellationToken cancellationToken)
    {
        _start += _consumeOnNextRead;
        _consumeOnNextRead = 0;
        if (_start == _end) Reset();

        while (_end - _start < NodeLinkFrameCodec.HeaderSize)
            if (!await FillAsync(NodeLinkFrameCodec.HeaderSize, cancellationToken)) return InboundFrame.Closed;

        var error = NodeLinkFrameCodec.ReadHeader(_buffer.AsSpan(_start, _end - _start), maxPayload, out var header);
        if (error is not (FrameError.None or FrameError.UnknownType)) return new InboundFrame(error, header.Type, default, false);

        int total = NodeLinkFrameCodec.HeaderSize + header.PayloadLength;
        while (_end - _start < total)
            if (!await FillAsync(total, cancellationToken)) return InboundFrame.Closed;

        _consumeOnNextRead = total;
        return new InboundFrame(error, header.Type, _buffer.AsMemory(_start + NodeLinkFrameCodec.HeaderSize, header.PayloadLength), false);
    }

    /// <summary>Reads once, making room for a frame of <paramref name="frameSize"/> bytes first; false at end of stream.</summary>
    private async ValueTask<bool> FillAsync(int frameSize, CancellationToken cancellationToken)
    {
        if (_buffer.Length - _start < frameSize)
        {
            int buffered = _end - _start;
            if (_buffer.Length < frameSize)
            {
                var larger = ArrayPool<byte>.Shared.Rent(frameSize);
                _buffer.AsSpan(_start, buffered).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
            else
            {
                _buffer.AsSpan(_start, buffered).CopyTo(_buffer);
            }
            _start = 0;
            _end = buffered;
        }
        int read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        _end += read;
        return read > 0;
    }

    /// <summary>Empty buffer: start over at offset 0 and give back an outsized buffer.</summary>
    private void Reset()
    {
        _start = _end = 0;
        if (_buffer.Length > 4 * DefaultBufferSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(DefaultBufferSize);
        }
    }

    /// <summary>Only after the last read has completed: the buffer goes back to the pool.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}
