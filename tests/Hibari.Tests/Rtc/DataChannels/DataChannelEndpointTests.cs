using System.Text;
using Hibari.Rtc.DataChannels;
using Hibari.Rtc.Sctp;
using Hibari.Rtc.Sctp.Chunks;
using Hibari.Tests.Rtc.Sctp.Managed;

namespace Hibari.Tests.Rtc.DataChannels;

/// <summary>Two endpoints over two real <see cref="SctpAssociation"/>s on a <see cref="VirtualLink"/>: A is the DTLS client, B the server.</summary>
public sealed class DataChannelEndpointTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    private sealed class Side
    {
        public required DataChannelEndpoint Endpoint;
        public readonly List<DataChannel> Opened = new();
        public readonly List<DataChannel> Closed = new();
        public readonly List<(DataChannel Channel, DataChannelMessage Message)> Messages = new();
        public readonly List<string> Events = new();

        public void Attach()
        {
            Endpoint.ChannelOpen += c => { Opened.Add(c); Events.Add("open " + c.Label); };
            Endpoint.ChannelClosed += c => { Closed.Add(c); Events.Add("closed " + c.Label); };
            Endpoint.MessageReceived += (c, m) => { Messages.Add((c, m)); Events.Add("message " + c.Label); };
        }

        public List<DataChannelMessage> On(string label) => Messages.Where(m => m.Channel.Label == label).Select(m => m.Message).ToList();
    }

    private sealed class Pair
    {
        public readonly VirtualLink Link;
        public readonly Side A, B;
        /// <summary>DATA chunks A put on the wire (before loss).</summary>
        public readonly List<DataChunk> DataFromA = new();

        public Pair(int seed, SctpOptions? options = null)
        {
            Link = new VirtualLink(seed, options, options);
            A = new Side { Endpoint = new DataChannelEndpoint(Link.A, isDtlsClient: true) };
            B = new Side { Endpoint = new DataChannelEndpoint(Link.B, isDtlsClient: false) };
            A.Attach();
            B.Attach();
            Link.Sniff = (toB, p) => { if (toB) DataFromA.AddRange(VirtualLink.Chunks(p).OfType<DataChunk>()); };
            Assert.True(Link.Connect());
        }

        public void Until(Func<bool> done) => Assert.True(Link.RunUntil(done, Budget), "timed out in simulated time");

        public (DataChannel Mine, DataChannel Theirs) Open(bool fromA, string label, DataChannelOptions? options = null)
        {
            var (me, peer) = fromA ? (A, B) : (B, A);
            var mine = me.Endpoint.Open(label, options ?? new DataChannelOptions());
            Assert.Equal(DataChannelState.Connecting, mine.State);
            Until(() => mine.State == DataChannelState.Open && peer.Opened.Any(c => c.StreamId == mine.StreamId && c.Label == label));
            return (mine, peer.Opened.Last(c => c.StreamId == mine.StreamId));
        }
    }

    [Fact]
    public void Client_opens_even_ids_and_both_sides_see_the_channel_open()
    {
        var p = new Pair(1);
        var (a0, b0) = p.Open(true, "first", new DataChannelOptions { Protocol = "chat" });
        var (a1, _) = p.Open(true, "second");
        var (a2, _) = p.Open(true, "third");
        Assert.Equal([0, 2, 4], new[] { a0.StreamId, a1.StreamId, a2.StreamId }.Select(x => (int)x));
        Assert.True(a0.LocallyOpened);
        Assert.False(b0.LocallyOpened);
        Assert.Equal("first", b0.Label);
        Assert.Equal("chat", b0.Options.Protocol);
        Assert.Equal(DataChannelState.Open, b0.State);
        Assert.Equal(["first", "second", "third"], p.A.Opened.Select(c => c.Label));
        Assert.Equal(["first", "second", "third"], p.B.Opened.Select(c => c.Label));
        Assert.Same(b0, p.B.Endpoint.Find("first"));
        Assert.Equal(3, p.B.Endpoint.Channels.Count);
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Fact]
    public void Server_opens_odd_ids_and_both_sides_can_open_at_the_same_time()
    {
        var p = new Pair(2);
        var fromA = p.A.Endpoint.Open("from-a", new DataChannelOptions());
        var fromB = p.B.Endpoint.Open("from-b", new DataChannelOptions());
        var fromB2 = p.B.Endpoint.Open("from-b2", new DataChannelOptions());
        Assert.Equal(0, fromA.StreamId);
        Assert.Equal(1, fromB.StreamId);
        Assert.Equal(3, fromB2.StreamId);
        p.Until(() => p.A.Opened.Count == 3 && p.B.Opened.Count == 3);
        Assert.All(new[] { fromA, fromB, fromB2 }, c => Assert.Equal(DataChannelState.Open, c.State));
        Assert.Equal(3, p.A.Endpoint.Channels.Count);
        Assert.Equal([0, 1, 3], p.A.Endpoint.Channels.Select(c => (int)c.StreamId));
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Fact]
    public void Text_binary_and_empty_messages_keep_their_kind_in_both_directions()
    {
        var p = new Pair(3);
        var (a, b) = p.Open(false, "mixed");
        Assert.True(a.Send("héllo"));
        Assert.True(a.Send([1, 2, 3], binary: true));
        Assert.True(a.Send([], binary: false));
        Assert.True(a.Send(ReadOnlySpan<byte>.Empty, binary: true));
        Assert.True(b.Send(Encoding.UTF8.GetBytes("back"), binary: false));
        Assert.True(b.Send([], binary: true));
        p.Until(() => p.A.Messages.Count == 4 && p.B.Messages.Count == 2);

        var atA = p.A.On("mixed"); // B (server) opened it, A received
        Assert.Equal("héllo", atA[0].Text);
        Assert.False(atA[0].Binary);
        Assert.Equal(new byte[] { 1, 2, 3 }, atA[1].Data);
        Assert.True(atA[1].Binary);
        Assert.Empty(atA[2].Data);
        Assert.False(atA[2].Binary);
        Assert.Empty(atA[3].Data);
        Assert.True(atA[3].Binary);
        var atB = p.B.On("mixed");
        Assert.Equal("back", atB[0].Text);
        Assert.False(atB[0].Binary);
        Assert.Empty(atB[1].Data);
        Assert.True(atB[1].Binary);
    }

    [Fact]
    public void Wire_uses_ppid_50_for_dcep_51_53_for_data_and_56_57_with_one_zero_byte_for_empty()
    {
        var p = new Pair(4);
        var (a, _) = p.Open(true, "wire");
        a.Send("t");
        a.Send([9], binary: true);
        a.Send([], binary: false);
        a.Send([], binary: true);
        p.Until(() => p.B.Messages.Count == 4);
        var chunks = p.DataFromA.Where(d => d.StreamId == a.StreamId).DistinctBy(d => d.Tsn).ToList();
        Assert.Equal(new uint[] { 50, 51, 53, 56, 57 }, chunks.Select(c => c.Ppid));
        Assert.False(chunks[0].Unordered); // the OPEN: ordered, reliable
        Assert.Equal(Dcep.MessageOpen, chunks[0].UserData.Span[0]);
        Assert.Equal(new byte[] { 0 }, chunks[3].UserData.ToArray());
        Assert.Equal(new byte[] { 0 }, chunks[4].UserData.ToArray());
    }

    [Fact]
    public void A_200000_byte_message_arrives_byte_exact()
    {
        var p = new Pair(5);
        var (a, b) = p.Open(true, "big");
        var data = new byte[200_000];
        new Random(5).NextBytes(data);
        Assert.True(a.Send(data, binary: true));
        Assert.True(b.Send(data, binary: true));
        p.Until(() => p.A.Messages.Count == 1 && p.B.Messages.Count == 1);
        Assert.Equal(data, p.B.Messages[0].Message.Data);
        Assert.Equal(data, p.A.Messages[0].Message.Data);
    }

    public static TheoryData<DataChannelOptions> AllChannelTypes => new()
    {
        new DataChannelOptions(),
        new DataChannelOptions { Ordered = false },
        new DataChannelOptions { MaxRetransmits = 3 },
        new DataChannelOptions { Ordered = false, MaxRetransmits = 0 },
        new DataChannelOptions { MaxPacketLifeTimeMs = 500, Priority = 512 },
        new DataChannelOptions { Ordered = false, MaxPacketLifeTimeMs = 100, Protocol = "x-proto" },
    };

    [Theory]
    [MemberData(nameof(AllChannelTypes))]
    public void Every_channel_type_reaches_the_peer_and_carries_messages(DataChannelOptions options)
    {
        var p = new Pair(6);
        var (a, b) = p.Open(true, "typed", options);
        Assert.Equal(options, b.Options);
        Assert.Equal(options, a.Options);
        for (var i = 0; i < 5; i++) { Assert.True(a.Send($"a{i}")); Assert.True(b.Send($"b{i}")); }
        p.Until(() => p.A.Messages.Count == 5 && p.B.Messages.Count == 5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"a{i}").Order(), p.B.Messages.Select(m => m.Message.Text).Order());
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"b{i}").Order(), p.A.Messages.Select(m => m.Message.Text).Order());
        // After the ACK, A's messages use the channel's ordering.
        var userChunks = p.DataFromA.Where(d => d.StreamId == a.StreamId && d.Ppid == DataChannelPpid.String).ToList();
        Assert.NotEmpty(userChunks);
        Assert.All(userChunks, d => Assert.Equal(!options.Ordered, d.Unordered));
    }

    [Fact]
    public void Messages_sent_before_the_ack_go_ordered_and_arrive_right_after_the_open()
    {
        var p = new Pair(7);
        var a = p.A.Endpoint.Open("early", new DataChannelOptions { Ordered = false });
        Assert.True(a.Send("e1"));
        Assert.True(a.Send("e2"));
        Assert.True(a.Send([7], binary: true));
        p.Until(() => a.State == DataChannelState.Open && p.B.Messages.Count == 3);
        Assert.Equal(["open early", "message early", "message early", "message early"], p.B.Events);
        Assert.Equal(["e1", "e2"], p.B.Messages.Take(2).Select(m => m.Message.Text));
        var before = p.DataFromA.Where(d => d.StreamId == a.StreamId).DistinctBy(d => d.Tsn).ToList();
        Assert.Equal(4, before.Count);
        Assert.All(before, d => Assert.False(d.Unordered));

        Assert.True(a.Send("late"));
        p.Until(() => p.B.Messages.Count == 4);
        Assert.True(p.DataFromA.Last(d => d.StreamId == a.StreamId).Unordered);
    }

    [Fact]
    public void Unordered_channel_without_retransmissions_abandons_lost_messages_and_delivers_later_ones()
    {
        var p = new Pair(8);
        var (a, _) = p.Open(true, "lossy", new DataChannelOptions { Ordered = false, MaxRetransmits = 0 });
        p.Link.Loss = 0.25;
        const int lossy = 300;
        for (var i = 0; i < lossy; i++)
        {
            Assert.True(a.Send(Encoding.UTF8.GetBytes($"m{i}"), binary: false));
            p.Link.Step();
        }
        p.Link.Run(TimeSpan.FromSeconds(2));
        p.Link.Loss = 0;
        for (var i = 0; i < 20; i++) Assert.True(a.Send($"final{i}"));
        p.Until(() => p.B.Messages.Count(m => m.Message.Text.StartsWith("final")) == 20);

        var texts = p.B.Messages.Select(m => m.Message.Text).ToList();
        var early = texts.Where(t => t.StartsWith('m')).ToList();
        Assert.True(early.Count < lossy, $"nothing abandoned ({early.Count} of {lossy})");
        Assert.True(early.Count > lossy / 2, $"too few delivered ({early.Count} of {lossy})");
        Assert.Equal(early.Count, early.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"final{i}").Order(), texts.Where(t => t.StartsWith("final")).Order());
        Assert.Equal(DataChannelState.Open, a.State);
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Close_by_the_opener_closes_both_sides_and_the_id_is_reused(bool fromA)
    {
        var p = new Pair(9);
        var (me, peer) = fromA ? (p.A, p.B) : (p.B, p.A);
        var (mine, theirs) = p.Open(fromA, "short-lived");
        mine.Close();
        Assert.Equal(DataChannelState.Closing, mine.State);
        Assert.False(mine.Send("too late"));
        p.Until(() => mine.State == DataChannelState.Closed && theirs.State == DataChannelState.Closed);
        p.Link.Run(TimeSpan.FromMilliseconds(200));
        Assert.Equal([mine], me.Closed);
        Assert.Equal([theirs], peer.Closed);
        Assert.Empty(me.Endpoint.Channels);
        Assert.Empty(peer.Endpoint.Channels);
        Assert.Null(me.Endpoint.Find("short-lived"));

        var (again, theirsAgain) = p.Open(fromA, "again");
        Assert.Equal(mine.StreamId, again.StreamId);
        Assert.True(again.Send("works"));
        p.Until(() => peer.Messages.Any(m => m.Channel == theirsAgain && m.Message.Text == "works"));
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Close_by_the_other_side_is_answered_with_a_reset_and_the_id_is_reused(bool openedByA)
    {
        var p = new Pair(10);
        var (opener, closer) = openedByA ? (p.A, p.B) : (p.B, p.A);
        var (mine, theirs) = p.Open(openedByA, "closed-by-peer");
        theirs.Close();
        p.Until(() => mine.State == DataChannelState.Closed && theirs.State == DataChannelState.Closed);
        p.Link.Run(TimeSpan.FromMilliseconds(200)); // our answering reset completes
        Assert.Equal([mine], opener.Closed);
        Assert.Equal([theirs], closer.Closed);

        var (again, theirsAgain) = p.Open(openedByA, "reopened");
        Assert.Equal(mine.StreamId, again.StreamId);
        Assert.True(theirsAgain.Send("pong"));
        p.Until(() => opener.Messages.Any(m => m.Channel == again && m.Message.Text == "pong"));
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Fact]
    public void Open_right_after_an_answered_reset_takes_the_next_id_while_the_reset_is_in_flight()
    {
        var p = new Pair(11);
        var (mine, theirs) = p.Open(true, "x");
        theirs.Close();
        p.Until(() => mine.State == DataChannelState.Closed);
        // A answered with its own reset a moment ago; SCTP refuses stream 0 until B confirms it.
        var next = p.A.Endpoint.Open("y", new DataChannelOptions());
        Assert.Equal(2, next.StreamId);
        p.Until(() => next.State == DataChannelState.Open);
        var third = p.A.Endpoint.Open("z", new DataChannelOptions());
        Assert.Equal(0, third.StreamId);
    }

    [Fact]
    public void Association_abort_closes_every_channel_on_both_sides()
    {
        var p = new Pair(12);
        var channels = new[] { p.Open(true, "a1"), p.Open(false, "b1"), p.Open(true, "a2") };
        var closing = p.A.Endpoint.Channels.First();
        p.Link.A.Abort("test over");
        Assert.Equal(3, p.A.Closed.Count);
        Assert.All(p.A.Closed, c => Assert.Equal(DataChannelState.Closed, c.State));
        Assert.Equal(3, p.A.Closed.Distinct().Count());
        p.Until(() => p.B.Closed.Count == 3);
        Assert.All(channels, c => { Assert.Equal(DataChannelState.Closed, c.Mine.State); Assert.Equal(DataChannelState.Closed, c.Theirs.State); });
        Assert.Empty(p.A.Endpoint.Channels);
        Assert.Empty(p.B.Endpoint.Channels);
        Assert.False(closing.Send("nothing"));
        Assert.Throws<InvalidOperationException>(() => p.A.Endpoint.Open("after", new DataChannelOptions()));
        p.Link.Run(TimeSpan.FromMilliseconds(100));
        Assert.Equal(3, p.A.Closed.Count);
        Assert.Equal(3, p.B.Closed.Count);
    }

    [Fact]
    public void A_hundred_channels_from_both_sides_carry_their_own_messages_and_close()
    {
        var p = new Pair(13);
        var mine = new List<DataChannel>();
        for (var i = 0; i < 100; i++)
            mine.Add((i % 2 == 0 ? p.A : p.B).Endpoint.Open($"ch{i}", new DataChannelOptions { Ordered = i % 3 != 0 }));
        p.Until(() => p.A.Opened.Count == 100 && p.B.Opened.Count == 100);
        Assert.Equal(100, mine.Select(c => c.StreamId).Distinct().Count());
        Assert.All(mine.Where((_, i) => i % 2 == 0), c => Assert.Equal(0, c.StreamId % 2));
        Assert.All(mine.Where((_, i) => i % 2 == 1), c => Assert.Equal(1, c.StreamId % 2));
        foreach (var c in mine) Assert.True(c.Send($"on {c.Label}"));
        p.Until(() => p.A.Messages.Count == 50 && p.B.Messages.Count == 50);
        Assert.All(p.A.Messages.Concat(p.B.Messages), m => Assert.Equal($"on {m.Channel.Label}", m.Message.Text));

        foreach (var c in p.A.Endpoint.Channels) c.Close();
        p.Until(() => p.A.Closed.Count == 100 && p.B.Closed.Count == 100);
        Assert.Empty(p.A.Endpoint.Channels);
        Assert.Empty(p.B.Endpoint.Channels);
        Assert.Equal(0, p.A.Endpoint.ProtocolErrors + p.B.Endpoint.ProtocolErrors);
    }

    [Fact]
    public void Bad_peer_input_is_counted_and_a_valid_channel_keeps_working()
    {
        var p = new Pair(14);
        var (a, b) = p.Open(true, "good");
        var raw = p.Link.A; // bypass A's endpoint: play a misbehaving peer towards B
        raw.Send(2, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "valid even", "")), default); // B is the server: the client's ids are even
        raw.Send(3, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "odd from client", "")), default);
        raw.Send(0, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "in use", "")), default);
        raw.Send(9, DataChannelPpid.String, "nobody"u8, default);
        raw.Send(0, 99, "unknown ppid"u8, default);
        raw.Send(0, DataChannelPpid.Dcep, [0x03, 0x00], default);
        raw.Send(0, DataChannelPpid.Dcep, Dcep.WriteAck(), default); // ACK on B's peer-opened channel
        raw.Send(0, DataChannelPpid.String, "still fine"u8, default);
        p.Until(() => p.B.Messages.Count == 1 && p.B.Opened.Count == 2);
        Assert.Equal(6, p.B.Endpoint.ProtocolErrors);
        Assert.Equal("valid even", p.B.Opened[1].Label);
        Assert.Equal("still fine", p.B.Messages[0].Message.Text);
        Assert.True(b.Send("reply"));
        p.Until(() => p.A.Messages.Count == 1);
        Assert.Equal("reply", p.A.Messages[0].Message.Text);
        Assert.Equal(DataChannelState.Open, a.State);
    }

    [Fact]
    public void Open_refuses_before_the_association_is_up_and_when_no_id_is_left()
    {
        var notStarted = new SctpAssociation(new SctpOptions());
        var ep = new DataChannelEndpoint(notStarted, isDtlsClient: true);
        Assert.Throws<InvalidOperationException>(() => ep.Open("x", new DataChannelOptions()));

        var p = new Pair(15);
        var small = new DataChannelEndpoint(p.Link.B, isDtlsClient: false, log: null, maxStreamId: 5);
        Assert.Equal([1, 3, 5], Enumerable.Range(0, 3).Select(i => (int)small.Open($"c{i}", new DataChannelOptions()).StreamId));
        Assert.Throws<InvalidOperationException>(() => small.Open("one too many", new DataChannelOptions()));
        Assert.Throws<ArgumentException>(() => p.A.Endpoint.Open("both", new DataChannelOptions { MaxRetransmits = 1, MaxPacketLifeTimeMs = 10 }));
        Assert.Empty(p.A.Endpoint.Channels);
    }
}
