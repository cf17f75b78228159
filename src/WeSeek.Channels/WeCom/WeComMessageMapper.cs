using System.Globalization;
using WeSeek.Channels.OfficialAccount;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>WeCom callback fields to <see cref="InboundMessage"/>, and the passive reply XML. WeCom's message
/// fields are the 公众号's (protocols.md §2.1) with a member UserID for the OpenID and an <c>AgentID</c>, so the
/// 公众号 mapping does the work; only the events that differ are mapped here.</summary>
internal static class WeComMessageMapper
{
    /// <summary>Maps the decrypted fields; null when required fields are missing (a malformed callback).
    /// Messages are deduplicated by MsgId, events by FromUserName, CreateTime and Event.</summary>
    public static InboundMessage? ToInbound(ChannelId channel, string app, IReadOnlyDictionary<string, string> fields)
    {
        if (OfficialAccountMessageMapper.ToInbound(channel, app, fields) is not { } message)
        {
            return null;
        }

        // A member adding the app is not a question: stored, answered with the configured greeting if any,
        // never with a model call. enter_agent, unsubscribe, view and unknown events are stored and ignored
        // by the shared mapping already; click goes to the model as the menu choice it is.
        return IsSubscribe(fields) ? message with { Kind = MessageKind.Other, Text = "[事件] subscribe" } : message;
    }

    /// <summary>True for the <c>subscribe</c> event (compared case-insensitively: WeCom's documents mix cases).</summary>
    public static bool IsSubscribe(IReadOnlyDictionary<string, string> fields) =>
        fields.TryGetValue("MsgType", out var type) && string.Equals(type, "event", StringComparison.OrdinalIgnoreCase)
        && fields.TryGetValue("Event", out var name) && string.Equals(name, "subscribe", StringComparison.OrdinalIgnoreCase);

    /// <summary>A passive text reply: To is the member, From the CorpID, with the app's AgentID.</summary>
    public static string TextReply(string userId, string corpId, string content, DateTimeOffset now, int agentId) =>
        OfficialAccountMessageMapper.TextReply(userId, corpId, content, now, agentId.ToString(CultureInfo.InvariantCulture));
}
