using System.IO.Compression;

namespace WeSeek.Knowledge;

/// <summary>
/// Checks a zip-based document (.docx, and any other zip container a reader is given) before a library opens it:
/// a few kilobytes of deflate can expand to gigabytes (a zip bomb), and the Open XML SDK would inflate the whole
/// main part into memory. Entries are inflated here through a counting stream that stops at the limits, so the
/// sizes checked are the real ones, not the ones the archive declares. Throws <see cref="InvalidDataException"/>.
/// </summary>
internal static class ZipLimits
{
    /// <summary>Most entries. A Word document has a few dozen; 2,000 leaves room for one with many images.</summary>
    public const int MaxEntries = 2_000;

    /// <summary>Most bytes all entries inflate to: 256 MiB, beyond any real document with its images.</summary>
    public const long MaxTotalBytes = 256L * 1024 * 1024;

    /// <summary>Most bytes the XML parts inflate to together: 32 MiB, about 10,000 pages of text. The SDK holds
    /// them as a DOM, several times their size in memory.</summary>
    public const long MaxXmlBytes = 32L * 1024 * 1024;

    /// <summary>Largest inflated/compressed ratio of an entry over 1 MiB: 100. Word's XML compresses 5–20×;
    /// a bomb's runs of one byte compress 1,000×.</summary>
    public const int MaxRatio = 100;

    private const long RatioFloor = 1024 * 1024;

    public static void Check(byte[] content, string format)
    {
        ArgumentNullException.ThrowIfNull(content);
        try
        {
            using var archive = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            if (archive.Entries.Count > MaxEntries)
            {
                throw new InvalidDataException($"{format}: {archive.Entries.Count} zip entries, more than {MaxEntries}: refused as a zip bomb");
            }

            long total = 0;
            long xml = 0;
            var buffer = new byte[81_920];
            foreach (var entry in archive.Entries)
            {
                var isXml = entry.FullName.EndsWith(".xml", StringComparison.OrdinalIgnoreCase) || entry.FullName.EndsWith(".rels", StringComparison.OrdinalIgnoreCase);
                long size = 0;
                using var stream = entry.Open();
                int read;
                while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
                {
                    size += read;
                    total += read;
                    xml += isXml ? read : 0;
                    if (total > MaxTotalBytes || xml > MaxXmlBytes)
                    {
                        throw new InvalidDataException($"{format}: inflates to more than {(total > MaxTotalBytes ? MaxTotalBytes : MaxXmlBytes) / (1024 * 1024)} MiB{(isXml ? " of XML" : "")}: refused as a zip bomb");
                    }

                    if (size > RatioFloor && size > (long)MaxRatio * Math.Max(1, entry.CompressedLength))
                    {
                        throw new InvalidDataException($"{format}: {entry.FullName} inflates more than {MaxRatio}× its compressed size: refused as a zip bomb");
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{format}: not a readable zip archive: {ex.Message}", ex);
        }
    }
}
