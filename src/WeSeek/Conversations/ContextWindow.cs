namespace WeSeek.Conversations;

/// <summary>
/// Decides a conversation's window for the next turn. Between compactions the window only grows at the end,
/// so the rendered prompt of turn N is a byte-for-byte prefix of turn N+1's (the engine's KV cache and a
/// server's prefix cache keep hitting). When the next prompt would pass <see cref="ContextOptions.MaxTokens"/>,
/// whole turns are dropped from the front at once until it fits in <see cref="ContextOptions.CompactTo"/> of
/// it: a new epoch. Pure; the caller persists the result.
/// </summary>
internal static class ContextWindow
{
    /// <summary>The window for the next turn.</summary>
    /// <param name="window">The current window, in order.</param>
    /// <param name="fixedTokens">Tokens every prompt carries (the persona).</param>
    /// <param name="newTokens">Tokens of the new user message.</param>
    /// <param name="options">The limits.</param>
    /// <returns>The entries to keep and, when it compacted, the new window start (else null).</returns>
    public static (IReadOnlyList<HistoryEntry> Kept, long? NewStart) Plan(IReadOnlyList<HistoryEntry> window, int fixedTokens, int newTokens, ContextOptions options)
    {
        var total = fixedTokens + newTokens + window.Sum(e => e.Tokens);
        if (total <= options.MaxTokens)
        {
            return (window, null);
        }

        var target = (int)(options.MaxTokens * options.CompactTo);
        var start = 0;
        while (start < window.Count && total > target)
        {
            // Drop a whole turn (a user message and the answer to it), never half of one.
            var inbox = window[start].InboxId;
            while (start < window.Count && window[start].InboxId == inbox)
            {
                total -= window[start].Tokens;
                start++;
            }
        }

        var kept = window.Skip(start).ToList();
        var newStart = kept.Count > 0 ? kept[0].Id : (window.Count > 0 ? window[^1].Id + 1 : 0);
        return (kept, newStart);
    }
}
