using System.Text;
using System.Text.Json;
using Hibari.Sdp;
using Hibari.Signaling.Messages;

namespace Hibari.Tests.Signaling.Messages;

/// <summary>Simulcast in signaling (issue 12, docs/decisions.md D-35): connect fields, encodings, the offer's rid lines.</summary>
public sealed class SimulcastSignalingTests
{
    private static ConnectRequest Parse(string extra)
    {
        var json = """{"type":"connect","role":"sendrecv","channel_id":"c",""" + extra + "}";
        Assert.True(ConnectParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out var error), error.Reason);
        return request!;
    }

    [Theory]
    [InlineData("\"simulcast\":true", true, null)]
    [InlineData("\"simulcast\":true,\"simulcast_rid\":\"r1\"", true, "r1")]
    [InlineData("\"simulcast_request_rid\":\"none\"", false, "none")]
    [InlineData("\"simulcast_rid\":\"r0\",\"simulcast_request_rid\":\"r2\"", false, "r2")] // the newer field wins
    public void Connect_reads_simulcast_and_the_requested_rid(string extra, bool simulcast, string? rid)
    {
        var c = Parse(extra);
        Assert.Equal((simulcast, rid), (c.Simulcast, c.SimulcastRid));
    }

    [Theory]
    [InlineData("\"simulcast_rid\":\"r3\"")]
    [InlineData("\"simulcast_rid\":\"none\"")] // only simulcast_request_rid has none
    [InlineData("\"simulcast_request_rid\":2")]
    public void An_unknown_rid_refuses_the_connect(string extra)
    {
        var json = """{"type":"connect","role":"sendrecv","channel_id":"c",""" + extra + "}";
        Assert.False(ConnectParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.InRange(error.Code, 4000, 4999);
    }

    [Fact]
    public void The_default_encodings_are_three_layers_a_quarter_a_half_and_full()
    {
        var layers = SimulcastEncodings.Layers(SimulcastEncodings.Default);
        Assert.Equal([("r0", true), ("r1", true), ("r2", true)], layers);
        Assert.Equal([4.0, 2.0, 1.0], SimulcastEncodings.Default.EnumerateArray().Select(e => e.GetProperty("scaleResolutionDownBy").GetDouble()));
        Assert.True(SimulcastEncodings.Valid(SimulcastEncodings.Default, out _));
    }

    [Theory]
    [InlineData("""[{"rid":"r0","active":true,"scaleResolutionDownBy":2,"scalabilityMode":"L1T1"},{"rid":"r1","active":true,"scaleResolutionDownBy":1},{"rid":"r2","active":false}]""", true, "")]
    [InlineData("""[{"rid":"r0","maxBitrate":150000,"maxFramerate":15,"scaleResolutionDownTo":{"maxWidth":320,"maxHeight":180}}]""", true, "")]
    [InlineData("""[]""", false, "must have 1 to 3 entries")]
    [InlineData("""[{"rid":"r1"}]""", false, "[0].rid must be \"r0\"")]
    [InlineData("""[{"rid":"r0"},{"rid":"r0"}]""", false, "[1].rid must be \"r1\"")]
    [InlineData("""[{"rid":"r0","active":"yes"}]""", false, "[0].active has the wrong type")]
    [InlineData("""[{"rid":"r0","scaleResolutionDownBy":0.5}]""", false, "[0].scaleResolutionDownBy")]
    [InlineData("""[{"rid":"r0","maxBitrate":-1}]""", false, "[0].maxBitrate")]
    [InlineData("""{"rid":"r0"}""", false, "must be an array")]
    public void Simulcast_encodings_are_validated(string json, bool valid, string why)
    {
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(valid, SimulcastEncodings.Valid(doc.RootElement, out var reason));
        Assert.StartsWith(why, reason);
    }

    [Fact]
    public void Simulcast_switched_notify_has_sora_js_sdks_fields()
    {
        var at = new DateTimeOffset(2026, 12, 7, 5, 0, 0, TimeSpan.Zero);
        using var up = JsonDocument.Parse(ServerMessages.SimulcastSwitched(at, "SENDER", "r2", "r2", "r0", byReceiver: true));
        var n = up.RootElement;
        Assert.Equal(("notify", "simulcast.switched", "SENDER"), (n.GetProperty("type").GetString(), n.GetProperty("event_type").GetString(),
            n.GetProperty("sender_connection_id").GetString()));
        Assert.Equal(("higher", "receiver", "r2", "r2", "r0"), (n.GetProperty("priority").GetString(), n.GetProperty("trigger").GetString(),
            n.GetProperty("request_rid").GetString(), n.GetProperty("current_rid").GetString(), n.GetProperty("previous_rid").GetString()));
        Assert.StartsWith("2026-12-07T05:00:00", n.GetProperty("timestamp").GetString());
        using var down = JsonDocument.Parse(ServerMessages.SimulcastSwitched(at, "SENDER", "r2", "r1", "r2", byReceiver: false));
        Assert.Equal(("lower", "sender"), (down.RootElement.GetProperty("priority").GetString(), down.RootElement.GetProperty("trigger").GetString()));
    }

    [Fact]
    public void The_publishers_video_section_asks_for_the_rids_with_inactive_ones_paused()
    {
        var spec = Hibari.Tests.Sdp.SdpFixtures.SoraStyleOffer();
        var sections = spec.Sections.ToList();
        sections[1] = sections[1] with { RecvRids = ["r0", "r1", "r2"], PausedRids = ["r2"] };
        var doc = SfuOffer.Build(spec with { Sections = sections });
        Assert.Equal("recv r0;r1;~r2", doc.Media[1].Get("simulcast"));
        Assert.Equal(["r0 recv", "r1 recv", "r2 recv"], doc.Media[1].All("rid").Select(a => a.Value));
    }
}
