using Hibari.Sdp;
using Hibari.Rtc.Rtp;

namespace Hibari.Sfu;

/// <summary>
/// One incoming track of a publisher (mediasoup's Producer): the publisher's SSRCs, receive statistics, the sender
/// report mapping, and the subscriptions it fans out to. Media-thread state, except the immutable identity.
/// </summary>
/// <summary>Where a publication's key-frame requests go: the publisher's transport, or the relay to its node.</summary>
internal interface IKeyFrameTarget
{
    void SendPli(uint mediaSsrc);
}

/// <summary>Takes a local publication's packets to other nodes (the relay): called on the media thread for each packet.</summary>
internal interface IRelayFanout
{
    void Relay(Publication publication, ReadOnlySpan<byte> packet);
    /// <summary>The publisher's sender report of a local track (media thread).</summary>
    void SenderReport(Publication publication, ulong ntp, uint rtp);
}

internal sealed class Publication
{
    /// <summary>Key-frame requests toward the publisher are rate-limited: a storm of PLIs helps nobody.</summary>
    private const long KeyFrameRequestIntervalMicros = 300_000;

    private Subscription[] _subscribers = [];
    private long _lastKeyFrameRequest = long.MinValue / 2;

    public Publication(IKeyFrameTarget publisher, string connectionId, string mid, MediaKind kind, RtpCodec codec, string trackId,
        string? remoteNode = null)
    {
        Publisher = publisher;
        ConnectionId = connectionId;
        Mid = mid;
        Kind = kind;
        Codec = codec;
        TrackId = trackId;
        RemoteNode = remoteNode;
        // A relayed track arrives over a reliable link: nothing to NACK there (subscribers' NACKs are answered here).
        if (kind == MediaKind.Video && codec.RtxPayloadType is not null && remoteNode is null) Nacks = new NackGenerator();
    }

    public IKeyFrameTarget Publisher { get; }
    /// <summary>The node the publisher is connected to, for a track relayed from another node; null for a local one.</summary>
    public string? RemoteNode { get; }
    /// <summary>The session of a local track: while it is relayed to other nodes (<see cref="Session.Relay"/>), packets also go there.</summary>
    public Session? LocalSession { get; init; }
    /// <summary>The publisher's connection id: the msid stream id subscribers see (sora-protocol.md §1.5 item 11).</summary>
    public string ConnectionId { get; }
    /// <summary>The mid of the publisher's own sending m-line.</summary>
    public string Mid { get; }
    public MediaKind Kind { get; }
    public RtpCodec Codec { get; }
    public string TrackId { get; }
    public uint Ssrc { get; set; }
    public uint RtxSsrc { get; set; }
    public ReceiveStatistics? Statistics { get; private set; }
    public bool Closed { get; private set; }

    // Sender report of the publisher: lets subscribers' SRs keep this track's NTP ↔ RTP mapping (lip sync).
    public bool HasSenderReport { get; private set; }
    public ulong SenderReportNtp { get; private set; }
    public uint SenderReportRtp { get; private set; }
    public long SenderReportArrival { get; private set; }

    public long PacketsReceived { get; private set; }
    public long BytesReceived { get; private set; }
    public long KeyFrameRequests { get; private set; }

    public ReadOnlySpan<Subscription> Subscribers => _subscribers;

    /// <summary>Video only: the sequence numbers missing from the publisher, to NACK (the publisher answers with RTX).</summary>
    public NackGenerator? Nacks { get; }
    public long NacksSent { get; set; }

    public void LatchSsrc(uint ssrc)
    {
        Ssrc = ssrc;
        Statistics = new ReceiveStatistics(ssrc, Codec.ClockRate);
    }

    public void Add(Subscription s)
    {
        var next = new Subscription[_subscribers.Length + 1];
        _subscribers.CopyTo(next, 0);
        next[^1] = s;
        _subscribers = next;
    }

    public void Remove(Subscription s)
    {
        var i = Array.IndexOf(_subscribers, s);
        if (i < 0) return;
        var next = new Subscription[_subscribers.Length - 1];
        Array.Copy(_subscribers, 0, next, 0, i);
        Array.Copy(_subscribers, i + 1, next, i, _subscribers.Length - i - 1);
        _subscribers = next;
    }

    public void Close()
    {
        Closed = true;
        foreach (var s in _subscribers) s.Close();
        _subscribers = [];
    }

    /// <summary>A decrypted RTP packet of this track: fan out to every subscription.</summary>
    public void OnRtp(ReadOnlySpan<byte> packet, in RtpHeader header, long nowMicros)
    {
        PacketsReceived++;
        BytesReceived += packet.Length;
        Statistics?.OnPacket(header.SequenceNumber, header.Timestamp, nowMicros);
        var keyFrame = Kind == MediaKind.Video && KeyFrameDetector.IsKeyFrame(CodecKind, header.GetPayload(packet));
        Nacks?.OnPacket(header.SequenceNumber, keyFrame, nowMicros);
        foreach (var s in _subscribers) s.Forward(packet, header, keyFrame, nowMicros);
        LocalSession?.Relay?.Relay(this, packet);
    }

    public void OnSenderReport(ulong ntp, uint rtp, long nowMicros)
    {
        HasSenderReport = true;
        SenderReportNtp = ntp;
        SenderReportRtp = rtp;
        SenderReportArrival = nowMicros;
        Statistics?.OnSenderReport(ntp, nowMicros);
        LocalSession?.Relay?.SenderReport(this, ntp, rtp);
    }

    /// <summary>Asks the publisher for a key frame (PLI), at most once per 300 ms.</summary>
    public void RequestKeyFrame(long nowMicros)
    {
        if (Kind != MediaKind.Video || Ssrc == 0 || nowMicros - _lastKeyFrameRequest < KeyFrameRequestIntervalMicros) return;
        _lastKeyFrameRequest = nowMicros;
        KeyFrameRequests++;
        Publisher.SendPli(Ssrc);
    }

    private VideoCodecKind CodecKind => Codec.Name switch
    {
        "VP8" => VideoCodecKind.Vp8,
        "VP9" => VideoCodecKind.Vp9,
        "H264" => VideoCodecKind.H264,
        "AV1" => VideoCodecKind.Av1,
        _ => VideoCodecKind.Vp8,
    };
}
