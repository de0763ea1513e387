using Hibari.Rtc;
using Hibari.Sdp;

namespace Hibari.Sfu;

/// <summary>
/// Offers and answers: keeps each connection's m-line layout in step with what it may receive (creating and removing
/// its subscriptions), writes offers, applies answers and re-answers (creating publications, activating
/// subscriptions) and sends re-offers. Owned by the topology lock (<see cref="SfuContext.Gate"/>, docs/threads.md):
/// every method runs under it; media-plane changes are posted to the connection's worker.
/// </summary>
internal sealed class Negotiator(SfuContext ctx)
{
    private static readonly TimeSpan DtlsHandshakeTimeout = TimeSpan.FromSeconds(20);

    private readonly object _gate = ctx.Gate;
    // The last offer sent to each connection (under the lock): its answer is read against it.
    private readonly Dictionary<Connection, OfferSpec> _lastOffer = [];
    private readonly Random _random = new();
    private readonly ulong _sdpSessionBase = (ulong)Random.Shared.NextInt64(1, long.MaxValue / 2);

    /// <summary>Applies the client's answer: learns its SSRCs and fingerprint, starts ICE and the DTLS server.</summary>
    public string? ApplyAnswer(Connection connection, string sdp)
    {
        lock (_gate)
        {
            if (connection.State != ConnectionState.Offered) return "answer in the wrong state";
            var offer = _lastOffer[connection];
            var read = SdpAnswerReader.Read(sdp, offer);
            if (!read.IsOk) return read.Error;
            var answer = read.Value!;
            if (!answer.Fingerprint.Algorithm.Equals("sha-256", StringComparison.OrdinalIgnoreCase))
                return $"fingerprint algorithm {answer.Fingerprint.Algorithm} is not supported (sha-256 expected)";
            connection.State = ConnectionState.Answered;
            CreatePublications(connection, answer);
            ActivateSubscriptions(connection, answer);
            connection.Transport.StartDtls(answer.IceUfrag, answer.Fingerprint.Value, DtlsHandshakeTimeout);
            return null;
        }
    }

    /// <summary>Applies a re-answer: activates the m-lines it accepted, then sends the next re-offer if changes piled up.</summary>
    public string? ApplyReAnswer(Connection connection, string sdp)
    {
        lock (_gate)
        {
            if (connection.State != ConnectionState.Connected || !connection.AwaitingReAnswer) return null; // stale: ignore
            var read = SdpAnswerReader.Read(sdp, _lastOffer[connection]);
            if (!read.IsOk) return read.Error;
            connection.AwaitingReAnswer = false;
            ActivateSubscriptions(connection, read.Value!);
            if (connection.Dirty) Renegotiate(connection);
            return null;
        }
    }

    /// <summary>The connection left: its last offer goes. Under the lock.</summary>
    public void Forget(Connection c)
    {
        ctx.AssertOwner();
        _lastOffer.Remove(c);
    }

    private void CreatePublications(Connection c, AnswerInfo answer)
    {
        foreach (var (section, codec) in new[] { (c.AudioSection, c.AudioCodec), (c.VideoSection, c.VideoCodec) })
        {
            if (section is null || codec is null) continue;
            var answered = answer.Section(section.Mid);
            if (answered is null || answered.Rejected || answered.Direction is MediaDirection.Inactive or MediaDirection.RecvOnly) continue;
            var bitrate = section.Kind == MediaKind.Video ? c.Info.VideoBitRate ?? ctx.Options.DefaultVideoBitRate : c.Info.AudioBitRate ?? 64;
            // Issue 12 (D-35): a simulcast video section the client answered with send rids is one publication per layer
            // (SSRCs learnt from the rid header extensions), sharing Layers; the connection lists layer 0, the track
            // subscribers attach to and the one relayed.
            var rids = section.Kind == MediaKind.Video && c.SimulcastPublishing ? answered.Rids.Select(r => r.Id).ToList() : [];
            if (rids.Count > 1)
            {
                var layers = new Publication[rids.Count];
                for (var i = 0; i < rids.Count; i++)
                    layers[i] = new Publication(c.Transport, c.Transport.Worker, c.ConnectionId, section.Mid, section.Kind, codec,
                        i == 0 ? $"{c.ConnectionId}-{section.Kind.Name()}" : $"{c.ConnectionId}-{section.Kind.Name()}-{rids[i]}", workerCount: ctx.Workers.Count)
                    {
                        LocalSession = i == 0 ? c.Session : null, BitrateKbps = bitrate, Rid = rids[i], LayerIndex = i, Counters = c.Transport.Counters,
                    };
                foreach (var layer in layers) layer.Layers = layers;
                c.Publications.Add(layers[0]);
                c.Transport.Worker.Post(() => { foreach (var layer in layers) c.Transport.AddPublication(layer); });
                continue;
            }
            var p = new Publication(c.Transport, c.Transport.Worker, c.ConnectionId, section.Mid, section.Kind, codec,
                $"{c.ConnectionId}-{section.Kind.Name()}", workerCount: ctx.Workers.Count)
            {
                LocalSession = c.Session,
                BitrateKbps = bitrate,
            };
            if (answered.Ssrcs.Count > 0)
            {
                p.LatchSsrc(answered.Ssrcs[0].Media);
                if (answered.Ssrcs[0].Rtx is { } rtx) p.RtxSsrc = rtx;
            }
            c.Publications.Add(p);
            c.Transport.Worker.Post(() => c.Transport.AddPublication(p));
        }
    }

    private static void ActivateSubscriptions(Connection c, AnswerInfo answer)
    {
        foreach (var s in c.Layout.Sections)
        {
            if (s.Subscription is not { } sub) continue;
            var answered = answer.Section(s.Mid);
            if (answered is null || answered.Rejected) continue;
            var rtx = sub.Publication.Codec.RtxPayloadType is { } pt && answered.PayloadTypes.Contains(pt);
            var transportCc = answered.Extensions.Any(e => e.Id == CodecCatalog.TransportCcExtensionId && e.Uri == CodecCatalog.TransportCcUri);
            c.Transport.Worker.Post(() =>
            {
                sub.RtxAccepted = rtx;
                sub.TransportCc = transportCc;
                if (sub.Active) return;
                sub.Active = true;
                // A key frame now only if the subscriber can take it; before its DTLS is done the frame would be dropped
                // and the publication's 300 ms limit would hold back the request that counts (PeerTransport asks for
                // one when SRTP is ready): late joiners waited ~300 ms more for their first frame (bench/first-frame.mjs).
                if (sub.Subscriber.CanSend) sub.RequestKeyFrame(MediaClock.NowMicros());
            });
        }
    }

    /// <summary>Whether two connections exchange media: not themselves, not the same bundle_id (docs/protocol-notes.md, "Identifiers and terms").</summary>
    public static bool SeesEachOther(Connection a, Connection b) => a != b && a.Info.BundleId != b.Info.BundleId;

    /// <summary>
    /// Whether the forwarding filters (D-54) let <paramref name="receiver"/> get <paramref name="sender"/>'s track: the
    /// channel's and the receiver's own, evaluated here for local and relayed senders alike.
    /// </summary>
    private static bool Forwards(Connection receiver, ConnectionInfo sender, Publication p)
    {
        var channel = receiver.Session.ChannelForwardingFilters;
        var own = receiver.Info.ForwardingFilters;
        if (channel.Count == 0 && own.Count == 0) return true;
        return ForwardingFilters.Forwards(channel.Concat(own), sender, p.Kind);
    }

    /// <summary>
    /// Every track <paramref name="c"/> could receive before the forwarding filters: the local publishers and the relayed
    /// tracks of the session's other bundles, each with its sender. Under the lock.
    /// </summary>
    private static IEnumerable<(ConnectionInfo Sender, Publication Track)> Candidates(Connection c) =>
        c.Session.Connected.Where(o => SeesEachOther(c, o)).SelectMany(o => o.Publications.Select(p => (o.Info, p)))
            .Concat(c.Session.Remote.Values.Where(r => r.Info.BundleId != c.Info.BundleId).SelectMany(r => r.Publications.Select(p => (r.Info, p))));

    /// <summary>
    /// ListForwardingFilters' `blocked` for one receiver (D-54): per kind ("audio", then "video"), the connection ids of
    /// the senders whose track of that kind the filters keep from it — the evaluation <see cref="SyncLayout"/> uses, over
    /// the same tracks. Kinds with no blocked sender are left out; a sendonly connection blocks nothing. Under the lock.
    /// </summary>
    public static List<(string Kind, List<string> Sources)> Blocked(Connection c)
    {
        var blocked = new List<(string Kind, List<string> Sources)>();
        if (!c.Info.Receives) return blocked;
        foreach (var kind in new[] { MediaKind.Audio, MediaKind.Video })
        {
            var sources = Candidates(c).Where(t => t.Track.Kind == kind && !Forwards(c, t.Sender, t.Track))
                .Select(t => t.Sender.ConnectionId).Distinct(StringComparer.Ordinal).ToList();
            if (sources.Count > 0) blocked.Add((kind == MediaKind.Audio ? "audio" : "video", sources));
        }
        return blocked;
    }

    /// <summary>Sends a re-offer if the connection's layout changed, or remembers to once the pending re-answer arrives. Under the lock.</summary>
    public void Renegotiate(Connection c)
    {
        ctx.AssertOwner();
        if (c.State != ConnectionState.Connected || !c.Info.Receives) return;
        if (c.AwaitingReAnswer)
        {
            c.Dirty = true;
            return;
        }
        c.Dirty = false;
        if (!SyncLayout(c)) return;
        c.AwaitingReAnswer = true;
        c.Signaling.SendReOffer(WriteOffer(c));
    }

    /// <summary>
    /// Brings the connection's layout in step with the tracks it may receive (local publishers and relayed tracks of
    /// other bundles), creating and removing subscriptions on its worker; true if the layout changed. Under the lock.
    /// </summary>
    public bool SyncLayout(Connection c)
    {
        ctx.AssertOwner();
        var wanted = Candidates(c).Where(t => Forwards(c, t.Sender, t.Track)).Select(t => t.Track).ToList();
        return c.Layout.Sync(wanted,
            (p, mid) =>
            {
                var sub = new Subscription(p, c.Transport, mid, SfuIds.Ssrc(), p.Codec.RtxPayloadType is null ? 0 : SfuIds.Ssrc(), _random,
                    c.DesiredRidFor(p));
                c.Transport.Worker.Post(() => c.Transport.AddSubscription(sub));
                return sub;
            },
            sub => c.Transport.Worker.Post(() => c.Transport.RemoveSubscription(sub)));
    }

    /// <summary>
    /// A forwarded codec as this connection's offer writes it. libwebrtc refuses a BUNDLE in which one payload type
    /// carries two different fmtp ("codec collision"), so within one connection a payload type always has one fmtp: the
    /// connection's own (its publishing codec of that payload type, with its opus_params, bit rate or level), else the
    /// catalog's. The fmtp of a section the SFU sends on does not configure the browser's decoder, which follows its own
    /// answer, so the publisher's parameters need not reach the subscriber's SDP (D-34).
    /// </summary>
    internal static RtpCodec InBundle(Connection c, RtpCodec forwarded) => InBundle(c.AudioCodec, c.VideoCodec, forwarded);

    internal static RtpCodec InBundle(RtpCodec? ownAudio, RtpCodec? ownVideo, RtpCodec forwarded)
    {
        foreach (var own in new[] { ownAudio, ownVideo })
            if (own is not null && own.PayloadType == forwarded.PayloadType && string.Equals(own.Name, forwarded.Name, StringComparison.OrdinalIgnoreCase))
                return forwarded with { Parameters = own.Parameters };
        return CodecCatalog.ByPayloadType(forwarded.PayloadType, forwarded.Name) is { } known
            ? forwarded with { Parameters = known.Parameters }
            : forwarded;
    }

    /// <summary>Writes the connection's offer from its layout and remembers it for the answer. Under the lock.</summary>
    public string WriteOffer(Connection c)
    {
        ctx.AssertOwner();
        var sections = new List<OfferSection>();
        foreach (var s in c.Layout.Sections)
        {
            switch (s.Use)
            {
                case SectionUse.Application:
                    sections.Add(new OfferSection { Mid = s.Mid, Kind = MediaKind.Application, Direction = MediaDirection.SendRecv });
                    break;
                case SectionUse.ClientSend:
                    var codec = s.Kind == MediaKind.Audio ? c.AudioCodec! : c.VideoCodec!;
                    sections.Add(new OfferSection
                    {
                        Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.RecvOnly, Codecs = [codec],
                        // D-34: the browser's send limits for this connection: b=AS for video_bit_rate, a=ptime for opus_params.ptime.
                        MaxBitrateKbps = s.Kind == MediaKind.Video ? c.Info.VideoBitRate : null,
                        Ptime = s.Kind == MediaKind.Audio ? c.Info.OpusParams?.Ptime : null,
                        // Issue 12: a simulcast publisher's layers, by rid; inactive encodings offered paused.
                        RecvRids = s.Kind == MediaKind.Video && c.Encodings is { } enc
                            ? Hibari.Signaling.Messages.SimulcastEncodings.Layers(enc).Select(l => l.Rid).ToList() : [],
                        PausedRids = s.Kind == MediaKind.Video && c.Encodings is { } enc2
                            ? Hibari.Signaling.Messages.SimulcastEncodings.Layers(enc2).Where(l => !l.Active).Select(l => l.Rid).ToList() : [],
                    });
                    break;
                case SectionUse.ServerSend when s.Subscription is { } sub:
                    sections.Add(new OfferSection
                    {
                        Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.SendOnly,
                        // D-38: what the SFU sends carries transport-wide sequence numbers; the receiver's feedback drives
                        // its bandwidth estimate.
                        Codecs = [s.Kind == MediaKind.Video ? CodecCatalog.WithTransportCc(InBundle(c, sub.Publication.Codec)) : InBundle(c, sub.Publication.Codec)],
                        HeaderExtensions = s.Kind == MediaKind.Video ? CodecCatalog.ServerSendExtensionsFor(s.Kind) : null,
                        Stream = new OfferedStream(sub.Ssrc, sub.RtxSsrc == 0 ? null : sub.RtxSsrc, sub.Publication.ConnectionId,
                            sub.Publication.ConnectionId, sub.Publication.TrackId),
                    });
                    break;
                default:
                    sections.Add(new OfferSection { Mid = s.Mid, Kind = s.Kind, Direction = MediaDirection.Inactive, Rejected = true,
                        Codecs = [InBundle(c, s.LastCodec ?? (s.Kind == MediaKind.Audio ? CodecCatalog.Opus : CodecCatalog.Vp8))] });
                    break;
            }
        }
        var spec = new OfferSpec
        {
            SessionId = _sdpSessionBase + (ulong)(uint)c.ConnectionId.GetHashCode(),
            SessionVersion = (ulong)c.Layout.Version,
            IceUfrag = c.Transport.LocalUfrag,
            IcePwd = c.Transport.LocalPassword,
            Fingerprint = new SdpFingerprint("sha-256", ctx.Certificate!.Fingerprint),
            CandidateAddress = ctx.CandidateAddress,
            CandidatePort = c.Transport.Worker.LocalEndPoint.Port,
            Sections = sections,
        };
        _lastOffer[c] = spec;
        return SfuOffer.Write(spec);
    }
}
