using System.ComponentModel.DataAnnotations;
using WeSeek.Channels.WeChat;

namespace WeSeek.Channels.OfficialAccount;

/// <summary>WeChat Official Accounts (公众号). Section <c>OfficialAccount</c>; one entry under
/// <c>Accounts</c> per account, its name in the callback URL <c>/wechat/mp/{name}</c>. The callback's keys
/// (<c>TimestampToleranceSeconds</c>, <c>PassiveReplyBudget</c>, <c>MaxBodyBytes</c>) are
/// <see cref="WeChatCallbackOptions"/>'s.</summary>
public sealed class OfficialAccountOptions : WeChatCallbackOptions
{
    /// <summary>The accounts by name (lower-case letters, digits, '-', '_'). Default none: the channel is
    /// registered only when at least one is configured.</summary>
    public Dictionary<string, OfficialAccountSettings> Accounts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Base address of WeChat's API. Default <c>https://api.weixin.qq.com</c>; tests point it at a fake.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://api.weixin.qq.com");

    /// <summary>How long a message's turn may take before "对方正在输入" is shown, once. Default 1 s: an answer
    /// ready sooner needs no indicator, and a typing call racing a fast answer could reach WeChat after it.
    /// WeChat shows the status for 15 s, refuses a second one inside that (45081) and any 30 s after the
    /// user's message (45080), so it is never renewed.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:25")]
    public TimeSpan TypingDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Deliveries WeChat makes of one message (the original and its retries). Default 3: the reading
    /// of "总共重试三次" that production bots use (protocols.md §1.4). Only <see cref="ReplyMode.PassiveOnly"/>
    /// accounts use it: the last delivery gets the placeholder if the answer is still not ready.</summary>
    [Range(1, 10)]
    public int Deliveries { get; set; } = 3;
}

/// <summary>One Official Account, as set in the MP console (开发 → 基本配置).</summary>
public sealed class OfficialAccountSettings
{
    /// <summary>服务器配置 → 令牌 (Token). Required.</summary>
    public string Token { get; set; } = "";

    /// <summary>服务器配置 → 消息加解密密钥 (EncodingAESKey), 43 characters. Required for compatible and safe
    /// mode; may be empty for plain mode only.</summary>
    public string EncodingAesKey { get; set; } = "";

    /// <summary>服务器配置 → 消息加解密方式, which callbacks this account accepts. Default: <see cref="CallbackMode.Safe"/>
    /// when <see cref="EncodingAesKey"/> is set, <see cref="CallbackMode.Plain"/> otherwise. Only safe mode makes
    /// the body's origin provable: the plain <c>signature</c> covers token, timestamp and nonce but not the
    /// body, so under Plain or Compatible whoever has seen one callback URL can post any message within the
    /// timestamp window.</summary>
    public CallbackMode? Mode { get; set; }

    /// <summary>The mode in force: <see cref="Mode"/>, or its default.</summary>
    internal CallbackMode EffectiveMode => Mode ?? (string.IsNullOrEmpty(EncodingAesKey) ? CallbackMode.Plain : CallbackMode.Safe);

    /// <summary>开发者ID (AppID); the receiveid of every encrypted message. Required.</summary>
    public string AppId { get; set; } = "";

    /// <summary>开发者密码 (AppSecret), for stable_token. Required for <see cref="ReplyMode.CustomerService"/>.
    /// Never logged.</summary>
    public string AppSecret { get; set; } = "";

    /// <summary>How answers that miss the passive budget reach the user. Default
    /// <see cref="ReplyMode.CustomerService"/> (verified service accounts).</summary>
    public ReplyMode ReplyMode { get; set; } = ReplyMode.CustomerService;

    /// <summary>Send the "typing" status while the model thinks. Default true; needs the 客服 permission.</summary>
    public bool Typing { get; set; } = true;

    /// <summary>What a <see cref="ReplyMode.PassiveOnly"/> account answers on the last delivery when the answer
    /// is not ready yet. Default 「回复任意文字获取回答」: the user's next message fetches it.</summary>
    public string PendingReplyText { get; set; } = "正在思考中，回复任意文字获取回答。";
}

/// <summary>Which callbacks an Official Account accepts, matching the MP console's 消息加解密方式.</summary>
public enum CallbackMode
{
    /// <summary>明文模式: plaintext bodies under the 3-field <c>signature</c> (which does not cover the body);
    /// encrypted bodies too when an EncodingAesKey is set.</summary>
    Plain,

    /// <summary>兼容模式: encrypted and plaintext bodies both accepted, for the changeover from Plain to Safe;
    /// needs the EncodingAesKey. As open to forged plaintext bodies as Plain.</summary>
    Compatible,

    /// <summary>安全模式: only bodies whose <c>Encrypt</c> element carries a valid <c>msg_signature</c>; a
    /// plaintext body is refused (403). Needs the EncodingAesKey.</summary>
    Safe,
}

/// <summary>How an Official Account delivers answers that are not ready within the passive budget.</summary>
public enum ReplyMode
{
    /// <summary>Answer <c>success</c>, then send through the customer-service API (认证服务号 with 客服 permission).</summary>
    CustomerService,

    /// <summary>No API (unverified subscription accounts): hold WeChat's retries, answer on the last delivery,
    /// else the placeholder; the user's next message fetches the waiting answer. One message per trigger.</summary>
    PassiveOnly,
}
