namespace Hibari.Sfu;

/// <summary>
/// Media-plane counters (GetStatsReport, /metrics). Each media worker has its own instance, written by that worker
/// only (except the DTLS failure count, incremented atomically); the control side has one more, for messaging and
/// client stats, incremented atomically. 64-bit reads are atomic on the platforms .NET 10 runs on, so readers see a
/// recent value; <see cref="SfuEngine.CountersSnapshot"/> sums them.
/// </summary>
public sealed class SfuCounters
{
    public long ReceivedSrtp, ReceivedSrtpBytes, DecryptedSrtp, DecryptedSrtpBytes, SentSrtp, SentSrtpBytes;
    public long ReceivedRtcp, SrtpDropped, SrtpUnprotectFailures, RtpMalformed, RtpUnknownSsrc, RtpUnknownPayloadType;
    public long KeyFrameRequestsReceived, KeyFrameRequestsSent, NacksReceived;
    public long DtlsFailures;
    // Data channels (media thread): SCTP packets sent over DTLS, messaging messages in/out/dropped.
    public long SctpPacketsSent, SctpPacketsDropped, MessagesReceived, MessagesReceivedBytes, MessagesSent, MessagesSentBytes, MessagesDropped;
    public long ClientStatsReports;
    /// <summary>Requests on `rpc` data channels (D-36), answered or not.</summary>
    public long RpcRequests;
    /// <summary>Spotlight focus changes decided here, and focus frames of another node's decider applied here (D-37, D-40).</summary>
    public long SpotlightChanges, SpotlightRemoteFocus;
    // Simulcast (issue 12): per layer r0..r2, what publishers sent (RTP packets, bytes, key frames); layer switches of receivers.
    public readonly long[] SimulcastPackets = new long[3], SimulcastBytes = new long[3], SimulcastKeyFrames = new long[3];
    public long SimulcastLayerSwitches;
    /// <summary>RTX answers to NACKs sent, and NACKed packets not sent again because the receiver's estimate had no room (D-38).</summary>
    public long Retransmissions, RetransmissionsSkipped;

    /// <summary>Adds every counter of <paramref name="o"/> to this one (for totals).</summary>
    public void Add(SfuCounters o)
    {
        ReceivedSrtp += o.ReceivedSrtp; ReceivedSrtpBytes += o.ReceivedSrtpBytes; DecryptedSrtp += o.DecryptedSrtp;
        DecryptedSrtpBytes += o.DecryptedSrtpBytes; SentSrtp += o.SentSrtp; SentSrtpBytes += o.SentSrtpBytes;
        ReceivedRtcp += o.ReceivedRtcp; SrtpDropped += o.SrtpDropped; SrtpUnprotectFailures += o.SrtpUnprotectFailures;
        RtpMalformed += o.RtpMalformed; RtpUnknownSsrc += o.RtpUnknownSsrc; RtpUnknownPayloadType += o.RtpUnknownPayloadType;
        KeyFrameRequestsReceived += o.KeyFrameRequestsReceived; KeyFrameRequestsSent += o.KeyFrameRequestsSent; NacksReceived += o.NacksReceived;
        DtlsFailures += Interlocked.Read(ref o.DtlsFailures);
        SctpPacketsSent += o.SctpPacketsSent; SctpPacketsDropped += o.SctpPacketsDropped;
        MessagesReceived += Interlocked.Read(ref o.MessagesReceived); MessagesReceivedBytes += Interlocked.Read(ref o.MessagesReceivedBytes);
        MessagesSent += Interlocked.Read(ref o.MessagesSent); MessagesSentBytes += Interlocked.Read(ref o.MessagesSentBytes);
        MessagesDropped += Interlocked.Read(ref o.MessagesDropped);
        ClientStatsReports += Interlocked.Read(ref o.ClientStatsReports);
        RpcRequests += Interlocked.Read(ref o.RpcRequests);
        SpotlightChanges += Interlocked.Read(ref o.SpotlightChanges);
        SpotlightRemoteFocus += Interlocked.Read(ref o.SpotlightRemoteFocus);
        for (var i = 0; i < 3; i++)
        {
            SimulcastPackets[i] += o.SimulcastPackets[i];
            SimulcastBytes[i] += o.SimulcastBytes[i];
            SimulcastKeyFrames[i] += o.SimulcastKeyFrames[i];
        }
        SimulcastLayerSwitches += o.SimulcastLayerSwitches;
        Retransmissions += o.Retransmissions; RetransmissionsSkipped += o.RetransmissionsSkipped;
    }
}
