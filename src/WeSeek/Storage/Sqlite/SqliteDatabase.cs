using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WeSeek.Logging;

namespace WeSeek.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode (readers never block the writer, and a commit survives a
/// crash of the process). Opens pooled connections; brings the schema to this build's version on first use.
/// Thread-safe.
/// </summary>
internal sealed partial class SqliteDatabase : StoreDatabase
{
    private readonly string _connectionString;
    private readonly ILogger<SqliteDatabase> _logger;
    private readonly int _busyTimeoutMs;
    private readonly bool _autoMigrate;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SqliteDatabase(IOptions<StorageOptions> options, ILogger<SqliteDatabase> logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var value = options.Value;
        Directory.CreateDirectory(value.DataDirectory);
        Path = System.IO.Path.GetFullPath(value.DatabasePath);
        _busyTimeoutMs = (int)value.BusyTimeout.TotalMilliseconds;
        _autoMigrate = value.AutoMigrate;
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

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override string Location => Path;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        await EnsureReadyAsync(cancellationToken);
        return await OpenRawAsync(cancellationToken);
    }

    /// <summary>
    /// Opens a connection for a write: the process's writers take turns on an async lock before they touch
    /// the database. SQLite allows one writer at a time anyway; without the lock, concurrent writers find the
    /// database busy and SQLite's busy handler sleeps them for milliseconds at a time (measured: 32 concurrent
    /// 公众号 callbacks stored at ~650/s with sleeps vs several thousand without). Other processes sharing the
    /// file still meet busy_timeout. Hold it only around database work: never await another writer inside.
    /// </summary>
    public override async Task<WriteConnection> OpenWriterAsync(CancellationToken cancellationToken)
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

    // Serializable is BEGIN IMMEDIATE in Microsoft.Data.Sqlite: the write lock is taken before the first read,
    // so no other process can write between this transaction's read and its insert.
    public override async Task<DbTransaction> BeginSerializedAsync(DbConnection connection, string sequence, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);

    public override string IndexedBy(string index) => "INDEXED BY " + index;

    public override bool IsTransient(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 5 or 6 } or IOException; // SQLITE_BUSY, SQLITE_LOCKED

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

    protected override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenRawAsync(cancellationToken);
            RestrictToOwner(Path);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            await MigrateAsync(connection, _autoMigrate, cancellationToken);
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 8 or 14 or 26)
        {
            // SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_NOTADB: a start-up problem the operator fixes.
            throw new StorageStartupException(
                $"the database {Path} cannot be used ({ex.Message.TrimEnd('.')}): check Storage:DataDirectory (environment variable WESEEK__Storage__DataDirectory, or --data DIR) and the file's permissions.", ex);
        }

        Log.Opened(_logger, Path);
    }

    /// <summary>Applies this build's migrations that the database lacks (all of them when
    /// <paramref name="apply"/>, else none: the mismatch is reported).</summary>
    public async Task MigrateAsync(SqliteConnection connection, bool apply, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL);", cancellationToken);
        var current = await CurrentVersionAsync(connection, cancellationToken);
        var latest = SqliteMigrations.All[^1].Version;
        SchemaCheck.ThrowIfNewer(current, latest, Path, "Storage:DataDirectory");
        if (current < latest && !apply && await HasTablesAsync(connection, cancellationToken))
        {
            SchemaCheck.ThrowIfOlder(current, latest, Path);
        }

        foreach (var migration in SqliteMigrations.All.Where(m => m.Version > current))
        {
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
            if (await CurrentVersionAsync(connection, cancellationToken, transaction) >= migration.Version)
            {
                // Another process sharing the file applied it while this one waited for the write lock.
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            await using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migration.Sql;
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            if (migration.Version == 1)
            {
                // A database from before numbered migrations: the baseline's CREATE … IF NOT EXISTS left its
                // tables as they were; the columns added since then are added here.
                await AddLegacyColumnsAsync(connection, transaction, cancellationToken);
            }

            await using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, description, applied_at) VALUES (@version, @description, @now);";
                record.AddParameter("@version", migration.Version);
                record.AddParameter("@description", migration.Description);
                record.AddParameter("@now", _time.GetUtcNow().ToUnixTimeMilliseconds());
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            Log.Migrated(_logger, migration.Version, migration.Description);
        }
    }

    public override async Task<(int Current, int Latest)> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenRawAsync(cancellationToken);
        return (await CurrentVersionAsync(connection, cancellationToken), SqliteMigrations.All[^1].Version);
    }

    private static async Task<int> CurrentVersionAsync(SqliteConnection connection, CancellationToken cancellationToken, SqliteTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations') THEN (SELECT COALESCE(MAX(version), 0) FROM schema_migrations) ELSE 0 END;";
        return (int)(await command.ScalarInt64Async(cancellationToken) ?? 0);
    }

    private static async Task<bool> HasTablesAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'inbox';";
        return await command.ScalarInt64Async(cancellationToken) > 0;
    }

    public override ValueTask DisposeAsync()
    {
        _writeLock.Dispose();
        return base.DisposeAsync();
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

    internal static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Columns added before numbered migrations, by table: a database from then gets them with the baseline.
    // key_id is NULL on rows written before encryption, which are read as plaintext (see RecordCipher).
    private static readonly (string Table, string Column, string Definition)[] LegacyColumns =
    [
        ("inbox", "key_id", "TEXT"),
        ("outbox", "key_id", "TEXT"),
        ("history", "key_id", "TEXT"),
        ("inbox", "attachments", "TEXT"),
        ("continuations", "key_id", "TEXT"),
        ("inbox", "trace_parent", "TEXT"),
        ("channel_state", "key_id", "TEXT"),
    ];

    private static async Task AddLegacyColumnsAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        foreach (var (table, column, definition) in LegacyColumns)
        {
            await using var check = connection.CreateCommand();
            check.Transaction = transaction;
            check.CommandText = "SELECT COUNT(*) FROM pragma_table_info(@table) WHERE name = @column;";
            check.AddParameter("@table", table);
            check.AddParameter("@column", column);
            if (await check.ScalarInt64Async(cancellationToken) == 0)
            {
                await using var alter = connection.CreateCommand();
                alter.Transaction = transaction;
                alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition};";
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(WeSeekEventId.DatabaseOpened, LogLevel.Information, "Opened the database at {Path} (SQLite, WAL)")]
        public static partial void Opened(ILogger logger, string path);

        [LoggerMessage(WeSeekEventId.DatabaseMigrated, LogLevel.Information, "Database schema migrated to version {Version}: {Description}")]
        public static partial void Migrated(ILogger logger, int version, string description);
    }
}
