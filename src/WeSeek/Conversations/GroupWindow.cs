using System.Text;
using System.Data.Common;
using Microsoft.Extensions.Options;
using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Conversations;

/// <summary>One message of a group's recent window: who wrote it (the platform's stable user id) and what.</summary>
internal sealed record GroupLine(long InboxId, string SenderId, string Text);

/// <summary>
/// A group's recent messages, read-only context for a question asked in that group. Nothing new is stored for
/// it: every group message already lands in the inbox (encrypted like every body), the ones that did not
/// trigger the bot as <see cref="MessageKind.Other"/>. The window is those of the same channel, account and
/// group, before the question, at most <see cref="ContextOptions.GroupWindowMessages"/> and no older than
/// <see cref="ContextOptions.GroupWindowMaxAge"/>, less what the asking conversation already holds as history
/// (its own earlier questions). Bodies of unanswered group messages that fall out of the window are erased as
/// turns complete, so chatter the bot was never asked about is not kept longer than the window needs it.
/// Thread-safe.
/// </summary>
internal sealed class GroupWindow
{
    private readonly StoreDatabase _database;
    private readonly RecordCipher _cipher;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<ContextOptions> _options;

    public GroupWindow(StoreDatabase database, RecordCipher cipher, TimeProvider time, IOptionsMonitor<ContextOptions> options)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
        _options = options;
    }

    /// <summary>The window before <paramref name="inboxId"/> in <paramref name="message"/>'s group, oldest first;
    /// empty outside groups or when the window is off.</summary>
    public async Task<IReadOnlyList<GroupLine>> ReadAsync(InboundMessage message, long inboxId, string conversation, CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        if (!message.IsGroup || options.GroupWindowMessages == 0)
        {
            return [];
        }

        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, sender_id, text, key_id, external_id FROM inbox
            WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1 AND id < @id
              AND id >= COALESCE((SELECT id FROM inbox WHERE channel = @channel AND chat_id = @chat AND id < @id
                                  ORDER BY id DESC LIMIT 1 OFFSET @scan), 0)
              AND received_at >= @since AND NOT (conversation = @conversation AND kind <> 'Other')
              AND length(text) > 0
            ORDER BY id DESC
            LIMIT @limit;
            """;
        command.AddParameter("@channel", message.Channel.Value);
        command.AddParameter("@chat", message.ChatId);
        command.AddParameter("@account", message.AccountId);
        command.AddParameter("@id", inboxId);
        command.AddParameter("@since", (_time.GetUtcNow() - options.GroupWindowMaxAge).ToUnixTimeMilliseconds());
        command.AddParameter("@conversation", conversation);
        command.AddParameter("@limit", options.GroupWindowMessages);
        // Only the group's latest messages are looked at, however long its history: enough for the window
        // even when the asker's own questions (in their history already) are many of them.
        command.AddParameter("@scan", (4 * options.GroupWindowMessages) + 64);
        var lines = new List<GroupLine>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var text = _cipher.Read(reader, 2, 3, RecordCipher.InboxText(message.Channel.Value, reader.GetString(4)));
            if (!string.IsNullOrWhiteSpace(text))
            {
                lines.Add(new GroupLine(reader.GetInt64(0), reader.GetString(1), text.Trim()));
            }
        }

        lines.Reverse();
        return lines;
    }

    /// <summary>
    /// The block for the prompt: a heading that says the lines are context and not questions, then one
    /// <c>[user id] text</c> line each, oldest first; the oldest lines are left out until it fits in
    /// <paramref name="maxTokens"/>. Empty when nothing fits.
    /// </summary>
    public static string Render(IReadOnlyList<GroupLine> lines, int maxTokens, ITokenCounter tokens)
    {
        const string Heading = "群聊最近消息（只读，供理解上下文，不是对你的提问）：";
        var rendered = lines.Select(l => $"[{l.SenderId}] {Flatten(l.Text)}").ToList();
        var budget = maxTokens - tokens.Count(Heading);
        var start = rendered.Count;
        while (start > 0)
        {
            var cost = tokens.Count(rendered[start - 1]) + 1;
            if (cost > budget)
            {
                break;
            }

            budget -= cost;
            start--;
        }

        if (start == rendered.Count)
        {
            return "";
        }

        var block = new StringBuilder(Heading);
        for (var i = start; i < rendered.Count; i++)
        {
            block.Append('\n').Append(rendered[i]);
        }

        return block.ToString();
    }

    // One message, one line: a member's line breaks must not read as another member's line.
    private static string Flatten(string text) => text.ReplaceLineEndings(" ");

    /// <summary>
    /// Erases (in <paramref name="transaction"/>) the bodies of this group's unanswered messages that no window
    /// can show any more: older than the age limit, or with <see cref="ContextOptions.GroupWindowMessages"/>
    /// group messages after them before the oldest question still waiting (whose window must stay whole).
    /// The rows stay, so a re-delivered message is still recognised as a duplicate. Indexed (inbox_group_chatter,
    /// inbox_pending, inbox_chat) so that the work is bounded by the window, not by the group's history.
    /// </summary>
    public async Task PruneAsync(DbConnection connection, DbTransaction transaction, InboundMessage message, CancellationToken cancellationToken)
    {
        if (!message.IsGroup)
        {
            return;
        }

        var options = _options.CurrentValue;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            UPDATE inbox {_database.IndexedBy("inbox_group_chatter")} SET text = '', key_id = NULL
            WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1 AND kind = 'Other'
              AND state <> 'pending' AND length(text) > 0
              AND (received_at < @since OR id <= COALESCE(
                (SELECT id FROM inbox WHERE channel = @channel AND chat_id = @chat AND account = @account AND is_group = 1
                   AND id < COALESCE((SELECT MIN(id) FROM inbox {_database.IndexedBy("inbox_pending")}
                                      WHERE state = 'pending' AND channel = @channel AND chat_id = @chat AND account = @account
                                        AND is_group = 1 AND kind <> 'Other'), 9223372036854775807)
                 ORDER BY id DESC LIMIT 1 OFFSET @keep), -1));
            """;
        command.AddParameter("@channel", message.Channel.Value);
        command.AddParameter("@chat", message.ChatId);
        command.AddParameter("@account", message.AccountId);
        command.AddParameter("@since", (_time.GetUtcNow() - options.GroupWindowMaxAge).ToUnixTimeMilliseconds());
        command.AddParameter("@keep", options.GroupWindowMessages);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
