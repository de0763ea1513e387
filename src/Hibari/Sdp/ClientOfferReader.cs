using System.Globalization;

namespace Hibari.Sdp;

/// <summary>A codec as the browser listed it in its own offer.</summary>
public sealed record ClientCodec(MediaKind Kind, string Name, int ClockRate, int? Channels, int PayloadType, IReadOnlyDictionary<string, string> Parameters)
{
    public string? Parameter(string key) => Parameters.TryGetValue(key, out var v) ? v : null;
}

/// <summary>
/// What the browser can do, read from the throw-away offer inside Sora's connect.sdp: its codecs (with H.264
/// profile-level-ids and VP9 profile-ids) and header-extension URIs, per kind. Used to refuse a codec_type the
/// client cannot decode before sending an offer it would fail on.
/// </summary>
public sealed class ClientCapabilities
{
    public IReadOnlyList<ClientCodec> AudioCodecs { get; init; } = [];
    public IReadOnlyList<ClientCodec> VideoCodecs { get; init; } = [];
    public IReadOnlySet<string> AudioExtensions { get; init; } = new HashSet<string>();
    public IReadOnlySet<string> VideoExtensions { get; init; } = new HashSet<string>();

    /// <summary>profile-level-id of every H.264 entry with packetization-mode=1, lower-case, in offer order.</summary>
    public IReadOnlyList<string> H264ProfileLevelIds =>
        VideoCodecs.Where(c => Is(c, "H264") && c.Parameter("packetization-mode") == "1")
            .Select(c => (c.Parameter("profile-level-id") ?? "42001f").ToLowerInvariant()).Distinct().ToList();

    /// <summary>VP9 profile-id of every VP9 entry ("0" when absent, RFC 9628 §6).</summary>
    public IReadOnlyList<string> Vp9ProfileIds =>
        VideoCodecs.Where(c => Is(c, "VP9")).Select(c => c.Parameter("profile-id") ?? "0").Distinct().ToList();

    /// <summary>True when some catalog codec of that Sora codec_type is one the client can do.</summary>
    public bool Supports(string codecType) =>
        CodecCatalog.All.Any(c => c.CodecType == codecType.Trim().ToUpperInvariant() && Supports(c));

    public bool Supports(RtpCodec codec)
    {
        var list = codec.Kind == MediaKind.Audio ? AudioCodecs : VideoCodecs;
        var ours = codec.ParameterMap;
        foreach (var c in list)
        {
            if (!Is(c, codec.Name) || c.ClockRate != codec.ClockRate) continue;
            switch (codec.CodecType)
            {
                case "H264":
                    if ((c.Parameter("packetization-mode") ?? "0") != (ours.GetValueOrDefault("packetization-mode") ?? "0")) continue;
                    if (!SameH264Profile(c.Parameter("profile-level-id") ?? "42001f", ours.GetValueOrDefault("profile-level-id") ?? "42001f")) continue;
                    return true;
                case "VP9":
                    if ((c.Parameter("profile-id") ?? "0") != (ours.GetValueOrDefault("profile-id") ?? "0")) continue;
                    return true;
                case "AV1":
                    if ((c.Parameter("profile") ?? "0") != (ours.GetValueOrDefault("profile") ?? "0")) continue;
                    return true;
                case "H265":
                    if ((c.Parameter("profile-id") ?? "1") != (ours.GetValueOrDefault("profile-id") ?? "1")) continue;
                    return true;
                default:
                    return true;
            }
        }
        return false;
    }

    public bool SupportsExtension(MediaKind kind, string uri) =>
        (kind == MediaKind.Audio ? AudioExtensions : VideoExtensions).Contains(uri);

    private static bool Is(ClientCodec c, string name) => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Same H.264 profile (RFC 6184 §8.1): profile_idc equal, and for Baseline (0x42) the constraint_set1 bit equal,
    /// since Constrained Baseline (42e0..) and Baseline (4200..) are offered as different entries. Level is ignored:
    /// both sides say level-asymmetry-allowed=1.
    /// </summary>
    internal static bool SameH264Profile(string a, string b)
    {
        if (!TryProfile(a, out var idcA, out var iopA) || !TryProfile(b, out var idcB, out var iopB)) return false;
        if (idcA != idcB) return false;
        return idcA != 0x42 || ((iopA & 0x40) != 0) == ((iopB & 0x40) != 0);
    }

    private static bool TryProfile(string s, out int idc, out int iop)
    {
        idc = iop = 0;
        return s.Length == 6 &&
               int.TryParse(s.AsSpan(0, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out idc) &&
               int.TryParse(s.AsSpan(2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out iop);
    }
}

public static class ClientOfferReader
{
    public static SdpResult<ClientCapabilities> Read(string? sdp, SdpLimits? limits = null)
    {
        if (!SdpDocument.TryParse(sdp, limits ?? SdpLimits.Default, out var doc, out var error))
            return SdpResult<ClientCapabilities>.Fail(error);
        var audio = new List<ClientCodec>();
        var video = new List<ClientCodec>();
        var audioExt = new HashSet<string>(StringComparer.Ordinal);
        var videoExt = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in doc.Media)
        {
            if (!SdpEnums.TryKind(m.Kind, out var kind) || kind == MediaKind.Application) continue;
            var codecs = kind == MediaKind.Audio ? audio : video;
            var fmtps = new Dictionary<int, Fmtp>();
            foreach (var f in m.Fmtps()) fmtps.TryAdd(f.PayloadType, f);
            var offered = m.PayloadTypes().ToHashSet();
            foreach (var map in m.RtpMaps())
            {
                if (!offered.Contains(map.PayloadType) || codecs.Exists(c => c.PayloadType == map.PayloadType)) continue;
                var parameters = fmtps.TryGetValue(map.PayloadType, out var f) ? f.Parameters : new Dictionary<string, string>();
                codecs.Add(new ClientCodec(kind, map.EncodingName, map.ClockRate, map.Channels, map.PayloadType, parameters));
            }
            foreach (var e in m.ExtMaps()) (kind == MediaKind.Audio ? audioExt : videoExt).Add(e.Uri);
        }
        return SdpResult<ClientCapabilities>.Ok(new ClientCapabilities
        {
            AudioCodecs = audio, VideoCodecs = video, AudioExtensions = audioExt, VideoExtensions = videoExt,
        });
    }
}
