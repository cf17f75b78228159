using System.Text;

namespace WeSeek.Composition;

/// <summary>
/// Splits text into messages that fit a channel: at most a number of UTF-16 characters and of UTF-8 bytes,
/// broken preferably at a paragraph, then a line, then a sentence end (Chinese or Latin), then a space or
/// comma, and never inside a surrogate pair. Hand-written: no library splits by both limits with Chinese
/// sentence ends.
/// </summary>
internal static class ReplySplitter
{
    private static readonly string[] Breaks = ["\n\n", "\n", "。", "！", "？", "!", "?", ". ", "；", ";", "，", ", ", " "];

    public static List<string> Split(string text, int maxChars, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 2);
        var parts = new List<string>();
        var rest = text.Trim();
        while (rest.Length > 0)
        {
            var limit = FitLength(rest, maxChars, maxBytes);
            if (limit >= rest.Length)
            {
                parts.Add(rest);
                break;
            }

            var cut = BestBreak(rest, limit);
            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart();
        }

        return parts;
    }

    /// <summary>The longest prefix length within both limits that does not end inside a surrogate pair.</summary>
    private static int FitLength(string text, int maxChars, int maxBytes)
    {
        var length = Math.Min(text.Length, maxChars);
        if (maxBytes > 0)
        {
            var bytes = 0;
            for (var i = 0; i < length; i++)
            {
                var size = char.IsHighSurrogate(text[i]) ? 4 : char.IsLowSurrogate(text[i]) ? 0 : Encoding.UTF8.GetByteCount(text.AsSpan(i, 1));
                if (bytes + size > maxBytes)
                {
                    length = i;
                    break;
                }

                bytes += size;
            }
        }

        if (length > 0 && length < text.Length && char.IsHighSurrogate(text[length - 1]))
        {
            length--;
        }

        return Math.Max(length, 1);
    }

    private static int BestBreak(string text, int limit)
    {
        // Only accept a break in the second half, so pieces are not needlessly small.
        var floor = limit / 2;
        foreach (var mark in Breaks)
        {
            var at = text.LastIndexOf(mark, limit - mark.Length, limit - mark.Length + 1, StringComparison.Ordinal);
            if (at >= floor)
            {
                return at + mark.Length;
            }
        }

        return limit;
    }
}
