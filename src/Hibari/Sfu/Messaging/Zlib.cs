using System.IO.Compression;

namespace Hibari.Sfu.Messaging;

/// <summary>
/// zlib streams (RFC 1950: what the browsers' CompressionStream("deflate") writes) for `compress: true` labels,
/// with a bound on the inflated size so that a small bomb cannot take memory.
/// </summary>
public static class Zlib
{
    public static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream(data.Length / 2 + 64);
        using (var z = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true)) z.Write(data);
        return output.ToArray();
    }

    /// <summary>False when the data is not a valid zlib stream or inflates to more than <paramref name="maxBytes"/> (a truncated stream yields what it holds).</summary>
    public static bool TryDecompress(byte[] data, int maxBytes, out byte[] result)
    {
        result = [];
        try
        {
            using var input = new MemoryStream(data, writable: false);
            using var z = new ZLibStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = z.Read(buffer)) > 0)
            {
                if (output.Length + n > maxBytes) return false;
                output.Write(buffer, 0, n);
            }
            result = output.ToArray();
            return true;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
