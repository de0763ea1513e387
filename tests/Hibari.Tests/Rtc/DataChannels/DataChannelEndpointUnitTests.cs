using Hibari.Rtc.DataChannels;
using Hibari.Rtc.Sctp;

namespace Hibari.Tests.Rtc.DataChannels;

/// <summary>Endpoint rules checked against a fake association, where the test plays the peer message by message.</summary>
public sealed class DataChannelEndpointUnitTests
{
    private readonly FakeSctpAssociation _sctp = new();
    private readonly List<string> _events = new();
    private readonly DataChannelEndpoint _ep;

    public DataChannelEndpointUnitTests()
    {
        _ep = new DataChannelEndpoint(_sctp, isDtlsClient: true);
        _ep.ChannelOpen += c => _events.Add($"open {c.StreamId}");
        _ep.ChannelClosed += c => _events.Add($"closed {c.StreamId}");
        _ep.MessageReceived += (c, m) => _events.Add($"message {c.StreamId} {(m.Binary ? "bin" : "text")} {m.Data.Length}");
    }

    [Fact]
    public void Open_sends_an_ordered_reliable_dcep_open_with_the_channel_type()
    {
        var c = _ep.Open("lbl", new DataChannelOptions { Ordered = false, MaxPacketLifeTimeMs = 300, Protocol = "p", Priority = 1024 });
        var (sid, ppid, data, options) = Assert.Single(_sctp.Sent);
        Assert.Equal(c.StreamId, sid);
        Assert.Equal(DataChannelPpid.Dcep, ppid);
        Assert.Equal(default, options);
        Assert.True(Dcep.TryParse(data, out var open, out _, out _));
        Assert.Equal(new DcepOpen(0x82, 1024, 300, "lbl", "p"), open);
    }

    [Fact]
    public void A_peer_message_before_the_ack_opens_our_channel_and_the_late_ack_is_no_error()
    {
        var c = _ep.Open("x", new DataChannelOptions { Ordered = false, MaxRetransmits = 2 });
        Assert.True(c.Send([1], binary: true));
        Assert.Equal(new SctpSendOptions(Unordered: false, MaxRetransmits: 2), _sctp.Sent[^1].Options);

        _sctp.Deliver(c.StreamId, DataChannelPpid.String, "hi"u8.ToArray());
        Assert.Equal(["open 0", "message 0 text 2"], _events);
        Assert.Equal(DataChannelState.Open, c.State);
        Assert.True(c.Send([2], binary: true));
        Assert.Equal(new SctpSendOptions(Unordered: true, MaxRetransmits: 2), _sctp.Sent[^1].Options);

        _sctp.Deliver(c.StreamId, DataChannelPpid.Dcep, Dcep.WriteAck());
        Assert.Equal(0, _ep.ProtocolErrors);
        _sctp.Deliver(c.StreamId, DataChannelPpid.Dcep, Dcep.WriteAck());
        Assert.Equal(1, _ep.ProtocolErrors);
        Assert.Equal(2, _events.Count);
    }

    [Fact]
    public void A_peer_open_is_acked_and_its_options_decoded()
    {
        _sctp.Deliver(3, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0x01, 128, 4, "peer", "sub")));
        var c = Assert.Single(_ep.Channels);
        Assert.Equal(["open 3"], _events);
        Assert.Equal(new DataChannelOptions { MaxRetransmits = 4, Protocol = "sub", Priority = 128 }, c.Options);
        Assert.False(c.LocallyOpened);
        Assert.Equal((ushort)3, _sctp.Sent[0].StreamId);
        Assert.Equal(Dcep.WriteAck(), _sctp.Sent[0].Data);
        Assert.True(c.Send([], binary: false));
        Assert.Equal(DataChannelPpid.StringEmpty, _sctp.Sent[1].Ppid);
        Assert.Equal(new byte[] { 0 }, _sctp.Sent[1].Data);
        Assert.Equal(new SctpSendOptions(MaxRetransmits: 4), _sctp.Sent[1].Options);
    }

    [Fact]
    public void Send_is_refused_on_closing_closed_and_when_sctp_refuses()
    {
        var c = _ep.Open("x", new DataChannelOptions());
        _sctp.RefuseSends = true;
        Assert.False(c.Send("full"));
        _sctp.RefuseSends = false;
        c.Close();
        Assert.Equal(DataChannelState.Closing, c.State);
        Assert.Equal([c.StreamId], _sctp.Resets);
        Assert.False(c.Send("closing"));
        c.Close(); // twice: nothing more
        Assert.Single(_sctp.Resets);
        _sctp.PeerResets(c.StreamId);
        Assert.Equal(DataChannelState.Closed, c.State);
        Assert.False(c.Send("closed"));
        Assert.Single(_sctp.Resets); // the peer's reset answered ours: no second reset
        Assert.Equal(["closed 0"], _events);
    }

    [Fact]
    public void A_reset_of_a_stream_without_a_channel_is_answered_once()
    {
        _sctp.PeerResets(7);
        _sctp.PeerResets(7);
        Assert.Equal([7], _sctp.Resets);
        Assert.Empty(_events);
    }

    [Fact]
    public void Close_without_an_association_closes_at_once()
    {
        var c = _ep.Open("x", new DataChannelOptions());
        _sctp.State = SctpState.ShutdownPending;
        c.Close();
        Assert.Equal(DataChannelState.Closed, c.State);
        Assert.Equal(["closed 0"], _events);
        Assert.Empty(_sctp.Resets);
    }

    [Fact]
    public void Messages_on_a_closing_channel_are_dropped_without_an_error()
    {
        _sctp.Deliver(1, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "p", "")));
        var c = Assert.Single(_ep.Channels);
        c.Close();
        _sctp.Deliver(1, DataChannelPpid.Binary, [1, 2]);
        Assert.Equal(["open 1"], _events);
        Assert.Equal(0, _ep.ProtocolErrors);
    }

    [Fact]
    public void A_throwing_handler_does_not_break_the_endpoint()
    {
        _ep.MessageReceived += (_, _) => throw new InvalidOperationException("handler bug");
        _sctp.Deliver(1, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "p", "")));
        _sctp.Deliver(1, DataChannelPpid.Binary, [1]);
        _sctp.Deliver(1, DataChannelPpid.Binary, [1, 2]);
        Assert.Equal(["open 1", "message 1 bin 1", "message 1 bin 2"], _events);
        Assert.Equal(0, _ep.InternalErrors);
    }

    [Fact]
    public void Dispose_detaches_and_closes_channels_without_events()
    {
        var c = _ep.Open("x", new DataChannelOptions());
        _ep.Dispose();
        Assert.Equal(DataChannelState.Closed, c.State);
        Assert.Empty(_ep.Channels);
        _sctp.Deliver(1, DataChannelPpid.Dcep, Dcep.WriteOpen(new DcepOpen(0, 256, 0, "p", "")));
        _sctp.Close("gone");
        Assert.Empty(_events);
        Assert.Throws<ObjectDisposedException>(() => _ep.Open("y", new DataChannelOptions()));
    }

    [Fact]
    public void Find_returns_only_open_or_connecting_channels()
    {
        var a = _ep.Open("same", new DataChannelOptions());
        var b = _ep.Open("same", new DataChannelOptions());
        Assert.Same(a, _ep.Find("same"));
        a.Close();
        Assert.Same(b, _ep.Find("same"));
        Assert.Null(_ep.Find("other"));
    }
}
