using WeSeek.Messaging;

namespace WeSeek.Feedback;

/// <summary>An answer that can be rated: the prompt exactly as the model was given it, and the answer (never the
/// reasoning).</summary>
/// <param name="InboxId">The message it answered.</param>
/// <param name="Conversation">The conversation key.</param>
/// <param name="Channel">The channel of the chat.</param>
/// <param name="ChatId">The chat.</param>
/// <param name="Prompt">The messages the model was given, in order (persona, window, passages, the question).</param>
/// <param name="Answer">The answer.</param>
/// <param name="Model">The model that gave it, when known.</param>
/// <param name="At">When it was given.</param>
internal sealed record RatedAnswer(long InboxId, string Conversation, string Channel, string ChatId, IReadOnlyList<PromptMessage> Prompt, string Answer, string? Model, DateTimeOffset At);

/// <summary>One message of a prompt.</summary>
internal sealed record PromptMessage(string Role, string Content);

/// <summary>A rated answer as the export reads it.</summary>
internal sealed record FeedbackRecord(RatedAnswer Answer, FeedbackKind Kind, string? Correction, DateTimeOffset RatedAt);

/// <summary>
/// Where answers and their ratings are kept. Every method is one short transaction; thread-safe.
/// </summary>
internal interface IFeedbackStore
{
    /// <summary>Keeps an answer for rating (a turn run again replaces it), and forgets unrated answers older than
    /// <paramref name="forgetUnratedBefore"/>.</summary>
    Task KeepAnswerAsync(RatedAnswer answer, DateTimeOffset forgetUnratedBefore, CancellationToken cancellationToken);

    /// <summary>The latest answer in <paramref name="conversation"/> given at or after <paramref name="since"/>.</summary>
    Task<long?> LatestAnswerAsync(string conversation, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>Rates the answer to <paramref name="inboxId"/> if it was given in that chat; false otherwise. A later
    /// rating replaces an earlier one; a correction given before stays unless a new one replaces it.</summary>
    Task<bool> RateAsync(long inboxId, ChannelId channel, string chatId, FeedbackKind kind, string? correction, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Ratings given at or after <paramref name="since"/>, oldest first, with their answers.</summary>
    IAsyncEnumerable<FeedbackRecord> ReadAsync(DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>One chat's ratings, oldest first, with their answers (the console's conversation view).</summary>
    IAsyncEnumerable<FeedbackRecord> ReadChatAsync(ChannelId channel, string chatId, CancellationToken cancellationToken);
}
