namespace Hibari.Rtc.Srtp;

/// <summary>
/// Sliding replay window of 64 indices behind the highest authenticated one (RFC 3711 §3.3.2). Check before the
/// tag is verified (cheap rejection), Accept only after it verified, so forged packets never move the window.
/// </summary>
internal struct ReplayWindow
{
    public const int Size = 64;

    private ulong _highest;
    private ulong _bitmap; // bit i: index _highest - i has been received
    private bool _started;

    public readonly bool Started => _started;
    public readonly ulong Highest => _highest;

    public readonly SrtpResult Check(ulong index)
    {
        if (!_started || index > _highest) return SrtpResult.Ok;
        var behind = _highest - index;
        if (behind >= Size) return SrtpResult.TooOld;
        return (_bitmap & (1UL << (int)behind)) != 0 ? SrtpResult.Replayed : SrtpResult.Ok;
    }

    public void Accept(ulong index)
    {
        if (!_started)
        {
            _started = true;
            _highest = index;
            _bitmap = 1;
            return;
        }
        if (index > _highest)
        {
            var ahead = index - _highest;
            _bitmap = ahead >= Size ? 1UL : (_bitmap << (int)ahead) | 1UL;
            _highest = index;
        }
        else
        {
            _bitmap |= 1UL << (int)(_highest - index);
        }
    }
}
