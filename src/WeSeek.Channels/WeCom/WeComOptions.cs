using System.ComponentModel.DataAnnotations;
using WeSeek.Channels.WeChat;

namespace WeSeek.Channels.WeCom;

/// <summary>企业微信 self-built apps (自建应用). Section <c>WeCom</c>; one entry under <c>Apps</c> per app, its name
/// in the callback URL <c>/wechat/wecom/{name}</c>. The callback's keys (<c>TimestampToleranceSeconds</c>,
/// <c>PassiveReplyBudget</c>, <c>MaxBodyBytes</c>) are <see cref="WeChatCallbackOptions"/>'s.</summary>
public sealed class WeComOptions : WeChatCallbackOptions
{
    /// <summary>The apps by name (lower-case letters, digits, '-', '_'). Default none: the channel is registered
    /// only when at least one is configured.</summary>
    public Dictionary<string, WeComAppSettings> Apps { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Base address of WeCom's API. Default <c>https://qyapi.weixin.qq.com</c>; tests point it at a fake.</summary>
    [Required]
    public Uri ApiBaseUrl { get; set; } = new("https://qyapi.weixin.qq.com");

    /// <summary>
    /// <c>duplicate_check_interval</c> of <c>message/send</c>, in seconds; 0 turns WeCom's duplicate check off.
    /// Default 300. The check drops a message identical to one sent to the same user within the interval, which
    /// catches the outbox's resend after a send that WeCom took but whose answer was lost (timeouts, a crash
    /// before the send was recorded; retries come within minutes). It cannot tell a resend from a second,
    /// identical answer, so the interval is kept short rather than WeCom's default 1800. At most 14400 (4 h,
    /// WeCom's limit).
    /// </summary>
    [Range(0, 14_400)]
    public int DuplicateCheckSeconds { get; set; } = 300;
}

/// <summary>One 企业微信 app, as set in the admin console (应用管理 → the app).</summary>
public sealed class WeComAppSettings
{
    /// <summary>接收消息 → 设置API接收 → Token. Required.</summary>
    public string Token { get; set; } = "";

    /// <summary>接收消息 → 设置API接收 → EncodingAESKey, 43 characters. Required: WeCom always encrypts.</summary>
    public string EncodingAesKey { get; set; } = "";

    /// <summary>我的企业 → 企业ID (CorpID); the receiveid of every callback. Required.</summary>
    public string CorpId { get; set; } = "";

    /// <summary>The app's Secret, for <c>gettoken</c>. Required. Never logged.</summary>
    public string CorpSecret { get; set; } = "";

    /// <summary>The app's AgentId. Required.</summary>
    public int AgentId { get; set; }

    /// <summary>Sent as the passive reply when a member adds the app (<c>subscribe</c>); empty (the default)
    /// for none. Not a model call: a fixed greeting costs nothing and cannot be slow.</summary>
    public string WelcomeText { get; set; } = "";
}
