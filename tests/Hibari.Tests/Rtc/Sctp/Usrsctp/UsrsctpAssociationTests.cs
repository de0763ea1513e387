using System.Security.Cryptography;

namespace Hibari.Tests.Rtc.Sctp.Usrsctp;

/// <summary>Two usrsctp associations in one process through <see cref="SctpTestPipe"/> (shared/docs/media-stack.md §3.1).</summary>
[Collection(UsrsctpCollection.Name)]
public sealed class UsrsctpAssociationTests : IDisposable
{
    private readonly List<UsrsctpAssociation> _created = new();

    public UsrsctpAssociationTests()
    {
        // Fail (never skip) without the library: scripts/test.sh installs it.
        Assert.True(UsrsctpAvailable.IsAvailable, UsrsctpAvailable.Problem);
    }

    public void Dispose()
    {
        foreach (var a in _created) a.Dispose();
        Assert.Null(UsrsctpAssociation.LastCallbackError);
    }

    private UsrsctpAssociation New(UsrsctpOptions? options = null)
    {
        var a = new UsrsctpAssociation(options);
        _created.Add(a);
        return a;
    }

    private sealed class Peer
    {
        public readonly UsrsctpAssociation Sctp;
        public readonly List<SctpMessage> Messages = new();
        public readonly List<ushort> Resets = new();
        public readonly List<string> Closes = new();
        public int EstablishedCount;

        public Peer(UsrsctpAssociation sctp)
        {
            Sctp = sctp;
            sctp.Established += () => EstablishedCount++;
            sctp.MessageReceived += Messages.Add;
            sctp.StreamReset += Resets.Add;
            sctp.Closed += Closes.Add;
        }
    }

    private (Peer A, Peer B, SctpTestPipe Pipe) Connected(int seed = 1, double loss = 0, bool bothSendInit = false)
    {
        var a = new Peer(New());
        var b = new Peer(New());
        var pipe = new SctpTestPipe(a.Sctp, b.Sctp, seed, loss, loss);
        a.Sctp.Start(sendInit: true);
        b.Sctp.Start(sendInit: bothSendInit);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "association up");
        return (a, b, pipe);
    }

    private static byte[] Payload(int size, int seed)
    {
        var b = new byte[size];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void Library_is_installed()
    {
        Assert.True(UsrsctpAvailable.IsAvailable, UsrsctpAvailable.Problem);
        Assert.Equal("libusrsctp.so.2", UsrsctpAvailable.SoName);
    }

    [Fact]
    public void Association_comes_up_with_a_passive_side()
    {
        var a = new Peer(New());
        var b = new Peer(New());
        var pipe = new SctpTestPipe(a.Sctp, b.Sctp);
        var firstFromB = new List<byte>();
        pipe.Tap = (fromA, p) => { if (!fromA && firstFromB.Count == 0) firstFromB.Add(p[12]); };
        Assert.Equal(SctpState.Closed, a.Sctp.State);
        a.Sctp.Start(sendInit: true);
        b.Sctp.Start(sendInit: false);
        Assert.Equal(SctpState.CookieWait, a.Sctp.State);
        Assert.Equal(SctpState.Closed, b.Sctp.State);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "association up");
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
        Assert.Equal(2, firstFromB.Single()); // the passive side's first chunk is an INIT-ACK, not its own INIT
        Assert.True(pipe.NowMicros - 1_000_000 < 1_000_000, "no retransmission was needed");
    }

    [Fact]
    public void Association_comes_up_when_both_send_INIT()
    {
        var (a, b, _) = Connected(bothSendInit: true);
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
    }

    [Fact]
    public void Association_comes_up_under_loss()
    {
        var (a, b, pipe) = Connected(seed: 7, loss: 0.3);
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.05, 2)]
    public void Two_hundred_messages_of_1B_to_64KB_arrive_intact_and_in_order(double loss, int seed)
    {
        var (a, b, pipe) = Connected(seed, loss);
        var random = new Random(seed);
        var sent = new List<byte[]>();
        for (var i = 0; i < 200; i++)
        {
            var size = i switch { 0 => 1, 1 => 65536, _ => random.Next(1, 65537) };
            var m = Payload(size, i);
            sent.Add(m);
            Assert.True(a.Sctp.Send(1, 53, m, new SctpSendOptions()));
            if (i % 10 == 9) pipe.Flush();
        }
        pipe.Pump(() => b.Messages.Count == 200 && a.Sctp.BufferedAmount == 0, "200 messages delivered", TimeSpan.FromSeconds(600));
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal((ushort)1, b.Messages[i].StreamId);
            Assert.Equal(53u, b.Messages[i].Ppid);
            Assert.Equal(sent[i], b.Messages[i].Data);
        }
        Assert.Empty(a.Messages);
        Assert.Empty(a.Closes);
        Assert.Empty(b.Closes);
    }

    [Fact]
    public void A_200KB_message_arrives_whole_both_ways()
    {
        var (a, b, pipe) = Connected();
        var big = Payload(200_000, 42);
        Assert.True(a.Sctp.Send(3, 53, big, new SctpSendOptions()));
        Assert.True(b.Sctp.Send(4, 51, big.AsSpan(1).ToArray(), new SctpSendOptions()));
        pipe.Pump(() => b.Messages.Count == 1 && a.Messages.Count == 1, "200 KB each way");
        Assert.Equal(big, b.Messages[0].Data);
        Assert.Equal(((ushort)3, 53u), (b.Messages[0].StreamId, b.Messages[0].Ppid));
        Assert.Equal(big.AsSpan(1).ToArray(), a.Messages[0].Data);
        Assert.Equal(((ushort)4, 51u), (a.Messages[0].StreamId, a.Messages[0].Ppid));
    }

    [Fact]
    public void A_1MB_message_larger_than_the_send_buffer_is_queued_and_arrives_whole()
    {
        var (a, b, pipe) = Connected();
        var big = Payload(1 << 20, 43);
        Assert.True(a.Sctp.Send(1, 53, big, new SctpSendOptions()));
        Assert.True(a.Sctp.Send(1, 51, "after"u8, new SctpSendOptions()));
        Assert.True(a.Sctp.BufferedAmount > 1 << 19, $"buffered {a.Sctp.BufferedAmount}");
        pipe.Pump(() => b.Messages.Count == 2 && a.Sctp.BufferedAmount == 0, "1 MB delivered");
        Assert.Equal(big, b.Messages[0].Data);
        Assert.Equal("after"u8.ToArray(), b.Messages[1].Data);
    }
}
