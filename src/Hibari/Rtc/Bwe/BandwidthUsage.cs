namespace Hibari.Rtc.Bwe;

/// <summary>
/// State of the delay-based over-use detector (draft-ietf-rmcat-gcc-02 §5.4): whether the one-way queuing delay
/// trend says the bottleneck queue is growing (over-use), draining (under-use) or steady.
/// </summary>
public enum BandwidthUsage
{
    Normal = 0,
    Overusing,
    Underusing,
}
