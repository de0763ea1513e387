namespace Hibari.Tests.Sdp;

/// <summary>
/// Real SDPs, verbatim (random ICE credentials, fingerprints, ssrcs and msids included), recorded by a WebSocket relay
/// between the page and the node. Captured on 2026-12-02 from Debian Chromium 156.0.8078.114 (headless, fake camera/mic) +
/// sora-js-sdk 2026.1.0 against Hibari 34017dc37fd501a897b79dabda7254d97aea493c, in a private network namespace (lo only), with
/// <c>node tests/e2e/capture-sdp.mjs --out captures.json</c> (see that script for the sequence): channel 1: A sendrecv
/// (default codec: VP9) connects, B sendrecv joins, B leaves, R recvonly joins; then H sendrecv H264 and V sendrecv AV1
/// each in its own channel. Every text used "\r\n" after every line, the last included: the literals hold the lines
/// and <see cref="SdpFixtures.Crlf"/> restores exactly that.
/// </summary>
internal static class ChromeCaptures
{
    public const string CapturedWith = "Chromium 156.0.8078.114 + sora-js-sdk 2026.1.0 against Hibari 34017dc";

    /// <summary>A's connect.sdp: sora-js-sdk's throw-away offer (recvonly audio + video transceivers), the browser's capabilities.</summary>
    public static string AConnect => SdpFixtures.Crlf(AConnectLf);

    private const string AConnectLf = """
v=0
o=- 1935626478476400445 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:WQ4X
a=ice-pwd:y6rNGlE1lbahykN9GgpKAxEg
a=ice-options:trickle
a=fingerprint:sha-256 4C:6B:F2:F5:9F:5E:82:5E:6B:AF:21:3E:C1:BA:42:52:29:F6:9B:40:D4:E1:69:6F:BC:0D:5F:CC:A6:D4:D4:5C
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
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
m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 35 36 37 38 102 103 104 107 108 109 114 115 116 117 39 40 41 42 43 44 45 46 47 48 118 119 120 49
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:WQ4X
a=ice-pwd:y6rNGlE1lbahykN9GgpKAxEg
a=ice-options:trickle
a=fingerprint:sha-256 4C:6B:F2:F5:9F:5E:82:5E:6B:AF:21:3E:C1:BA:42:52:29:F6:9B:40:D4:E1:69:6F:BC:0D:5F:CC:A6:D4:D4:5C
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
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtcp-xr:rcvr-rtt=all
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
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
a=rtpmap:35 VP9/90000
a=rtcp-fb:35 goog-remb
a=rtcp-fb:35 transport-cc
a=rtcp-fb:35 ccm fir
a=rtcp-fb:35 nack
a=rtcp-fb:35 nack pli
a=fmtp:35 profile-id=1
a=rtpmap:36 rtx/90000
a=fmtp:36 apt=35
a=rtpmap:37 VP9/90000
a=rtcp-fb:37 goog-remb
a=rtcp-fb:37 transport-cc
a=rtcp-fb:37 ccm fir
a=rtcp-fb:37 nack
a=rtcp-fb:37 nack pli
a=fmtp:37 profile-id=3
a=rtpmap:38 rtx/90000
a=fmtp:38 apt=37
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 transport-cc
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:104 H264/90000
a=rtcp-fb:104 goog-remb
a=rtcp-fb:104 transport-cc
a=rtcp-fb:104 ccm fir
a=rtcp-fb:104 nack
a=rtcp-fb:104 nack pli
a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:107 rtx/90000
a=fmtp:107 apt=104
a=rtpmap:108 H264/90000
a=rtcp-fb:108 goog-remb
a=rtcp-fb:108 transport-cc
a=rtcp-fb:108 ccm fir
a=rtcp-fb:108 nack
a=rtcp-fb:108 nack pli
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:114 H264/90000
a=rtcp-fb:114 goog-remb
a=rtcp-fb:114 transport-cc
a=rtcp-fb:114 ccm fir
a=rtcp-fb:114 nack
a=rtcp-fb:114 nack pli
a=fmtp:114 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:115 rtx/90000
a=fmtp:115 apt=114
a=rtpmap:116 H264/90000
a=rtcp-fb:116 goog-remb
a=rtcp-fb:116 transport-cc
a=rtcp-fb:116 ccm fir
a=rtcp-fb:116 nack
a=rtcp-fb:116 nack pli
a=fmtp:116 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:117 rtx/90000
a=fmtp:117 apt=116
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:41 H264/90000
a=rtcp-fb:41 goog-remb
a=rtcp-fb:41 transport-cc
a=rtcp-fb:41 ccm fir
a=rtcp-fb:41 nack
a=rtcp-fb:41 nack pli
a=fmtp:41 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=f4001f
a=rtpmap:42 rtx/90000
a=fmtp:42 apt=41
a=rtpmap:43 H264/90000
a=rtcp-fb:43 goog-remb
a=rtcp-fb:43 transport-cc
a=rtcp-fb:43 ccm fir
a=rtcp-fb:43 nack
a=rtcp-fb:43 nack pli
a=fmtp:43 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=f4001f
a=rtpmap:44 rtx/90000
a=fmtp:44 apt=43
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:47 AV1/90000
a=rtcp-fb:47 goog-remb
a=rtcp-fb:47 transport-cc
a=rtcp-fb:47 ccm fir
a=rtcp-fb:47 nack
a=rtcp-fb:47 nack pli
a=fmtp:47 level-idx=5;profile=1;tier=0
a=rtpmap:48 rtx/90000
a=fmtp:48 apt=47
a=rtpmap:118 red/90000
a=rtpmap:119 rtx/90000
a=fmtp:119 apt=118
a=rtpmap:120 ulpfec/90000
a=rtpmap:49 flexfec-03/90000
a=rtcp-fb:49 goog-remb
a=rtcp-fb:49 transport-cc
a=fmtp:49 repair-window=10000000
""";

    /// <summary>The node's offer to A (sendrecv, default codec): A's audio and video recvonly, data channel.</summary>
    public static string AOffer => SdpFixtures.Crlf(AOfferLf);

    private const string AOfferLf = """
v=0
o=- 238000088316885994 3 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>A's answer: sendonly audio and video with a=ssrc (video with an FID rtx pair).</summary>
    public static string AAnswer => SdpFixtures.Crlf(AAnswerLf);

    private const string AAnswerLf = """
v=0
o=- 611537243029954695 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS 1b49c29c-788b-4e96-a3df-aace691c7101
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 7952a596-4d37-490b-a66a-a5f1661a8315
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:98007315 cname:ANTCXDWCc+djEY8G
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 29ddced1-dd2e-4fe6-ac3c-111a53a0068e
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3117122629 3346024179
a=ssrc:3117122629 cname:ANTCXDWCc+djEY8G
a=ssrc:3346024179 cname:ANTCXDWCc+djEY8G
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>The node's re-offer to A when B (sendrecv) joined: B's audio and video added sendonly at mids 3 and 4.</summary>
    public static string AReOfferBJoined => SdpFixtures.Crlf(AReOfferBJoinedLf);

    private const string AReOfferBJoinedLf = """
v=0
o=- 238000088316885994 6 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2 3 4
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:3
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendonly
a=msid:TXZPKED2CH4YF9H45CHVNE0SK8 TXZPKED2CH4YF9H45CHVNE0SK8-audio
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:71377044 cname:TXZPKED2CH4YF9H45CHVNE0SK8
a=ssrc:71377044 msid:TXZPKED2CH4YF9H45CHVNE0SK8 TXZPKED2CH4YF9H45CHVNE0SK8-audio
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:4
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendonly
a=msid:TXZPKED2CH4YF9H45CHVNE0SK8 TXZPKED2CH4YF9H45CHVNE0SK8-video
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 698534595 4230561205
a=ssrc:698534595 cname:TXZPKED2CH4YF9H45CHVNE0SK8
a=ssrc:698534595 msid:TXZPKED2CH4YF9H45CHVNE0SK8 TXZPKED2CH4YF9H45CHVNE0SK8-video
a=ssrc:4230561205 cname:TXZPKED2CH4YF9H45CHVNE0SK8
a=ssrc:4230561205 msid:TXZPKED2CH4YF9H45CHVNE0SK8 TXZPKED2CH4YF9H45CHVNE0SK8-video
""";

    /// <summary>A's re-answer to that: mids 3 and 4 recvonly.</summary>
    public static string AReAnswerBJoined => SdpFixtures.Crlf(AReAnswerBJoinedLf);

    private const string AReAnswerBJoinedLf = """
v=0
o=- 611537243029954695 3 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2 3 4
a=extmap-allow-mixed
a=msid-semantic: WMS 1b49c29c-788b-4e96-a3df-aace691c7101
m=audio 46500 UDP/TLS/RTP/SAVPF 111
c=IN IP4 127.0.0.1
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1484658343 1 udp 2122260223 127.0.0.1 46500 typ host generation 0 network-id 1 network-cost 50
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 7952a596-4d37-490b-a66a-a5f1661a8315
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:98007315 cname:ANTCXDWCc+djEY8G
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 29ddced1-dd2e-4fe6-ac3c-111a53a0068e
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3117122629 3346024179
a=ssrc:3117122629 cname:ANTCXDWCc+djEY8G
a=ssrc:3346024179 cname:ANTCXDWCc+djEY8G
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:3
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:4
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
""";

    /// <summary>The node's re-offer to A when B left: mids 3 and 4 port 0, a=inactive, out of the BUNDLE group.</summary>
    public static string AReOfferBLeft => SdpFixtures.Crlf(AReOfferBLeftLf);

    private const string AReOfferBLeftLf = """
v=0
o=- 238000088316885994 7 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
m=audio 0 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:3
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 0 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=ice-ufrag:zSVTBBdL
a=ice-pwd:ZKF4Y1Xrv0RZ2Tid99jK5H+0
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:4
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
""";

    /// <summary>A's re-answer to that: mids 3 and 4 port 0 (rejected).</summary>
    public static string AReAnswerBLeft => SdpFixtures.Crlf(AReAnswerBLeftLf);

    private const string AReAnswerBLeftLf = """
v=0
o=- 611537243029954695 4 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS 1b49c29c-788b-4e96-a3df-aace691c7101
m=audio 46500 UDP/TLS/RTP/SAVPF 111
c=IN IP4 127.0.0.1
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:1484658343 1 udp 2122260223 127.0.0.1 46500 typ host generation 0 network-id 1 network-cost 50
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 7952a596-4d37-490b-a66a-a5f1661a8315
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:98007315 cname:ANTCXDWCc+djEY8G
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:1b49c29c-788b-4e96-a3df-aace691c7101 29ddced1-dd2e-4fe6-ac3c-111a53a0068e
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3117122629 3346024179
a=ssrc:3117122629 cname:ANTCXDWCc+djEY8G
a=ssrc:3346024179 cname:ANTCXDWCc+djEY8G
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
m=audio 0 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:3
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 0 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:uG63
a=ice-pwd:4WNHVUMP9/CebW+0IUiHeRct
a=ice-options:trickle
a=fingerprint:sha-256 72:BF:E2:04:F7:D3:FD:83:9B:58:30:55:26:37:02:BB:96:F9:81:61:1E:10:48:85:73:CE:47:2D:E0:2D:6C:CF
a=setup:active
a=mid:4
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
""";

    /// <summary>The node's offer to B (sendrecv, joined right after A): B's own audio and video recvonly, data channel.</summary>
    public static string BOffer => SdpFixtures.Crlf(BOfferLf);

    private const string BOfferLf = """
v=0
o=- 238000088354458504 3 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>B's answer.</summary>
    public static string BAnswer => SdpFixtures.Crlf(BAnswerLf);

    private const string BAnswerLf = """
v=0
o=- 6821088151265502265 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS 1c8e623b-bd0d-4044-9a84-493673e594c6
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:1c8e623b-bd0d-4044-9a84-493673e594c6 20113703-9b1d-4e0e-b8b9-232484e1ddfd
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:4105191996 cname:QIzxMfbAhqnbBaTq
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:1c8e623b-bd0d-4044-9a84-493673e594c6 cfa8d728-d8d3-4f2f-a968-152d22c4d0de
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3913266949 1551712157
a=ssrc:3913266949 cname:QIzxMfbAhqnbBaTq
a=ssrc:1551712157 cname:QIzxMfbAhqnbBaTq
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>The node's re-offer to B: A's audio and video added sendonly at mids 3 and 4.</summary>
    public static string BReOffer => SdpFixtures.Crlf(BReOfferLf);

    private const string BReOfferLf = """
v=0
o=- 238000088354458504 6 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2 3 4
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:3
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendonly
a=msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-audio
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:1484897277 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:1484897277 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-audio
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:xSxqujSj
a=ice-pwd:KBZ65cuZ+ES47P7aWv/K8di/
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:4
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendonly
a=msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3893950917 3810147058
a=ssrc:3893950917 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:3893950917 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
a=ssrc:3810147058 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:3810147058 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
""";

    /// <summary>B's re-answer: mids 3 and 4 recvonly.</summary>
    public static string BReAnswer => SdpFixtures.Crlf(BReAnswerLf);

    private const string BReAnswerLf = """
v=0
o=- 6821088151265502265 3 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2 3 4
a=extmap-allow-mixed
a=msid-semantic: WMS 1c8e623b-bd0d-4044-9a84-493673e594c6
m=audio 48413 UDP/TLS/RTP/SAVPF 111
c=IN IP4 127.0.0.1
a=rtcp:9 IN IP4 0.0.0.0
a=candidate:218415853 1 udp 2122260223 127.0.0.1 48413 typ host generation 0 network-id 1 network-cost 50
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:1c8e623b-bd0d-4044-9a84-493673e594c6 20113703-9b1d-4e0e-b8b9-232484e1ddfd
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:4105191996 cname:QIzxMfbAhqnbBaTq
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:1c8e623b-bd0d-4044-9a84-493673e594c6 cfa8d728-d8d3-4f2f-a968-152d22c4d0de
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 3913266949 1551712157
a=ssrc:3913266949 cname:QIzxMfbAhqnbBaTq
a=ssrc:1551712157 cname:QIzxMfbAhqnbBaTq
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:3
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:lmQh
a=ice-pwd:/HetJxkiRvZ4m0AyRmJBcBy/
a=ice-options:trickle
a=fingerprint:sha-256 B1:44:BF:CE:3B:D5:19:B9:12:40:E7:8F:AE:E2:C3:16:31:30:52:E2:18:5E:A1:CF:DE:E7:CA:55:B5:6B:BE:5D
a=setup:active
a=mid:4
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
""";

    /// <summary>The node's offer to R (recvonly, joined after B left): data channel first, then A's audio and video sendonly.</summary>
    public static string ROffer => SdpFixtures.Crlf(ROfferLf);

    private const string ROfferLf = """
v=0
o=- 238000085016139772 4 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=sendonly
a=msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-audio
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:53097933 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:53097933 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-audio
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=sendonly
a=msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=rtcp-fb:98 ccm fir
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=ssrc-group:FID 207948048 1859311743
a=ssrc:207948048 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:207948048 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
a=ssrc:1859311743 cname:WV44HHJY1N4BN5XSSTR3BY9XR0
a=ssrc:1859311743 msid:WV44HHJY1N4BN5XSSTR3BY9XR0 WV44HHJY1N4BN5XSSTR3BY9XR0-video
""";

    /// <summary>R's answer: the sendonly sections answered recvonly, no a=ssrc.</summary>
    public static string RAnswer => SdpFixtures.Crlf(RAnswerLf);

    private const string RAnswerLf = """
v=0
o=- 3631234956528211017 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:1
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 98 99
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:2
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
""";

    /// <summary>The node's re-offer to R when A left: A's sections port 0, a=inactive.</summary>
    public static string RReOfferALeft => SdpFixtures.Crlf(RReOfferALeftLf);

    private const string RReOfferALeftLf = """
v=0
o=- 238000085016139772 5 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
m=audio 0 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 0 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=ice-ufrag:OTsJB++N
a=ice-pwd:/7gqSASft94ci49D0UkPn1mZ
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtcp-fb:96 ccm fir
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
""";

    /// <summary>R's re-answer to that: A's sections port 0 (rejected).</summary>
    public static string RReAnswerALeft => SdpFixtures.Crlf(RReAnswerALeftLf);

    private const string RReAnswerALeftLf = """
v=0
o=- 3631234956528211017 3 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0
a=extmap-allow-mixed
a=msid-semantic: WMS
m=application 48667 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 127.0.0.1
a=candidate:3066581698 1 udp 2122260223 127.0.0.1 48667 typ host generation 0 network-id 1 network-cost 50
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:0
a=sctp-port:5000
a=max-message-size:262144
m=audio 0 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:1
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 0 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:waNw
a=ice-pwd:FnlU4YBMrYmQPTN2v37MH5qk
a=ice-options:trickle
a=fingerprint:sha-256 84:F7:85:46:4C:E9:A5:F3:36:56:C3:F1:8E:67:CF:6C:EA:97:BB:29:66:CE:F6:20:C8:44:B1:12:37:AF:61:6F
a=setup:active
a=mid:2
a=inactive
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
""";

    /// <summary>The node's offer to H (sendrecv, videoCodecType H264).</summary>
    public static string HOffer => SdpFixtures.Crlf(HOfferLf);

    private const string HOfferLf = """
v=0
o=- 238000088189018858 3 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:RZRCWZ1S
a=ice-pwd:Uj7+ihVpy1b4Ej7GmIL6d7pS
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 102 103
c=IN IP4 0.0.0.0
a=ice-ufrag:RZRCWZ1S
a=ice-pwd:Uj7+ihVpy1b4Ej7GmIL6d7pS
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=rtcp-fb:102 ccm fir
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:RZRCWZ1S
a=ice-pwd:Uj7+ihVpy1b4Ej7GmIL6d7pS
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>H's answer.</summary>
    public static string HAnswer => SdpFixtures.Crlf(HAnswerLf);

    private const string HAnswerLf = """
v=0
o=- 6655272968062825884 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS a738523d-ee7c-4828-9ce5-408ad3678cdd
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:0Ibc
a=ice-pwd:7sg98L2wQfxbxUUYX/s9w4rF
a=ice-options:trickle
a=fingerprint:sha-256 83:43:FB:4F:22:1C:84:9C:17:A3:0D:34:EF:EB:0A:09:28:B1:47:3A:C7:88:B6:C3:67:16:1D:2F:49:55:46:AD
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:a738523d-ee7c-4828-9ce5-408ad3678cdd b1ca75af-903c-4fdf-8623-e7f34c5aee79
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:3598456332 cname:/PUBM4Ec57+Y4z/D
m=video 9 UDP/TLS/RTP/SAVPF 102 103
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:0Ibc
a=ice-pwd:7sg98L2wQfxbxUUYX/s9w4rF
a=ice-options:trickle
a=fingerprint:sha-256 83:43:FB:4F:22:1C:84:9C:17:A3:0D:34:EF:EB:0A:09:28:B1:47:3A:C7:88:B6:C3:67:16:1D:2F:49:55:46:AD
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:a738523d-ee7c-4828-9ce5-408ad3678cdd 1cbd1dd9-7d56-4d1d-8b06-7a5c7da3c862
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:102 H264/90000
a=rtcp-fb:102 goog-remb
a=rtcp-fb:102 ccm fir
a=rtcp-fb:102 nack
a=rtcp-fb:102 nack pli
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=ssrc-group:FID 2553563146 1686298510
a=ssrc:2553563146 cname:/PUBM4Ec57+Y4z/D
a=ssrc:1686298510 cname:/PUBM4Ec57+Y4z/D
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:0Ibc
a=ice-pwd:7sg98L2wQfxbxUUYX/s9w4rF
a=ice-options:trickle
a=fingerprint:sha-256 83:43:FB:4F:22:1C:84:9C:17:A3:0D:34:EF:EB:0A:09:28:B1:47:3A:C7:88:B6:C3:67:16:1D:2F:49:55:46:AD
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>The node's offer to V (sendrecv, videoCodecType AV1).</summary>
    public static string VOffer => SdpFixtures.Crlf(VOfferLf);

    private const string VOfferLf = """
v=0
o=- 238000087287449951 3 IN IP4 127.0.0.1
s=-
t=0 0
a=ice-lite
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS *
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:+7yANbRw
a=ice-pwd:8uUBidQ7mUcE8qCwFlBSunNr
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:0
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
m=video 9 UDP/TLS/RTP/SAVPF 45 46
c=IN IP4 0.0.0.0
a=ice-ufrag:+7yANbRw
a=ice-pwd:8uUBidQ7mUcE8qCwFlBSunNr
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:1
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=recvonly
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=rtcp-fb:45 ccm fir
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:+7yANbRw
a=ice-pwd:8uUBidQ7mUcE8qCwFlBSunNr
a=fingerprint:sha-256 FF:97:12:44:1F:91:B4:6D:AF:DF:93:AF:8D:35:73:8E:D7:B2:DA:A7:89:F0:75:61:9F:57:92:4A:8B:A7:2C:6A
a=setup:actpass
a=mid:2
a=candidate:1 1 udp 2130706431 127.0.0.1 43275 typ host
a=end-of-candidates
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>V's answer.</summary>
    public static string VAnswer => SdpFixtures.Crlf(VAnswerLf);

    private const string VAnswerLf = """
v=0
o=- 5987943481933903863 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1 2
a=extmap-allow-mixed
a=msid-semantic: WMS c8dab3fe-7c8f-4b8e-a560-316b7cb243e5
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:wC5p
a=ice-pwd:HVp+Y9mEzZjorBzIeXmVpHl8
a=ice-options:trickle
a=fingerprint:sha-256 85:3E:7A:7D:03:45:4C:6A:01:B8:74:7C:E7:5D:9C:0D:53:14:0B:06:9D:90:56:32:F9:0B:6E:C6:A3:AF:CE:B3
a=setup:active
a=mid:0
a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=msid:c8dab3fe-7c8f-4b8e-a560-316b7cb243e5 bd560d3b-194e-4ffc-91b3-756e80276ec5
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=ssrc:876833520 cname:tmZpsxZ8xsLoj+ZP
m=video 9 UDP/TLS/RTP/SAVPF 45 46
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:wC5p
a=ice-pwd:HVp+Y9mEzZjorBzIeXmVpHl8
a=ice-options:trickle
a=fingerprint:sha-256 85:3E:7A:7D:03:45:4C:6A:01:B8:74:7C:E7:5D:9C:0D:53:14:0B:06:9D:90:56:32:F9:0B:6E:C6:A3:AF:CE:B3
a=setup:active
a=mid:1
a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=msid:c8dab3fe-7c8f-4b8e-a560-316b7cb243e5 2b188e1d-b8ff-48b2-869e-120f38e71a6c
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=ssrc-group:FID 2625677970 649333369
a=ssrc:2625677970 cname:tmZpsxZ8xsLoj+ZP
a=ssrc:649333369 cname:tmZpsxZ8xsLoj+ZP
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=ice-ufrag:wC5p
a=ice-pwd:HVp+Y9mEzZjorBzIeXmVpHl8
a=ice-options:trickle
a=fingerprint:sha-256 85:3E:7A:7D:03:45:4C:6A:01:B8:74:7C:E7:5D:9C:0D:53:14:0B:06:9D:90:56:32:F9:0B:6E:C6:A3:AF:CE:B3
a=setup:active
a=mid:2
a=sctp-port:5000
a=max-message-size:262144
""";

    /// <summary>Every capture by name, in the order they were exchanged per client.</summary>
    public static IReadOnlyList<(string Name, string Sdp)> All { get; } =
    [
        (nameof(AConnect), AConnect),
        (nameof(AOffer), AOffer),
        (nameof(AAnswer), AAnswer),
        (nameof(AReOfferBJoined), AReOfferBJoined),
        (nameof(AReAnswerBJoined), AReAnswerBJoined),
        (nameof(AReOfferBLeft), AReOfferBLeft),
        (nameof(AReAnswerBLeft), AReAnswerBLeft),
        (nameof(BOffer), BOffer),
        (nameof(BAnswer), BAnswer),
        (nameof(BReOffer), BReOffer),
        (nameof(BReAnswer), BReAnswer),
        (nameof(ROffer), ROffer),
        (nameof(RAnswer), RAnswer),
        (nameof(RReOfferALeft), RReOfferALeft),
        (nameof(RReAnswerALeft), RReAnswerALeft),
        (nameof(HOffer), HOffer),
        (nameof(HAnswer), HAnswer),
        (nameof(VOffer), VOffer),
        (nameof(VAnswer), VAnswer),
    ];
}
