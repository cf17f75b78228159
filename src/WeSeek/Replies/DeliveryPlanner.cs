using System.Globalization;
using System.Text;
using WeSeek.Messaging;

namespace WeSeek.Replies;

/// <summary>
/// An answer laid out for a channel: pages of messages, one page per user trigger. The first page goes out
/// now; the rest wait server-side until the user sends 「继续」.
/// </summary>
/// <param name="Pages">At least one page; each page at most the channel's messages per trigger.</param>
/// <param name="Truncated">True when the answer was longer than the most pages kept.</param>
internal sealed record DeliveryPlan(IReadOnlyList<IReadOnlyList<string>> Pages, bool Truncated);

/// <summary>
/// The delivery planner: WeChat-safe text (Markdown flattened where the channel shows plain text), split at
/// paragraph, sentence and code-block boundaries within the channel's character and UTF-8 byte limits, and
/// paged by the messages one trigger may be answered with. A page that has a next one ends with
/// "回复「继续」查看剩余 (2/3)"; room for that line is reserved in every message of a paged answer, so no
/// message ever exceeds the limits. Pure: the composer stores the pages.
/// </summary>
internal static class DeliveryPlanner
{
    /// <summary>What the user sends for the next page.</summary>
    public const string ContinueWord = "继续";

    /// <summary>The line ending a page that has a next one: the next page's number and the count.</summary>
    public static string ContinueNote(int nextPage, int pages) =>
        string.Create(CultureInfo.InvariantCulture, $"回复「{ContinueWord}」查看剩余 ({nextPage}/{pages})");

    // The widest note (two-digit pages) and its separator, reserved in every message of a paged answer.
    private static readonly string WidestNote = "\n\n" + ContinueNote(99, 99);

    public static DeliveryPlan Plan(string answer, IReadOnlyList<string> lead, ChannelCapabilities capabilities, int perTrigger, int maxPages)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(lead);
        ArgumentNullException.ThrowIfNull(capabilities);
        ArgumentOutOfRangeException.ThrowIfLessThan(perTrigger, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPages, 1);
        var flat = capabilities.Markdown ? new FlatText(answer, []) : MarkdownFlattener.Flatten(answer);
        var firstRoom = Math.Max(1, perTrigger - lead.Count);
        var parts = ReplySplitter.Split(flat, capabilities.MaxTextLength, capabilities.MaxTextBytes);
        if (parts.Count <= firstRoom)
        {
            return new DeliveryPlan([[.. lead, .. parts]], Truncated: false);
        }

        // Paged: split again leaving room for the note (or the truncation mark, which is shorter).
        var maxChars = Math.Max(2, capabilities.MaxTextLength - WidestNote.Length);
        var maxBytes = capabilities.MaxTextBytes > 0 ? Math.Max(8, capabilities.MaxTextBytes - Encoding.UTF8.GetByteCount(WidestNote)) : 0;
        parts = ReplySplitter.Split(flat, maxChars, maxBytes);
        List<List<string>> pages = [[.. lead, .. parts.Take(firstRoom)]];
        for (var at = firstRoom; at < parts.Count; at += perTrigger)
        {
            pages.Add([.. parts.Skip(at).Take(perTrigger)]);
        }

        var truncated = pages.Count > maxPages;
        if (truncated)
        {
            pages.RemoveRange(maxPages, pages.Count - maxPages);
            pages[^1][^1] += ComposerMiddleware.TruncationMark;
        }

        for (var i = 0; i < pages.Count - 1; i++)
        {
            pages[i][^1] += "\n\n" + ContinueNote(i + 2, pages.Count);
        }

        return new DeliveryPlan(pages, truncated);
    }
}
