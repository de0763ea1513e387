using Hibari.Rtc.DataChannels;
using Hibari.Rtc.Sctp;

namespace Hibari.Tests.Rtc.DataChannels;

/// <summary>
/// Seeded fuzz: <see cref="Dcep.TryParse"/> and an endpoint fed random SCTP messages and resets through a fake
/// association must never throw, must account for every input, and must keep valid channels working.
/// Iterations: HIBARI_FUZZ_ITERATIONS (default 5,000; scripts/fuzz.sh runs 100,000).
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class DataChannelFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("HIBARI_FUZZ_ITERATIONS"), out var n) && n > 0 ? n : 5_000;

    private static readonly byte[][] Seeds =
    [
        Dcep.WriteAck(),
        Dcep.WriteOpen(new DcepOpen(0x00, 256, 0, "chat", "")),
        Dcep.WriteOpen(new DcepOpen(0x81, 128, 0, "", "proto")),
        Dcep.WriteOpen(new DcepOpen(0x02, 512, 1000, "ラベル", "サブ")),
        Dcep.WriteOpen(new DcepOpen(0x82, 0, uint.MaxValue, new string('l', 300), new string('p', 40))),
    ];

    private static byte[] NextPayload(Random rng)
    {
        if (rng.Next(3) == 0)
        {
            var garbage = new byte[rng.Next(0, 64)];
            rng.NextBytes(garbage);
            if (garbage.Length > 0 && rng.Next(2) == 0) garbage[0] = (byte)rng.Next(2, 4); // ACK or OPEN type
            return garbage;
        }
        var seed = Seeds[rng.Next(Seeds.Length)];
        var length = rng.Next(4) == 0 ? rng.Next(0, seed.Length + 3) : seed.Length; // truncation or extension
        var input = new byte[length];
        seed.AsSpan(0, Math.Min(length, seed.Length)).CopyTo(input);
        if (rng.Next(4) != 0)
            for (var k = rng.Next(1, 4); k > 0 && input.Length > 0; k--)
            {
                var at = rng.Next(input.Length);
                input[at] = rng.Next(3) switch { 0 => (byte)rng.Next(256), 1 => (byte)(input[at] ^ (1 << rng.Next(8))), _ => 0xFF };
            }
        return input;
    }

    [Fact]
    public void Dcep_parser_survives_random_and_mutated_input()
    {
        var rng = new Random(8832);
        int opens = 0, acks = 0, errors = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var input = NextPayload(rng);
            var ok = Dcep.TryParse(input, out var open, out var isAck, out var error);
            if (!ok)
            {
                Assert.NotNull(error);
                Assert.Null(open);
                Assert.False(isAck);
                errors++;
            }
            else if (isAck)
            {
                Assert.Null(open);
                Assert.Equal(Dcep.WriteAck(), input);
                acks++;
            }
            else
            {
                // Whatever parses re-encodes to the same bytes (the parser accepts no slack).
                Assert.NotNull(open);
                Assert.Equal(input, Dcep.WriteOpen(open.Value));
                Assert.True(Dcep.IsKnownChannelType(open.Value.ChannelType));
                opens++;
            }
        }
        Assert.True(errors > 0 && opens > 0 && acks > 0, $"opens {opens}, acks {acks}, errors {errors}");
    }

    private static readonly uint[] Ppids = [50, 50, 50, 51, 53, 56, 57, 52, 54, 0, 1234];

    [Fact]
    public void Endpoint_survives_random_messages_and_accounts_for_each_one()
    {
        var rng = new Random(8831);
        var sctp = new FakeSctpAssociation();
        var ep = new DataChannelEndpoint(sctp, isDtlsClient: true);
        int opened = 0, delivered = 0, closed = 0;
        ep.ChannelOpen += _ => opened++;
        ep.MessageReceived += (_, _) => delivered++;
        ep.ChannelClosed += _ => closed++;

        // A channel of ours (ACKed) and one of the peer's.
        var mine = ep.Open("mine", new DataChannelOptions());
        sctp.Deliver(mine.StreamId, DataChannelPpid.Dcep, Dcep.WriteAck());
        sctp.Deliver(1, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "theirs", "")));
        var theirs = ep.Find("theirs");
        Assert.NotNull(theirs);
        Assert.Equal(2, opened);
        opened = 0;

        for (var i = 0; i < Iterations; i++)
        {
            var stream = (ushort)(rng.Next(4) == 0 ? rng.Next(65536) : rng.Next(8));
            var ppid = rng.Next(8) == 0 ? (uint)rng.NextInt64(uint.MaxValue) : Ppids[rng.Next(Ppids.Length)];
            var data = ppid == DataChannelPpid.Dcep ? NextPayload(rng) : new byte[rng.Next(1, 40)];
            if (data.Length == 0) data = [0]; // SCTP never delivers an empty message
            sctp.Deliver(stream, ppid, data);
        }

        Assert.Equal(0, ep.InternalErrors);
        Assert.Equal(0, closed);
        // Every input was either refused, delivered, or opened a peer channel (a valid OPEN on a free odd id; a
        // message on one of our Connecting channels would open and deliver, but we have none).
        Assert.Equal(Iterations, ep.ProtocolErrors + delivered + opened);
        Assert.True(ep.ProtocolErrors > Iterations / 4, $"only {ep.ProtocolErrors} errors");
        Assert.True(delivered > 0);

        // The valid channels still work both ways, and a new one opens.
        Assert.Equal(DataChannelState.Open, mine.State);
        Assert.Equal(DataChannelState.Open, theirs.State);
        var received = new List<string>();
        ep.MessageReceived += (c, m) => { if (c == mine || c == theirs) received.Add(m.Text); };
        sctp.Sent.Clear();
        Assert.True(mine.Send("to peer"));
        Assert.True(theirs.Send("to peer too"));
        Assert.Equal([(mine.StreamId, 51u), (theirs.StreamId, 51u)], sctp.Sent.Select(s => (s.StreamId, s.Ppid)));
        sctp.Deliver(mine.StreamId, DataChannelPpid.String, "back"u8.ToArray());
        sctp.Deliver(theirs.StreamId, DataChannelPpid.String, "back too"u8.ToArray());
        Assert.Equal(["back", "back too"], received);
        var fresh = ep.Open("fresh", new DataChannelOptions());
        Assert.Equal(DataChannelState.Connecting, fresh.State);
        sctp.Deliver(fresh.StreamId, DataChannelPpid.Dcep, Dcep.WriteAck());
        Assert.Equal(DataChannelState.Open, fresh.State);
    }

    [Fact]
    public void Endpoint_survives_random_operations_with_resets_and_keeps_its_invariants()
    {
        var rng = new Random(6525);
        var sctp = new FakeSctpAssociation();
        var ep = new DataChannelEndpoint(sctp, isDtlsClient: false, log: null, maxStreamId: 15); // ids stay in the fuzzed range
        var closedCount = new Dictionary<DataChannel, int>();
        var openCount = new Dictionary<DataChannel, int>();
        ep.ChannelOpen += c => openCount[c] = openCount.GetValueOrDefault(c) + 1;
        ep.ChannelClosed += c => closedCount[c] = closedCount.GetValueOrDefault(c) + 1;
        var everyChannel = new HashSet<DataChannel>();

        for (var i = 0; i < Iterations; i++)
        {
            var stream = (ushort)rng.Next(17);
            switch (rng.Next(8))
            {
                case 0:
                    try { everyChannel.Add(ep.Open($"l{rng.Next(5)}", new DataChannelOptions { Ordered = rng.Next(2) == 0 })); }
                    catch (InvalidOperationException) { } // the fake refused (resetting streams) or no id left
                    break;
                case 1:
                    var channels = ep.Channels.ToArray();
                    if (channels.Length > 0) channels[rng.Next(channels.Length)].Close();
                    break;
                case 2: sctp.PeerResets(stream); break;
                case 3: sctp.ConfirmReset(stream); break;
                case 4: foreach (var c in ep.Channels) c.Send(new byte[rng.Next(3)], rng.Next(2) == 0); break;
                case 5: sctp.Deliver(stream, DataChannelPpid.Dcep, rng.Next(2) == 0 ? Dcep.WriteAck() : Dcep.WriteOpen(new DcepOpen(0, 256, 0, "p", ""))); break;
                default: sctp.Deliver(stream, Ppids[rng.Next(Ppids.Length)], NextPayload(rng) is { Length: > 0 } d ? d : [0]); break;
            }
            foreach (var c in ep.Channels) everyChannel.Add(c);

            var live = ep.Channels;
            Assert.Equal(live.Count, live.Select(c => c.StreamId).Distinct().Count());
            Assert.All(live, c => Assert.NotEqual(DataChannelState.Closed, c.State));
            Assert.All(live, c => Assert.Equal(c.LocallyOpened, c.StreamId % 2 == 1)); // we are the DTLS server
        }

        Assert.Equal(0, ep.InternalErrors);
        Assert.All(openCount.Values, n => Assert.Equal(1, n));
        Assert.All(closedCount.Values, n => Assert.Equal(1, n));
        Assert.All(closedCount.Keys, c => Assert.Equal(DataChannelState.Closed, c.State));
        Assert.True(closedCount.Count > 0 && openCount.Count > 0);

        // The association closes: every remaining channel closes once.
        var remaining = ep.Channels.ToArray();
        sctp.Close("fuzz over");
        Assert.Empty(ep.Channels);
        Assert.All(remaining, c => Assert.Equal(1, closedCount[c]));
        Assert.All(everyChannel, c => Assert.Equal(DataChannelState.Closed, c.State));
    }
}
