using System.Diagnostics;
using System.Text.Json;
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Operations;
using WeSeek.Outbox;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Inbox;

/// <summary>
/// The durable inbox. <see cref="AcceptAsync"/> commits before it returns, so a channel that acknowledges
/// after it has a durable message. Duplicates are recognised by the unique (channel, external id) key in the
/// database itself, so concurrent deliveries of the same message store it once, whichever process or thread
/// wins. Thread-safe.
/// </summary>
internal sealed partial class DurableInbox : IInboundSink
{
    /// <summary>Longest text stored for one message: 16,000 characters. WeChat text is at most 2,048 bytes;
    /// this leaves room for web chat and rendered media while bounding a hostile client.</summary>
    public const int MaxTextLength = 16_000;

    /// <summary>Most messages committed in one transaction.</summary>
    private const int MaxBatch = 256;

    private readonly StoreDatabase _database;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<ContextOptions> _context;
    private readonly DispatchSignal _signal;
    private readonly ILogger<DurableInbox> _logger;
    private readonly TurnCompletions _completions;
    private readonly RecordCipher _cipher;
    private readonly WeSeekMetrics _metrics;
    private readonly Lock _queueLock = new();
    private readonly List<PendingAccept> _queue = [];
    private bool _combining;

    public DurableInbox(StoreDatabase database, RecordCipher cipher, TimeProvider time, IOptionsMonitor<ContextOptions> context, DispatchSignal signal, ILogger<DurableInbox> logger, TurnCompletions completions, WeSeekMetrics metrics)
    {
        _metrics = metrics;
        _completions = completions;
        _database = database;
        _cipher = cipher;
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
        var results = new AcceptResult[batch.Count];
        await using (var writer = await _database.OpenWriterAsync(CancellationToken.None))
        {
            var connection = writer.Connection;
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            // ON CONFLICT DO NOTHING + RETURNING: the database decides the race between concurrent duplicates.
            insert.CommandText = """
                INSERT INTO inbox (channel, external_id, account, chat_id, sender_id, conversation, is_group, kind, text, key_id, sent_at, received_at, attachments, trace_parent, held_until)
                VALUES (@channel, @external, @account, @chat, @sender, @conversation, @group, @kind, @text, @text_key, @sent, @received, @attachments, @trace, @held)
                ON CONFLICT (channel, external_id) DO NOTHING
                RETURNING id;
                """;
            await using var select = connection.CreateCommand();
            select.Transaction = transaction;
            select.CommandText = "SELECT id FROM inbox WHERE channel = @channel AND external_id = @external;";
            await using var hold = connection.CreateCommand();
            hold.Transaction = transaction;
            // A platform's retry, perhaps at another instance, waits for the same replies: the hold is in the row,
            // where every instance's sender sees it.
            hold.CommandText = "UPDATE inbox SET held_until = @held WHERE id = @id AND held_until < @held;";
            var rows = batch.Select(item => Row(item.Message, item.Conversation, now)).ToList();
            var stored = new long?[batch.Count];
            if (connection.CanCreateBatch)
            {
                // PostgreSQL: the batch's inserts in one round trip (one at a time measured 234 callbacks/s on
                // one instance against 1,390/s on SQLite; docs/benchmarks.md).
                await using var many = connection.CreateBatch();
                many.Transaction = transaction;
                foreach (var row in rows)
                {
                    var command = many.CreateBatchCommand();
                    command.CommandText = insert.CommandText;
                    foreach (var (name, value) in row)
                    {
                        var parameter = command.CreateParameter();
                        parameter.ParameterName = name;
                        parameter.Value = value ?? DBNull.Value;
                        parameter.DbType = value switch { byte[] => System.Data.DbType.Binary, long => System.Data.DbType.Int64, int => System.Data.DbType.Int32, _ => System.Data.DbType.String };
                        command.Parameters.Add(parameter);
                    }

                    many.BatchCommands.Add(command);
                }

                await using var reader = await many.ExecuteReaderAsync(CancellationToken.None);
                for (var i = 0; i < rows.Count; i++)
                {
                    if (i > 0)
                    {
                        await reader.NextResultAsync(CancellationToken.None);
                    }

                    stored[i] = await reader.ReadAsync(CancellationToken.None) ? reader.GetInt64(0) : null;
                }
            }
            else
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    insert.Parameters.Clear();
                    foreach (var (name, value) in rows[i])
                    {
                        if (value is byte[] blob)
                        {
                            insert.AddBinary(name, blob);
                        }
                        else
                        {
                            insert.AddParameter(name, value);
                        }
                    }

                    stored[i] = await insert.ExecuteScalarAsync(CancellationToken.None) is long id ? id : null;
                }
            }

            for (var i = 0; i < batch.Count; i++)
            {
                var message = batch[i].Message;
                var heldUntil = message.PassiveReplyWindow is { } passive ? (now + passive).ToUnixTimeMilliseconds() : 0;
                if (stored[i] is { } id)
                {
                    results[i] = new AcceptResult(AcceptOutcome.Stored, id);
                }
                else
                {
                    select.Parameters.Clear();
                    select.AddParameter("@channel", message.Channel.Value);
                    select.AddParameter("@external", message.ExternalMessageId);
                    results[i] = new AcceptResult(AcceptOutcome.Duplicate, (long)(await select.ExecuteScalarAsync(CancellationToken.None))!);
                    if (heldUntil > 0)
                    {
                        hold.Parameters.Clear();
                        hold.AddParameter("@held", heldUntil);
                        hold.AddParameter("@id", results[i].InboxId);
                        await hold.ExecuteNonQueryAsync(CancellationToken.None);
                    }
                }

                if (message.PassiveReplyWindow is { } window)
                {
                    // Before the dispatcher can see it: the turn may finish before the channel starts waiting.
                    // A platform's retry (a duplicate) waits for the same replies.
                    _completions.PreHold(results[i].InboxId, now, now + window);
                }
            }

            if (results.Any(r => r.Outcome == AcceptOutcome.Stored))
            {
                await _database.NotifyAsync(connection, transaction, StoreSignal.InboxStored, 0, CancellationToken.None);
            }

            await transaction.CommitAsync(CancellationToken.None);
        }

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

    /// <summary>The insert's parameters for one message; the text encrypted, bound to its channel and id.</summary>
    private List<(string Name, object? Value)> Row(InboundMessage message, string conversation, DateTimeOffset now)
    {
        var (blob, keyId) = _cipher.Encrypt(message.Text, RecordCipher.InboxText(message.Channel.Value, message.ExternalMessageId));
        return
        [
            ("@channel", message.Channel.Value),
            ("@external", message.ExternalMessageId),
            ("@account", message.AccountId),
            ("@chat", message.ChatId),
            ("@sender", message.SenderId),
            ("@conversation", conversation),
            ("@group", message.IsGroup ? 1L : 0L),
            ("@kind", message.Kind.ToString()),
            ("@text", blob),
            ("@text_key", keyId),
            ("@sent", message.SentAt.ToUnixTimeMilliseconds()),
            ("@received", now.ToUnixTimeMilliseconds()),
            ("@attachments", message.Attachments.Count == 0 ? null : JsonSerializer.Serialize(message.Attachments)),
            ("@trace", message.TraceParent),
            ("@held", message.PassiveReplyWindow is { } passive ? (now + passive).ToUnixTimeMilliseconds() : 0L),
        ];
    }

    private sealed record PendingAccept(InboundMessage Message, string Conversation)
    {
        public TaskCompletionSource<AcceptResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Messages of <paramref name="channel"/> whose <paramref name="column"/> (sender_id or chat_id) is
    /// <paramref name="value"/>, stored since <paramref name="since"/>, up to and including <paramref name="upTo"/>;
    /// only in the chat <paramref name="chatId"/> when given.</summary>
    public async Task<long> CountTodayAsync(ChannelId channel, string column, string value, DateTimeOffset since, long upTo, CancellationToken cancellationToken, string? chatId = null)
    {
        if (column is not ("sender_id" or "chat_id"))
        {
            throw new ArgumentOutOfRangeException(nameof(column));
        }

        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM inbox WHERE channel = @channel AND {column} = @value AND received_at >= @since AND id <= @id AND kind <> 'Other'{(chatId is null ? "" : " AND chat_id = @chat")};";
        if (chatId is not null)
        {
            command.AddParameter("@chat", chatId);
        }

        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@value", value);
        command.AddParameter("@since", since.ToUnixTimeMilliseconds());
        command.AddParameter("@id", upTo);
        return await command.ScalarInt64Async(cancellationToken) ?? 0;
    }

    internal static InboundMessage ReadMessage(DbDataReader reader, int offset, RecordCipher cipher) => new(
        ChannelId.From(reader.GetString(offset)),
        reader.GetString(offset + 1),
        reader.GetString(offset + 2),
        reader.GetString(offset + 3),
        reader.GetString(offset + 4),
        cipher.Read(reader, offset + 5, offset + 9, RecordCipher.InboxText(reader.GetString(offset), reader.GetString(offset + 2))),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(offset + 6)))
    {
        IsGroup = reader.GetInt64(offset + 7) != 0,
        Kind = Enum.TryParse<MessageKind>(reader.GetString(offset + 8), out var kind) ? kind : MessageKind.Other,
        Attachments = reader.IsDBNull(offset + 10) ? [] : JsonSerializer.Deserialize<List<MediaAttachment>>(reader.GetString(offset + 10)) ?? [],
        TraceParent = reader.IsDBNull(offset + 11) ? null : reader.GetString(offset + 11),
    };

    /// <summary>The columns <see cref="ReadMessage"/> reads, in order.</summary>
    internal const string MessageColumns = "channel, account, external_id, chat_id, sender_id, text, sent_at, is_group, kind, key_id, attachments, trace_parent";

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.InboxStored, LogLevel.Debug, "Stored inbound message {InboxId} from {Channel}")]
        public static partial void Stored(ILogger logger, long inboxId, string channel);

        [LoggerMessage(WeSeekEventId.InboxDuplicate, LogLevel.Information, "Duplicate of inbound message {InboxId} from {Channel} ignored")]
        public static partial void Duplicate(ILogger logger, long inboxId, string channel);
    }
}
