using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using WeSeek.Conversations;
using WeSeek.Inbox;
using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IInboxStore"/> in the table <c>inbox</c>, in SQL both providers run: the unique (channel,
/// external id) key decides the race between concurrent duplicates, in this process or another. Thread-safe.</summary>
internal sealed class InboxStore(StoreDatabase database, RecordCipher cipher) : IInboxStore
{
    public async Task<IReadOnlyList<AcceptResult>> StoreAsync(IReadOnlyList<InboxRow> batch, DateTimeOffset now, Action<int, AcceptResult>? beforeCommit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var results = new AcceptResult[batch.Count];
        await using (var writer = await database.OpenWriterAsync(cancellationToken))
        {
            var connection = writer.Connection;
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
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

                await using var reader = await many.ExecuteReaderAsync(cancellationToken);
                for (var i = 0; i < rows.Count; i++)
                {
                    if (i > 0)
                    {
                        await reader.NextResultAsync(cancellationToken);
                    }

                    stored[i] = await reader.ReadAsync(cancellationToken) ? reader.GetInt64(0) : null;
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

                    stored[i] = await insert.ExecuteScalarAsync(cancellationToken) is long id ? id : null;
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
                    results[i] = new AcceptResult(AcceptOutcome.Duplicate, (long)(await select.ExecuteScalarAsync(cancellationToken))!);
                    if (heldUntil > 0)
                    {
                        hold.Parameters.Clear();
                        hold.AddParameter("@held", heldUntil);
                        hold.AddParameter("@id", results[i].InboxId);
                        await hold.ExecuteNonQueryAsync(cancellationToken);
                    }
                }

                // Before the dispatcher can see it (the caller's hold for a passive reply).
                beforeCommit?.Invoke(i, results[i]);
            }

            if (results.Any(r => r.Outcome == AcceptOutcome.Stored))
            {
                await database.NotifyAsync(connection, transaction, StoreSignal.InboxStored, 0, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return results;
    }

    public async Task<IReadOnlyList<(string Channel, long Count)>> PendingByChannelAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT channel, COUNT(*) FROM inbox WHERE state = 'pending' GROUP BY channel;";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new List<(string Channel, long Count)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            counts.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return counts;
    }

    public async IAsyncEnumerable<TranscriptLine> ReadTranscriptAsync(string? conversation, bool decrypt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT conversation, channel, account, chat_id, direction, id, inbox_id, seq, at, text, key_id, external_id, state FROM (
                SELECT conversation, channel, account, chat_id, 'in' AS direction, id, id AS inbox_id, -1 AS seq, received_at AS at,
                       text, key_id, external_id, state
                FROM inbox
                UNION ALL
                SELECT i.conversation, o.channel, o.account, o.chat_id, 'out', o.id, o.inbox_id, o.seq, o.created_at,
                       o.text, o.key_id, NULL, o.state
                FROM outbox o JOIN inbox i ON i.id = o.inbox_id) AS entries
            WHERE @conversation IS NULL OR conversation = @conversation
            ORDER BY inbox_id, seq;
            """;
        command.AddParameter("@conversation", (object?)conversation ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var inbound = reader.GetString(4) == "in";
            string? text = null;
            if (decrypt)
            {
                var purpose = inbound
                    ? RecordCipher.InboxText(reader.GetString(1), reader.GetString(11))
                    : RecordCipher.OutboxText(reader.GetInt64(6), reader.GetInt64(7));
                text = cipher.Read(reader, 9, 10, purpose);
            }

            yield return new TranscriptLine(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), inbound, reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), reader.GetString(12), reader.IsDBNull(10) ? null : reader.GetString(10), text);
        }
    }

    public async Task<bool> IsFinishedAsync(long inboxId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT state FROM inbox WHERE id = @id;";
        command.AddParameter("@id", inboxId);
        return await command.ExecuteScalarAsync(cancellationToken) is string state && state != "pending";
    }

    public async Task<bool> ReleaseHoldAsync(long inboxId, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = "UPDATE inbox SET held_until = 0 WHERE id = @id AND held_until > 0;";
        command.AddParameter("@id", inboxId);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return false;
        }

        await database.NotifyAsync(writer.Connection, null, StoreSignal.HoldReleased, inboxId, cancellationToken);
        return true;
    }

    public async Task<IReadOnlyList<GroupLine>> ReadGroupWindowAsync(InboundMessage message, long beforeInboxId, string conversation, DateTimeOffset since, int limit, int scan, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, sender_id, text, key_id, external_id FROM inbox
            WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1 AND id < @id
              AND id >= COALESCE((SELECT id FROM inbox WHERE channel = @channel AND chat_id = @chat AND id < @id
                                  ORDER BY id DESC LIMIT 1 OFFSET @scan), 0)
              AND received_at >= @since AND NOT (conversation = @conversation AND kind <> 'Other')
              AND length(text) > 0
            ORDER BY id DESC
            LIMIT @limit;
            """;
        command.AddParameter("@channel", message.Channel.Value);
        command.AddParameter("@chat", message.ChatId);
        command.AddParameter("@account", message.AccountId);
        command.AddParameter("@id", beforeInboxId);
        command.AddParameter("@since", since.ToUnixTimeMilliseconds());
        command.AddParameter("@conversation", conversation);
        command.AddParameter("@limit", limit);
        command.AddParameter("@scan", scan);
        var lines = new List<GroupLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var text = cipher.Read(reader, 2, 3, RecordCipher.InboxText(message.Channel.Value, reader.GetString(4)));
            if (!string.IsNullOrWhiteSpace(text))
            {
                lines.Add(new GroupLine(reader.GetInt64(0), reader.GetString(1), text.Trim()));
            }
        }

        lines.Reverse();
        return lines;
    }

    /// <summary>
    /// Erases (in <paramref name="transaction"/>, the completing turn's) the bodies of this group's unanswered messages that no window
    /// can show any more: older than <paramref name="since"/>, or with <paramref name="keep"/>
    /// group messages after them before the oldest question still waiting (whose window must stay whole).
    /// The rows stay, so a re-delivered message is still recognised as a duplicate. Indexed (inbox_group_chatter,
    /// inbox_pending, inbox_chat) so that the work is bounded by the window, not by the group's history.
    /// </summary>
    public static async Task PruneGroupChatterAsync(StoreDatabase database, DbConnection connection, DbTransaction transaction, InboundMessage message, DateTimeOffset since, int keep, CancellationToken cancellationToken)
    {
        if (!message.IsGroup)
        {
            return;
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            UPDATE inbox {database.IndexedBy("inbox_group_chatter")} SET text = '', key_id = NULL
            WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1 AND kind = 'Other'
              AND state <> 'pending' AND length(text) > 0
              AND (received_at < @since OR id <= COALESCE(
                (SELECT id FROM inbox WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1
                   AND id < COALESCE((SELECT MIN(id) FROM inbox {database.IndexedBy("inbox_pending")}
                                      WHERE state = 'pending' AND channel = @channel AND chat_id = @chat AND account = @account
                                        AND is_group = 1 AND kind <> 'Other'), 9223372036854775807)
                 ORDER BY id DESC LIMIT 1 OFFSET @keep), -1));
            """;
        command.AddParameter("@channel", message.Channel.Value);
        command.AddParameter("@chat", message.ChatId);
        command.AddParameter("@account", message.AccountId);
        command.AddParameter("@since", since.ToUnixTimeMilliseconds());
        command.AddParameter("@keep", keep);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<long> CountSinceAsync(ChannelId channel, string column, string value, DateTimeOffset since, long upTo, string? chatId, CancellationToken cancellationToken)
    {
        if (column is not ("sender_id" or "chat_id"))
        {
            throw new ArgumentOutOfRangeException(nameof(column));
        }

        await using var connection = await database.OpenAsync(cancellationToken);
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

    /// <summary>The insert's parameters for one message; the text encrypted, bound to its channel and id.</summary>
    private List<(string Name, object? Value)> Row(InboundMessage message, string conversation, DateTimeOffset now)
    {
        var (blob, keyId) = cipher.Encrypt(message.Text, RecordCipher.InboxText(message.Channel.Value, message.ExternalMessageId));
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

}
