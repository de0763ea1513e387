using Hibari.Sdp;
using Hibari.Sfu;

namespace Hibari.Tests.Sfu;

public sealed class OfferLayoutTests
{
    // Publications need a transport and a worker only as owner references; the layout never touches them.
    private static readonly Hibari.Rtc.Transport.MediaWorker Worker = new(System.Net.IPAddress.Loopback, 0);

    private static Publication Track(string connectionId, MediaKind kind) =>
        new(null!, Worker, connectionId, kind == MediaKind.Audio ? "0" : "1", kind, kind == MediaKind.Audio ? CodecCatalog.Opus : CodecCatalog.Vp9, connectionId + "-" + kind);

    private static Subscription Sub(Publication p, string mid) => new(p, null!, mid, 1, 2, new Random(1));

    [Fact]
    public void A_publisher_gets_its_send_lines_then_the_data_line_then_one_line_per_remote_track()
    {
        var layout = new OfferLayout();
        layout.AddClientSend(MediaKind.Audio);
        layout.AddClientSend(MediaKind.Video);
        layout.AddApplication();
        var a = Track("A", MediaKind.Audio);
        var v = Track("A", MediaKind.Video);
        Assert.True(layout.Sync([a, v], Sub, _ => { }));
        Assert.Equal(["0", "1", "2", "3", "4"], layout.Sections.Select(s => s.Mid));
        Assert.Equal([SectionUse.ClientSend, SectionUse.ClientSend, SectionUse.Application, SectionUse.ServerSend, SectionUse.ServerSend],
            layout.Sections.Select(s => s.Use));
        Assert.Same(a, layout.Sections[3].Subscription!.Publication);
        Assert.Same(v, layout.Sections[4].Subscription!.Publication);
    }

    [Fact]
    public void Sync_without_change_reports_no_change_and_keeps_the_version()
    {
        var layout = new OfferLayout();
        layout.AddApplication();
        var a = Track("A", MediaKind.Audio);
        layout.Sync([a], Sub, _ => { });
        var version = layout.Version;
        Assert.False(layout.Sync([a], Sub, _ => { }));
        Assert.Equal(version, layout.Version);
    }

    [Fact]
    public void A_departed_track_keeps_its_line_with_port_0_and_is_unsubscribed()
    {
        var layout = new OfferLayout();
        layout.AddApplication();
        var a = Track("A", MediaKind.Audio);
        var b = Track("B", MediaKind.Audio);
        layout.Sync([a, b], Sub, _ => { });
        var removed = new List<Subscription>();
        Assert.True(layout.Sync([b], Sub, removed.Add));
        Assert.Equal(3, layout.Sections.Count);
        Assert.True(layout.Sections[1].Rejected);
        Assert.Same(a.Codec, layout.Sections[1].LastCodec); // a port-0 line keeps offering what it negotiated
        Assert.Same(a, Assert.Single(removed).Publication);
        Assert.False(layout.Sections[2].Rejected);
    }

    [Fact]
    public void A_new_track_recycles_a_rejected_line_of_its_kind_under_a_new_mid()
    {
        var layout = new OfferLayout();
        layout.AddApplication();
        var a = Track("A", MediaKind.Video);
        layout.Sync([a], Sub, _ => { });
        layout.Sync([], Sub, _ => { });
        var oldMid = layout.Sections[1].Mid;
        var c = Track("C", MediaKind.Video);
        var d = Track("D", MediaKind.Audio);
        layout.Sync([c, d], Sub, _ => { });
        Assert.Equal(3, layout.Sections.Count); // video recycled, audio appended
        Assert.Same(c, layout.Sections[1].Subscription!.Publication);
        Assert.NotEqual(oldMid, layout.Sections[1].Mid);
        Assert.Same(d, layout.Sections[2].Subscription!.Publication);
        Assert.Equal(layout.Sections.Count, layout.Sections.Select(s => s.Mid).Distinct().Count());
    }

    [Fact]
    public void A_line_rejected_by_this_change_is_not_recycled_in_the_same_offer()
    {
        var layout = new OfferLayout();
        var a = Track("A", MediaKind.Audio);
        layout.Sync([a], Sub, _ => { });
        var b = Track("B", MediaKind.Audio);
        layout.Sync([b], Sub, _ => { });
        Assert.Equal(2, layout.Sections.Count);
        Assert.True(layout.Sections[0].Rejected);
        Assert.Same(b, layout.Sections[1].Subscription!.Publication);
    }

    [Fact]
    public void A_closed_publication_is_dropped_even_if_still_wanted()
    {
        var layout = new OfferLayout();
        var a = Track("A", MediaKind.Audio);
        layout.Sync([a], Sub, _ => { });
        a.Close();
        Assert.True(layout.Sync([a], Sub, _ => { }));
        Assert.True(layout.Sections[0].Rejected);
    }
}
