using System.Security.Cryptography;

namespace Hibari.Sfu;

/// <summary>Random identifiers of the media plane: ICE credentials and SSRCs.</summary>
internal static class SfuIds
{
    private const string IceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>An ICE ufrag/password token (RFC 8839 ice-char), from a cryptographic RNG: the password authenticates STUN.</summary>
    public static string IceToken(int length) => RandomNumberGenerator.GetString(IceChars, length);

    /// <summary>A random non-zero SSRC.</summary>
    public static uint Ssrc()
    {
        uint v;
        do v = (uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue); while (v == 0);
        return v;
    }
}
