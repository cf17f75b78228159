using WeSeek.Security;

namespace WeSeek.Storage.Sql;

/// <summary>A chat whose messages contain the text searched for.</summary>
/// <param name="Chat">The chat's key for the admin API: <c>channel/account/chat id</c>.</param>
/// <param name="Hits">Messages that matched, newest first, at most <see cref="TranscriptSearch.HitsPerChat"/>.</param>
internal sealed record TranscriptSearchChat(string Chat, IReadOnlyList<TranscriptSearchHit> Hits);

/// <summary>One matching message, cut to the words around the match.</summary>
internal sealed record TranscriptSearchHit(bool FromUser, DateTimeOffset At, string Snippet);

/// <summary>The chats found, and how much was searched: the page says both.</summary>
/// <param name="Chats">The chats found, newest match first, at most <see cref="TranscriptSearch.MaxChats"/>.</param>
/// <param name="Scanned">Messages decrypted and searched.</param>
/// <param name="Since">The oldest time searched.</param>
/// <param name="Truncated">True when the window held more than <see cref="TranscriptSearch.MaxScanned"/> messages: older ones in it were not searched.</param>
internal sealed record TranscriptSearchResult(IReadOnlyList<TranscriptSearchChat> Chats, int Scanned, DateTimeOffset Since, bool Truncated);

/// <summary>
/// Searches transcripts for a text. Message text is encrypted at rest (AES-256-GCM), so SQL cannot match it: the
/// newest messages are decrypted here and matched in memory. The work is bounded twice: a time window (the last
/// <c>days</c>, at most <see cref="MaxDays"/>) and at most <see cref="MaxScanned"/> messages, the newest, of that
/// window, so one search costs at most a few megabytes and milliseconds however large the store grows. The result
/// says when the bound cut the window short. The caller audits the search (the chats whose text was shown).
/// Provider-neutral SQL. Thread-safe.
/// </summary>
internal sealed class TranscriptSearch(StoreDatabase database, RecordCipher cipher, TimeProvider time)
{
    /// <summary>The widest window one search looks at, in days: a month of a busy bot is tens of thousands of messages.</summary>
    public const int MaxDays = 30;

    /// <summary>The most messages one search decrypts (the newest in the window); ~10 ms of AES-GCM per thousand here.</summary>
    public const int MaxScanned = 5000;

    /// <summary>Chats listed at most; the page shows them on one screen.</summary>
    public const int MaxChats = 50;

    /// <summary>Matching messages shown per chat; the transcript shows the rest.</summary>
    public const int HitsPerChat = 3;

    /// <summary>Characters kept on each side of a match.</summary>
    private const int Context = 30;

    public async Task<TranscriptSearchResult> SearchAsync(string text, int days, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var since = time.GetUtcNow() - TimeSpan.FromDays(Math.Clamp(days, 1, MaxDays));
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        // One more than the bound: whether the window held more than was searched.
        command.CommandText = """
            SELECT channel, account, chat_id, text, key_id, external_id, at, from_user, inbox_id, seq FROM (
                SELECT channel, account, chat_id, text, key_id, external_id, received_at AS at, 1 AS from_user, id AS inbox_id, -1 AS seq
                FROM inbox WHERE received_at >= @since
                UNION ALL
                SELECT channel, account, chat_id, text, key_id, NULL, created_at, 0, inbox_id, seq
                FROM outbox WHERE created_at >= @since) AS messages
            ORDER BY at DESC, inbox_id DESC, seq DESC
            LIMIT @limit;
            """;
        command.AddParameter("@since", since.ToUnixTimeMilliseconds());
        command.AddParameter("@limit", MaxScanned + 1);
        var chats = new Dictionary<string, List<TranscriptSearchHit>>(StringComparer.Ordinal);
        var order = new List<string>();
        var scanned = 0;
        var truncated = false;
        var needle = text.Trim();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (scanned == MaxScanned)
            {
                truncated = true;
                break;
            }

            scanned++;
            var fromUser = reader.GetInt64(7) != 0;
            var channel = reader.GetString(0);
            var purpose = fromUser ? RecordCipher.InboxText(channel, reader.GetString(5)) : RecordCipher.OutboxText(reader.GetInt64(8), reader.GetInt64(9));
            var message = cipher.Read(reader, 3, 4, purpose);
            var at = message.IndexOf(needle, StringComparison.OrdinalIgnoreCase);
            if (at < 0)
            {
                continue;
            }

            var chat = $"{channel}/{reader.GetString(1)}/{reader.GetString(2)}";
            if (!chats.TryGetValue(chat, out var hits))
            {
                if (chats.Count == MaxChats)
                {
                    continue;
                }

                chats[chat] = hits = [];
                order.Add(chat);
            }

            if (hits.Count < HitsPerChat)
            {
                hits.Add(new TranscriptSearchHit(fromUser, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)), Snippet(message, at, needle.Length)));
            }
        }

        return new TranscriptSearchResult([.. order.Select(c => new TranscriptSearchChat(c, chats[c]))], scanned, since, truncated);
    }

    private static string Snippet(string text, int at, int length)
    {
        var start = Math.Max(0, at - Context);
        var end = Math.Min(text.Length, at + length + Context);
        // Never cut a surrogate pair in half.
        if (start > 0 && char.IsLowSurrogate(text[start]))
        {
            start--;
        }

        if (end < text.Length && char.IsLowSurrogate(text[end]))
        {
            end++;
        }

        return (start > 0 ? "…" : "") + text[start..end] + (end < text.Length ? "…" : "");
    }
}
