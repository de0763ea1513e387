using System.Net;
using DotNext.Buffers;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Hibari.Cluster.Membership;

/// <summary>Raft membership (a set of IP endpoints) persisted in data_dir, so a regular node rejoins by itself (C-MEM-3).</summary>
internal sealed class EndPointMembershipStorage(string fileName) : PersistentClusterConfigurationStorage<EndPoint>(fileName)
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> writer)
    {
        var text = System.Text.Encoding.UTF8.GetBytes(address.ToString() ?? "");
        writer.Add((byte)text.Length);
        writer.Write(text);
    }

    protected override EndPoint Decode(ref SequenceReader reader)
    {
        var len = reader.ReadByte();
        Span<byte> buf = stackalloc byte[len];
        reader.Read(buf);
        return IPEndPoint.Parse(System.Text.Encoding.UTF8.GetString(buf));
    }
}
