using WeSeek.Messaging;

namespace WeSeek.Conversations;

/// <summary>
/// Erases one chat on the server at its user's request: its messages and replies, its conversation memory, the
/// answers kept for rating and the ratings, and its per-chat settings, in one transaction; the erasure itself is
/// written to the audit log (which keeps no message text). The caller decides whose chat it is: the web chat
/// passes only the asking visitor's own chat ids. Thread-safe.
/// </summary>
public interface IChatEraser
{
    /// <summary>Erases <paramref name="chatId"/> of <paramref name="channel"/>. Nothing is erased when the chat has a
    /// message still being answered (<see cref="ChatErasure.Busy"/>): the caller asks again once it is answered.</summary>
    Task<ChatErasure> EraseAsync(ChannelId channel, string chatId, CancellationToken cancellationToken);
}

/// <summary>What an erasure did.</summary>
public enum ChatErasure
{
    /// <summary>The chat's stored messages and memory are gone.</summary>
    Erased,

    /// <summary>No chat by that id has anything stored (never written, or already erased).</summary>
    NotFound,

    /// <summary>A message of the chat is still being answered or its reply sent; nothing was erased.</summary>
    Busy,
}
