using System.Text.Json;
using WeSeek.Inbox;

namespace WeSeek.Security;

/// <summary>One message of a stored conversation, inbound or a reply to it, as the export reads it: where it
/// belongs, its inbox or outbox id (and for a reply the message it answers and its part), when, its state, the key
/// that encrypts it, and its text when decrypted (null when not asked for).</summary>
internal sealed record TranscriptLine(string Conversation, string Channel, string Account, string ChatId, bool Inbound, long Id, long InboxId, long Sequence, DateTimeOffset At, string State, string? KeyId, string? Text);

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

    private readonly IInboxStore _store;

    public TranscriptExport(IInboxStore store) => _store = store;

    /// <summary>Writes the lines; returns how many. <paramref name="conversation"/> limits the export to one
    /// conversation key (as in the <c>conversation</c> field).</summary>
    public async Task<int> WriteAsync(TextWriter output, bool decrypt, string? conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var count = 0;
        var buffer = new MemoryStream();
        await foreach (var line in _store.ReadTranscriptAsync(conversation, decrypt, cancellationToken))
        {
            buffer.SetLength(0);
            await using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            {
                json.WriteStartObject();
                json.WriteString("conversation", line.Conversation);
                json.WriteString("channel", line.Channel);
                json.WriteString("account", line.Account);
                json.WriteString("chat", line.ChatId);
                json.WriteString("direction", line.Inbound ? "in" : "out");
                json.WriteNumber(line.Inbound ? "inboxId" : "outboxId", line.Id);
                if (!line.Inbound)
                {
                    json.WriteNumber("inboxId", line.InboxId);
                    json.WriteNumber("seq", line.Sequence);
                }

                json.WriteString("at", line.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("state", line.State);
                json.WriteString("keyId", line.KeyId);
                if (decrypt)
                {
                    json.WriteString("text", line.Text);
                }

                json.WriteEndObject();
            }

            await output.WriteLineAsync(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length).AsMemory(), cancellationToken);
            count++;
        }

        return count;
    }
}
