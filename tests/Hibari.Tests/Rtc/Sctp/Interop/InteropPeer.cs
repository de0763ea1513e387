using System.Buffers.Binary;
using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;
using Hibari.Tests.Rtc.Sctp.Managed;
using Hibari.Tests.Rtc.Sctp.Usrsctp;

namespace Hibari.Tests.Rtc.Sctp.Interop;

public enum Impl { Managed, Usrsctp }

/// <summary>
/// One end of an interop test: the managed <see cref="SctpAssociation"/> or the usrsctp oracle, with what it received.
/// Like the data channel layer (DataChannelEndpoint, RFC 8831 §6.7), a managed peer answers the peer's stream reset
/// by resetting its own outgoing stream, unless it asked first; the usrsctp oracle does that itself.
/// </summary>
internal sealed class InteropPeer
{
    public readonly Impl Impl;
    public readonly ISctpAssociation Sctp;
    public readonly List<SctpMessage> Messages = new();
    public readonly List<ushort> Resets = new();
    public readonly List<string> Closes = new();
    public int EstablishedCount;
    private readonly HashSet<ushort> _resetByUs = new();

    private InteropPeer(Impl impl, ISctpAssociation sctp)
    {
        Impl = impl;
        Sctp = sctp;
        sctp.Established += () => EstablishedCount++;
        sctp.MessageReceived += Messages.Add;
        sctp.Closed += Closes.Add;
        sctp.StreamReset += sid =>
        {
            Resets.Add(sid);
            if (impl == Impl.Managed && !_resetByUs.Remove(sid)) sctp.ResetStream(sid);
        };
    }

    /// <summary>The managed side with its defaults; usrsctp with the managed side's RTO bounds (1 s initial, 200 ms .. 10 s).</summary>
    public static InteropPeer Create(Impl impl, int seed, List<IDisposable> created) => impl switch
    {
        Impl.Managed => Track(new InteropPeer(impl, new SctpAssociation(new SctpOptions { Random = new Random(seed) })), created),
        _ => Track(new InteropPeer(impl, new UsrsctpAssociation(new UsrsctpOptions { RtoInitialMs = 1000, RtoMinMs = 200, RtoMaxMs = 10_000 })), created),
    };

    private static InteropPeer Track(InteropPeer p, List<IDisposable> created)
    {
        created.Add(p.Sctp);
        return p;
    }

    public SctpAssociation? Managed => Sctp as SctpAssociation;

    public void ResetStream(ushort sid)
    {
        _resetByUs.Add(sid);
        Sctp.ResetStream(sid);
    }

    public override string ToString() => Impl.ToString();
}

/// <summary>Chunks seen on a pipe, per direction (parsed from the tap).</summary>
internal sealed class WireLog
{
    public readonly List<ForwardTsnChunk> ForwardTsnAToB = new(), ForwardTsnBToA = new();
    public readonly List<SackChunk> SacksAToB = new(), SacksBToA = new();
    public long DataChunksAToB, DataChunksBToA;
    public readonly Dictionary<uint, int> DataSendsAToB = new();

    private readonly Queue<string> _recent = new();
    private bool _lastRecorded;

    /// <summary>The last 40 packets on the wire (heartbeats left out), one line each (for failure messages).</summary>
    public string Recent => string.Join("\n", _recent);

    private static string Describe(SctpChunk c) => c switch
    {
        DataChunk d => $"DATA {d.Tsn} s{d.StreamId}#{d.Ssn}{(d.Beginning ? "B" : "")}{(d.Ending ? "E" : "")}{(d.Unordered ? "U" : "")} {d.UserData.Length}B",
        SackChunk k => $"SACK cum {k.CumulativeTsnAck} rwnd {k.AdvertisedReceiverWindow} gaps [{string.Join(",", k.GapBlocks.Select(g => $"{g.Start}-{g.End}"))}] dups {k.DuplicateTsns.Count}",
        ForwardTsnChunk f => $"FORWARD-TSN {f.NewCumulativeTsn} [{string.Join(",", f.Streams.Select(x => $"s{x.StreamId}#{x.Ssn}"))}]",
        _ => c.Type.ToString(),
    };

    public void Attach(SctpTestPipe pipe)
    {
        var previous = pipe.Tap;
        var previousLost = pipe.Lost;
        pipe.Lost = (toB, p) => { previousLost?.Invoke(toB, p); if (_lastRecorded) _recent.Enqueue("  (lost)"); };
        pipe.Tap = (fromA, p) =>
        {
            previous?.Invoke(fromA, p);
            var chunks = VirtualLink.Chunks(p);
            _lastRecorded = !chunks.All(c => c is HeartbeatChunk); // keep the interesting ones
            if (!_lastRecorded) return;
            _recent.Enqueue($"{pipe.NowMicros / 1000} ms {(fromA ? "A→B" : "B→A")} {string.Join(" | ", VirtualLink.Chunks(p).Select(Describe))}");
            while (_recent.Count > 40) _recent.Dequeue();
            foreach (var c in chunks)
            {
                switch (c)
                {
                    case ForwardTsnChunk f: (fromA ? ForwardTsnAToB : ForwardTsnBToA).Add(f); break;
                    case SackChunk s: (fromA ? SacksAToB : SacksBToA).Add(s); break;
                    case DataChunk d:
                        if (fromA)
                        {
                            DataChunksAToB++;
                            DataSendsAToB[d.Tsn] = DataSendsAToB.GetValueOrDefault(d.Tsn) + 1;
                        }
                        else DataChunksBToA++;
                        break;
                }
            }
        };
    }
}

internal static class InteropData
{
    /// <summary>A message that carries its index (first 4 bytes) and seeded content, so order and integrity can be checked.</summary>
    public static byte[] Payload(int index, int size, int seed = 0)
    {
        var b = new byte[size];
        new Random(index * 7919 + seed).NextBytes(b);
        if (size >= 4) BinaryPrimitives.WriteInt32BigEndian(b, index);
        return b;
    }

    public static bool HasData(byte[] packet) => VirtualLink.Chunks(packet).Any(c => c is DataChunk);
}
