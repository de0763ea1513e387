using Hibari.Rtc;
using Hibari.Sdp;
using System.Net;
using System.Numerics;
using Hibari.Rtc.Dtls;
using Hibari.Rtc.Rtp;
using Hibari.Rtc.Srtp;
using Hibari.Rtc.Transport;
using Microsoft.Extensions.Logging;

namespace Hibari.Sfu;

/// <summary>
/// The media transport of one connection (mediasoup's WebRtcTransport): ICE-latched address, DTLS server, SRTP
/// contexts, inbound RTP → publications, inbound RTCP feedback → subscriptions, and the transport's own RTCP
/// (receiver reports + REMB toward a publisher, sender reports toward a subscriber). Owned by its media worker
/// (<see cref="Worker"/>) for its whole life: everything except <see cref="StartDtls"/> and <see cref="Dispose"/>
/// runs on that worker's thread (docs/threads.md).
/// </summary>
internal sealed class PeerTransport : IMediaPeer, IKeyFrameTarget, IDisposable
{
    private const long ReportIntervalMicros = 1_000_000;
    /// <summary>How often NACKs toward a publisher are considered while its video flows (the worker's tick).</summary>
    private const long NackCadenceMicros = 20_000;
    private const int MaxPacket = 1500 + 64;

    private readonly MediaWorker _socket;
    private readonly DtlsCertificate _certificate;
    private readonly SfuCounters _counters;
    private readonly ILogger _log;
    private readonly byte[] _rtcp = new byte[MaxPacket];
    private readonly Dictionary<uint, Publication> _inbound = [];     // publisher SSRC (and RTX SSRC) → track
    private readonly Dictionary<uint, Subscription> _outbound = [];   // our SSRC → forwarded track
    private readonly List<Publication> _publications = [];
    private readonly List<Subscription> _subscriptions = [];
    private volatile SocketAddress? _remote;
    private DtlsServerEndpoint? _dtls;
    private SrtpContext? _send, _receive;
    private long _nextReport;
    private uint _rembBitrate;
    private long _unknownSsrcPackets, _unknownPtPackets;
    // Timers: what this transport last asked the worker for, and when media last came from the publisher (NACK cadence).
    private long _scheduledDue = long.MaxValue;
    private long _lastMediaMicros = long.MinValue / 2;

    public PeerTransport(string connectionId, MediaWorker socket, DtlsCertificate certificate, SfuCounters counters, ILogger log,
        uint rtcpSsrc, uint rembBitrate)
    {
        ConnectionId = connectionId;
        _socket = socket;
        _certificate = certificate;
        _counters = counters;
        _log = log;
        RtcpSsrc = rtcpSsrc;
        _rembBitrate = rembBitrate;
        LocalUfrag = SfuIds.IceToken(8);
        LocalPassword = SfuIds.IceToken(24);
    }

    public string ConnectionId { get; }
    /// <summary>The media worker that owns this transport (and its publications and subscriptions) for its life.</summary>
    public MediaWorker Worker => _socket;
    public string LocalUfrag { get; }
    public string LocalPassword { get; }
    /// <summary>The SSRC our own RTCP (PLI, RR, REMB) is sent from.</summary>
    public uint RtcpSsrc { get; }
    /// <summary>A per-transport buffer for rewriting one outgoing packet (media thread only).</summary>
    public byte[] Scratch { get; } = GC.AllocateArray<byte>(MaxPacket, pinned: true);
    public bool CanSend => _send is not null && _remote is not null;
    public bool Closed { get; private set; }

    /// <summary>Raised (on the worker, or on a DTLS pool thread for a failure) when SRTP keys are installed, or with the error when the handshake failed.</summary>
    public event Action<PeerTransport, Exception?>? Connected;
    /// <summary>Raised on the media thread when ICE consent expired.</summary>
    public event Action<PeerTransport>? Lost;
    /// <summary>Raised (on a DTLS thread) when DTLS ended after it had connected: close_notify from the peer or a fatal error.</summary>
    public event Action<PeerTransport>? DtlsClosed;

    /// <summary>The connection's data channels (media thread), created with DTLS; null before the answer.</summary>
    public PeerDataChannels? DataChannels { get; private set; }
    /// <summary>Called on the media thread right after <see cref="DataChannels"/> exists, before any SCTP packet is read (set before StartDtls).</summary>
    public Action<PeerDataChannels>? DataChannelsCreated { get; set; }

    /// <summary>Registers ICE credentials and starts the DTLS server, expecting the certificate of the answer.</summary>
    public void StartDtls(string remoteUfrag, string remoteFingerprint, TimeSpan handshakeTimeout)
    {
        var dtls = new DtlsServerEndpoint(_certificate, remoteFingerprint, SendDtls, new DtlsOptions { HandshakeTimeout = handshakeTimeout }, _log);
        _dtls = dtls;
        // SCTP (data channels) rides on DTLS application data; it lives on the media thread like everything else.
        _socket.Post(() =>
        {
            if (Closed) return;
            DataChannels = new PeerDataChannels(ConnectionId, SendSctp, NowMicros(), _log);
            DataChannelsCreated?.Invoke(DataChannels);
            WakeTimerAt(NowMicros());
        });
        // After the handshake the record layer decrypts on the thread that delivers datagrams — this worker — so SCTP
        // packets go straight in; only records that arrived during the hand-over come from a DTLS pool thread (docs/dtls.md).
        dtls.ApplicationData = data =>
        {
            if (_socket.IsOwnerThread)
            {
                ReceiveSctp(data.Span);
                return;
            }
            var copy = data.ToArray();
            _socket.Post(() => ReceiveSctp(copy));
        };
        _socket.AddPeer(LocalUfrag, LocalPassword, remoteUfrag, this);
        dtls.Start();
        dtls.Handshake.ContinueWith(t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                var r = t.Result;
                var (send, receive) = DtlsSrtpKeyingMaterial.CreateContexts(r.Profile, r.KeyingMaterial, isDtlsClient: false);
                _socket.Post(() =>
                {
                    if (Closed) { send.Dispose(); receive.Dispose(); return; }
                    _send = send;
                    _receive = receive;
                    WakeTimerAt(NowMicros()); // reports and NACKs from now on
                    // The first frame of what this peer receives: a key frame, asked for now that it can be sent.
                    foreach (var s in _subscriptions)
                        if (s.Active && s.Publication.Kind == MediaKind.Video) s.RequestKeyFrame(NowMicros());
                    Connected?.Invoke(this, null);
                });
            }
            else
            {
                Interlocked.Increment(ref _counters.DtlsFailures);
                Connected?.Invoke(this, t.Exception?.GetBaseException() ?? new TimeoutException("DTLS handshake did not complete"));
            }
        }, TaskScheduler.Default);
        dtls.Stopped.ContinueWith(_ =>
        {
            if (dtls.Handshake.IsCompletedSuccessfully && !Closed) DtlsClosed?.Invoke(this);
        }, TaskScheduler.Default);
    }

    private void ReceiveSctp(ReadOnlySpan<byte> packet)
    {
        if (Closed || DataChannels is not { } dc) return;
        dc.Receive(packet);
        WakeTimerAt(NowMicros()); // SCTP may have armed a timer (delayed SACK, T3)
    }

    private void SendSctp(ReadOnlyMemory<byte> packet)
    {
        if (_dtls is not { } dtls) return;
        if (packet.Length > dtls.MaxApplicationDataLength)
        {
            _counters.SctpPacketsDropped++; // cannot happen with PeerDataChannels.SctpMtu; counted rather than thrown on the media thread
            return;
        }
        if (dtls.SendApplicationData(packet.Span)) _counters.SctpPacketsSent++;
        WakeTimerAt(NowMicros()); // sending DATA/INIT/RECONFIG arms SCTP timers
    }

    /// <summary>
    /// Owner thread: asks the worker for an <see cref="OnTick"/> by <paramref name="dueMicros"/> when that is earlier than
    /// what this transport last asked for (a comparison on the hot path, a queue insert only when it changes).
    /// </summary>
    private void WakeTimerAt(long dueMicros)
    {
        if (dueMicros >= _scheduledDue) return;
        _scheduledDue = dueMicros;
        if (_socket.IsOwnerThread) _socket.Schedule(LocalUfrag, dueMicros);
    }

    private void SendDtls(ReadOnlySpan<byte> datagram)
    {
        if (_remote is { } remote) _socket.Send(datagram, remote);
    }

    // --- topology (media thread) ---

    public void AddPublication(Publication p)
    {
        _socket.AssertOwner();
        _publications.Add(p);
        if (p.Ssrc != 0) _inbound[p.Ssrc] = p;
        if (p.RtxSsrc != 0) _inbound[p.RtxSsrc] = p;
    }

    public void RemovePublication(Publication p)
    {
        _publications.Remove(p);
        if (p.Ssrc != 0) _inbound.Remove(p.Ssrc);
        if (p.RtxSsrc != 0) _inbound.Remove(p.RtxSsrc);
        p.Close();
    }

    public IReadOnlyList<Publication> Publications => _publications;

    internal ILogger Log => _log;

    /// <summary>A subscription of this peer switched simulcast layers (worker thread): (subscription, previous rid, new rid).</summary>
    public event Action<Subscription, string, string>? LayerSwitched;

    internal void OnLayerSwitched(Subscription s, string previous, string current) => LayerSwitched?.Invoke(s, previous, current);

    /// <summary>The owner worker's counters (written on that worker only).</summary>
    internal SfuCounters Counters => _counters;

    public void AddSubscription(Subscription s)
    {
        _socket.AssertOwner();
        _outbound[s.Ssrc] = s;
        if (s.RtxSsrc != 0) _outbound[s.RtxSsrc] = s;
        _subscriptions.Add(s);
        foreach (var layer in s.Publication.LayersOrSelf) layer.Add(s);
    }

    public void RemoveSubscription(Subscription s)
    {
        _outbound.Remove(s.Ssrc);
        if (s.RtxSsrc != 0) _outbound.Remove(s.RtxSsrc);
        _subscriptions.Remove(s);
        foreach (var layer in s.Publication.LayersOrSelf) layer.Remove(s);
        s.Close();
    }

    public IReadOnlyList<Subscription> Subscriptions => _subscriptions;

    /// <summary>This transport's statistics now (D-41). On its media worker.</summary>
    internal ConnectionStats TakeStats(ConnectionInfo info)
    {
        _socket.AssertOwner();
        var published = _publications.Select(p => new PublishedTrackStats(p.TrackId, p.Kind.Name(), p.Rid, p.Ssrc, p.Codec.Name,
            p.PacketsReceived, p.BytesReceived, p.Frames, p.KeyFrames, p.Duplicates, p.NacksSent, p.KeyFrameRequests, p.RateBps)).ToList();
        var forwarded = _subscriptions.Select(s =>
        {
            var layers = s.Publication.Layers;
            var cap = layers is not null && s.CapLayer < layers.Length ? layers[s.CapLayer].Rid : null;
            return new ForwardedTrackStats(s.Publication.TrackId, s.Publication.ConnectionId, s.Publication.Kind.Name(), s.CurrentRid,
                layers is null ? null : s.RequestedRid, cap, s.PacketsSent, s.OctetsSent, s.Retransmitted, s.RetransmissionsSkipped,
                s.LayerSwitches, s.ShedPackets, s.Forwarding);
        }).ToList();
        var d = Downlink;
        var downlink = d.Active ? new DownlinkStats(d.EstimateBps, d.AckedBps, d.LossFraction, d.Probes, d.PaddingBytes) : null;
        return new ConnectionStats(info, published, forwarded, downlink);
    }

    // --- IMediaPeer ---

    public void OnDtlsDatagram(ReadOnlySpan<byte> datagram) => _dtls?.Deliver(datagram);

    public void OnSelected(SocketAddress remote) => _remote = remote;

    public void OnConsentExpired() => Lost?.Invoke(this);

    public void OnSrtpDatagram(Span<byte> datagram)
    {
        var receive = _receive;
        if (receive is null || Closed)
        {
            _counters.SrtpDropped++;
            return;
        }
        _counters.ReceivedSrtp++;
        _counters.ReceivedSrtpBytes += datagram.Length;
        var isRtcp = datagram.Length >= 2 && datagram[1] is >= 192 and <= 223;
        if (isRtcp)
        {
            if (receive.UnprotectRtcp(datagram, out var n) != SrtpResult.Ok) { _counters.SrtpUnprotectFailures++; return; }
            OnRtcp(datagram[..n]);
            return;
        }
        if (receive.UnprotectRtp(datagram, out var length) != SrtpResult.Ok) { _counters.SrtpUnprotectFailures++; return; }
        _counters.DecryptedSrtp++;
        _counters.DecryptedSrtpBytes += length;
        var packet = datagram[..length];
        if (!RtpHeader.TryParse(packet, out var header)) { _counters.RtpMalformed++; return; }
        if (!_inbound.TryGetValue(header.Ssrc, out var publication) && !TryLatch(packet, header, out publication))
        {
            _counters.RtpUnknownSsrc++;
            if (BitOperations.IsPow2(++_unknownSsrcPackets))
                _log.LogDebug("Connection {Id}: RTP with unknown ssrc {Ssrc} pt {Pt} ({Count} so far)", ConnectionId, header.Ssrc, header.PayloadType, _unknownSsrcPackets);
            return;
        }
        var now = NowMicros();
        if (publication.Nacks is not null)
        {
            // While video comes in, the NACK generator is polled every tick.
            _lastMediaMicros = now;
            WakeTimerAt(now + NackCadenceMicros);
        }
        if (header.Ssrc == publication.RtxSsrc && publication.RtxSsrc != 0)
        {
            // RTX from the publisher (answering a NACK): unwrap to the original packet and forward it as such.
            if (!RtxPacket.TryUnwrap(packet, header, Scratch, publication.Ssrc, (byte)publication.Codec.PayloadType, out var restored)
                || !RtpHeader.TryParse(Scratch.AsSpan(0, restored), out var original)) return;
            // Safe: forwarding rewrites into each subscriber's own scratch buffer, never this one.
            publication.OnRtp(Scratch.AsSpan(0, restored), original, now);
            return;
        }
        if (header.PayloadType != (byte)publication.Codec.PayloadType)
        {
            _counters.RtpUnknownPayloadType++;
            if (BitOperations.IsPow2(++_unknownPtPackets))
                _log.LogDebug("Connection {Id}: RTP on ssrc {Ssrc} with pt {Pt}, expected {Expected} ({Count} so far)", ConnectionId, header.Ssrc,
                    header.PayloadType, publication.Codec.PayloadType, _unknownPtPackets);
            return;
        }
        publication.OnRtp(packet, header, now);
    }

    /// <summary>
    /// Chrome sends no a=ssrc for simulcast and drops MID after our first receiver report (docs/protocol-notes.md, "RTP forwarding with Chrome"): an
    /// unknown SSRC is bound to a publication by its MID header extension, once.
    /// </summary>
    private bool TryLatch(ReadOnlySpan<byte> packet, in RtpHeader header, out Publication publication)
    {
        publication = null!;
        if (!header.HasExtension || !RtpHeaderExtensions.TryFind(packet, header, SfuCodecs.MidExtensionId, out var mid)) return false;
        foreach (var track in _publications)
        {
            if (track.LayerIndex != 0 || !mid.SequenceEqual(System.Text.Encoding.ASCII.GetBytes(track.Mid))) continue;
            var p = track;
            var isRtx = p.Codec.RtxPayloadType is { } rtxPt && header.PayloadType == rtxPt;
            if (track.Layers is { } layers)
            {
                // Simulcast: the layer by its rid (RTX by its repaired rid), RFC 8852.
                if (!RtpHeaderExtensions.TryFind(packet, header, isRtx ? SfuCodecs.RepairedRidExtensionId : SfuCodecs.RidExtensionId, out var rid)) return false;
                Publication? layer = null;
                foreach (var l in layers)
                    if (l.Rid is { } r && rid.SequenceEqual(System.Text.Encoding.ASCII.GetBytes(r))) layer = l;
                if (layer is null) return false;
                p = layer;
            }
            if (isRtx) { if (p.RtxSsrc != 0) return false; p.RtxSsrc = header.Ssrc; }
            else { if (p.Ssrc != 0) return false; p.LatchSsrc(header.Ssrc); }
            _inbound[header.Ssrc] = p;
            publication = p;
            return true;
        }
        return false;
    }

    private void OnRtcp(ReadOnlySpan<byte> compound)
    {
        _counters.ReceivedRtcp++;
        var now = NowMicros();
        var reader = new RtcpReader(compound);
        Span<ushort> lost = stackalloc ushort[256];
        while (reader.TryReadNext(out var rtcp) == RtcpReadResult.Packet)
        {
            switch (rtcp.Type)
            {
                case RtcpPacketType.SenderReport:
                    if (SenderReport.TryParse(rtcp, out var sr) && _inbound.TryGetValue(sr.Ssrc, out var pub) && sr.Ssrc == pub.Ssrc)
                        pub.OnSenderReport(sr.NtpTimestamp, sr.RtpTimestamp, now);
                    break;
                case RtcpPacketType.PayloadFeedback when rtcp.Format == RtcpPacketType.PliFormat:
                    if (PictureLossIndication.TryParse(rtcp, out _, out var media) && _outbound.TryGetValue(media, out var target))
                    {
                        _counters.KeyFrameRequestsReceived++;
                        target.RequestKeyFrame(now);
                    }
                    break;
                case RtcpPacketType.PayloadFeedback when rtcp.Format == RtcpPacketType.FirFormat:
                    if (FullIntraRequest.TryParse(rtcp, out var fir))
                    {
                        for (var i = 0; i < fir.EntryCount; i++)
                        {
                            if (!_outbound.TryGetValue(fir[i].Ssrc, out var firTarget)) continue;
                            _counters.KeyFrameRequestsReceived++;
                            firTarget.RequestKeyFrame(now);
                        }
                    }
                    break;
                case RtcpPacketType.TransportFeedback when rtcp.Format == RtcpPacketType.TransportCcFormat:
                    if (TransportCcFeedback.TryParse(rtcp, out var feedback))
                    {
                        Downlink.OnFeedback(feedback, rtcp.Raw, now);
                        Volatile.Write(ref _downlinkEstimate, Downlink.EstimateBps);
                    }
                    break;
                case RtcpPacketType.TransportFeedback when rtcp.Format == RtcpPacketType.NackFormat:
                    if (GenericNack.TryParse(rtcp, out var nack) && _outbound.TryGetValue(nack.MediaSsrc, out var sub))
                    {
                        var n = nack.CopySequenceNumbers(lost);
                        _counters.NacksReceived += n;
                        for (var i = 0; i < n; i++) sub.Retransmit(lost[i]);
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Timers (worker): SCTP, key-frame requests left by other threads, NACKs toward publishers while their video flows,
    /// reports once a second. Returns when there is next something to do, so an idle connection costs one call a second.
    /// </summary>
    public long OnTick(long nowMicros)
    {
        var due = nowMicros + ReportIntervalMicros;
        if (DataChannels is { } dc)
        {
            dc.Tick(nowMicros);
            due = Math.Min(due, dc.NextTickMicros);
        }
        foreach (var p in _publications) p.TakeKeyFrameRequest(nowMicros);
        if (_send is not null && _remote is not null)
        {
            SendNacks(nowMicros);
            if (nowMicros - _lastMediaMicros < ReportIntervalMicros) due = Math.Min(due, nowMicros + NackCadenceMicros);
            if (nowMicros >= _nextReport)
            {
                _nextReport = nowMicros + ReportIntervalMicros;
                SendReports(nowMicros);
            }
            due = Math.Min(due, _nextReport);
            due = Math.Min(due, Downlink.OnTick(nowMicros, _subscriptions, SendPadding));
            if (Downlink.Active && nowMicros >= _nextDownlinkLog && _log.IsEnabled(LogLevel.Debug))
            {
                _nextDownlinkLog = nowMicros + 1_000_000;
                _log.LogDebug("Connection {Id} downlink: estimate {Estimate} kbps acked {Acked} kbps loss {Loss:F3} probes {Probes} (last {Last} kbps {Ok}) padding {Padding} B caps [{Caps}]",
                    ConnectionId, Downlink.EstimateBps / 1000, Downlink.AckedBps / 1000, Downlink.LossFraction, Downlink.Probes,
                    Downlink.Probe.LastResultBps / 1000, Downlink.Probe.LastSucceeded, Downlink.PaddingBytes,
                    string.Join(",", _subscriptions.Where(s => s.Publication.Layers is not null).Select(s => $"{s.RequestedRid}/cap{s.CapLayer}/{s.CurrentRid}")));
            }
        }
        _scheduledDue = Math.Max(due, nowMicros + NackCadenceMicros);
        return due;
    }

    /// <summary>
    /// Once a second: a receiver report + REMB for what this peer publishes (REMB lets Chrome's bitrate ramp up to
    /// the configured rate; docs/protocol-notes.md, "Chrome interop checklist" 8), and a sender report per forwarded track (lip sync).
    /// </summary>
    private void SendReports(long now)
    {
        var span = _rtcp.AsSpan();
        var length = 0;
        if (_publications.Count > 0)
        {
            Span<ReportBlock> blocks = stackalloc ReportBlock[Math.Min(_publications.Count, 31)];
            Span<uint> ssrcs = stackalloc uint[Math.Min(_publications.Count, 31)];
            var n = 0;
            foreach (var p in _publications)
            {
                if (p.Statistics is not { } st || n == blocks.Length) continue;
                blocks[n] = st.CreateReportBlock(now);
                ssrcs[n] = p.Ssrc;
                n++;
            }
            if (n > 0)
            {
                length += RtcpWriter.WriteReceiverReport(span[length..], RtcpSsrc, blocks[..n]);
                length += RtcpWriter.WriteRemb(span[length..], RtcpSsrc, RembFollowingReceivers(), ssrcs[..n]);
            }
        }
        // As a receiver: each forwarded single-layer video track gets its share of this peer's downlink estimate, so its
        // publisher's REMB can follow the strongest receiver (D-38). Without an estimate (no transport-cc): no limit.
        var videos = 0;
        foreach (var s in _subscriptions) if (s.Publication.Kind == MediaKind.Video && s.Publication.Layers is null && !s.Closed) videos++;
        foreach (var s in _subscriptions)
            if (s.Publication.Kind == MediaKind.Video && s.Publication.Layers is null && !s.Closed)
                s.Publication.ReportReceiverBps(Downlink.Active && s.TransportCc ? Downlink.EstimateBps / videos : long.MaxValue);
        foreach (var s in _subscriptions)
        {
            if (length > 1000 || !s.TryGetSenderReport(now, out var ntp, out var rtp)) continue;
            length += RtcpWriter.WriteSenderReport(span[length..], s.Ssrc, ntp, rtp, (uint)s.PacketsSent, (uint)s.OctetsSent, []);
        }
        if (length > 0) SendRtcp(_rtcp, length);
    }

    // The receivers' largest report of the window before the last (reports and REMBs both come once a second, unaligned).
    private long _previousReceiverMax;
    private uint _lastRemb;

    /// <summary>
    /// The REMB toward this publisher (D-38): the configured rate (video_bit_rate + audio, D-16), lowered to what the
    /// strongest receiver of its single-layer video can take (its downlink share, plus the audio's part) — never above
    /// the configured rate, never under 100 kbps. A simulcast publisher, a relayed track (receivers on other nodes are
    /// not seen here) and a track nobody receives keep the configured rate.
    /// </summary>
    private uint RembFollowingReceivers()
    {
        long strongest = 0;
        var adapt = false;
        foreach (var p in _publications)
        {
            if (p.Kind != MediaKind.Video || p.Layers is not null || p.LocalSession?.Relay is not null) continue;
            var now = p.TakeReceiverMaxBps();
            strongest = Math.Max(now, _previousReceiverMax);
            _previousReceiverMax = now;
            adapt = true;
        }
        const long audioAllowance = 64_000;
        var remb = !adapt || strongest == 0 || strongest == long.MaxValue ? _rembBitrate : (uint)Math.Clamp(strongest + audioAllowance, 100_000, _rembBitrate);
        if (remb != _lastRemb && _log.IsEnabled(LogLevel.Debug))
            _log.LogDebug("Connection {Id}: REMB {Kbps} kbps (strongest receiver {Strongest})", ConnectionId, remb / 1000, strongest == long.MaxValue ? "unlimited" : $"{strongest / 1000} kbps");
        _lastRemb = remb;
        return remb;
    }

    /// <summary>Loss from a publisher is repaired hop by hop: NACK what is missing, the publisher resends it as RTX.</summary>
    private void SendNacks(long now)
    {
        Span<ushort> missing = stackalloc ushort[64];
        foreach (var p in _publications)
        {
            if (p.Nacks is not { } nacks || p.Ssrc == 0) continue;
            if (nacks.KeyFrameNeeded)
            {
                // Too much lost to repair packet by packet: a key frame is cheaper.
                nacks.ClearKeyFrameNeeded();
                p.RequestKeyFrame(now);
            }
            var n = nacks.Poll(now, missing);
            if (n == 0) continue;
            var length = RtcpWriter.WriteNack(_rtcp, RtcpSsrc, p.Ssrc, missing[..n]);
            if (length == 0) continue;
            p.NacksSent += n;
            SendRtcp(_rtcp, length);
        }
    }

    public void SendPli(uint mediaSsrc)
    {
        if (_send is null || _remote is null) return;
        var n = RtcpWriter.WritePictureLossIndication(_rtcp, RtcpSsrc, mediaSsrc);
        _counters.KeyFrameRequestsSent++;
        SendRtcp(_rtcp, n);
    }

    /// <summary>Protects and sends one RTP packet; <paramref name="transportSeq"/> (≥ 0) is its transport-wide number (D-38).</summary>
    public void SendRtp(byte[] buffer, int length, int transportSeq = -1, bool padding = false)
    {
        var send = _send;
        var remote = _remote;
        if (send is null || remote is null) return;
        if (send.ProtectRtp(buffer, length, out var protectedLength) != SrtpResult.Ok) return;
        _counters.SentSrtp++;
        _counters.SentSrtpBytes += protectedLength;
        _socket.Send(buffer.AsSpan(0, protectedLength), remote);
        if (transportSeq >= 0) Downlink.OnSent((ushort)transportSeq, protectedLength, NowMicros(), padding);
    }

    /// <summary>Bandwidth adaptation toward this peer as a receiver (D-38); media thread.</summary>
    internal DownlinkBandwidth Downlink { get; } = new();

    /// <summary>The downlink estimate in bits/s (0 until the peer sends transport-wide feedback); any thread.</summary>
    public long DownlinkEstimateBps => Volatile.Read(ref _downlinkEstimate);
    private long _downlinkEstimate;
    private long _nextDownlinkLog;

    /// <summary>Probe padding: RTX of recent packets on the first video subscription that can carry it.</summary>
    private int SendPadding(int bytes)
    {
        foreach (var s in _subscriptions)
            if (s.Publication.Kind == MediaKind.Video && s.SendPadding(bytes) is var n and > 0) return n;
        return 0;
    }

    private void SendRtcp(byte[] buffer, int length)
    {
        var send = _send;
        var remote = _remote;
        if (send is null || remote is null) return;
        if (send.ProtectRtcp(buffer, length, out var protectedLength) != SrtpResult.Ok) return;
        _socket.Send(buffer.AsSpan(0, protectedLength), remote);
    }

    private static long NowMicros() => MediaClock.NowMicros();

    /// <summary>One line per connection at its end: what it published and what it was sent (operators' first clue).</summary>
    private void LogSummary()
    {
        if (!_log.IsEnabled(LogLevel.Information)) return;
        var published = string.Join(", ", _publications.Select(p =>
            $"{p.Kind.Name()}{(p.Rid is { } rid ? "/" + rid : "")} ssrc={p.Ssrc} packets={p.PacketsReceived} duplicates={p.Duplicates} key-frames={p.KeyFrames} key-frame-requests={p.KeyFrameRequests} nacked={p.NacksSent}"));
        var forwarded = string.Join(", ", _subscriptions.Select(s =>
            $"{s.Publication.ConnectionId}/{s.Publication.Kind.Name()}{(s.CurrentRid is { } rid ? "/" + rid : "")} packets={s.PacketsSent} rtx={s.Retransmitted} active={s.Active}{(s.LayerSwitches > 0 ? $" layer-switches={s.LayerSwitches}" : "")}"));
        _log.LogInformation("Connection {Id} media: published [{Published}] forwarded to it [{Forwarded}]", ConnectionId, published, forwarded);
    }

    /// <summary>
    /// The downlink trace (D-38) goes to its file off the media thread (the transport is closed: nothing writes to the
    /// trace any more); a failure is logged, nothing else.
    /// </summary>
    private void WriteTrace(Rtc.Bwe.BweTrace trace)
    {
        var path = Path.Combine(DownlinkBandwidth.TraceDirectory!, Rtc.Bwe.BweTrace.FileName(ConnectionId, DateTime.UtcNow));
        var log = _log;
        Task.Run(() =>
        {
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, trace.ToString());
                log.LogInformation("Bandwidth trace of {Id} written to {Path}", ConnectionId, path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.LogWarning("Bandwidth trace of {Id} not written to {Path}: {Error}", ConnectionId, path, e.Message);
            }
        });
    }

    /// <summary>Stops the transport. Safe from any thread; the media-thread parts are posted.</summary>
    public void Dispose()
    {
        _socket.RemovePeer(LocalUfrag);
        var dtls = _dtls;
        _socket.Post(() =>
        {
            if (Closed) return;
            Closed = true;
            LogSummary();
            // After whatever was posted before (a last signaling message on a data channel): ABORT, then close_notify.
            DataChannels?.Dispose();
            DataChannels = null;
            if (dtls is not null) Task.Run(dtls.Dispose);
            foreach (var s in _subscriptions.ToList()) RemoveSubscription(s);
            foreach (var p in _publications.ToList()) RemovePublication(p);
            _send?.Dispose();
            _receive?.Dispose();
            _send = _receive = null;
            if (Downlink.Trace is { } trace && Downlink.Active) WriteTrace(trace);
        });
    }
}
