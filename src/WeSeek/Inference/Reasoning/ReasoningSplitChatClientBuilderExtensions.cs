using WeSeek.Inference.Reasoning;

namespace Microsoft.Extensions.AI;

/// <summary>Adds the DeepSeek-R1 reasoning split to a chat-client pipeline.</summary>
public static class ReasoningSplitChatClientBuilderExtensions
{
    /// <summary>Splits <c>&lt;think&gt;…&lt;/think&gt;</c> into reasoning content, apart from the answer.</summary>
    public static ChatClientBuilder UseReasoningSplit(this ChatClientBuilder builder, ThinkStart start = ThinkStart.Detect)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use(inner => new ReasoningSplitChatClient(inner, start));
    }

    /// <summary>As <see cref="UseReasoningSplit(ChatClientBuilder, ThinkStart)"/>, with the start decided by configuration.</summary>
    public static ChatClientBuilder UseReasoningSplit(this ChatClientBuilder builder, Func<IServiceProvider, ThinkStart> start)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(start);
        return builder.Use((inner, services) => new ReasoningSplitChatClient(inner, start(services)));
    }
}
