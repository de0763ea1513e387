using System.Text;
using System.Text.Json;
using Hibari.Sfu.Spotlight;
using Hibari.Signaling.Messages;
using Hibari.Signaling.Rpc;

namespace Hibari.Tests.Sfu.Spotlight;

/// <summary>Spotlight in signaling (D-37): connect fields, the notifies' shape, focus slots, the rpc methods' params.</summary>
public sealed class SpotlightSignalingTests
{
    private static bool TryConnect(string extra, out ConnectRequest request) =>
        ConnectParser.TryParse(Encoding.UTF8.GetBytes("""{"type":"connect","role":"recvonly","channel_id":"c",""" + extra + "}"), out request!, out _);

    [Fact]
    public void Connect_reads_the_spotlight_fields()
    {
        Assert.True(TryConnect("\"spotlight\":true,\"spotlight_number\":3,\"spotlight_focus_rid\":\"r2\",\"spotlight_unfocus_rid\":\"none\"", out var c));
        Assert.Equal((true, 3, "r2", "none"), (c.Spotlight, c.SpotlightNumber, c.SpotlightFocusRid, c.SpotlightUnfocusRid));
        Assert.True(TryConnect("\"spotlight\":true", out var d));
        Assert.Equal((null, null, null), (d.SpotlightNumber, d.SpotlightFocusRid, d.SpotlightUnfocusRid));
    }

    [Theory]
    [InlineData("\"spotlight_number\":0")]
    [InlineData("\"spotlight_number\":9")]
    [InlineData("\"spotlight_number\":1.5")]
    [InlineData("\"spotlight_number\":\"2\"")]
    [InlineData("\"spotlight_focus_rid\":\"r3\"")]
    [InlineData("\"spotlight_unfocus_rid\":1")]
    public void Invalid_spotlight_fields_refuse_the_connect(string extra) => Assert.False(TryConnect(extra, out _));

    [Fact]
    public void Notifies_have_the_fields_sora_js_sdk_types()
    {
        var at = DateTimeOffset.Parse("2026-12-07T00:00:00Z");
        var changed = JsonDocument.Parse(ServerMessages.Spotlight("spotlight.changed", at, "ch", "cl", "CONN", true, false, false, 2)).RootElement;
        Assert.Equal(["audio", "channel_id", "client_id", "connection_id", "event_type", "fixed", "spotlight_id", "timestamp", "type", "video"],
            changed.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("2", changed.GetProperty("spotlight_id").GetString());
        var focused = JsonDocument.Parse(ServerMessages.Spotlight("spotlight.focused", at, "ch", "cl", "CONN", true, true, true, null)).RootElement;
        Assert.False(focused.TryGetProperty("spotlight_id", out _));
        Assert.True(focused.GetProperty("fixed").GetBoolean());
    }

    [Fact]
    public void A_focused_sender_keeps_its_slot_and_a_newcomer_takes_the_lowest_free_one()
    {
        var room = new SpotlightRoom(3);
        var (g1, _) = room.Apply(["a", "b", "c"]);
        Assert.Equal([("a", 0), ("b", 1), ("c", 2)], g1);
        var (g2, l2) = room.Apply(["a", "c", "d"]);
        Assert.Equal(["b"], l2);
        Assert.Equal([("d", 1)], g2);
        Assert.Equal(["a", "d", "c"], room.Slots.Take(3));
        var (g3, l3) = room.Apply(["a", "c", "d"]);
        Assert.Empty(g3);
        Assert.Empty(l3);
    }

    [Theory]
    [InlineData("""{"spotlight_focus_rid":"r1"}""")]
    [InlineData("""{"spotlight_focus_rid":"r1","spotlight_unfocus_rid":"r9"}""")]
    [InlineData("""{"spotlight_focus_rid":"r1","spotlight_unfocus_rid":"r0","channel_id":"x"}""")] // Sora refuses extra params
    public void Rpc_RequestSpotlightRid_refuses_bad_params_before_reaching_the_sfu(string parameters)
    {
        var caller = new Hibari.Sfu.ConnectionInfo
        {
            ConnectionId = "C", ClientId = "C", BundleId = "C", ChannelId = "ch", Role = Hibari.Sfu.ConnectionRole.RecvOnly,
            RpcMethods = [RpcMethods.RequestSpotlightRid],
        };
        var json = $$"""{"jsonrpc":"2.0","method":"{{RpcMethods.RequestSpotlightRid}}","id":7,"params":{{parameters}}}""";
        Assert.True(JsonRpc.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _));
        var answer = JsonDocument.Parse(RpcMethods.Handle(request, caller, sfu: null!)!).RootElement;
        Assert.Equal(RpcErrors.InvalidParams, answer.GetProperty("error").GetProperty("code").GetInt32());
    }
}
