using Hibari.Recording.Webm;

namespace Hibari.Recording;

/// <summary>
/// One WebM file of an archive: the whole connection (`archive-&lt;connection_id&gt;.webm`) or one split
/// (`split-archive-&lt;connection_id&gt;_NNNN.webm`), its place on the recording's timeline and what went into it.
/// Owned by the recording's writer (docs/decisions.md D-58).
/// </summary>
internal sealed class ArchiveFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly WebmWriter _writer;
    private int _width, _height;
    private long _lastVideoMs = -1, _lastAudioMs = -1;

    /// <param name="startMicros">The file's time 0 on the media clock: its first frame.</param>
    public ArchiveFile(string directory, string filename, long startMicros, WebmVideoTrack? video, WebmAudioTrack? audio)
    {
        Directory = directory;
        Filename = filename;
        StartMicros = startMicros;
        LastMicros = startMicros;
        _stream = new FileStream(Path.Combine(directory, filename), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, 64 * 1024);
        try
        {
            _writer = new WebmWriter(_stream, video, audio, "WebRTC SFU Hibari");
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
        if (video is not null)
        {
            _width = video.Width;
            _height = video.Height;
        }
    }

    public string Directory { get; }
    public string Filename { get; }
    public string FilePath => Path.Combine(Directory, Filename);
    /// <summary>The metadata file next to it: the same name with `.json`.</summary>
    public string MetadataFilename => Path.ChangeExtension(Filename, ".json");
    public long StartMicros { get; }
    /// <summary>The newest frame written (media clock µs).</summary>
    public long LastMicros { get; private set; }
    public long AudioFrames { get; private set; }
    public long VideoFrames { get; private set; }
    public int Width => _width;
    public int Height => _height;
    public long Size { get; private set; }
    public bool Finished { get; private set; }

    public void WriteVideo(long atMicros, bool keyFrame, ReadOnlySpan<byte> frame, int width, int height)
    {
        if (keyFrame && width > 0 && height > 0 && (width > _width || height > _height))
        {
            // The header shows the largest picture the file holds; the bitstream carries each change itself.
            _width = Math.Max(_width, width);
            _height = Math.Max(_height, height);
            _writer.SetVideoSize(_width, _height);
        }
        _writer.WriteVideo(_lastVideoMs = Next(Ms(atMicros), _lastVideoMs), keyFrame, frame);
        VideoFrames++;
        Touch(atMicros);
    }

    public void WriteAudio(long atMicros, ReadOnlySpan<byte> frame)
    {
        _writer.WriteAudio(_lastAudioMs = Next(Ms(atMicros), _lastAudioMs), frame);
        AudioFrames++;
        Touch(atMicros);
    }

    /// <summary>Bytes written to the file so far.</summary>
    public long BytesWritten => _writer.BytesWritten;

    private long Ms(long atMicros) => Math.Max(0, (atMicros - StartMicros) / 1000);

    /// <summary>
    /// A track's blocks get strictly increasing times in the file: players and muxers refuse two frames of one track
    /// at the same time (the timeline may place two within one millisecond, or hold one back, D-58).
    /// </summary>
    private static long Next(long ms, long last) => ms > last ? ms : last + 1;

    private void Touch(long atMicros)
    {
        if (atMicros > LastMicros) LastMicros = atMicros;
    }

    /// <summary>Writes the cues and the sizes and closes the file. Throws what the disk throws.</summary>
    public void Finish()
    {
        if (Finished) return;
        Finished = true;
        try
        {
            _writer.Finish();
            _stream.Flush(flushToDisk: false);
            Size = _stream.Length;
        }
        finally
        {
            _writer.Dispose();
            _stream.Dispose();
        }
    }

    /// <summary>Closes without finishing (after a write failed): what was written stays as it is.</summary>
    public void Dispose()
    {
        if (Finished) return;
        Finished = true;
        try { Size = _stream.Length; } catch (IOException) { } catch (ObjectDisposedException) { }
        try { _writer.Dispose(); } catch (IOException) { } catch (InvalidOperationException) { }
        try { _stream.Dispose(); } catch (IOException) { }
    }
}
