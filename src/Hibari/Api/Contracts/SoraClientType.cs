namespace Hibari.Api.Contracts;

/// <summary>
/// The client-software buckets of GetStatsReport's `sora_client` (the keys sora_exporter reads, docs/decisions.md D-51),
/// decided from the `sora_client` string a client sends in `connect` ("Sora JavaScript SDK 2025.2.0", …).
/// </summary>
public static class SoraClientType
{
    /// <summary>Every bucket, in the order of <see cref="Of"/>'s indices; the last is `unknown`.</summary>
    public static readonly string[] Keys =
    [
        "sora_android_sdk", "sora_c_sdk", "sora_cpp_sdk", "sora_flutter_sdk", "sora_ios_sdk", "sora_js_sdk", "sora_python_sdk",
        "sora_unity_sdk", "obs_studio_whip", "obs_studio_whep", "webrtc_load_testing_tool_zakuro", "webrtc_native_client_momo", "unknown",
    ];

    // Prefixes of the `sora_client` strings, matched in this order ("Sora C++ SDK" before "Sora C SDK").
    private static readonly (string Prefix, int Index)[] Prefixes =
    [
        ("Sora Android SDK", 0), ("Sora C++ SDK", 2), ("Sora C SDK", 1), ("Sora Flutter SDK", 3), ("Sora iOS SDK", 4),
        ("Sora JavaScript SDK", 5), ("Sora Python SDK", 6), ("Sora Unity SDK", 7),
        ("WebRTC Load Testing Tool Zakuro", 10), ("WebRTC Native Client Momo", 11),
    ];

    /// <summary>The bucket index of <paramref name="soraClient"/> (`unknown` for null or anything else). OBS's WHIP/WHEP never use signaling.</summary>
    public static int Of(string? soraClient)
    {
        if (soraClient is null) return Keys.Length - 1;
        var s = soraClient.TrimStart();
        foreach (var (prefix, index) in Prefixes)
            if (s.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return index;
        return Keys.Length - 1;
    }
}
