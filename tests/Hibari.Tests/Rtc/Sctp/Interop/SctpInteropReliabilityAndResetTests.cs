using System.Buffers.Binary;
using Hibari.Rtc.Sctp;
using Hibari.Tests.Rtc.Sctp.Usrsctp;
using Xunit.Abstractions;

namespace Hibari.Tests.Rtc.Sctp.Interop;

/// <summary>PR-SCTP (RFC 3758) abandonment and stream reset (RFC 6525) managed ↔ managed and managed ↔ usrsctp.</summary>
[Collection(UsrsctpCollection.Name)]
public sealed class SctpInteropReliabilityAndResetTests(ITestOutputHelper output) : InteropTestBase(output)
{
    public static TheoryData<string, string, string> Pr_cases()
    {
        var d = new TheoryData<string, string, string>();
        foreach (var (tx, rx) in new[] { ("managed", "managed"), ("managed", "usrsctp"), ("usrsctp", "managed") })
            foreach (var policy in new[] { "max_retransmits=0", "lifetime=100ms" })
                d.Add(tx, rx, policy);
        return d;
    }

    private static int Index(SctpMessage m) => BinaryPrimitives.ReadInt32BigEndian(m.Data);

    /// <summary>
    /// 10 reliable messages, then 20 partially reliable ones during a 150 ms blackout of the sender's DATA packets, then
    /// 10 reliable ones, all on one ordered stream (message i has SSN i). Every message with a DATA chunk lost in the
    /// blackout must be abandoned and never delivered, with FORWARD-TSN naming the stream; the receiver's cumulative TSN
    /// (in its SACKs) moves past the lost TSNs, and the 10 later messages are delivered, in order. (Partially reliable
    /// messages the congestion window held back until after the blackout may arrive, or expire unsent.)
    /// </summary>
    [Theory]
    [MemberData(nameof(Pr_cases))]
    public void Partially_reliable_messages_are_abandoned_with_FORWARD_TSN_and_later_messages_still_arrive(string sender, string receiver, string policy)
    {
        var (tx, rx, pipe) = Connected(Parse(sender), Parse(receiver), 60);
        var log = new WireLog();
        log.Attach(pipe);
        var pr = policy.StartsWith("max") ? new SctpSendOptions(MaxRetransmits: 0) : new SctpSendOptions(MaxLifetime: TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < 10; i++) Assert.True(tx.Sctp.Send(2, 53, InteropData.Payload(i, 300), new SctpSendOptions()));
        pipe.Pump(() => rx.Messages.Count == 10 && tx.Sctp.BufferedAmount == 0, "the first 10", TimeSpan.FromSeconds(10));

        var lostTsns = new HashSet<uint>();
        var lostSsns = new HashSet<int>();
        var blackout = true;
        pipe.Drop = (toB, p) =>
        {
            if (!toB || !blackout || !InteropData.HasData(p)) return false;
            foreach (var d in Hibari.Tests.Rtc.Sctp.Managed.VirtualLink.Chunks(p).OfType<Hibari.Rtc.Sctp.Chunks.DataChunk>()) { lostTsns.Add(d.Tsn); lostSsns.Add(d.Ssn); }
            return true;
        };
        for (var i = 10; i < 30; i++) Assert.True(tx.Sctp.Send(2, 53, InteropData.Payload(i, i % 2 == 0 ? 300 : 3000), pr));
        pipe.Run(TimeSpan.FromMilliseconds(30)); // all sent once (and lost)
        if (tx.Impl == Impl.Usrsctp) Thread.Sleep(150); // usrsctp checks lifetimes against the real clock
        pipe.Run(TimeSpan.FromMilliseconds(120));
        blackout = false;
        Assert.NotEmpty(lostTsns);
        for (var i = 30; i < 40; i++) Assert.True(tx.Sctp.Send(2, 53, InteropData.Payload(i, 300), new SctpSendOptions()));

        var highestLost = lostTsns.Aggregate((a, b) => Serial(b, a) > 0 ? b : a);
        var ok = pipe.TryPump(() => rx.Messages.Count(m => Index(m) >= 30) == 10 && tx.Sctp.BufferedAmount == 0
                                    && log.SacksBToA.Any(s => Serial(s.CumulativeTsnAck, highestLost) >= 0), TimeSpan.FromSeconds(30));
        Assert.True(ok, $"after 30 s: {rx.Messages.Count} delivered ({string.Join(",", rx.Messages.Select(Index))}), buffered {tx.Sctp.BufferedAmount}, " +
                        $"highest lost TSN {highestLost}, last SACK cum {log.SacksBToA.LastOrDefault()?.CumulativeTsnAck}, {log.ForwardTsnAToB.Count} FORWARD-TSN\n{log.Recent}");
        pipe.Run(TimeSpan.FromMilliseconds(500));

        var got = rx.Messages.Select(Index).ToList();
        Assert.Equal(Enumerable.Range(0, 10), got.Take(10));
        Assert.Equal(Enumerable.Range(30, 10), got.TakeLast(10));
        Assert.Equal(got.Order(), got); // ordered, with holes
        Assert.All(lostSsns, ssn => Assert.InRange(ssn, 10, 29));
        Assert.Empty(got.Intersect(lostSsns)); // abandoned, never delivered (not even in part)
        Assert.All(rx.Messages, m => Assert.Equal(InteropData.Payload(Index(m), m.Data.Length), m.Data));
        Assert.NotEmpty(log.ForwardTsnAToB);
        var forwarded = log.ForwardTsnAToB.Select(f => f.NewCumulativeTsn).Aggregate((a, b) => Serial(b, a) > 0 ? b : a);
        Assert.True(Serial(forwarded, highestLost) >= 0, $"FORWARD-TSN {forwarded} does not cover the abandoned TSNs up to {highestLost}");
        Assert.Contains(log.ForwardTsnAToB, f => f.Streams.Any(s => s.StreamId == 2)); // ordered: the skipped SSNs are named
        Assert.Empty(tx.Closes);
        Assert.Empty(rx.Closes);
        Output.WriteLine($"{sender} → {receiver} {policy}: {lostTsns.Count} TSNs of {lostSsns.Count} messages lost, {got.Count - 20} partially reliable delivered, {log.ForwardTsnAToB.Count} FORWARD-TSN (up to {forwarded}), highest lost {highestLost}");
    }

    private static int Serial(uint a, uint b) => (int)(a - b);

    public static TheoryData<string, string, bool> Reset_cases()
    {
        var d = new TheoryData<string, string, bool>();
        foreach (var (a, b) in new[] { ("managed", "managed"), ("managed", "usrsctp"), ("usrsctp", "managed") })
            d.Add(a, b, true);
        d.Add("managed", "usrsctp", false);
        return d;
    }

    /// <summary>
    /// A stream in use both ways is closed by an outgoing stream reset from one side (the other answers with its own,
    /// as data channels do): both see StreamReset for it, nothing closes, and the same stream id then carries new
    /// messages both ways (sequence numbers start over).
    /// </summary>
    [Theory]
    [MemberData(nameof(Reset_cases))]
    public void Stream_reset_initiated_by_either_side_fires_StreamReset_on_both_and_the_stream_id_is_reusable(string first, string second, bool firstResets)
    {
        var (a, b, pipe) = Connected(Parse(first), Parse(second), 70);
        var (initiator, other) = firstResets ? (a, b) : (b, a);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(a.Sctp.Send(5, 51, InteropData.Payload(i, 200), new SctpSendOptions()));
            Assert.True(b.Sctp.Send(5, 51, InteropData.Payload(i, 200), new SctpSendOptions()));
        }
        pipe.Pump(() => a.Messages.Count == 5 && b.Messages.Count == 5, "5 messages each way", TimeSpan.FromSeconds(10));

        initiator.ResetStream(5);
        pipe.Pump(() => initiator.Resets.Contains(5) && other.Resets.Contains(5), "StreamReset on both sides", TimeSpan.FromSeconds(10));
        pipe.Run(TimeSpan.FromMilliseconds(500)); // the RE-CONFIG responses settle
        Assert.Equal(new ushort[] { 5 }, initiator.Resets);
        Assert.Equal(new ushort[] { 5 }, other.Resets);

        for (var i = 10; i < 15; i++)
        {
            Assert.True(a.Sctp.Send(5, 51, InteropData.Payload(i, 200), new SctpSendOptions()), $"{a} cannot send on stream 5 after the reset");
            Assert.True(b.Sctp.Send(5, 51, InteropData.Payload(i, 200), new SctpSendOptions()), $"{b} cannot send on stream 5 after the reset");
        }
        pipe.Pump(() => a.Messages.Count == 10 && b.Messages.Count == 10, "5 more messages each way on the reused stream", TimeSpan.FromSeconds(10));
        var expected = Enumerable.Range(0, 5).Concat(Enumerable.Range(10, 5));
        Assert.Equal(expected, a.Messages.Select(Index));
        Assert.Equal(expected, b.Messages.Select(Index));
        Assert.All(a.Messages.Concat(b.Messages), m => Assert.Equal((ushort)5, m.StreamId));
        Assert.Empty(a.Closes);
        Assert.Empty(b.Closes);
    }
}
