using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>
/// What is 公众号's own in a callback: plain, compatible or safe mode (<c>encrypt_type=aes</c>), the 3-field
/// signature in plain mode and msg_signature over the ciphertext otherwise, and the account's message mapping.
/// </summary>
internal sealed class OfficialAccountCallbackProtocol(ChannelId channel, string name, OfficialAccountSettings account, WeChatMessageCrypto? crypto)
    : IWeChatCallbackProtocol
{
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
}
