using Hibari.Recording;

namespace Hibari.Tests.Recording;

/// <summary>RTP → archive time (docs/decisions.md D-58, "Timestamps"): arrival before reports, NTP-synchronised after.</summary>
public sealed class RecordingTimelineTests
{
    private static ulong Ntp(long micros) => ((ulong)(micros / 1_000_000) << 32) | (ulong)(((micros % 1_000_000) << 32) / 1_000_000);

    [Fact]
    public void Before_any_report_frames_follow_their_rtp_distance_from_the_first_arrival_not_their_jitter()
    {
        var track = new RecordingTimeline().NewTrack(90_000);
        Assert.Equal(1_000_000, track.Place(10_000, 1_000_000));
        // 33 ms later by RTP, arriving 50 ms late: placed by RTP.
        Assert.Equal(1_033_333, track.Place(10_000 + 3000, 1_083_000));
        Assert.Equal(1_066_666, track.Place(10_000 + 6000, 1_066_000));
    }

    [Fact]
    public void Rtp_timestamps_unwrap_across_the_32_bit_boundary()
    {
        var track = new RecordingTimeline().NewTrack(48_000);
        var start = uint.MaxValue - 479; // 10 ms before the wrap
        Assert.Equal(0, track.Place(start, 0));
        Assert.Equal(20_000, track.Place(start + 960, 5_000)); // wrapped
        Assert.Equal(40_000, track.Place(start + 1920, 10_000));
    }

    [Fact]
    public void Times_never_go_backwards_on_a_track()
    {
        var track = new RecordingTimeline().NewTrack(90_000);
        var a = track.Place(90_000, 1_000_000);
        var b = track.Place(90_000 - 9000, 1_010_000); // an older frame (reordered): not earlier than the last
        Assert.Equal(a, b);
    }

    [Fact]
    public void Audio_and_video_are_placed_by_the_senders_ntp_clock_once_both_have_reports()
    {
        // The sender captures audio and video together at NTP time T; video arrives 80 ms later than audio (a slower
        // path), and the two RTP clocks start at unrelated values.
        var timeline = new RecordingTimeline();
        var audio = timeline.NewTrack(48_000);
        var video = timeline.NewTrack(90_000);
        const long senderNtp = 3_900_000_000_000_000; // µs, the sender's clock
        const uint audioRtp0 = 1_000, videoRtp0 = 2_000_000_000;
        audio.OnSenderReport(Ntp(senderNtp), audioRtp0);
        video.OnSenderReport(Ntp(senderNtp), videoRtp0);
        // 1 s after T, both capture a frame; audio arrives at local 5_000_000 (+10 ms path), video at 5_080_000.
        var a = audio.Place(audioRtp0 + 48_000, 5_000_000);
        var v = video.Place(videoRtp0 + 90_000, 5_080_000);
        Assert.Equal(a, v);                       // captured together, placed together
        Assert.Equal(5_000_000, a);               // the offset is fixed by the first frame mapped
        Assert.Equal(timeline.NtpOffsetMicros, 5_000_000 - (senderNtp + 1_000_000));
        // Half a second later by the sender's clock, whatever the arrival.
        Assert.Equal(a + 500_000, video.Place(videoRtp0 + 135_000, 5_700_000));
    }

    [Fact]
    public void A_report_that_comes_after_the_first_frames_maps_the_following_ones()
    {
        var timeline = new RecordingTimeline();
        var video = timeline.NewTrack(90_000);
        Assert.Equal(100, video.Place(50, 100));
        Assert.False(video.HasSenderReport);
        video.OnSenderReport(Ntp(10_000_000), 50 + 9000); // 100 ms after the first frame by RTP
        Assert.True(video.HasSenderReport);
        var t = video.Place(50 + 18_000, 200_000);        // 200 ms after the first frame by RTP
        Assert.Equal(200_000, t);                         // the offset is fixed here (first mapped frame)
        Assert.Equal(300_000, video.Place(50 + 27_000, 260_000));
    }

    [Fact]
    public void Ntp_time_converts_to_microseconds()
    {
        Assert.Equal(1_500_000, RecordingTimeline.NtpToMicros(Ntp(1_500_000)));
        Assert.InRange(RecordingTimeline.NtpToMicros(Ntp(3_900_000_123_456)), 3_900_000_123_455, 3_900_000_123_457);
    }
}
