using WeSeek.Conversations;
using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary>Reads chats from the inbox and outbox tables. Thread-safe.</summary>
internal sealed class DurableTranscriptReader : ITranscriptReader
{
    /// <summary>Characters of the last message shown in a chat list.</summary>
    private const int PreviewLength = 80;

    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;

    public DurableTranscriptReader(StoreDatabase database, RecordCipher cipher)
    {
        _database = database;
        _cipher = cipher;
    }

    public Task<IReadOnlyList<ChatSummary>> ListChatsAsync(ChannelId channel, int limit, CancellationToken cancellationToken) =>
        ListChatsAsync(channel, "", limit, cancellationToken);

    public async Task<IReadOnlyList<ChatSummary>> ListChatsAsync(ChannelId channel, string chatIdPrefix, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chatIdPrefix);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT i.chat_id, i.text, i.received_at, i.key_id, i.external_id
            FROM inbox i
            WHERE i.channel = @channel
              AND substr(i.chat_id, 1, length(@prefix)) = @prefix
              AND i.id = (SELECT MAX(j.id) FROM inbox j WHERE j.channel = i.channel AND j.chat_id = i.chat_id)
            ORDER BY i.id DESC
            LIMIT @limit;
            """;
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@limit", limit);
        command.AddParameter("@prefix", chatIdPrefix);
        var result = new List<ChatSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // The text is encrypted, so SQL cannot cut the preview: it is cut here, on a character boundary.
            var text = _cipher.Read(reader, 1, 3, RecordCipher.InboxText(channel.Value, reader.GetString(4)));
            var preview = text.Length <= PreviewLength ? text : text[..(char.IsHighSurrogate(text[PreviewLength - 1]) ? PreviewLength - 1 : PreviewLength)];
            result.Add(new ChatSummary(reader.GetString(0), preview, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return result;
    }

    public async Task<IReadOnlyList<TranscriptEntry>> ReadAsync(ChannelId channel, string chatId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // User messages and their replies interleaved: by inbox id, then the user message before its replies.
        command.CommandText = """
            SELECT id, from_user, text, at, inbox_id, delivered, key_id, external_id, seq FROM (
                SELECT id, 1 AS from_user, text, received_at AS at, id AS inbox_id, 1 AS delivered, -1 AS seq, key_id, external_id
                FROM inbox WHERE channel = @channel AND chat_id = @chat
                UNION ALL
                SELECT id, 0, text, created_at, inbox_id, CASE WHEN state = 'sent' THEN 1 ELSE 0 END, seq, key_id, NULL
                FROM outbox WHERE channel = @channel AND chat_id = @chat
                ORDER BY inbox_id DESC, seq DESC
                LIMIT @limit) AS entries
            ORDER BY inbox_id, seq;
            """;
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@chat", chatId);
        command.AddParameter("@limit", limit);
        var result = new List<TranscriptEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var fromUser = reader.GetInt64(1) != 0;
            var purpose = fromUser
                ? RecordCipher.InboxText(channel.Value, reader.GetString(7))
                : RecordCipher.OutboxText(reader.GetInt64(4), reader.GetInt64(8));
            result.Add(new TranscriptEntry(
                reader.GetInt64(0), fromUser, _cipher.Read(reader, 2, 6, purpose),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)), reader.GetInt64(4), reader.GetInt64(5) != 0));
        }

        return result;
    }
}
