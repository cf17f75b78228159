using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChat;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeCom;

/// <summary>
/// What is 企业微信's own in a callback: always encrypted (no plain mode), always msg_signature, receiveid =
/// CorpID, and the app's message mapping.
/// </summary>
internal sealed class WeComCallbackProtocol(ChannelId channel, string name, WeChatMessageCrypto crypto) : IWeChatCallbackProtocol
{
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
}
