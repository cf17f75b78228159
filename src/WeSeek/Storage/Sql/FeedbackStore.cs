using System.Data;
using System.Runtime.CompilerServices;
using System.Text.Json;
using WeSeek.Feedback;
using WeSeek.Messaging;
using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary>
/// <see cref="IFeedbackStore"/> in SQL both providers run. Every statement about feedback is in this class.
/// Prompts, answers and corrections are encrypted with the record cipher like messages, their associated data
/// naming table, column and row, so a blob moved to another row fails to decrypt.
/// </summary>
internal sealed class FeedbackStore(StoreDatabase database, RecordCipher cipher) : IFeedbackStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The purpose of an answer's prompt (JSON array of messages).</summary>
    public static string PromptPurpose(long inboxId) => $"feedback_answers.prompt\n{inboxId}";

    /// <summary>The purpose of an answer's text.</summary>
    public static string AnswerPurpose(long inboxId) => $"feedback_answers.answer\n{inboxId}";

    /// <summary>The purpose of a correction.</summary>
    public static string CorrectionPurpose(long inboxId) => $"feedback.correction\n{inboxId}";

    public async Task KeepAnswerAsync(RatedAnswer answer, DateTimeOffset forgetUnratedBefore, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var transaction = await writer.Connection.BeginTransactionAsync(cancellationToken);
        await using (var command = writer.Connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = """
                INSERT INTO feedback_answers (inbox_id, conversation, channel, chat_id, prompt, key_id, answer, answer_key, model, created_at)
                VALUES (@inbox, @conversation, @channel, @chat, @prompt, @prompt_key, @answer, @answer_key, @model, @at)
                ON CONFLICT (inbox_id) DO UPDATE SET prompt = excluded.prompt, key_id = excluded.key_id, answer = excluded.answer,
                    answer_key = excluded.answer_key, model = excluded.model, created_at = excluded.created_at;
                """;
            command.AddParameter("@inbox", answer.InboxId);
            command.AddParameter("@conversation", answer.Conversation);
            command.AddParameter("@channel", answer.Channel);
            command.AddParameter("@chat", answer.ChatId);
            cipher.Bind(command, "@prompt", JsonSerializer.Serialize(answer.Prompt, Json), PromptPurpose(answer.InboxId));
            cipher.Bind(command, "@answer", answer.Answer, AnswerPurpose(answer.InboxId));
            command.AddParameter("@model", answer.Model);
            command.AddParameter("@at", answer.At.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = writer.Connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM feedback_answers WHERE created_at < @before AND inbox_id NOT IN (SELECT inbox_id FROM feedback);";
            command.AddParameter("@before", forgetUnratedBefore.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<long?> LatestAnswerAsync(string conversation, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT inbox_id FROM feedback_answers WHERE conversation = @conversation AND created_at >= @since ORDER BY created_at DESC, inbox_id DESC LIMIT 1;";
        command.AddParameter("@conversation", conversation);
        command.AddParameter("@since", since.ToUnixTimeMilliseconds());
        return await command.ExecuteScalarAsync(cancellationToken) is long id ? id : null;
    }

    public async Task<bool> RateAsync(long inboxId, ChannelId channel, string chatId, FeedbackKind kind, string? correction, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var writer = await database.OpenWriterAsync(cancellationToken);
        await using var command = writer.Connection.CreateCommand();
        command.CommandText = """
            INSERT INTO feedback (inbox_id, kind, correction, correction_key, created_at)
            SELECT inbox_id, @kind, @correction, @correction_key, @at FROM feedback_answers WHERE inbox_id = @inbox AND channel = @channel AND chat_id = @chat
            ON CONFLICT (inbox_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at,
                correction = COALESCE(excluded.correction, feedback.correction), correction_key = COALESCE(excluded.correction_key, feedback.correction_key);
            """;
        command.AddParameter("@inbox", inboxId);
        command.AddParameter("@channel", channel.Value);
        command.AddParameter("@chat", chatId);
        command.AddParameter("@kind", kind == FeedbackKind.Up ? "up" : "down");
        command.AddParameter("@at", at.ToUnixTimeMilliseconds());
        if (string.IsNullOrWhiteSpace(correction))
        {
            // Typed: PostgreSQL takes no text-typed NULL into a BYTEA column.
            var none = command.CreateParameter();
            none.ParameterName = "@correction";
            none.DbType = DbType.Binary;
            none.Value = DBNull.Value;
            command.Parameters.Add(none);
            command.AddParameter("@correction_key", null);
        }
        else
        {
            cipher.Bind(command, "@correction", correction, CorrectionPurpose(inboxId));
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public IAsyncEnumerable<FeedbackRecord> ReadAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        ReadWhereAsync("f.created_at >= @since", [("@since", since.ToUnixTimeMilliseconds())], cancellationToken);

    public IAsyncEnumerable<FeedbackRecord> ReadChatAsync(ChannelId channel, string chatId, CancellationToken cancellationToken) =>
        ReadWhereAsync("a.channel = @channel AND a.chat_id = @chat", [("@channel", channel.Value), ("@chat", chatId)], cancellationToken);

    private async IAsyncEnumerable<FeedbackRecord> ReadWhereAsync(string where, (string Name, object Value)[] parameters, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT a.inbox_id, a.conversation, a.channel, a.chat_id, a.prompt, a.key_id, a.answer, a.answer_key, a.model, a.created_at,
                   f.kind, f.correction, f.correction_key, f.created_at
            FROM feedback f JOIN feedback_answers a ON a.inbox_id = f.inbox_id
            WHERE {where} ORDER BY f.created_at, f.inbox_id;
            """;
        foreach (var (name, value) in parameters)
        {
            command.AddParameter(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var inboxId = reader.GetInt64(0);
            var prompt = JsonSerializer.Deserialize<List<PromptMessage>>(cipher.Read(reader, 4, 5, PromptPurpose(inboxId)), Json) ?? [];
            var answer = cipher.Read(reader, 6, 7, AnswerPurpose(inboxId));
            var correction = reader.IsDBNull(11) ? null : cipher.Read(reader, 11, 12, CorrectionPurpose(inboxId));
            yield return new FeedbackRecord(
                new RatedAnswer(inboxId, reader.GetString(1), reader.GetString(2), reader.GetString(3), prompt, answer, reader.IsDBNull(8) ? null : reader.GetString(8), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9))),
                reader.GetString(10) == "up" ? FeedbackKind.Up : FeedbackKind.Down,
                correction,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(13)));
        }
    }
}
