namespace Hibari.Rtc.Srtp;

/// <summary>
/// Packet index estimation from the 16-bit sequence number (RFC 3711 §3.3.1, Appendix A): the guess v for the ROC is
/// ROC−1, ROC or ROC+1, whichever puts SEQ closest to s_l, the highest sequence number seen so far.
/// </summary>
internal static class RolloverCounter
{
    /// <summary>The 48-bit index for <paramref name="seq"/>, or −1 when it would precede the stream's first ROC 0.</summary>
    public static long EstimateIndex(bool started, ulong highest, ushort seq)
    {
        if (!started) return seq; // the first packet carries ROC 0 (RFC 3711 §3.3.1)
        var roc = (long)(highest >> 16);
        var sl = (int)(highest & 0xFFFF);
        long v;
        if (sl < 32768) v = seq - sl > 32768 ? roc - 1 : roc;
        else v = sl - 32768 > seq ? roc + 1 : roc;
        if (v < 0 || v > uint.MaxValue) return -1;
        return (v << 16) | seq;
    }
}
