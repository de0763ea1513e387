using Hibari.Sdp;
namespace Hibari.Sfu;

/// <summary>What an m-line of a connection's offer carries.</summary>
internal enum SectionUse
{
    /// <summary>The client sends its own track here (offer field `mid`); the server receives.</summary>
    ClientSend,
    /// <summary>The data-channel m-line; always present, so a receive-only client in an empty channel still has a transport.</summary>
    Application,
    /// <summary>The server sends another publisher's track here.</summary>
    ServerSend,
}

internal sealed class LayoutSection(string mid, MediaKind kind, SectionUse use)
{
    public string Mid { get; set; } = mid;
    public MediaKind Kind { get; } = kind;
    public SectionUse Use { get; } = use;
    /// <summary>For <see cref="SectionUse.ServerSend"/>: the forwarded publication, null once it left (port 0).</summary>
    public Subscription? Subscription { get; set; }
    /// <summary>The codec the line carried last: a rejected line keeps offering it (port 0), as it was negotiated.</summary>
    public RtpCodec? LastCodec { get; set; }
    public bool Rejected => Use == SectionUse.ServerSend && Subscription is null;
}

/// <summary>
/// The m-lines of one connection's offers over its lifetime (docs/protocol-notes.md, "Other messages and re-offers"): a departed publisher's m-line
/// stays with port 0; a new publisher's track recycles a rejected m-line of its kind, under a new mid (JSEP §5.2.2
/// forbids reviving a stopped transceiver's mid), or is appended. Pure bookkeeping: no I/O, tested alone.
/// </summary>
internal sealed class OfferLayout
{
    private readonly List<LayoutSection> _sections = [];
    private int _nextMid;

    public IReadOnlyList<LayoutSection> Sections => _sections;

    /// <summary>The offer's version counter (o= line), incremented by every change.</summary>
    public int Version { get; private set; }

    public LayoutSection AddClientSend(MediaKind kind) => Append(kind, SectionUse.ClientSend);

    public LayoutSection AddApplication() => Append(MediaKind.Application, SectionUse.Application);

    /// <summary>Makes the layout carry exactly <paramref name="wanted"/>; returns whether anything changed.</summary>
    public bool Sync(IReadOnlyCollection<Publication> wanted, Func<Publication, string, Subscription> subscribe, Action<Subscription> unsubscribe)
    {
        var changed = false;
        // A section rejected by this change is not recycled in the same offer: the client must first see it stop.
        var justRejected = new HashSet<LayoutSection>();
        foreach (var s in _sections)
        {
            if (s.Subscription is { } sub && (!wanted.Contains(sub.Publication) || sub.Publication.Closed))
            {
                s.LastCodec = sub.Publication.Codec;
                s.Subscription = null;
                unsubscribe(sub);
                justRejected.Add(s);
                changed = true;
            }
        }
        foreach (var p in wanted)
        {
            if (p.Closed || _sections.Any(s => s.Subscription?.Publication == p)) continue;
            var section = _sections.FirstOrDefault(s => s.Use == SectionUse.ServerSend && s.Rejected && s.Kind == p.Kind && !justRejected.Contains(s));
            if (section is null) section = Append(p.Kind, SectionUse.ServerSend);
            else section.Mid = NextMid();
            section.Subscription = subscribe(p, section.Mid);
            changed = true;
        }
        if (changed) Version++;
        return changed;
    }

    private LayoutSection Append(MediaKind kind, SectionUse use)
    {
        var s = new LayoutSection(NextMid(), kind, use);
        _sections.Add(s);
        Version++;
        return s;
    }

    private string NextMid() => (_nextMid++).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
