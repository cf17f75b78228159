using WeSeek.Messaging;

namespace WeSeek.Feedback;

/// <summary>What a user thought of an answer.</summary>
public enum FeedbackKind
{
    /// <summary>👍: a good answer.</summary>
    Up,

    /// <summary>👎: a bad one (with a correction, the better answer).</summary>
    Down,
}

/// <summary>A rating of one answer, from the chat it was given in.</summary>
/// <param name="Channel">The channel of the chat.</param>
/// <param name="ChatId">The chat, as stored (a web chat visitor's chats are scoped to the visitor).</param>
/// <param name="InboxId">The message the answer answered (the web chat page knows it from its events).</param>
/// <param name="Kind">👍 or 👎.</param>
/// <param name="Correction">"A better answer would be…", or null.</param>
public sealed record AnswerFeedback(ChannelId Channel, string ChatId, long InboxId, FeedbackKind Kind, string? Correction);

/// <summary>What became of a rating.</summary>
public enum FeedbackOutcome
{
    /// <summary>Stored with the answer (a later rating of the same answer replaces it).</summary>
    Recorded,

    /// <summary>That chat has no such answer (never answered, answered by a command, or not the asker's chat).</summary>
    NoSuchAnswer,

    /// <summary>The correction is longer than <c>Feedback:MaxCorrectionLength</c>.</summary>
    TooLong,
}

/// <summary>
/// Records users' ratings of answers, for the training data <c>weseek feedback export</c> hands over. Channels with a
/// user interface of their own (the web chat's 👍/👎) call it; WeChat channels' 「👍」「👎」 replies reach it through
/// the pipeline. Thread-safe.
/// </summary>
public interface IAnswerFeedback
{
    /// <summary>Stores <paramref name="feedback"/> with its answer, encrypted and audited.</summary>
    Task<FeedbackOutcome> RecordAsync(AnswerFeedback feedback, CancellationToken cancellationToken);
}
