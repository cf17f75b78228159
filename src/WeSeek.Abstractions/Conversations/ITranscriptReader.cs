using WeSeek.Messaging;

namespace WeSeek.Conversations;

/// <summary>
/// Read access to what was said in a chat: inbound messages and the replies stored for them. Channels with
/// a user interface of their own (the web chat) use it to show history.
/// </summary>
public interface ITranscriptReader
{
    /// <summary>The chats of a channel, most recent first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ChatSummary>> ListChatsAsync(ChannelId channel, int limit, CancellationToken cancellationToken);

    /// <summary>The chats of a channel whose id starts with <paramref name="chatIdPrefix"/> (ordinal), most recent
    /// first, at most <paramref name="limit"/>: one web chat visitor's chats.</summary>
    Task<IReadOnlyList<ChatSummary>> ListChatsAsync(ChannelId channel, string chatIdPrefix, int limit, CancellationToken cancellationToken);

    /// <summary>A chat's messages in order, at most the last <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<TranscriptEntry>> ReadAsync(ChannelId channel, string chatId, int limit, CancellationToken cancellationToken);
}

/// <summary>A chat in a list.</summary>
/// <param name="ChatId">The chat.</param>
/// <param name="Preview">The start of its last inbound message.</param>
/// <param name="LastActivity">When it was last written to.</param>
public sealed record ChatSummary(string ChatId, string Preview, DateTimeOffset LastActivity);

/// <summary>One message of a transcript.</summary>
/// <param name="Id">Inbox id for user messages, outbox id for replies.</param>
/// <param name="FromUser">True for the user's messages.</param>
/// <param name="Text">The text.</param>
/// <param name="At">When it was stored.</param>
/// <param name="InboxId">For a reply, the message it answers; for a user message, its own id.</param>
/// <param name="Delivered">For a reply, whether the channel has sent it; always true for user messages.</param>
public sealed record TranscriptEntry(long Id, bool FromUser, string Text, DateTimeOffset At, long InboxId, bool Delivered);
