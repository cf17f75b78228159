using System.ComponentModel.DataAnnotations;

namespace WeSeek.Channels.WeChat;

/// <summary>What a WeChat callback (<see cref="WeChatCallbackEndpoint"/>) needs of its section, the same keys
/// under <c>OfficialAccount</c> and <c>WeCom</c>.</summary>
public abstract class WeChatCallbackOptions
{
    /// <summary>How far a callback's <c>timestamp</c> may be from now, in seconds; 0 turns the check off.
    /// Default 300: WeChat and WeCom sign each delivery afresh and retry within 15 s; 5 minutes absorbs clock
    /// skew while refusing replays of old captured requests.</summary>
    [Range(0, 86_400)]
    public int TimestampToleranceSeconds { get; set; } = 300;

    /// <summary>How long a callback waits for the answer before it acknowledges (公众号 <c>success</c>, 企业微信 an
    /// empty 200) and the answer goes out through the platform's API (客服 messages, <c>message/send</c>).
    /// Default 4 s: WeChat drops the connection at 5 s, and the encrypted reply still has to travel back. Zero
    /// sends every answer through the API (a 公众号 subscription account in PassiveOnly mode still waits: it has
    /// no API).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:04.800")]
    public TimeSpan PassiveReplyBudget { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Largest callback body accepted, in bytes. Default 64 KiB: an encrypted text message is about
    /// 1 KiB and a 公众号's compatible mode triples it; anything near the limit is not from WeChat.</summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;
}
