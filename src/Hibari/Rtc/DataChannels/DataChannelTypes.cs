namespace Hibari.Rtc.DataChannels;

/// <summary>SCTP payload protocol identifiers of WebRTC data channels (RFC 8831 §8, RFC 8832 §8).</summary>
public static class DataChannelPpid
{
    public const uint Dcep = 50, String = 51, Binary = 53, StringEmpty = 56, BinaryEmpty = 57;
    /// <summary>Deprecated partial-message PPIDs (RFC 8831 §6.6); refused on receive.</summary>
    public const uint BinaryPartialDeprecated = 52, StringPartialDeprecated = 54;
}

public enum DataChannelState { Connecting, Open, Closing, Closed }

/// <summary>What a channel is opened with; mapped to a DCEP channel type (RFC 8832 §5.1) and per-message SCTP options.</summary>
public sealed record DataChannelOptions
{
    public bool Ordered { get; init; } = true;
    /// <summary>PR-SCTP limited retransmissions (channel type 0x01/0x81).</summary>
    public int? MaxRetransmits { get; init; }
    /// <summary>PR-SCTP timed reliability in milliseconds (channel type 0x02/0x82). Setting both is an <see cref="ArgumentException"/> at <see cref="DataChannelEndpoint.Open"/>.</summary>
    public int? MaxPacketLifeTimeMs { get; init; }
    public string Protocol { get; init; } = "";
    public ushort Priority { get; init; } = 256;

    /// <summary>Throws <see cref="ArgumentException"/> for both PR limits set or a negative limit.</summary>
    public void Validate()
    {
        if (MaxRetransmits is not null && MaxPacketLifeTimeMs is not null)
            throw new ArgumentException("MaxRetransmits and MaxPacketLifeTimeMs are mutually exclusive");
        if (MaxRetransmits is < 0) throw new ArgumentOutOfRangeException(nameof(MaxRetransmits), MaxRetransmits, "must not be negative");
        if (MaxPacketLifeTimeMs is < 0) throw new ArgumentOutOfRangeException(nameof(MaxPacketLifeTimeMs), MaxPacketLifeTimeMs, "must not be negative");
        ArgumentNullException.ThrowIfNull(Protocol);
    }
}

/// <summary>One received user message; <see cref="Binary"/> comes from the PPID (53/57 binary, 51/56 text).</summary>
public readonly record struct DataChannelMessage(byte[] Data, bool Binary)
{
    /// <summary>The data as UTF-8 text (for text messages).</summary>
    public string Text => System.Text.Encoding.UTF8.GetString(Data);
}
