using System.Buffers.Binary;
using System.Text;
using Hibari.Recording.Webm;

namespace Hibari.Tests.Recording.Webm;

/// <summary>One parsed EBML element: where it starts, where its data starts, how long the data is, and (for the
/// master elements the WebM writer uses) its children.</summary>
internal sealed class EbmlNode
{
    public required uint Id { get; init; }
    public required long Start { get; init; }
    public required long DataStart { get; init; }
    public required long Size { get; init; }
    public bool UnknownSize { get; init; }
    public required byte[] File { get; init; }
    public List<EbmlNode> Children { get; } = [];
    public long End => DataStart + Size;

    public ReadOnlySpan<byte> Data => File.AsSpan((int)DataStart, (int)Size);

    public ulong UInt()
    {
        Assert.InRange(Size, 1, 8);
        ulong value = 0;
        foreach (var b in Data) value = (value << 8) | b;
        return value;
    }

    public double Float()
    {
        Assert.True(Size is 4 or 8, $"float of {Size} bytes");
        return Size == 8 ? BinaryPrimitives.ReadDoubleBigEndian(Data) : BinaryPrimitives.ReadSingleBigEndian(Data);
    }

    public string String() => Encoding.UTF8.GetString(Data);

    public EbmlNode One(uint id) => Assert.Single(Children, c => c.Id == id);

    public EbmlNode? Maybe(uint id) => Children.SingleOrDefault(c => c.Id == id);

    public IEnumerable<EbmlNode> All(uint id) => Children.Where(c => c.Id == id);

    public override string ToString() => $"0x{Id:X} @{Start} data {DataStart}+{Size}";
}

/// <summary>A small EBML reader for the tests, independent of the writer's code: it checks as it goes that each
/// master element's children exactly fill it, recursively, and that nothing runs past its parent.</summary>
internal static class EbmlTestReader
{
    private static readonly HashSet<uint> Masters =
    [
        EbmlId.Ebml, EbmlId.Segment, EbmlId.SeekHead, EbmlId.Seek, EbmlId.Info, EbmlId.Tracks, EbmlId.TrackEntry,
        EbmlId.Video, EbmlId.Audio, EbmlId.Cluster, EbmlId.Cues, EbmlId.CuePoint, EbmlId.CueTrackPositions,
    ];

    /// <summary>Top-level elements of <paramref name="file"/>. With <paramref name="allowUnknownSegment"/> a Segment
    /// of unknown size (an unfinished file) runs to the end of the data.</summary>
    public static List<EbmlNode> Parse(byte[] file, bool allowUnknownSegment = false)
    {
        var top = new List<EbmlNode>();
        ParseChildren(file, 0, file.Length, top, allowUnknownSegment);
        return top;
    }

    private static void ParseChildren(byte[] file, long from, long to, List<EbmlNode> into, bool allowUnknown)
    {
        var position = from;
        while (position < to)
        {
            var start = position;
            var id = ReadId(file, ref position);
            var (size, unknown) = ReadSize(file, ref position);
            if (unknown)
            {
                Assert.True(allowUnknown && id == EbmlId.Segment, $"unknown size on element 0x{id:X} at {start}");
                size = to - position;
            }
            Assert.True(position + size <= to, $"element 0x{id:X} at {start} ({size} bytes) runs past its parent's end {to}");
            var node = new EbmlNode { Id = id, Start = start, DataStart = position, Size = size, UnknownSize = unknown, File = file };
            if (Masters.Contains(id)) ParseChildren(file, position, position + size, node.Children, false);
            into.Add(node);
            position += size;
        }
        Assert.Equal(to, position); // children exactly fill the parent
    }

    public static uint ReadId(byte[] file, ref long position)
    {
        var first = file[position];
        var length = first switch { >= 0x80 => 1, >= 0x40 => 2, >= 0x20 => 3, >= 0x10 => 4, _ => 0 };
        Assert.True(length > 0, $"bad element ID byte 0x{first:X2} at {position}");
        uint id = 0;
        for (var i = 0; i < length; i++) id = (id << 8) | file[position + i];
        position += length;
        return id;
    }

    public static (long Size, bool Unknown) ReadSize(byte[] file, ref long position)
    {
        var first = file[position];
        var length = 1;
        while (length <= 8 && (first & (0x80 >> (length - 1))) == 0) length++;
        Assert.True(length <= 8, $"bad size byte 0x{first:X2} at {position}");
        ulong value = (ulong)(first & (0xFF >> length));
        for (var i = 1; i < length; i++) value = (value << 8) | file[position + i];
        position += length;
        var allOnes = (1UL << (7 * length)) - 1;
        return value == allOnes ? (0, true) : ((long)value, false);
    }
}

/// <summary>A block read back from a file: its track, absolute time (cluster Timestamp + relative time), key flag, bytes.</summary>
internal sealed record ReadBlock(int Track, long TimeMs, bool Key, byte[] Data, EbmlNode Cluster, long ClusterTime, int IndexInCluster);

/// <summary>A finished WebM file parsed and checked for the layout the writer promises.</summary>
internal sealed class ParsedWebm
{
    public required byte[] File { get; init; }
    public required EbmlNode Header { get; init; }
    public required EbmlNode Segment { get; init; }
    public List<ReadBlock> Blocks { get; } = [];
    public EbmlNode Info => Segment.One(EbmlId.Info);
    public EbmlNode Tracks => Segment.One(EbmlId.Tracks);
    public EbmlNode? Cues => Segment.Maybe(EbmlId.Cues);
    public IEnumerable<EbmlNode> Clusters => Segment.All(EbmlId.Cluster);

    public EbmlNode? Track(int number) => Tracks.All(EbmlId.TrackEntry).SingleOrDefault(t => (int)t.One(EbmlId.TrackNumber).UInt() == number);

    public static ParsedWebm Read(byte[] file, bool allowUnknownSegment = false)
    {
        var top = EbmlTestReader.Parse(file, allowUnknownSegment);
        Assert.Equal(2, top.Count);
        Assert.Equal(EbmlId.Ebml, top[0].Id);
        Assert.Equal(EbmlId.Segment, top[1].Id);
        var parsed = new ParsedWebm { File = file, Header = top[0], Segment = top[1] };
        foreach (var cluster in parsed.Clusters)
        {
            var timestamp = (long)cluster.One(EbmlId.Timestamp).UInt();
            Assert.Equal(EbmlId.Timestamp, cluster.Children[0].Id); // first, so a reader knows it before the blocks
            var index = 0;
            foreach (var block in cluster.All(EbmlId.SimpleBlock))
            {
                var data = block.Data;
                Assert.True(data.Length >= 5, "SimpleBlock without a frame");
                Assert.True((data[0] & 0x80) != 0, "track number is a 1-byte vint");
                var track = data[0] & 0x7F;
                var relative = BinaryPrimitives.ReadInt16BigEndian(data[1..]);
                var flags = data[3];
                Assert.Equal(0, flags & 0x06); // no lacing
                parsed.Blocks.Add(new ReadBlock(track, timestamp + relative, (flags & 0x80) != 0, data[4..].ToArray(), cluster, timestamp, ++index));
            }
            Assert.Equal(cluster.Children.Count - 1, index); // nothing but Timestamp and SimpleBlocks
        }
        return parsed;
    }
}
