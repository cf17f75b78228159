using System.ComponentModel.DataAnnotations;

namespace WeSeek.Replies;

/// <summary>How answers become messages. Section <c>Composer</c>.</summary>
public sealed class ComposerOptions
{
    /// <summary>Most messages one answer becomes. Default 5: the Official Account customer-service API allows
    /// five messages per user message; more would be refused (errcode 45047).</summary>
    [Range(1, 50)]
    public int MaxReplies { get; set; } = 5;

    /// <summary>Most characters of reasoning sent when a user turned it on with <c>/think on</c>. Default
    /// 1,000: R1's reasoning runs to thousands of tokens; a chat shows the gist.</summary>
    [Range(0, 100_000)]
    public int MaxReasoningLength { get; set; } = 1000;

    /// <summary>Most pages one answer is laid out on; each page is one trigger's messages, the next sent when
    /// the user replies 「继续」. Default 10. 1 turns paging off: a long answer is cut with a mark.</summary>
    [Range(1, 100)]
    public int MaxPages { get; set; } = 10;

    /// <summary>How long waiting pages stay available to 「继续」. Default 48 hours, the 公众号 customer-service
    /// window; a page older than that could not be sent anyway.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan ContinuationLifetime { get; set; } = TimeSpan.FromHours(48);
}
