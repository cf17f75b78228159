using WeSeek.Conversations;
using WeSeek.Messaging;

namespace WeSeek.Channels.WebChat;

/// <summary>Conversions between the page's JSON and WeSeek's messages.</summary>
internal static class WebChatMessageMapper
{
    /// <summary>Ids the page generates: 1-64 of <c>[A-Za-z0-9_-]</c>, safe in URLs and keys.</summary>
    public static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public static InboundMessage ToInbound(string chatId, string clientMessageId, string text, DateTimeOffset now) =>
        // The external id is scoped by chat, so two pages cannot collide on a client id.
        new(WebChatChannel.ChannelId, WebChatChannel.AccountId, $"{chatId}/{clientMessageId}", chatId, chatId, text, now);

    public static object ToJson(TranscriptEntry entry) => new
    {
        id = entry.Id,
        fromUser = entry.FromUser,
        text = entry.Text,
        at = entry.At,
        inboxId = entry.InboxId,
        delivered = entry.Delivered,
    };

    public static object ToJson(ChatSummary chat) => new { chatId = chat.ChatId, preview = chat.Preview, lastActivity = chat.LastActivity };
}
