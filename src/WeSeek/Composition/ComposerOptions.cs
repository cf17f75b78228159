using System.ComponentModel.DataAnnotations;

namespace WeSeek.Composition;

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
}
