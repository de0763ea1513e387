using System.Text;
using Hibari.Sdp;

namespace Hibari.Load;

/// <summary>What a synthetic client sends in one m-line of its answer.</summary>
internal sealed record AnsweredLine(string Mid, string Kind, bool Sending, uint Ssrc);

/// <summary>
/// Builds the answer a browser would give to a Sora-style offer (the server always offers): every m-line answered
/// in order with the same mid, the directions mirrored, the offered formats, extmaps and feedback kept, DTLS client
/// (`a=setup:active`), and our SSRC on the lines we send on.
/// </summary>
internal static class AnswerBuilder
{
    public static (string Sdp, List<AnsweredLine> Lines) Build(SdpDocument offer, string ufrag, string pwd, string fingerprint,
        Func<string, bool> sendKind, Func<string, uint> ssrcFor, IReadOnlyList<string>? sendRids = null)
    {
        var lines = new List<AnsweredLine>();
        var sb = new StringBuilder();
        sb.Append("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
        var bundle = new List<string>();
        foreach (var m in offer.Media)
            if (m.Port != 0 && m.Get("mid") is { } mid) bundle.Add(mid);
        if (bundle.Count > 0) sb.Append("a=group:BUNDLE ").Append(string.Join(' ', bundle)).Append("\r\n");
        sb.Append("a=msid-semantic: WMS load\r\n");
        foreach (var m in offer.Media)
        {
            var mid = m.Get("mid") ?? "";
            sb.Append("m=").Append(m.Kind).Append(' ').Append(m.Port == 0 ? 0 : 9).Append(' ').Append(m.Proto).Append(' ')
                .Append(string.Join(' ', m.Formats)).Append("\r\n");
            sb.Append("c=IN IP4 0.0.0.0\r\n");
            sb.Append("a=ice-ufrag:").Append(ufrag).Append("\r\na=ice-pwd:").Append(pwd).Append("\r\n");
            sb.Append("a=fingerprint:sha-256 ").Append(fingerprint).Append("\r\na=setup:active\r\n");
            sb.Append("a=mid:").Append(mid).Append("\r\n");
            if (m.Kind == "application")
            {
                foreach (var name in new[] { "sctp-port", "max-message-size" })
                    if (m.Get(name) is { } v) sb.Append("a=").Append(name).Append(':').Append(v).Append("\r\n");
                lines.Add(new AnsweredLine(mid, m.Kind, false, 0));
                continue;
            }
            var offered = m.Has("sendonly") ? "sendonly" : m.Has("recvonly") ? "recvonly" : m.Has("inactive") ? "inactive" : "sendrecv";
            var sending = m.Port != 0 && offered is "recvonly" or "sendrecv" && sendKind(m.Kind);
            var receiving = m.Port != 0 && offered is "sendonly" or "sendrecv";
            var direction = (sending, receiving) switch
            {
                (true, true) => "sendrecv", (true, false) => "sendonly", (false, true) => "recvonly", _ => "inactive",
            };
            sb.Append("a=").Append(direction).Append("\r\n");
            foreach (var a in m.Attributes)
                if (a.Name is "rtpmap" or "fmtp" or "rtcp-fb" or "extmap")
                    sb.Append("a=").Append(a.Name).Append(':').Append(a.Value).Append("\r\n");
            sb.Append("a=rtcp-mux\r\na=rtcp-rsize\r\n");
            var ssrc = sending ? ssrcFor(mid) : 0;
            // Simulcast (as Chrome answers `a=simulcast:recv`): the offered rids mirrored as send, no a=ssrc — the SFU
            // learns each layer's SSRC from the RID header extension.
            var rids = sending && m.Kind == "video" && sendRids is { Count: > 0 }
                ? m.All("rid").Select(a => a.Value?.Split(' ')[0]).Where(r => r is not null && sendRids.Contains(r)).Cast<string>().ToList()
                : [];
            if (rids.Count > 0)
            {
                foreach (var rid in rids) sb.Append("a=rid:").Append(rid).Append(" send\r\n");
                sb.Append("a=simulcast:send ").Append(string.Join(';', rids)).Append("\r\n");
                sb.Append("a=msid:load load-").Append(m.Kind).Append("\r\n");
            }
            else if (sending)
            {
                sb.Append("a=msid:load load-").Append(m.Kind).Append("\r\n");
                sb.Append("a=ssrc:").Append(ssrc).Append(" cname:hibari-load\r\n");
            }
            lines.Add(new AnsweredLine(mid, m.Kind, sending, ssrc));
        }
        return (sb.ToString(), lines);
    }
}
