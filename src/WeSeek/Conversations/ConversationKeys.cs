using WeSeek.Messaging;

namespace WeSeek.Conversations;

/// <summary>Which conversation (context, and order of processing) an inbound message belongs to.</summary>
internal static class ConversationKeys
{
    public static string For(InboundMessage message, GroupContextScope groupScope) =>
        message.IsGroup && groupScope == GroupContextScope.PerMember
            ? $"{message.Channel}/{message.AccountId}/{message.ChatId}/{message.SenderId}"
            : $"{message.Channel}/{message.AccountId}/{message.ChatId}";
}
