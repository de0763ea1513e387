using System.Text.Json;

namespace Hibari.Signaling.Messages;

/// <summary>
/// A client message after `connect` (docs/protocol-notes.md, "Message types", "Other messages and re-offers"), from the WebSocket or DC:signaling / DC:stats.
/// Unknown or server-only types parse to <see cref="Ignored"/>, which the caller drops (as the SDKs do).
/// </summary>
public abstract record ClientMessage
{
    private ClientMessage() { }

    /// <summary>`{"type":"answer","sdp"}`.</summary>
    public sealed record Answer(string Sdp) : ClientMessage;

    /// <summary>`{"type":"re-answer","sdp"}`; also the legacy `update` (<see cref="Legacy"/> = true), answered the same way.</summary>
    public sealed record ReAnswer(string Sdp, bool Legacy = false) : ClientMessage;

    /// <summary>
    /// Trickled client candidate in either encoding (Appendix D): native `{"candidate":"candidate:..."}` or the JS
    /// `RTCIceCandidate.toJSON()` form with sdpMid / sdpMLineIndex / usernameFragment. A leading `a=` is removed;
    /// an empty <see cref="Line"/> means end of candidates.
    /// </summary>
    public sealed record Candidate(string Line, string? SdpMid = null, int? SdpMLineIndex = null, string? UsernameFragment = null) : ClientMessage;

    /// <summary>`{"type":"pong"}`, with `stats` (raw RTCStats array) when the ping asked for it.</summary>
    public sealed record Pong(JsonElement? Stats = null) : ClientMessage;

    /// <summary>`{"type":"stats","reports":[...]}` on DC:stats.</summary>
    public sealed record StatsReport(JsonElement? Reports = null) : ClientMessage;

    /// <summary>`{"type":"disconnect","reason"?}`; reason e.g. "NO-ERROR" or an SDK abend title.</summary>
    public sealed record Disconnect(string? Reason = null) : ClientMessage;

    /// <summary>A `type` the server does not act on (unknown, or a server→client type sent back).</summary>
    public sealed record Ignored(string Type) : ClientMessage;

    /// <summary>
    /// Parses one message. False (with the close to send) only when the bytes are not a JSON object with a string
    /// `type`, or a known type lacks its required member (`sdp` → INVALID-ANSWER; `candidate` → INVALID-SIGNALING-MESSAGE).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out ClientMessage message, out SignalingClose error)
    {
        message = null!;
        if (!SignalingJson.TryParseObject(utf8, out var doc, out var type, out error)) return false;
        using (doc)
        {
            var m = doc.RootElement;
            switch (type)
            {
                case "answer":
                    if (!TryGetSdp(m, out var sdp)) return Fail(SignalingCloses.InvalidAnswer, out error);
                    message = new Answer(sdp);
                    break;
                case "re-answer":
                case "update":
                    if (!TryGetSdp(m, out sdp)) return Fail(SignalingCloses.InvalidAnswer, out error);
                    message = new ReAnswer(sdp, type == "update");
                    break;
                case "candidate":
                    if (!TryReadCandidate(m, out var candidate)) return Fail(SignalingCloses.InvalidMessage, out error);
                    message = candidate;
                    break;
                case "pong":
                    message = new Pong(RawOrNull(m, "stats"));
                    break;
                case "stats":
                    message = new StatsReport(RawOrNull(m, "reports"));
                    break;
                case "disconnect":
                    // A reason of another kind is dropped rather than failing the goodbye.
                    message = new Disconnect(SignalingJson.TryGetOptionalString(m, "reason", out var reason) ? reason : null);
                    break;
                default:
                    message = new Ignored(type);
                    break;
            }
        }
        error = default;
        return true;
    }

    private static bool TryGetSdp(JsonElement m, out string sdp)
    {
        sdp = "";
        return m.TryGetProperty("sdp", out var e) && SignalingJson.TryGetString(e, out sdp) && sdp.Length > 0;
    }

    private static bool TryReadCandidate(JsonElement m, out Candidate candidate)
    {
        candidate = null!;
        if (!m.TryGetProperty("candidate", out var c) || !SignalingJson.TryGetString(c, out var line)) return false;
        if (line.StartsWith("a=", StringComparison.Ordinal)) line = line[2..];
        var mid = SignalingJson.TryGetOptionalString(m, "sdpMid", out var s1) ? s1 : null;
        var ufrag = SignalingJson.TryGetOptionalString(m, "usernameFragment", out var s2) ? s2 : null;
        int? index = m.TryGetProperty("sdpMLineIndex", out var i) && i.ValueKind == JsonValueKind.Number
            && i.TryGetInt32(out var n) && n >= 0 ? n : null;
        candidate = new Candidate(line, mid, index, ufrag);
        return true;
    }

    private static JsonElement? RawOrNull(JsonElement m, string name) =>
        m.TryGetProperty(name, out var e) && e.ValueKind != JsonValueKind.Null ? e.Clone() : null;

    private static bool Fail(SignalingClose close, out SignalingClose error)
    {
        error = close;
        return false;
    }
}
