using WeSeek.Conversations;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary><see cref="IConversationStore"/> in the tables <c>conversations</c> and <c>history</c>, in SQL both
/// providers run. Thread-safe.</summary>
internal sealed class ConversationStore : IConversationStore
{
    private readonly StoreDatabase _database;
    private readonly TimeProvider _time;
    private readonly RecordCipher _cipher;

    public ConversationStore(StoreDatabase database, RecordCipher cipher, TimeProvider time)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
    }

    public async Task<ConversationState> LoadAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        long windowStart = 0;
        var epoch = 0;
        var showThinking = false;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT window_start, epoch, show_thinking FROM conversations WHERE key = @key;";
            command.AddParameter("@key", key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                windowStart = reader.GetInt64(0);
                epoch = (int)reader.GetInt64(1);
                showThinking = reader.GetInt64(2) != 0;
            }
        }

        var window = new List<HistoryEntry>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT id, inbox_id, role, content, tokens, key_id FROM history WHERE conversation = @key AND id >= @start ORDER BY id;";
            command.AddParameter("@key", key);
            command.AddParameter("@start", windowStart);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var content = _cipher.Read(reader, 3, 5, RecordCipher.HistoryContent(reader.GetInt64(1), reader.GetString(2)));
                window.Add(new HistoryEntry(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), content, (int)reader.GetInt64(4)));
            }
        }

        return new ConversationState(key, windowStart, epoch, showThinking, window);
    }

    public Task SetWindowAsync(string key, long windowStart, int epoch, CancellationToken cancellationToken) =>
        UpsertAsync(key, "window_start = @start, epoch = @epoch", cancellationToken, ("@start", windowStart), ("@epoch", epoch));

    public Task ResetAsync(string key, CancellationToken cancellationToken) =>
        UpsertAsync(key, "window_start = (SELECT COALESCE(MAX(id), 0) + 1 FROM history), epoch = epoch + 1", cancellationToken);

    public Task SetShowThinkingAsync(string key, bool show, CancellationToken cancellationToken) =>
        UpsertAsync(key, "show_thinking = @show", cancellationToken, ("@show", show ? 1 : 0));

    private async Task UpsertAsync(string key, string assignments, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var writer = await _database.OpenWriterAsync(cancellationToken);
        var connection = writer.Connection;
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO conversations (key, updated_at) VALUES (@key, @now) ON CONFLICT (key) DO NOTHING;
            UPDATE conversations SET {assignments}, updated_at = @now WHERE key = @key;
            """;
        command.AddParameter("@key", key);
        command.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var (name, value) in parameters)
        {
            command.AddParameter(name, value);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
