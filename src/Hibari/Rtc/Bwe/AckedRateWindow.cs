namespace Hibari.Rtc.Bwe;

/// <summary>
/// Receive rate from transport-cc feedback: bytes acknowledged as received whose arrival time lies within the last
/// <see cref="WindowMicros"/> of the newest arrival (libwebrtc's acknowledged-bitrate estimator uses a comparable
/// 0.5–1 s horizon). Arrivals are on the receiver's clock. Fixed ring, no allocation after construction.
/// </summary>
public sealed class AckedRateWindow
{
    public const long WindowMicros = 500_000;
    private readonly long[] _arrivals;
    private readonly int[] _sizes;
    private readonly int _mask;
    private int _head, _count;
    private long _bytes;
    private long _newest = long.MinValue;

    public AckedRateWindow(int capacity = 4096)
    {
        if (capacity < 16 || (capacity & (capacity - 1)) != 0) capacity = 4096;
        _arrivals = new long[capacity];
        _sizes = new int[capacity];
        _mask = capacity - 1;
    }

    public long RateBps { get; private set; }

    public void Add(long arrivalMicros, int sizeBytes)
    {
        if (_count == _arrivals.Length) RemoveHead();
        var slot = (_head + _count) & _mask;
        _arrivals[slot] = arrivalMicros;
        _sizes[slot] = sizeBytes;
        _count++;
        _bytes += sizeBytes;
        if (arrivalMicros > _newest || _newest - arrivalMicros > 10 * WindowMicros) _newest = arrivalMicros;
        while (_count > 0 && (_newest - _arrivals[_head] >= WindowMicros || _arrivals[_head] > _newest)) RemoveHead();
        RateBps = _bytes * 8 * 1_000_000 / WindowMicros;
    }

    private void RemoveHead()
    {
        _bytes -= _sizes[_head];
        _head = (_head + 1) & _mask;
        _count--;
    }
}
