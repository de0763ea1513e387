namespace Hibari.Sfu;

/// <summary>Header-extension ids of Hibari's offers (one id per URI across the BUNDLE; see Sdp.CodecCatalog).</summary>
internal static class SfuCodecs
{
    public const int MidExtensionId = 1;
    public const int RidExtensionId = 2;
    public const int RepairedRidExtensionId = 3;
    /// <summary>RFC 6464 client-to-mixer audio level of audio m-lines (spotlight, D-37).</summary>
    public const int AudioLevelExtensionId = 5;

    /// <summary>
    /// Extension id map for forwarded packets: MID and RID elements name the publisher's m-line, not the subscriber's,
    /// and Chrome routes by MID, so they are blanked; the others keep their ids (the same in every offer).
    /// </summary>
    /// The transport-wide sequence number (id 6) is the SFU's own per receiver (D-38): a publisher's is dropped.
    public static ReadOnlySpan<byte> ForwardedExtensionMap => [0, 0, 0, 0, 4, 5, 0, 7, 8, 9, 10, 11, 12, 13, 14, 15];
}
