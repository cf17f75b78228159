namespace WeSeek.Storage.Sqlite;

/// <summary>
/// The SQLite schema as numbered migrations, recorded in <c>schema_migrations</c>. Append only: a released
/// migration is never edited; a change is a new number (and the same number in <see cref="Postgres.PostgresMigrations"/>).
/// </summary>
internal static class SqliteMigrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "baseline: inbox, outbox, send counts, conversations, history, continuations, channel state, leases, audit, plugin settings, admin keys, image descriptions", Baseline),
        new(2, "instances sharing one database: turn leases and passive-reply holds on inbox rows, send claims on outbox rows", Shared),
        new(3, "the instance that ran each conversation's last turn (its engine keeps the KV cache), and instance heartbeats", CacheHolders),
        new(4, "admin key roles (viewer, operator, admin), and answers users rate with their feedback", RolesAndFeedback),
    ];

    // Keys made before roles existed could do everything: they stay admin keys.
    // feedback_answers: answers users may rate: the prompt as the model was given it and the answer (never the
    // reasoning), both encrypted; unrated ones are forgotten after Feedback:KeepUnratedFor. feedback: one rating per
    // answer, the latest.
    private const string RolesAndFeedback = """
        ALTER TABLE admin_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
        CREATE TABLE IF NOT EXISTS feedback_answers (
            inbox_id INTEGER PRIMARY KEY REFERENCES inbox (id),
            conversation TEXT NOT NULL,
            channel TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            prompt BLOB NOT NULL,
            key_id TEXT,
            answer BLOB NOT NULL,
            answer_key TEXT,
            model TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS feedback_answers_conversation ON feedback_answers (conversation, created_at);
        CREATE INDEX IF NOT EXISTS feedback_answers_created ON feedback_answers (created_at);
        CREATE TABLE IF NOT EXISTS feedback (
            inbox_id INTEGER PRIMARY KEY REFERENCES feedback_answers (inbox_id),
            kind TEXT NOT NULL CHECK (kind IN ('up', 'down')),
            correction BLOB,
            correction_key TEXT,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created_at);
        """;

    // leased_by/leased_until: the instance running the message's turn, until when (renewed while it runs).
    // held_until: a channel waits to answer in the platform's own request until then (passive reply).
    // claimed_by/claimed_until: the instance sending the row now.
    private const string CacheHolders = """
        CREATE TABLE conversation_hosts (
            conversation TEXT PRIMARY KEY,
            instance TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE TABLE instances (
            id TEXT PRIMARY KEY,
            seen_at INTEGER NOT NULL
        );
        """;

    private const string Shared = """
        ALTER TABLE inbox ADD COLUMN leased_by TEXT;
        ALTER TABLE inbox ADD COLUMN leased_until INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE inbox ADD COLUMN held_until INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
        ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
        """;

    // Times are Unix milliseconds (UTC). States are short words, checked by CHECK constraints.
    internal const string Baseline = """
        CREATE TABLE IF NOT EXISTS inbox (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            external_id TEXT NOT NULL,
            account TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            sender_id TEXT NOT NULL,
            conversation TEXT NOT NULL,
            is_group INTEGER NOT NULL,
            kind TEXT NOT NULL,
            attachments TEXT,
            trace_parent TEXT,
            text TEXT NOT NULL,
            key_id TEXT,
            sent_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            completed_at INTEGER,
            error TEXT,
            UNIQUE (channel, external_id)
        );
        CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (conversation, id) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS inbox_chat ON inbox (channel, chat_id, id);
        -- A group's unanswered messages whose text is still kept: at most a window's worth per group, so
        -- erasing what falls out of the window looks at a handful of rows, not the group's whole history.
        CREATE INDEX IF NOT EXISTS inbox_group_chatter ON inbox (channel, chat_id, id) WHERE is_group = 1 AND kind = 'Other' AND length(text) > 0;

        CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY,
            inbox_id INTEGER NOT NULL REFERENCES inbox (id),
            seq INTEGER NOT NULL,
            channel TEXT NOT NULL,
            account TEXT NOT NULL,
            chat_id TEXT NOT NULL,
            text TEXT NOT NULL,
            key_id TEXT,
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            platform_id TEXT,
            error TEXT,
            UNIQUE (inbox_id, seq)
        );
        CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (channel, account, chat_id, id) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS outbox_chat_sent ON outbox (channel, account, chat_id, sent_at) WHERE state = 'sent';

        CREATE TABLE IF NOT EXISTS send_counts (
            channel TEXT NOT NULL,
            account TEXT NOT NULL,
            day TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (channel, account, day)
        );

        CREATE TABLE IF NOT EXISTS conversations (
            key TEXT PRIMARY KEY,
            window_start INTEGER NOT NULL DEFAULT 0,
            epoch INTEGER NOT NULL DEFAULT 0,
            show_thinking INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        );

        CREATE TABLE IF NOT EXISTS history (
            id INTEGER PRIMARY KEY,
            conversation TEXT NOT NULL,
            inbox_id INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            key_id TEXT,
            tokens INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (inbox_id, role)
        );
        CREATE INDEX IF NOT EXISTS history_conversation ON history (conversation, id);

        -- The pages of a long answer still waiting for 「继续」: one row per conversation, JSON array of pages.
        CREATE TABLE IF NOT EXISTS continuations (
            conversation TEXT PRIMARY KEY,
            pages BLOB NOT NULL,
            key_id TEXT,
            inbox_id INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE IF NOT EXISTS channel_state (
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            key_id TEXT,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (channel, key)
        );

        CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        );

        CREATE TABLE IF NOT EXISTS audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            data TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        CREATE TABLE IF NOT EXISTS plugin_settings (
            chat TEXT NOT NULL,
            plugin TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (chat, plugin)
        );

        CREATE TABLE IF NOT EXISTS admin_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            revoked_at INTEGER
        );

        -- What the vision model said about an image, by the SHA-256 of its bytes (encrypted like other bodies).
        CREATE TABLE IF NOT EXISTS image_descriptions (
            hash TEXT PRIMARY KEY,
            description BLOB NOT NULL,
            key_id TEXT,
            model TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """;
}
