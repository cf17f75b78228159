namespace WeSeek.Conversations;

/// <summary>A conversation's persisted state: its window of history and its settings.</summary>
internal sealed record ConversationState(string Key, long WindowStart, int Epoch, bool ShowThinking, IReadOnlyList<HistoryEntry> Window);

/// <summary>One stored message of a conversation's history (never reasoning).</summary>
internal sealed record HistoryEntry(long Id, long InboxId, string Role, string Content, int Tokens);

/// <summary>
/// Conversation memory: history and context epochs. History is append-only (a turn's completion appends it,
/// in the turn's unit of work); the window is everything from <see cref="ConversationState.WindowStart"/> on, so
/// compaction and <c>/reset</c> move one number and delete nothing (the transcript stays for the operator).
/// Bodies are decrypted on read. Thread-safe.
/// </summary>
internal interface IConversationStore
{
    /// <summary>The conversation's settings and its window of history, oldest first.</summary>
    Task<ConversationState> LoadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Starts a new epoch whose window begins at history id <paramref name="windowStart"/>.</summary>
    Task SetWindowAsync(string key, long windowStart, int epoch, CancellationToken cancellationToken);

    /// <summary>Forgets the context: the window starts after everything stored so far.</summary>
    Task ResetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Whether the conversation's answers show the model's reasoning.</summary>
    Task SetShowThinkingAsync(string key, bool show, CancellationToken cancellationToken);
}
