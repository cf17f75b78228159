using System.Text.Json;
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;
using WeSeek.Pipeline;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Composition;

/// <summary>
/// What a turn does to its conversation's waiting pages; stored by the outbox step in the turn's own
/// transaction, so a page is neither lost nor sent twice when a turn runs again after a crash.
/// </summary>
/// <param name="Pages">The pages still waiting for 「继续」, in order; empty clears them.</param>
internal sealed record ContinuationFeature(IReadOnlyList<IReadOnlyList<string>> Pages)
{
    /// <summary>What the encrypted pages are bound to (associated data): the message whose answer they are.</summary>
    public static string Purpose(long inboxId) => $"continuations.pages\n{inboxId}";

    /// <summary>Writes the change inside <paramref name="transaction"/>.</summary>
    public async Task StoreAsync(DbConnection connection, DbTransaction transaction, RecordCipher cipher, string conversation, long inboxId, long now, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (Pages.Count == 0)
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
            cipher.Bind(command, "@pages", JsonSerializer.Serialize(Pages), Purpose(inboxId));
            command.AddParameter("@inbox", inboxId);
            command.AddParameter("@now", now);
        }

        command.AddParameter("@conversation", conversation);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// Answers 「继续」 (or <c>/continue</c>) with the next waiting page of the conversation's last long answer.
/// With no page waiting, the message goes on to the model: "继续" is also an ordinary request to continue.
/// Pages older than <see cref="ComposerOptions.ContinuationLifetime"/> are not served (WeChat's 48-hour
/// window would refuse them anyway).
/// </summary>
internal sealed partial class ContinuationMiddleware : ITurnMiddleware
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;
    private readonly TimeProvider _time;
    private readonly ComposerOptions _options;
    private readonly ILogger<ContinuationMiddleware> _logger;

    public ContinuationMiddleware(StoreDatabase database, RecordCipher cipher, TimeProvider time, IOptionsSnapshot<ComposerOptions> options, ILogger<ContinuationMiddleware> logger)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
        _options = options.Value;
        _logger = logger;
    }

    public async Task InvokeAsync(Turn turn, TurnDelegate next)
    {
        ArgumentNullException.ThrowIfNull(turn);
        ArgumentNullException.ThrowIfNull(next);
        if (!IsContinue(turn.Message.Text) || await LoadAsync(turn.ConversationKey, turn.Aborted) is not { Count: > 0 } pages)
        {
            await next(turn);
            return;
        }

        foreach (var reply in pages[0])
        {
            turn.Replies.Add(reply);
        }

        turn.Features.Set(new ContinuationFeature([.. pages.Skip(1)]));
        Log.Served(_logger, turn.InboxId, pages.Count - 1);
    }

    internal static bool IsContinue(string text)
    {
        var trimmed = text.Trim().TrimEnd('。', '!', '！', '.', '~', '～');
        return trimmed == DeliveryPlanner.ContinueWord
            || trimmed.Equals("/continue", StringComparison.OrdinalIgnoreCase)
            || trimmed.Equals("／continue", StringComparison.OrdinalIgnoreCase);
    }

    private async Task<IReadOnlyList<IReadOnlyList<string>>?> LoadAsync(string conversation, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT pages, key_id, inbox_id FROM continuations WHERE conversation = @conversation AND created_at > @oldest;";
        command.AddParameter("@conversation", conversation);
        command.AddParameter("@oldest", (_time.GetUtcNow() - _options.ContinuationLifetime).ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? JsonSerializer.Deserialize<List<List<string>>>(_cipher.Read(reader, 0, 1, ContinuationFeature.Purpose(reader.GetInt64(2))))
            : null;
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.ContinuationServed, LogLevel.Debug, "Message {InboxId} asked for the next page; {Left} pages left after it")]
        public static partial void Served(ILogger logger, long inboxId, int left);
    }
}
