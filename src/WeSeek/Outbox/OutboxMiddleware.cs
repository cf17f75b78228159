using Microsoft.Extensions.Logging;
using WeSeek.Conversations;
using WeSeek.Inbox;
using WeSeek.Logging;
using WeSeek.Pipeline;
using WeSeek.Replies;

namespace WeSeek.Outbox;

/// <summary>
/// The outermost step: runs the rest of the pipeline, then stores what it produced in one transaction (the
/// replies into the outbox, the exchange into history, the message marked done) and wakes the sender.
/// Outermost, so a step that short-circuits (a command, the guard) still has its replies stored, and a
/// turn that throws stores nothing and runs again.
/// </summary>
internal sealed partial class OutboxMiddleware : ITurnMiddleware
{
    private readonly ITurnStore _store;
    private readonly OutboxSignal _signal;
    private readonly ILogger<OutboxMiddleware> _logger;

    public OutboxMiddleware(ITurnStore store, OutboxSignal signal, ILogger<OutboxMiddleware> logger)
    {
        _store = store;
        _signal = signal;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        await next(turn);

        var pending = turn.Features.Get<PendingTurn>()
            ?? new PendingTurn(turn.InboxId, turn.ConversationKey, 0, turn.Message);
        var history = new List<HistoryAppend>(2);
        if (turn.Features.Get<ConversationFeature>() is { Answer: { } answer, CutOff: false } conversation)
        {
            history.Add(new HistoryAppend("user", conversation.UserContent, conversation.UserTokens));
            history.Add(new HistoryAppend("assistant", answer, conversation.AnswerTokens));
        }

        if (turn.Replies.Count == 0)
        {
            Log.NoReply(_logger, turn.InboxId);
        }

        await _store.CompleteAsync(pending, [.. turn.Replies], history, failed: false, error: null, turn.Aborted, turn.Features.Get<ContinuationFeature>());
        if (turn.Replies.Count > 0)
        {
            _signal.Notify();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.NoReply, LogLevel.Information, "Turn for message {InboxId} produced no reply")]
        public static partial void NoReply(ILogger logger, long inboxId);
    }
}
