using System.Globalization;
using WeSeek.Channels.WeChat;
using WeSeek.Messaging;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>WeChat callback fields to <see cref="InboundMessage"/>, and the passive reply XML. Shared with WeCom,
/// whose message fields are the same (protocols.md §2.1).</summary>
internal static class OfficialAccountMessageMapper
{
    /// <summary>Maps the decrypted fields; null when required fields are missing (a malformed callback).</summary>
    public static InboundMessage? ToInbound(ChannelId channel, string account, IReadOnlyDictionary<string, string> f)
    {
        if (!f.TryGetValue("FromUserName", out var from) || string.IsNullOrEmpty(from) || from.Length > 128
            || !f.TryGetValue("MsgType", out var type)
            || !f.TryGetValue("CreateTime", out var created) || !long.TryParse(created, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return null;
        }

        var (kind, text) = Render(type, f);
        // Messages are deduplicated by MsgId, events by sender and CreateTime (protocols.md §1.4).
        var externalId = f.TryGetValue("MsgId", out var msgId) && msgId.Length > 0
            ? msgId
            : $"{from}:{seconds.ToString(CultureInfo.InvariantCulture)}:{Get(f, "Event")}";
        return new InboundMessage(channel, account, externalId, from, from, text, DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253_402_300_799L)))
        {
            Kind = kind,
            Attachments = type == "image" ? [new MediaAttachment(MessageKind.Image, NullIfEmpty(Get(f, "MediaId")), NullIfEmpty(Get(f, "PicUrl")))] : [],
        };
    }

    private static (MessageKind Kind, string Text) Render(string type, IReadOnlyDictionary<string, string> f) => type switch
    {
        "text" => (MessageKind.Text, Get(f, "Content")),
        "image" => (MessageKind.Image, $"[图片] {Get(f, "PicUrl")}".TrimEnd()),
        // WeChat's own speech recognition, when the console enables it; otherwise there is nothing to answer.
        "voice" when Get(f, "Recognition") is { Length: > 0 } said => (MessageKind.Voice, said),
        "voice" => (MessageKind.Other, "[语音]"),
        "video" or "shortvideo" => (MessageKind.Other, "[视频]"),
        "location" => (MessageKind.Text, $"[位置] {Get(f, "Label")} ({Get(f, "Location_X")}, {Get(f, "Location_Y")})"),
        "link" => (MessageKind.Text, $"[链接] {Get(f, "Title")}\n{Get(f, "Description")}\n{Get(f, "Url")}"),
        "event" => RenderEvent(Get(f, "Event"), f),
        _ => (MessageKind.Other, $"[{type}]"),
    };

    private static (MessageKind, string) RenderEvent(string name, IReadOnlyDictionary<string, string> f) => name.ToUpperInvariant() switch
    {
        "SUBSCRIBE" => (MessageKind.Event, "（用户关注了公众号，请简短地打个招呼并介绍你能做什么）"),
        "CLICK" => (MessageKind.Event, $"（用户点击了菜单「{Get(f, "EventKey")}」）"),
        // unsubscribe, VIEW, LOCATION, enter_agent and unknown events: stored, not answered.
        _ => (MessageKind.Other, $"[事件] {name}"),
    };

    private static string Get(IReadOnlyDictionary<string, string> f, string name) => f.TryGetValue(name, out var value) ? value : "";

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>A passive text reply: To and From swapped relative to the request.</summary>
    public static string TextReply(string toUser, string fromAccount, string content, DateTimeOffset now, string? agentId = null) =>
        "<xml><ToUserName>" + WeChatCallback.Cdata(toUser) + "</ToUserName><FromUserName>" + WeChatCallback.Cdata(fromAccount)
        + "</FromUserName><CreateTime>" + WeChatCallback.UnixSeconds(now) + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"
        + WeChatCallback.Cdata(content) + "</Content>" + (agentId is null ? "" : "<AgentID>" + agentId + "</AgentID>") + "</xml>";
}
