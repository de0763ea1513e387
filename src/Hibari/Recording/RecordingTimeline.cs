namespace Hibari.Recording;

/// <summary>
/// The clock that places one connection's frames on its archive's timeline (docs/decisions.md D-58, "Timestamps").
/// Every track of the connection (audio, video, each simulcast layer) gets a <see cref="Track"/>; all share the
/// connection's offset between the sender's NTP clock and this node's clock, so audio and video stay in sync as the
/// sender's reports say they belong together, whatever their network delays.
/// <list type="bullet">
/// <item>Before a track's first sender report its frames are placed by arrival: the first frame at its arrival time,
/// later ones by their RTP timestamp distance from it (so jitter does not move them).</item>
/// <item>Once the track has a sender report a frame's time is the NTP time its RTP timestamp maps to, plus the
/// connection's offset: fixed the first time any track of the connection is mapped (arrival − NTP time of that
/// frame), so both tracks use the same one and their NTP relation is kept exactly.</item>
/// <item>A track's times never go backwards: a frame that would is placed at the track's last time.</item>
/// </list>
/// Times are microseconds on the node's media clock. Owned by the archive's writer.
/// </summary>
internal sealed class RecordingTimeline
{
    private long? _ntpToLocalMicros;

    /// <summary>The offset fixed when the first track was mapped through a sender report (null before that).</summary>
    public long? NtpOffsetMicros => _ntpToLocalMicros;

    public Track NewTrack(int clockRate) => new(this, clockRate);

    /// <summary>One RTP stream's mapping (one SSRC: its timestamps are continuous).</summary>
    internal sealed class Track
    {
        private readonly RecordingTimeline _timeline;
        private readonly int _clockRate;
        private bool _started;
        private uint _lastRtp;
        private long _extended;          // the last RTP timestamp, unwrapped
        private long _anchorExtended;    // the first frame (arrival-placed)
        private long _anchorMicros;
        private bool _hasReport;
        private long _reportExtended;    // the report's RTP timestamp, unwrapped in the same sequence
        private long _reportNtpMicros;
        private long _lastMicros = long.MinValue;

        public Track(RecordingTimeline timeline, int clockRate)
        {
            _timeline = timeline;
            _clockRate = clockRate > 0 ? clockRate : 90_000;
        }

        public bool HasSenderReport => _hasReport;

        /// <summary>The sender's report: its NTP time (64-bit NTP format) is that of RTP timestamp <paramref name="rtp"/>.</summary>
        public void OnSenderReport(ulong ntp, uint rtp)
        {
            if (!_started)
            {
                // Unwrap against the report itself; the first frame continues from here.
                _started = true;
                _lastRtp = rtp;
                _extended = rtp;
                _anchorExtended = rtp;
                _anchorMicros = long.MinValue; // placed by the first frame
            }
            _reportExtended = Unwrap(rtp, advance: false);
            _reportNtpMicros = NtpToMicros(ntp);
            _hasReport = true;
        }

        /// <summary>Where a frame with RTP timestamp <paramref name="rtp"/> that completed at <paramref name="arrivalMicros"/> goes (µs).</summary>
        public long Place(uint rtp, long arrivalMicros)
        {
            if (!_started)
            {
                _started = true;
                _lastRtp = rtp;
                _extended = rtp;
                _anchorExtended = rtp;
                _anchorMicros = arrivalMicros;
            }
            var ext = Unwrap(rtp, advance: true);
            if (_anchorMicros == long.MinValue)
            {
                _anchorExtended = ext;
                _anchorMicros = arrivalMicros;
            }
            long at;
            if (_hasReport)
            {
                var ntpMicros = _reportNtpMicros + TicksToMicros(ext - _reportExtended);
                _timeline._ntpToLocalMicros ??= arrivalMicros - ntpMicros;
                at = ntpMicros + _timeline._ntpToLocalMicros.Value;
            }
            else at = _anchorMicros + TicksToMicros(ext - _anchorExtended);
            if (at < _lastMicros) at = _lastMicros;
            _lastMicros = at;
            return at;
        }

        private long Unwrap(uint rtp, bool advance)
        {
            var ext = _extended + (int)(rtp - _lastRtp);
            if (advance && ext > _extended)
            {
                _extended = ext;
                _lastRtp = rtp;
            }
            return ext;
        }

        private long TicksToMicros(long ticks) => ticks * 1_000_000 / _clockRate;
    }

    /// <summary>64-bit NTP time (seconds since 1900 . fraction) in microseconds (of the same epoch).</summary>
    public static long NtpToMicros(ulong ntp) => (long)(ntp >> 32) * 1_000_000 + (long)(((ntp & 0xFFFF_FFFF) * 1_000_000) >> 32);
}
