using Microsoft.Extensions.AI;

namespace WeSeek.Conversations;

/// <summary>
/// The conversation as the context step prepared it for the model, and what the model made of it. Set by
/// the context step; the model step fills the answer; the outbox step stores history from it.
/// </summary>
public sealed class ConversationFeature
{
    internal ConversationFeature(string key, IList<ChatMessage> messages, string userContent, int userTokens, bool showThinking)
    {
        Key = key;
        Messages = messages;
        UserContent = userContent;
        UserTokens = userTokens;
        ShowThinking = showThinking;
    }

    /// <summary>The conversation key.</summary>
    public string Key { get; }

    /// <summary>The prompt: history in the window, then the new user message. Later steps may add to it.</summary>
    public IList<ChatMessage> Messages { get; }

    /// <summary>The new user message as sent to the model (and stored in history).</summary>
    public string UserContent { get; }

    /// <summary>Tokens of <see cref="UserContent"/>.</summary>
    internal int UserTokens { get; }

    /// <summary>True when the user asked to see the reasoning (<c>/think on</c>).</summary>
    public bool ShowThinking { get; }

    /// <summary>The answer (never the reasoning); null until the model step ran.</summary>
    public string? Answer { get; set; }

    /// <summary>Tokens of <see cref="Answer"/>, set with it.</summary>
    internal int AnswerTokens { get; set; }

    /// <summary>The reasoning, for display only; never stored in history.</summary>
    public string? Reasoning { get; set; }

    /// <summary>True when the model stopped before it finished reasoning; the answer is then a fallback.</summary>
    public bool CutOff { get; set; }
}
