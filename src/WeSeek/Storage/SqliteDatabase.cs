using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Storage;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never block the writer, and a commit survives a
/// crash of the process). Opens pooled connections; creates the schema on first use. Thread-safe.
/// </summary>
internal sealed partial class SqliteDatabase : IDisposable
{
    private readonly string _connectionString;
    private readonly ILogger<SqliteDatabase> _logger;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _initLock = new(1, 1);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private volatile bool _initialized;

    public SqliteDatabase(IOptions<StorageOptions> options, ILogger<SqliteDatabase> logger)
    {
        var value = options.Value;
        Directory.CreateDirectory(value.DataDirectory);
        Path = System.IO.Path.GetFullPath(value.DatabasePath);
        _busyTimeoutMs = (int)value.BusyTimeout.TotalMilliseconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(value.BusyTimeout.TotalSeconds),
        }.ToString();
        _logger = logger;
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>Opens a connection with the schema in place. The caller disposes it.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_initialized)
        {
            await InitializeAsync(cancellationToken);
        }

        return await OpenRawAsync(cancellationToken);
    }

    /// <summary>
    /// Opens a connection for a write: the process's writers take turns on an async lock before they touch
    /// the database. SQLite allows one writer at a time anyway; without the lock, concurrent writers find the
    /// database busy and SQLite's busy handler sleeps them for milliseconds at a time (measured: 32 concurrent
    /// 公众号 callbacks stored at ~650/s with sleeps vs several thousand without). Other processes sharing the
    /// file still meet busy_timeout. Hold it only around database work: never await another writer inside.
    /// </summary>
    public async Task<WriteConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            return new WriteConnection(await OpenAsync(cancellationToken), _writeLock);
        }
        catch
        {
            _writeLock.Release();
            throw;
        }
    }

    private async Task<SqliteConnection> OpenRawAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // busy_timeout: concurrent writers (inbox, dispatcher, outbox) wait for the lock instead of failing.
        // synchronous=NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the
        // last commits), which is the failure the product promises to survive.
        await ExecuteAsync(connection, $"PRAGMA busy_timeout={_busyTimeoutMs}; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", cancellationToken);
        return connection;
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initLock.WaitAsync(cancellationToken);
        try
        {
            if (_initialized)
            {
                return;
            }

            await using var connection = await OpenRawAsync(cancellationToken);
            RestrictToOwner(Path);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            // CREATE TABLE IF NOT EXISTS leaves an older table as it is; the migration then adds its new columns.
            await ExecuteAsync(connection, Schema, cancellationToken);
            await MigrateAsync(connection, cancellationToken);
            Log.Opened(_logger, Path);
            _initialized = true;
        }
        finally
        {
            _initLock.Release();
        }
    }

    public void Dispose()
    {
        _initLock.Dispose();
        _writeLock.Dispose();
    }

    // The file holds channel login tokens (channel_state) and conversations: readable by the operator's
    // account only (0600). SQLite creates the -wal and -shm files with the database's permissions.
    private static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    internal static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Times are Unix milliseconds (UTC). States are short words, checked by CHECK constraints.
    private const string Schema = """
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
            revoked_at INTEGER,
            role TEXT NOT NULL DEFAULT 'admin'
        );

        -- Answers users may rate: the prompt as the model was given it and the answer (never the reasoning), both
        -- encrypted; unrated ones are forgotten after Feedback:KeepUnratedFor. One rating per answer, the latest.
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

        -- What the vision model said about an image, by the SHA-256 of its bytes (encrypted like other bodies).
        CREATE TABLE IF NOT EXISTS image_descriptions (
            hash TEXT PRIMARY KEY,
            description BLOB NOT NULL,
            key_id TEXT,
            model TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """;

    // Columns added after the first release, by table: an existing database gets them on open. key_id is NULL
    // on rows written before encryption, which are read as plaintext (see RecordCipher).
    private static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("inbox", "key_id", "TEXT"),
        ("outbox", "key_id", "TEXT"),
        ("history", "key_id", "TEXT"),
        ("inbox", "attachments", "TEXT"),
        ("continuations", "key_id", "TEXT"),
        ("inbox", "trace_parent", "TEXT"),
        ("channel_state", "key_id", "TEXT"),
        // Keys made before roles existed could do everything: they stay admin keys.
        ("admin_keys", "role", "TEXT NOT NULL DEFAULT 'admin'"),
    ];

    private async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        foreach (var (table, column, definition) in AddedColumns)
        {
            await using var check = connection.CreateCommand();
            check.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column;";
            check.Parameters.AddWithValue("$table", table);
            check.Parameters.AddWithValue("$column", column);
            if ((long)(await check.ExecuteScalarAsync(cancellationToken))! == 0)
            {
                await ExecuteAsync(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition};", cancellationToken);
                Log.Migrated(_logger, table, column);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.DatabaseOpened, LogLevel.Information, "Opened the database at {Path} (SQLite, WAL)")]
        public static partial void Opened(ILogger logger, string path);

        [LoggerMessage(WeSeekEventId.DatabaseMigrated, LogLevel.Information, "Added column {Column} to table {Table}")]
        public static partial void Migrated(ILogger logger, string table, string column);
    }
}
