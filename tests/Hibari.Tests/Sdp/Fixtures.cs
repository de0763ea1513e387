using System.Net;
using Hibari.Sdp;

namespace Hibari.Tests.Sdp;

/// <summary>
/// Browser SDPs reconstructed from public captures and our own measurements, with "\r\n" line ends as Chrome sends.
/// Values (ufrags, fingerprints, ssrcs, track ids) are invented; structure, order and numbers follow the sources.
/// </summary>
internal static class SdpFixtures
{
    /// <summary>
    /// Chrome 156 createOffer() for one sendonly video transceiver + one data channel: 23 video payload types and
    /// extmap ids 1–11 exactly as measured (docs/protocol-notes.md, "Chrome's SDP offer") (140 "\r\n"-separated pieces, the last empty).
    /// Payload-type layout and fmtp lines as in the Chrome 143 offer quoted in versatica/mediasoup-client#353
    /// (minus H.265 49/50 and High 64001f 119/120, which Debian's chromium build did not offer: 23 = 27 - 4);
    /// extmap list as in the Chrome 148 offer of versatica/mediasoup-client#368; per-codec rtcp-fb order
    /// (goog-remb, transport-cc, ccm fir, nack, nack pli) as in millicast/flutter-sdk test/mocks/sdp_mock.dart.
    /// </summary>
    public static string ChromeVideoAndDataOffer => Crlf(ChromeVideoAndDataOfferLf);

    private const string ChromeVideoAndDataOfferLf = """
v=0
o=- 2917745312097315840 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10
m=video 9 UDP/TLS/RTP/SAVPF 96 97 103 104 107 108 109 114 115 116 117 118 39 40 45 46 98 99 100 101 123 124 125
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Qk7d
a=ice-pwd:3vXJm9pLwR2sYb8TnE4cHq1K
a=ice-options:trickle
a=fingerprint:sha-256 F9:D5:7E:B7:4D:72:50:45:E4:C0:A8:4D:2B:4F:44:07:E0:12:C9:C3:01:B3:36:96:B8:19:4A:E8:55:81:0C:15
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 urn:3gpp:video-orientation
a=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10 0c8e3a52-7d41-4f96-b2e8-5a19c6d4f3e7
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:103 H264/90000
a=rtcp-fb:103 goog-remb
a=rtcp-fb:103 transport-cc
a=rtcp-fb:103 ccm fir
a=rtcp-fb:103 nack
a=rtcp-fb:103 nack pli
a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:104 rtx/90000
a=fmtp:104 apt=103
a=rtpmap:107 H264/90000
a=rtcp-fb:107 goog-remb
a=rtcp-fb:107 transport-cc
a=rtcp-fb:107 ccm fir
a=rtcp-fb:107 nack
a=rtcp-fb:107 nack pli
a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:108 rtx/90000
a=fmtp:108 apt=107
a=rtpmap:109 H264/90000
a=rtcp-fb:109 goog-remb
a=rtcp-fb:109 transport-cc
a=rtcp-fb:109 ccm fir
a=rtcp-fb:109 nack
a=rtcp-fb:109 nack pli
a=fmtp:109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:114 rtx/90000
a=fmtp:114 apt=109
a=rtpmap:115 H264/90000
a=rtcp-fb:115 goog-remb
a=rtcp-fb:115 transport-cc
a=rtcp-fb:115 ccm fir
a=rtcp-fb:115 nack
a=rtcp-fb:115 nack pli
a=fmtp:115 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:116 rtx/90000
a=fmtp:116 apt=115
a=rtpmap:117 H264/90000
a=rtcp-fb:117 goog-remb
a=rtcp-fb:117 transport-cc
a=rtcp-fb:117 ccm fir
a=rtcp-fb:117 nack
a=rtcp-fb:117 nack pli
a=fmtp:117 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:118 rtx/90000
a=fmtp:118 apt=117
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:123 red/90000
a=rtpmap:124 rtx/90000
a=fmtp:124 apt=123
a=rtpmap:125 ulpfec/90000
a=ssrc-group:FID 3735928559 1122334455
a=ssrc:3735928559 cname:kR9vT2xQm4LpZs8W
a=ssrc:3735928559 msid:6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10 0c8e3a52-7d41-4f96-b2e8-5a19c6d4f3e7
a=ssrc:1122334455 cname:kR9vT2xQm4LpZs8W
a=ssrc:1122334455 msid:6f1b9f4e-2c4a-4d7e-9b1a-3e5d7c9a2b10 0c8e3a52-7d41-4f96-b2e8-5a19c6d4f3e7
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:Qk7d
a=ice-pwd:3vXJm9pLwR2sYb8TnE4cHq1K
a=ice-options:trickle
a=fingerprint:sha-256 F9:D5:7E:B7:4D:72:50:45:E4:C0:A8:4D:2B:4F:44:07:E0:12:C9:C3:01:B3:36:96:B8:19:4A:E8:55:81:0C:15
a=setup:actpass
a=mid:1
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>
    /// A Chromium build without proprietary codecs (no H.264), audio + video sendrecv, as sent in Sora's connect.sdp.
    /// With audio present Chrome numbers extensions audio-first (1 audio-level, 2 abs-send-time, 3 transport-cc,
    /// 4 mid; video toffset 14, orientation 13) — layout as in the Chrome offers quoted in
    /// versatica/mediasoup-client#148 (audio) and #353 (video).
    /// </summary>
    public static string ChromiumNoH264AudioVideoOffer => Crlf(ChromiumNoH264AudioVideoOfferLf);

    private const string ChromiumNoH264AudioVideoOfferLf = """
v=0
o=- 5082716934410382219 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Tn2w
a=ice-pwd:b6QhZ1xKd8Vr3mPs5LyN0cFe
a=ice-options:trickle
a=fingerprint:sha-256 F9:D5:7E:B7:4D:72:50:45:E4:C0:A8:4D:2B:4F:44:07:E0:12:C9:C3:01:B3:36:96:B8:19:4A:E8:55:81:0C:15
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5 9a4c1e37-d852-4b06-a7f9-60e3b2c8d154
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:1956127834 cname:Hq7Zm2Wc9Xv4Bn1R
a=ssrc:1956127834 msid:3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5 9a4c1e37-d852-4b06-a7f9-60e3b2c8d154
m=video 9 UDP/TLS/RTP/SAVPF 96 97 45 46 98 99 100 101 123 124 125
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Tn2w
a=ice-pwd:b6QhZ1xKd8Vr3mPs5LyN0cFe
a=ice-options:trickle
a=fingerprint:sha-256 F9:D5:7E:B7:4D:72:50:45:E4:C0:A8:4D:2B:4F:44:07:E0:12:C9:C3:01:B3:36:96:B8:19:4A:E8:55:81:0C:15
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendrecv
a=msid:3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5 e07b5c2a-1f94-4d38-b6a0-8c52d9e3f716
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:123 red/90000
a=rtpmap:124 rtx/90000
a=fmtp:124 apt=123
a=rtpmap:125 ulpfec/90000
a=ssrc-group:FID 4017223591 2203149876
a=ssrc:4017223591 cname:Hq7Zm2Wc9Xv4Bn1R
a=ssrc:4017223591 msid:3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5 e07b5c2a-1f94-4d38-b6a0-8c52d9e3f716
a=ssrc:2203149876 cname:Hq7Zm2Wc9Xv4Bn1R
a=ssrc:2203149876 msid:3b7e2d90-5a1c-4f68-9e03-c2d84a61f7b5 e07b5c2a-1f94-4d38-b6a0-8c52d9e3f716
""";

    /// <summary>
    /// Chrome's answer to <see cref="SoraStyleOffer"/>: a=setup:active, the publishing mids flipped to sendonly
    /// (the SDK set them sendrecv; the offer said recvonly), a=simulcast:send r0;r1;r2 with no a=ssrc for the
    /// simulcast video, recvonly for the other publisher, port 0 kept for the departed one — the behaviour measured
    /// against headless Chromium 156 (docs/protocol-notes.md, "RTP forwarding with Chrome"); line layout as Chrome's answers in the sources above.
    /// </summary>
    public static string ChromeAnswerToSoraOffer => Crlf(ChromeAnswerToSoraOfferLf);

    private const string ChromeAnswerToSoraOfferLf = """
v=0
o=- 7391846203655412785 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2 3
a=extmap-allow-mixed
a=msid-semantic: WMS 8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:h8Zq
a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B
a=ice-options:trickle
a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98
a=setup:active
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendonly
a=msid:8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38 5d2e8f61-0b37-4c9a-8e14-7a63b1c9d02f
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:2854039107 cname:Yp3Kq8vNw1TxRz6M
a=ssrc:2854039107 msid:8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38 5d2e8f61-0b37-4c9a-8e14-7a63b1c9d02f
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:h8Zq
a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B
a=ice-options:trickle
a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98
a=setup:active
a=mid:1
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendonly
a=msid:8a3c51e2-94d7-4b0f-a6e1-2f7c90d45b38 c41f7a08-6e25-4d93-b8f0-19e4a2c76d5b
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rid:r0 send
a=rid:r1 send
a=rid:r2 send
a=simulcast:send r0;r1;r2
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:h8Zq
a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B
a=ice-options:trickle
a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98
a=setup:active
a=mid:2
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:h8Zq
a=ice-pwd:Wm3nR7tYk2PcXv9LsD4fGj6B
a=ice-options:trickle
a=fingerprint:sha-256 7F:26:23:4E:E7:89:92:40:B4:DF:33:DA:20:7D:26:0A:F2:58:AA:42:AD:C4:15:C1:22:CC:09:AA:C4:35:9A:98
a=setup:active
a=mid:3
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
m=audio 0 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:4
a=inactive
a=rtcp-mux
a=rtpmap:111 opus/48000/2
m=video 0 UDP/TLS/RTP/SAVPF 96
c=IN IP4 0.0.0.0
a=mid:5
a=inactive
a=rtcp-mux
a=rtpmap:96 VP8/90000
""";

    public const string ServerFingerprint =
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    /// <summary>
    /// A Sora-style offer to a simulcast sendrecv client: its own audio/video (recvonly, server view; mid 0/1 go
    /// into the offer message's "mid" field), one other publisher's audio/video (sendonly, msid stream id = that
    /// publisher's connection_id), and a departed publisher's pair at port 0.
    /// </summary>
    public static OfferSpec SoraStyleOffer() => new()
    {
        SessionId = 4611731400430051336,
        SessionVersion = 3,
        IceUfrag = "hibari1a",
        IcePwd = "Zx8cV7bN6mQ5wE4rT3yU2iO1",
        Fingerprint = new SdpFingerprint("sha-256", ServerFingerprint),
        CandidateAddress = IPAddress.Parse("192.0.2.10"),
        CandidatePort = 5000,
        Sections =
        [
            new OfferSection { Mid = "0", Kind = MediaKind.Audio, Direction = MediaDirection.RecvOnly, Codecs = [CodecCatalog.Opus] },
            new OfferSection { Mid = "1", Kind = MediaKind.Video, Direction = MediaDirection.RecvOnly, Codecs = [CodecCatalog.Vp8], RecvRids = ["r0", "r1", "r2"] },
            new OfferSection
            {
                Mid = "2", Kind = MediaKind.Audio, Direction = MediaDirection.SendOnly, Codecs = [CodecCatalog.Opus],
                Stream = new OfferedStream(1001, null, "hibari-P7", "PUBLISHERCONNECTIONID0000A", "audio-P7"),
            },
            new OfferSection
            {
                Mid = "3", Kind = MediaKind.Video, Direction = MediaDirection.SendOnly, Codecs = [CodecCatalog.Vp8],
                Stream = new OfferedStream(2001, 2002, "hibari-P7", "PUBLISHERCONNECTIONID0000A", "video-P7"),
            },
            new OfferSection { Mid = "4", Kind = MediaKind.Audio, Direction = MediaDirection.Inactive, Codecs = [CodecCatalog.Opus], Rejected = true },
            new OfferSection { Mid = "5", Kind = MediaKind.Video, Direction = MediaDirection.Inactive, Codecs = [CodecCatalog.Vp8], Rejected = true },
        ],
    };

    public static string Crlf(string lf) => lf.Replace("\r\n", "\n").Replace("\n", "\r\n") + "\r\n";
}
