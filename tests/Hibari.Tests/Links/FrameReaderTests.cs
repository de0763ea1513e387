using Hibari.Cluster.Links;

namespace Hibari.Tests.Links;

public class FrameReaderTests
{
    /// <summary>A stream that hands out its bytes in random-sized pieces, as TCP may.</summary>
    private sealed class ChunkedStream(byte[] data, Random random) : Stream
    {
        private int _position;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(Math.Min(buffer.Length, data.Length - _position), random.Next(1, 40_000));
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Frames_split_at_random_points_are_read_back_whole_and_in_order()
    {
        var random = new Random(42);
        var bodies = Enumerable.Range(0, 400).Select(i =>
        {
            // mostly small, some larger than the reader's 16 KiB buffer, a few far larger
            int size = (i % 50) switch { 0 => random.Next(100_000, 300_000), < 5 => random.Next(16_000, 40_000), _ => random.Next(0, 300) };
            var body = new byte[size];
            random.NextBytes(body);
            return body;
        }).ToArray();
        var wire = bodies.SelectMany((body, i) => NodeLinkFrameCodec.EncodeToArray(Frame.Message((byte)i, body))).ToArray();
        using var reader = new FrameReader(new ChunkedStream(wire, random));

        for (int i = 0; i < bodies.Length; i++)
        {
            var inbound = await reader.ReadAsync(1 << 20, CancellationToken.None);
            Assert.Equal(FrameError.None, inbound.Error);
            Assert.Equal(FrameError.None, NodeLinkFrameCodec.DecodePayload(inbound.Type, inbound.Payload, out var frame));
            Assert.Equal((byte)i, frame.Channel);
            Assert.True(bodies[i].AsSpan().SequenceEqual(frame.Body.Span), $"frame {i} differs");
        }
        Assert.True((await reader.ReadAsync(1 << 20, CancellationToken.None)).EndOfStream);
    }

    [Fact]
    public async Task An_announced_length_over_the_limit_is_reported_before_the_payload_is_read()
    {
        byte[] wire = [1, (byte)FrameType.Message, 0, 0x10, 0, 0]; // 1 MiB announced, nothing follows
        using var reader = new FrameReader(new ChunkedStream(wire, new Random(1)));

        var inbound = await reader.ReadAsync(64 * 1024, CancellationToken.None);

        Assert.Equal(FrameError.TooLarge, inbound.Error);
        Assert.False(inbound.EndOfStream);
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_reads_as_closed()
    {
        var wire = NodeLinkFrameCodec.EncodeToArray(Frame.Message(1, new byte[100]))[..50];
        using var reader = new FrameReader(new ChunkedStream(wire, new Random(1)));

        Assert.True((await reader.ReadAsync(1024, CancellationToken.None)).EndOfStream);
    }
}
