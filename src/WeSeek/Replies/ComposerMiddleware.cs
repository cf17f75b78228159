using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Hosting;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Pipeline;
using WeSeek.Plugins;

namespace WeSeek.Replies;

/// <summary>
/// Turns the answer into messages that fit the channel (<see cref="ChannelCapabilities"/>) through the
/// <see cref="DeliveryPlanner"/>: the reasoning first when the user asked for it, then the answer, at most
/// one trigger's messages now and the rest as pages that wait for 「继续」.
/// </summary>
internal sealed partial class ComposerMiddleware : ITurnMiddleware
{
    /// <summary>Opens the reply that carries the reasoning after <c>/think on</c>; the web chat page knows it and
    /// folds that reply into its collapsible reasoning box.</summary>
    internal const string ReasoningLead = "💭 思考过程：\n";

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

        if (!conversation.CutOff && turn.Features.Get<PluginFeature>() is { } plugins)
        {
            answer = plugins.AppendCitations(answer);
        }

        var capabilities = _channels.Find(turn.Message.Channel)?.Capabilities ?? new ChannelCapabilities();
        var lead = new List<string>();
        if (conversation.ShowThinking && !string.IsNullOrEmpty(conversation.Reasoning) && _options.MaxReasoningLength > 0)
        {
            var reasoning = conversation.Reasoning.Length > _options.MaxReasoningLength
                ? conversation.Reasoning[.._options.MaxReasoningLength] + "…"
                : conversation.Reasoning;
            lead.AddRange(ReplySplitter.Split(ReasoningLead + reasoning, capabilities.MaxTextLength, capabilities.MaxTextBytes).Take(1));
        }

        var perTrigger = capabilities.MaxMessagesPerTrigger > 0 ? Math.Min(_options.MaxReplies, capabilities.MaxMessagesPerTrigger) : _options.MaxReplies;
        var plan = DeliveryPlanner.Plan(answer, lead, capabilities, perTrigger, _options.MaxPages);
        if (plan.Pages.Count > 1 || plan.Truncated)
        {
            Log.Paged(_logger, turn.InboxId, plan.Pages.Count, plan.Truncated);
        }

        foreach (var reply in plan.Pages[0])
        {
            turn.Replies.Add(reply);
        }

        // A new answer replaces whatever pages an older one left waiting.
        turn.Features.Set(new ContinuationFeature([.. plan.Pages.Skip(1)]));
        return next(turn);
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ReplyTruncated, LogLevel.Information, "Answer to message {InboxId} laid out on {Pages} pages (cut at the most pages: {Truncated}); the rest waits for 继续")]
        public static partial void Paged(ILogger logger, long inboxId, int pages, bool truncated);
    }
}
