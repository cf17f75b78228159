using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>
/// What is 企业微信's own in a callback: always encrypted (no plain mode), always msg_signature, an encrypted
/// <c>echostr</c>, receiveid = CorpID, the app's message mapping, an empty acknowledgement, the optional
/// greeting for <c>subscribe</c>, and replies that carry the app's AgentID.
/// </summary>
internal sealed class WeComCallbackProtocol(ChannelId channel, string name, WeComAppSettings app, WeComOptions options, WeChatMessageCrypto crypto)
    : IWeChatCallbackProtocol
{
    // WeCom's "received, nothing to say" (protocols.md §2.1).
    public string Acknowledgement => "";

    public string? Placeholder => null;

    public string? CheckQuery(IQueryCollection query, out bool encrypted)
    {
        encrypted = true;
        // Cheap refusal before the body is read: WeCom always signs with msg_signature.
        return query["msg_signature"].ToString() is not { Length: 40 } ? "missing msg_signature" : null;
    }

    public Dictionary<string, string>? Open(string body, IQueryCollection query, bool encrypted, out string? reason)
    {
        reason = null;
        var envelope = WeChatXml.Parse(body);
        if (!envelope.TryGetValue("Encrypt", out var cipher))
        {
            reason = "no Encrypt element";
            return null;
        }

        return WeChatXml.Parse(crypto.VerifyAndDecrypt(query["msg_signature"], query["timestamp"].ToString(), query["nonce"].ToString(), cipher));
    }

    public InboundMessage? Map(Dictionary<string, string> fields) => WeComMessageMapper.ToInbound(channel, name, fields);

    public string OpenEchostr(IQueryCollection query, string echostr) => OpenEchostr(crypto, query, echostr);

    /// <summary>msg_signature over the <b>encrypted</b> echostr, then its plaintext (receiveid = CorpID), to be
    /// answered bare (no quotes, BOM or newline). Local work only, well inside WeCom's 1 s.</summary>
    internal static string OpenEchostr(WeChatMessageCrypto crypto, IQueryCollection query, string echostr) =>
        // The query is already URL-decoded; a '+' that arrived unencoded became a space, and Base64 has none.
        crypto.VerifyAndDecrypt(query["msg_signature"], query["timestamp"].ToString(), query["nonce"].ToString(), echostr.Replace(' ', '+'));

    public bool FetchesWaitingAnswer(int delivery) => false;

    // Zero sends every answer through message/send.
    public TimeSpan? PassiveWindow(int delivery) => options.PassiveReplyBudget > TimeSpan.Zero ? options.PassiveReplyBudget : null;

    // A fixed greeting, answered on the first delivery only: a retry of the event gets nothing twice.
    public string? EventReply(Dictionary<string, string> fields, AcceptResult accepted) =>
        WeComMessageMapper.IsSubscribe(fields) && app.WelcomeText.Length > 0 && accepted.Outcome == AcceptOutcome.Stored ? app.WelcomeText : null;

    public void Stored(InboundMessage message, AcceptResult accepted)
    {
        // WeCom's apps have no typing status.
    }

    public string TextReply(string chatId, Dictionary<string, string> fields, string text, DateTimeOffset now) =>
        WeComMessageMapper.TextReply(chatId, fields.TryGetValue("ToUserName", out var corpId) ? corpId : app.CorpId, text, now, app.AgentId);

    public string EncryptReply(string xml, string timestamp, string nonce) => crypto.EncryptReply(xml, timestamp, nonce);
}
