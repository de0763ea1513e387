using System.Text.Json;
using Hibari.Sfu;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

public class DataChannelsParserTests
{
    private static List<DataChannelSpec> Accept(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.True(DataChannelsParser.TryParse(doc.RootElement, out var specs, out var error), error);
        return specs;
    }

    private static string Refuse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.False(DataChannelsParser.TryParse(doc.RootElement, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        return error;
    }

    [Fact]
    public void Every_messaging_field_is_read()
    {
        var s = Accept("""
            [{"label":"#chat","direction":"sendonly","ordered":false,"max_retransmits":0,"protocol":"p","compress":true,
              "header":[{"type":"sender_connection_id","length":26}]},
             {"label":"#t","direction":"recvonly","max_packet_life_time":500},
             {"label":"#d","direction":"sendrecv"}]
            """);
        Assert.Equal(3, s.Count);
        Assert.Equal(new DataChannelSpec
        {
            Label = "#chat", Direction = DataChannelDirection.SendOnly, Ordered = false, MaxRetransmits = 0, Protocol = "p",
            Compress = true, SenderConnectionIdHeader = true,
        }, s[0]);
        Assert.Equal(500, s[1].MaxPacketLifeTime);
        Assert.True(s[1].Receives);
        Assert.False(s[1].Sends);
        Assert.True(s[2].Ordered);
        Assert.False(s[2].Compress);
        Assert.False(s[2].SenderConnectionIdHeader);
        Assert.All(s, d => Assert.True(d.IsMessaging));
    }

    [Fact]
    public void A_system_label_may_set_compress_only()
    {
        var s = Accept("""[{"label":"signaling","compress":true},{"label":"notify","direction":"sendrecv"}]""");
        Assert.True(s[0].Compress);
        Assert.False(s[0].IsMessaging);
        Assert.Contains("ordered cannot be set for the system label push", Refuse("""[{"label":"push","ordered":false}]"""));
    }

    [Theory]
    [InlineData("""{}""", "must be an array")]
    [InlineData("""[1]""", "[0]: not an object")]
    [InlineData("""[{"direction":"sendrecv"}]""", "label missing")]
    [InlineData("""[{"label":"chat","direction":"sendrecv"}]""", "must start with #")]
    [InlineData("""[{"label":"#","direction":"sendrecv"}]""", "must start with #")]
    [InlineData("""[{"label":"#a"}]""", "direction missing")]
    [InlineData("""[{"label":"#a","direction":"both"}]""", "direction must be")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","ordered":"no"}]""", "ordered must be a bool")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","max_retransmits":-1}]""", "max_retransmits must be")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","max_retransmits":65536}]""", "max_retransmits must be")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","max_packet_life_time":1.5}]""", "max_packet_life_time must be")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","max_packet_life_time":1,"max_retransmits":1}]""", "cannot both be set")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","protocol":1}]""", "protocol must be a string")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","compress":1}]""", "compress must be a bool")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","header":{}}]""", "header must be an array")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","header":[{"type":"other"}]}]""", "header entries")]
    [InlineData("""[{"label":"#a","direction":"sendrecv","header":[{"type":"sender_connection_id","length":8}]}]""", "length must be 26")]
    [InlineData("""[{"label":"#a","direction":"sendrecv"},{"label":"#a","direction":"sendrecv"}]""", "[1]: label #a appears twice")]
    public void Invalid_entries_are_refused_with_what_is_wrong(string json, string expected)
    {
        Assert.Contains(expected, Refuse(json));
    }

    [Fact]
    public void Long_labels_and_too_many_entries_are_refused()
    {
        Assert.Contains("longer than 255", Refuse($$"""[{"label":"#{{new string('x', 255)}}","direction":"sendrecv"}]"""));
        var many = string.Join(",", Enumerable.Range(0, DataChannelsParser.MaxEntries + 1).Select(i => $$"""{"label":"#{{i}}","direction":"sendrecv"}"""));
        Assert.Contains("at most 64", Refuse($"[{many}]"));
    }

    [Fact]
    public void The_offer_lists_system_labels_then_messaging_labels_as_in_effect()
    {
        var specs = Accept("""[{"label":"signaling","compress":true},{"label":"#h","direction":"recvonly","header":[{"type":"sender_connection_id"}]}]""");
        var offer = ServerMessages.OfferDataChannels(true, specs);
        var labels = offer.EnumerateArray().Select(e => e.GetProperty("label").GetString()).ToList();
        Assert.Equal(["signaling", "notify", "push", "stats", "#h"], labels);
        Assert.True(offer[0].GetProperty("compress").GetBoolean());
        Assert.False(offer[1].GetProperty("compress").GetBoolean());
        var h = offer[4];
        Assert.Equal("recvonly", h.GetProperty("direction").GetString());
        Assert.Equal("sender_connection_id", h.GetProperty("header")[0].GetProperty("type").GetString());
        Assert.Equal(0, ServerMessages.OfferDataChannels(false, []).GetArrayLength());
    }
}
