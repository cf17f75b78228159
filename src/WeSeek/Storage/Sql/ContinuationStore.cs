using System.Data.Common;
using System.Text.Json;
using WeSeek.Replies;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IContinuationStore"/> in the table <c>continuations</c>, and the write a turn's completion
/// makes in its transaction. Thread-safe.</summary>
internal sealed class ContinuationStore(StoreDatabase database, RecordCipher cipher) : IContinuationStore
{
    public async Task<IReadOnlyList<IReadOnlyList<string>>?> LoadAsync(string conversation, DateTimeOffset storedAfter, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pages, key_id, inbox_id FROM continuations WHERE conversation = @conversation AND created_at > @oldest;";
        command.AddParameter("@conversation", conversation);
        command.AddParameter("@oldest", storedAfter.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? JsonSerializer.Deserialize<List<List<string>>>(cipher.Read(reader, 0, 1, ContinuationFeature.Purpose(reader.GetInt64(2))))
            : null;
    }

    /// <summary>Writes what a turn did to its conversation's waiting pages, inside <paramref name="transaction"/>:
    /// replaces them, or clears them when <paramref name="change"/> has none.</summary>
    public static async Task WriteAsync(DbConnection connection, DbTransaction transaction, RecordCipher cipher, ContinuationFeature change, string conversation, long inboxId, long now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (change.Pages.Count == 0)
        {
            command.CommandText = "DELETE FROM continuations WHERE conversation = @conversation;";
        }
        else
        {
            command.CommandText = """
                INSERT INTO continuations (conversation, pages, key_id, inbox_id, created_at) VALUES (@conversation, @pages, @pages_key, @inbox, @now)
                ON CONFLICT (conversation) DO UPDATE SET pages = excluded.pages, key_id = excluded.key_id, inbox_id = excluded.inbox_id, created_at = excluded.created_at;
                """;
            // The pages are answer text: encrypted like every stored message body.
            cipher.Bind(command, "@pages", JsonSerializer.Serialize(change.Pages), ContinuationFeature.Purpose(inboxId));
            command.AddParameter("@inbox", inboxId);
            command.AddParameter("@now", now);
        }

        command.AddParameter("@conversation", conversation);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
