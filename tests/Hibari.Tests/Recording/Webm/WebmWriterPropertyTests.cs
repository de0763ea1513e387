using Hibari.Recording.Webm;

namespace Hibari.Tests.Recording.Webm;

/// <summary>Random write sequences (fixed seeds): every file parses with consistent sizes, and every block written comes
/// back with its track, bytes and the time the writer's documented rules give it.</summary>
public class WebmWriterPropertyTests
{
    [Fact]
    public void Random_write_sequences_always_read_back_exactly()
    {
        for (var seed = 1; seed <= 300; seed++)
        {
            try { RunCase(seed); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: {e.Message}");
            }
        }
    }

    private static void RunCase(int seed)
    {
        var random = new Random(seed);
        var shape = random.Next(3); // 0: audio + video, 1: video only, 2: audio only
        var hasVideo = shape != 2;
        var hasAudio = shape != 1;
        var expected = new List<(int Track, long Time, bool Key, byte[] Data)>();
        var last = new long[3];
        var finish = random.Next(10) != 0;

        var stream = new MemoryStream();
        var writer = new WebmWriter(stream, hasVideo ? new WebmVideoTrack("V_VP8", random.Next(1, 2000), random.Next(1, 2000)) : null,
            hasAudio ? new WebmAudioTrack(random.Next(1, 3)) : null, "prop", leaveOpen: true);
        long clock = random.Next(-100, 1000);
        var steps = random.Next(0, 400);
        for (var i = 0; i < steps; i++)
        {
            // Mostly forward, sometimes big jumps, sometimes backwards (clamped by the writer).
            clock += random.Next(10) switch
            {
                0 => -random.Next(0, 200),
                1 => random.Next(0, 12_000),
                _ => random.Next(0, 40),
            };
            var video = hasVideo && (!hasAudio || random.Next(2) == 0);
            var track = video ? 1 : 2;
            var time = clock + random.Next(-30, 30);
            var length = random.Next(40) == 0 ? random.Next(0, 100_000) : random.Next(0, 1500);
            var data = new byte[length];
            random.NextBytes(data);
            var key = video && random.Next(8) == 0;
            if (video) writer.WriteVideo(time, key, data);
            else writer.WriteAudio(time, data);
            if (random.Next(50) == 0 && hasVideo) writer.SetVideoSize(random.Next(1, 4000), random.Next(1, 4000));
            if (length == 0) continue;
            var clamped = Math.Max(Math.Max(0, time), last[track]);
            last[track] = clamped;
            expected.Add((track, clamped, key || !video, data));
        }
        var bytesBeforeFinish = writer.BytesWritten;
        if (finish) writer.Finish();
        var file = ParsedWebm.Read(stream.ToArray(), allowUnknownSegment: !finish);

        if (!finish)
        {
            // Unfinished: what was written is a prefix of the blocks, in whole clusters.
            Assert.True(file.Segment.UnknownSize);
            Assert.True(file.Blocks.Count <= expected.Count);
            Assert.True(bytesBeforeFinish >= stream.Length);
            expected = expected.Take(file.Blocks.Count).ToList();
            var onDisk = file.Blocks.Count == 0 ? 0 : file.Blocks.Max(b => b.TimeMs);
            if (onDisk > 0) Assert.Equal(onDisk, file.Info.One(EbmlId.Duration).Float());
            else Assert.Null(file.Info.Maybe(EbmlId.Duration));
        }
        else
        {
            Assert.Equal(stream.Length, writer.BytesWritten);
            Assert.Equal(bytesBeforeFinish, stream.Length - (file.Cues is null ? 0 : file.Cues.End - file.Cues.Start));
        }
        Assert.Equal(expected.Count, file.Blocks.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var (track, time, key, data) = expected[i];
            var block = file.Blocks[i];
            Assert.Equal(track, block.Track);
            Assert.Equal(key, block.Key);
            Assert.True(data.AsSpan().SequenceEqual(block.Data), $"block {i}: bytes differ");
            // Times are as written (clamped to the track's last), except a block more than 32,768 ms before its
            // cluster, which is moved up to that limit.
            var clusterTime = block.ClusterTime;
            Assert.Equal(Math.Max(time, clusterTime - 32_768), block.TimeMs);
            if (block.TimeMs != time) expected[i] = (track, block.TimeMs, key, data);
            if (block.TimeMs != time)
            {
                // Later blocks of that track were clamped against the moved-up time too.
                for (var j = i + 1; j < expected.Count; j++)
                    if (expected[j].Track == track && expected[j].Time < block.TimeMs) expected[j] = (track, block.TimeMs, expected[j].Key, expected[j].Data);
            }
            Assert.InRange(block.TimeMs - clusterTime, -32_768, WebmWriter.MaxClusterDurationMs);
            if (block.IndexInCluster == 1) Assert.True(block.TimeMs <= clusterTime); // equal unless the other track was ahead
        }

        // Per track, times never go backwards.
        foreach (var group in file.Blocks.GroupBy(b => b.Track))
        {
            var times = group.Select(b => b.TimeMs).ToList();
            Assert.Equal(times.Order(), times);
        }
        // Cluster timestamps never go backwards.
        var clusterTimes = file.Clusters.Select(c => c.One(EbmlId.Timestamp).UInt()).ToList();
        Assert.Equal(clusterTimes.Order(), clusterTimes);

        if (!finish) return;
        var maxTime = file.Blocks.Count == 0 ? 0 : file.Blocks.Max(b => b.TimeMs);
        Assert.Equal(maxTime, writer.DurationMs);
        var duration = file.Info.Maybe(EbmlId.Duration);
        if (maxTime > 0) Assert.Equal(maxTime, duration!.Float());
        else Assert.Null(duration);

        // Cues: exactly the clusters a player can start at.
        var cueTargets = file.Cues is null ? [] : file.Cues.All(EbmlId.CuePoint)
            .Select(c => file.Segment.DataStart + (long)c.One(EbmlId.CueTrackPositions).One(EbmlId.CueClusterPosition).UInt()).ToList();
        var firstBlocks = file.Blocks.Where(b => b.IndexInCluster == 1).ToDictionary(b => b.Cluster.Start);
        var startable = file.Clusters.Where(c =>
        {
            var first = firstBlocks[c.Start];
            return hasVideo ? first.Track == 1 && first.Key : true;
        }).Select(c => c.Start).ToList();
        Assert.Equal(startable, cueTargets);
        if (file.Cues is null) return;
        foreach (var cue in file.Cues.All(EbmlId.CuePoint))
        {
            var at = file.Segment.DataStart + (long)cue.One(EbmlId.CueTrackPositions).One(EbmlId.CueClusterPosition).UInt();
            var first = firstBlocks[at];
            Assert.Equal(first.TimeMs, (long)cue.One(EbmlId.CueTime).UInt());
            Assert.Equal((ulong)first.Track, cue.One(EbmlId.CueTrackPositions).One(EbmlId.CueTrack).UInt());
        }
        writer.Dispose();
    }
}
