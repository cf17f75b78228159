using System.Text.Json.Nodes;

namespace WeSeek.Storage.Sql;

/// <summary>A chat as the console lists it.</summary>
/// <param name="Chat">The chat's key for the admin API: <c>channel/account/chat id</c>.</param>
/// <param name="Channel">The channel.</param>
/// <param name="Account">The bot account on the channel.</param>
/// <param name="ChatId">The chat on the platform.</param>
/// <param name="IsGroup">Whether it is a group chat.</param>
/// <param name="Messages">Messages stored from it.</param>
/// <param name="LastActivity">When its last message was stored.</param>
internal sealed record ConsoleChat(string Chat, string Channel, string Account, string ChatId, bool IsGroup, long Messages, DateTimeOffset LastActivity);

/// <summary>An audit record as the console shows it.</summary>
internal sealed record ConsoleAuditRecord(long Id, DateTimeOffset At, string Kind, JsonNode? Data);

/// <summary>Replies sent today by one account, against the daily cap.</summary>
internal sealed record DailyCapUse(string Channel, string Account, long Sent);

/// <summary>One account's latest traffic and trouble.</summary>
internal sealed record AccountActivity(string Channel, string Account, DateTimeOffset? LastMessage, DateTimeOffset? LastErrorAt, string? LastError);

/// <summary>
/// The read-only queries behind the console's lists, in one place: chats, audit records, today's sends and each
/// account's latest activity. Nothing here writes; changes go through the stores that own them. Message text is
/// never read here (it is encrypted; transcripts come from <see cref="Conversations.ITranscriptReader"/>).
/// </summary>
internal sealed class ConsoleQueries
{
    private readonly StoreDatabase _database;

    public ConsoleQueries(StoreDatabase database) => _database = database;

    /// <summary>Chats, most recent first; <paramref name="search"/> matches the channel, account or chat id.</summary>
    public async Task<IReadOnlyList<ConsoleChat>> ChatsAsync(string? search, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT channel, account, chat_id, MAX(is_group), COUNT(*), MAX(received_at) AS last
            FROM inbox
            WHERE @search = '' OR lower(channel || '/' || account || '/' || chat_id) LIKE '%' || lower(@search) || '%' ESCAPE '\'
            GROUP BY channel, account, chat_id
            ORDER BY last DESC
            LIMIT @limit;
            """;
        // SQL the same on SQLite and PostgreSQL; the search is a substring, its wildcards taken literally.
        command.AddParameter("@search", (search?.Trim() ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal));
        command.AddParameter("@limit", limit);
        var chats = new List<ConsoleChat>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (channel, account, chat) = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
            chats.Add(new ConsoleChat($"{channel}/{account}/{chat}", channel, account, chat, reader.GetInt64(3) != 0, reader.GetInt64(4), At(reader.GetInt64(5))));
        }

        return chats;
    }

    /// <summary>Audit records, newest first, before <paramref name="beforeId"/> if given, whose kind starts with
    /// <paramref name="kind"/> if given.</summary>
    public async Task<IReadOnlyList<ConsoleAuditRecord>> AuditAsync(string? kind, long? beforeId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, at, kind, data FROM audit
            WHERE (@kind = '' OR substr(kind, 1, length(@kind)) = @kind) AND id < @before
            ORDER BY id DESC LIMIT @limit;
            """;
        command.AddParameter("@kind", kind?.Trim() ?? "");
        command.AddParameter("@before", beforeId ?? long.MaxValue);
        command.AddParameter("@limit", limit);
        var records = new List<ConsoleAuditRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new ConsoleAuditRecord(reader.GetInt64(0), At(reader.GetInt64(1)), reader.GetString(2), JsonNode.Parse(reader.GetString(3))));
        }

        return records;
    }

    /// <summary>Replies counted against the daily cap on <paramref name="day"/> (yyyy-MM-dd in the cap's zone).</summary>
    public async Task<IReadOnlyList<DailyCapUse>> DailyCapAsync(string day, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT channel, account, count FROM send_counts WHERE day = @day ORDER BY count DESC;";
        command.AddParameter("@day", day);
        var uses = new List<DailyCapUse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            uses.Add(new DailyCapUse(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return uses;
    }

    /// <summary>Per channel and account: the last message stored and the last failed send or turn.</summary>
    public async Task<IReadOnlyList<AccountActivity>> ActivityAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT a.channel, a.account,
                (SELECT MAX(received_at) FROM inbox i WHERE i.channel = a.channel AND i.account = a.account),
                e.at, e.error
            FROM (SELECT DISTINCT channel, account FROM inbox UNION SELECT DISTINCT channel, account FROM outbox) a
            LEFT JOIN (
                SELECT channel, account, error, at, ROW_NUMBER() OVER (PARTITION BY channel, account ORDER BY at DESC) AS latest FROM (
                    SELECT channel, account, error, created_at AS at FROM outbox WHERE error IS NOT NULL
                    UNION ALL
                    SELECT channel, account, error, received_at AS at FROM inbox WHERE error IS NOT NULL) errors
            ) e ON e.channel = a.channel AND e.account = a.account AND e.latest = 1;
            """;
        var rows = new List<AccountActivity>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new AccountActivity(reader.GetString(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : At(reader.GetInt64(2)), reader.IsDBNull(3) ? null : At(reader.GetInt64(3)), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return rows;
    }

    private static DateTimeOffset At(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
}
