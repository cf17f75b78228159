using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Pipeline;

namespace WeSeek.Replies;

/// <summary>
/// What a turn does to its conversation's waiting pages; stored with the turn's completion, in its unit of work
/// (<see cref="IContinuationStore"/>), so a page is neither lost nor sent twice when a turn runs again after a crash.
/// </summary>
/// <param name="Pages">The pages still waiting for 「继续」, in order; empty clears them.</param>
internal sealed record ContinuationFeature(IReadOnlyList<IReadOnlyList<string>> Pages)
{
    /// <summary>What the encrypted pages are bound to (associated data): the message whose answer they are.</summary>
    public static string Purpose(long inboxId) => $"continuations.pages\n{inboxId}";
}

/// <summary>
/// Answers 「继续」 (or <c>/continue</c>) with the next waiting page of the conversation's last long answer.
/// With no page waiting, the message goes on to the model: "继续" is also an ordinary request to continue.
/// Pages older than <see cref="ComposerOptions.ContinuationLifetime"/> are not served (WeChat's 48-hour
/// window would refuse them anyway).
/// </summary>
internal sealed partial class ContinuationMiddleware : ITurnMiddleware
{
    private readonly IContinuationStore _store;
    private readonly TimeProvider _time;
    private readonly ComposerOptions _options;
    private readonly ILogger<ContinuationMiddleware> _logger;

    public ContinuationMiddleware(IContinuationStore store, TimeProvider time, IOptionsSnapshot<ComposerOptions> options, ILogger<ContinuationMiddleware> logger)
    {
        _store = store;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (!IsContinue(turn.Message.Text) || await LoadAsync(turn.ConversationKey, turn.Aborted) is not { Count: > 0 } pages)
        {
            await next(turn);
            return;
        }

        foreach (var reply in pages[0])
        {
            turn.Replies.Add(reply);
        }

        turn.Features.Set(new ContinuationFeature([.. pages.Skip(1)]));
        Log.Served(_logger, turn.InboxId, pages.Count - 1);
    }

    internal static bool IsContinue(string text)
    {
        var trimmed = text.Trim().TrimEnd('。', '!', '！', '.', '~', '～');
        return trimmed == DeliveryPlanner.ContinueWord
            || trimmed.Equals("/continue", StringComparison.OrdinalIgnoreCase)
            || trimmed.Equals("／continue", StringComparison.OrdinalIgnoreCase);
    }

    private Task<IReadOnlyList<IReadOnlyList<string>>?> LoadAsync(string conversation, CancellationToken cancellationToken) =>
        _store.LoadAsync(conversation, _time.GetUtcNow() - _options.ContinuationLifetime, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ContinuationServed, LogLevel.Debug, "Message {InboxId} asked for the next page; {Left} pages left after it")]
        public static partial void Served(ILogger logger, long inboxId, int left);
    }
}
