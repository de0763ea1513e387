using Hibari.Recording.Webm;

namespace Hibari.Tests.Recording.Webm;

/// <summary>av1C records built from libaom sequence headers, compared with the CodecPrivate ffmpeg's Matroska muxer
/// writes for the same streams (<c>ffmpeg -i x.ivf -c copy x.mkv</c>).</summary>
public class Av1CodecConfigurationTests
{
    /// <summary>libaom, 320x240, yuv420p (Main profile).</summary>
    private static readonly byte[] MainSequenceHeader = [0x0A, 0x0B, 0x00, 0x00, 0x00, 0x04, 0x3C, 0xFF, 0xBC, 0xDA, 0xF9, 0x00, 0x40];

    /// <summary>libaom, 320x240, gbrp (High profile, 4:4:4).</summary>
    private static readonly byte[] HighSequenceHeader = [0x0A, 0x0D, 0x20, 0x00, 0x00, 0x04, 0x3C, 0xFF, 0xBC, 0xDA, 0xF9, 0x20, 0x21, 0xA0, 0x04];

    [Fact]
    public void Main_profile_420_matches_ffmpeg()
    {
        Assert.Equal([0x81, 0x00, 0x0C, 0x00, .. MainSequenceHeader], Av1CodecConfiguration.Build(MainSequenceHeader));
    }

    [Fact]
    public void High_profile_444_matches_ffmpeg()
    {
        Assert.Equal([0x81, 0x20, 0x00, 0x00, .. HighSequenceHeader], Av1CodecConfiguration.Build(HighSequenceHeader));
    }

    [Fact]
    public void A_sequence_header_without_size_field_is_stored_with_one()
    {
        byte[] unsized = [0x08, .. MainSequenceHeader[2..]];
        Assert.Equal([0x81, 0x00, 0x0C, 0x00, .. MainSequenceHeader], Av1CodecConfiguration.Build(unsized));
    }

    [Fact]
    public void The_sequence_header_is_found_in_a_temporal_unit_after_other_obus()
    {
        byte[] unit = [0x12, 0x00, .. MainSequenceHeader, 0x32, 0x02, 0xAA, 0xBB];
        Assert.Equal([0x81, 0x00, 0x0C, 0x00, .. MainSequenceHeader], Av1CodecConfiguration.FromTemporalUnit(unit));
        Assert.Null(Av1CodecConfiguration.FromTemporalUnit([0x12, 0x00, 0x32, 0x01, 0xAA]));
    }

    [Fact]
    public void Malformed_input_gives_null_never_an_exception()
    {
        Assert.Null(Av1CodecConfiguration.Build([]));
        Assert.Null(Av1CodecConfiguration.Build([0x32, 0x00])); // a frame OBU
        Assert.Null(Av1CodecConfiguration.Build([0x0A, 0x20, 0x00])); // size past the end
        Assert.Null(Av1CodecConfiguration.Build([0x0A, 0x01, 0x00])); // truncated header
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            var bytes = new byte[random.Next(0, 40)];
            random.NextBytes(bytes);
            if (bytes.Length > 0 && random.Next(2) == 0) bytes[0] = 0x0A;
            _ = Av1CodecConfiguration.Build(bytes);
            _ = Av1CodecConfiguration.FromTemporalUnit(bytes);
        }
    }
}
