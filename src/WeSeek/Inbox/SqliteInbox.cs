using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Conversations;
using WeSeek.Logging;
using WeSeek.Messaging;
using WeSeek.Security;
using WeSeek.Storage;

namespace WeSeek.Inbox;

/// <summary>
/// The durable inbox. <see cref="AcceptAsync"/> commits before it returns, so a channel that acknowledges
/// after it has a durable message. Duplicates are recognised by the unique (channel, external id) key in the
/// database itself, so concurrent deliveries of the same message store it once, whichever process or thread
/// wins. Thread-safe.
/// </summary>
internal sealed partial class SqliteInbox : IInboundSink
{
    /// <summary>Longest text stored for one message: 16,000 characters. WeChat text is at most 2,048 bytes;
    /// this leaves room for web chat and rendered media while bounding a hostile client.</summary>
    public const int MaxTextLength = 16_000;

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<ContextOptions> _context;
    private readonly DispatchSignal _signal;
    private readonly ILogger<SqliteInbox> _logger;
    private readonly RecordCipher _cipher;

    public SqliteInbox(SqliteDatabase database, RecordCipher cipher, TimeProvider time, IOptionsMonitor<ContextOptions> context, DispatchSignal signal, ILogger<SqliteInbox> logger)
    {
        _database = database;
        _cipher = cipher;
        _time = time;
        _context = context;
        _signal = signal;
        _logger = logger;
    }

    public async ValueTask<AcceptResult> AcceptAsync(InboundMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrEmpty(message.ExternalMessageId) || message.ExternalMessageId.Length > 256)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The message id must be 1-256 characters.");
        }

        if (string.IsNullOrEmpty(message.ChatId) || message.ChatId.Length > 256)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, "The chat id must be 1-256 characters.");
        }

        if (message.Text.Length > MaxTextLength)
        {
            return new AcceptResult(AcceptOutcome.Rejected, 0, $"The message is longer than {MaxTextLength} characters.");
        }

        var conversation = ConversationKeys.For(message, _context.CurrentValue.GroupScope);
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var insert = connection.CreateCommand();
        // ON CONFLICT DO NOTHING + RETURNING: the database decides the race between concurrent duplicates.
        insert.CommandText = """
            INSERT INTO inbox (channel, external_id, account, chat_id, sender_id, conversation, is_group, kind, text, key_id, sent_at, received_at)
            VALUES ($channel, $external, $account, $chat, $sender, $conversation, $group, $kind, $text, $text_key, $sent, $received)
            ON CONFLICT (channel, external_id) DO NOTHING
            RETURNING id;
            """;
        insert.Parameters.AddWithValue("$channel", message.Channel.Value);
        insert.Parameters.AddWithValue("$external", message.ExternalMessageId);
        insert.Parameters.AddWithValue("$account", message.AccountId);
        insert.Parameters.AddWithValue("$chat", message.ChatId);
        insert.Parameters.AddWithValue("$sender", message.SenderId);
        insert.Parameters.AddWithValue("$conversation", conversation);
        insert.Parameters.AddWithValue("$group", message.IsGroup ? 1 : 0);
        insert.Parameters.AddWithValue("$kind", message.Kind.ToString());
        _cipher.Bind(insert, "$text", message.Text, RecordCipher.InboxText(message.Channel.Value, message.ExternalMessageId));
        insert.Parameters.AddWithValue("$sent", message.SentAt.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$received", _time.GetUtcNow().ToUnixTimeMilliseconds());
        var id = await insert.ExecuteScalarAsync(cancellationToken);
        if (id is long stored)
        {
            Log.Stored(_logger, stored, message.Channel.Value);
            _signal.Notify();
            return new AcceptResult(AcceptOutcome.Stored, stored);
        }

        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT id FROM inbox WHERE channel = $channel AND external_id = $external;";
        select.Parameters.AddWithValue("$channel", message.Channel.Value);
        select.Parameters.AddWithValue("$external", message.ExternalMessageId);
        var existing = (long)(await select.ExecuteScalarAsync(cancellationToken))!;
        Log.Duplicate(_logger, existing, message.Channel.Value);
        return new AcceptResult(AcceptOutcome.Duplicate, existing);
    }

    internal static InboundMessage ReadMessage(SqliteDataReader reader, int offset, RecordCipher cipher) => new(
        ChannelId.From(reader.GetString(offset)),
        reader.GetString(offset + 1),
        reader.GetString(offset + 2),
        reader.GetString(offset + 3),
        reader.GetString(offset + 4),
        cipher.Read(reader, offset + 5, offset + 9, RecordCipher.InboxText(reader.GetString(offset), reader.GetString(offset + 2))),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(offset + 6)))
    {
        IsGroup = reader.GetInt64(offset + 7) != 0,
        Kind = Enum.TryParse<MessageKind>(reader.GetString(offset + 8), out var kind) ? kind : MessageKind.Other,
    };

    /// <summary>The columns <see cref="ReadMessage"/> reads, in order.</summary>
    internal const string MessageColumns = "channel, account, external_id, chat_id, sender_id, text, sent_at, is_group, kind, key_id";

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.InboxStored, LogLevel.Debug, "Stored inbound message {InboxId} from {Channel}")]
        public static partial void Stored(ILogger logger, long inboxId, string channel);

        [LoggerMessage(WeSeekEventId.InboxDuplicate, LogLevel.Information, "Duplicate of inbound message {InboxId} from {Channel} ignored")]
        public static partial void Duplicate(ILogger logger, long inboxId, string channel);
    }
}
