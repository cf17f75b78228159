using System.Data.Common;
using System.Text.Json.Nodes;
using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary>
/// Erases a chat's rows from the store (inbox, outbox, history, conversation state, continuations, rated answers
/// and their ratings, plugin switches), in one transaction, children before the rows they reference. The chat's
/// conversation key is read from its inbox rows, so a chat that never stored a message has nothing to erase. Rows
/// are deleted, not blanked: the chat is no longer listed, read or exported anywhere. What stays is the audit log,
/// which holds counts and hashes, never text; and an engine's KV cache of the conversation until it is evicted,
/// which no request can reach once the history it extends is gone. Provider-neutral SQL. Thread-safe.
/// </summary>
internal sealed class ChatEraser(StoreDatabase database, AuditLog audit) : IChatEraser
{
    // The chat's inbox rows; every other table is reached through them.
    private const string Inbox = "SELECT id FROM inbox WHERE channel = @channel AND chat_id = @chat";
    private const string Conversations = "SELECT conversation FROM inbox WHERE channel = @channel AND chat_id = @chat";

    private static readonly string[] Deletes =
    [
        $"DELETE FROM feedback WHERE inbox_id IN ({Inbox});",
        $"DELETE FROM feedback_answers WHERE inbox_id IN ({Inbox});",
        $"DELETE FROM outbox WHERE inbox_id IN ({Inbox});",
        $"DELETE FROM history WHERE conversation IN ({Conversations});",
        $"DELETE FROM continuations WHERE conversation IN ({Conversations});",
        $"DELETE FROM conversations WHERE key IN ({Conversations});",
        $"DELETE FROM conversation_hosts WHERE conversation IN ({Conversations});",
        "DELETE FROM plugin_settings WHERE chat IN (SELECT channel || '/' || account || '/' || chat_id FROM inbox WHERE channel = @channel AND chat_id = @chat);",
        "DELETE FROM inbox WHERE channel = @channel AND chat_id = @chat;",
    ];

    public async Task<ChatErasure> EraseAsync(ChannelId channel, string chatId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(chatId);
        long messages;
        await using (var writer = await database.OpenWriterAsync(cancellationToken))
        {
            var connection = writer.Connection;
            await using var transaction = await database.BeginSerializedAsync(connection, "chat-erase", cancellationToken);
            await using (var count = Command(connection, transaction, channel, chatId, """
                SELECT (SELECT COUNT(*) FROM inbox WHERE channel = @channel AND chat_id = @chat),
                       (SELECT COUNT(*) FROM inbox WHERE channel = @channel AND chat_id = @chat AND state = 'pending')
                     + (SELECT COUNT(*) FROM outbox WHERE channel = @channel AND chat_id = @chat AND state = 'pending');
                """))
            {
                await using var reader = await count.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                messages = reader.GetInt64(0);
                if (messages == 0)
                {
                    return ChatErasure.NotFound;
                }

                if (reader.GetInt64(1) > 0)
                {
                    return ChatErasure.Busy;
                }
            }

            foreach (var sql in Deletes)
            {
                await using var delete = Command(connection, transaction, channel, chatId, sql);
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // After the commit, outside the write turn (the audit log takes its own); counts, never text.
        await audit.AppendAsync("chat.erased", new JsonObject { ["channel"] = channel.Value, ["chat"] = chatId, ["messages"] = messages }, cancellationToken);
        return ChatErasure.Erased;
    }

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, ChannelId channel, string chatId, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@chat", chatId);
        return command;
    }
}
