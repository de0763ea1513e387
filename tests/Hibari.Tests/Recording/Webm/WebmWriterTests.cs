using System.Buffers.Binary;
using Hibari.Recording.Webm;

namespace Hibari.Tests.Recording.Webm;

/// <summary>The WebM layout <see cref="WebmWriter"/> promises (Sora's: header, SeekHead, Info, Tracks, clusters,
/// cues), read back with an independent EBML reader.</summary>
public class WebmWriterTests
{
    internal static readonly WebmVideoTrack Vp8 = new("V_VP8", 640, 480);
    internal static readonly WebmAudioTrack Opus = new();

    internal static byte[] Write(WebmVideoTrack? video, WebmAudioTrack? audio, Action<WebmWriter> body, bool finish = true)
    {
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, video, audio, "Hibari test", leaveOpen: true);
        body(writer);
        if (finish) writer.Dispose();
        return stream.ToArray();
    }

    internal static byte[] Frame(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A typical call: audio every 20 ms from 0, video at 30 fps from 1 ms, key frames at 0 s and 2 s.</summary>
    private static byte[] Typical(out List<(int Track, long Time, bool Key, byte[] Data)> written)
    {
        var log = new List<(int, long, bool, byte[])>();
        var bytes = Write(Vp8, Opus, w =>
        {
            long nextVideo = 1;
            var frame = 0;
            for (long audio = 0; audio <= 3000; audio += 20)
            {
                while (nextVideo <= audio && nextVideo < 2500)
                {
                    var key = frame % 60 == 0;
                    var data = Frame(100 + frame, frame);
                    w.WriteVideo(nextVideo, key, data);
                    log.Add((1, nextVideo, key, data));
                    frame++;
                    nextVideo = 1 + frame * 1000L / 30;
                }
                var opus = Frame(40, (int)audio + 100_000);
                w.WriteAudio(audio, opus);
                log.Add((2, audio, true, opus));
            }
        });
        written = log;
        return bytes;
    }

    [Fact]
    public void Ebml_header_says_webm_version_4_read_version_2_with_4_byte_ids_and_8_byte_sizes()
    {
        var file = ParsedWebm.Read(Typical(out _));
        var h = file.Header;
        Assert.Equal(0, h.Start);
        Assert.Equal(1UL, h.One(EbmlId.EbmlVersion).UInt());
        Assert.Equal(1UL, h.One(EbmlId.EbmlReadVersion).UInt());
        Assert.Equal(4UL, h.One(EbmlId.EbmlMaxIdLength).UInt());
        Assert.Equal(8UL, h.One(EbmlId.EbmlMaxSizeLength).UInt());
        Assert.Equal("webm", h.One(EbmlId.DocType).String());
        Assert.Equal(4UL, h.One(EbmlId.DocTypeVersion).UInt());
        Assert.Equal(2UL, h.One(EbmlId.DocTypeReadVersion).UInt());
    }

    [Fact]
    public void Segment_size_is_patched_to_the_bytes_after_it_in_an_8_byte_field()
    {
        var bytes = Typical(out _);
        var file = ParsedWebm.Read(bytes);
        Assert.False(file.Segment.UnknownSize);
        Assert.Equal(bytes.Length - file.Segment.DataStart, file.Segment.Size);
        Assert.Equal(file.Segment.Start + 4 + 8, file.Segment.DataStart);
        // Order: SeekHead (+ Void), Info, Tracks, clusters, Cues last.
        var ids = file.Segment.Children.Select(c => c.Id).Distinct().ToList();
        Assert.Equal([EbmlId.SeekHead, EbmlId.Void, EbmlId.Info, EbmlId.Tracks, EbmlId.Cluster, EbmlId.Cues], ids);
        Assert.Equal(EbmlId.Cues, file.Segment.Children[^1].Id);
    }

    [Fact]
    public void SeekHead_positions_point_at_Info_Tracks_and_Cues()
    {
        var file = ParsedWebm.Read(Typical(out _));
        var seekHead = file.Segment.Children[0];
        Assert.Equal(EbmlId.SeekHead, seekHead.Id);
        var seeks = seekHead.All(EbmlId.Seek).ToList();
        Assert.Equal(3, seeks.Count);
        var targets = new Dictionary<uint, long>();
        foreach (var seek in seeks)
        {
            var idBytes = seek.One(EbmlId.SeekId).Data;
            uint id = 0;
            foreach (var b in idBytes) id = (id << 8) | b;
            targets[id] = (long)seek.One(EbmlId.SeekPosition).UInt();
        }
        Assert.Equal(file.Info.Start - file.Segment.DataStart, targets[EbmlId.Info]);
        Assert.Equal(file.Tracks.Start - file.Segment.DataStart, targets[EbmlId.Tracks]);
        Assert.Equal(file.Cues!.Start - file.Segment.DataStart, targets[EbmlId.Cues]);
    }

    [Fact]
    public void Info_has_ms_timestamps_the_app_a_random_segment_uid_and_the_last_block_time_as_duration()
    {
        var a = ParsedWebm.Read(Typical(out var written));
        var b = ParsedWebm.Read(Typical(out _));
        Assert.Equal(1_000_000UL, a.Info.One(EbmlId.TimestampScale).UInt());
        Assert.Equal("Hibari test", a.Info.One(EbmlId.MuxingApp).String());
        Assert.Equal("Hibari test", a.Info.One(EbmlId.WritingApp).String());
        Assert.Equal(16, a.Info.One(EbmlId.SegmentUid).Size);
        Assert.False(a.Info.One(EbmlId.SegmentUid).Data.SequenceEqual(b.Info.One(EbmlId.SegmentUid).Data));
        Assert.Equal(8, a.Info.One(EbmlId.Duration).Size);
        Assert.Equal(written.Max(x => x.Time), a.Info.One(EbmlId.Duration).Float());
        Assert.Equal(3000.0, a.Info.One(EbmlId.Duration).Float());
    }

    [Fact]
    public void Tracks_are_video_1_and_audio_2_with_sora_fields_and_a_default_opus_head()
    {
        var file = ParsedWebm.Read(Typical(out _));
        var video = file.Track(1)!;
        Assert.Equal(1UL, video.One(EbmlId.TrackType).UInt());
        Assert.Equal("V_VP8", video.One(EbmlId.CodecId).String());
        Assert.Equal(0UL, video.One(EbmlId.FlagLacing).UInt());
        Assert.Equal("und", video.One(EbmlId.Language).String());
        Assert.NotEqual(0UL, video.One(EbmlId.TrackUid).UInt());
        var v = video.One(EbmlId.Video);
        Assert.Equal(640UL, v.One(EbmlId.PixelWidth).UInt());
        Assert.Equal(480UL, v.One(EbmlId.PixelHeight).UInt());
        Assert.Equal(640UL, v.One(EbmlId.DisplayWidth).UInt());
        Assert.Equal(480UL, v.One(EbmlId.DisplayHeight).UInt());
        Assert.Null(video.Maybe(EbmlId.CodecPrivate));

        var audio = file.Track(2)!;
        Assert.Equal(2UL, audio.One(EbmlId.TrackType).UInt());
        Assert.Equal("A_OPUS", audio.One(EbmlId.CodecId).String());
        Assert.Equal(0UL, audio.One(EbmlId.FlagLacing).UInt());
        Assert.Equal("und", audio.One(EbmlId.Language).String());
        Assert.Equal(80_000_000UL, audio.One(EbmlId.SeekPreRoll).UInt());
        Assert.NotEqual(video.One(EbmlId.TrackUid).UInt(), audio.One(EbmlId.TrackUid).UInt());
        var a = audio.One(EbmlId.Audio);
        Assert.Equal(2UL, a.One(EbmlId.Channels).UInt());
        Assert.Equal(48000.0, a.One(EbmlId.SamplingFrequency).Float());
        byte[] head = [.. "OpusHead"u8, 1, 2, 0, 0, 0x80, 0xBB, 0, 0, 0, 0, 0];
        Assert.Equal(head, audio.One(EbmlId.CodecPrivate).Data.ToArray());
    }

    [Fact]
    public void Track_numbers_stay_1_and_2_when_only_one_track_is_present()
    {
        var audioOnly = ParsedWebm.Read(Write(null, new WebmAudioTrack(1, 48000), w => w.WriteAudio(0, [1, 2, 3])));
        Assert.Null(audioOnly.Track(1));
        Assert.Equal(1UL, audioOnly.Track(2)!.One(EbmlId.Audio).One(EbmlId.Channels).UInt());
        Assert.Equal(1, audioOnly.Track(2)!.One(EbmlId.CodecPrivate).Data[9]); // OpusHead channel count
        Assert.Equal(2, Assert.Single(audioOnly.Blocks).Track);

        byte[] av1c = [0x81, 0x08, 0x0C, 0x00];
        var videoOnly = ParsedWebm.Read(Write(new WebmVideoTrack("V_AV1", 320, 180, av1c), null, w => w.WriteVideo(0, true, [9, 9])));
        Assert.Null(videoOnly.Track(2));
        Assert.Equal("V_AV1", videoOnly.Track(1)!.One(EbmlId.CodecId).String());
        Assert.Equal(av1c, videoOnly.Track(1)!.One(EbmlId.CodecPrivate).Data.ToArray());
        Assert.Equal(1, Assert.Single(videoOnly.Blocks).Track);
    }

    [Fact]
    public void Blocks_read_back_with_their_times_tracks_key_flags_and_bytes()
    {
        var file = ParsedWebm.Read(Typical(out var written));
        Assert.Equal(written.Count, file.Blocks.Count);
        // Per track, in order (the file interleaves tracks in call order).
        for (var track = 1; track <= 2; track++)
        {
            var expected = written.Where(x => x.Track == track).ToList();
            var actual = file.Blocks.Where(x => x.Track == track).ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Time, actual[i].TimeMs);
                Assert.Equal(expected[i].Key, actual[i].Key);
                Assert.Equal(expected[i].Data, actual[i].Data);
            }
        }
        Assert.All(file.Blocks.Where(b => b.Track == 2), b => Assert.True(b.Key));
    }

    [Fact]
    public void A_cluster_starts_on_each_video_key_frame_and_the_cues_point_at_those_clusters()
    {
        var file = ParsedWebm.Read(Typical(out var written));
        var keyTimes = written.Where(x => x.Track == 1 && x.Key).Select(x => x.Time).ToList();
        Assert.Equal(2, keyTimes.Count);
        foreach (var key in file.Blocks.Where(b => b.Track == 1 && b.Key)) Assert.Equal(1, key.IndexInCluster);

        var cuePoints = file.Cues!.All(EbmlId.CuePoint).ToList();
        Assert.Equal(keyTimes.Count, cuePoints.Count);
        for (var i = 0; i < cuePoints.Count; i++)
        {
            var time = (long)cuePoints[i].One(EbmlId.CueTime).UInt();
            Assert.Equal(keyTimes[i], time);
            var positions = cuePoints[i].One(EbmlId.CueTrackPositions);
            Assert.Equal(1UL, positions.One(EbmlId.CueTrack).UInt());
            Assert.Equal(1UL, positions.One(EbmlId.CueBlockNumber).UInt());
            var at = file.Segment.DataStart + (long)positions.One(EbmlId.CueClusterPosition).UInt();
            var cluster = Assert.Single(file.Clusters, c => c.Start == at);
            var first = file.Blocks.First(b => b.Cluster == cluster);
            Assert.Equal((1, true, time), (first.Track, first.Key, first.TimeMs));
            Assert.Equal((ulong)time, cluster.One(EbmlId.Timestamp).UInt());
        }
        // Audio past the last video frame still gets clusters of at most 5 s.
        foreach (var cluster in file.Clusters)
        {
            var start = (long)cluster.One(EbmlId.Timestamp).UInt();
            Assert.All(file.Blocks.Where(b => b.Cluster == cluster), b => Assert.InRange(b.TimeMs - start, -32768, WebmWriter.MaxClusterDurationMs));
        }
    }

    [Fact]
    public void Audio_only_files_get_a_cluster_every_5_seconds_each_with_a_cue_on_track_2()
    {
        var bytes = Write(null, Opus, w =>
        {
            for (long t = 0; t < 12_000; t += 20) w.WriteAudio(t, [0xF8, 0xFF, 0xFE]);
        });
        var file = ParsedWebm.Read(bytes);
        var clusters = file.Clusters.ToList();
        Assert.Equal([0UL, 5020UL, 10040UL], clusters.Select(c => c.One(EbmlId.Timestamp).UInt()));
        var cues = file.Cues!.All(EbmlId.CuePoint).ToList();
        Assert.Equal(clusters.Count, cues.Count);
        for (var i = 0; i < cues.Count; i++)
        {
            var positions = cues[i].One(EbmlId.CueTrackPositions);
            Assert.Equal(2UL, positions.One(EbmlId.CueTrack).UInt());
            Assert.Equal(clusters[i].Start - file.Segment.DataStart, (long)positions.One(EbmlId.CueClusterPosition).UInt());
            Assert.Equal(clusters[i].One(EbmlId.Timestamp).UInt(), cues[i].One(EbmlId.CueTime).UInt());
        }
        Assert.Equal(11_980.0, file.Info.One(EbmlId.Duration).Float());
    }

    [Fact]
    public void Video_without_key_frames_for_long_still_gets_5_second_clusters_but_cues_only_at_key_frames()
    {
        var file = ParsedWebm.Read(Write(Vp8, null, w =>
        {
            for (var i = 0; i < 500; i++) w.WriteVideo(i * 33L, i == 0 || i == 300, Frame(50, i));
        }));
        var times = file.Clusters.Select(c => (long)c.One(EbmlId.Timestamp).UInt()).ToList();
        Assert.Equal([0L, 5016, 9900, 14916], times); // 5016 = first frame > 5000 after 0; 9900 = key frame 300
        Assert.Equal([0UL, 9900UL], file.Cues!.All(EbmlId.CuePoint).Select(c => c.One(EbmlId.CueTime).UInt()));
    }

    [Fact]
    public void A_cluster_closes_once_it_holds_4_MiB()
    {
        var frame = new byte[300_000];
        var file = ParsedWebm.Read(Write(Vp8, null, w =>
        {
            for (var i = 0; i < 30; i++) w.WriteVideo(i * 10L, i == 0, frame);
        }));
        var clusters = file.Clusters.ToList();
        Assert.Equal(3, clusters.Count); // 14 frames (4.2 MB) reach 4 MiB: 14 + 14 + 2
        Assert.Equal([14, 14, 2], clusters.Select(c => c.All(EbmlId.SimpleBlock).Count()));
        Assert.InRange(clusters[0].Size, WebmWriter.MaxClusterBytes, WebmWriter.MaxClusterBytes + frame.Length + 64);
        Assert.Equal(30, file.Blocks.Count);
    }

    [Fact]
    public void An_audio_block_earlier_than_the_key_frame_that_opened_the_cluster_gets_a_negative_relative_time()
    {
        var file = ParsedWebm.Read(Write(Vp8, Opus, w =>
        {
            w.WriteAudio(980, [1]);
            w.WriteVideo(1000, true, [2]);
            w.WriteAudio(995, [3]);
            w.WriteAudio(1000, [4]);
        }));
        var second = file.Clusters.ElementAt(1);
        Assert.Equal(1000UL, second.One(EbmlId.Timestamp).UInt());
        var audio = file.Blocks.Single(b => b.Data[0] == 3);
        Assert.Same(second, audio.Cluster);
        Assert.Equal(995, audio.TimeMs);
        Assert.Equal(-5, BinaryPrimitives.ReadInt16BigEndian(second.All(EbmlId.SimpleBlock).ElementAt(1).Data[1..]));
    }

    [Fact]
    public void A_key_frame_older_than_the_open_cluster_opens_a_cluster_at_that_time_not_earlier()
    {
        var file = ParsedWebm.Read(Write(Vp8, Opus, w =>
        {
            w.WriteAudio(0, [1]);
            w.WriteAudio(5100, [2]); // a new cluster at 5100 (5 s rule)
            w.WriteVideo(5050, true, [3]);
        }));
        Assert.Equal([0UL, 5100, 5100], file.Clusters.Select(c => c.One(EbmlId.Timestamp).UInt()));
        var key = file.Blocks.Single(b => b.Data[0] == 3);
        Assert.Equal((5050L, 1), (key.TimeMs, key.IndexInCluster));
        var cue = Assert.Single(file.Cues!.All(EbmlId.CuePoint));
        Assert.Equal(5050UL, cue.One(EbmlId.CueTime).UInt());
        Assert.Equal(key.Cluster.Start - file.Segment.DataStart, (long)cue.One(EbmlId.CueTrackPositions).One(EbmlId.CueClusterPosition).UInt());
    }

    [Fact]
    public void A_block_more_than_32768_ms_before_its_cluster_is_moved_up_to_the_limit()
    {
        var file = ParsedWebm.Read(Write(Vp8, Opus, w =>
        {
            w.WriteAudio(0, [1]);
            w.WriteVideo(40_000, true, [2]);
            w.WriteAudio(20, [3]);
        }));
        Assert.Equal(40_000 - 32_768, file.Blocks.Single(b => b.Data[0] == 3).TimeMs);
    }

    [Fact]
    public void Times_never_go_backwards_within_a_track_and_negative_times_become_0()
    {
        var file = ParsedWebm.Read(Write(Vp8, Opus, w =>
        {
            w.WriteAudio(-50, [1]);
            w.WriteAudio(100, [2]);
            w.WriteAudio(60, [3]); // older than the track's last block: written at 100
            w.WriteVideo(-1, true, [4]);
            w.WriteVideo(500, false, [5]);
            w.WriteVideo(400, false, [6]);
            w.WriteAudio(700, [7]);
        }));
        Assert.Equal([0L, 100, 100, 0, 500, 500, 700], file.Blocks.OrderBy(b => b.Data[0]).Select(b => b.TimeMs));
    }

    [Fact]
    public void Empty_frames_are_skipped()
    {
        var file = ParsedWebm.Read(Write(Vp8, Opus, w =>
        {
            w.WriteAudio(0, []);
            w.WriteVideo(0, true, []);
            w.WriteAudio(20, [1]);
        }));
        var block = Assert.Single(file.Blocks);
        Assert.Equal((2, 20L), (block.Track, block.TimeMs));
    }

    [Fact]
    public void SetVideoSize_patches_the_tracks_element_in_place()
    {
        var bytes = Write(new WebmVideoTrack("V_VP9", 0, 0), Opus, w =>
        {
            w.WriteVideo(0, true, [1, 2, 3]);
            w.SetVideoSize(1280, 720);
            w.WriteAudio(10, [4]);
            w.SetVideoSize(-1, 5); // ignored
            w.WriteVideo(33, false, [5]);
            Assert.Equal((1280, 720), w.VideoSize);
        });
        var file = ParsedWebm.Read(bytes);
        var v = file.Track(1)!.One(EbmlId.Video);
        Assert.Equal(1280UL, v.One(EbmlId.PixelWidth).UInt());
        Assert.Equal(720UL, v.One(EbmlId.PixelHeight).UInt());
        Assert.Equal(1280UL, v.One(EbmlId.DisplayWidth).UInt());
        Assert.Equal(720UL, v.One(EbmlId.DisplayHeight).UInt());
        Assert.Equal(3, file.Blocks.Count); // writes after the patch land at the end, not over the header
    }

    [Fact]
    public void SetVideoCodecPrivate_fills_replaces_and_removes_it_in_place()
    {
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, new WebmVideoTrack("V_AV1", 320, 240), Opus, "x", leaveOpen: true);
        writer.WriteAudio(0, [1]);
        byte[] CodecPrivate() => ParsedWebm.Read(stream.ToArray(), allowUnknownSegment: true).Track(1)!.Maybe(EbmlId.CodecPrivate)?.Data.ToArray() ?? [];
        Assert.Empty(CodecPrivate());
        var av1c = Frame(20, 1);
        Assert.True(writer.SetVideoCodecPrivate(av1c));
        Assert.Equal(av1c, CodecPrivate());
        // Every length up to the room: the rest is a Void, or the size field grows when only one byte is left.
        for (var length = 0; length <= WebmWriter.CodecPrivateRoom - 3; length += length < 490 ? 61 : 1)
        {
            var value = Frame(length, length);
            Assert.True(writer.SetVideoCodecPrivate(value));
            Assert.Equal(value, CodecPrivate());
        }
        Assert.False(writer.SetVideoCodecPrivate(new byte[WebmWriter.CodecPrivateRoom]));
        Assert.True(writer.SetVideoCodecPrivate(av1c));
        writer.WriteVideo(10, true, [2]);
        writer.Finish();
        var file = ParsedWebm.Read(stream.ToArray());
        Assert.Equal(av1c, file.Track(1)!.One(EbmlId.CodecPrivate).Data.ToArray());
        Assert.Equal(2, file.Blocks.Count);
    }

    [Fact]
    public void A_codec_private_given_up_front_is_written_and_can_be_replaced()
    {
        var big = Frame(2000, 3);
        var stream = new MemoryStream();
        using (var writer = new WebmWriter(stream, new WebmVideoTrack("V_VP9", 320, 240, big), null, "x", leaveOpen: true))
        {
            Assert.Equal(big, ParsedWebm.Read(stream.ToArray(), allowUnknownSegment: true).Track(1)!.One(EbmlId.CodecPrivate).Data.ToArray());
            Assert.True(writer.SetVideoCodecPrivate([1, 2, 3]));
        }
        Assert.Equal([1, 2, 3], ParsedWebm.Read(stream.ToArray()).Track(1)!.One(EbmlId.CodecPrivate).Data.ToArray());
    }

    [Fact]
    public void An_unfinished_file_has_an_unknown_size_segment_that_reads_up_to_its_last_complete_cluster()
    {
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, Vp8, Opus, "crash", leaveOpen: true);
        for (var i = 0; i < 100; i++)
        {
            writer.WriteAudio(i * 20L, [1, (byte)i]);
            if (i % 10 == 0) writer.WriteVideo(i * 20L, i % 50 == 0, [2, (byte)i]);
        }
        var bytes = stream.ToArray(); // no Finish: the writer "crashed"
        var file = ParsedWebm.Read(bytes, allowUnknownSegment: true);
        Assert.True(file.Segment.UnknownSize);
        Assert.Null(file.Cues);
        // Audio up to 1000 ms is in complete clusters; the cluster the key frame at 1000 opened is still in memory.
        Assert.Equal(1000, file.Blocks.Max(b => b.TimeMs));
        Assert.Equal(1000.0, file.Info.One(EbmlId.Duration).Float()); // patched as each cluster was written
        Assert.Equal(51, file.Blocks.Count(b => b.Track == 2));
        Assert.True(writer.BytesWritten > bytes.Length);
        var seeks = file.Segment.Children[0].All(EbmlId.Seek).Count();
        Assert.Equal(2, seeks); // Info and Tracks; Cues only once written
    }

    [Fact]
    public void Duration_stays_a_void_while_no_block_is_past_0()
    {
        var file = ParsedWebm.Read(Write(null, Opus, w => w.WriteAudio(0, [1])));
        Assert.Null(file.Info.Maybe(EbmlId.Duration));
        Assert.Equal(11, file.Info.One(EbmlId.Void).End - file.Info.One(EbmlId.Void).Start);
    }

    [Fact]
    public void BytesWritten_counts_the_open_cluster_and_equals_the_file_length_after_Finish()
    {
        var stream = new MemoryStream();
        using var writer = new WebmWriter(stream, Vp8, Opus, "x", leaveOpen: true);
        var header = writer.BytesWritten;
        Assert.Equal(stream.Length, header);
        writer.WriteVideo(0, true, new byte[1000]);
        Assert.InRange(writer.BytesWritten, header + 1000, header + 1100);
        Assert.Equal(header, stream.Length); // still in memory
        writer.Finish();
        Assert.Equal(stream.Length, writer.BytesWritten);
        Assert.Equal(0, writer.DurationMs);
    }

    [Fact]
    public void Calls_after_Finish_throw_and_Finish_is_idempotent()
    {
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, Vp8, Opus, "x", leaveOpen: true);
        writer.WriteAudio(0, [1]);
        writer.Finish();
        var length = stream.Length;
        writer.Finish();
        Assert.Equal(length, stream.Length);
        Assert.Contains("finished", Assert.Throws<InvalidOperationException>(() => writer.WriteAudio(20, [1])).Message);
        Assert.Throws<InvalidOperationException>(() => writer.WriteVideo(20, true, [1]));
        Assert.Throws<InvalidOperationException>(() => writer.SetVideoSize(10, 10));
        writer.Dispose();
        Assert.Equal(length, stream.Length);
        Assert.True(stream.CanWrite); // leaveOpen
        Assert.Throws<ObjectDisposedException>(() => writer.WriteAudio(40, [1]));
    }

    [Fact]
    public void Dispose_finishes_the_file_and_closes_the_stream_unless_told_to_leave_it_open()
    {
        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, null, Opus, "x");
        writer.WriteAudio(0, [1]);
        writer.WriteAudio(20, [1]);
        writer.Dispose();
        Assert.False(stream.CanWrite);
        var file = ParsedWebm.Read(stream.ToArray());
        Assert.Equal(20.0, file.Info.One(EbmlId.Duration).Float());
        Assert.NotNull(file.Cues);
    }

    [Fact]
    public void Writing_a_track_the_file_does_not_have_throws_and_so_does_a_file_without_tracks()
    {
        using var audioOnly = new WebmWriter(new MemoryStream(), null, Opus, "x");
        Assert.Throws<InvalidOperationException>(() => audioOnly.WriteVideo(0, true, [1]));
        using var videoOnly = new WebmWriter(new MemoryStream(), Vp8, null, "x");
        Assert.Throws<InvalidOperationException>(() => videoOnly.WriteAudio(0, [1]));
        Assert.Throws<ArgumentException>(() => new WebmWriter(new MemoryStream(), null, null, "x"));
        Assert.Throws<ArgumentException>(() => new WebmWriter(new MemoryStream(), null, new WebmAudioTrack(6), "x"));
    }

    [Fact]
    public void A_file_starting_mid_stream_keeps_its_offsets_relative_to_where_it_started()
    {
        var stream = new MemoryStream();
        stream.Write(new byte[123]);
        using (var writer = new WebmWriter(stream, Vp8, Opus, "x", leaveOpen: true))
        {
            writer.WriteVideo(0, true, [1]);
            writer.WriteAudio(5, [2]);
            writer.SetVideoSize(2, 2);
        }
        var file = ParsedWebm.Read(stream.ToArray()[123..]);
        Assert.Equal(2, file.Blocks.Count);
        Assert.Equal(2UL, file.Track(1)!.One(EbmlId.Video).One(EbmlId.PixelWidth).UInt());
    }

    [Fact]
    public void The_write_path_does_not_allocate_per_frame()
    {
        using var writer = new WebmWriter(new DiscardStream(), Vp8, Opus, "x");
        var video = new byte[3000];
        var audio = new byte[60];
        long t = 0;
        void Run(int frames)
        {
            for (var i = 0; i < frames; i++, t += 20)
            {
                writer.WriteAudio(t, audio);
                if (i % 2 == 0) writer.WriteVideo(t, i % 100 == 0, video);
            }
        }
        Run(2000); // buffers grow to their size here
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(2000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 2048, $"{allocated} bytes allocated for 3000 blocks"); // at most the cue list growing
    }

    /// <summary>A seekable stream that keeps only its length, for measuring the writer alone.</summary>
    private sealed class DiscardStream : Stream
    {
        private long _length;
        public override bool CanRead => false;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => _length;
        public override long Position { get; set; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => _length + offset,
        };
        public override void SetLength(long value) => _length = value;
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Position += buffer.Length;
            _length = Math.Max(_length, Position);
        }
    }
}
