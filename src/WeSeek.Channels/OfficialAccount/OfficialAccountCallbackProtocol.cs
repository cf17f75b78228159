using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>
/// What is 公众号's own in a callback: plain, compatible or safe mode (<c>encrypt_type=aes</c>), the 3-field
/// signature in plain mode and msg_signature over the ciphertext otherwise, an <c>echostr</c> echoed as it
/// came, the account's message mapping, <c>success</c>, and the reply modes: a customer-service account waits
/// <see cref="WeChatCallbackOptions.PassiveReplyBudget"/> and leaves the rest to the 客服 API; a
/// <see cref="ReplyMode.PassiveOnly"/> account holds WeChat's retries, answers the last delivery with the
/// placeholder, and lets the user's next message fetch the waiting answer. <c>typing</c> starts the typing
/// status for a stored message without waiting for it; null when the account does not type.
/// </summary>
internal sealed class OfficialAccountCallbackProtocol(
    ChannelId channel, string name, OfficialAccountSettings account, OfficialAccountOptions options, WeChatMessageCrypto? crypto,
    Action<long, InboundMessage>? typing)
    : IWeChatCallbackProtocol
{
    private bool PassiveOnly => account.ReplyMode == ReplyMode.PassiveOnly;

    public string Acknowledgement => "success";

    public string? Placeholder => PassiveOnly ? account.PendingReplyText : null;

    public string? CheckQuery(IQueryCollection query, out bool encrypted)
    {
        encrypted = string.Equals(query["encrypt_type"], "aes", StringComparison.OrdinalIgnoreCase);
        if (!encrypted && account.EffectiveMode == CallbackMode.Safe)
        {
            // The 3-field signature does not cover the body: in safe mode a plaintext body could come from anyone
            // who has seen one callback URL.
            return "plaintext callback to a safe-mode account";
        }

        // In plain mode the 3-field signature is the only proof; in compatible and safe mode msg_signature
        // covers the ciphertext ("不要使用signature验证").
        return !encrypted && !WeChatSignature.Verify(query["signature"], account.Token, query["timestamp"].ToString(), query["nonce"].ToString())
            ? "bad signature"
            : null;
    }

    public Dictionary<string, string>? Open(string body, IQueryCollection query, bool encrypted, out string? reason)
    {
        reason = null;
        var fields = WeChatXml.Parse(body);
        if (!encrypted)
        {
            return fields;
        }

        if (crypto is null)
        {
            reason = "encrypted callback but no EncodingAesKey configured";
            return null;
        }

        // Compatible mode carries plaintext fields too; only the signed ciphertext is trusted.
        if (!fields.TryGetValue("Encrypt", out var cipher))
        {
            reason = "no Encrypt element";
            return null;
        }

        return WeChatXml.Parse(crypto.VerifyAndDecrypt(query["msg_signature"], query["timestamp"].ToString(), query["nonce"].ToString(), cipher));
    }

    public InboundMessage? Map(Dictionary<string, string> fields) => OfficialAccountMessageMapper.ToInbound(channel, name, fields);

    // The GET is the same in every mode: the 3-field signature, and echostr is not encrypted (protocols.md §1.1).
    public string OpenEchostr(IQueryCollection query, string echostr) =>
        WeChatSignature.Verify(query["signature"], account.Token, query["timestamp"].ToString(), query["nonce"].ToString())
            ? echostr
            : throw new WeChatCryptoException(WeChatCryptoError.InvalidSignature, "bad signature");

    // "回复任意文字获取回答": the first delivery of a new message fetches an answer that waits.
    public bool FetchesWaitingAnswer(int delivery) => PassiveOnly && delivery == 1;

    public TimeSpan? PassiveWindow(int delivery)
    {
        if (!PassiveOnly)
        {
            // Zero turns passive replies off: the API delivers every answer.
            return options.PassiveReplyBudget > TimeSpan.Zero ? options.PassiveReplyBudget : null;
        }

        // Hold every delivery but the last past WeChat's 5 s, so that it retries; its disconnect ends the wait.
        return delivery >= options.Deliveries ? options.PassiveReplyBudget : options.PassiveReplyBudget + TimeSpan.FromSeconds(5);
    }

    public string? EventReply(Dictionary<string, string> fields, AcceptResult accepted) => null;

    public void Stored(InboundMessage message, AcceptResult accepted)
    {
        if (accepted.Outcome == AcceptOutcome.Stored)
        {
            typing?.Invoke(accepted.InboxId, message);
        }
    }

    // To and From swapped: the account's gh_ ID is the request's ToUserName.
    public string TextReply(string chatId, Dictionary<string, string> fields, string text, DateTimeOffset now) =>
        OfficialAccountMessageMapper.TextReply(chatId, fields.TryGetValue("ToUserName", out var gh) ? gh : "", text, now);

    // Only reached for an encrypted callback, which Open refused without a key.
    public string EncryptReply(string xml, string timestamp, string nonce) => crypto!.EncryptReply(xml, timestamp, nonce);
}
