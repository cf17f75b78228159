using System.Data.Common;
using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Outbox;
using WeSeek.Replies;
using WeSeek.Security;
using Microsoft.Extensions.Options;
using WeSeek.Pipeline;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="ITurnStore"/> on the tables <c>inbox</c>, <c>outbox</c>, <c>history</c> and <c>continuations</c>, in SQL both providers run. Thread-safe.</summary>
internal sealed class TurnStore : ITurnStore
{
    private readonly StoreDatabase _database;
    private readonly TimeProvider _time;
    private readonly TurnCompletions _completions;
    private readonly RecordCipher _cipher;
    private readonly GroupWindow _groups;
    private readonly InstanceIdentity _instance;
    private readonly IOptionsMonitor<DispatcherOptions> _options;

    public TurnStore(StoreDatabase database, RecordCipher cipher, TimeProvider time, TurnCompletions completions, GroupWindow groups, InstanceIdentity instance, IOptionsMonitor<DispatcherOptions> options)
    {
        _instance = instance;
        _options = options;
        _groups = groups;
        _database = database;
        _cipher = cipher;
        _time = time;
        _completions = completions;
    }

    /// <summary>
    /// The oldest due pending message of each conversation not in <paramref name="busy"/>, oldest first, at
    /// most <paramref name="limit"/>. Only the oldest of a conversation: the next one waits for it, which is
    /// what keeps a conversation in order even when its oldest message is waiting for a retry. A question in a
    /// group is due only when <paramref name="burstWindow"/> has passed since it was stored, and then carries the
    /// asker's later messages in that group within the window (a burst: "@bot 帮我看看", "这段代码", "为什么报错")
    /// as one turn. Each of them was stored when it arrived; they are merged here, when the turn is leased, and
    /// marked done with it, so a restart before then loses none of them. <paramref name="held"/> hears when
    /// each question held back becomes due.
    /// <para>Each returned message is leased to this instance (<see cref="DispatcherOptions.LeaseTime"/>,
    /// renewed by <see cref="RenewLeasesAsync"/>): instances sharing the database never run one message at once,
    /// and since only a conversation's oldest pending message is ever leased, a conversation runs one turn at a
    /// time across all of them, in arrival order. The lease is taken by a conditional UPDATE (pending, and
    /// unleased, expired or already ours), which PostgreSQL re-checks after the row lock, so two instances racing
    /// for a message get it once; a dead instance's lease runs out and the message is taken over.</para>
    /// </summary>
    public async Task<IReadOnlyList<PendingTurn>> LeaseAsync(IReadOnlySet<string> busy, int limit, CancellationToken cancellationToken, TimeSpan burstWindow = default, Action<DateTimeOffset>? held = null)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var burstMs = (long)burstWindow.TotalMilliseconds;
        var leaseMs = (long)_options.CurrentValue.LeaseTime.TotalMilliseconds;
        var affinityMs = (long)_options.CurrentValue.CacheAffinityWait.TotalMilliseconds;
        await HeartbeatAsync(now, leaseMs, cancellationToken);
        await using var connection = await _database.OpenAsync(cancellationToken);
        var result = new List<(PendingTurn Turn, long ReceivedAt)>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"""
                SELECT i.id, i.conversation, i.attempts, i.next_attempt_at, i.received_at, {Prefixed("i.", InboxStore.MessageColumns)}, i.leased_by, i.leased_until,
                       h.instance, s.seen_at
                FROM inbox i
                LEFT JOIN conversation_hosts h ON h.conversation = i.conversation
                LEFT JOIN instances s ON s.id = h.instance
                WHERE i.state = 'pending'
                  AND i.id = (SELECT MIN(j.id) FROM inbox j WHERE j.state = 'pending' AND j.conversation = i.conversation)
                ORDER BY i.id
                LIMIT @limit;
                """;
            command.AddParameter("@limit", limit + busy.Count);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken) && result.Count < limit)
            {
                var conversation = reader.GetString(1);
                if (busy.Contains(conversation) || reader.GetInt64(3) > now)
                {
                    continue;
                }

                if (!reader.IsDBNull(17) && reader.GetString(17) != _instance.Id && reader.GetInt64(18) > now)
                {
                    // Another instance is running this conversation's turn.
                    continue;
                }

                if (!reader.IsDBNull(19) && reader.GetString(19) != _instance.Id && !reader.IsDBNull(20)
                    && reader.GetInt64(20) > now - leaseMs && reader.GetInt64(4) + affinityMs > now)
                {
                    // The instance that ran this conversation's last turn is alive and holds its KV cache: it
                    // gets the first chance, for a few seconds.
                    held?.Invoke(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4) + affinityMs));
                    continue;
                }

                var message = InboxStore.ReadMessage(reader, 5, _cipher);
                var receivedAt = reader.GetInt64(4);
                if (burstMs > 0 && message.IsGroup && message.Kind != MessageKind.Other && receivedAt + burstMs > now)
                {
                    // The asker may still be typing the rest of the question.
                    held?.Invoke(DateTimeOffset.FromUnixTimeMilliseconds(receivedAt + burstMs));
                    continue;
                }

                result.Add((new PendingTurn(reader.GetInt64(0), conversation, (int)reader.GetInt64(2), message), receivedAt));
            }
        }

        result = await ClaimAsync(result, now, cancellationToken);
        if (burstMs <= 0)
        {
            return [.. result.Select(r => r.Turn)];
        }

        var turns = new List<PendingTurn>(result.Count);
        foreach (var (turn, receivedAt) in result)
        {
            turns.Add(turn.Message.IsGroup && turn.Message.Kind != MessageKind.Other
                ? await MergeBurstAsync(connection, turn, receivedAt + burstMs, cancellationToken)
                : turn);
        }

        return turns;
    }

    private async Task<List<(PendingTurn Turn, long ReceivedAt)>> ClaimAsync(List<(PendingTurn Turn, long ReceivedAt)> candidates, long now, CancellationToken cancellationToken)
    {
        if (candidates.Count == 0)
        {
            return candidates;
        }

        var claimed = new List<(PendingTurn Turn, long ReceivedAt)>(candidates.Count);
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = """
            UPDATE inbox SET leased_by = @me, leased_until = @until
            WHERE id = @id AND state = 'pending' AND (leased_by IS NULL OR leased_by = @me OR leased_until <= @now);
            """;
        var id = command.AddParameter("@id", 0L);
        command.AddParameter("@me", _instance.Id);
        command.AddParameter("@until", now + (long)_options.CurrentValue.LeaseTime.TotalMilliseconds);
        command.AddParameter("@now", now);
        foreach (var candidate in candidates)
        {
            id.Value = candidate.Turn.InboxId;
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                claimed.Add(candidate);
            }
        }

        return claimed;
    }

    private long _heartbeatAt;

    /// <summary>Records that this instance is alive, at most every sixth of the lease time: other instances leave
    /// the conversations whose caches it holds to it meanwhile (<see cref="DispatcherOptions.CacheAffinityWait"/>).</summary>
    private async Task HeartbeatAsync(long now, long leaseMs, CancellationToken cancellationToken)
    {
        if (!_database.Shared || now - Interlocked.Read(ref _heartbeatAt) < leaseMs / 6)
        {
            return;
        }

        Interlocked.Exchange(ref _heartbeatAt, now);
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "INSERT INTO instances (id, seen_at) VALUES (@me, @now) ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at;";
        command.AddParameter("@me", _instance.Id);
        command.AddParameter("@now", now);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Extends this instance's leases on the messages it is running (<paramref name="inboxIds"/>).</summary>
    public async Task RenewLeasesAsync(IReadOnlyCollection<long> inboxIds, CancellationToken cancellationToken)
    {
        if (inboxIds.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE inbox SET leased_until = @until WHERE id = @id AND leased_by = @me AND state = 'pending';";
        var id = command.AddParameter("@id", 0L);
        command.AddParameter("@me", _instance.Id);
        command.AddParameter("@until", now + (long)_options.CurrentValue.LeaseTime.TotalMilliseconds);
        foreach (var inboxId in inboxIds)
        {
            id.Value = inboxId;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Gives up this instance's leases on messages it did not finish (shutdown): another instance may take
    /// them at once instead of after the lease time.</summary>
    public async Task ReleaseLeasesAsync(CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE inbox SET leased_by = NULL, leased_until = 0 WHERE leased_by = @me AND state = 'pending';";
        command.AddParameter("@me", _instance.Id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The turn with the asker's pending messages in the same group, stored up to <paramref name="until"/>,
    /// appended in order (texts one per line, attachments after the lead's).</summary>
    private async Task<PendingTurn> MergeBurstAsync(DbConnection connection, PendingTurn lead, long until, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT id, {InboxStore.MessageColumns} FROM inbox
            WHERE state = 'pending' AND channel = @channel AND account = @account AND chat_id = @chat AND sender_id = @sender
              AND is_group = 1 AND id > @id AND received_at <= @until
            ORDER BY id;
            """;
        command.AddParameter("@channel", lead.Message.Channel.Value);
        command.AddParameter("@account", lead.Message.AccountId);
        command.AddParameter("@chat", lead.Message.ChatId);
        command.AddParameter("@sender", lead.Message.SenderId);
        command.AddParameter("@id", lead.InboxId);
        command.AddParameter("@until", until);
        var merged = new List<long>();
        var texts = new List<string> { lead.Message.Text };
        var attachments = new List<MediaAttachment>(lead.Message.Attachments);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var message = InboxStore.ReadMessage(reader, 1, _cipher);
            merged.Add(reader.GetInt64(0));
            if (!string.IsNullOrWhiteSpace(message.Text))
            {
                texts.Add(message.Text);
            }

            attachments.AddRange(message.Attachments);
        }

        return merged.Count == 0
            ? lead
            : lead with { Message = lead.Message with { Text = string.Join('\n', texts), Attachments = attachments }, Merged = merged };
    }

    /// <summary>When the earliest waiting retry becomes due, if any.</summary>
    public async Task<DateTimeOffset?> NextRetryAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT MIN(next_attempt_at) FROM inbox WHERE state = 'pending' AND attempts > 0;";
        return await command.ExecuteScalarAsync(cancellationToken) is long at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null;
    }

    /// <summary>Stores the turn's replies, history and waiting pages and marks the message done, atomically.
    /// Returns false, storing nothing, when the message is no longer pending: another instance took it over (this
    /// one's lease ran out) and completed it first; its answer stands, and this one is dropped.</summary>
    public async Task<bool> CompleteAsync(PendingTurn turn, IReadOnlyList<string> replies, IReadOnlyList<HistoryAppend> history, bool failed, string? error, CancellationToken cancellationToken, ContinuationFeature? continuation = null)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using (var writer = await _database.OpenWriterAsync(cancellationToken))
        {
            var connection = writer.Connection;
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var update = connection.CreateCommand())
            {
                // First: the row lock decides between instances that both ran the turn.
                update.Transaction = transaction;
                update.CommandText = "UPDATE inbox SET state = @state, completed_at = @now, error = @error, leased_by = NULL, leased_until = 0 WHERE id = @id AND state = 'pending';";
                update.AddParameter("@state", failed ? "failed" : "done");
                update.AddParameter("@now", now);
                update.AddParameter("@error", error);
                update.AddParameter("@id", turn.InboxId);
                if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    await transaction.RollbackAsync(cancellationToken);
                    _completions.Complete(turn.InboxId);
                    return false;
                }

                foreach (var merged in turn.Merged)
                {
                    update.Parameters["@id"].Value = merged;
                    await update.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            for (var i = 0; i < replies.Count; i++)
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO outbox (inbox_id, seq, channel, account, chat_id, text, key_id, next_attempt_at, created_at)
                    VALUES (@inbox, @seq, @channel, @account, @chat, @text, @text_key, @now, @now)
                    ON CONFLICT (inbox_id, seq) DO NOTHING;
                    """;
                insert.AddParameter("@inbox", turn.InboxId);
                insert.AddParameter("@seq", (long)i);
                insert.AddParameter("@channel", turn.Message.Channel.Value);
                insert.AddParameter("@account", turn.Message.AccountId);
                insert.AddParameter("@chat", turn.Message.ChatId);
                _cipher.Bind(insert, "@text", replies[i], RecordCipher.OutboxText(turn.InboxId, i));
                insert.AddParameter("@now", now);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            foreach (var entry in history)
            {
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO history (conversation, inbox_id, role, content, key_id, tokens, created_at)
                    VALUES (@conversation, @inbox, @role, @content, @content_key, @tokens, @now)
                    ON CONFLICT (inbox_id, role) DO NOTHING;
                    """;
                insert.AddParameter("@conversation", turn.Conversation);
                insert.AddParameter("@inbox", turn.InboxId);
                insert.AddParameter("@role", entry.Role);
                _cipher.Bind(insert, "@content", entry.Content, RecordCipher.HistoryContent(turn.InboxId, entry.Role));
                insert.AddParameter("@tokens", entry.Tokens);
                insert.AddParameter("@now", now);
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            if (continuation is not null)
            {
                await ContinuationStore.WriteAsync(connection, transaction, _cipher, continuation, turn.Conversation, turn.InboxId, now, cancellationToken);
            }

            // A group's unanswered chatter is kept only as long as a window may show it.
            var (since, keep) = _groups.PruneLimits();
            await InboxStore.PruneGroupChatterAsync(_database, connection, transaction, turn.Message, since, keep, cancellationToken);
            if (_database.Shared)
            {
                // This instance's engine now holds the conversation's KV cache.
                await using var host = connection.CreateCommand();
                host.Transaction = transaction;
                host.CommandText = "INSERT INTO conversation_hosts (conversation, instance, at) VALUES (@conversation, @me, @now) ON CONFLICT (conversation) DO UPDATE SET instance = excluded.instance, at = excluded.at;";
                host.AddParameter("@conversation", turn.Conversation);
                host.AddParameter("@me", _instance.Id);
                host.AddParameter("@now", now);
                await host.ExecuteNonQueryAsync(cancellationToken);
            }

            // Other instances hear of it when this commits (a channel there may wait to answer passively).
            await _database.NotifyAsync(connection, transaction, StoreSignal.TurnCompleted, turn.InboxId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        _completions.Complete(turn.InboxId);
        return true;
    }

    /// <summary>Records a failed attempt; the message stays pending until <paramref name="retryAt"/>.</summary>
    public async Task RecordFailureAsync(long inboxId, string error, DateTimeOffset retryAt, CancellationToken cancellationToken)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var update = connection.CreateCommand();
        update.CommandText = "UPDATE inbox SET attempts = attempts + 1, next_attempt_at = @at, error = @error, leased_by = NULL, leased_until = 0 WHERE id = @id AND state = 'pending';";
        update.AddParameter("@at", retryAt.ToUnixTimeMilliseconds());
        update.AddParameter("@error", error.Length > 500 ? error[..500] : error);
        update.AddParameter("@id", inboxId);
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Prefixed(string prefix, string columns) =>
        string.Join(", ", columns.Split(", ").Select(c => prefix + c));
}
