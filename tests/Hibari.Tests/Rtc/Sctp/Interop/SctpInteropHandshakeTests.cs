using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;
using Hibari.Tests.Rtc.Sctp.Managed;
using Hibari.Tests.Rtc.Sctp.Usrsctp;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Sctp.Interop;

/// <summary>Association setup between the managed SCTP and usrsctp, each side active or passive.</summary>
[Collection(UsrsctpCollection.Name)]
public sealed class SctpInteropHandshakeTests(ITestOutputHelper output) : InteropTestBase(output)
{
    [Theory]
    [InlineData("managed", "usrsctp")]
    [InlineData("usrsctp", "managed")]
    [InlineData("managed", "managed")]
    public void Active_side_INIT_establishes_both_sides_and_the_passive_side_answers_with_INIT_ACK(string active, string passive)
    {
        var a = NewPeer(Parse(active), 1);
        var b = NewPeer(Parse(passive), 2);
        var pipe = NewPipe(a, b, 1);
        var firstFromB = new List<SctpChunkType>();
        pipe.Tap = (fromA, p) => { if (!fromA && firstFromB.Count == 0) firstFromB.Add(VirtualLink.Chunks(p)[0].Type); };
        a.Sctp.Start(sendInit: true);
        b.Sctp.Start(sendInit: false);
        pipe.Pump(() => a.EstablishedCount == 1 && b.EstablishedCount == 1, "association up", TimeSpan.FromSeconds(10));
        Assert.Equal(SctpState.Established, a.Sctp.State);
        Assert.Equal(SctpState.Established, b.Sctp.State);
        Assert.Equal(SctpChunkType.InitAck, firstFromB.Single());
        Assert.True(pipe.NowMicros - 1_000_000 < 100_000, $"took {(pipe.NowMicros - 1_000_000) / 1000} ms: no retransmission should be needed");
        // Usable both ways.
        Assert.True(a.Sctp.Send(1, 51, "ping"u8, new SctpSendOptions()));
        Assert.True(b.Sctp.Send(1, 51, "pong"u8, new SctpSendOptions()));
        pipe.Pump(() => a.Messages.Count == 1 && b.Messages.Count == 1, "one message each way", TimeSpan.FromSeconds(5));
        Assert.Equal("ping"u8.ToArray(), b.Messages[0].Data);
        Assert.Equal("pong"u8.ToArray(), a.Messages[0].Data);
        Assert.Empty(a.Closes);
        Assert.Empty(b.Closes);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Managed_and_usrsctp_both_sending_INIT_establish_one_association(int seed)
    {
        var m = NewPeer(Impl.Managed, seed);
        var u = NewPeer(Impl.Usrsctp, seed);
        var pipe = NewPipe(m, u, seed);
        pipe.JitterMicros = 3_000; // the INITs cross in different orders
        m.Sctp.Start(sendInit: true);
        u.Sctp.Start(sendInit: true);
        pipe.Pump(() => m.EstablishedCount == 1 && u.EstablishedCount == 1, "association up", TimeSpan.FromSeconds(10));
        pipe.Run(TimeSpan.FromSeconds(2));
        Assert.Equal((1, 1), (m.EstablishedCount, u.EstablishedCount));
        Assert.True(m.Sctp.Send(1, 51, "ping"u8, new SctpSendOptions()));
        Assert.True(u.Sctp.Send(1, 51, "pong"u8, new SctpSendOptions()));
        pipe.Pump(() => m.Messages.Count == 1 && u.Messages.Count == 1, "one message each way", TimeSpan.FromSeconds(5));
        Assert.Empty(m.Closes);
        Assert.Empty(u.Closes);
    }

    /// <summary>
    /// The SFU's clock is a monotonic clock (far from zero), and the peer's INIT can arrive before the first Tick. The
    /// managed side used to stamp its cookie with time 0 and then reject the COOKIE-ECHO as stale (older than the 60 s
    /// cookie lifetime) on every retransmission: the association never came up.
    /// </summary>
    [Theory]
    [InlineData("usrsctp")]
    [InlineData("managed")]
    public void Managed_passive_side_accepts_an_INIT_that_arrives_before_its_first_Tick_on_a_clock_far_from_zero(string active)
    {
        var a = NewPeer(Parse(active), 5);
        var m = NewPeer(Impl.Managed, 6);
        var pipe = new SctpTestPipe(a.Sctp, m.Sctp, 5, clock: new SimClock(3_600_000_000)) { DelayMicros = 5_000, StepMicros = 1_000 };
        a.Sctp.Tick(pipe.NowMicros); // only the active side has seen the clock
        a.Sctp.Start(sendInit: true);
        pipe.Clock.NowMicros += pipe.DelayMicros;
        Assert.True(pipe.Flush(), "the INIT reaches the managed side before its first Tick");
        Assert.Equal(SctpState.Closed, m.Sctp.State);
        pipe.Pump(() => a.EstablishedCount == 1 && m.EstablishedCount == 1, "association up", TimeSpan.FromSeconds(30));
        Assert.True(pipe.NowMicros - 3_600_000_000 < 1_000_000, "came up without waiting for retransmissions");
    }
}
