using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Pipeline;

namespace WeSeek.Composition;

/// <summary>
/// Turns the answer into messages that fit the channel (<see cref="ChannelCapabilities"/>): the reasoning
/// first when the user asked for it, then the answer split at natural breaks, at most
/// <see cref="ComposerOptions.MaxReplies"/> messages.
/// </summary>
internal sealed partial class ComposerMiddleware : ITurnMiddleware
{
    internal const string TruncationMark = "…（内容过长，已截断）";

    private readonly ChannelRegistry _channels;
    private readonly ComposerOptions _options;
    private readonly ILogger<ComposerMiddleware> _logger;

    public ComposerMiddleware(ChannelRegistry channels, IOptionsSnapshot<ComposerOptions> options, ILogger<ComposerMiddleware> logger)
    {
        _channels = channels;
        _options = options.Value;
        _logger = logger;
    }

    public Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        var conversation = turn.Features.Get<ConversationFeature>();
        if (conversation?.Answer is not { } answer)
        {
            return next(turn);
        }

        var capabilities = _channels.Find(turn.Message.Channel)?.Capabilities ?? new ChannelCapabilities();
        var replies = new List<string>();
        if (conversation.ShowThinking && !string.IsNullOrEmpty(conversation.Reasoning) && _options.MaxReasoningLength > 0)
        {
            var reasoning = conversation.Reasoning.Length > _options.MaxReasoningLength
                ? conversation.Reasoning[.._options.MaxReasoningLength] + "…"
                : conversation.Reasoning;
            replies.AddRange(ReplySplitter.Split("💭 思考过程：\n" + reasoning, capabilities.MaxTextLength, capabilities.MaxTextBytes).Take(1));
        }

        var parts = ReplySplitter.Split(answer, capabilities.MaxTextLength, capabilities.MaxTextBytes);
        var budget = capabilities.MaxMessagesPerTrigger > 0 ? Math.Min(_options.MaxReplies, capabilities.MaxMessagesPerTrigger) : _options.MaxReplies;
        var room = Math.Max(1, budget - replies.Count);
        if (parts.Count > room)
        {
            Log.Truncated(_logger, turn.InboxId, parts.Count, room);
            parts = parts.Take(room).ToList();
            var last = parts[^1];
            var keep = Math.Max(0, Math.Min(last.Length, capabilities.MaxTextLength - TruncationMark.Length - 1));
            parts[^1] = last[..keep] + TruncationMark;
        }

        replies.AddRange(parts);
        foreach (var reply in replies)
        {
            turn.Replies.Add(reply);
        }

        return next(turn);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ReplyTruncated, LogLevel.Information, "Answer to message {InboxId} needed {Parts} messages; sending {Kept}")]
        public static partial void Truncated(ILogger logger, long inboxId, int parts, int kept);
    }
}
