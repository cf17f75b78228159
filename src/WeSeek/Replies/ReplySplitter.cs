using System.Text;

namespace WeSeek.Replies;

/// <summary>
/// Splits text into messages that fit a channel: at most a number of UTF-16 characters and of UTF-8 bytes,
/// broken preferably at a paragraph, then a line, then a sentence end (Chinese or Latin), then a space or
/// comma, and never inside a surrogate pair (so never inside a UTF-8 sequence). Breaks inside an unbreakable
/// range (a code block) are used only when the range alone is longer than a message. Hand-written: no library
/// splits by both limits with Chinese sentence ends.
/// </summary>
internal static class ReplySplitter
{
    private static readonly string[] Breaks = ["\n\n", "\n", "。", "！", "？", "!", "?", ". ", "；", ";", "，", ", ", " "];

    public static List<string> Split(string text, int maxChars, int maxBytes) => Split(new FlatText(text, []), maxChars, maxBytes);

    public static List<string> Split(FlatText flat, int maxChars, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(flat);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 2);
        var text = flat.Text;
        var parts = new List<string>();
        var start = 0;
        while (start < text.Length && char.IsWhiteSpace(text[start]))
        {
            start++;
        }

        var end = text.Length;
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }

        while (start < end)
        {
            var rest = text.AsSpan(start, end - start);
            var limit = FitLength(rest, maxChars, maxBytes);
            if (limit >= rest.Length)
            {
                parts.Add(rest.ToString());
                break;
            }

            var cut = BestBreak(text, start, limit, flat.Unbreakable);
            parts.Add(text.AsSpan(start, cut).TrimEnd().ToString());
            start += cut;
            while (start < end && char.IsWhiteSpace(text[start]))
            {
                start++;
            }
        }

        return parts;
    }

    /// <summary>The longest prefix length within both limits that does not end inside a surrogate pair.</summary>
    private static int FitLength(ReadOnlySpan<char> text, int maxChars, int maxBytes)
    {
        var length = Math.Min(text.Length, maxChars);
        if (maxBytes > 0)
        {
            var bytes = 0;
            for (var i = 0; i < length; i++)
            {
                var size = char.IsHighSurrogate(text[i]) ? 4 : char.IsLowSurrogate(text[i]) ? 0 : Encoding.UTF8.GetByteCount(text.Slice(i, 1));
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

    /// <summary>Where to end the piece that starts at <paramref name="start"/> and may be <paramref name="limit"/>
    /// long: the best break in its second half (so pieces are not needlessly small) outside unbreakable ranges,
    /// else before an unbreakable range that would be cut, else the limit itself.</summary>
    private static int BestBreak(string text, int start, int limit, IReadOnlyList<Range> unbreakable)
    {
        var floor = limit / 2;
        foreach (var mark in Breaks)
        {
            var from = limit - mark.Length;
            while (from >= floor)
            {
                var at = text.LastIndexOf(mark, start + from, from + 1, StringComparison.Ordinal);
                if (at < 0 || at - start < floor)
                {
                    break;
                }

                var cut = at - start + mark.Length;
                if (!Inside(start + cut, unbreakable, text.Length))
                {
                    return cut;
                }

                from = at - start - 1;
            }
        }

        // No natural break outside code in the second half: end before the code block that the limit cuts,
        // when one starts within this piece; a block longer than a whole message is cut where it must be.
        foreach (var range in unbreakable)
        {
            var (offset, length) = range.GetOffsetAndLength(text.Length);
            if (offset > start && offset < start + limit && offset + length > start + limit)
            {
                return offset - start;
            }
        }

        if (Inside(start + limit, unbreakable, text.Length))
        {
            // Inside a block longer than a message: a line break is still the least bad place.
            var line = text.LastIndexOf('\n', start + limit - 1, limit);
            if (line - start >= floor)
            {
                return line - start + 1;
            }
        }

        return limit;
    }

    private static bool Inside(int position, IReadOnlyList<Range> unbreakable, int length)
    {
        foreach (var range in unbreakable)
        {
            var (offset, size) = range.GetOffsetAndLength(length);
            if (position > offset && position < offset + size)
            {
                return true;
            }
        }

        return false;
    }
}
