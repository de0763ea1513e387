namespace Hibari.Sfu;

/// <summary>
/// Media-plane counters of a node (GetStatsReport, /metrics). Written by the media thread only, except the DTLS
/// failure count; 64-bit reads are atomic on the platforms .NET 10 runs on, so readers see a recent value.
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
}
