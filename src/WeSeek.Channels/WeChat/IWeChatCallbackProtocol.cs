using Microsoft.AspNetCore.Http;
using WeSeek.Channels.WeChatCrypto;
using WeSeek.Messaging;

namespace WeSeek.Channels.WeChat;

/// <summary>
/// What a WeChat callback protocol (公众号, 企业微信) supplies to <see cref="WeChatCallbackEndpoint"/>, which runs
/// the verify → read → parse → decrypt → map → accept → claim → reply skeleton the same way for both: the
/// signature parameters, the envelope, the mapping, which deliveries wait for a passive reply, and the reply
/// envelope. Called concurrently, one call per request; implementations keep no per-request state.
/// </summary>
internal interface IWeChatCallbackProtocol
{
    /// <summary>Checks the query before the body is read: null when it may go on, else why it is refused (403).
    /// <paramref name="encrypted"/> says whether the body carries an <c>Encrypt</c> element to verify.</summary>
    string? CheckQuery(IQueryCollection query, out bool encrypted);

    /// <summary>The message's fields from the body: parsed, and verified and decrypted when
    /// <paramref name="encrypted"/>; null with the reason for a 400. Throws <see cref="WeChatCryptoException"/>.</summary>
    Dictionary<string, string>? Open(string body, IQueryCollection query, bool encrypted, out string? reason);

    /// <summary>The normalised message, or null when fields are missing.</summary>
    InboundMessage? Map(Dictionary<string, string> fields);

    /// <summary>The body that answers a URL verification (GET) whose timestamp is fresh and whose
    /// <paramref name="echostr"/> is present. Throws <see cref="WeChatCryptoException"/> when the request is not
    /// from WeChat for this account or is malformed.</summary>
    string OpenEchostr(IQueryCollection query, string echostr);

    /// <summary>True when this delivery of a message may be answered with an answer already waiting in the
    /// outbox for its chat instead of being stored (a subscription account's "回复任意文字获取回答").</summary>
    bool FetchesWaitingAnswer(int delivery);

    /// <summary>How long this delivery of a message that asks for an answer waits for it in the callback
    /// (a passive reply); null when the answer always goes out through the platform's API.</summary>
    TimeSpan? PassiveWindow(int delivery);

    /// <summary>The reply to a stored message that asks for no answer (an event, a kind not answered), or null
    /// to acknowledge it.</summary>
    string? EventReply(Dictionary<string, string> fields, AcceptResult accepted);

    /// <summary>Called once a message that asks for an answer is stored, before the callback waits for it.
    /// Must not block: the callback's answer never waits on a call to the platform's API.</summary>
    void Stored(InboundMessage message, AcceptResult accepted);

    /// <summary>The reply when the passive window closed without an answer, or null to acknowledge.</summary>
    string? Placeholder { get; }

    /// <summary>The body of "received, nothing to say": WeChat neither retries it nor shows an error.</summary>
    string Acknowledgement { get; }

    /// <summary>A passive text reply to the message with these <paramref name="fields"/>, before encryption.</summary>
    string TextReply(string chatId, Dictionary<string, string> fields, string text, DateTimeOffset now);

    /// <summary>The reply envelope of an encrypted callback (protocols.md §1.5).</summary>
    string EncryptReply(string xml, string timestamp, string nonce);
}
