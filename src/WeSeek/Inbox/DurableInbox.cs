using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Outbox;

namespace WeSeek.Inbox;

/// <summary>
/// The durable inbox. <see cref="AcceptAsync"/> commits before it returns, so a channel that acknowledges
/// after it has a durable message. Duplicates are recognised by the store (<see cref="IInboxStore"/>), so
/// concurrent deliveries of the same message store it once, whichever process or thread wins. Thread-safe.
/// </summary>
internal sealed partial class DurableInbox : IInboundSink
{
    /// <summary>Longest text stored for one message: 16,000 characters. WeChat text is at most 2,048 bytes;
    /// this leaves room for web chat and rendered media while bounding a hostile client.</summary>
    public const int MaxTextLength = 16_000;

    /// <summary>Most messages committed in one transaction.</summary>
    private const int MaxBatch = 256;

    private readonly IInboxStore _store;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<ContextOptions> _context;
    private readonly DispatchSignal _signal;
    private readonly ILogger<DurableInbox> _logger;
    private readonly TurnCompletions _completions;
    private readonly WeSeekMetrics _metrics;
    private readonly Lock _queueLock = new();
    private readonly List<PendingAccept> _queue = [];
    private bool _combining;

    public DurableInbox(IInboxStore store, TimeProvider time, IOptionsMonitor<ContextOptions> context, DispatchSignal signal, ILogger<DurableInbox> logger, TurnCompletions completions, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _completions = completions;
        _store = store;
        _time = time;
        _context = context;
        _signal = signal;
        _logger = logger;
    }

    public async ValueTask<AcceptResult> AcceptAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrEmpty(message.ExternalMessageId) || message.ExternalMessageId.Length > 256)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The message id must be 1-256 characters.");
        }

        if (string.IsNullOrEmpty(message.ChatId) || message.ChatId.Length > 256)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The chat id must be 1-256 characters.");
        }

        if (message.Text.Length > MaxTextLength)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, $"The message is longer than {MaxTextLength} characters.");
        }

        // The caller's trace, captured here: the batch may be written on another caller's thread.
        var pending = new PendingAccept(message with { TraceParent = message.TraceParent ?? Activity.Current?.Id }, ConversationKeys.For(message, _context.CurrentValue.GroupScope));
        bool lead;
        lock (_queueLock)
        {
            _queue.Add(pending);
            lead = !_combining;
            _combining = true;
        }

        if (lead)
        {
            await CombineAsync(pending);
        }

        // Stored even if this caller stops waiting: the message is durable once committed, and a platform's
        // retry of it is then recognised as a duplicate.
        return await pending.Result.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Group commit by flat combining: the caller that finds no writer active writes everything queued, in
    /// batches of one transaction each, until its own message is stored; then it hands any backlog to a pool
    /// thread so its own request is not held up by later arrivals. One commit per batch instead of one per
    /// message, with no background service to start or stop. Hand-written: Microsoft.Data.Sqlite has no batching.
    /// </summary>
    private async Task CombineAsync(PendingAccept? own)
    {
        while (true)
        {
            List<PendingAccept> batch;
            lock (_queueLock)
            {
                if (_queue.Count == 0)
                {
                    _combining = false;
                    return;
                }

                if (own is { Result.Task.IsCompleted: true })
                {
                    // Ours is done and others arrived meanwhile: a pool thread carries on as the writer until
                    // the queue is empty (WriteBatchAsync settles every item, so this never throws).
                    _ = Task.Run(() => CombineAsync(null));
                    return;
                }

                batch = _queue.GetRange(0, Math.Min(_queue.Count, MaxBatch));
                _queue.RemoveRange(0, batch.Count);
            }

            try
            {
                await WriteBatchAsync(batch);
            }
            catch (Exception ex)
            {
                foreach (var item in batch)
                {
                    item.Result.TrySetException(ex);
                }
            }
        }
    }

    private async Task WriteBatchAsync(List<PendingAccept> batch)
    {
        var now = _time.GetUtcNow();
        var results = await _store.StoreAsync(
            [.. batch.Select(item => new InboxRow(item.Message, item.Conversation))],
            now,
            (i, result) =>
            {
                if (batch[i].Message.PassiveReplyWindow is { } window)
                {
                    // Before the dispatcher can see it: the turn may finish before the channel starts waiting.
                    // A platform's retry (a duplicate) waits for the same replies.
                    _completions.PreHold(result.InboxId, now, now + window);
                }
            },
            CancellationToken.None);

        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i].Outcome == AcceptOutcome.Stored)
            {
                Log.Stored(_logger, results[i].InboxId, batch[i].Message.Channel.Value);
                _metrics.Received.Add(1, WeSeekMetrics.Channel(batch[i].Message.Channel.Value));
            }
            else
            {
                Log.Duplicate(_logger, results[i].InboxId, batch[i].Message.Channel.Value);
                _metrics.Duplicates.Add(1, WeSeekMetrics.Channel(batch[i].Message.Channel.Value));
            }
        }

        if (results.Any(r => r.Outcome == AcceptOutcome.Stored))
        {
            _signal.Notify();
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Result.TrySetResult(results[i]);
        }
    }

    private sealed record PendingAccept(InboundMessage Message, string Conversation)
    {
        public TaskCompletionSource<AcceptResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Messages of <paramref name="channel"/> whose <paramref name="column"/> (sender_id or chat_id) is
    /// <paramref name="value"/>, stored since <paramref name="since"/>, up to and including <paramref name="upTo"/>;
    /// only in the chat <paramref name="chatId"/> when given.</summary>
    public Task<long> CountTodayAsync(ChannelId channel, string column, string value, DateTimeOffset since, long upTo, CancellationToken cancellationToken, string? chatId = null) =>
        _store.CountSinceAsync(channel, column, value, since, upTo, chatId, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.InboxStored, LogLevel.Debug, "Stored inbound message {InboxId} from {Channel}")]
        public static partial void Stored(ILogger logger, long inboxId, string channel);

        [LoggerMessage(WeSeekEventId.InboxDuplicate, LogLevel.Information, "Duplicate of inbound message {InboxId} from {Channel} ignored")]
        public static partial void Duplicate(ILogger logger, long inboxId, string channel);
    }
}
