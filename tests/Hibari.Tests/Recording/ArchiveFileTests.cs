using System.Text.Json;
using Hibari.Recording;
using Hibari.Recording.Webm;
using Hibari.Tests.Recording.Webm;
using Xunit.Abstractions;

namespace Hibari.Tests.Recording;

/// <summary>
/// One archive file as the recording writes it (docs/decisions.md D-58): a resolution change inside the stream, and
/// frames the timeline puts at the same millisecond, read back by ffprobe and decoded by ffmpeg.
/// </summary>
public sealed class ArchiveFileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hibari-archive-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private byte[] EncodeVp8(string size, string name)
    {
        var path = Path.Combine(_dir, name);
        var (code, _, stderr) = FfmpegTools.Run("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", $"testsrc=size={size}:rate=30", "-t", "1",
            "-pix_fmt", "yuv420p", "-c:v", "libvpx", "-g", "15", "-f", "ivf", path);
        Assert.True(code == 0, $"ffmpeg: {stderr}");
        return File.ReadAllBytes(path);
    }

    /// <summary>VP8 key frame header: 14-bit width and height after the 3-byte tag and the start code.</summary>
    private static (int W, int H) Vp8Size(byte[] frame) =>
        MediaSamples.IsVp8Key(frame) ? (frame[6] | (frame[7] & 0x3F) << 8, frame[8] | (frame[9] & 0x3F) << 8) : (0, 0);

    private JsonElement Probe(string file, string entries)
    {
        var (code, stdout, stderr) = FfmpegTools.Run("ffprobe", "-v", "error", "-count_frames", "-show_entries", entries, "-of", "json", file);
        Assert.True(code == 0, $"ffprobe: {stderr}");
        return JsonDocument.Parse(stdout).RootElement;
    }

    [Fact]
    public void A_resolution_change_mid_stream_plays_through_and_the_header_shows_the_largest_picture()
    {
        if (!FfmpegTools.Available(output)) return;
        var small = MediaSamples.ReadIvf(EncodeVp8("320x240", "small.ivf"), MediaSamples.IsVp8Key);
        var large = MediaSamples.ReadIvf(EncodeVp8("640x480", "large.ivf"), MediaSamples.IsVp8Key);
        var file = new ArchiveFile(_dir, "archive-x.webm", startMicros: 5_000_000, new WebmVideoTrack("V_VP8", 320, 240), null);
        // The sender switches from 320x240 to 640x480 after a second (a key frame of the new size), as Chrome does when
        // its bandwidth grows; times are on the media clock, the file's time 0 is its start.
        foreach (var f in small) { var (w, h) = Vp8Size(f.Data); file.WriteVideo(5_000_000 + f.TimeMs * 1000, f.Key, f.Data, w, h); }
        foreach (var f in large) { var (w, h) = Vp8Size(f.Data); file.WriteVideo(6_000_000 + f.TimeMs * 1000, f.Key, f.Data, w, h); }
        file.Finish();
        Assert.Equal((640, 480), (file.Width, file.Height));
        var probe = Probe(file.FilePath, "format=duration:stream=width,height,nb_read_frames");
        var stream = probe.GetProperty("streams")[0];
        Assert.Equal((640, 480), (stream.GetProperty("width").GetInt32(), stream.GetProperty("height").GetInt32()));
        Assert.Equal((small.Count + large.Count).ToString(), stream.GetProperty("nb_read_frames").GetString());
        Assert.InRange(double.Parse(probe.GetProperty("format").GetProperty("duration").GetString()!, System.Globalization.CultureInfo.InvariantCulture), 1.9, 2.1);
        var (code, _, stderr) = FfmpegTools.Run("ffmpeg", "-v", "error", "-nostdin", "-i", file.FilePath, "-fps_mode", "vfr", "-f", "null", "-");
        Assert.True(code == 0 && stderr.Trim().Length == 0, $"ffmpeg decode: {stderr}");
    }

    [Fact]
    public void Frames_placed_at_the_same_millisecond_get_strictly_increasing_times_in_the_file()
    {
        if (!FfmpegTools.Available(output)) return;
        var frames = MediaSamples.ReadIvf(EncodeVp8("320x240", "same.ivf"), MediaSamples.IsVp8Key);
        var file = new ArchiveFile(_dir, "archive-y.webm", startMicros: 0, new WebmVideoTrack("V_VP8", 320, 240), null);
        // Pairs of frames 300 µs apart (within one ms), and one that the timeline held back (earlier than the last).
        for (var i = 0; i < frames.Count; i++)
        {
            var at = (i / 2) * 66_000 + (i % 2) * 300 - (i == 9 ? 100_000 : 0);
            file.WriteVideo(Math.Max(0, at), frames[i].Key, frames[i].Data, 320, 240);
        }
        file.Finish();
        var packets = Probe(file.FilePath, "packet=pts").GetProperty("packets").EnumerateArray().Select(p => p.GetProperty("pts").GetInt64()).ToList();
        Assert.Equal(frames.Count, packets.Count);
        for (var i = 1; i < packets.Count; i++) Assert.True(packets[i] > packets[i - 1], $"pts {packets[i - 1]} then {packets[i]}");
        // Decoded as the e2e scenarios decode archives: frames 1 ms apart are fine in ms ticks.
        var (code, _, stderr) = FfmpegTools.Run("ffmpeg", "-v", "error", "-nostdin", "-i", file.FilePath, "-fps_mode", "vfr", "-f", "null", "-");
        Assert.True(code == 0 && stderr.Trim().Length == 0, $"ffmpeg decode: {stderr}");
    }
}
