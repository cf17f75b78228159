using System.Data.Common;
using System.Text.Json;
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
