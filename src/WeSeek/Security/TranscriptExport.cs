using System.Text.Json;
using WeSeek.Storage;

namespace WeSeek.Security;

/// <summary>
/// Writes stored conversations as JSON lines, one message a line, in the order they happened: each inbound
/// message, then the replies to it. With <c>decrypt</c> each line carries the text, decrypted with the key ring;
/// without, only metadata (which conversation, when, which key), so an export for an audit need not reveal
/// what anyone wrote. Thread-safe.
/// </summary>
internal sealed class TranscriptExport
{
    // Chinese stays readable in the file; the export is never embedded in HTML, so relaxed escaping is safe.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;

    public TranscriptExport(StoreDatabase database, RecordCipher cipher)
    {
        _database = database;
        _cipher = cipher;
    }

    /// <summary>Writes the lines; returns how many. <paramref name="conversation"/> limits the export to one
    /// conversation key (as in the <c>conversation</c> field).</summary>
    public async Task<int> WriteAsync(TextWriter output, bool decrypt, string? conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        await using var connection = await _database.OpenAsync(cancellationToken);
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
        var count = 0;
        var buffer = new MemoryStream();
        while (await reader.ReadAsync(cancellationToken))
        {
            buffer.SetLength(0);
            await using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            {
                var inbound = reader.GetString(4) == "in";
                json.WriteStartObject();
                json.WriteString("conversation", reader.GetString(0));
                json.WriteString("channel", reader.GetString(1));
                json.WriteString("account", reader.GetString(2));
                json.WriteString("chat", reader.GetString(3));
                json.WriteString("direction", reader.GetString(4));
                json.WriteNumber(inbound ? "inboxId" : "outboxId", reader.GetInt64(5));
                if (!inbound)
                {
                    json.WriteNumber("inboxId", reader.GetInt64(6));
                    json.WriteNumber("seq", reader.GetInt64(7));
                }

                json.WriteString("at", DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)).ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("state", reader.GetString(12));
                json.WriteString("keyId", reader.IsDBNull(10) ? null : reader.GetString(10));
                if (decrypt)
                {
                    var purpose = inbound
                        ? RecordCipher.InboxText(reader.GetString(1), reader.GetString(11))
                        : RecordCipher.OutboxText(reader.GetInt64(6), reader.GetInt64(7));
                    json.WriteString("text", _cipher.Read(reader, 9, 10, purpose));
                }

                json.WriteEndObject();
            }

            await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).AsMemory(), cancellationToken);
            count++;
        }

        return count;
    }
}
