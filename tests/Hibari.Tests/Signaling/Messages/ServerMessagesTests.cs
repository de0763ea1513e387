using System.Text.Json;
using Hibari.Signaling;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

public sealed class ServerMessagesTests
{
    private static JsonElement Read(byte[] utf8) => JsonDocument.Parse(utf8).RootElement.Clone();

    private static string[] Keys(JsonElement e) => e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    private static string[] Sorted(params string[] names) => names.Order(StringComparer.Ordinal).ToArray();

    private static readonly OfferMessage SampleOffer = new()
    {
        Sdp = "v=0\r\n",
        ConnectionId = "E35JE7KG694H3F5NZ304AG3R74",
        ClientId = "alice",
        BundleId = "E35JE7KG694H3F5NZ304AG3R74",
        SessionId = "SCVC9JRZZ900F0KC32T3GY6FBR",
        ChannelId = "sora",
        AudioMid = "0",
        VideoMid = "1",
    };

    [Fact]
    public void Offer_has_exactly_the_fields_the_sdks_read()
    {
        var o = Read(ServerMessages.Offer(SampleOffer));
        Assert.Equal(Sorted("type", "sdp", "version", "channel_id", "session_id", "client_id", "bundle_id", "connection_id",
            "simulcast", "simulcast_multicodec", "spotlight", "multistream", "mid", "config", "data_channel_signaling",
            "ignore_disconnect_websocket", "audio", "audio_codec_type", "video", "video_codec_type", "video_bit_rate"), Keys(o));
        Assert.Equal("offer", o.GetProperty("type").GetString());
        Assert.Equal("v=0\r\n", o.GetProperty("sdp").GetString());
        Assert.True(o.GetProperty("multistream").GetBoolean());
        Assert.Equal("0", o.GetProperty("mid").GetProperty("audio").GetString());
        Assert.Equal("1", o.GetProperty("mid").GetProperty("video").GetString());
        var config = o.GetProperty("config");
        Assert.Equal(Sorted("iceServers", "iceTransportPolicy"), Keys(config));
        Assert.Equal(0, config.GetProperty("iceServers").GetArrayLength());
        Assert.Equal("all", config.GetProperty("iceTransportPolicy").GetString());
        Assert.Equal("VP9", o.GetProperty("video_codec_type").GetString());
        Assert.Equal(1000, o.GetProperty("video_bit_rate").GetInt32());
        Assert.Equal("OPUS", o.GetProperty("audio_codec_type").GetString());
        Assert.Equal(HibariVersion.Value, o.GetProperty("version").GetString());
    }

    [Fact]
    public void Offer_writes_auth_metadata_raw_and_optional_members_only_when_set()
    {
        using var md = JsonDocument.Parse("""{"display_name":"アリス","n":[1,2]}""");
        using var dcs = JsonDocument.Parse("""[{"label":"signaling","direction":"sendrecv","compress":false}]""");
        var o = Read(ServerMessages.Offer(SampleOffer with
        {
            Metadata = md.RootElement, DataChannels = dcs.RootElement, AudioBitRate = 64, AudioMid = null, VideoMid = null,
        }));
        Assert.Equal("アリス", o.GetProperty("metadata").GetProperty("display_name").GetString());
        Assert.Equal("signaling", o.GetProperty("data_channels")[0].GetProperty("label").GetString());
        Assert.Equal(64, o.GetProperty("audio_bit_rate").GetInt32());
        Assert.Empty(Keys(o.GetProperty("mid")));
    }

    [Fact]
    public void Re_offer_is_type_and_sdp()
    {
        var m = Read(ServerMessages.ReOffer("v=0"));
        Assert.Equal(Sorted("type", "sdp"), Keys(m));
        Assert.Equal("re-offer", m.GetProperty("type").GetString());
    }

    private static ConnectionNotify SampleNotify(ConnectionEvent e) => new()
    {
        Event = e,
        Timestamp = new DateTimeOffset(2023, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_990),
        Role = Role.SendRecv,
        SessionId = "SCVC9JRZZ900F0KC32T3GY6FBR",
        ClientId = "c1",
        BundleId = "b1",
        ConnectionId = "E35JE7KG694H3F5NZ304AG3R74",
        Audio = true,
        Video = true,
        ChannelConnections = 2,
        ChannelSendrecvConnections = 2,
    };

    private static readonly string[] NotifyKeys =
    [
        "type", "event_type", "timestamp", "role", "session_id", "client_id", "bundle_id", "connection_id", "audio",
        "video", "metadata", "minutes", "channel_connections", "channel_sendrecv_connections",
        "channel_sendonly_connections", "channel_recvonly_connections", "turn_transport_type",
    ];

    [Theory]
    [InlineData(ConnectionEvent.Created, "connection.created")]
    [InlineData(ConnectionEvent.Updated, "connection.updated")]
    [InlineData(ConnectionEvent.Destroyed, "connection.destroyed")]
    public void Connection_notify_has_the_fields_of_appendix_b2(ConnectionEvent e, string eventType)
    {
        var n = Read(ServerMessages.Notify(SampleNotify(e)));
        Assert.Equal(Sorted(NotifyKeys), Keys(n));
        Assert.Equal("notify", n.GetProperty("type").GetString());
        Assert.Equal(eventType, n.GetProperty("event_type").GetString());
        Assert.Equal("2023-12-31T23:59:59.999999Z", n.GetProperty("timestamp").GetString());
        Assert.Equal("sendrecv", n.GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, n.GetProperty("metadata").ValueKind);
        Assert.Equal(2, n.GetProperty("channel_sendrecv_connections").GetInt32());
        Assert.Equal("udp", n.GetProperty("turn_transport_type").GetString());
    }

    [Fact]
    public void Self_connection_created_lists_present_connections_in_data()
    {
        using var md = JsonDocument.Parse("""{"name":"alice"}""");
        var n = Read(ServerMessages.Notify(SampleNotify(ConnectionEvent.Created) with
        {
            Metadata = md.RootElement,
            Data = [new NotifyPeer("WCJC78EWK935N7P7Z8FYAKFW9M", "alice", "WCJC78EWK935N7P7Z8FYAKFW9M", md.RootElement), new NotifyPeer("X", "y", "z", null)],
        }));
        Assert.Equal(Sorted([.. NotifyKeys, "data"]), Keys(n));
        Assert.Equal("alice", n.GetProperty("metadata").GetProperty("name").GetString());
        var data = n.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.Equal(Sorted("client_id", "bundle_id", "connection_id", "metadata"), Keys(data[0]));
        Assert.Equal("alice", data[0].GetProperty("metadata").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, data[1].GetProperty("metadata").ValueKind);
    }

    [Fact]
    public void Push_ping_redirect_switched_close_and_req_stats_have_their_exact_fields()
    {
        using var data = JsonDocument.Parse("""{"x":1}""");
        var push = Read(ServerMessages.Push(data.RootElement));
        Assert.Equal(Sorted("type", "data"), Keys(push));
        Assert.Equal(1, push.GetProperty("data").GetProperty("x").GetInt32());

        var ping = Read(ServerMessages.Ping());
        Assert.Equal(Sorted("type", "stats"), Keys(ping));
        Assert.False(ping.GetProperty("stats").GetBoolean());
        Assert.True(Read(ServerMessages.Ping(stats: true)).GetProperty("stats").GetBoolean());

        var redirect = Read(ServerMessages.Redirect("ws://127.0.0.1:5001/signaling"));
        Assert.Equal(Sorted("type", "location"), Keys(redirect));
        Assert.Equal("ws://127.0.0.1:5001/signaling", redirect.GetProperty("location").GetString());

        var switched = Read(ServerMessages.Switched(true));
        Assert.Equal(Sorted("type", "ignore_disconnect_websocket"), Keys(switched));
        Assert.True(switched.GetProperty("ignore_disconnect_websocket").GetBoolean());

        var close = Read(ServerMessages.Close(SignalingCloses.Normal));
        Assert.Equal(Sorted("type", "code", "reason"), Keys(close));
        Assert.Equal(1000, close.GetProperty("code").GetInt32());

        Assert.Equal(Sorted("type"), Keys(Read(ServerMessages.ReqStats())));
    }

    [Fact]
    public void Writers_keep_non_ascii_as_utf8()
    {
        var bytes = ServerMessages.Offer(SampleOffer with { ChannelId = "部屋" });
        Assert.Contains("部屋", System.Text.Encoding.UTF8.GetString(bytes));
    }
}
