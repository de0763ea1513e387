namespace Hibari.Cluster.Relay;

/// <summary>
/// Versions and negotiation of the relay (docs/relay-frames.md). Each side of a node link sends a
/// <see cref="RelayHello"/> first; the link then speaks <see cref="Negotiate"/>'s version and the features both offer.
/// </summary>
public static class RelayProtocol
{
    /// <summary>Lowest frame version this build speaks.</summary>
    public const byte MinVersion = 1;
    /// <summary>Highest frame version this build speaks (and writes by default).</summary>
    public const byte MaxVersion = 1;
    /// <summary>The header version byte of every Hello, in every build: the Hello's layout is frozen.</summary>
    public const byte HelloVersion = 1;
    /// <summary>Largest frame accepted or written: a 256 KiB message plus headers; larger frames are refused.</summary>
    public const int MaxFrameBytes = 300 * 1024;
    /// <summary>The capability bits this build knows (others are carried, never acted on).</summary>
    public const RelayCapabilities KnownCapabilities = RelayCapabilities.Media | RelayCapabilities.Messages | RelayCapabilities.Signaling
        | RelayCapabilities.SenderReports | RelayCapabilities.UdpMedia | RelayCapabilities.SimulcastLayers
        | RelayCapabilities.Spotlight;

    /// <summary>This build's Hello: its version range, the given features, <see cref="RelayFrame.SentAtMicros"/> = now.</summary>
    public static RelayHello LocalHello(string nodeName, RelayCapabilities caps) =>
        new(MinVersion, MaxVersion, caps, nodeName) { SentAtMicros = NowMicros() };

    /// <summary>The highest version both Hellos speak, or null when their ranges do not meet (the link is not used).</summary>
    public static byte? Negotiate(RelayHello local, RelayHello remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        if (local.MinVersion == 0 || remote.MinVersion == 0) return null;
        var high = Math.Min(local.MaxVersion, remote.MaxVersion);
        var low = Math.Max(local.MinVersion, remote.MinVersion);
        return high >= low ? high : null;
    }

    /// <summary>
    /// The features a link uses: those both Hellos offer that this build knows. Unknown bits are ignored.
    /// </summary>
    public static RelayCapabilities Shared(RelayHello local, RelayHello remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        return local.Capabilities & remote.Capabilities & KnownCapabilities;
    }

    /// <summary>True when this build can read and write frames of <paramref name="version"/>.</summary>
    public static bool Speaks(byte version) => version is >= MinVersion and <= MaxVersion;

    /// <summary>The current Unix time in microseconds (the clock of <see cref="RelayFrame.SentAtMicros"/>).</summary>
    public static long NowMicros() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
}

/// <summary>The refusal reasons of <see cref="RelayFrames"/>' readers (constant strings: reading never allocates them).</summary>
public static class RelayFrameErrors
{
    public const string Oversize = "frame larger than MaxFrameBytes";
    public const string Truncated = "truncated frame";
    public const string UnsupportedVersion = "unsupported frame version";
    public const string UnknownType = "unknown frame type";
    public const string TrailingBytes = "trailing bytes after the frame";
    public const string OutOfBounds = "length out of bounds";
    public const string InvalidUtf8 = "invalid UTF-8";
    public const string InvalidValue = "invalid field value";
    public const string InvalidJson = "invalid metadata JSON";
    public const string NotRtp = "not an RTP frame";
    public const string IsRtp = "RTP frames are read with TryReadRtp";
    public const string InvalidRtp = "not an RTP packet";
}
