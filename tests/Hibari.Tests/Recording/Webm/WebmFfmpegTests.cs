using System.Globalization;
using System.Text.Json;
using Hibari.Recording.Webm;
using Xunit.Abstractions;

namespace Hibari.Tests.Recording.Webm;

/// <summary>
/// Files from <see cref="WebmWriter"/> read by ffprobe and decoded by ffmpeg without a word on stderr: the container is
/// what players expect. Video comes from ffmpeg's own encoders (two seconds of the test pattern), cut into frames the
/// way the recording engine hands them over. Runs only where ffmpeg is installed (see
/// <see cref="MediaSamples.FfmpegAvailable"/>).
/// </summary>
public sealed class WebmFfmpegTests : IDisposable
{
    /// <summary>A 20 ms Opus packet of silence (CELT fullband, mono, one frame) as WebRTC senders emit it.</summary>
    internal static readonly byte[] OpusSilence = [0xF8, 0xFF, 0xFE];

    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "hibari-webm-" + Guid.NewGuid().ToString("N"));

    public WebmFfmpegTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Probe(List<string> Codecs, double Duration, int Width, int Height);

    private Probe RunProbe(string path)
    {
        var (code, stdout, stderr) = MediaSamples.Run("ffprobe", "-v", "warning", "-show_entries",
            "format=duration:stream=codec_name,width,height", "-of", "json", path);
        _output.WriteLine(stdout);
        Assert.True(code == 0 && stderr.Length == 0, $"ffprobe: exit {code}, {stderr}");
        using var json = JsonDocument.Parse(stdout);
        var codecs = new List<string>();
        int width = 0, height = 0;
        foreach (var stream in json.RootElement.GetProperty("streams").EnumerateArray())
        {
            codecs.Add(stream.GetProperty("codec_name").GetString()!);
            if (stream.TryGetProperty("width", out var w)) width = w.GetInt32();
            if (stream.TryGetProperty("height", out var h)) height = h.GetInt32();
        }
        var duration = double.Parse(json.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);
        return new Probe(codecs, duration, width, height);
    }

    /// <summary>Decodes every stream to nothing; the container and the frames must produce no error or warning.</summary>
    private void AssertDecodesCleanly(string path, params string[] before)
    {
        string[] args = ["-v", "warning", .. before, "-i", path, "-f", "null", "-"];
        var (code, _, stderr) = MediaSamples.Run("ffmpeg", args);
        Assert.True(code == 0 && stderr.Length == 0, $"ffmpeg {string.Join(' ', args)}: exit {code}, {stderr}");
    }

    private string WriteFile(string name, WebmVideoTrack? video, WebmAudioTrack? audio, IReadOnlyList<SampleFrame> frames, long audioUntilMs,
        (int Width, int Height)? sizeAfterFirstFrame = null)
    {
        var path = Path.Combine(_dir, name);
        using var writer = new WebmWriter(File.Create(path), video, audio, "Hibari test");
        var next = 0;
        for (long t = 0; audio is not null ? t < audioUntilMs : next < frames.Count; t += 20)
        {
            while (next < frames.Count && (frames[next].TimeMs <= t || audio is null))
            {
                writer.WriteVideo(frames[next].TimeMs, frames[next].Key, frames[next].Data);
                if (next++ == 0 && sizeAfterFirstFrame is { } size) writer.SetVideoSize(size.Width, size.Height);
            }
            if (audio is not null) writer.WriteAudio(t, OpusSilence);
        }
        for (; next < frames.Count; next++) writer.WriteVideo(frames[next].TimeMs, frames[next].Key, frames[next].Data);
        return path;
    }

    [Fact]
    public void Opus_only_file_probes_as_opus_with_its_duration_and_decodes_cleanly()
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var path = WriteFile("opus.webm", null, new WebmAudioTrack(), [], 1000);
        var probe = RunProbe(path);
        Assert.Equal(["opus"], probe.Codecs);
        Assert.InRange(probe.Duration, 0.9, 1.1);
        AssertDecodesCleanly(path);
        AssertDecodesCleanly(path, "-ss", "0.5");
    }

    [Fact]
    public void Vp8_with_opus_probes_as_vp8_320x240_for_2_seconds_and_decodes_cleanly_also_after_a_seek()
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var ivf = MediaSamples.Encode(_dir, "vp8.ivf", "-c:v", "libvpx", "-g", "30", "-f", "ivf");
        var frames = MediaSamples.ReadIvf(ivf, MediaSamples.IsVp8Key);
        Assert.Equal(60, frames.Count);
        Assert.Equal(2, frames.Count(f => f.Key));
        var path = WriteFile("vp8.webm", new WebmVideoTrack("V_VP8", 320, 240), new WebmAudioTrack(), frames, 2000);
        var probe = RunProbe(path);
        Assert.Equal(["vp8", "opus"], probe.Codecs);
        Assert.Equal((320, 240), (probe.Width, probe.Height));
        Assert.InRange(probe.Duration, 1.9, 2.1);
        AssertDecodesCleanly(path);
        AssertDecodesCleanly(path, "-ss", "1.2");
    }

    [Fact]
    public void Vp9_probes_as_vp9_with_the_size_set_after_the_first_frame_and_decodes_cleanly()
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var ivf = MediaSamples.Encode(_dir, "vp9.ivf", "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-g", "30", "-f", "ivf");
        var frames = MediaSamples.ReadIvf(ivf, MediaSamples.IsVp9Key);
        Assert.Equal(2, frames.Count(f => f.Key));
        // Size unknown at first, learnt from the first key frame, as the recording engine may have to.
        var path = WriteFile("vp9.webm", new WebmVideoTrack("V_VP9", 0, 0), null, frames, 0, (320, 240));
        var probe = RunProbe(path);
        Assert.Equal(["vp9"], probe.Codecs);
        Assert.Equal((320, 240), (probe.Width, probe.Height));
        Assert.InRange(probe.Duration, 1.9, 2.1);
        AssertDecodesCleanly(path);
    }

    [Fact]
    public void H264_annex_b_without_codec_private_probes_as_h264_and_decodes_cleanly()
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var stream = MediaSamples.Encode(_dir, "x.h264", "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p",
            "-bf", "0", "-g", "30", "-x264-params", "aud=1", "-bsf:v", "h264_mp4toannexb", "-f", "h264");
        var frames = MediaSamples.H264AccessUnits(stream, 30);
        Assert.Equal(60, frames.Count);
        Assert.Equal(2, frames.Count(f => f.Key));
        var path = WriteFile("h264.webm", new WebmVideoTrack("V_MPEG4/ISO/AVC", 320, 240), new WebmAudioTrack(), frames, 2000);
        var probe = RunProbe(path);
        Assert.Equal(["h264", "opus"], probe.Codecs);
        Assert.Equal((320, 240), (probe.Width, probe.Height));
        Assert.InRange(probe.Duration, 1.9, 2.1);
        AssertDecodesCleanly(path);
        AssertDecodesCleanly(path, "-ss", "1.2");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Av1_temporal_units_probe_and_decode_with_or_without_av1C(bool withCodecPrivate)
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var ivf = MediaSamples.Encode(_dir, "av1.ivf", "-pix_fmt", "yuv420p", "-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8",
            "-lag-in-frames", "0", "-g", "30", "-f", "ivf");
        var frames = MediaSamples.ReadIvf(ivf, _ => false).Select(MediaSamples.Av1ForMatroska).ToList();
        Assert.Equal(2, frames.Count(f => f.Key));
        var path = Path.Combine(_dir, "av1.webm");
        var av1c = Av1CodecConfiguration.FromTemporalUnit(frames[0].Data);
        Assert.NotNull(av1c);
        using (var writer = new WebmWriter(File.Create(path), new WebmVideoTrack("V_AV1", 320, 240), new WebmAudioTrack(), "Hibari test"))
        {
            for (var i = 0; i < frames.Count; i++)
            {
                writer.WriteAudio(frames[i].TimeMs, OpusSilence);
                writer.WriteVideo(frames[i].TimeMs, frames[i].Key, frames[i].Data);
                // As the recording engine would: av1C once the first key frame has shown the sequence header.
                if (i == 0 && withCodecPrivate) Assert.True(writer.SetVideoCodecPrivate(av1c));
            }
        }

        // ffmpeg's own Matroska muxer writes the same av1C for this stream.
        var mkv = Path.Combine(_dir, "ffmpeg.mkv");
        var (code, _, stderr) = MediaSamples.Run("ffmpeg", "-v", "error", "-y", "-i", Path.Combine(_dir, "av1.ivf"), "-c", "copy", mkv);
        Assert.True(code == 0, stderr);
        var segment = EbmlTestReader.Parse(File.ReadAllBytes(mkv)).Single(e => e.Id == EbmlId.Segment);
        Assert.Equal(segment.One(EbmlId.Tracks).One(EbmlId.TrackEntry).One(EbmlId.CodecPrivate).Data.ToArray(), av1c);

        var probe = RunProbe(path);
        Assert.Equal(["av1", "opus"], probe.Codecs);
        Assert.Equal((320, 240), (probe.Width, probe.Height));
        Assert.InRange(probe.Duration, 1.9, 2.1);
        AssertDecodesCleanly(path);
        AssertDecodesCleanly(path, "-ss", "1.2");
    }

    [Fact]
    public void A_file_cut_short_before_Finish_still_probes_and_decodes_up_to_its_last_complete_cluster()
    {
        if (!MediaSamples.FfmpegAvailable(_output)) return;
        var ivf = MediaSamples.Encode(_dir, "vp8.ivf", "-c:v", "libvpx", "-g", "30", "-f", "ivf");
        var frames = MediaSamples.ReadIvf(ivf, MediaSamples.IsVp8Key);
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, new WebmVideoTrack("V_VP8", 320, 240), new WebmAudioTrack(), "Hibari test", leaveOpen: true);
        foreach (var frame in frames)
        {
            writer.WriteAudio(frame.TimeMs, OpusSilence);
            writer.WriteVideo(frame.TimeMs, frame.Key, frame.Data);
        }
        // The process "crashes" here: the cluster from the key frame at 1 s is still in memory.
        var path = Path.Combine(_dir, "crashed.webm");
        File.WriteAllBytes(path, stream.ToArray());
        var probe = RunProbe(path);
        Assert.Equal(["vp8", "opus"], probe.Codecs);
        Assert.InRange(probe.Duration, 0.9, 1.1);
        AssertDecodesCleanly(path);
    }
}
